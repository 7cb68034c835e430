"""One pod node: map its paths, pick how its image runs, start it, and collect its outputs."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .paths import Mapping, PathMap

#: Variables of the runner's environment that pods inherit (a pod otherwise sees only its template's env).
INHERITED_ENV = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "PYTHONPATH", "VIRTUAL_ENV")
INHERITED_PREFIXES = ("WORKFLOWS_", "KAFKA_")


class PodSetupError(Exception):
    """A pod cannot be started as specified (the node ends in ``Error`` with this message)."""


@functools.lru_cache(maxsize=1)
def _host_env() -> tuple[tuple[str, str], ...]:
    env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    env.update({name: value for name, value in os.environ.items() if name.startswith(INHERITED_PREFIXES)})
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", os.defpath)])
    return tuple(env.items())


def base_env() -> dict[str, str]:
    """What every pod gets from the host: ``PATH`` (this interpreter's folder first) and a few basics.

    Read once per process (the runner's environment does not change while it runs).
    """
    return dict(_host_env())


def volume_mappings(body: dict[str, Any], spec: dict[str, Any], volume_dirs: dict[str, Path], node_dir: Path
                    ) -> list[Mapping]:
    """The host folders of a container's ``volumeMounts`` (claims, ephemeral claims, emptyDir, hostPath)."""
    declared = {volume["name"]: volume for volume in spec.get("volumes") or []}
    mappings = []
    for mount in body.get("volumeMounts") or []:
        name = mount["name"]
        if name in volume_dirs:
            host = volume_dirs[name]
        elif name in declared and "emptyDir" in declared[name]:
            host = node_dir / "emptydir" / name
        elif name in declared and "hostPath" in declared[name]:
            host = Path(declared[name]["hostPath"]["path"])
        else:
            raise PodSetupError(f"volume {name!r} of mount {mount['mountPath']!r} is not supported by the local engine")
        if mount.get("subPath"):
            host = host / mount["subPath"]
        host.mkdir(parents=True, exist_ok=True)
        mappings.append(Mapping(mount["mountPath"], host, bool(mount.get("readOnly"))))
    return mappings


def file_mappings(template: dict[str, Any], node_dir: Path) -> list[Mapping]:
    """Input artifact paths and output files (parameters, artifacts), mapped into the pod's own file tree.

    Every path maps to ``<node>/fs/<path>``, so a path that is both an input and an output
    (a pass-through artifact) is one file, as it is in a container.
    """
    paths = [artifact.get("path") for artifact in (template.get("inputs") or {}).get("artifacts") or []]
    paths += [artifact.get("path") for artifact in (template.get("outputs") or {}).get("artifacts") or []]
    paths += [(parameter.get("valueFrom") or {}).get("path")
              for parameter in (template.get("outputs") or {}).get("parameters") or []]
    mappings = []
    for path in dict.fromkeys(path for path in paths if path):
        host = node_dir / "fs" / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        mappings.append(Mapping(path, host))
    return mappings


def copy_path(source: Path, target: Path) -> None:
    """Copy a file or a folder (symbolic links as links, so dangling ones are fine)."""
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)


def output_file(paths: PathMap, path: str, keep_out: Path) -> Path | None:
    """Where a pod's output is: its mapped path, or, for what a host-run image has itself (``/etc/hosts``,
    ``/etc``), the real path — never one that contains ``keep_out`` (the engine's own files).
    ``None`` when neither exists."""
    host = paths.host(path)
    if host is not None and host.exists():
        return host
    real = Path(path)
    if not real.is_absolute() or not real.exists() or keep_out.resolve().is_relative_to(real.resolve()):
        return None
    return real


def place_input_artifacts(template: dict[str, Any], artifacts: dict[str, str], raw: dict[str, str],
                          paths: PathMap) -> None:
    """Copy each input artifact (from the artifact store, or its raw data) to where the pod reads it."""
    for artifact in (template.get("inputs") or {}).get("artifacts") or []:
        target = paths.host(artifact["path"])
        if target is None:
            continue
        name = artifact["name"]
        if name in raw:
            target.write_text(raw[name])
        elif name in artifacts:
            copy_path(Path(artifacts[name]), target)


def _trim_newline(text: str) -> str:
    """Argo trims off a single trailing newline from results and parameter files, "for user convenience"."""
    return text[:-1] if text.endswith("\n") else text


def collect_outputs(template: dict[str, Any], paths: PathMap, stdout: str, exit_code: int, artifact_dir: Path,
                    node_id: str) -> tuple[dict[str, Any], str | None]:
    """The node's ``outputs`` (result, exitCode, parameters, artifacts) and an error message, if any."""
    outputs: dict[str, Any] = {"result": _trim_newline(stdout), "exitCode": str(exit_code)}
    declared = template.get("outputs") or {}
    parameters = []
    for parameter in declared.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        value = None
        if "path" in value_from:
            host = output_file(paths, value_from["path"], artifact_dir)
            if host is not None and host.is_file():
                value = _trim_newline(host.read_text())
        if value is None and "default" in value_from:
            value = str(value_from["default"])
        if value is None and "value" in parameter:
            value = str(parameter["value"])
        if value is None:
            return outputs, f"output parameter {parameter['name']!r}: {value_from.get('path')!r} was not written"
        entry = {"name": parameter["name"], "value": value}
        if parameter.get("globalName"):
            entry["globalName"] = parameter["globalName"]
        parameters.append(entry)
    if parameters:
        outputs["parameters"] = parameters
    artifacts = []
    for artifact in declared.get("artifacts") or []:
        host = output_file(paths, artifact.get("path", ""), artifact_dir)
        if host is None:
            if artifact.get("optional"):
                continue
            return outputs, f"output artifact {artifact['name']!r}: {artifact.get('path')!r} was not written"
        stored = artifact_dir / node_id / artifact["name"]
        stored.parent.mkdir(parents=True, exist_ok=True)
        copy_path(host, stored)
        entry = {"name": artifact["name"], "path": str(stored)}
        if artifact.get("globalName"):
            entry["globalName"] = artifact["globalName"]
        artifacts.append(entry)
    if artifacts:
        outputs["artifacts"] = artifacts
    return outputs, None


def env_values(body: dict[str, Any], pod_name: str) -> dict[str, str]:
    """A container's ``env`` as a dict; ``valueFrom.fieldRef`` of the pod's own metadata is supported."""
    env = {}
    for variable in body.get("env") or []:
        if "valueFrom" in variable:
            field = ((variable["valueFrom"] or {}).get("fieldRef") or {}).get("fieldPath")
            values = {"metadata.name": pod_name, "metadata.namespace": "local"}
            if field not in values:
                raise PodSetupError(f"env {variable['name']!r}: valueFrom {json.dumps(variable['valueFrom'])} "
                                    "is not supported by the local engine")
            env[variable["name"]] = values[field]
        else:
            env[variable["name"]] = str(variable.get("value", ""))
    return env
