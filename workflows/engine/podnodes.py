"""The nodes of pod templates: ``container`` and ``script`` pods, with their init containers and sidecars,
and container sets (a pod node with a ``Container`` child per container).

Each pod runs in a sandbox of its own (:func:`.pod.run_pod_node`) under the
workflow's ``parallelism`` and the runner's room for pods (:mod:`.capacity`),
and ends ``Failed`` past its ``timeout`` or ``activeDeadlineSeconds``. Its
output parameters and artifacts with a ``globalName`` become the workflow's
outputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, Awaitable

from ..config import default_image
from ..durations import duration_seconds
from ..vocabulary import FAILED_OR_ERROR
from .capacity import UNSCHEDULABLE_MESSAGE
from .containerset import MAIN, collector_template, container_template, merged_outputs, sidecar_template
from .lang.templating import TemplateError, substitute
from .pod import PodEnd, run_pod_node
from .processgroups import process_group
from .scope import Scope
from .timeouts import within

if TYPE_CHECKING:
    from .execution import WorkflowExecution

#: The message of a pod that ran past its deadline, as Argo's.
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def _pod_node(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str, display: str,
              parent: str | None, boundary: str | None) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Create a pod's node (``Pending``) and resolve its template in ``scope``: ``(node id, resolved template,
    None)``, or ``(node id, {}, the node)`` once it ended ``Error`` on a reference that does not resolve."""
    node_id = execution.nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary,
                                     phase="Pending")["id"]
    try:
        resolved = substitute({key: value for key, value in template.items() if key != "name"}, scope,
                              strict=False)
    except TemplateError as error:
        return node_id, {}, execution.nodes.update(node_id, phase="Error", message=str(error))
    resolved["name"] = template["name"]
    return node_id, resolved, None


@asynccontextmanager
async def _scheduled(execution: WorkflowExecution, node_id: str) -> AsyncIterator[None]:
    """Hold the pod's place while it runs: one of the workflow's ``parallelism`` when it sets one, then one of the
    runner's pod slots (:mod:`.capacity`). A pod that waits for a slot says why, as a pod the scheduler could not
    place does on Kubernetes; inside, the node is ``Running``."""
    async with AsyncExitStack() as stack:
        if execution.pod_slots is not None:
            await stack.enter_async_context(execution.pod_slots)
        if execution.node_slots.locked():
            execution.nodes.update(node_id, message=UNSCHEDULABLE_MESSAGE)
        await stack.enter_async_context(execution.node_slots)
        node = execution.nodes.update(node_id, phase="Running")
        node.pop("message", None)  # why it waited, if it did: no longer true
        yield


async def run_pod(execution: WorkflowExecution, template: dict[str, Any], kind: str, scope: Scope,
                  artifacts: dict[str, str], raw: dict[str, str], name: str, display: str, parent: str | None,
                  boundary: str | None) -> dict[str, Any]:
    """A ``container`` or ``script`` template (``kind``): its init containers, then its main container with its
    sidecars around it; return its node."""
    nodes = execution.nodes
    node_id, resolved, failed = _pod_node(execution, template, scope, name, display, parent, boundary)
    if failed is not None:
        return failed
    async with _scheduled(execution, node_id):
        failed_init = await _init_containers(execution, resolved, kind, node_id)
        if failed_init is not None:
            return nodes.update(node_id, phase=failed_init.phase, message=failed_init.message)
        sidecars = _start_sidecars(execution, resolved, kind, node_id)
        try:
            end = await within(
                run_pod_node(kind, resolved, execution.spec, execution.volume_dirs, artifacts, raw, node_id,
                             execution.directory / "nodes" / node_id, execution.logs / f"{node_id}.log",
                             execution.directory / "artifacts",
                             on_start=lambda pid: nodes.set_group(node_id, process_group(pid)),
                             on_output=execution.mark_printed),
                pod_timeout(resolved))
        except asyncio.TimeoutError:
            return nodes.update(node_id, phase="Failed", message=DEADLINE_MESSAGE)
        finally:
            nodes.set_group(node_id, None)
            for sidecar in sidecars:  # Argo kills the sidecars once the main container has ended
                sidecar.cancel()
            await asyncio.gather(*sidecars, return_exceptions=True)
        broken = next((future.result() for future in sidecars
                       if not future.cancelled() and future.exception() is None
                       and future.result().phase == "Error"), None)
        if broken is not None:  # a sidecar that could not even start (its exit status does not count)
            end = PodEnd("Error", f"sidecar: {broken.message}", end.outputs)
    _publish_globals(execution, end.outputs)
    return nodes.update(node_id, phase=end.phase, message=end.message, outputs=end.outputs)


def _publish_globals(execution: WorkflowExecution, outputs: dict[str, Any] | None) -> None:
    """A pod's output parameters and artifacts with a ``globalName`` become the workflow's."""
    for parameter in (outputs or {}).get("parameters") or []:
        if parameter.get("globalName"):
            execution.publish_parameter(parameter["globalName"], parameter["value"])
    for artifact in (outputs or {}).get("artifacts") or []:
        if artifact.get("globalName"):
            execution.globals[f"workflow.outputs.artifacts.{artifact['globalName']}"] = artifact["path"]


