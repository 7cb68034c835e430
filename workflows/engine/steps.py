"""Steps templates: step groups one after the other, the steps of a group in parallel (Argo's ``steps.go``).

A ``Steps`` node has a ``StepGroup`` child per group, linked in order. A group
fails once one of its steps failed or errored without ``continueOn``; the
steps template then stops and ends ``Failed``, as Argo's does.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..vocabulary import FAILED_OR_ERROR
from .children import FailFast, continues, loop_or_single, parallelism, remember
from .outputs import template_outputs
from .scope import Scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution


async def run_steps(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str, display: str,
                    parent: str | None, boundary: str | None) -> dict[str, Any]:
    """Run a steps template's groups in order; return its ``Steps`` node with the template's outputs."""
    nodes = execution.nodes
    node = nodes.create(name, display, "Steps", template["name"], parent=parent, boundary=boundary)
    node_id = node["id"]
    local = dict(scope)
    limit = parallelism(template)
    stop = FailFast(template)
    outbound = [node_id]
    phase, message = "Succeeded", None
    for index, group in enumerate(template["steps"] or []):
        group_name = f"{name}[{index}]"
        group_node = nodes.create(group_name, f"[{index}]", "StepGroup", template["name"], parent=None,
                                  boundary=node_id)
        for upstream in outbound:
            nodes.link(upstream, group_node["id"])
        runs = [loop_or_single(execution, step, local, f"{group_name}.{step['name']}", [group_node["id"]], node_id,
                               limit, stop, task_group=False) for step in group or []]
        results = await asyncio.gather(*runs)
        outbound, group_failed = [], None
        if stop.stopped:
            nodes.update(group_node["id"], phase="Failed", message=stop.message)
            phase, message = "Failed", stop.message
            break
        for step, (step_node, children) in zip(group or [], results):
            remember(execution, local, f"steps.{step['name']}", step, step_node, children, include_artifacts=True)
            outbound += [child["id"] for child in children] if children else [step_node["id"]]
            if step_node["phase"] in FAILED_OR_ERROR and not continues(step, step_node["phase"]):
                group_failed = group_failed or step_node
        if group_failed:  # Argo (steps.go): the group and the steps are Failed, whether the child failed or errored
            phase, message = "Failed", f"child '{group_failed['id']}' failed"
            nodes.update(group_node["id"], phase=phase, message=message)
            break
        nodes.update(group_node["id"], phase="Succeeded")
    outputs, problem = template_outputs(execution, template, local)
    if problem:
        phase, message = "Error", problem
    return nodes.update(node_id, phase=phase, message=message, outputs=outputs)
