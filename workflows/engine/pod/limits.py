"""A pod's ``resources.limits``: memory and CPU through a cgroup of its own, or an rlimit as the fallback.

Order of preference, without any daemon:

1. **cgroup v2**, when the engine's own cgroup is delegated to its user
   (``<cgroup2 mount>/<own cgroup>`` writable and offering ``memory``): a child
   cgroup per pod with ``memory.max``, ``memory.swap.max = 0`` and ``cpu.max``;
   an OOM kill shows in ``memory.events``.
2. **cgroup v1**, when the engine's ``memory`` (and ``cpu``) hierarchy
   folder is writable (typically as root): ``memory.limit_in_bytes``,
   ``cpu.cfs_quota_us``; an OOM kill shows in ``memory.oom_control``.
3. Otherwise ``RLIMIT_AS`` (the address space) bounds the pod's processes:
   allocations beyond it fail inside the task instead of an OOM kill, and
   CPU limits are not enforced. :func:`probe` says which applies.

The pod's main process joins the cgroup between fork and exec
(:meth:`PodCgroup.join_fds`), so the engine's own memory is never charged to it.
"""

from __future__ import annotations

import errno
import os
import resource
import time
from pathlib import Path

from ...quantity import quantity_value
from ..records import FrozenRecord, Record
from .lazy_logging import LazyLogger

log = LazyLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Microseconds of one CFS period (the kernel's default).
CPU_PERIOD_US = 100_000


class Limits(FrozenRecord):
    """A pod's limits: memory in bytes and CPU in cores, ``None`` when unlimited."""

    memory: int | None
    cpu: float | None

    def __init__(self, memory: int | None = None, cpu: float | None = None) -> None:
        self.memory = memory
        self.cpu = cpu

    @classmethod
    def of(cls, body: dict) -> "Limits":
        """The ``resources.limits`` of a container (``memory: 5M``, ``cpu: 500m``)."""
        limits = (body.get("resources") or {}).get("limits") or {}
        memory = int(quantity_value("resources.limits.memory", limits["memory"])) if limits.get("memory") else None
        cpu = quantity_value("resources.limits.cpu", limits["cpu"]) if limits.get("cpu") else None
        return cls(memory, cpu)


def _own_cgroup(controller: str | None) -> str | None:
    """The engine's cgroup path in the hierarchy of ``controller`` (``None``: the v2 unified one)."""
    with open("/proc/self/cgroup", encoding="utf-8") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            names = controllers.split(",") if controllers else []
            if (controller is None and not names) or (controller is not None and controller in names):
                return path
    return None


def _v2_root() -> Path | None:
    for candidate in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        if (candidate / "cgroup.controllers").is_file():
            return candidate
    return None


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


class PodCgroup(Record):
    """The cgroup folders of one pod (one for v2; ``memory`` and maybe ``cpu`` for v1)."""

    folders: list[Path]
    version: int

    def __init__(self, folders: list[Path], version: int) -> None:
        self.folders = folders
        self.version = version

    def join_fds(self) -> list[int]:
        """Open each folder's ``cgroup.procs`` for writing (the child writes ``0`` to join)."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for folder in self.folders]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the pod for exceeding its memory limit."""
        for folder in self.folders:
            name = "memory.events" if self.version == 2 else "memory.oom_control"
            path = folder / name
            if path.is_file():
                for line in path.read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        return False

    def remove(self) -> None:
        """Delete the folders (their processes are gone; the kernel may need a moment to notice)."""
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        log.warning("cannot remove cgroup %s: %s", folder, error)
                        break
                    time.sleep(0.01)


def _create_v2(name: str, limits: Limits) -> PodCgroup | None:
    root = _v2_root()
    own = _own_cgroup(None)
    if root is None or own is None:
        return None
    parent = root / own.lstrip("/")
    if not _writable(parent) or "memory" not in (parent / "cgroup.controllers").read_text().split():
        return None
    folder = parent / name
    try:
        folder.mkdir()
        folder.chmod(0o755)  # the pod may read its own statistics
        if "memory" not in (folder / "cgroup.controllers").read_text().split():
            folder.rmdir()
            return None
        if limits.memory is not None:
            (folder / "memory.max").write_text(str(limits.memory))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
        if limits.cpu is not None and (folder / "cpu.max").exists():
            (folder / "cpu.max").write_text(f"{max(1000, int(limits.cpu * CPU_PERIOD_US))} {CPU_PERIOD_US}")
    except OSError as error:
        log.debug("cgroup v2 %s unusable: %s", folder, error)
        PodCgroup([folder], 2).remove()
        return None
    return PodCgroup([folder], 2)


def _create_v1(name: str, limits: Limits) -> PodCgroup | None:
    own = _own_cgroup("memory")
    if own is None:
        return None
    memory_parent = CGROUP_ROOT / "memory" / own.lstrip("/")
    if not _writable(memory_parent):
        return None
    folders = [memory_parent / name]
    try:
        folders[0].mkdir()
        folders[0].chmod(0o755)  # the pod may read its own statistics
        if limits.memory is not None:
            (folders[0] / "memory.limit_in_bytes").write_text(str(limits.memory))
            swap = folders[0] / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limits.memory))
        cpu_own = _own_cgroup("cpu")
        cpu_parent = CGROUP_ROOT / "cpu" / (cpu_own or "").lstrip("/")
        if limits.cpu is not None and cpu_own is not None and _writable(cpu_parent):
            folders.append(cpu_parent / name)
            folders[1].mkdir()
            folders[1].chmod(0o755)
            (folders[1] / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (folders[1] / "cpu.cfs_quota_us").write_text(str(max(1000, int(limits.cpu * CPU_PERIOD_US))))
    except OSError as error:
        log.debug("cgroup v1 %s unusable: %s", folders, error)
        PodCgroup(folders, 1).remove()
        return None
    return PodCgroup(folders, 1)


def create_cgroup(name: str, limits: Limits) -> PodCgroup | None:
    """A cgroup enforcing ``limits`` for one pod, or ``None`` (no limits, or no delegable cgroup)."""
    if limits.memory is None and limits.cpu is None:
        return None
    return _create_v2(name, limits) or _create_v1(name, limits)


def probe() -> str:
    """How limits are enforced here: ``"cgroup v2"``, ``"cgroup v1"`` or ``"rlimit"``."""
    name = f"workflows-probe-{os.getpid()}"
    for version, create in ((2, _create_v2), (1, _create_v1)):
        cgroup = create(name, Limits(memory=1 << 30))
        if cgroup is not None:
            cgroup.remove()
            return f"cgroup v{version}"
    return "rlimit"


def apply_rlimit(limits: Limits, *, forked_interpreter: bool) -> None:
    """The fallback, in the pod's main process: its address space may not exceed the memory limit.

    A PythonTask runs in the forked runner's interpreter, whose address space is already in use: the
    limit then bounds what it maps beyond that.
    """
    if limits.memory is None:
        return
    bound = limits.memory
    if forked_interpreter:
        with open("/proc/self/statm", encoding="utf-8") as statm:
            bound += int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (bound, bound))
