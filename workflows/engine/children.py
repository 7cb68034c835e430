"""One step of a steps template or one task of a DAG: ``when``, loops, parallelism, ``failFast``, exit hook.

Shared by :mod:`.steps` and :mod:`.dag` (Argo's ``steps.go`` and ``dag.go``
both expand a step or task into its loop's children, evaluate its ``when``,
run it through ``executeTemplate`` and then its exit hook).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ..vocabulary import FAILED_OR_ERROR
from .exithandler import run_exit_hook
from .lang.govaluate import evaluate_when
from .lang.templating import TemplateError, substitute
from .loops import expand_loop, item_scope, loop_node_name
from .scope import Scope, aggregate_scope, node_scope
from .skipped import skipped_outputs_scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution

#: References a step or task must resolve before it runs (Argo's ``ReplaceStrictAny``).
NODE_REFERENCES = ("steps", "tasks")


class FailFast:
    """A steps or DAG template's own ``failFast``: once a child failed, no further child starts."""

    message = "template has failed or errored children and failFast enabled"

    def __init__(self, template: dict[str, Any]) -> None:
        self.enabled = bool(template.get("failFast"))
        self.stopped = False

    def record(self, node: dict[str, Any]) -> None:
        """Note a finished child."""
        if self.enabled and node["phase"] in FAILED_OR_ERROR:
            self.stopped = True


def parallelism(holder: dict[str, Any]) -> asyncio.Semaphore | None:
    """The limit ``parallelism`` sets on what runs at once, or None: a steps or DAG template's on its children,
    the workflow spec's on its pods."""
    return asyncio.Semaphore(int(holder["parallelism"])) if holder.get("parallelism") else None


def remember(execution: WorkflowExecution, local: Scope, reference: str, holder: dict[str, Any],
             node: dict[str, Any], children: list[dict[str, Any]] | None, *, include_artifacts: bool) -> None:
    """Add to ``local`` what later steps or tasks may reference of one that ended: ``reference``
    (``steps.<name>``/``tasks.<name>``) and, when it looped, the aggregate of its ``children``."""
    local.update(node_scope(reference, node))
    local.update(skipped_outputs_scope(reference, node, execution.template_of(holder),
                                       include_artifacts=include_artifacts))
    if children is not None:
        local.update(aggregate_scope(reference, children))


def continues(holder: dict[str, Any], phase: str) -> bool:
    """Whether a step's or task's ``continueOn`` lets the flow go on after ``phase``."""
    continue_on = holder.get("continueOn") or {}
    return bool(continue_on.get("failed") if phase == "Failed" else continue_on.get("error"))


async def loop_or_single(execution: WorkflowExecution, holder: dict[str, Any], scope: Scope, name: str,
                         parents: list[str], boundary: str, limit: asyncio.Semaphore | None, stop: FailFast, *,
                         task_group: bool) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """A step or DAG task: one run, or one child per loop item, and the children when it looped.

    Argo puts a looped step's children straight into its step group, and a looped DAG task's
    children below a ``TaskGroup`` node (``task_group``).
    """
    nodes = execution.nodes
    try:
        items = expand_loop(holder, lambda value: substitute(value, scope, strict=False,
                                                             strict_prefixes=NODE_REFERENCES))
    except TemplateError as error:
        for parent in parents:
            nodes.link(parent, nodes.node_id(name))
        return nodes.create(name, holder["name"], "Skipped", None, parent=None, boundary=boundary,
                            phase="Error", message=str(error)), None
    if items is None:
        return await guarded(execution, holder, scope, name, holder["name"], parents, boundary, limit, stop), None
    if task_group:
        group = nodes.create(name, holder["name"], "TaskGroup", None, parent=None, boundary=boundary)
        for parent in parents:
            nodes.link(parent, group["id"])
        parents = [group["id"]]
    children = [child for child in await asyncio.gather(*[
        guarded(execution, holder, {**scope, **item_scope(item)}, loop_node_name(name, index, item),
                loop_node_name(holder["name"], index, item), parents, boundary, limit, stop)
        for index, item in enumerate(items)
    ]) if child is not None]
    phase = next((child["phase"] for child in children if child["phase"] in FAILED_OR_ERROR), "Succeeded")
    if task_group:
        return nodes.update(group["id"], phase=phase), children
    return {"id": nodes.node_id(name), "phase": phase, "type": "StepGroup", "outputs": None}, children


async def guarded(execution: WorkflowExecution, holder: dict[str, Any], scope: Scope, name: str, display: str,
                  parents: list[str], boundary: str, limit: asyncio.Semaphore | None, stop: FailFast
                  ) -> dict[str, Any] | None:
    """Evaluate ``when``, then invoke under the template's parallelism limit and run the step's exit hook.

    The node becomes a child of each of ``parents``. Returns ``None`` (no node) when the
    template's ``failFast`` stopped it from starting.
    """
    nodes = execution.nodes

    def attach() -> None:
        for parent in parents:
            nodes.link(parent, nodes.node_id(name))

    condition = holder.get("when")
    if condition:
        try:
            run = evaluate_when(substitute(condition, scope, strict=False, strict_prefixes=NODE_REFERENCES))
        except TemplateError as error:
            attach()
            return nodes.create(name, display, "Skipped", None, parent=None, boundary=boundary,
                                phase="Error", message=str(error))
        if not run:
            attach()
            return nodes.create(name, display, "Skipped", None, parent=None, boundary=boundary,
                                phase="Skipped", message=f"when '{condition}' evaluated false")
    async with AsyncExitStack() as stack:
        if limit is not None:
            await stack.enter_async_context(limit)
        if stop.stopped:
            return None
        attach()
        node = await execution.invoke(holder, scope, name, display, parent=None, boundary=boundary)
    stop.record(node)
    await run_exit_hook(execution, holder, node, scope, name, display, boundary)
    return node
