"""Rules for one Argo template on its own, like ``argo lint`` (``workflow/validate/validate.go``).

:func:`check_template_rules` checks a template's type, inputs, outputs and
type-specific fields; :mod:`.invocations` adds its steps or DAG tasks and the
references of its strings.  One :class:`SpecContext` is shared by the checks
of one spec.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..graph import find_cycle
from ..naming import MAX_FIELD_NAME, PARAM_OR_ARTIFACT_NAME, WORKFLOW_FIELD_NAME
from .access import entries, mapping, sequence, text
from .problems import MISSING, Problem, child, item
from ..vocabulary import LEAF_TYPES, POD_TYPES, TEMPLATE_TYPES, artifact_location, template_type
from .variables import Scope

RETRY_POLICIES = ("Always", "OnError", "OnFailure", "OnTransientError")
RESOURCE_ACTIONS = ("get", "create", "apply", "delete", "replace", "patch")
#: ``valueFrom`` sources of an output parameter.
OUTPUT_SOURCES = ("path", "jqFilter", "jsonPath", "parameter", "expression", "supplied")
#: Argo's ``paramRegex``: a value that is itself a ``{{...}}`` reference.
PARAMETER_REFERENCE = re.compile(r"{{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*}}")
#: Prometheus' legacy metric and label names, without ``:`` (Argo forbids it).
METRIC_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_ANY_TAG = re.compile(r"{{.*?}}", re.DOTALL)


@dataclass
class SpecContext:
    """What the checks of the templates of one spec share."""

    #: Templates by name (the first one of each name).
    templates: dict[str, dict]
    #: ``spec.templateDefaults``.
    template_defaults: dict
    #: The variables every template can use.
    globals: Scope
    problems: list[Problem] = field(default_factory=list)

    def report(self, path: str, reason: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(path, reason))

    def undefined_template(self, name: str) -> str:
        """The reason given for a reference to the template ``name`` that this spec does not define."""
        return f"template {name!r} is not defined{self.suggest(name, self.templates)}"

    def suggest(self, name: str, choices: Iterable[str]) -> str:
        """Return ``" (did you mean 'x'?)"`` when one of ``choices`` is close to ``name``, else ``""``."""
        close = difflib.get_close_matches(name, list(choices), n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""


def has_location(artifact: dict) -> bool:
    """Return whether ``artifact`` says where it is stored (or which key it has in the default repository)."""
    return artifact_location(artifact) is not None


def is_reference(value: object) -> bool:
    """Return whether ``value`` contains a ``{{...}}`` parameter reference (Argo's ``isParameter``)."""
    return isinstance(value, str) and PARAMETER_REFERENCE.search(value) is not None


def name_problem(name: object, *, workflow_field: bool = True) -> str | None:
    """Return what is wrong with the name ``name``, or ``None``.

    ``workflow_field`` selects Argo's rule for template, step and task names;
    otherwise the rule for parameter and artifact names applies.  Names that are
    not strings are the structural check's business.
    """
    if name is None or name == "":
        return MISSING
    if not isinstance(name, str):
        return None
    if workflow_field:
        if not WORKFLOW_FIELD_NAME.match(name):
            return f"invalid name {name!r}: use letters, digits and '-', starting with a letter or digit"
        if len(name) > MAX_FIELD_NAME:
            return f"name {name!r} is {len(name)} characters long, Argo allows at most {MAX_FIELD_NAME}"
    elif not PARAM_OR_ARTIFACT_NAME.match(name):
        return f"invalid name {name!r}: use letters, digits, '_' and '-'"
    return None


def duplicate(name: str, first: str) -> str:
    """The reason given for a name already used by the entry at ``first``."""
    return f"duplicate name {name!r}, already used by {first}"


def check_names(ctx: SpecContext, values: object, path: str, *, workflow_field: bool = True) -> dict[str, int]:
    """Check that the entries of the list ``values`` have valid unique names; return name → first index."""
    indexes: dict[str, int] = {}
    for index, entry in entries(values):
        name = entry.get("name")
        problem = name_problem(name, workflow_field=workflow_field)
        if problem:
            ctx.report(child(item(path, index), "name"), problem)
        elif isinstance(name, str) and name in indexes:
            ctx.report(child(item(path, index), "name"), duplicate(name, item(path, indexes[name])))
        elif isinstance(name, str):
            indexes[name] = index
    return indexes


def check_template_rules(ctx: SpecContext, template: dict, path: str) -> str | None:
    """Check ``template`` on its own (type, inputs, outputs, type-specific fields); return its type."""
    kind = _check_type(ctx, template, path)
    leaf = kind in LEAF_TYPES
    _check_inputs(ctx, template, path, leaf)
    _check_outputs(ctx, template, path, kind, leaf)
    _check_timing(ctx, template, path, kind, leaf)
    _check_pod(ctx, template, path)
    _check_container_set(ctx, template, path)
    _check_resource(ctx, template, path)
    _check_metrics(ctx, template, path)
    if template.get("podResources") is not None:
        if kind in ("http", "plugin"):
            ctx.report(
                child(path, "podResources"),
                f"{kind} templates run in the shared agent pod: podResources is not supported",
            )
        check_pod_resources(ctx, template.get("podResources"), child(path, "podResources"))
    if template.get("resourceClaims") and kind not in POD_TYPES:
        ctx.report(
            child(path, "resourceClaims"), f"{kind} templates do not create a pod: resourceClaims is not supported"
        )
    policy = mapping(template.get("retryStrategy")).get("retryPolicy")
    if policy and policy not in RETRY_POLICIES:
        ctx.report(
            child(child(path, "retryStrategy"), "retryPolicy"),
            f"unknown retry policy {policy!r}, expected one of {', '.join(RETRY_POLICIES)}",
        )
    return kind


def check_pod_resources(ctx: SpecContext, resources: object, path: str) -> None:
    """Check pod-level resources (Argo 4): only cpu, memory and hugepages-*, no claims."""
    resources = mapping(resources)
    if resources.get("claims"):
        ctx.report(child(path, "claims"), "claims are not supported for pod-level resources")
    for section in ("limits", "requests"):
        for name in mapping(resources.get(section)):
            if name not in ("cpu", "memory") and not str(name).startswith("hugepages-"):
                ctx.report(
                    child(child(path, section), name),
                    f"{name!r} is not a pod-level resource: only cpu, memory and hugepages-* are supported",
                )


def template_scope(ctx: SpecContext, template: dict, kind: str | None, path: str) -> Scope:
    """Return the variables ``template`` can use: the globals, its inputs and ``pod.name`` if it runs a pod."""
    label = text(template.get("name")) or path
    inputs = mapping(template.get("inputs"))
    names: set[str] = set()
    parameters = [text(entry.get("name")) for _, entry in entries(inputs.get("parameters"))]
    names.update(f"inputs.parameters.{name}" for name in parameters)
    if parameters:
        names.add("inputs.parameters")
    for _, artifact in entries(inputs.get("artifacts")):
        names.add(f"inputs.artifacts.{text(artifact.get('name'))}")
        if kind in LEAF_TYPES:
            names.add(f"inputs.artifacts.{text(artifact.get('name'))}.path")
    if kind in POD_TYPES:
        names.add("pod.name")

    def explain(name: str) -> str:
        for prefix, what in (("inputs.parameters.", "input parameter"), ("inputs.artifacts.", "input artifact")):
            if name.startswith(prefix):
                declared = name[len(prefix) :].partition(".")[0]
                return f"template {label!r} has no {what} {declared!r}"
        if name == "pod.name":
            return f"{kind} templates do not run a pod"
        if name.startswith(("steps.", "tasks.")):
            return "steps.* and tasks.* are only set in the steps and tasks of steps and dag templates"
        return ""

    return Scope(names, (), ctx.globals, explain)


def _check_type(ctx: SpecContext, template: dict, path: str) -> str | None:
    kinds = [kind for kind in TEMPLATE_TYPES if template.get(kind) is not None]
    if not kinds:
        ctx.report(path, f"template type unspecified: set one of {', '.join(TEMPLATE_TYPES)}")
    elif len(kinds) > 1:
        ctx.report(path, f"several template types ({', '.join(kinds)}): set exactly one")
    return template_type(template)


def _check_inputs(ctx: SpecContext, template: dict, path: str, leaf: bool) -> None:
    inputs = mapping(template.get("inputs"))
    if not inputs:
        return
    inputs_path = child(path, "inputs")
    check_names(ctx, inputs.get("parameters"), child(inputs_path, "parameters"), workflow_field=False)
    artifacts_path = child(inputs_path, "artifacts")
    check_names(ctx, inputs.get("artifacts"), artifacts_path, workflow_field=False)
    for index, artifact in entries(inputs.get("artifacts")):
        artifact_path = item(artifacts_path, index)
        _check_artifact_path(ctx, artifact, artifact_path, leaf)
        if artifact.get("from"):
            ctx.report(child(artifact_path, "from"), "'from' is not valid in inputs (it belongs in arguments)")


def _check_artifact_path(ctx: SpecContext, artifact: dict, path: str, leaf: bool) -> None:
    if leaf and not artifact.get("path"):
        ctx.report(child(path, "path"), f"artifact {artifact.get('name')!r} needs a path in this template")
    elif not leaf and artifact.get("path"):
        ctx.report(child(path, "path"), "path is only valid in templates that run a container (container, script...)")


def _check_outputs(ctx: SpecContext, template: dict, path: str, kind: str | None, leaf: bool) -> None:
    outputs = mapping(template.get("outputs"))
    if not outputs:
        return
    outputs_path = child(path, "outputs")
    parameters_path = child(outputs_path, "parameters")
    artifacts_path = child(outputs_path, "artifacts")
    check_names(ctx, outputs.get("parameters"), parameters_path, workflow_field=False)
    check_names(ctx, outputs.get("artifacts"), artifacts_path, workflow_field=False)
    for index, artifact in entries(outputs.get("artifacts")):
        artifact_path = item(artifacts_path, index)
        _check_artifact_path(ctx, artifact, artifact_path, leaf)
        _check_global_name(ctx, artifact, artifact_path)
    for index, parameter in entries(outputs.get("parameters")):
        parameter_path = item(parameters_path, index)
        _check_output_parameter(ctx, parameter, parameter_path, kind)
        _check_global_name(ctx, parameter, parameter_path)


def _check_global_name(ctx: SpecContext, output: dict, path: str) -> None:
    name = output.get("globalName")
    if isinstance(name, str) and name and not is_reference(name) and not PARAM_OR_ARTIFACT_NAME.match(name):
        ctx.report(child(path, "globalName"), f"invalid global name {name!r}: use letters, digits, '_' and '-'")


def _check_output_parameter(ctx: SpecContext, parameter: dict, path: str, kind: str | None) -> None:
    value_from = parameter.get("valueFrom")
    if parameter.get("value") is not None:
        if value_from is not None:
            ctx.report(path, "set either value or valueFrom, not both")
        return
    if not isinstance(value_from, dict):
        ctx.report(path, "an output parameter needs a value or a valueFrom")
        return
    sources = [source for source in OUTPUT_SOURCES if value_from.get(source) not in (None, "")]
    value_from_path = child(path, "valueFrom")
    if len(sources) != 1:
        found = f"found {', '.join(sources)}" if sources else "found none"
        ctx.report(value_from_path, f"set exactly one of {', '.join(OUTPUT_SOURCES)} ({found})")
        return
    needed = {
        "container": ("path",),
        "containerSet": ("path",),
        "script": ("path",),
        "resource": ("jqFilter", "jsonPath"),
        "steps": ("parameter", "expression"),
        "dag": ("parameter", "expression"),
    }.get(kind or "")
    if needed and sources[0] not in needed:
        ctx.report(
            value_from_path,
            f"{kind} templates take output parameters from {' or '.join(needed)}, not from {sources[0]}",
        )


def _check_timing(ctx: SpecContext, template: dict, path: str, kind: str | None, leaf: bool) -> None:
    """activeDeadlineSeconds, parallelism, timeout and pendingTimeout, valid only on some templates."""
    deadline = template.get("activeDeadlineSeconds")
    if kind in ("steps", "dag"):
        if deadline is not None:
            ctx.report(
                child(path, "activeDeadlineSeconds"), "activeDeadlineSeconds is only valid for templates that run a pod"
            )
    else:
        if template.get("parallelism") is not None:
            ctx.report(child(path, "parallelism"), "parallelism is only valid for steps and dag templates")
        if _invalid_deadline(deadline):
            ctx.report(
                child(path, "activeDeadlineSeconds"),
                f"must be a positive integer or a {{{{variable}}}}, got {deadline!r}",
            )
    for name in ("timeout", "pendingTimeout"):
        value = template.get(name)
        if not value:
            continue
        if not leaf:
            ctx.report(child(path, name), f"{name} is not supported by {kind} templates")
        elif isinstance(value, str) and _INTEGER.match(value):
            ctx.report(child(path, name), f"invalid duration {value!r}: add a unit, e.g. '{value}s'")


def _invalid_deadline(deadline: object) -> bool:
    """Argo's rule for a pod's activeDeadlineSeconds: a positive integer, or a string ``{{...}}``."""
    if isinstance(deadline, str):
        if _INTEGER.match(deadline):
            return int(deadline) < 0
        return not (deadline.startswith("{{") and deadline.endswith("}}"))
    return type(deadline) is int and deadline < 0


def _check_pod(ctx: SpecContext, template: dict, path: str) -> None:
    """Images (unless spec.templateDefaults gives one) and volume mount collisions."""
    for kind in ("container", "script"):
        body = template.get(kind)
        if (
            isinstance(body, dict)
            and not body.get("image")
            and not mapping(ctx.template_defaults.get(kind)).get("image")
        ):
            ctx.report(child(child(path, kind), "image"), "an image is required (here or in spec.templateDefaults)")
    container = template.get("container")
    if not isinstance(container, dict):
        return
    mounts = entries(container.get("volumeMounts"))
    if not mounts:
        return
    mounted: dict[str, str] = {}
    mounts_path = child(child(path, "container"), "volumeMounts")
    for index, mount in mounts:
        target = mount.get("mountPath")
        if not isinstance(target, str):
            continue
        if target in mounted:
            ctx.report(
                child(item(mounts_path, index), "mountPath"), f"{target!r} is already mounted by {mounted[target]}"
            )
        else:
            mounted[target] = item(mounts_path, index)
    artifacts_path = child(child(path, "inputs"), "artifacts")
    for index, artifact in entries(mapping(template.get("inputs")).get("artifacts")):
        target = artifact.get("path")
        if isinstance(target, str) and target in mounted:
            ctx.report(
                child(item(artifacts_path, index), "path"), f"{target!r} is already mounted by {mounted[target]}"
            )


def _check_container_set(ctx: SpecContext, template: dict, path: str) -> None:
    container_set = template.get("containerSet")
    if not isinstance(container_set, dict):
        return
    set_path = child(path, "containerSet")
    containers_path = child(set_path, "containers")
    containers = sequence(container_set.get("containers"))
    if not containers:
        ctx.report(containers_path, "a containerSet needs at least one container")
    names = check_names(ctx, containers, containers_path)
    dependencies: dict[str, list[str]] = {name: [] for name in names}
    for index, container in entries(containers):
        for position, dependency in enumerate(sequence(container.get("dependencies"))):
            if not isinstance(dependency, str):
                continue
            if dependency in names:
                if names.get(text(container.get("name"))) == index:
                    dependencies[container["name"]].append(dependency)
            else:
                suggestion = ctx.suggest(dependency, names)
                ctx.report(
                    item(child(item(containers_path, index), "dependencies"), position),
                    f"dependency {dependency!r} is not a container of this containerSet{suggestion}",
                )
    cycle = find_cycle(dependencies)
    if cycle:
        ctx.report(
            child(item(containers_path, names[cycle[0]]), "dependencies"), f"dependency cycle: {' -> '.join(cycle)}"
        )
    outputs = mapping(template.get("outputs"))
    uses_io = mapping(template.get("inputs")).get("artifacts") or outputs.get("parameters") or outputs.get("artifacts")
    if uses_io and "main" not in names:
        ctx.report(containers_path, "a containerSet with input artifacts or outputs needs a container named 'main'")


def _check_resource(ctx: SpecContext, template: dict, path: str) -> None:
    resource = template.get("resource")
    if not isinstance(resource, dict):
        return
    resource_path = child(path, "resource")
    action = text(resource.get("action"))
    if action and "{{" not in action and action not in RESOURCE_ACTIONS:
        ctx.report(
            child(resource_path, "action"), f"unknown action {action!r}, expected one of {', '.join(RESOURCE_ACTIONS)}"
        )
    if action in ("get", "delete"):
        return
    manifest = resource.get("manifest")
    manifest_from = resource.get("manifestFrom")
    if not manifest and manifest_from is None:
        ctx.report(resource_path, "set manifest or manifestFrom")
    elif manifest and manifest_from is not None:
        ctx.report(resource_path, "set either manifest or manifestFrom, not both")
    if isinstance(manifest, str) and manifest:
        import yaml  # loaded when a resource manifest is first checked

        try:
            list(yaml.safe_load_all(_ANY_TAG.sub("placeholder", manifest)))
        except yaml.YAMLError as error:
            ctx.report(child(resource_path, "manifest"), f"not valid YAML: {str(error).splitlines()[0]}")
    artifact = text(mapping(mapping(manifest_from).get("artifact")).get("name"))
    declared = [entry.get("name") for _, entry in entries(mapping(template.get("inputs")).get("artifacts"))]
    if artifact and artifact not in declared:
        ctx.report(
            child(child(child(resource_path, "manifestFrom"), "artifact"), "name"),
            f"{artifact!r} is not an input artifact of this template",
        )


def _check_metrics(ctx: SpecContext, template: dict, path: str) -> None:
    metrics = entries(mapping(template.get("metrics")).get("prometheus"))
    if not metrics:
        return
    metrics_path = child(child(path, "metrics"), "prometheus")
    for index, metric in metrics:
        metric_path = item(metrics_path, index)
        name = metric.get("name")
        if isinstance(name, str) and not METRIC_NAME.match(name):
            ctx.report(child(metric_path, "name"), f"invalid metric name {name!r}: use letters, digits and '_'")
        for position, label in entries(metric.get("labels")):
            key = label.get("key")
            if isinstance(key, str) and not METRIC_NAME.match(key):
                ctx.report(
                    child(item(child(metric_path, "labels"), position), "key"),
                    f"invalid metric label {key!r}: use letters, digits and '_'",
                )
