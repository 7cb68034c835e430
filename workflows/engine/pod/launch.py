"""From a pod's resolved template to the pod to run: in the sandbox (host and application images),
unisolated (``WORKFLOWS_ISOLATION=none``), or in a container runtime (see :mod:`.images`)."""

from __future__ import annotations

import functools
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any

from ... import config
from ...errors import DockerfileError
from ...events.embedded import FOLDER as EVENTS_FOLDER
from ...quantity import quantity_value
from ..bootstrap import PACKAGE_ROOT
from ..records import Record
from .images import ApplicationPlan, ContainerPlan, ImageError, UnavailablePlan, how_to_run
from .inputs import PodSetupError, base_env, input_files, volume_binds
from .isolation import isolation
from .limits import Limits
from .outputs import copy_path, declared_paths
from .process import ForkLeader, PodProcess, PodRun
from .identity import pod_root_ids
from .sandbox import DEFAULT_DISK_BYTES, OWN_FOLDERS, PodFile, SandboxPlan, VolumeBind

log = logging.getLogger(__name__)

#: Script commands that the runner's warm, forked interpreter can stand for.
PYTHON_COMMANDS = ({"python"}, {"python3"})
#: Where Argo puts a script template's source in the container.
SCRIPT_PATH = "/argo/staging/script"
_noticed: set[str] = set()


class ImageBuild(Record):
    """An application image whose ``RUN`` lines must be replayed before its pods run (see :mod:`.build`)."""

    plan: ApplicationPlan
    copies: list[PodFile]
    volumes: list[VolumeBind]
    disk_bytes: int

    def __init__(self, plan: ApplicationPlan, copies: list[PodFile], volumes: list[VolumeBind],
                 disk_bytes: int) -> None:
        self.plan = plan
        self.copies = copies
        self.volumes = volumes
        self.disk_bytes = disk_bytes

    async def layer(self, fork_leader: ForkLeader) -> tuple[Path, int]:
        """The image's layer folder, built if needed (its pod's leader forked by ``fork_leader``), and a shared
        lock on it (close it once the pod ended); raises :class:`~.build.BuildFailed`."""
        from .build import image_layer  # noqa: PLC0415 - only application images with RUN lines need it

        return await image_layer(self.plan, self.copies, self.volumes, self.disk_bytes, stage_files, fork_leader)


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
    # Argo runs a script without source as a plain container (no script path after the args)
    source = body.get("source") or None if kind == "script" else None
    if source is not None:
        command = command or ["sh"]
    if isinstance(plan, ContainerPlan):
        return _container_run(plan, body, env, command, args, source, volumes, files, outputs, node_dir, log_path,
                              limits)
    sandboxed = isolation() == "sandbox"
    if not sandboxed:
        return _unisolated_run(plan, body, env, command, args, source, volumes, files, outputs, node_dir,
                               log_path, limits)
    notes = (*plan.dockerfile.notes, *plan.notes) if isinstance(plan, ApplicationPlan) else ()
    if notes and body["image"] not in _noticed:
        _noticed.add(body["image"])
        log.info("%s", "\n".join(notes))
    if source is not None:
        files.append(PodFile(SCRIPT_PATH, text=source))
        args = args + [SCRIPT_PATH]  # Argo appends the script's path to the container's args
    try:
        process = (plan.process(command or None, args or None, sandboxed=True) if isinstance(plan, ApplicationPlan)
                   else plan.process(command or None, args or None))
    except ImageError as error:
        raise PodSetupError(str(error)) from error
    image_build = None
    if isinstance(plan, ApplicationPlan):
        copies = [PodFile(copied.image_path, source=str(copied.host_path)) for copied in plan.copied]
        if plan.dockerfile.runs:  # the layer holds the copies, as the RUN lines left them (chmod +x...)
            image_build = ImageBuild(plan, copies, engine_binds(), _disk_bytes(body))
        else:
            files = copies + files
    volumes += engine_binds() + [events_bind()]
    pod_env = {**base_env(), **process.env, **env}
    cwd = body.get("workingDir") or (str(process.cwd) if process.cwd is not None else "/")
    own_folder = bool(outputs) or any(pod_file.source is not None for pod_file in files)
    if own_folder:
        files = stage_files(files, node_dir / "pod")
    sandbox = SandboxPlan(_disk_bytes(body), volumes, files, hostname=node_id[:63])
    if source is not None and set(body.get("command") or ["sh"]) in PYTHON_COMMANDS and not body.get("args"):
        pod = PodProcess.python(pod_env, cwd, log_path, source, SCRIPT_PATH)
    else:
        pod = PodProcess(pod_env, cwd, log_path, argv=process.argv)
    return PodRun(pod, node_dir, sandbox, outputs, limits, image_build=image_build, own_folder=own_folder)


