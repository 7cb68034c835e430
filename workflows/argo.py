"""Query and manage workflows: the ``cloudharness.workflows.argo`` API, over the selected backend.

Every function takes ``backend=`` (a :class:`~workflows.backends.Backend`, a
backend name, or ``None`` for the configured default, see
:func:`workflows.backends.get_backend`), so the same calls work on the local
engine and on Argo; a :class:`Workflow` goes back to the backend it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .backends import Backend, BackendLike, get_backend
from .errors import BadParam, WorkflowException, WorkflowNotFound, WorkflowResultsMissing
from .model_view import WorkflowListModel, WorkflowModel, parse_time
from .vocabulary import Phase
from .selectors import Selector, SelectorError, parse_field_selector, parse_label_selector, trim_fields


__all__ = [
    "BadParam", "Phase", "SearchResult", "V1alpha1Workflow", "V1alpha1WorkflowList", "Workflow", "WorkflowException",
    "WorkflowNotFound", "WorkflowResultsMissing", "delete_workflow", "get_workflow", "get_workflow_logs",
    "get_workflow_logs_list", "get_workflows", "stop_workflow", "submit_workflow", "wait_workflow",
]

#: The argo SDK's model names CloudHarness's ``argo`` module re-exports (its docs import them from there):
#: here the dict-based equivalents that ``Workflow.raw`` and ``SearchResult.raw`` are.
V1alpha1Workflow = WorkflowModel
V1alpha1WorkflowList = WorkflowListModel


class Workflow:
    """A handle on a submitted workflow, read from any backend (Argo's shape: metadata, spec, status)."""

    def __init__(self, raw: Mapping[str, Any], backend: BackendLike = None) -> None:
        self.raw = raw  # type: ignore[assignment]
        self._backend = backend

    @property
    def backend(self) -> Backend:
        """The backend it came from (resolved at first use when given by name or ``None``): :meth:`refresh`,
        :meth:`wait` and :meth:`stop` go back there."""
        if not isinstance(self._backend, Backend):
            self._backend = get_backend(self._backend)
        return self._backend

    @property
    def raw(self) -> WorkflowModel:
        """The workflow as the backend returned it: a dict, also readable like the argo SDK's model.

        ``raw["metadata"]["name"]`` and ``raw.metadata.name`` alike; ``raw.to_dict()``, ``raw.to_str()``
        (see :class:`~workflows.model_view.WorkflowModel`).
        """
        return self._raw

    @raw.setter
    def raw(self, value: Mapping[str, Any]) -> None:
        self._raw = value if isinstance(value, WorkflowModel) else WorkflowModel(value)

    @property
    def name(self) -> str | None:
        """``metadata.name`` (``None`` only when a ``fields`` query left it out)."""
        return (self.raw.get("metadata") or {}).get("name")

    @property
    def status(self) -> str | None:
        """The phase (``status.phase``), or ``None`` before the controller has seen it."""
        return (self.raw.get("status") or {}).get("phase")

    @property
    def create_time(self) -> datetime | None:
        """``metadata.creationTimestamp`` as an aware UTC ``datetime``, as CloudHarness gives it."""
        return parse_time((self.raw.get("metadata") or {}).get("creationTimestamp"))  # type: ignore[return-value]

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
        import yaml

        return yaml.safe_dump(dict(self.raw), sort_keys=False)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, status={self.status!r})"


class SearchResult:
    """A page of workflows and the token of the next page."""

    def __init__(self, items: Sequence[Mapping[str, Any]], continue_token: str | None,
                 backend: BackendLike = None) -> None:
        self.items: tuple[Workflow, ...] = tuple(Workflow(item, backend) for item in items)
        """The workflows of this page."""
        self.continue_token = continue_token
        """Pass it as ``continue_token`` to get the next page; ``None`` on the last page."""

    @property
    def raw(self) -> WorkflowListModel:
        """The page as the argo SDK's ``V1alpha1WorkflowList`` reads: ``raw.items``, ``raw.metadata._continue``."""
        metadata = {"continue": self.continue_token} if self.continue_token else {}
        return WorkflowListModel([workflow.raw for workflow in self.items], metadata)

    def __len__(self) -> int:
        """The number of workflows on this page."""
        return len(self.items)

    def __repr__(self) -> str:
        return f"SearchResult({len(self.items)} workflows, continue_token={self.continue_token!r})"


