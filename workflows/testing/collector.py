"""Argo's garbage collection in the fake cluster: ``ttlStrategy`` deletes finished workflows, ``podGC``
deletes their pods, each after its delay (one timer thread, woken by a condition: no polling)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..durations import duration_seconds
from .api import PODS, ApiError
from .resources import ResourceStore
from .selection import Selector, parse_selectors
from .service import WORKFLOW_LABEL

log = logging.getLogger(__name__)

#: ``podGC.strategy`` values that delete pods as each finishes, and the pod phases they apply to.
POD_STRATEGIES = {"OnPodCompletion": ("Succeeded", "Failed"), "OnPodSuccess": ("Succeeded",)}
#: ``podGC.strategy`` values that delete every pod when the workflow ends, and the workflow phases they apply to.
WORKFLOW_STRATEGIES = {"OnWorkflowCompletion": ("Succeeded", "Failed", "Error"), "OnWorkflowSuccess": ("Succeeded",)}


def ttl_seconds(spec: dict[str, Any], phase: str) -> float | None:
    """How long after it ended ``ttlStrategy`` keeps a workflow that ended in ``phase`` (``None``: for ever)."""
    ttl = spec.get("ttlStrategy") or {}
    first = "secondsAfterSuccess" if phase == "Succeeded" else "secondsAfterFailure"
    for key in (first, "secondsAfterCompletion"):
        if ttl.get(key) is not None:
            return float(ttl[key])
    return None


class GarbageCollector:
    """Deletes workflows and pods of the fake cluster when Argo's controller would."""

    def __init__(self, store: ResourceStore) -> None:
        self.store = store
        self.delete_workflow: Callable[[str, str], Any] | None = None
        """How a workflow is deleted (with its pods and its run): set by the cluster."""
        self._changed = threading.Condition()
        self._due: list[tuple[float, int, Callable[[], Any]]] = []
        self._order = itertools.count()
        self._closed = False
        self._thread: threading.Thread | None = None

    # --- what the controller reports -------------------------------------------------------------------------------

    def workflow_finished(self, namespace: str, workflow: dict[str, Any]) -> None:
        """Schedule the workflow's TTL deletion and the pod GC of workflow-level strategies."""
        spec, name, phase = workflow.get("spec") or {}, workflow["metadata"]["name"], workflow["status"]["phase"]
        ttl = ttl_seconds(spec, phase)
        if ttl is not None and self.delete_workflow is not None:
            delete = self.delete_workflow
            self._after(ttl, lambda: delete(namespace, name))
        strategy, delay = self._pod_gc(spec)
        if phase in WORKFLOW_STRATEGIES.get(strategy, ()):
            self._after(delay, lambda: self._delete_pods(namespace, name))

    def pod_finished(self, namespace: str, workflow: dict[str, Any], pod: str, phase: str) -> None:
        """Schedule the deletion of a pod that just finished, under pod-level strategies."""
        strategy, delay = self._pod_gc(workflow.get("spec") or {})
        if phase in POD_STRATEGIES.get(strategy, ()):
            self._after(delay, lambda: self._delete_pod(namespace, pod))

    @staticmethod
    def _pod_gc(spec: dict[str, Any]) -> tuple[str, float]:
        pod_gc = spec.get("podGC") or {}
        return pod_gc.get("strategy", ""), duration_seconds(pod_gc.get("deleteDelayDuration") or 0)

    def _delete_pods(self, namespace: str, workflow: str) -> None:
        for pod in self.store.list(PODS, namespace, _workflow_pods(workflow))[0]:
            self._delete_pod(namespace, pod["metadata"]["name"])

    def _delete_pod(self, namespace: str, pod: str) -> None:
        try:
            self.store.delete(PODS, namespace, pod)
        except ApiError:
            pass  # deleted with its workflow already

    # --- timers ----------------------------------------------------------------------------------------------------

    def _after(self, delay: float, action: Callable[[], Any]) -> None:
        with self._changed:
            if self._closed:
                return
            heapq.heappush(self._due, (time.monotonic() + max(delay, 0.0), next(self._order), action))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fake-gc", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (not self._due or self._due[0][0] > time.monotonic()):
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._closed:
                    return
                _, _, action = heapq.heappop(self._due)
            try:
                action()
            except ApiError as error:  # already deleted by someone else
                log.debug("garbage collection: %s", error)

    def close(self) -> None:
        """Drop what is still scheduled and end the timer thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()


def _workflow_pods(workflow: str) -> Selector:
    return parse_selectors("pods", f"{WORKFLOW_LABEL}={workflow}", None)
