"""DAG templates: tasks run as their ``dependencies``/``depends`` allow (Argo's ``dag.go``).

Only the ``target`` tasks and what they depend on run (all tasks without a
target). A task whose ``depends`` expression (:mod:`workflows.depends`) is
false once its dependencies ended is ``Omitted``. The DAG's phase is Argo's
``assessDAGPhase``: each target's branch decides; the template's ``failFast``
stops new tasks once one failed (:class:`.children.FailFast`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from ..vocabulary import COMPLETED_PHASES as COMPLETED, FAILED_OR_ERROR
from .children import FailFast, continues, loop_or_single, parallelism, remember
from .lang.templating import TemplateError, substitute
from .outputs import template_outputs
from .scope import Scope

if TYPE_CHECKING:  # the depends parser loads with the first DAG (a runner of steps starts without it)
    from ..depends import DependsExpression, TaskOutcome
    from .execution import WorkflowExecution


async def run_dag(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str, display: str,
                  parent: str | None, boundary: str | None) -> dict[str, Any]:
    """Run a DAG template's tasks as their dependencies allow; return its ``DAG`` node with its outputs."""
    nodes = execution.nodes
    node = nodes.create(name, display, "DAG", template["name"], parent=parent, boundary=boundary)
    node_id = node["id"]
    execution.dag_ids.add(node_id)
    dag = template["dag"]
    tasks = {task["name"]: task for task in dag.get("tasks") or []}
    expressions = {task_name: _depends_of(task, tasks) for task_name, task in tasks.items()}
    upstream = {task_name: set(expression.tasks) if expression else set()
                for task_name, expression in expressions.items()}
    dependents: dict[str, list[str]] = {task_name: [] for task_name in tasks}
    for task_name, deps in upstream.items():
        for dep in deps:
            dependents[dep].append(task_name)
    try:
        target = substitute(str(dag.get("target") or ""), scope, strict=False)
    except TemplateError as error:
        return nodes.update(node_id, phase="Error", message=f"dag.target: {error}")
    targets = target.split() or [t for t in tasks if not dependents[t]]
    unknown = [t for t in targets if t not in tasks]
    if unknown:
        return nodes.update(node_id, phase="Error", message=f"dag.target: no task named {unknown[0]!r}")
    # Only the targets and what they depend on run (all tasks when there is no target).
    needed = _ancestors_and_self(targets, upstream)
    tasks = {name: task for name, task in tasks.items() if name in needed}
    limit = parallelism(template)
    local = dict(scope)
    finished: dict[str, dict[str, Any]] = {}
    children_of: dict[str, list[dict[str, Any]] | None] = {}
    running: dict[asyncio.Future, str] = {}
    waiting = {task_name: len(upstream[task_name]) for task_name in tasks}
    ready = deque(task_name for task_name, count in waiting.items() if count == 0)
    stop = FailFast(template)

    def finish(task_name: str, task_node: dict[str, Any]) -> None:
        finished[task_name] = task_node
        for dependent in dependents[task_name]:
            if dependent not in waiting:
                continue
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)

    while True:
        while ready and not stop.stopped:
            task_name = ready.popleft()
            expression = expressions[task_name]
            if expression is not None and not expression.evaluate(
                    {dep: _outcome(finished[dep], children_of.get(dep)) for dep in upstream[task_name]}):
                omitted = _omitted_node(execution, name, task_name, node_id, upstream[task_name], finished)
                remember(execution, local, f"tasks.{task_name}", tasks[task_name], omitted, None,
                         include_artifacts=False)
                finish(task_name, omitted)
                continue
            future = asyncio.ensure_future(loop_or_single(
                execution, tasks[task_name], local, f"{name}.{task_name}",
                _dag_parents(node_id, upstream[task_name], finished), node_id, limit, stop, task_group=True))
            running[future] = task_name
        if not running:  # nothing runs and nothing more can start
            break
        try:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # stopped: stop the tasks too (their pods are killed)
            for future in running:
                future.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        for future in done:
            task_name = running.pop(future)
            task_node, children = future.result()
            if task_node is None:  # not started: the template fails fast
                continue
            children_of[task_name] = children
            remember(execution, local, f"tasks.{task_name}", tasks[task_name], task_node, children,
                     include_artifacts=False)
            finish(task_name, task_node)
    phase = "Failed" if stop.stopped else _dag_phase(targets, tasks, upstream, finished)
    message = stop.message if stop.stopped else None
    outputs = None
    if phase == "Succeeded":
        outputs, problem = template_outputs(execution, template, local)
        if problem:
            phase, message = "Error", problem
    elif message is None:
        failed = next((n for n in finished.values() if n["phase"] in FAILED_OR_ERROR), None)
        message = f"child '{failed['id']}' {failed['phase'].lower()}" if failed else None
    return nodes.update(node_id, phase=phase, message=message, outputs=outputs)


