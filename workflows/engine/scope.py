"""The variables a template sees: workflow globals, its inputs, and the outputs of earlier steps or tasks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..vocabulary import Scope


def workflow_globals(manifest: dict[str, Any]) -> Scope:
    """``workflow.*`` variables of a stored workflow (its ``spec.arguments`` already resolved)."""
    metadata, spec = manifest["metadata"], manifest["spec"]
    scope: Scope = {
        "workflow.name": metadata["name"],
        "workflow.namespace": metadata.get("namespace", "local"),
        "workflow.uid": metadata.get("uid", ""),
        "workflow.creationTimestamp": metadata.get("creationTimestamp", ""),
        "workflow.serviceAccountName": spec.get("serviceAccountName", "default"),
        "workflow.priority": str(spec.get("priority", 0)),
    }
    for key in ("labels", "annotations"):
        for name, value in (metadata.get(key) or {}).items():
            scope[f"workflow.{key}.{name}"] = str(value)
    parameters = (spec.get("arguments") or {}).get("parameters") or []
    # Argo: workflow.parameters and workflow.parameters.json are both the JSON list; a parameter named json wins
    scope["workflow.parameters"] = scope["workflow.parameters.json"] = json.dumps(
        [{"name": p["name"], "value": str(p.get("value", ""))} for p in parameters]
    )
    for parameter in parameters:
        scope[f"workflow.parameters.{parameter['name']}"] = str(parameter.get("value", ""))
    return scope


def input_scope(parameters: dict[str, str], artifact_paths: dict[str, str], artifact_sources: dict[str, str]
                ) -> Scope:
    """``inputs.*`` variables: parameter values, the JSON list of all, artifact paths in the pod, and the
    artifacts themselves (``{{inputs.artifacts.NAME}}``, to pass them on)."""
    scope: Scope = {f"inputs.parameters.{name}": value for name, value in parameters.items()}
    scope["inputs.parameters"] = json.dumps([{"name": name, "value": value} for name, value in parameters.items()])
    for name, path in artifact_paths.items():
        scope[f"inputs.artifacts.{name}.path"] = path
    for name, source in artifact_sources.items():
        scope[f"inputs.artifacts.{name}"] = source
    return scope


def output_placeholders(template: dict[str, Any]) -> Scope:
    """``outputs.parameters.NAME.path`` and ``outputs.artifacts.NAME.path``: where the pod writes its outputs."""
    outputs = template.get("outputs") or {}
    scope: Scope = {}
    for parameter in outputs.get("parameters") or []:
        path = (parameter.get("valueFrom") or {}).get("path")
        if path:
            scope[f"outputs.parameters.{parameter['name']}.path"] = path
    for artifact in outputs.get("artifacts") or []:
        if artifact.get("path"):
            scope[f"outputs.artifacts.{artifact['name']}.path"] = artifact["path"]
    return scope


def node_scope(prefix: str, node: dict[str, Any]) -> Scope:
    """What ``steps.NAME`` / ``tasks.NAME`` expose of a finished node: outputs, status, id, times, exit code."""
    scope: Scope = {
        f"{prefix}.id": node["id"],
        f"{prefix}.status": node["phase"],
        f"{prefix}.startedAt": node.get("startedAt", ""),
        f"{prefix}.finishedAt": node.get("finishedAt", ""),
    }
    outputs = node.get("outputs") or {}
    if "result" in outputs:
        scope[f"{prefix}.outputs.result"] = outputs["result"]
    if "exitCode" in outputs:
        scope[f"{prefix}.exitCode"] = outputs["exitCode"]
        scope[f"{prefix}.outputs.exitCode"] = outputs["exitCode"]
    for parameter in outputs.get("parameters") or []:
        scope[f"{prefix}.outputs.parameters.{parameter['name']}"] = str(parameter.get("value", ""))
    for artifact in outputs.get("artifacts") or []:
        scope[f"{prefix}.outputs.artifacts.{artifact['name']}"] = artifact["path"]
    if outputs.get("parameters"):
        scope[f"{prefix}.outputs.parameters"] = json.dumps(
            {p["name"]: str(p.get("value", "")) for p in outputs["parameters"]}
        )
    return scope


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def aggregate_scope(prefix: str, children: Iterable[dict[str, Any]]) -> Scope:
    """Outputs of a looped step or task, aggregated over its children the way Argo does.

    ``outputs.parameters`` is the JSON list of each child's ``{name: value}``;
    ``outputs.parameters.NAME`` the JSON list of that parameter's values;
    ``outputs.result`` the JSON list of results (each parsed as JSON when it is).
    """
    parameter_maps: list[dict[str, str]] = []
    by_name: dict[str, list[str]] = {}
    results: list[Any] = []
    for child in children:
        outputs = child.get("outputs") or {}
        if outputs.get("parameters"):
            values = {p["name"]: str(p.get("value", "")) for p in outputs["parameters"]}
            parameter_maps.append(values)
            for name, value in values.items():
                by_name.setdefault(name, []).append(value)
        if "result" in outputs:
            results.append(_json_or_text(outputs["result"]))
    scope: Scope = {f"{prefix}.outputs.parameters": json.dumps(parameter_maps)}
    for name, values in by_name.items():
        scope[f"{prefix}.outputs.parameters.{name}"] = json.dumps(values)
    if results:
        scope[f"{prefix}.outputs.result"] = json.dumps(results)
    return scope
