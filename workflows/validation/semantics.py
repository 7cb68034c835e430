"""Semantic checks of one Argo document, like ``argo lint`` (``workflow/validate/validate.go``).

Workflow, WorkflowTemplate and ClusterWorkflowTemplate documents hold a
WorkflowSpec in ``spec``; CronWorkflow documents in ``spec.workflowSpec``.
"""

from __future__ import annotations

from ..naming import DNS1123_SUBDOMAIN, MAX_OBJECT_NAME
from ..vocabulary import walk_templates
from .access import entries, mapping, sequence, text
from .cron import check_cron_spec
from .invocations import check_arguments, check_hooks, check_supplied, check_template
from .problems import MISSING, Problem, child, item
from .templates import (
    SpecContext,
    check_names,
    check_pod_resources,
    is_reference,
)
from .variables import RUNTIME_PREFIXES, Scope

#: Kinds whose spec is checked as a template library (entrypoint optional, any workflow parameter).
TEMPLATE_KINDS = frozenset({"WorkflowTemplate", "ClusterWorkflowTemplate"})
POD_GC_STRATEGIES = ("OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")
#: Workflows of a CronWorkflow are named after it plus "-<unix time>" (11 characters).
MAX_CRON_WORKFLOW_NAME = 52
#: Kubernetes' limit on object names (DNS-1123 subdomains).
MAX_SUBDOMAIN = 253
#: What the controller adds to the workflows of a CronWorkflow (``common.ConvertCronWorkflowToWorkflow``).
CRON_ANNOTATIONS = ("workflows.argoproj.io/scheduled-time",)
CRON_LABELS = ("workflows.argoproj.io/cron-workflow",)
CRON_PROPAGATED_LABELS = ("workflows.argoproj.io/controller-instanceid",)
#: ``workflow.*`` variables every workflow has.
GLOBAL_VARIABLES = (
    "name",
    "namespace",
    "uid",
    "serviceAccountName",
    "mainEntrypoint",
    "status",
    "annotations",
    "annotations.json",
    "labels",
    "labels.json",
)
_SUBDOMAIN_RULE = "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"


def check_semantics(document: dict) -> list[Problem]:
    """Return the semantic problems of the Argo document ``document`` (its kind is one of the workflow kinds)."""
    kind = document.get("kind")
    problems = _check_metadata(document, kind)
    spec = mapping(document.get("spec"))
    spec_path = "spec"
    if kind == "CronWorkflow":
        problems += check_cron_spec(spec, spec_path)
        spec = mapping(spec.get("workflowSpec"))
        spec_path = child(spec_path, "workflowSpec")
    ctx = SpecContext(
        templates={}, template_defaults=mapping(spec.get("templateDefaults")), globals=_globals(document, kind, spec)
    )
    _check_spec(ctx, kind, spec, spec_path)
    return problems + ctx.problems


def _check_metadata(document: dict, kind: object) -> list[Problem]:
    metadata = mapping(document.get("metadata"))
    name = metadata.get("name")
    generate_name = metadata.get("generateName")
    limit = MAX_CRON_WORKFLOW_NAME if kind == "CronWorkflow" else MAX_OBJECT_NAME
    problems = []
    if isinstance(name, str) and name:
        if len(name) > limit:
            problems.append(
                Problem("metadata.name", f"{name!r} is {len(name)} characters long, Argo allows at most {limit}")
            )
        if not DNS1123_SUBDOMAIN.match(name):
            problems.append(Problem("metadata.name", f"invalid name {name!r}: {_SUBDOMAIN_RULE}"))
    elif isinstance(generate_name, str) and generate_name:
        # Kubernetes appends 5 random characters, truncating a longer prefix to 58 characters.
        masked = generate_name[:-1] + "a" if generate_name.endswith("-") else generate_name
        if len(masked) > MAX_SUBDOMAIN or not DNS1123_SUBDOMAIN.match(masked):
            problems.append(Problem("metadata.generateName", f"invalid prefix {generate_name!r}: {_SUBDOMAIN_RULE}"))
    elif not name and not generate_name:
        problems.append(Problem("metadata.name", "set metadata.name or metadata.generateName"))
    return problems