def _omitted_node(execution: WorkflowExecution, dag_name: str, task_name: str, dag_id: str, upstream: set[str],
                  finished: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``Omitted`` node of a task whose ``depends`` condition is not met, below its dependencies."""
    nodes = execution.nodes
    node = nodes.create(f"{dag_name}.{task_name}", task_name, "Skipped", None, parent=None, boundary=dag_id,
                        phase="Omitted", message="omitted: depends condition not met")
    for parent in _dag_parents(dag_id, upstream, finished):
        nodes.link(parent, node["id"])
    return node


def _ancestors_and_self(names: list[str], upstream: dict[str, set[str]]) -> set[str]:
    """``names`` and every task they depend on, directly or not."""
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(upstream.get(name, ()))
    return seen


def _dag_parents(dag_id: str, upstream: set[str], finished: dict[str, dict[str, Any]]) -> list[str]:
    """Argo links a DAG task below the DAG node (no dependencies) or below each of its dependencies."""
    return [finished[dep]["id"] for dep in sorted(upstream)] or [dag_id]


def _depends_of(task: dict[str, Any], tasks: dict[str, dict[str, Any]]) -> DependsExpression | None:
    """The task's ``depends`` expression; ``dependencies: [a]`` means ``a`` succeeded, skipped or daemoned,
    widened by the dependency's own ``continueOn`` (Argo's ``expandDependency``)."""
    from ..depends import parse_depends  # noqa: PLC0415 - see TYPE_CHECKING above

    if task.get("depends"):
        return parse_depends(task["depends"])
    dependencies = task.get("dependencies") or []
    if not dependencies:
        return None
    terms = []
    for dependency in dependencies:
        results = ["Succeeded", "Skipped", "Daemoned"]
        continue_on = tasks.get(dependency, {}).get("continueOn") or {}
        if continue_on.get("failed"):
            results.append("Failed")
        if continue_on.get("error"):
            results.append("Errored")
        terms.append("(" + " || ".join(f"{dependency}.{result}" for result in results) + ")")
    return parse_depends(" && ".join(terms))


def _outcome(node: dict[str, Any], children: list[dict[str, Any]] | None) -> TaskOutcome:
    """How a finished task ended, as its dependents' ``depends`` expressions see it."""
    from ..depends import TaskOutcome  # noqa: PLC0415 - see TYPE_CHECKING above

    return TaskOutcome(node["phase"], children=tuple(child["phase"] for child in children) if children else None)


def _dag_phase(targets: list[str], tasks: dict[str, dict[str, Any]], upstream: dict[str, set[str]],
               finished: dict[str, dict[str, Any]]) -> str:
    """Argo's ``assessDAGPhase``: each target's branch phase decides; an omitted task inherits its parents'."""
    branch: dict[str, str] = {}

    def branch_phase(task_name: str) -> str:
        if task_name in branch:
            return branch[task_name]
        node = finished.get(task_name)
        if node is not None and node["phase"] in COMPLETED:
            phase = node["phase"]
        else:
            parents = [branch_phase(dep) for dep in upstream[task_name]] or ["Succeeded"]
            phase = next((p for p in parents if p in FAILED_OR_ERROR), "Succeeded")
            if node is None:
                phase = phase if phase in FAILED_OR_ERROR else ""
        branch[task_name] = phase
        return phase

    for target in targets:
        phase = branch_phase(target)
        if phase in FAILED_OR_ERROR and not continues(tasks[target], phase):
            return phase
    return "Succeeded"
