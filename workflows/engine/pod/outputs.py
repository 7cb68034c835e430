"""A pod's outputs: the paths its template declares, and what the pod left there.

The pod's leader copies each declared path out of the pod's file tree with
the pod's own privileges (:mod:`.process`); here those copies become the
node's ``outputs`` (result, exitCode, parameters, artifacts in the store).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .process import PodResult


def declared_paths(template: dict[str, Any]) -> list[str]:
    """The pod paths of a template's output parameters and artifacts, each once, in order."""
    outputs = template.get("outputs") or {}
    paths = [(parameter.get("valueFrom") or {}).get("path") for parameter in outputs.get("parameters") or []]
    paths += [artifact.get("path") for artifact in outputs.get("artifacts") or []]
    return list(dict.fromkeys(path for path in paths if path))


def copy_path(source: Path, target: Path) -> None:
    """Copy a file or a folder with their modes (symbolic links as links, so dangling ones are fine)."""
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _trim_newline(text: str) -> str:
    """Argo trims off a single trailing newline from results and parameter files, "for user convenience"."""
    return text[:-1] if text.endswith("\n") else text


def collect_outputs(template: dict[str, Any], result: PodResult, artifact_dir: Path, node_id: str
                    ) -> tuple[dict[str, Any], str | None]:
    """The node's ``outputs`` (result, exitCode, parameters, artifacts) and an error message, if any."""
    outputs: dict[str, Any] = {"result": _trim_newline(result.stdout), "exitCode": str(result.exit_code)}
    declared = template.get("outputs") or {}
    parameters = []
    for parameter in declared.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        path = value_from.get("path")
        if path in result.output_errors:
            return outputs, f"output parameter {parameter['name']!r}: {result.output_errors[path]}"
        value = None
        copy = Path(result.outputs[path]) if path in result.outputs else None
        if copy is not None and copy.is_file():
            value = _trim_newline(copy.read_text(errors="replace"))
        if value is None and "default" in value_from:
            value = str(value_from["default"])
        if value is None and "value" in parameter:
            value = str(parameter["value"])
        if value is None:
            return outputs, f"output parameter {parameter['name']!r}: {path!r} was not written"
        entry = {"name": parameter["name"], "value": value}
        if parameter.get("globalName"):
            entry["globalName"] = parameter["globalName"]
        parameters.append(entry)
    if parameters:
        outputs["parameters"] = parameters
    artifacts = []
    for artifact in declared.get("artifacts") or []:
        path = artifact.get("path", "")
        if path in result.output_errors:
            return outputs, f"output artifact {artifact['name']!r}: {result.output_errors[path]}"
        if path not in result.outputs:
            if artifact.get("optional"):
                continue
            return outputs, f"output artifact {artifact['name']!r}: {path!r} was not written"
        stored = artifact_dir / node_id / artifact["name"]
        stored.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            copy_path(Path(result.outputs[path]), stored)
        except (OSError, shutil.Error) as error:
            return outputs, f"output artifact {artifact['name']!r}: cannot store {path!r}: {error}"
        entry = {"name": artifact["name"], "path": str(stored)}
        if artifact.get("globalName"):
            entry["globalName"] = artifact["globalName"]
        artifacts.append(entry)
    if artifacts:
        outputs["artifacts"] = artifacts
    return outputs, None