def _globals(document: dict, kind: object, spec: dict) -> Scope:
    """Return the scope of the global variables (``workflow.*``) of the workflows ``document`` starts."""
    names = {f"workflow.{name}" for name in GLOBAL_VARIABLES}
    parameters = {
        text(parameter.get("name")) for _, parameter in entries(mapping(spec.get("arguments")).get("parameters"))
    }
    if parameters:
        names.update(("workflow.parameters", "workflow.parameters.json"))
        names.update(f"workflow.parameters.{name}" for name in parameters)
    metadata = mapping(document.get("metadata"))
    workflow_metadata = mapping(spec.get("workflowMetadata"))
    if kind == "CronWorkflow":
        annotations = set(CRON_ANNOTATIONS)
        labels = set(CRON_LABELS) | set(CRON_PROPAGATED_LABELS).intersection(mapping(metadata.get("labels")))
    else:
        annotations = set(mapping(metadata.get("annotations")))
        labels = set(mapping(metadata.get("labels")))
    annotations.update(mapping(workflow_metadata.get("annotations")))
    labels.update(mapping(workflow_metadata.get("labels")), mapping(workflow_metadata.get("labelsFrom")))
    names.update(f"workflow.annotations.{key}" for key in annotations)
    names.update(f"workflow.labels.{key}" for key in labels)
    if spec.get("priority") is not None:
        names.add("workflow.priority")
    if spec.get("onExit") or "exit" in mapping(spec.get("hooks")):
        names.add("workflow.failures")
    prefixes = list(RUNTIME_PREFIXES)
    if kind in TEMPLATE_KINDS or spec.get("workflowTemplateRef") is not None:
        prefixes.append("workflow.parameters")
    for _, template in walk_templates(spec.get("templates")):
        outputs = mapping(template.get("outputs"))
        for section in ("parameters", "artifacts"):
            for _, output in entries(outputs.get(section)):
                global_name = output.get("globalName")
                if is_reference(global_name):
                    prefixes.append(f"workflow.outputs.{section}.")
                elif isinstance(global_name, str) and global_name:
                    names.add(f"workflow.outputs.{section}.{global_name}")
    return Scope(names, tuple(prefixes), None, _explain_global)


def _explain_global(name: str) -> str:
    hints = (
        ("workflow.parameters.", "spec.arguments.parameters declares no parameter {!r}"),
        ("workflow.outputs.parameters.", "no output parameter has the globalName {!r}"),
        ("workflow.outputs.artifacts.", "no output artifact has the globalName {!r}"),
        ("workflow.labels.", "no label {!r} in metadata.labels or spec.workflowMetadata"),
        ("workflow.annotations.", "no annotation {!r} in metadata.annotations or spec.workflowMetadata"),
    )
    for prefix, hint in hints:
        if name.startswith(prefix):
            return hint.format(name[len(prefix) :])
    if name == "workflow.failures":
        return "only set for workflows with an exit handler (spec.onExit)"
    if name == "workflow.priority":
        return "spec.priority is not set"
    return ""


def _check_spec(ctx: SpecContext, kind: object, spec: dict, path: str) -> None:
    templates = spec.get("templates")
    templates_path = child(path, "templates")
    reference = spec.get("workflowTemplateRef")
    if reference is not None:
        if sequence(templates):
            ctx.report(templates_path, "must be empty when workflowTemplateRef is set")
        if not mapping(reference).get("name"):
            ctx.report(child(child(path, "workflowTemplateRef"), "name"), MISSING)
    ctx.templates.update(
        (name, templates[index]) for name, index in check_names(ctx, templates, templates_path).items()
    )
    check_arguments(ctx, spec.get("arguments"), child(path, "arguments"), allow_empty=kind != "CronWorkflow")
    if reference is None:
        _check_entry_points(ctx, kind, spec, path)
    check_hooks(ctx, spec.get("hooks"), child(path, "hooks"))
    strategy = mapping(spec.get("podGC")).get("strategy")
    if strategy and strategy not in POD_GC_STRATEGIES:
        ctx.report(
            child(child(path, "podGC"), "strategy"),
            f"unknown strategy {strategy!r}, expected one of {', '.join(POD_GC_STRATEGIES)}",
        )
    check_pod_resources(ctx, spec.get("podResources"), child(path, "podResources"))
    for index, template in entries(templates):
        check_template(ctx, template, item(templates_path, index))


def _check_entry_points(ctx: SpecContext, kind: object, spec: dict, path: str) -> None:
    """The entrypoint and the exit handler name templates of the spec, fed by the workflow's arguments."""
    for field in ("entrypoint", "onExit"):
        name = spec.get(field)
        field_path = child(path, field)
        if not name:
            if field == "entrypoint" and kind not in TEMPLATE_KINDS:
                ctx.report(field_path, MISSING)
            continue
        if not isinstance(name, str):
            continue
        if name not in ctx.templates:
            ctx.report(field_path, ctx.undefined_template(name))
        elif kind not in TEMPLATE_KINDS:
            check_supplied(ctx, ctx.templates[name], name, spec.get("arguments"), child(path, "arguments"))
