"""What the local engine can run: checked at submission, so a workflow is never half-run."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedWorkflow
from ..vocabulary import TEMPLATE_TYPES, artifact_location, template_type, walk_templates

SUPPORTED_TYPES = ("container", "script", "steps", "dag", "suspend")
#: The other kinds of Argo templates.
UNSUPPORTED_TYPES = tuple(kind for kind in TEMPLATE_TYPES if kind not in SUPPORTED_TYPES)
#: Artifact locations the local engine reads and writes (the others are remote storage).
LOCAL_ARTIFACT_LOCATIONS = ("raw",)
#: Template fields whose behaviour the local engine cannot reproduce.
UNSUPPORTED_FIELDS = {"sidecars": "sidecars", "initContainers": "init containers", "daemon": "daemon templates",
                      "hostAliases": "host aliases (extra /etc/hosts entries)"}


def _artifact_problem(where: str, artifact: dict[str, Any]) -> str | None:
    location = artifact_location(artifact)
    if location is not None and location not in LOCAL_ARTIFACT_LOCATIONS:
        return f"{where}: artifact {artifact.get('name')!r} from {location} storage is not supported locally"
    return None


def unsupported_features(manifest: dict[str, Any]) -> list[str]:
    """Every reason why the local engine would refuse this Workflow (empty when it can run it)."""
    spec = manifest.get("spec") or {}
    problems = []
    for artifact in (spec.get("arguments") or {}).get("artifacts") or []:
        problem = _artifact_problem("spec.arguments", artifact)
        if problem:
            problems.append(problem)
    if spec.get("hostAliases"):
        problems.append("spec.hostAliases: extra /etc/hosts entries are not supported by the local engine")
    if spec.get("workflowTemplateRef"):
        problems.append("spec.workflowTemplateRef: WorkflowTemplates are not available locally")
    for parameter in (spec.get("arguments") or {}).get("parameters") or []:
        if "valueFrom" in parameter:
            problems.append(f"spec.arguments.parameters {parameter['name']!r}: valueFrom is not supported locally")
    for volume in spec.get("volumes") or []:
        kinds = [key for key in volume if key != "name"]
        if kinds and kinds[0] not in ("persistentVolumeClaim", "emptyDir", "hostPath"):
            problems.append(f"spec.volumes {volume['name']!r}: {kinds[0]} volumes are not supported locally")
    for label, template in walk_templates(spec.get("templates")):
        where = f"template {label!r}"
        for parameter in (template.get("inputs") or {}).get("parameters") or []:
            if (parameter.get("valueFrom") or {}).get("configMapKeyRef"):
                problems.append(f"{where}: input parameter {parameter['name']!r} reads a ConfigMap, "
                                "which the local engine does not have")
        kind = template_type(template)
        if kind is None:
            problems.append(f"{where}: the template has no type (set one of {', '.join(SUPPORTED_TYPES)})")
        elif kind in UNSUPPORTED_TYPES:
            problems.append(f"{where}: {kind} templates are not supported by the local engine")
        if kind == "suspend" and not (template["suspend"] or {}).get("duration"):
            problems.append(f"{where}: a suspend template without a duration waits for a manual resume, "
                            "which the local engine does not offer")
        for field, label in UNSUPPORTED_FIELDS.items():
            if template.get(field):
                problems.append(f"{where}: {label} are not supported by the local engine")
        body = template.get("container") or template.get("script") or {}
        if body.get("tty") or body.get("stdin"):
            problems.append(f"{where}: a container with a terminal or stdin (tty/stdin) is not supported locally")
        for group in template.get("steps") or []:
            for step in group or []:
                if step.get("templateRef"):
                    problems.append(f"{where}: step {step.get('name')!r} uses templateRef (no WorkflowTemplates locally)")
        for task in (template.get("dag") or {}).get("tasks") or []:
            if task.get("templateRef"):
                problems.append(f"{where}: task {task.get('name')!r} uses templateRef (no WorkflowTemplates locally)")
        for section in ("inputs", "outputs"):
            for artifact in (template.get(section) or {}).get("artifacts") or []:
                problem = _artifact_problem(f"{where} {section}", artifact)
                if problem:
                    problems.append(problem)
    return problems


def check_supported(manifest: dict[str, Any]) -> None:
    """Raise :class:`UnsupportedWorkflow` listing what the local engine cannot run."""
    problems = unsupported_features(manifest)
    if problems:
        raise UnsupportedWorkflow("the local engine cannot run this workflow:\n  " + "\n  ".join(problems))
