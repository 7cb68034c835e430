"""The runner: a detached process that executes one workflow and records it in the store.

``spawn_runner`` starts it and returns at once; the run goes on after the
submitting process exits. The runner holds an exclusive ``flock`` on the
workflow's ``runner.lock`` for its whole life (the submitter takes the lock
and hands the locked file to the runner); see :mod:`.watchdog` for what
happens when it dies.

The run itself is :mod:`.run`'s, imported once the runner has started its pods'
zygote (:func:`.pod.start_zygote_early`): the zygote's interpreter starts on
another core while the runner imports the engine.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .bootstrap import python_command
from .pod import start_zygote_early
from .store import Store, private_file
from .watchdog import start_watchdog

log = logging.getLogger("workflows.engine.runner")

LOCK_FD_ENV = "WORKFLOWS_RUNNER_LOCK_FD"
#: The template types whose nodes run sandboxed pods here (Argo's ``resource`` and ``data`` run in the runner).
SANDBOXED_TYPES = ("container", "script", "containerSet")
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
                python_command("from workflows.engine.runner import main; sys.exit(main(sys.argv[1:]))",
                               name, str(store.root)),
                stdin=subprocess.DEVNULL, stdout=runner_log, stderr=runner_log, start_new_session=True,
                pass_fds=(fd,), env={**os.environ, LOCK_FD_ENV: str(fd)},
            )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(fd)  # the runner holds the lock from now on (same open file description)
    store.runner_file(name, "pid").write_text(str(process.pid))
    _spawned.append(process)
    return process.pid


def _may_run_pods(manifest: dict[str, Any] | None) -> bool:
    """Whether the workflow ``manifest`` may run sandboxed pods: one of its templates is of
    :data:`SANDBOXED_TYPES`, or it refers to templates stored elsewhere."""
    spec = (manifest or {}).get("spec") or {}
    if spec.get("workflowTemplateRef"):
        return True
    for template in spec.get("templates") or []:
        if any(kind in template for kind in SANDBOXED_TYPES):
            return True
        steps = [step for group in template.get("steps") or [] for step in group or []]
        tasks = (template.get("dag") or {}).get("tasks") or []
        if any("templateRef" in node for node in [*steps, *tasks]):
            return True
    return False


def main(argv: list[str]) -> int:
    """Run the workflow ``NAME`` of the store at ``STATE_DIR`` (``argv``), as :func:`spawn_runner` starts it (or
    ``python -m workflows.engine.runner NAME STATE_DIR``)."""
    name, root = argv
    os.umask(0o077)  # everything the runner and its pods' leaders create in the state folder is private
    lock_fd = int(os.environ.pop(LOCK_FD_ENV))
    os.set_inheritable(lock_fd, False)  # pods must not hold the runner's lock
    start_watchdog(Path(root), name, lock_fd)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(Path(root))
    if _may_run_pods(store.manifest(name)):
        start_zygote_early(store.workflow_dir(name) / "nodes")
    import asyncio  # noqa: PLC0415 - the engine loads while the zygote starts (see the module's docstring)

    from .run import run_workflow  # noqa: PLC0415

    phase = asyncio.run(run_workflow(store, name, spawn_runner))
    log.info("workflow %s finished: %s", name, phase)
    store.close()
    os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
