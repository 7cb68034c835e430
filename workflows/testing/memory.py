"""``MemoryBackend``: a backend that records submitted workflows in memory and runs nothing."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..argo import Phase, Workflow, WorkflowException, WorkflowNotFound
from ..backends import Backend
from ..timestamps import timestamp
from .resources import generate_name
from .service import COMPLETED_LABEL, PHASE_LABEL


class MemoryBackend(Backend):
    """Keeps workflows in memory, in the shape Argo returns them; nothing runs.

    Each submitted workflow is named as the API server names it (``generateName`` + 5 characters) and
    given ``phase`` (``None``: no status, as before a controller saw it). :attr:`submitted` keeps a copy
    of every spec as it was submitted. :meth:`set_phase` moves a workflow on and wakes its waiters;
    :meth:`set_logs` gives its pods' logs and :meth:`set_result` what a ``DistributedSyncOperationWithResults``
    returns.
    """

    name = "memory"

    def __init__(self, phase: str | None = Phase.Succeeded, namespace: str = "default") -> None:
        if phase is not None and phase not in Phase.phases():
            raise ValueError(f"phase={phase!r}: expected one of {', '.join(Phase.phases())} or None")
        self.phase = phase
        self.namespace = namespace
        self.submitted: list[dict[str, Any]] = []
        """Every spec submitted, as it was given (deep copies), in order."""
        self._workflows: dict[str, dict[str, Any]] = {}
        self._logs: dict[str, dict[str, str]] = {}
        self._results: dict[str, Any] = {}
        self._changed = threading.Condition()
        self._version = 0

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Record ``spec`` and store it as a workflow; return the workflow."""
        if not isinstance(spec, dict) or not isinstance(spec.get("metadata"), dict):
            raise WorkflowException(400, "spec: expected a Workflow dict with metadata")
        with self._changed:
            self.submitted.append(copy.deepcopy(spec))
            workflow = copy.deepcopy(spec)
            metadata = workflow["metadata"]
            if not metadata.get("name"):
                if not metadata.get("generateName"):
                    raise WorkflowException(422, "metadata.name: Required value: name or generateName is required")
                while not metadata.get("name") or metadata["name"] in self._workflows:
                    metadata["name"] = generate_name(metadata["generateName"])
            elif metadata["name"] in self._workflows:
                raise WorkflowException(409, f'workflows.argoproj.io "{metadata["name"]}" already exists')
            metadata.setdefault("namespace", self.namespace)
            metadata.update(uid=str(uuid.uuid4()), creationTimestamp=timestamp())
            self._workflows[metadata["name"]] = workflow
            if self.phase is not None:
                self._set(workflow, self.phase, None)
            return self._copy(workflow)

    def get(self, name: str) -> dict[str, Any]:
        """The workflow; :class:`WorkflowNotFound` when there is none."""
        with self._changed:
            return self._copy(self._find(name))

    def list(self, phase: str | None, limit: int, continue_token: str | None
             ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of workflows, newest first; the token is the offset of the next page."""
        try:
            offset = int(continue_token or 0)
        except ValueError:
            raise WorkflowException(400, f"continue_token={continue_token!r}: not a token this backend gave") from None
        with self._changed:
            found = [workflow for workflow in reversed(self._workflows.values())
                     if phase is None or (workflow.get("status") or {}).get("phase") == phase]
            page = [self._copy(workflow) for workflow in found[offset:offset + limit]]
        return page, str(offset + limit) if offset + limit < len(found) else None

    def delete(self, name: str) -> None:
        """Forget the workflow."""
        with self._changed:
            self._find(name)
            del self._workflows[name]
            self._logs.pop(name, None)
            self._results.pop(name, None)
            self._version += 1
            self._changed.notify_all()

    def node_logs(self, name: str) -> dict[str, str]:
        """The logs given by :meth:`set_logs` (empty by default)."""
        with self._changed:
            self._find(name)
            return dict(self._logs.get(name, {}))

    def watch(self, name: str, timeout: float | None) -> Iterator[dict[str, Any]]:
        """Yield the workflow now and after each change, until it is finished; ``TimeoutError`` at the deadline."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._changed:
                workflow = self._copy(self._find(name))
                version = self._version
            yield workflow
            if (workflow.get("status") or {}).get("phase") in Phase.FINISHED:
                return
            with self._changed:
                while self._version == version:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(f"workflow {name!r} did not finish within {timeout} s (it is still "
                                           f"{(workflow.get('status') or {}).get('phase') or 'without a phase'})")
                    self._changed.wait(remaining)

    def stop(self, name: str) -> None:
        """End an unfinished workflow ``Failed`` as Argo's stop does."""
        with self._changed:
            workflow = self._find(name)
            if (workflow.get("status") or {}).get("phase") not in Phase.FINISHED:
                workflow.setdefault("spec", {})["shutdown"] = "Stop"
                self._set(workflow, Phase.Failed, "Stopped with strategy 'Stop'")

    def results(self, workflow: Workflow) -> Any:
        """What :meth:`set_result` gave for the workflow; a :class:`WorkflowException` when nothing was given."""
        with self._changed:
            self._find(workflow.name)
            if workflow.name not in self._results:
                raise WorkflowException(404, f"workflow {workflow.name!r} has no result: give one with "
                                             "MemoryBackend.set_result()")
            return copy.deepcopy(self._results[workflow.name])

    # --- test controls ---------------------------------------------------------------------------------------------

    def set_phase(self, name: str, phase: str, message: str | None = None) -> None:
        """Move the workflow to ``phase`` (waiters wake up)."""
        if phase not in Phase.phases():
            raise ValueError(f"phase={phase!r}: expected one of {', '.join(Phase.phases())}")
        with self._changed:
            self._set(self._find(name), phase, message)

    def set_logs(self, name: str, logs: dict[str, str]) -> None:
        """Give the workflow's pods' logs: node id → text, in node order."""
        with self._changed:
            self._find(name)
            self._logs[name] = dict(logs)

    def set_result(self, name: str, result: Any) -> None:
        """Give what :meth:`results` returns for the workflow: the messages a result step publishes, ``[{file name: text}, ...]``."""
        with self._changed:
            self._find(name)
            self._results[name] = copy.deepcopy(result)

    # --- inside ----------------------------------------------------------------------------------------------------

    def _find(self, name: str) -> dict[str, Any]:
        try:
            return self._workflows[name]
        except KeyError:
            raise WorkflowNotFound(name) from None

    @staticmethod
    def _copy(workflow: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(workflow)

    def _set(self, workflow: dict[str, Any], phase: str, message: str | None) -> None:
        status = workflow.setdefault("status", {"startedAt": timestamp(), "nodes": {}})
        status["phase"] = phase
        status["finishedAt"] = timestamp() if phase in Phase.FINISHED else None
        if message:
            status["message"] = message
        labels = workflow["metadata"].setdefault("labels", {})
        labels[PHASE_LABEL] = phase
        labels[COMPLETED_LABEL] = "true" if phase in Phase.FINISHED else "false"
        self._version += 1
        self._changed.notify_all()
