"""What the local engine can run: checked at submission, so a workflow is never half-run."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedWorkflow
from ..vocabulary import TEMPLATE_TYPES, artifact_location, template_type, walk_templates
from .containerset import containerset_problems
from .resources import resource_problem

SUPPORTED_TYPES = ("container", "script", "steps", "dag", "suspend", "http", "resource", "containerSet")
#: The other kinds of Argo templates.
UNSUPPORTED_TYPES = tuple(kind for kind in TEMPLATE_TYPES if kind not in SUPPORTED_TYPES)
#: Artifact locations the local engine reads and writes (the others are remote storage).
LOCAL_ARTIFACT_LOCATIONS = ("raw",)
#: ``env[].valueFrom.fieldRef.fieldPath`` values a local pod has (its own name and namespace).
ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace")
#: Kubernetes' PersistentVolumeClaim access modes (any other makes Kubernetes reject the claim).
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
#: Template fields whose behaviour the local engine cannot reproduce.
UNSUPPORTED_FIELDS = {"daemon": "daemon templates",
                      "hostAliases": "host aliases (extra /etc/hosts entries)"}


def _artifact_problem(where: str, artifact: dict[str, Any]) -> str | None:
    location = artifact_location(artifact)
    if location is not None and location not in LOCAL_ARTIFACT_LOCATIONS:
        return f"{where}: artifact {artifact.get('name')!r} from {location} storage is not supported locally"
    return None


def _env_problems(where: str, body: dict[str, Any]) -> list[str]:
    """Why a container's environment cannot be honoured locally: values read from Secrets, ConfigMaps or
    resources, and ``envFrom``."""
    problems = []
    for variable in body.get("env") or []:
        value_from = variable.get("valueFrom")
        if value_from is None:
            continue
        field = ((value_from or {}).get("fieldRef") or {}).get("fieldPath")
        if field not in ENV_FIELD_PATHS:
            source = next(iter(value_from or {}), "valueFrom")
            problems.append(f"{where}: env {variable.get('name')!r}: valueFrom.{source} is not supported locally "
                            f"(only fieldRef {' and '.join(ENV_FIELD_PATHS)}): give the value instead")
    for index, source in enumerate(body.get("envFrom") or []):
        kinds = [key for key in source or {} if key != "prefix"] or ["envFrom"]
        problems.append(f"{where}: envFrom[{index}]: {kinds[0]} is not supported locally (no Secrets or ConfigMaps)")
    return problems


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
        problems.append("spec.workflowTemplateRef: not resolved (workflows.templaterefs.resolve_references)")
    for parameter in (spec.get("arguments") or {}).get("parameters") or []:
        if "valueFrom" in parameter:
            problems.append(f"spec.arguments.parameters {parameter['name']!r}: valueFrom is not supported locally")
    for volume in spec.get("volumes") or []:
        kinds = [key for key in volume if key != "name"]
        if kinds and kinds[0] not in ("persistentVolumeClaim", "emptyDir", "hostPath"):
            problems.append(f"spec.volumes {volume['name']!r}: {kinds[0]} volumes are not supported locally")
    for claim in spec.get("volumeClaimTemplates") or []:
        invalid = [mode for mode in (claim.get("spec") or {}).get("accessModes") or [] if mode not in ACCESS_MODES]
        if invalid:
            problems.append(f"spec.volumeClaimTemplates {(claim.get('metadata') or {}).get('name')!r}: access mode "
                            f"{invalid[0]!r} is not one of Kubernetes' ({', '.join(ACCESS_MODES)})")
    for label, template in walk_templates(spec.get("templates")):
        where = f"template {label!r}"
        for parameter in (template.get("inputs") or {}).get("parameters") or []:
            if (parameter.get("valueFrom") or {}).get("configMapKeyRef"):
                problems.append(f"{where}: input parameter {parameter['name']!r} reads a ConfigMap, "
                                "which the local engine does not have")
        kind = template_type(template)
        if kind == "resource":
            problem = resource_problem(where, template["resource"])
            if problem:
                problems.append(problem)
            problems += [f"{where}: output parameter {parameter.get('name')!r}: jqFilter is not supported locally "
                         "(use jsonPath)" for parameter in (template.get("outputs") or {}).get("parameters") or []
                         if (parameter.get("valueFrom") or {}).get("jqFilter")]
        if kind is None:
            problems.append(f"{where}: the template has no type (set one of {', '.join(SUPPORTED_TYPES)})")
        elif kind in UNSUPPORTED_TYPES:
            problems.append(f"{where}: {kind} templates are not supported by the local engine")
        for field, label in UNSUPPORTED_FIELDS.items():
            if template.get(field):
                problems.append(f"{where}: {label} are not supported by the local engine")
        body = template.get("container") or template.get("script") or {}
        if body.get("tty") or body.get("stdin"):
            problems.append(f"{where}: a container with a terminal or stdin (tty/stdin) is not supported locally")
        problems += _env_problems(where, body)
        for role, field in (("sidecar", "sidecars"), ("init container", "initContainers")):
            for companion in template.get(field) or []:
                problems += _env_problems(f"{where} {role} {companion.get('name')!r}", companion)
        if kind == "containerSet":
            problems += containerset_problems(where, template)
            for container in (template["containerSet"] or {}).get("containers") or []:
                problems += _env_problems(f"{where} container {container.get('name')!r}", container)
        for header in (template.get("http") or {}).get("headers") or []:
            if header.get("valueFrom") is not None:
                problems.append(f"{where}: http header {header.get('name')!r}: valueFrom (a Secret) is not supported "
                                "locally: give the value instead")
        for group in template.get("steps") or []:
            for step in group or []:
                if step.get("templateRef"):
                    problems.append(f"{where}: step {step.get('name')!r} uses templateRef, not resolved "
                                    "(workflows.templaterefs.resolve_references)")
        for task in (template.get("dag") or {}).get("tasks") or []:
            if task.get("templateRef"):
                problems.append(f"{where}: task {task.get('name')!r} uses templateRef, not resolved "
                                    "(workflows.templaterefs.resolve_references)")
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
