"""The compiler: Python operations to plain, deterministic Argo ``Workflow`` dicts.

- :mod:`.workflow` assembles the Workflow of an operation;
- :mod:`.templates` turns a task into its template;
- :mod:`.volumes` plans volumes, mounts and the labels that keep pods of a
  ReadWriteOnce volume on one node;
- :mod:`.affinity` builds the complete pod affinity of each template;
- :mod:`.yaml` writes specs as YAML.
"""
