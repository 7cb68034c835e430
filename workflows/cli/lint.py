"""``workflows lint``: the problems of Argo YAML/JSON files and of the operations of Python files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BadOperationConfiguration
from .loader import TargetError, is_python_target, load_operations

#: Argo kinds that are not workflows: a file may hold them next to workflows; lint leaves them alone.
OTHER_ARGO_KINDS = frozenset(
    {"WorkflowEventBinding", "WorkflowTaskSet", "WorkflowTaskResult", "WorkflowArtifactGCTask"}
)


def skipped_kind(document: Any) -> str | None:
    """The kind of a document lint leaves alone (a ConfigMap, a WorkflowEventBinding...), or ``None``."""
    if not isinstance(document, dict) or "apiVersion" not in document:
        return None
    if not str(document["apiVersion"]).startswith("argoproj.io/") or document.get("kind") in OTHER_ARGO_KINDS:
        return str(document.get("kind", "unknown"))
    return None


def lint_file(path: str) -> tuple[list[str], list[str]]:
    """The problems of one file, as ``path: field: reason`` lines, and notes: what was skipped, and warnings
    (see :mod:`workflows.validation.advice`), which are not problems.

    A file with several documents names each as ``path#INDEX``; a Python
    file names each operation as ``path:NAME``.
    """
    from ..validation import lint_spec, load_documents
    from ..validation.advice import operation_warnings, spec_warnings

    if is_python_target(path):
        try:
            operations = load_operations(path)
        except TargetError as error:
            return [f"{path}: operation: {error}"], []
        sources = [(f"{path}:{name}", operation.to_workflow()) for name, operation in operations.items()]
        warnings = [f"{path}:{name}: {warning}" for name, op in operations.items() for warning in operation_warnings(op)]
        return [f"{source}: {problem}" for source, document in sources for problem in lint_spec(document)], warnings
    if not Path(path).is_file():
        return [f"{path}: file: no such file"], []
    try:
        documents = load_documents(path)
    except BadOperationConfiguration as error:
        return [f"{path}: file: {error}"], []
    many = len(documents) > 1
    problems, notes = [], []
    for index, document in enumerate(documents):
        source = f"{path}#{index}" if many else path
        kind = skipped_kind(document)
        if kind is not None:
            notes.append(f"{source}: skipped: a {kind}, not an Argo workflow")
            continue
        problems += [f"{source}: {problem}" for problem in lint_spec(document)]
        notes += [f"{source}: {warning}" for warning in spec_warnings(document)]
    return problems, notes
