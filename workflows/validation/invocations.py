"""Templates invoking templates: steps, DAG tasks, hooks and their arguments, like ``argo lint``.

:func:`check_template` is the entry point for one template: its own rules
(:mod:`.templates`), then its steps or DAG tasks, then the ``{{...}}``
references of its strings, each in the scope Argo resolves it in:

* a step sees the outputs of the steps of *earlier* step groups;
* a DAG task sees the outputs of the tasks it depends on, directly or not;
* a step or task sees its own status (and its outputs from its exit hook),
  and ``{{item...}}`` inside withItems, withParam or withSequence.

``argo lint`` is laxer on the first two points (it accepts a step of the same
group and any task of the DAG), but such references fail at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..graph import find_cycle
from ..vocabulary import RESULT_TYPES, template_type
from .access import entries, mapping, sequence, text
from .ancestry import ancestors, topological_order
from ..depends import DependsSyntaxError, parse_depends
from .problems import MISSING, child, item
from .templates import (
    SpecContext,
    check_names,
    check_template_rules,
    duplicate,
    has_location,
    is_reference,
    name_problem,
    template_scope,
)
from .variables import Resolver, Scope, check_value, item_scope

_NODE_BASICS = frozenset({"id", "startedAt", "finishedAt", "hostNodeName", "status"})
_ARGUMENT_SOURCES = ("configMapKeyRef", "event", "supplied")
_NOT_ARGUMENT_SOURCES = ("path", "jsonPath", "parameter", "expression")


def check_template(ctx: SpecContext, template: dict, path: str) -> None:
    """Check one template, its steps or DAG tasks and the references of its strings."""
    kind = check_template_rules(ctx, template, path)
    scope = template_scope(ctx, template, kind, path)
    if kind == "steps":
        check_value(template, scope, path, ctx.problems, skip=("steps", "outputs"))
        outputs_scope = _check_steps(ctx, template, path, scope)
    elif kind == "dag":
        check_value(template, scope, path, ctx.problems, skip=("dag", "outputs"))
        outputs_scope = _check_dag(ctx, template, path, scope)
    else:
        check_value(template, scope, path, ctx.problems)
        return
    check_value(template.get("outputs"), outputs_scope, child(path, "outputs"), ctx.problems)


def resolve_reference(ctx: SpecContext, holder: dict, path: str) -> tuple[dict | None, str]:
    """Check what the step, task or hook ``holder`` runs (template, templateRef or inline template).

    Returns the template when it is in this spec (``None`` otherwise) and a
    label naming it for messages.  Inline templates are checked here.
    """
    name = holder.get("template")
    ref = holder.get("templateRef")
    inline = holder.get("inline")
    given = [key for key, value in (("template", name), ("templateRef", ref), ("inline", inline)) if value is not None]
    if len(given) > 1:
        ctx.report(path, f"set only one of template, templateRef and inline (found {', '.join(given)})")
    if isinstance(inline, dict):
        check_template(ctx, inline, child(path, "inline"))
        return inline, "inline"
    if isinstance(ref, dict):
        for field in ("name", "template"):
            if not ref.get(field):
                ctx.report(child(child(path, "templateRef"), field), MISSING)
        return None, f"{text(ref.get('name'))}/{text(ref.get('template'))}"
    if isinstance(name, str) and name:
        if name in ctx.templates:
            return ctx.templates[name], name
        ctx.report(child(path, "template"), ctx.undefined_template(name))
        return None, name
    if not given:
        ctx.report(path, "set one of template, templateRef and inline")
    return None, ""


def check_arguments(ctx: SpecContext, arguments: object, path: str, *, allow_empty: bool) -> None:
    """Check arguments (of the workflow or of a step/task): names, values, valueFrom, enums, artifact sources.

    ``allow_empty`` accepts parameters without a value (workflow arguments,
    given at submission).
    """
    arguments = mapping(arguments)
    if not arguments:
        return
    parameters_path = child(path, "parameters")
    artifacts_path = child(path, "artifacts")
    check_names(ctx, arguments.get("parameters"), parameters_path, workflow_field=False)
    check_names(ctx, arguments.get("artifacts"), artifacts_path, workflow_field=False)
    for index, parameter in entries(arguments.get("parameters")):
        _check_argument_parameter(ctx, parameter, item(parameters_path, index), allow_empty)
    for index, artifact in entries(arguments.get("artifacts")):
        artifact_path = item(artifacts_path, index)
        if artifact.get("from") and artifact.get("fromExpression"):
            ctx.report(artifact_path, "set either from or fromExpression, not both")
        elif not artifact.get("from") and not has_location(artifact):
            ctx.report(artifact_path, "an argument artifact needs 'from' or a location (s3, http, git, raw...)")


def _check_argument_parameter(ctx: SpecContext, parameter: dict, path: str, allow_empty: bool) -> None:
    value = parameter.get("value")
    value_from = parameter.get("valueFrom")
    if value is None and value_from is None and not allow_empty:
        ctx.report(path, "a value or valueFrom is required")
    if isinstance(value_from, dict) and (
        not any(value_from.get(source) is not None for source in _ARGUMENT_SOURCES)
        or any(value_from.get(source) for source in _NOT_ARGUMENT_SOURCES)
    ):
        ctx.report(
            child(path, "valueFrom"), "in arguments, valueFrom only allows configMapKeyRef, event, supplied and default"
        )
    enum = parameter.get("enum")
    if not isinstance(enum, list):
        return
    if not enum:
        ctx.report(child(path, "enum"), "an enum needs at least one value")
    elif value is not None and any_string(value) not in {any_string(choice) for choice in enum}:
        ctx.report(child(path, "value"), f"{any_string(value)!r} is not one of the enum values {enum}")


def any_string(value: object) -> str:
    """Return ``value`` as Argo's ``AnyString`` reads it (numbers and booleans as text, anything else empty)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    return ""


