"""CloudHarness's ``cloudharness.workflows.argo_service`` (its ``argo`` module since 3.0): :mod:`workflows.argo`, plus ``namespace``.

``namespace`` is read when used: the namespace the selected backend works in
(its ``namespace`` attribute; :data:`LOCAL_NAMESPACE` for the local engine).
"""

from __future__ import annotations

from typing import Any

from .argo import (
    BadParam,
    Phase,
    SearchResult,
    V1alpha1Workflow,
    V1alpha1WorkflowList,
    Workflow,
    WorkflowException,
    WorkflowNotFound,
    WorkflowResultsMissing,
    delete_workflow,
    get_workflow,
    get_workflow_logs,
    get_workflow_logs_list,
    get_workflows,
    stop_workflow,
    submit_workflow,
    wait_workflow,
)
from .backends import get_backend

#: The namespace the local engine records its workflows in (``metadata.namespace``).
LOCAL_NAMESPACE = "local"

__all__ = [
    "BadParam",
    "Phase",
    "SearchResult",
    "V1alpha1Workflow",
    "V1alpha1WorkflowList",
    "Workflow",
    "WorkflowException",
    "WorkflowNotFound",
    "WorkflowResultsMissing",
    "delete_workflow",
    "get_workflow",
    "get_workflow_logs",
    "get_workflow_logs_list",
    "get_workflows",
    "namespace",
    "stop_workflow",
    "submit_workflow",
    "wait_workflow",
]


def __getattr__(name: str) -> Any:
    if name == "namespace":
        return getattr(get_backend(), "namespace", LOCAL_NAMESPACE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
