"""The processes a test owns, found from a process it started (never by scanning all of ``/proc``).

A process is known by its pid and its start time (field 22 of ``/proc/PID/stat``), so that a pid the kernel
reuses for someone else's process is never taken for it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` from the state on (state, ppid, pgrp...); ``None`` once it exited."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else fields


def start_time(pid: int) -> str | None:
    """The start time of a live process (field 22 of ``/proc/PID/stat``); ``None`` once it exited."""
    fields = stat(pid)
    return None if fields is None else fields[19]


def parent(pid: int) -> int | None:
    """The parent of a live process; ``None`` once it exited."""
    fields = stat(pid)
    return None if fields is None else int(fields[1])


def arguments(pid: int) -> list[str]:
    """The command line of ``pid``, one argument per item (empty once it exited)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    parts = raw.split(b"\0")
    if parts[-1] == b"":  # the terminating NUL (a process that rewrote its command line may have none)
        parts.pop()
    return [part.decode(errors="replace") for part in parts]


def command(pid: int) -> str:
    """The command line of ``pid``, its arguments joined with spaces (empty once it exited)."""
    return " ".join(arguments(pid))


def descendants(pid: int) -> dict[int, str]:
    """The live descendants of ``pid`` (pid -> start time), through ``/proc/PID/task/TID/children``."""
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        for children in Path(f"/proc/{pending.pop()}/task").glob("*/children"):
            try:
                kids = [int(kid) for kid in children.read_text().split()]
            except OSError:
                continue
            for kid in kids:
                start = start_time(kid)
                if start is not None and kid not in found:
                    found[kid] = start
                    pending.append(kid)
    return found


def alive(processes: dict[int, str]) -> list[int]:
    """Which of ``processes`` (pid -> start time) still run: the same pid with the same start time, not a zombie."""
    return [pid for pid, start in processes.items() if start_time(pid) == start]


def kill(processes: dict[int, str]) -> None:
    """SIGKILL those of ``processes`` (pid -> start time) still alive, through a pidfd: never a reused pid."""
    for pid, start in processes.items():
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            if start_time(pid) == start:  # the handle holds this very process from now on
                signal.pidfd_send_signal(handle, signal.SIGKILL)
        except ProcessLookupError:
            continue
        finally:
            os.close(handle)


def runner_pid(home: Path, name: str, wait: float) -> int:
    """The pid of the local engine's runner of workflow ``name`` under ``home`` (its ``WORKFLOWS_HOME``), once
    it has written it (up to ``wait`` seconds)."""
    path = home / "workflows" / name / "runner.pid"
    deadline = time.monotonic() + wait
    while not (path.is_file() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"no {path} after {wait} s"
        time.sleep(0.02)
    return int(path.read_text())


def runner_log_at_end(home: Path, name: str, wait: float) -> str:
    """The log of the runner of workflow ``name`` under ``home``, once that runner ended (up to ``wait`` seconds):
    it writes its last lines after the workflow's end."""
    pid = runner_pid(home, name, wait)
    start = start_time(pid)
    runner = {pid: start} if start is not None else {}
    deadline = time.monotonic() + wait
    while alive(runner) and time.monotonic() < deadline:
        time.sleep(0.05)
    return (home / "workflows" / name / "runner.log").read_text()
