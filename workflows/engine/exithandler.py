"""Exit handlers: the workflow's ``spec.onExit``, and a step's or DAG task's exit hook.

The workflow's handler runs once the entrypoint ended (or was stopped), as a
node ``<workflow>.onExit`` with ``workflow.status`` and ``workflow.failures``
(Argo's ``exit_handler.go`` and ``operator.go``). A step's or task's
``hooks.exit`` (or its older ``onExit``) runs after it, as a child of its node
named ``<node>.onExit``, seeing the node as ``steps.<name>``/``tasks.<name>``
and its phase as ``workflow.status``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..vocabulary import FAILED_OR_ERROR
from .scope import Scope, node_scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution


async def run_workflow_exit_handler(execution: WorkflowExecution, status: str) -> dict[str, Any] | None:
    """Run ``spec.onExit`` with ``workflow.status`` and ``workflow.failures``; return its node (None without)."""
    handler = execution.spec.get("onExit")
    if not handler:
        return None
    execution.globals["workflow.status"] = status
    execution.globals["workflow.failures"] = json.dumps(failures(execution))
    name = f"{execution.name}.onExit"
    return await execution.invoke({"template": handler}, execution.globals, name, name, parent=None, boundary=None)


def failures(execution: WorkflowExecution) -> list[dict[str, Any]]:
    """``workflow.failures``: the failed pods, as Argo lists them."""
    return [
        {"displayName": node["displayName"], "message": node.get("message", ""),
         "templateName": node.get("templateName", ""), "phase": node["phase"], "podName": node["id"],
         "finishedAt": node.get("finishedAt", "")}
        for node in execution.nodes.nodes.values()
        if node["type"] == "Pod" and node["phase"] in FAILED_OR_ERROR
    ]


async def run_exit_hook(execution: WorkflowExecution, holder: dict[str, Any], node: dict[str, Any], scope: Scope,
                        name: str, display: str, boundary: str) -> None:
    """Run the exit hook of the step or task ``holder`` (if it has one) once its node ``node`` ended."""
    hook = (holder.get("hooks") or {}).get("exit") or ({"template": holder["onExit"]} if holder.get("onExit") else None)
    if not hook:
        return
    prefix = "tasks" if boundary in execution.dag_ids else "steps"
    exit_scope = {**scope, **node_scope(f"{prefix}.{holder['name']}", node), "workflow.status": node["phase"]}
    await execution.invoke(hook, exit_scope, f"{name}.onExit", f"{display}.onExit", parent=node["id"],
                           boundary=boundary)
