"""A sandboxed pod's end as ``/proc`` tells it, before its leader is reaped.

A pod ends when its leader (the first process of its PID namespace) exits, and so every other process of it.
The zygote, its parent, reports that to the runner once it reaped the leader (:mod:`.zygote`). But the
leader's exit first tears its memory down: for a PythonTask's leader, a forked interpreter, that is most of a
millisecond (its page tables, its copies of the zygote's pages), and only then does the zygote hear of it.
The runner can tell the end sooner, for a PythonTask's pod: its leader, the script done, closes every file
it holds (:func:`.process.close_files`) and exits. As its streams close, the runner looks at it in ``/proc``
(:func:`ended_alone`): once its memory is let go, which its exit does after setting its exit status, and it
has no other thread and no child, nothing of the pod runs or holds a file any more: every other process of
the pod is the leader's child (the pod's orphans go to its PID namespace's first process) until the leader's
exit, going on, has killed and reaped it. The runner takes the status from there, 0.16 ms after the script's
end instead of 1.0 (medians, bench/README.md, round 13), and the zygote's report, when it comes, finds nobody
listening.

What the pod does cannot fake this: it is the kernel's account of the leader. A pod that closes its streams
while it runs on is seen running, and its end comes from the zygote as before.
"""

from __future__ import annotations

import errno
import os
import time

#: How many times the runner looks for a pod's end once its streams closed (:func:`look_for_end`), and how long
#: it sleeps between two looks (the leader closed them just before it exits, but the runner, woken, may have
#: taken its processor: sleeping gives it back).
LOOKS = 3
LOOK_SECONDS = 50e-6


def _fields(process: int) -> tuple[int, list[bytes]]:
    """The pid and the fields after the command's name (field 3 of ``proc(5)`` on) of ``/proc/<pid>/stat``."""
    fd = os.open("stat", os.O_RDONLY | os.O_CLOEXEC, dir_fd=process)
    try:
        stat = os.read(fd, 4096)
    finally:
        os.close(fd)
    pid, rest = stat.split(b" ", 1)
    return int(pid), rest.rsplit(b")", 1)[1].split()  # the command's name may hold anything


def open_process(pid: int) -> int:
    """A descriptor of ``/proc/<pid>`` (``O_PATH``): what is read through it is that process's, and nothing once
    it was reaped, even if its pid is someone else's by then. Raises ``OSError``: ``PermissionError`` when
    ``/proc`` does not show this process that process's exit status.

    The kernel shows a process's exit status (as its memory's layout) to whoever may read it as a debugger
    would, and 0 to others: the layout, read now that the process runs, tells which.
    """
    process = os.open(f"/proc/{pid}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _, fields = _fields(process)
        if len(fields) < 50 or int(fields[42]) == 0:  # field 45, start_data: 0 when hidden (or when no memory)
            raise PermissionError(errno.EACCES, f"/proc/{pid} shows no memory layout: the process ended, or /proc "
                                                f"would not show this process its exit status")
    except BaseException:
        os.close(process)
        raise
    return process


def ended_alone(process: int) -> int | None:
    """The wait status of the process whose ``/proc`` folder ``process`` is (:func:`open_process`) if nothing
    of it runs any more though it was not reaped yet: its memory is let go, which a process's exit does once it
    set the exit status, and it has one thread and no child. ``None`` otherwise: running (a process that runs
    has memory), or reaped.
    """
    try:
        pid, fields = _fields(process)
        # fields[0] is field 3 of proc(5): the threads are field 20, the memory's size 23, the exit status 52
        if int(fields[17]) != 1 or int(fields[20]) != 0:
            return None
        children = os.open(f"task/{pid}/children", os.O_RDONLY | os.O_CLOEXEC, dir_fd=process)
        try:
            if os.read(children, 64).strip():
                return None
        finally:
            os.close(children)
    except (OSError, ValueError):  # reaped (ESRCH)
        return None
    return int(fields[49])


def look_for_end(process: int) -> int | None:
    """As :func:`ended_alone`, looking :data:`LOOKS` times :data:`LOOK_SECONDS` apart (the runner, as the pod's
    streams close); ``None`` then leaves the pod's end to the zygote's report."""
    for look in range(LOOKS):
        if look:
            time.sleep(LOOK_SECONDS)
        status = ended_alone(process)
        if status is not None:
            return status
    return None
