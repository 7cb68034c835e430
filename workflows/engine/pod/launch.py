"""From a pod's resolved template to the pod to run: in the sandbox (host and application images),
unisolated (``WORKFLOWS_ISOLATION=none``), or in a container runtime (see :mod:`.images`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ... import config
from ...quantity import quantity_value
from .dockerfile import DockerfileError
from .images import ApplicationPlan, ContainerPlan, ImageError, UnavailablePlan, how_to_run, is_library_image
from .inputs import PodSetupError, base_env, input_files, volume_binds
from .limits import Limits
from .outputs import copy_path, declared_paths
from .process import PodProcess, PodRun
from .sandbox import PodFile, SandboxPlan, VolumeBind

log = logging.getLogger(__name__)

#: Script commands that the runner's warm, forked interpreter can stand for.
PYTHON_COMMANDS = ({"python"}, {"python3"})
#: Where Argo puts a script template's source in the container.
SCRIPT_PATH = "/argo/staging/script"
#: Size of a pod's own layer (its writes outside volumes, its ``/tmp``) without an ``ephemeral-storage`` limit.
DEFAULT_DISK_BYTES = 1 << 30
_noticed: set[str] = set()


def isolation() -> str:
    """``WORKFLOWS_ISOLATION``: ``"sandbox"`` (the default) or ``"none"`` (tasks run unisolated on the host)."""
    value = os.environ.get("WORKFLOWS_ISOLATION", "").strip().lower() or "sandbox"
    if value not in ("sandbox", "none"):
        raise PodSetupError(f"WORKFLOWS_ISOLATION={value!r}: expected 'sandbox' (the default) or 'none'")
    return value


def _disk_bytes(body: dict[str, Any]) -> int:
    limit = ((body.get("resources") or {}).get("limits") or {}).get("ephemeral-storage")
    if not limit:
        return DEFAULT_DISK_BYTES
    return int(quantity_value("resources.limits.ephemeral-storage", limit))


def pod_run(kind: str, body: dict[str, Any], env: dict[str, str], spec: dict[str, Any],
            volume_dirs: dict[str, Path], inputs: tuple[dict[str, str], dict[str, str]], template: dict[str, Any],
            node_dir: Path, log_path: Path, node_id: str) -> PodRun:
    """The pod of a ``container`` or ``script`` template whose strings are already substituted.

    ``inputs`` are the input artifacts' store paths and raw data by name.
    """
    try:
        plan = how_to_run(body["image"])
        limits = Limits.of(body)
    except (ImageError, DockerfileError, ValueError) as error:
        raise PodSetupError(str(error)) from error
    if isinstance(plan, UnavailablePlan):
        raise PodSetupError(plan.message)
    volumes = volume_binds(body, spec, volume_dirs, node_dir)
    files = input_files(template, *inputs)
    outputs = declared_paths(template)
    command = list(body.get("command") or [])
    args = list(body.get("args") or [])
    source = body.get("source", "") if kind == "script" else None
    if kind == "script":
        command = command or ["sh"]
    if isinstance(plan, ContainerPlan):
        return _container_run(plan, body, env, command, args, source, volumes, files, outputs, node_dir, log_path,
                              limits)
    sandboxed = isolation() == "sandbox"
    if not sandboxed:
        return _unisolated_run(plan, body, env, command, args, source, volumes, files, outputs, node_dir,
                               log_path, limits)
    notice = getattr(plan, "notice", None)
    if notice and body["image"] not in _noticed:
        _noticed.add(body["image"])
        log.info("%s", notice)
    if source is not None:
        files.append(PodFile(SCRIPT_PATH, text=source))
        command, args = command + [SCRIPT_PATH], []
    try:
        process = (plan.process(command or None, args or None, sandboxed=True) if isinstance(plan, ApplicationPlan)
                   else plan.process(command or None, args or None))
    except ImageError as error:
        raise PodSetupError(str(error)) from error
    if isinstance(plan, ApplicationPlan):
        files = [PodFile(copied.image_path, source=str(copied.host_path)) for copied in plan.copied] + files
        if is_library_image(plan.image):  # the library's own tasks publish on the embedded events backend
            home = config.state_home()
            volumes.append(VolumeBind(str(home), str(home)))
    pod_env = {**base_env(), **process.env, **env}
    cwd = body.get("workingDir") or (str(process.cwd) if process.cwd is not None else "/")
    staging = node_dir / "sandbox"
    staging.mkdir(mode=0o700, exist_ok=True)
    sandbox = SandboxPlan(str(staging), _disk_bytes(body), volumes, files, hostname=node_id[:63])
    if source is not None and set(body.get("command") or ["sh"]) in PYTHON_COMMANDS:
        pod = PodProcess(pod_env, cwd, log_path, source=source, script_path=SCRIPT_PATH)
    else:
        pod = PodProcess(pod_env, cwd, log_path, argv=process.argv)
    return PodRun(pod, node_dir, sandbox, outputs, limits)


def _container_run(plan: ContainerPlan, body: dict[str, Any], env: dict[str, str], command: list[str],
                   args: list[str], source: str | None, volumes: list[VolumeBind], files: list[PodFile],
                   outputs: list[str], node_dir: Path, log_path: Path, limits: Limits) -> PodRun:
    """A real container: volumes, inputs, outputs and the script are bind-mounted from the node's folder."""
    mounts = [(volume.host, volume.path, volume.read_only) for volume in volumes]
    fs = node_dir / "fs"
    host_paths: dict[str, str] = {}
    for path in dict.fromkeys([pod_file.path for pod_file in files] + outputs):
        host = fs / path.lstrip("/")
        host.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        mounts.append((str(host), path, False))
        host_paths[path] = str(host)
    for pod_file in files:
        _place(pod_file, Path(host_paths[pod_file.path]))
    if source is not None:
        script = node_dir / "script"
        script.write_text(source)
        mounts.append((str(script), SCRIPT_PATH, True))
        command, args = command + [SCRIPT_PATH], []
    options = [f"--memory={limits.memory}"] if limits.memory is not None else []
    if limits.cpu is not None:
        options.append(f"--cpus={limits.cpu:g}")
    argv = plan.run_argv(command, args, env=env, mounts=mounts, workdir=body.get("workingDir"), options=options)
    process = PodProcess(base_env(), str(node_dir), log_path, argv=argv)
    return PodRun(process, node_dir, None, outputs, Limits(), host_paths=host_paths)


