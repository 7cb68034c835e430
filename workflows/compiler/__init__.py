"""The compiler: Python operations to plain, deterministic Argo ``Workflow`` dicts.

- :mod:`.workflow` assembles the Workflow of an operation: the templates each task
  (:mod:`workflows.tasks.template`) and the operation (its entry template) build of
  themselves, placed by the volume plan, and the exit handler;
- :mod:`.volumes` plans volumes, mounts and the labels that keep pods of a
  ReadWriteOnce volume on one node;
- :mod:`.affinity` builds the complete pod affinity of each template;
- :mod:`.yaml` writes specs as YAML.
"""
