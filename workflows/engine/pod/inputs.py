"""What a pod is given: its environment, its volumes, its input artifacts."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

from ...errors import PodSetupError
from .sandbox import PodFile, VolumeBind

#: Variables of the runner's environment that pods inherit (a pod otherwise sees only its template's env).
INHERITED_ENV = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "PYTHONPATH", "VIRTUAL_ENV")
INHERITED_PREFIXES = ("WORKFLOWS_", "KAFKA_")


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


def volume_binds(body: dict[str, Any], spec: dict[str, Any], volume_dirs: dict[str, Path], node_dir: Path
                 ) -> list[VolumeBind]:
    """The host folders of a container's ``volumeMounts`` (claims, ephemeral claims, emptyDir, hostPath)."""
    declared = {volume["name"]: volume for volume in spec.get("volumes") or []}
    binds = []
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
        host.mkdir(mode=0o700, parents=True, exist_ok=True)
        binds.append(VolumeBind(str(host), mount["mountPath"], bool(mount.get("readOnly"))))
    return binds


def input_files(template: dict[str, Any], artifacts: dict[str, str], raw: dict[str, str]) -> list[PodFile]:
    """Each input artifact (from the artifact store, or its raw data) at the path the pod reads it from."""
    files = []
    for artifact in (template.get("inputs") or {}).get("artifacts") or []:
        name, path = artifact["name"], artifact.get("path")
        if not path:
            continue
        if name in raw:
            files.append(PodFile(path, text=raw[name]))
        elif name in artifacts:
            files.append(PodFile(path, source=artifacts[name]))
    return files