def check_supplied(ctx: SpecContext, template: dict, label: str, arguments: object, path: str) -> None:
    """Report the inputs of ``template`` that have no default and that ``arguments`` (at ``path``) does not give."""
    inputs = mapping(template.get("inputs"))
    arguments = mapping(arguments)
    given = {text(parameter.get("name")) for _, parameter in entries(arguments.get("parameters"))}
    for _, parameter in entries(inputs.get("parameters")):
        name = parameter.get("name")
        defaulted = any(parameter.get(key) is not None for key in ("value", "default", "valueFrom"))
        if isinstance(name, str) and name and not defaulted and name not in given:
            ctx.report(path, f"input parameter {name!r} of template {label!r} is not supplied and has no default")
    given = {text(artifact.get("name")) for _, artifact in entries(arguments.get("artifacts"))}
    for _, artifact in entries(inputs.get("artifacts")):
        name = artifact.get("name")
        if not isinstance(name, str) or not name:
            continue
        if artifact.get("optional") is not True and not has_location(artifact) and name not in given:
            ctx.report(path, f"input artifact {name!r} of template {label!r} is not supplied")


def check_hooks(ctx: SpecContext, hooks: object, path: str) -> None:
    """Check lifecycle hooks: each runs a template and, except ``exit``, has an expression."""
    for name, hook in mapping(hooks).items():
        hook_path = child(path, name)
        if not isinstance(hook, dict):
            continue
        if name != "exit" and not hook.get("expression"):
            ctx.report(
                child(hook_path, "expression"), f"hook {name!r} needs an expression (only 'exit' hooks run without one)"
            )
        resolve_reference(ctx, hook, hook_path)


def _check_invocation(ctx: SpecContext, node: dict, path: str) -> tuple[dict | None, str]:
    """Check what a step or DAG task runs, how (loops, hooks) and with what arguments.

    Returns what :func:`resolve_reference` returns.
    """
    loops = [key for key in ("withItems", "withParam", "withSequence") if node.get(key)]
    if len(loops) > 1:
        ctx.report(path, f"set only one of withItems, withParam and withSequence (found {', '.join(loops)})")
    with_sequence = mapping(node.get("withSequence"))
    if with_sequence.get("count") is not None and with_sequence.get("end") is not None:
        ctx.report(child(path, "withSequence"), "set either count or end, not both")
    template, label = resolve_reference(ctx, node, path)
    arguments_path = child(path, "arguments")
    check_arguments(ctx, node.get("arguments"), arguments_path, allow_empty=False)
    if template is not None:
        check_supplied(ctx, template, label, node.get("arguments"), arguments_path)
    if node.get("hooks"):
        check_hooks(ctx, node.get("hooks"), child(path, "hooks"))
    on_exit = node.get("onExit")
    if isinstance(on_exit, str) and on_exit and on_exit not in ctx.templates:
        ctx.report(child(path, "onExit"), ctx.undefined_template(on_exit))
    return template, label


@dataclass(frozen=True)
class _Node:
    """A step or task as references to it see it."""

    #: The step group (steps) or the task index (DAG).
    position: int
    #: The template it runs, for messages.
    template: str
    #: What ``steps.NAME.<attribute>`` may name (``None``: anything, its template is not in this spec).
    attributes: frozenset[str] | None
    #: What the node may reference of itself.
    own_attributes: frozenset[str] | None


def _node(position: int, node: dict, template: dict | None, label: str, *, own_status: bool) -> _Node:
    attributes = _node_attributes(template, bool(node.get("withItems") or node.get("withParam")))
    exit_hook = bool(node.get("onExit") or "exit" in mapping(node.get("hooks")))
    if exit_hook:
        own = attributes
    else:
        own = frozenset({"status"}) if own_status or node.get("hooks") else frozenset()
    return _Node(position, label, attributes, own)


