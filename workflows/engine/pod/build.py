"""Application images' ``RUN`` lines, replayed once per build context into a cached layer.

The first pod of an image whose Dockerfile has ``RUN`` lines builds its layer:
a pod of its own (same sandbox, the ``COPY``/``ADD`` sources in place) runs the
lines in order, each with the ``ENV``/``ARG`` values and ``WORKDIR`` of its
place in the Dockerfile, and its init keeps what they changed. The layer is
stored under ``$WORKFLOWS_HOME/images/<content key>/`` — the key hashes the
Dockerfile and every file of the build context, so editing either rebuilds —
and every pod of the image sees it stacked on the host's folders. A failing
``RUN`` fails the node with the build log. Deleted files are not kept
(overlay whiteouts are dropped).

Old layers go: a pod holds a shared ``flock`` on its layer's ``<key>.lock``
while it runs, and each new layer of a Dockerfile removes the Dockerfile's
other layers no pod holds (``<key>.image`` names a layer's Dockerfile), so
editing a build context does not pile layers up under ``$WORKFLOWS_HOME``.

``RUN pip install`` of this library (``harness-workflows``, or ``.`` of its own
checkout) is satisfied by the engine's own installation, which pods see: the
line is skipped, without network.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import logging
import os
import re
import shlex
import shutil
from pathlib import Path

from ... import config
from .dockerfile import RunStep
from .identity import pod_userns, use_idmapped_mounts
from .images import ApplicationPlan
from .inputs import base_env
from .process import ForkLeader, PodProcess, PodRun, run_pod
from .sandbox import PodFile, SandboxPlan, host_mount_points
from ...errors import BuildFailed

log = logging.getLogger(__name__)

#: The build script's path in the build pod.
BUILD_SCRIPT = "/argo/staging/build"
#: How much of the build log a failed build's message quotes.
LOG_TAIL = 4000
_SELF_INSTALL = re.compile(r"^\s*(?:python3?\s+-m\s+)?pip3?\s+install(?:\s+--?[\w-]+(?:=\S+)?)*"
                           r"\s+(?:harness-workflows|\.)\s*$")
#: ``${NAME}`` or ``$NAME`` in a shell line.
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_locks: dict[str, asyncio.Lock] = {}


def content_key(plan: ApplicationPlan) -> str:
    """A hash of the Dockerfile, its ``RUN`` steps and every file of the build context."""
    digest = hashlib.sha256()
    digest.update(repr(plan.dockerfile.runs).encode())
    context = plan.context
    for folder, folders, names in os.walk(context):
        folders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            digest.update(str(path.relative_to(context)).encode() + b"\0")
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(oct(path.stat().st_mode).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:32]




def skips_self_install(step: RunStep) -> bool:
    """Whether the step only installs this library (satisfied by the engine's installation).

    The line is read as its shell would: ``$NAME`` and ``${NAME}`` of the step's ``ENV``/``ARG`` values
    expanded and quotes removed, so ``ARG WORKFLOWS_PACKAGE=harness-workflows`` then
    ``RUN pip install "${WORKFLOWS_PACKAGE}"`` is recognised, and a build argument naming another package is not.
    """
    if not step.argv:
        return False
    values = dict(step.env)
    line = _VARIABLE.sub(lambda match: values.get(match.group(1) or match.group(2), match.group(0)), step.argv[-1])
    try:
        words = shlex.split(line)
    except ValueError:  # unbalanced quotes: not a plain install line
        return False
    return _SELF_INSTALL.match(" ".join(words)) is not None


def build_script(steps: tuple[RunStep, ...]) -> str:
    """A shell script running ``steps`` in order; it stops at the first that fails, with its exit code."""
    lines = ["set -e"]
    for step in steps:
        shown = " ".join(step.argv[-1:] if len(step.argv) == 3 and step.argv[1] == "-c" else step.argv)
        if skips_self_install(step):
            lines.append(f"echo {shlex.quote(f'RUN {shown}: satisfied by the engine own installation')} >&2")
            continue
        env = " ".join(shlex.quote(f"{name}={value}") for name, value in step.env)
        lines.append(f"echo {shlex.quote(f'RUN {shown}')} >&2")
        lines.append(f"mkdir -p {shlex.quote(step.workdir)} && cd {shlex.quote(step.workdir)}")
        lines.append(f"env -i {env} {' '.join(shlex.quote(item) for item in step.argv)}")
    return "\n".join(lines) + "\n"


def _lock_file(images: Path, key: str) -> int:
    """The layer ``key``'s lock file, open (a pod holds it shared; a removal, exclusive)."""
    return os.open(images / f"{key}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)


def prune_layers(images: Path, dockerfile: str, keep: str) -> list[str]:
    """Remove the layers of ``dockerfile`` other than ``keep`` that no pod holds; return their keys."""
    removed = []
    for marker in sorted(images.glob(f"*{_DOCKERFILE_SUFFIX}")):
        key = marker.name[: -len(_DOCKERFILE_SUFFIX)]
        if key == keep or marker.read_text() != dockerfile:
            continue
        fd = _lock_file(images, key)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a pod runs on it: a later build removes it
            os.close(fd)
            continue
        try:
            shutil.rmtree(images / key, ignore_errors=True)
            marker.unlink(missing_ok=True)
            (images / f"{key}.lock").unlink(missing_ok=True)
        finally:
            os.close(fd)
        removed.append(key)
    return removed


#: The file beside a layer naming the Dockerfile it was built from.
_DOCKERFILE_SUFFIX = ".image"


async def image_layer(plan: ApplicationPlan, files: list[PodFile], volumes: list, disk_bytes: int,
                      stage, fork_leader: ForkLeader) -> tuple[Path, int]:
    """The folder of the image's replayed ``RUN`` layer, built first if needed, and a shared lock on it (a
    descriptor: close it once the pod ended; until then no build removes the layer).

    ``files`` are the image's COPY/ADD sources (host paths), ``volumes`` what every pod gets
    (the engine's installation), ``stage`` the function preparing a pod's own folder, ``fork_leader`` where
    the build pod's leader is forked (the runner's zygote).
    Raises :class:`BuildFailed` with the build log when a ``RUN`` line fails.
    """
    key = content_key(plan)
    images = config.state_dir() / "images"
    images.mkdir(mode=0o700, exist_ok=True)
    layer = images / key
    held = _lock_file(images, key)
    try:
        fcntl.flock(held, fcntl.LOCK_SH)
        if not layer.is_dir():
            async with _locks.setdefault(key, asyncio.Lock()):
                if not layer.is_dir():
                    await _build(plan, files, volumes, disk_bytes, stage, images, key, fork_leader)
    except BaseException:
        os.close(held)
        raise
    return layer, held


def _place_layer(built: Path, layer: Path) -> None:
    """Move a build's layer to its place. Runners of other workflows may build the same content at the same time
    (their builds are serialized only within a runner): when one of them placed its layer first, that one serves,
    and ``built`` goes with its build folder."""
    try:
        os.rename(built, layer)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not layer.is_dir():
            raise
        log.info("layer %s: built by another runner meanwhile, which is used", layer.name)


async def _build(plan: ApplicationPlan, files: list[PodFile], volumes: list, disk_bytes: int, stage,
                 images: Path, key: str, fork_leader: ForkLeader) -> None:
    """Replay the image's ``RUN`` lines into ``images/<key>``, then remove the Dockerfile's older layers."""
    build_dir = images / f"{key}.build-{os.urandom(4).hex()}"
    build_dir.mkdir(mode=0o700)
    try:
        log_path = build_dir / "build.log"
        script = PodFile(BUILD_SCRIPT, text=build_script(plan.dockerfile.runs))
        sandbox = SandboxPlan(disk_bytes, list(volumes), stage(files + [script], build_dir / "pod"),
                              hostname="build", capture=True)
        process = PodProcess(base_env(), "/", log_path, argv=["/bin/sh", BUILD_SCRIPT])
        trees: list[int] = []
        try:
            use_idmapped_mounts(sandbox, trees)
            result = await run_pod(PodRun(process, build_dir, sandbox, userns=pod_userns(),
                                          host_mounts=host_mount_points()), fork_leader=fork_leader)
        finally:
            for fd in trees:
                os.close(fd)
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if result.error is not None or result.exit_code != 0:
            problem = result.error or f"exit code {result.exit_code}"
            raise BuildFailed(f"building image {plan.image!r} from {plan.dockerfile.path} failed "
                              f"({problem}); build log:\n{text[-LOG_TAIL:]}")
        _place_layer(build_dir / "pod" / "layer", images / key)
        (images / f"{key}{_DOCKERFILE_SUFFIX}").write_text(str(plan.dockerfile.path))
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    removed = prune_layers(images, str(plan.dockerfile.path), keep=key)
    if removed:
        log.info("image %s: removed %d older layer(s) of %s", plan.image, len(removed), plan.dockerfile.path)
