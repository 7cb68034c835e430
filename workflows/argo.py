"""Query and manage workflows: the ``cloudharness.workflows.argo`` API, over the selected backend.

Every function takes ``backend=`` (a :class:`~workflows.backends.Backend`, a
backend name, or ``None`` for the configured default, see
:func:`workflows.backends.get_backend`), so the same calls work on the local
engine and on Argo; a :class:`Workflow` goes back to the backend it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from .backends import Backend, BackendLike, get_backend
from .errors import WorkflowsError


class WorkflowException(WorkflowsError):
    """A workflow operation failed; ``status`` is the HTTP-like status code."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"workflow error (status {status})")
        self.status = status


class WorkflowNotFound(WorkflowException):
    """No workflow has the name asked for."""

    def __init__(self, name: str = "") -> None:
        super().__init__(404, f"workflow {name!r} not found" if name else "workflow not found")
        self.name = name


class Phase:
    """Workflow and node phases, as Argo names them."""

    Pending = "Pending"
    Running = "Running"
    Succeeded = "Succeeded"
    Skipped = "Skipped"
    Failed = "Failed"
    Error = "Error"

    FINISHED = (Succeeded, Skipped, Failed, Error)

    @classmethod
    def phases(cls) -> tuple[str, ...]:
        """Every phase."""
        return (cls.Pending, cls.Running, cls.Succeeded, cls.Skipped, cls.Failed, cls.Error)


class Workflow:
    """A handle on a submitted workflow, read from any backend (Argo's shape: metadata, spec, status)."""

    def __init__(self, raw: dict[str, Any], backend: BackendLike = None) -> None:
        self.raw = raw
        """The workflow as the backend returned it."""
        self._backend = backend

    @property
    def backend(self) -> Backend:
        """The backend it came from (resolved at first use when given by name or ``None``): :meth:`refresh`,
        :meth:`wait` and :meth:`stop` go back there."""
        if not isinstance(self._backend, Backend):
            self._backend = get_backend(self._backend)
        return self._backend

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return self.raw["metadata"]["name"]

    @property
    def status(self) -> str | None:
        """The phase (``status.phase``), or ``None`` before the controller has seen it."""
        return (self.raw.get("status") or {}).get("phase")

    @property
    def create_time(self) -> str | None:
        """``metadata.creationTimestamp``."""
        return self.raw["metadata"].get("creationTimestamp")

    @property
    def nodes(self) -> dict[str, dict[str, Any]]:
        """``status.nodes``: node id → node."""
        return (self.raw.get("status") or {}).get("nodes") or {}

    @property
    def pod_names(self) -> list[str]:
        """Ids of the nodes that ran a pod (leaf nodes when the backend does not give node types)."""
        return [
            node_id for node_id, node in self.nodes.items()
            if node.get("type") == "Pod" or ("type" not in node and not node.get("children"))
        ]

    def is_finished(self) -> bool:
        """Whether the workflow reached a final phase (``Pending`` and ``Running`` are not)."""
        return self.status in Phase.FINISHED

    def succeeded(self) -> bool:
        """Whether the workflow succeeded."""
        return self.status == Phase.Succeeded

    def failed(self) -> bool:
        """Whether the workflow failed or ended in error."""
        return self.status in (Phase.Failed, Phase.Error)

    def get_status_message(self) -> str | None:
        """``status.message``."""
        return (self.raw.get("status") or {}).get("message")

    def refresh(self) -> Workflow:
        """Read the workflow again from the backend; return ``self``."""
        self.raw = self.backend.get(self.name)
        return self

    def wait(self, timeout: float | None = None) -> Workflow:
        """Block until the workflow finishes (no polling); return ``self``, refreshed.

        Raises :class:`TimeoutError` naming the workflow after ``timeout`` seconds; the workflow keeps running.
        """
        self.raw = self.backend.wait(self.name, timeout)
        return self

    def stop(self) -> None:
        """Stop the workflow: its pods are killed and its exit handler runs; it ends ``Failed``."""
        self.backend.stop(self.name)

    def __str__(self) -> str:
        return yaml.safe_dump(self.raw, sort_keys=False)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, status={self.status!r})"


class SearchResult:
    """A page of workflows and the token of the next page."""

    def __init__(self, items: Sequence[dict[str, Any]], continue_token: str | None,
                 backend: BackendLike = None) -> None:
        self.items: tuple[Workflow, ...] = tuple(Workflow(item, backend) for item in items)
        """The workflows of this page."""
        self.continue_token = continue_token
        """Pass it as ``continue_token`` to get the next page; ``None`` on the last page."""

    def __repr__(self) -> str:
        return f"SearchResult({len(self.items)} workflows, continue_token={self.continue_token!r})"


def get_workflows(status: str | None = None, limit: int = 10, continue_token: str | None = None,
                  backend: BackendLike = None) -> SearchResult:
    """A page of at most ``limit`` workflows, newest first, optionally only those in phase ``status``."""
    if status is not None and status not in Phase.phases():
        raise WorkflowException(400, f"status={status!r}: expected one of {', '.join(Phase.phases())}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise WorkflowException(400, f"limit={limit!r}: expected a positive int")
    backend = get_backend(backend)
    items, token = backend.list(status, limit, continue_token)
    return SearchResult(items, token, backend)


def get_workflow(workflow_name: str, backend: BackendLike = None) -> Workflow:
    """The workflow named ``workflow_name``; :class:`WorkflowNotFound` if there is none."""
    backend = get_backend(backend)
    return Workflow(backend.get(workflow_name), backend)


def submit_workflow(spec: dict[str, Any], backend: BackendLike = None) -> Workflow:
    """Submit a compiled or raw Workflow dict, after validating it; return its handle."""
    from .validation import validate_spec

    validate_spec(spec)
    backend = get_backend(backend)
    return Workflow(backend.submit(spec), backend)


def delete_workflow(workflow_name: str, backend: BackendLike = None) -> None:
    """Delete the workflow, its pods, logs and ephemeral volumes; :class:`WorkflowNotFound` if there is none."""
    get_backend(backend).delete(workflow_name)


def wait_workflow(workflow_name: str, timeout: float | None = None, backend: BackendLike = None) -> Workflow:
    """Block until the workflow finishes (no polling); :class:`TimeoutError` after ``timeout`` seconds."""
    backend = get_backend(backend)
    return Workflow(backend.wait(workflow_name, timeout), backend)


def stop_workflow(workflow_name: str, backend: BackendLike = None) -> None:
    """Stop a running workflow (its exit handler still runs)."""
    get_backend(backend).stop(workflow_name)


def get_workflow_logs_list(workflow_name: str, backend: BackendLike = None) -> list[str]:
    """The logs of each pod of the workflow, in node order."""
    return get_backend(backend).logs(workflow_name)


def get_workflow_logs(workflow_name: str, backend: BackendLike = None) -> str:
    """The logs of every pod of the workflow, joined by newlines."""
    return "\n".join(get_workflow_logs_list(workflow_name, backend))
