"""Pods' process groups: signalling one, and recording one so that it can be killed later, safely.

A pod's leader leads a process group (its id is the leader's pid). The runner
records it with the pod's node, so that a dead runner's watchdog, a reader
that finds the runner gone, or ``delete`` can kill what the pod left. By then
the system may have given that id to another process — after a reboot, or
once it made 32,768 (``kernel.pid_max``'s default) processes more — so a
record also says when the leader started, and a group whose id may now be
someone else's is never signalled.
"""

from __future__ import annotations

import functools
import os
import signal

from .records import FrozenRecord


def kill_group(pgid: int, signum: int = signal.SIGKILL) -> None:
    """Signal a pod's whole process group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


class ProcessGroup(FrozenRecord):
    """A pod's process group as recorded: its id, and when its leader started (``<boot id>/<clock ticks since
    boot>``)."""

    pgid: int
    start: str

    def __init__(self, pgid: int, start: str) -> None:
        self.pgid = pgid
        self.start = start


@functools.lru_cache(maxsize=1)
def _boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot_id:
        return boot_id.read().strip()


def _started(pid: int) -> str | None:
    """When process ``pid`` started, as :attr:`ProcessGroup.start` says it; ``None`` when there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            fields = stat_file.read().rsplit(b")", 1)[1].split()  # the command's name may hold anything
    except (FileNotFoundError, ProcessLookupError):
        return None
    return f"{_boot_id()}/{int(fields[19])}"  # field 22 of proc(5), starttime: fields[0] is field 3, state


def process_group(pid: int) -> ProcessGroup | None:
    """The record of the process group that the pod's leader ``pid`` leads; ``None`` when it already ended."""
    start = _started(pid)
    return ProcessGroup(pid, start) if start is not None else None


def kill_recorded_group(group: ProcessGroup) -> None:
    """Kill a recorded process group, unless its id may now be someone else's: recorded in another boot, or
    its leader's id now belongs to a process that started at another time. A group whose leader ended while
    other processes of it still run keeps its id (the kernel gives no new process an id a group still uses),
    and is killed."""
    if not group.start.startswith(_boot_id() + "/"):
        return
    now = _started(group.pgid)
    if now is None or now == group.start:
        kill_group(group.pgid)
