"""Linting one Argo document: structure, size and semantics together."""

from __future__ import annotations

from ..errors import InvalidWorkflowSpec
from .model import load_model
from .problems import Problem, describe, sort_problems
from .semantics import check_semantics
from .size import check_size
from .structure import check_structure

#: The only version of Argo's resources.
API_VERSION = "argoproj.io/v1alpha1"


def lint_spec(document: dict) -> list[Problem]:
    """Return every problem of the Argo document ``document``, sorted by path.

    Handles Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow
    documents; anything else is a single problem.
    """
    if not isinstance(document, dict):
        return [Problem("document", f"expected a map (an Argo resource), got {describe(document)}")]
    api_version = document.get("apiVersion")
    kind = document.get("kind")
    if not isinstance(api_version, str) or not api_version.startswith("argoproj.io/"):
        return [Problem("apiVersion", f"not an Argo resource: apiVersion {api_version!r}, expected {API_VERSION!r}")]
    roots = load_model().roots
    if not isinstance(kind, str) or kind not in roots:
        return [Problem("kind", f"unknown kind {kind!r}, expected one of {', '.join(roots)}")]
    problems = check_structure(document, roots[kind])
    if api_version != API_VERSION:
        problems.append(Problem("apiVersion", f"unknown version {api_version!r}, expected {API_VERSION!r}"))
    problems += check_size(document)
    problems += check_semantics(document)
    return sort_problems(problems)


def validate_spec(document: dict) -> None:
    """Raise :class:`~workflows.errors.InvalidWorkflowSpec` listing the problems of ``document``, if any."""
    problems = lint_spec(document)
    if problems:
        raise InvalidWorkflowSpec(problems)
