"""The ``local`` backend: the embedded engine, with its state in SQLite under ``$WORKFLOWS_HOME``.

This module imports the engine's modules where they are used: a process's first submission starts its
workflow's runner (:meth:`LocalBackend.submitting`) before it loads them, so that both load at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import config
from ..argo import WorkflowException, WorkflowNotFound
from ..engine.spares import Circumstances, ahead, discard
from ..vocabulary import COMPLETED_PHASES
from . import Backend

if TYPE_CHECKING:
    from ..engine.store import Store


class LocalBackend(Backend):
    """Runs workflows on this machine; every process of the machine shares the same state."""

    name = "local"

    def __init__(self, store: Store | None = None) -> None:
        self._store = store
        self._root = None if store is not None else config.state_dir()
        self._thread_stores = threading.local()

    @property
    def store(self) -> Store:
        """The store given, else this thread's connection to ``$WORKFLOWS_HOME`` (SQLite connections are per
        thread, and one backend serves every thread of the process)."""
        if self._store is not None:
            return self._store
        store = getattr(self._thread_stores, "store", None)
        if store is None:
            from ..engine.store import Store  # noqa: PLC0415 - see the module's docstring

            store = self._thread_stores.store = Store(self._root)
        return store

    # --- the Backend API -----------------------------------------------------------------------------------------

    @contextmanager
    def submitting(self) -> Iterator[None]:
        """Start the workflow's runner as the submission begins (:func:`workflows.engine.spares.ahead`), to load
        while the spec is checked and stored; it is ended should the submission fail."""
        started = ahead(Circumstances(self._store.root if self._store is not None else self._root))
        try:
            yield
        except BaseException:
            if started is not None:
                discard(started)
            raise

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Store the workflow and start its runner (or hand it to the one :meth:`submitting` started); return at
        once with the stored workflow.

        ``templateRef`` and ``workflowTemplateRef`` are resolved first, from the
        templates ``workflows apply`` stored (:mod:`workflows.templaterefs`).
        """
        from ..engine.runner import spawn_runner  # noqa: PLC0415 - see the module's docstring
        from ..engine.submission import submit  # noqa: PLC0415 - see the module's docstring

        self.remove_expired()
        manifest = submit(self.store, spec, spawn_runner)
        return self.get(manifest["metadata"]["name"])

    def get(self, name: str) -> dict[str, Any]:
        """The workflow in Argo's shape; a workflow whose runner died is marked ``Error`` here."""
        workflow = self.store.read(name)
        if workflow is None:
            raise WorkflowNotFound(name)
        return self._alive_or_buried(workflow)

    def _alive_or_buried(self, workflow: dict[str, Any]) -> dict[str, Any]:
        """``workflow`` as read, or, when it is unfinished and its runner gone, as marked ``Error``."""
        from ..engine.watchdog import bury, runner_alive  # noqa: PLC0415 - see the module's docstring

        name = workflow["metadata"]["name"]
        if workflow["status"]["phase"] in COMPLETED_PHASES or runner_alive(self.store, name):
            return workflow
        bury(self.store, name)
        return self.store.read(name)

    def list(self, phase: str | None, limit: int, continue_token: str | None
             ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of workflows, newest first; the token is the position of the last one."""
        self.remove_expired()
        after = None
        if continue_token:
            created, _, name = continue_token.partition(":")
            try:
                after = (float(created), name)
            except ValueError:
                raise WorkflowException(
                    400, f"continue_token={continue_token!r}: not a token this backend gave"
                ) from None
        rows = self.store.page(phase, limit + 1, after)
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            created, workflow = rows[-1]
            token = f"{created!r}:{workflow['metadata']['name']}"
        return [self._alive_or_buried(workflow) for _, workflow in rows], token

    def delete(self, name: str) -> None:
        """Terminate the workflow if it runs (no exit handler), then remove its records, logs and volumes."""
        from ..engine.processgroups import kill_recorded_group  # noqa: PLC0415 - see the module's docstring
        from ..engine.watchdog import wait_for_runner  # noqa: PLC0415 - see the module's docstring

        if not self.store.exists(name):
            raise WorkflowNotFound(name)
        if self.store.request_stop(name, "terminate"):
            self._signal_runner(name)
            wait_for_runner(self.store, name)
        for group in self.store.running_process_groups(name):
            kill_recorded_group(group)
        self.store.delete(name)

    def node_logs(self, name: str) -> dict[str, str]:
        """Each started pod's log so far, in the order the pods started (empty for a pod that printed nothing:
        its log file is made on its first output)."""
        workflow = self.get(name)
        logs_dir = self.store.workflow_dir(name) / "logs"
        result = {}
        for node_id, node in (workflow["status"].get("nodes") or {}).items():
            path = logs_dir / f"{node_id}.log"
            if node["type"] == "Pod" and path.is_file():
                result[node_id] = path.read_text(errors="replace")
            elif node["type"] == "Pod" and node["phase"] != "Pending":
                result[node_id] = ""
        return result

    def watch(self, name: str, timeout: float | None) -> Iterator[dict[str, Any]]:
        """Yield the workflow each time the runner rings (or dies), until it is finished."""
        for _ in self._rings(name, timeout):
            workflow = self.get(name)
            yield workflow
            if workflow["status"]["phase"] in COMPLETED_PHASES:
                return

    def wait(self, name: str, timeout: float | None) -> dict[str, Any]:
        """Block until the workflow is finished; return it. Each ring reads only the workflow's phase (a
        workflow of thousands of nodes is read and parsed once, at the end)."""
        from ..engine.watchdog import runner_alive  # noqa: PLC0415 - see the module's docstring

        rings = self._rings(name, timeout)
        while True:
            next(rings)
            phase = self.store.phase(name)
            if phase is None:
                raise WorkflowNotFound(name)
            if phase in COMPLETED_PHASES or not runner_alive(self.store, name):
                rings.close()
                return self.get(name)  # buries a workflow whose runner died

    def _rings(self, name: str, timeout: float | None) -> Iterator[None]:
        """Yield now and each time the runner rings (or dies), without end; raise :class:`TimeoutError` after
        ``timeout`` seconds. The caller stops iterating once the workflow is finished."""
        from ..engine.bells import workflow_bell  # noqa: PLC0415 - see the module's docstring

        deadline = None if timeout is None else time.monotonic() + timeout
        bell = workflow_bell(self.store, name)
        with bell.waiter() as waiter:
            self._ring_when_runner_exits(name, bell)
            while True:
                yield
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0 or not waiter.wait(remaining):
                    raise TimeoutError(
                        f"workflow {name!r} did not finish within {timeout} s (it is still "
                        f"{self.store.phase(name)}, and keeps running)"
                    )

    def stop(self, name: str) -> None:
        """Ask the runner to stop: pods are killed, the exit handler runs, the workflow ends ``Failed``."""
        self._ask_runner(name, "stop")

    def terminate(self, name: str) -> None:
        """Ask the runner to terminate (Argo's ``shutdown: Terminate``): as :meth:`stop`, without exit handler."""
        self._ask_runner(name, "terminate")

    def _ask_runner(self, name: str, how: str) -> None:
        if not self.store.exists(name):
            raise WorkflowNotFound(name)
        if self.store.request_stop(name, how):
            self._signal_runner(name)

    def resume(self, name: str) -> None:
        """Resume the workflow's suspend nodes running now (:mod:`workflows.engine.resume`)."""
        from ..engine.resume import ResumeRequests, supplied_outputs  # noqa: PLC0415 - see the module's docstring

        workflow = self.get(name)
        if workflow["status"]["phase"] in COMPLETED_PHASES:
            raise WorkflowException(409, f"workflow {name!r} is {workflow['status']['phase']}: nothing to resume")
        templates = {template["name"]: template for template in workflow["spec"].get("templates") or []}
        for node in (workflow["status"].get("nodes") or {}).values():
            if node["type"] == "Suspend" and node["phase"] == "Running":
                missing = supplied_outputs(templates.get(node.get("templateName"), {}))[1]
                if missing:  # Argo's OverrideOutputParametersWithDefault refuses the resume
                    raise WorkflowException(400, f"raw output parameter '{missing[0]}' has not been set and does "
                                                 "not have a default value")
        ResumeRequests(self.store).request(name)

    # --- housekeeping --------------------------------------------------------------------------------------------

    def remove_expired(self) -> list[str]:
        """Delete the finished workflows whose ``ttlStrategy`` has expired; return their names."""
        expired = self.store.expired(time.time())
        for name in expired:
            self.store.delete(name)
        return expired

    def _runner_pid(self, name: str) -> int | None:
        try:
            return int(self.store.runner_file(name, "pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _signal_runner(self, name: str) -> None:
        from ..engine.watchdog import runner_alive  # noqa: PLC0415 - see the module's docstring

        pid = self._runner_pid(name)
        if pid is not None and runner_alive(self.store, name):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _ring_when_runner_exits(self, name: str, bell) -> None:
        """A daemon thread that blocks on the runner's lock and rings ``bell`` once the runner is gone."""
        from ..engine.watchdog import wait_for_runner  # noqa: PLC0415 - see the module's docstring

        def watch() -> None:
            wait_for_runner(self.store, name)
            bell.ring()

        threading.Thread(target=watch, name=f"watch-{name}", daemon=True).start()