def _node_attributes(template: dict | None, aggregate: bool) -> frozenset[str] | None:
    """What the node of ``template`` publishes (Argo's ``addOutputsToScope``); ``None`` when unknown."""
    if template is None:
        return None
    kind = template_type(template)
    names = set(_NODE_BASICS)
    if template.get("daemon") is True:
        names.add("ip")
    has_main = any(
        text(container.get("name")) == "main"
        for _, container in entries(mapping(template.get("containerSet")).get("containers"))
    )
    if kind in RESULT_TYPES or has_main:
        names.update(("outputs.result", "exitCode"))
    outputs = mapping(template.get("outputs"))
    names.update(f"outputs.parameters.{text(entry.get('name'))}" for _, entry in entries(outputs.get("parameters")))
    names.update(f"outputs.artifacts.{text(entry.get('name'))}" for _, entry in entries(outputs.get("artifacts")))
    if aggregate:
        names.add("outputs.parameters")
        if kind in ("script", "containerSet"):
            names.update(("outputs.result", "exitCode"))
    return frozenset(names)


def _node_resolver(
    ctx: SpecContext,
    kind: str,
    nodes: dict[str, _Node],
    owner: str,
    current: str | None,
    visible: Callable[[_Node], str | None],
) -> Resolver:
    """Resolve ``steps.NAME...`` (``kind`` "step") or ``tasks.NAME...`` ("task") from the node ``current``.

    ``visible`` says why a node cannot be seen from there (``None`` when it can).
    """
    prefix = f"{kind}s."

    def resolve(name: str) -> str | None:
        if not name.startswith(prefix):
            return ""
        node_name, _, attribute = name[len(prefix) :].partition(".")
        node = nodes.get(node_name)
        if node is None:
            return f"no {kind} named {node_name!r} in template {owner!r}{ctx.suggest(node_name, nodes)}"
        if node_name == current:
            allowed = node.own_attributes
            if allowed is not None and attribute not in allowed:
                return f"a {kind} can only reference its own status (from hooks) and outputs (from an exit hook)"
            return None
        reason = visible(node)
        if reason:
            return reason
        if node.attributes is None or attribute in node.attributes:
            return None
        return f"{kind} {node_name!r} (template {node.template!r}) has no {attribute!r}"

    return resolve


def _always_visible(_node: _Node) -> None:
    return None


def _check_steps(ctx: SpecContext, template: dict, path: str, scope: Scope) -> Scope:
    """Check the steps of a steps template; return the scope of its outputs (every step visible)."""
    owner = text(template.get("name")) or path
    steps_path = child(path, "steps")
    placed = [
        (group, step, item(item(steps_path, group), index))
        for group, steps in enumerate(sequence(template.get("steps")))
        for index, step in entries(steps)
    ]
    nodes: dict[str, _Node] = {}
    seen: dict[str, str] = {}
    for group, step, step_path in placed:
        name = step.get("name")
        resolved, label = _check_invocation(ctx, step, step_path)
        problem = name_problem(name)
        if problem:
            ctx.report(child(step_path, "name"), problem)
        elif isinstance(name, str) and name in seen:
            ctx.report(child(step_path, "name"), duplicate(name, seen[name]))
        elif isinstance(name, str):
            seen[name] = step_path
            nodes[name] = _node(group, step, resolved, label, own_status=True)
    for group, step, step_path in placed:

        def earlier(node: _Node, group: int = group) -> str | None:
            if node.position < group:
                return None
            return (
                "only the steps of earlier step groups can be referenced (this one runs in the same or a later group)"
            )

        resolver = _node_resolver(ctx, "step", nodes, owner, text(step.get("name")), earlier)
        check_value(step, Scope((), (), item_scope(step, scope), resolver), step_path, ctx.problems, skip=("inline",))
    return Scope((), (), scope, _node_resolver(ctx, "step", nodes, owner, None, _always_visible))


