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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers; at run time the names load on first use
    from .depends import DependsExpression, DependsSyntaxError, TaskOutcome, parse_depends
    from .documents import load_documents
    from .lint import lint_spec, validate_spec
    from .problems import Problem
    from .size import MAX_SPEC_BYTES, spec_size

#: Where each public name lives: submodules load when a name is first used, so importing
#: :mod:`workflows.validation.depends` (as operations do) does not load YAML or the schema checks.
_HOMES = {
    "DependsExpression": "depends",
    "DependsSyntaxError": "depends",
    "TaskOutcome": "depends",
    "parse_depends": "depends",
    "load_documents": "documents",
    "lint_spec": "lint",
    "validate_spec": "lint",
    "Problem": "problems",
    "MAX_SPEC_BYTES": "size",
    "spec_size": "size",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Load the submodule that defines ``name`` on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not."""
    return sorted(set(globals()) | set(_HOMES))
