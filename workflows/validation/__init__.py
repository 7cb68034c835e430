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
    from ..depends import DependsExpression, DependsSyntaxError, TaskOutcome, parse_depends
    from .documents import load_documents
    from .lint import lint_spec, validate_spec
    from .problems import Problem
    from .size import MAX_SPEC_BYTES, spec_size

#: Where each public name lives (a module of the package): modules load when a name is first used, so
#: importing this package does not load YAML or the schema checks. The ``depends`` parser lives in
#: :mod:`workflows.depends`, shared with operations and the engine.
_HOMES = {
    "DependsExpression": "workflows.depends",
    "DependsSyntaxError": "workflows.depends",
    "TaskOutcome": "workflows.depends",
    "parse_depends": "workflows.depends",
    "load_documents": "workflows.validation.documents",
    "lint_spec": "workflows.validation.lint",
    "validate_spec": "workflows.validation.lint",
    "Problem": "workflows.validation.problems",
    "MAX_SPEC_BYTES": "workflows.validation.size",
    "spec_size": "workflows.validation.size",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Load the submodule that defines ``name`` on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not."""
    return sorted(set(globals()) | set(_HOMES))