def _companion(execution: WorkflowExecution, template: dict[str, Any], kind: str, node_id: str,
               container: dict[str, Any], role: str) -> Awaitable[PodEnd]:
    """Run an init container or a sidecar of a pod (:func:`.containerset.sidecar_template`) in a sandbox of
    its own sharing the pod's volumes; its log is ``<node id>.<name>.log``."""
    node_dir = execution.directory / "nodes" / node_id
    empty_dirs = {volume["name"]: node_dir / "emptydir" / volume["name"]
                  for volume in execution.spec.get("volumes") or [] if "emptyDir" in volume}
    return run_pod_node(
        "container", sidecar_template(template, kind, container), execution.spec,
        {**empty_dirs, **execution.volume_dirs}, {}, {}, f"{node_id}-{container['name']}",
        node_dir / role / container["name"], execution.logs / f"{node_id}.{container['name']}.log",
        execution.directory / "artifacts", on_start=lambda pid: None, on_output=execution.mark_printed)


async def _init_containers(execution: WorkflowExecution, template: dict[str, Any], kind: str, node_id: str
                           ) -> PodEnd | None:
    """Run the pod's init containers one after the other; how the first that did not succeed ended, or None."""
    for container in template.get("initContainers") or []:
        end = await _companion(execution, template, kind, node_id, container, "init")
        if end.phase != "Succeeded":
            return PodEnd(end.phase, f"init container {container['name']!r}: {end.message}")
    return None


def _start_sidecars(execution: WorkflowExecution, template: dict[str, Any], kind: str, node_id: str
                    ) -> list[asyncio.Future]:
    """Start the pod's sidecars, which run until the main container has ended."""
    return [asyncio.ensure_future(_companion(execution, template, kind, node_id, sidecar, "sidecars"))
            for sidecar in template.get("sidecars") or []]


async def run_container_set(execution: WorkflowExecution, template: dict[str, Any], scope: Scope,
                            artifacts: dict[str, str], raw: dict[str, str], name: str, display: str,
                            parent: str | None, boundary: str | None) -> dict[str, Any]:
    """A container set (:mod:`.containerset`): one pod node, a ``Container`` child node per container."""
    nodes = execution.nodes
    node_id, resolved, failed = _pod_node(execution, template, scope, name, display, parent, boundary)
    if failed is not None:
        return failed
    node_dir = execution.directory / "nodes" / node_id
    own_volumes = resolved.get("volumes") or []
    volume_dirs = {**execution.volume_dirs, **{volume["name"]: node_dir / "emptydir" / volume["name"]
                                               for volume in own_volumes}}
    containers = resolved["containerSet"]["containers"]
    finished = {container["name"]: asyncio.Event() for container in containers}
    ends: dict[str, PodEnd] = {}

    async def run(container: dict[str, Any]) -> None:
        container_name = container["name"]
        for dependency in container.get("dependencies") or []:
            await finished[dependency].wait()
        child = nodes.create(f"{name}.{container_name}", container_name, "Container", template["name"],
                             parent=node_id, boundary=boundary, phase="Running")
        unmet = [dep for dep in container.get("dependencies") or [] if ends[dep].phase != "Succeeded"]
        if unmet:
            ends[container_name] = PodEnd("Omitted", f"dependency {unmet[0]!r} did not succeed")
        else:
            child_id = child["id"]
            ends[container_name] = await run_pod_node(
                "container", container_template(resolved, container), execution.spec, volume_dirs, artifacts, raw,
                child_id, node_dir / "containers" / container_name, execution.logs / f"{child_id}.log",
                execution.directory / "artifacts", on_start=lambda pid: nodes.set_group(child_id, process_group(pid)),
                on_output=execution.mark_printed)
            nodes.set_group(child_id, None)
        end = ends[container_name]
        nodes.update(child["id"], phase=end.phase, message=end.message, outputs=end.outputs)
        finished[container_name].set()

    async def run_set() -> PodEnd:
        await asyncio.gather(*(run(container) for container in containers))
        failed = next(((container_name, end) for container_name, end in ends.items()
                       if end.phase in FAILED_OR_ERROR), None)
        if failed is not None:
            container_name, end = failed
            return PodEnd(end.phase, f"container {container_name}: {end.message}")
        outputs = (ends.get(MAIN) or PodEnd("Succeeded")).outputs or {}
        collector = collector_template(resolved, default_image())
        if collector is None:
            return PodEnd("Succeeded", None, outputs)
        collected = await run_pod_node(  # as Argo's wait container, once every container ended
            "script", collector, execution.spec, volume_dirs, {}, {}, node_id, node_dir / "wait",
            execution.logs / f"{node_id}.wait.log", execution.directory / "artifacts",
            on_start=lambda pid: nodes.set_group(node_id, process_group(pid)), on_output=execution.mark_printed)
        nodes.set_group(node_id, None)
        merged = merged_outputs(resolved, outputs, collected.outputs or {})
        return PodEnd(collected.phase, collected.message, merged)

    async with _scheduled(execution, node_id):
        try:
            end = await within(run_set(), pod_timeout(resolved))
        except asyncio.TimeoutError:
            return nodes.update(node_id, phase="Failed", message=DEADLINE_MESSAGE)
    _publish_globals(execution, end.outputs)
    return nodes.update(node_id, phase=end.phase, message=end.message, outputs=end.outputs)


def pod_timeout(template: dict[str, Any]) -> float | None:
    """Seconds a pod may run: the smaller of its ``timeout`` and ``activeDeadlineSeconds``, or None."""
    limits = [duration_seconds(template[key]) for key in ("timeout", "activeDeadlineSeconds") if template.get(key)]
    return min(limits) if limits else None
