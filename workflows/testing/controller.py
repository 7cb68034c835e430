"""The fake cluster's workflow controller: runs workflows with the local engine and writes Argo's status back.

Each namespace has its own local-engine state folder. A workflow runs in a thread
that submits it to :class:`~workflows.backends.local.LocalBackend` and follows it
with the backend's watch (no polling); every change becomes the workflow's
``status`` (phase, nodes), its ``workflows.argoproj.io/phase`` and ``completed``
labels, and one pod per ``Pod`` node, as Argo's controller writes them.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..argo import WorkflowNotFound
from ..backends.local import LocalBackend
from ..engine.nodes import fnv1a32
from ..engine.run import STOP_MESSAGE, TERMINATE_MESSAGE
from ..engine.store import Store
from ..vocabulary import COMPLETED_PHASES
from ..errors import WorkflowsError
from ..timestamps import timestamp
from .api import PODS, WORKFLOWS, ApiError
from .collector import GarbageCollector
from .resources import ResourceStore
from .service import COMPLETED_LABEL, NODE_ID_ANNOTATION, NODE_NAME_ANNOTATION, PHASE_LABEL, WORKFLOW_LABEL

log = logging.getLogger(__name__)

#: Argo's limit on the prefix of a pod name (``maxK8sResourceNameLength - k8sNamingHashLength - 1``).
POD_NAME_PREFIX_LIMIT = 253 - 10 - 1
POD_PHASES = {"Pending": "Pending", "Running": "Running", "Succeeded": "Succeeded", "Failed": "Failed",
              "Error": "Failed"}
#: The image of Argo's ``wait`` sidecar, shown in fake pods.
EXECUTOR_IMAGE = "quay.io/argoproj/argoexec:latest"


def _wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` has exited (through a pidfd: no polling); at once if it is gone."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        waiting = select.poll()  # not select(): the descriptor may be above FD_SETSIZE in a busy process
        waiting.register(pidfd, select.POLLIN)
        waiting.poll()
    finally:
        os.close(pidfd)


def argo_pod_name(workflow: str, node_name: str, template_name: str) -> str:
    """The pod name Argo (pod names v2, its default) gives the pod of a node."""
    if workflow == node_name:
        return workflow
    prefix = f"{workflow}-{template_name}" if template_name else workflow
    return f"{prefix[:POD_NAME_PREFIX_LIMIT]}-{fnv1a32(node_name)}"


@dataclass
class ControllerOptions:
    """What the controller does with new workflows (read at each creation)."""

    enabled: bool = True
    hold: bool = False
    end_phase: str | None = None


@dataclass
class _Run:
    """A workflow the local engine runs: its thread, and whether the cluster still follows it."""

    thread: threading.Thread
    submitted: threading.Event = field(default_factory=threading.Event)
    followed: bool = True


class LocalController:
    """Runs the fake cluster's workflows with the local engine (or holds or ends them as its options say)."""

    def __init__(self, store: ResourceStore, state_dir: Path, options: Callable[[], ControllerOptions],
                 collector: GarbageCollector) -> None:
        self.store = store
        self.collector = collector
        self.state_dir = state_dir
        self.options = options
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str], _Run] = {}
        self._held: set[tuple[str, str]] = set()
        self._pods: set[tuple[str, str]] = set()  # every pod made, so that none is made twice

    def _backend(self, namespace: str) -> LocalBackend:
        return LocalBackend(Store(self.state_dir / namespace))

    # --- the Controller protocol -----------------------------------------------------------------------------------

    def created(self, namespace: str, name: str) -> None:
        """Start, hold or end the new workflow, as the options say."""
        options = self.options()
        if not options.enabled:
            return
        if options.end_phase:
            self._write_status(namespace, name, {"phase": "Running", "startedAt": timestamp()})
            self.finish(namespace, name, options.end_phase)
        elif options.hold:
            with self._lock:
                self._held.add((namespace, name))
            self._write_status(namespace, name, {"phase": "Pending"})
        else:
            self._start(namespace, name)

    def shutdown(self, namespace: str, name: str, strategy: str) -> None:
        """Stop (exit handlers run) or terminate the local run; a held workflow ends ``Failed`` at once."""
        key = (namespace, name)
        with self._lock:
            run = self._runs.get(key)
            held = key in self._held
            self._held.discard(key)
        if held:
            self.finish(namespace, name, "Failed", TERMINATE_MESSAGE if strategy == "Terminate" else STOP_MESSAGE)
        elif run is not None and run.followed:
            self._stop_local(namespace, run, name, strategy)

    def _stop_local(self, namespace: str, run: _Run, name: str, strategy: str) -> None:
        run.submitted.wait()
        backend = self._backend(namespace)
        try:
            (backend.terminate if strategy == "Terminate" else backend.stop)(name)
        except WorkflowNotFound:
            pass
        finally:
            backend.store.close()

    def deleted(self, namespace: str, name: str) -> None:
        """Terminate the local run and remove its state."""
        key = (namespace, name)
        with self._lock:
            run = self._runs.get(key)
            self._held.discard(key)
        if run is None:
            return
        run.followed = False
        run.submitted.wait()
        backend = self._backend(namespace)
        try:
            backend.delete(name)
        except WorkflowNotFound:
            pass
        finally:
            backend.store.close()

    def pod_log(self, namespace: str, pod: dict[str, Any]) -> str:
        """What the pod's node printed, from the local engine's log file."""
        workflow = pod["metadata"]["labels"][WORKFLOW_LABEL]
        node_id = pod["metadata"]["annotations"][NODE_ID_ANNOTATION]
        path = self.state_dir / namespace / "workflows" / workflow / "logs" / f"{node_id}.log"
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- test controls ---------------------------------------------------------------------------------------------

    def release(self, namespace: str, name: str) -> None:
        """Start a held workflow."""
        with self._lock:
            if (namespace, name) not in self._held:
                raise ValueError(f"workflow {namespace}/{name} is not held")
            self._held.discard((namespace, name))
        self._start(namespace, name)

    def finish(self, namespace: str, name: str, phase: str, message: str | None = None) -> None:
        """End the workflow now with ``phase``; a local run still going is stopped and no longer followed."""
        if phase not in COMPLETED_PHASES:
            raise ValueError(f"phase={phase!r}: expected one of {', '.join(COMPLETED_PHASES)}")
        if self.store.find(WORKFLOWS, namespace, name) is None:
            raise ValueError(f"workflow {namespace}/{name}: no such workflow")
        with self._lock:
            run = self._runs.get((namespace, name))
            self._held.discard((namespace, name))
        if run is not None and run.followed:
            run.followed = False
            self._stop_local(namespace, run, name, "Terminate")
        status = {"phase": phase, "finishedAt": timestamp()}
        if message:
            status["message"] = message
        self._write_status(namespace, name, status)

    def close(self) -> None:
        """Terminate every local run still going; wait for their runner processes and the threads following them."""
        with self._lock:
            runs = dict(self._runs)
        for (namespace, name), run in runs.items():
            if run.thread.is_alive():
                run.submitted.wait()
                runner = self._runner_pid(namespace, name)
                self.deleted(namespace, name)
                if runner is not None:
                    _wait_for_exit(runner)
        for run in runs.values():
            run.thread.join()

    def _runner_pid(self, namespace: str, name: str) -> int | None:
        backend = self._backend(namespace)
        try:
            return int(backend.store.runner_file(name, "pid").read_text())
        except (FileNotFoundError, ValueError):
            return None
        finally:
            backend.store.close()

    # --- running ---------------------------------------------------------------------------------------------------

    def _start(self, namespace: str, name: str) -> None:
        thread = threading.Thread(target=self._run, args=(namespace, name), name=f"fake-controller-{name}",
                                  daemon=True)
        with self._lock:
            self._runs[(namespace, name)] = run = _Run(thread)
        try:
            thread.start()
        except RuntimeError:
            run.submitted.set()
            raise

    def _run(self, namespace: str, name: str) -> None:
        run = self._runs[(namespace, name)]
        backend = self._backend(namespace)
        try:
            workflow = self.store.find(WORKFLOWS, namespace, name)
            if workflow is None:
                return
            manifest = {key: workflow[key] for key in ("apiVersion", "kind", "spec") if key in workflow}
            manifest["metadata"] = {key: workflow["metadata"][key] for key in ("name", "namespace", "labels",
                                    "annotations") if key in workflow["metadata"]}
            try:
                backend.submit(manifest)
            except WorkflowsError as error:
                self._write_status(namespace, name, {"phase": "Error", "message": str(error),
                                                     "startedAt": timestamp(), "finishedAt": timestamp()})
                return
            finally:
                run.submitted.set()
            for local in backend.watch(name, None):
                if run.followed:
                    self._sync(namespace, name, local)
        except WorkflowNotFound:
            pass  # deleted while it ran
        finally:
            run.submitted.set()
            backend.store.close()

    def _sync(self, namespace: str, name: str, local: dict[str, Any]) -> None:
        """Write the local run's status: the pods first (as Argo creates them before it records them), then it."""
        workflow = self.store.find(WORKFLOWS, namespace, name)
        if workflow is None:
            return
        status = local["status"]
        for node in (status.get("nodes") or {}).values():
            if node.get("type") == "Pod" and node.get("phase") in POD_PHASES:
                self._sync_pod(namespace, workflow, node, status["phase"] in COMPLETED_PHASES)
        self._write_status(namespace, name, status, replace=True)

    def _sync_pod(self, namespace: str, workflow: dict[str, Any], node: dict[str, Any], completed: bool) -> None:
        name = argo_pod_name(workflow["metadata"]["name"], node["name"], node.get("templateName", ""))
        labels = {WORKFLOW_LABEL: workflow["metadata"]["name"],
                  COMPLETED_LABEL: "true" if completed or node["phase"] in COMPLETED_PHASES else "false"}
        status = {"phase": POD_PHASES[node["phase"]], "startTime": node.get("startedAt")}
        previous: dict[str, Any] = {}

        def change(pod: dict[str, Any]) -> None:
            previous.update(pod["status"])
            pod["metadata"]["labels"].update(labels)
            pod["status"] = status

        try:
            self.store.update(PODS, namespace, name, change)
        except ApiError:
            if (namespace, name) in self._pods:
                return  # garbage-collected: not made again
            self._pods.add((namespace, name))
            self._create_pod(namespace, workflow, node, name, labels, status)
        if status["phase"] in ("Succeeded", "Failed") and previous.get("phase") != status["phase"]:
            self.collector.pod_finished(namespace, workflow, name, status["phase"])

    def _create_pod(self, namespace: str, workflow: dict[str, Any], node: dict[str, Any], name: str,
                    labels: dict[str, str], status: dict[str, Any]) -> None:
        templates = {template.get("name"): template for template in workflow["spec"].get("templates") or []}
        template = templates.get(node.get("templateName"), {})
        image = (template.get("container") or template.get("script") or {}).get("image", "")
        self.store.create(PODS, namespace, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "labels": labels,
                "annotations": {NODE_ID_ANNOTATION: node["id"], NODE_NAME_ANNOTATION: node["name"]},
                "ownerReferences": [{"apiVersion": WORKFLOWS.api_version, "kind": WORKFLOWS.kind,
                                     "name": workflow["metadata"]["name"], "uid": workflow["metadata"]["uid"],
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {"containers": [{"name": "wait", "image": EXECUTOR_IMAGE}, {"name": "main", "image": image}],
                     "restartPolicy": "Never"},
            "status": status,
        })

    def _write_status(self, namespace: str, name: str, status: dict[str, Any], replace: bool = False) -> None:
        """Set (or, with ``replace``, merge into) the workflow's status and its phase labels."""

        previous: dict[str, Any] = {}

        def change(workflow: dict[str, Any]) -> None:
            previous.update(workflow.get("status") or {})
            workflow["status"] = dict(status) if replace else {**previous, **status}
            labels = workflow["metadata"].setdefault("labels", {})
            labels[PHASE_LABEL] = workflow["status"]["phase"]
            labels[COMPLETED_LABEL] = "true" if workflow["status"]["phase"] in COMPLETED_PHASES else "false"

        try:
            updated = self.store.update(WORKFLOWS, namespace, name, change)
        except ApiError as error:
            log.debug("workflow %s/%s: status not written: %s", namespace, name, error)
            return
        if updated["status"]["phase"] in COMPLETED_PHASES and previous.get("phase") not in COMPLETED_PHASES:
            self.collector.workflow_finished(namespace, updated)
