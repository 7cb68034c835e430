"""The runner's lock: whether a runner lives, waiting for its end, and cleaning up after its death.

A runner holds an exclusive ``flock`` on ``runner.lock`` for its whole life.
Its watchdog — a process forked by the runner before it starts work — blocks
on that lock (no polling); if the runner dies before recording the workflow's
end, the watchdog marks the workflow ``Error`` and kills the process groups of
its pods at once. Readers do the same if they find the lock free first.
"""

from __future__ import annotations

import fcntl
import os
import traceback
from pathlib import Path

from ..timestamps import timestamp
from .bells import workflow_bell
from .processgroups import kill_recorded_group
from ..vocabulary import COMPLETED_PHASES, FULFILLED_PHASES
from .store import Store

RUNNER_DIED = "the local runner of this workflow died before it finished"


def runner_alive(store: Store, name: str) -> bool:
    """Whether the runner of ``name`` still holds its lock."""
    try:
        fd = os.open(store.runner_file(name, "lock"), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def wait_for_runner(store: Store, name: str) -> None:
    """Block until the runner of ``name`` releases its lock (it ended, one way or the other)."""
    fd = os.open(store.runner_file(name, "lock"), os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


def _death(store: Store, name: str) -> str:
    """:data:`RUNNER_DIED`, with the error the runner recorded as it failed (killed, it recorded none)."""
    try:
        reason = store.runner_file(name, "error").read_text(errors="replace").strip()
    except FileNotFoundError:
        return RUNNER_DIED
    return f"{RUNNER_DIED}: {reason}" if reason else RUNNER_DIED


def bury(store: Store, name: str) -> bool:
    """If the workflow is unfinished and its runner gone: mark it (and its running nodes) ``Error``, with the error
    the runner failed with when it recorded one, and kill its pods. Returns whether it did. Safe to call from
    several processes at once."""
    fd = os.open(store.runner_file(name, "lock"), os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for a live runner; the runner records the end before it lets go
        if store.phase(name) in (None, *COMPLETED_PHASES):
            return False
        for group in store.running_process_groups(name):
            kill_recorded_group(group)
        workflow = store.read(name)
        message = _death(store, name)
        nodes = {
            node_id: (index, {**node, "phase": "Error", "message": message,
                              "finishedAt": node.get("finishedAt") or timestamp()}, None)
            for index, (node_id, node) in enumerate((workflow["status"].get("nodes") or {}).items())
            if node["phase"] not in FULFILLED_PHASES
        }
        if nodes:
            store.write_nodes(name, nodes)
        store.set_phase(name, "Error", message=message, finished_at=timestamp())
    finally:
        os.close(fd)
    workflow_bell(store, name).ring()
    return True


def start_watchdog(store_root: Path, name: str) -> int:
    """Fork the watchdog of this runner (call it in the runner, before any work); returns its pid in the runner,
    which reaps it once it let go of its lock at its end (the watchdog then ends, finding the workflow
    finished)."""
    pid = os.fork()
    if pid != 0:
        return pid
    code = 0
    try:
        os.setsid()
        # the runner's descriptors, which the watchdog must not keep alive: its lock, and its pods' zygote's
        # socket (started before, see .runner), whose end would not reach the zygote while a copy is open
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        store = Store(store_root)
        wait_for_runner(store, name)
        bury(store, name)
    except BaseException:  # noqa: BLE001 - a forked child must never return into the runner's code
        traceback.print_exc()  # to the runner's log, which the watchdog shares
        code = 1
    finally:
        os._exit(code)