def _check_dag(ctx: SpecContext, template: dict, path: str, scope: Scope) -> Scope:
    """Check the tasks of a DAG template; return the scope of its outputs (every task visible)."""
    owner = text(template.get("name")) or path
    dag_path = child(path, "dag")
    dag = mapping(template.get("dag"))
    tasks_path = child(dag_path, "tasks")
    tasks = sequence(dag.get("tasks"))
    if not tasks:
        ctx.report(tasks_path, "a DAG needs at least one task")
    indexes = check_names(ctx, tasks, tasks_path)
    using_depends = any(task.get("depends") for _, task in entries(tasks))
    dependencies: list[list[int]] = [[] for _ in tasks]
    unknown: set[int] = set()
    nodes: dict[str, _Node] = {}
    for index, task in entries(tasks):
        task_path = item(tasks_path, index)
        resolved, label = _check_invocation(ctx, task, task_path)
        name = task.get("name")
        if isinstance(name, str) and indexes.get(name) == index:
            nodes[name] = _node(index, task, resolved, label, own_status=False)
        found = _task_dependencies(ctx, task, task_path, tasks, indexes, using_depends)
        if found is None:
            unknown.add(index)
        else:
            dependencies[index] = found
    order = topological_order(dependencies)
    # Tasks in or after a cycle, or with an unparsable depends, have no known ancestry: trust them.
    unknown.update(set(range(len(tasks))).difference(order))
    if len(order) < len(tasks):
        _report_cycle(ctx, tasks, tasks_path, indexes, dependencies)
    bits = ancestors(dependencies, order)
    target = dag.get("target")
    if isinstance(target, str):
        for name in target.split():
            if not is_reference(name) and name not in indexes:
                ctx.report(
                    child(dag_path, "target"), f"target {name!r} is not a task of this DAG{ctx.suggest(name, indexes)}"
                )
    check_value(dag, scope, dag_path, ctx.problems, skip=("tasks",))
    for index, task in entries(tasks):
        current = text(task.get("name"))

        def dependency(node: _Node, index: int = index, current: str = current) -> str | None:
            if index in unknown or bits[index] >> node.position & 1:
                return None
            return f"task {current!r} does not depend on it (add it to depends or dependencies)"

        resolver = _node_resolver(ctx, "task", nodes, owner, current, dependency)
        task_scope = Scope((), (), item_scope(task, scope), resolver)
        check_value(task, task_scope, item(tasks_path, index), ctx.problems, skip=("inline",))
    return Scope((), (), scope, _node_resolver(ctx, "task", nodes, owner, None, _always_visible))


def _report_cycle(
    ctx: SpecContext, tasks: list, path: str, indexes: dict[str, int], dependencies: list[list[int]]
) -> None:
    """Report one dependency cycle of the DAG, on the ``depends``/``dependencies`` of its first task."""
    names = {index: name for name, index in indexes.items()}
    cycle = find_cycle({name: [names[dep] for dep in dependencies[index]] for name, index in indexes.items()})
    if cycle:
        first = tasks[indexes[cycle[0]]]
        field = "depends" if first.get("depends") else "dependencies"
        ctx.report(child(item(path, indexes[cycle[0]]), field), f"dependency cycle: {' -> '.join(cycle)}")


def _task_dependencies(
    ctx: SpecContext, task: dict, path: str, tasks: list, indexes: dict[str, int], using_depends: bool
) -> list[int] | None:
    """Check the ``depends``/``dependencies`` of a DAG task.

    Returns the indexes of the tasks it depends on, ``None`` when its depends cannot be parsed.
    """
    found: list[int] | None = []
    name = text(task.get("name"))
    depends = task.get("depends")
    depends_path = child(path, "depends")
    if isinstance(depends, str) and depends.strip():
        try:
            expression = parse_depends(depends)
        except DependsSyntaxError as error:
            ctx.report(depends_path, str(error))
            found = None
        else:
            for dependency in sorted(expression.tasks):
                if dependency in indexes:
                    found.append(indexes[dependency])
                else:
                    ctx.report(depends_path, _undefined(ctx, dependency, indexes))
            for dependency in sorted(expression.item_tasks & indexes.keys()):
                looped = tasks[indexes[dependency]]
                if not any(looped.get(key) for key in ("withItems", "withParam", "withSequence")):
                    ctx.report(
                        depends_path,
                        f"{dependency!r} is tested with .AnySucceeded/.AllFailed but does not loop "
                        "(withItems, withParam or withSequence)",
                    )
    dependencies = sequence(task.get("dependencies"))
    dependencies_path = child(path, "dependencies")
    for position, dependency in enumerate(dependencies):
        if not isinstance(dependency, str):
            continue
        if dependency in indexes:
            if found is not None:
                found.append(indexes[dependency])
        else:
            ctx.report(item(dependencies_path, position), _undefined(ctx, dependency, indexes))
    if using_depends and dependencies:
        ctx.report(dependencies_path, "a DAG cannot mix 'dependencies' and 'depends': write this one as depends")
    if using_depends and task.get("continueOn") is not None:
        ctx.report(
            child(path, "continueOn"),
            "continueOn cannot be used in a DAG with 'depends': use 'task.Failed' or 'task.Errored' in depends",
        )
    if (using_depends or dependencies) and name[:1].isdigit():
        ctx.report(
            child(path, "name"), f"task name {name!r} cannot start with a digit in a DAG with depends or dependencies"
        )
    return found


def _undefined(ctx: SpecContext, dependency: str, indexes: dict[str, int]) -> str:
    return f"depends on {dependency!r}, which is not a task of this DAG{ctx.suggest(dependency, indexes)}"
