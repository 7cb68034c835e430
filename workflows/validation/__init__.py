"""Validation of raw Argo specs (what ``workflows lint`` and submission use).

* :func:`lint_spec` returns every :class:`Problem` of one Argo document:
  unknown fields and wrong types (against a model of Argo's schema), the rules
  ``argo lint`` applies (template references, names, DAG dependencies,
  ``{{...}}`` references...) and the 1 MiB size limit of Kubernetes objects;
  :func:`validate_spec` raises :class:`~workflows.errors.InvalidWorkflowSpec`
  when there is any.
* :func:`load_documents` reads the documents of a YAML or JSON file.
* :func:`parse_depends` parses the ``depends`` expressions of DAG tasks.
"""

from __future__ import annotations

from .depends import DependsExpression, DependsSyntaxError, TaskOutcome, parse_depends
from .documents import load_documents
from .lint import lint_spec, validate_spec
from .problems import Problem
from .size import MAX_SPEC_BYTES, spec_size

__all__ = [
    "MAX_SPEC_BYTES",
    "DependsExpression",
    "DependsSyntaxError",
    "Problem",
    "TaskOutcome",
    "lint_spec",
    "load_documents",
    "parse_depends",
    "spec_size",
    "validate_spec",
]
