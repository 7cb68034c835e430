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


def template_sources(paths: list[str]):
    """Where lint looks referenced WorkflowTemplates up: those of the files ``paths``, then the local store.

    The local engine's store (``workflows apply``) is read only when it exists;
    unreadable files are left to :func:`lint_file` to report.
    """
    from .. import config
    from ..engine.store import Store
    from ..engine.templatestore import TemplateStore
    from ..templaterefs import TEMPLATE_KINDS, ChainedSources, TemplateLibrary
    from ..validation import load_documents

    library = TemplateLibrary()
    for path in paths:
        if is_python_target(path) or not Path(path).is_file():
            continue
        try:
            documents = load_documents(path)
        except BadOperationConfiguration:
            continue
        for document in documents:
            if isinstance(document, dict) and document.get("kind") in TEMPLATE_KINDS \
                    and (document.get("metadata") or {}).get("name") and isinstance(document.get("spec"), dict):
                library.add(document)
    if not (config.state_dir() / "engine.sqlite").is_file():
        return library
    return ChainedSources(library, TemplateStore(Store()))


def _resolved(document: Any, sources) -> tuple[Any, list[str]]:
    """``document`` with its WorkflowTemplate references resolved, or as is with the reason it cannot be."""
    from ..templaterefs import TemplateNotFound, has_references, resolve_references

    if sources is None or not isinstance(document, dict) or document.get("kind") != "Workflow" \
            or not has_references(document):
        return document, []
    try:
        return resolve_references(document, sources), []
    except TemplateNotFound as error:
        return document, [str(error)]


def lint_file(path: str, sources=None) -> tuple[list[str], list[str]]:
    """The problems of one file, as ``path: field: reason`` lines, and notes: what was skipped, and warnings
    (see :mod:`workflows.validation.advice`), which are not problems.

    A file with several documents names each as ``path#INDEX``; a Python
    file names each operation as ``path:NAME``. With ``sources`` (a
    :class:`workflows.templaterefs.TemplateSource`), a Workflow's ``templateRef``
    and ``workflowTemplateRef`` are resolved from it and the result is checked;
    a reference it cannot answer is a problem.
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
        document, unresolved = _resolved(document, sources)
        problems += [f"{source}: {problem}" for problem in unresolved]
        problems += [f"{source}: {problem}" for problem in lint_spec(document)]
        notes += [f"{source}: {warning}" for warning in spec_warnings(document)]
    return problems, notes