#: Keyword arguments of the argo SDK's ``list_workflows`` that :func:`get_workflows` also takes.
LIST_OPTIONS = frozenset({"list_options_label_selector"})


def get_workflows(
    status: str | None = None,
    limit: int = 10,
    continue_token: str | None = None,
    timeout_seconds: float | None = 3,
    field_selector: str | None = None,
    fields: str | None = None,
    backend: BackendLike = None,
    **kwargs: Any,
) -> SearchResult:
    """A page of at most ``limit`` workflows, newest first, optionally only those in phase ``status``.

    As CloudHarness's: ``field_selector`` is a Kubernetes field selector on
    ``metadata.name`` and ``metadata.namespace`` (``metadata.name=my-wf``,
    ``!=``, comma-separated terms); ``fields`` trims the answer like Argo
    Server's ``fields`` parameter (``items.metadata.name,metadata`` keeps
    those; a leading ``-`` removes the listed ones instead); the keyword
    ``list_options_label_selector`` filters on labels (``key=value``, ``key!=value``,
    ``key``, ``!key``). ``timeout_seconds`` (CloudHarness's request timeout) is
    checked, a positive number or ``None``; the backend applies its own request
    timeouts. Bad values raise :class:`BadParam` naming the parameter; an
    unknown keyword is a ``TypeError``. ``backend``: where to ask (default: the configured one).
    """
    if status is not None and status not in Phase.phases():
        raise BadParam("status", f"status={status!r}: expected one of {', '.join(Phase.phases())}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise BadParam("limit", f"limit={limit!r}: expected a positive int")
    if timeout_seconds is not None and (
        isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)) or timeout_seconds <= 0
    ):
        raise BadParam("timeout_seconds", f"timeout_seconds={timeout_seconds!r}: expected a positive number or None")
    unknown = set(kwargs) - LIST_OPTIONS
    if unknown:
        raise TypeError(f"get_workflows() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    selectors: list[Selector] = []
    for parameter, parse, value in (("field_selector", parse_field_selector, field_selector),
                                    ("list_options_label_selector", parse_label_selector,
                                     kwargs.get("list_options_label_selector"))):
        try:
            selectors += parse(value)
        except SelectorError as error:
            raise BadParam(parameter, str(error)) from None
    backend = get_backend(backend)
    items, token = _list(backend, status, limit, continue_token, selectors)
    if fields:
        try:
            page = trim_fields({"metadata": {"continue": token} if token else {}, "items": items}, fields)
        except SelectorError as error:
            raise BadParam("fields", str(error)) from None
        items, token = page.get("items") or [], (page.get("metadata") or {}).get("continue")
    return SearchResult(items, token, backend)


def _list(
    backend: Backend, status: str | None, limit: int, continue_token: str | None, selectors: list[Selector]
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of at most ``limit`` workflows matching every selector, and the token of the next page."""
    if not selectors:
        return backend.list(status, limit, continue_token)
    name = next((selector.value for selector in selectors if selector.is_name_equality()), None)
    if name is not None and continue_token is None:  # one workflow at most: read it directly
        try:
            workflow = backend.get(name)
        except WorkflowNotFound:
            return [], None
        matches = (status is None or (workflow.get("status") or {}).get("phase") == status) and all(
            selector.matches(workflow) for selector in selectors
        )
        return ([workflow] if matches else []), None
    found: list[dict[str, Any]] = []
    token = continue_token
    while True:  # each page asked for is consumed whole, so the backend's token stays exact
        page, token = backend.list(status, limit - len(found), token)
        found += [workflow for workflow in page if all(selector.matches(workflow) for selector in selectors)]
        if len(found) == limit or token is None:
            return found, token


def get_workflow(workflow_name: str, backend: BackendLike = None) -> Workflow:
    """The workflow named ``workflow_name``; :class:`WorkflowNotFound` if there is none."""
    backend = get_backend(backend)
    return Workflow(backend.get(workflow_name), backend)


def submit_workflow(spec: dict[str, Any], backend: BackendLike = None) -> Workflow:
    """Submit a compiled or raw Workflow dict, after validating it; return its handle."""
    backend = get_backend(backend)
    with backend.submitting():
        from .validation import validate_spec

        validate_spec(spec)
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
