"""The runner: a detached process that executes one workflow and records it in the store.

``spawn_runner`` starts it and returns at once; the run goes on after the
submitting process exits. The runner holds an exclusive ``flock`` on the
workflow's ``runner.lock`` for its whole life (the submitter takes the lock
and hands the locked file to the runner); see :mod:`.watchdog` for what
happens when it dies.

Stop (``SIGTERM`` after :meth:`Store.request_stop`): running pods are killed,
their nodes fail with "Stopped with strategy 'Stop'", and the exit handler
runs; ``terminate`` skips the exit handler.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..durations import duration_seconds
from ..timestamps import timestamp
from .bells import workflow_bell
from .execution import WorkflowExecution
from .pod import unisolated_warning
from .store import Store, private_file
from .submission import submit
from .watchdog import start_watchdog

log = logging.getLogger("workflows.engine.runner")

LOCK_FD_ENV = "WORKFLOWS_RUNNER_LOCK_FD"
FLUSH_SECONDS = 0.05
STOP_MESSAGE = "Stopped with strategy 'Stop'"
TERMINATE_MESSAGE = "Stopped with strategy 'Terminate'"
#: Runners started by this process, kept so that finished ones are reaped (no zombies in long-lived services).
_spawned: list[subprocess.Popen] = []


def spawn_runner(store: Store, name: str) -> int:
    """Start the runner of a stored workflow, detached; return its pid."""
    _spawned[:] = [process for process in _spawned if process.poll() is None]
    fd = os.open(store.runner_file(name, "lock"), os.O_CREAT | os.O_RDWR, 0o600)
    # SIGTERM (a stop) stays blocked, hence pending, until the runner can handle it.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        private_file(store.runner_file(name, "log"))
        private_file(store.runner_file(name, "pid"))
        with open(store.runner_file(name, "log"), "ab") as runner_log:
            process = subprocess.Popen(
                [sys.executable, "-m", "workflows.engine.runner", name, str(store.root)],
                stdin=subprocess.DEVNULL, stdout=runner_log, stderr=runner_log, start_new_session=True,
                pass_fds=(fd,), env={**os.environ, LOCK_FD_ENV: str(fd)},
            )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(fd)  # the runner holds the lock from now on (same open file description)
    store.runner_file(name, "pid").write_text(str(process.pid))
    _spawned.append(process)
    return process.pid


def _workflow_phase(root: dict[str, Any]) -> str:
    return {"Failed": "Failed", "Error": "Error"}.get(root["phase"], "Succeeded")


def _expiry(spec: dict[str, Any], phase: str) -> float | None:
    """When ``ttlStrategy`` removes the finished workflow (epoch seconds), or ``None``."""
    ttl = spec.get("ttlStrategy") or {}
    keys = ("secondsAfterSuccess",) if phase == "Succeeded" else ("secondsAfterFailure",)
    for key in (*keys, "secondsAfterCompletion"):
        if ttl.get(key) is not None:
            return time.time() + float(ttl[key])
    return None


async def _flush_forever(execution: WorkflowExecution, bell) -> None:
    """Every :data:`FLUSH_SECONDS`: write changed nodes, and ring the doorbell when nodes changed or pods printed."""
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        changed = execution.nodes.flush()
        if changed or execution.printed:
            execution.printed = False
            bell.ring()


async def run_workflow(store: Store, name: str) -> str:
    """Execute the workflow to its end (main templates, then the exit handler); return its final phase."""
    execution = WorkflowExecution(store, name, submit=functools.partial(submit, start=spawn_runner))
    warning = unisolated_warning()
    if warning:
        log.warning("workflow %s: %s", name, warning)
    bell = workflow_bell(store, name)
    store.set_phase(name, "Running", started_at=timestamp())
    bell.ring()
    loop = asyncio.get_running_loop()
    main = asyncio.ensure_future(execution.run_main())
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by spawn_runner until now
    flusher = asyncio.ensure_future(_flush_forever(execution, bell))
    deadline = execution.spec.get("activeDeadlineSeconds")
    run_exit_handler = True
    try:
        root = await asyncio.wait_for(main, duration_seconds(deadline) if deadline else None)
        phase, message = _workflow_phase(root), root.get("message")
    except asyncio.TimeoutError:
        execution.fail_unfinished("Step exceeded its deadline")
        phase, message = "Failed", "Max duration limit exceeded"
    except asyncio.CancelledError:
        terminate = store.stop_requested(name) == "terminate"
        message = TERMINATE_MESSAGE if terminate else STOP_MESSAGE
        execution.fail_unfinished(message)
        phase, run_exit_handler = "Failed", not terminate
    loop.remove_signal_handler(signal.SIGTERM)
    if run_exit_handler:
        handler = await execution.run_exit_handler(phase)
        if handler is not None and handler["phase"] in ("Failed", "Error") and phase == "Succeeded":
            phase, message = "Failed", f"exit handler {handler['id']!r} {handler['phase'].lower()}"
    flusher.cancel()
    execution.nodes.flush()
    outputs = {"parameters": [{"name": key, "value": value} for key, value in execution.global_outputs.items()]}
    store.set_phase(name, phase, message=message, finished_at=timestamp(), expires=_expiry(execution.spec, phase),
                    outputs=outputs if execution.global_outputs else None)
    bell.ring()
    return phase


def main(argv: list[str]) -> int:
    """``python -m workflows.engine.runner NAME STATE_DIR``: run one workflow (started by :func:`spawn_runner`)."""
    name, root = argv
    os.umask(0o077)  # everything the runner and its pods' leaders create in the state folder is private
    lock_fd = int(os.environ.pop(LOCK_FD_ENV))
    os.set_inheritable(lock_fd, False)  # pods must not hold the runner's lock
    start_watchdog(Path(root), name, lock_fd)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(Path(root))
    phase = asyncio.run(run_workflow(store, name))
    log.info("workflow %s finished: %s", name, phase)
    store.close()
    os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