def _container_run(plan: ContainerPlan, body: dict[str, Any], env: dict[str, str], command: list[str],
                   args: list[str], source: str | None, volumes: list[VolumeBind], files: list[PodFile],
                   outputs: list[str], node_dir: Path, log_path: Path, limits: Limits) -> PodRun:
    """A real container: volumes, inputs, outputs and the script are bind-mounted from the node's folder."""
    node_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        args = args + [SCRIPT_PATH]  # Argo appends the script's path to the container's args
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
    node_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # its working directory
    if volumes:
        raise PodSetupError(f"volume mounts ({', '.join(volume.path for volume in volumes)}) need the pod "
                            "sandbox, which WORKFLOWS_ISOLATION=none turns off")
    notice = getattr(plan, "notice", None)
    if notice and body["image"] not in _noticed:
        _noticed.add(body["image"])
        log.info("%s", notice)
    for pod_file in files:
        _place(pod_file, Path(pod_file.path))
    if source is not None:
        script = node_dir / "script"
        script.write_text(source)
        args = args + [str(script)]
    try:
        process = plan.process(command or None, args or None)
    except ImageError as error:
        raise PodSetupError(str(error)) from error
    pod_env = {**base_env(), **process.env, **env}
    cwd = body.get("workingDir") or str(process.cwd or node_dir)
    if source is not None and set(body.get("command") or ["sh"]) in PYTHON_COMMANDS and not body.get("args"):
        pod = PodProcess.python(pod_env, cwd, log_path, source, str(node_dir / "script"))
    else:
        pod = PodProcess(pod_env, cwd, log_path, argv=process.argv)
    return PodRun(pod, node_dir, None, outputs, limits, host_paths={path: path for path in outputs})


@functools.lru_cache(maxsize=64)
def _open_to_others(path: str) -> bool:
    """Whether any user may read ``path`` (and enter every folder above it); asked once per process, for the
    engine's own folders."""
    current = path
    while True:
        mode = os.stat(current).st_mode
        if not mode & stat.S_IXOTH or (current == path and not mode & stat.S_IROTH):
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def _import_roots() -> set[str]:
    """The folders the loaded modules were imported from: each module's file, less the path its dotted name
    makes (``.../site-packages`` for ``.../site-packages/workflows/engine/pod/launch.py``), or the file's own
    folder for a module whose name does not match its path (an alias)."""
    roots = set()
    folders: dict[str, str] = {}  # a folder's real path, resolved once for all its modules
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name == "__main__" or not isinstance(path, str):
            continue
        folder, file = os.path.split(os.path.abspath(path))
        if folder not in folders:
            folders[folder] = os.path.realpath(folder)
        path = os.path.join(folders[folder], file)
        if os.path.islink(path):
            path = os.path.realpath(path)
        root = os.path.dirname(path)
        for _ in range(name.count(".") + (1 if os.path.basename(path).startswith("__init__.") else 0)):
            root = os.path.dirname(root)
        named = os.path.join(root, *name.split("."))
        roots.add(root if path.startswith((named + ".", named + "/__init__.")) else os.path.dirname(path))
    return roots


@functools.lru_cache(maxsize=1)
def _engine_folders() -> tuple[str, ...]:
    """The folders of the engine's Python: its prefixes and interpreter, the folder holding this package (an
    editable checkout's), and the folders its loaded modules were imported from. Not every entry of
    ``sys.path``: a user's ``python -m`` puts the working directory there, which may hold anything (the
    engine's state, the folder of the virtualenv it runs from)."""
    candidates = [sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                  PACKAGE_ROOT, *_import_roots()]
    folders: list[str] = []
    for folder in sorted({os.path.realpath(candidate) for candidate in candidates}):
        if not any(folder == kept or folder.startswith(kept + "/") for kept in folders):
            folders.append(folder)
    return tuple(folders)


def _hidden_by_the_pod(folder: str) -> bool:
    """Whether the pod's own folders (its private ``/tmp``...) cover ``folder``: a virtualenv under ``/tmp``."""
    return folder.split("/")[1] in OWN_FOLDERS


def events_bind() -> VolumeBind:
    """The embedded events backend's folder, at its real path: every pod may publish and consume events.

    It stands for the network a pod in a cluster reaches its broker through:
    tasks call ``notify_queue``, the built-in steps publish results and
    notifications. Nothing else of the engine's state is visible to a pod.
    """
    folder = str(config.state_home() / EVENTS_FOLDER)
    _make_once(folder)
    return VolumeBind(folder, folder)


@functools.lru_cache(maxsize=8)
def _make_once(folder: str) -> None:
    """Make ``folder`` (private), once per process."""
    os.makedirs(folder, mode=0o700, exist_ok=True)


def engine_binds() -> list[VolumeBind]:
    """The engine's own Python installation, read-only at its real paths, where a pod would not see it.

    Pods run the engine's Python: its folders are bound when the pod's own folders cover them (a
    virtualenv under ``/tmp``), and, when the engine runs as root (the pod's root is then another id,
    see :mod:`.identity`), when they are private (``/root/.pyenv``...).
    """
    other_root = pod_root_ids() != (os.geteuid(), os.getegid())
    return [VolumeBind(folder, folder, read_only=True) for folder in _engine_folders()
            if _hidden_by_the_pod(folder) or (other_root and not _open_to_others(folder))]


def stage_files(files: list[PodFile], pod_dir: Path) -> list[PodFile]:
    """Prepare the pod's own folder: its files' sources copied into it, all of it owned by the pod's root.

    The pod's processes may not read the engine's state (it is private to the engine's user, and the
    pod's root is another id when the engine runs as root): they read these copies.
    """
    pod_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = []
    for index, pod_file in enumerate(files):
        if pod_file.source is None:
            staged.append(pod_file)
            continue
        name = f"files/{index}"
        _place(pod_file, pod_dir / name)
        staged.append(PodFile(pod_file.path, source=name))
    uid, gid = pod_root_ids()
    if (uid, gid) != (os.geteuid(), os.getegid()):
        for folder, folders, names in os.walk(pod_dir):
            for name in [folder, *(os.path.join(folder, item) for item in folders + names)]:
                os.lchown(name, uid, gid)
    return staged


def _place(pod_file: PodFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if pod_file.text is not None:
        target.write_text(pod_file.text)
    elif pod_file.source is not None:
        copy_path(Path(pod_file.source), target)