def _unisolated_run(plan: Any, body: dict[str, Any], env: dict[str, str], command: list[str], args: list[str],
                    source: str | None, volumes: list[VolumeBind], files: list[PodFile], outputs: list[str],
                    node_dir: Path, log_path: Path, limits: Limits) -> PodRun:
    """``WORKFLOWS_ISOLATION=none``: the task runs on the host, with the real paths its template names."""
    if volumes:
        raise PodSetupError(f"volume mounts ({', '.join(volume.path for volume in volumes)}) need the pod "
                            "sandbox, which WORKFLOWS_ISOLATION=none turns off")
    for pod_file in files:
        _place(pod_file, Path(pod_file.path))
    if source is not None:
        script = node_dir / "script"
        script.write_text(source)
        command, args = command + [str(script)], []
    try:
        process = plan.process(command or None, args or None)
    except ImageError as error:
        raise PodSetupError(str(error)) from error
    pod_env = {**base_env(), **process.env, **env}
    cwd = body.get("workingDir") or str(process.cwd or node_dir)
    if source is not None and set(body.get("command") or ["sh"]) in PYTHON_COMMANDS:
        pod = PodProcess(pod_env, cwd, log_path, source=source, script_path=str(node_dir / "script"))
    else:
        pod = PodProcess(pod_env, cwd, log_path, argv=process.argv)
    return PodRun(pod, node_dir, None, outputs, limits, host_paths={path: path for path in outputs})


def _place(pod_file: PodFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if pod_file.text is not None:
        target.write_text(pod_file.text)
    elif pod_file.source is not None:
        copy_path(Path(pod_file.source), target)
