"""The runner: a detached process that executes one workflow and records it in the store.

``spawn_runner`` starts it and returns at once; the run goes on after the
submitting process exits. The runner holds an exclusive ``flock`` on the
workflow's ``runner.lock`` for its whole life (the submitter takes the lock
and hands the locked file to the runner); see :mod:`.watchdog` for what
happens when it dies.

The runner's first act, for a workflow that may run sandboxed pods, is to fork
its pods' zygote (:func:`.pod.zygote.start_zygote_early`), having imported only
what the zygote needs: the zygote gets ready on another core while the runner
imports the engine, and :mod:`.run` runs the workflow. This module's own
imports are light for that reason. A runner started ahead, as a submission begins
or as a spare (:func:`spare_main`, see :mod:`.spares`), does all that before its
workflow is known, then waits for it.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

from .bootstrap import python_command
from .capacity import raise_open_files_limit

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote is forked from the runner before these are imported (see the docstring)
    import subprocess
    from typing import Any

    from .store import Store

LOCK_FD_ENV = "WORKFLOWS_RUNNER_LOCK_FD"
#: The template types whose nodes run sandboxed pods here (Argo's ``resource`` and ``data`` run in the runner).
SANDBOXED_TYPES = ("container", "script", "containerSet")
#: How long a spare runner waits for the runner started before it to end before it loads anyway, and how often
#: it checks (see :func:`_quiet`).
SPARE_QUIET_SECONDS = 2.0
QUIET_CHECK = 0.02
#: Runners started by this process, kept so that finished ones are reaped (no zombies in long-lived services).
_spawned: list[subprocess.Popen] = []


def spawn_runner(store: Store, manifest: dict[str, Any]) -> int:
    """Start the runner of a stored workflow (its ``manifest`` as stored, named), detached; return its pid. For a
    workflow that may run sandboxed pods, the runner is told their folder, to start their zygote first thing.
    A runner started ahead under the same circumstances, when this process has one, is handed the workflow
    instead (see :mod:`.spares`)."""
    import subprocess  # noqa: PLC0415 - light for the runner (see the module's docstring)

    from . import spares  # noqa: PLC0415
    from .store import private_file  # noqa: PLC0415

    name = manifest["metadata"]["name"]
    pods = [str(store.workflow_dir(name) / "nodes")] if _may_run_pods(manifest) else []
    _spawned[:] = [process for process in _spawned if process.poll() is None]
    circumstances = spares.Circumstances(store.root)
    spare = spares.take(circumstances)
    fd = os.open(store.runner_file(name, "lock"), os.O_CREAT | os.O_RDWR, 0o600)
    # SIGTERM (a stop) stays blocked, hence pending, until the runner can handle it.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        private_file(store.runner_file(name, "log"))
        private_file(store.runner_file(name, "pid"))
        with open(store.runner_file(name, "log"), "ab") as runner_log:
            if spare is not None and spare.hand(name, store.root, pods, fd, runner_log.fileno()):
                process = spare.process
            else:
                process = subprocess.Popen(
                    python_command("from workflows.engine.runner import main; sys.exit(main(sys.argv[1:]))",
                                   name, str(store.root), *pods),
                    stdin=subprocess.DEVNULL, stdout=runner_log, stderr=runner_log, start_new_session=True,
                    pass_fds=(fd,), env={**os.environ, LOCK_FD_ENV: str(fd)},
                )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(fd)  # the runner holds the lock from now on (same open file description)
    store.runner_file(name, "pid").write_text(str(process.pid))
    _spawned.append(process)
    spares.prepare(circumstances, after=store.runner_file(name, "lock"))
    return process.pid


def _may_run_pods(manifest: dict[str, Any]) -> bool:
    """Whether the stored workflow ``manifest`` (its WorkflowTemplate references resolved at submission, see
    :mod:`.submission`) may run sandboxed pods: one of its templates is of :data:`SANDBOXED_TYPES`."""
    templates = (manifest.get("spec") or {}).get("templates") or []
    return any(kind in template for template in templates for kind in SANDBOXED_TYPES)


def main(argv: list[str]) -> int:
    """Run the workflow ``NAME`` of the store at ``STATE_DIR`` (``argv``), as :func:`spawn_runner` starts it,
    with ``PODS_FOLDER`` when it may run sandboxed pods (or ``python -m workflows.engine.runner NAME
    STATE_DIR``, whose zygote starts with its first pod)."""
    name, root, *pods = argv
    _prepare(Path(pods[0]) if pods else None, early_zygote=bool(pods))
    lock_fd = int(os.environ.pop(LOCK_FD_ENV))
    os.set_inheritable(lock_fd, False)  # pods must not hold the runner's lock
    return _run(name, root, lock_fd, pods)


def spare_main(argv: list[str]) -> int:
    """A runner started ahead of its workflow (``SOCKET AFTER_LOCK``, see :mod:`.spares`): get ready, once the
    runner started before it ended (its ``runner.lock`` free) when ``AFTER_LOCK`` is not empty, then wait on
    the socket for a workflow to run and run it as :func:`main` does; end once the socket closes with none. The
    zygote is started early, its working directory given by the workflow's first pod; it ends at once when the
    workflow runs no pods."""
    sock_fd, after = int(argv[0]), argv[1]
    if after and not _quiet(sock_fd, after, SPARE_QUIET_SECONDS):
        return 0
    _prepare(None, early_zygote=True)
    from .pod.zygote import end_zygote  # noqa: PLC0415 - after the zygote's fork (see the module's docstring)
    from .spares import receive_workflow  # noqa: PLC0415

    handed = receive_workflow(sock_fd)
    if handed is None or not handed[2]:  # no workflow, or one that runs no pods: its zygote is not needed
        end_zygote()
    if handed is None:
        return 0
    name, root, pods, lock_fd = handed
    return _run(name, root, lock_fd, pods)


def _quiet(sock_fd: int, lock: str, seconds: float) -> bool:
    """In a spare runner, before it loads anything: wait until the runner whose ``lock`` file is given ended, a
    message comes on ``sock_fd`` (a submission began) or ``seconds`` passed, so that the spare's start does not
    take the CPU from the workflow it was started after; ``False`` when the socket closed instead (the spare is
    not needed). Checked every :data:`QUIET_CHECK` seconds (a lock cannot be waited for together with a
    socket)."""
    import select  # noqa: PLC0415 - built in
    import socket  # noqa: PLC0415 - the zygote imports it too

    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # the workflow is gone already
        return True
    deadline = time.monotonic() + seconds
    incoming = select.poll()  # not select(): the socket's number may be past FD_SETSIZE (the submitter's)
    incoming.register(sock_fd, select.POLLIN)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return True
            except BlockingIOError:  # the runner holds it
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if incoming.poll(min(QUIET_CHECK, remaining) * 1000):
                with socket.socket(fileno=os.dup(sock_fd)) as sock:
                    return sock.recv(1, socket.MSG_PEEK) != b""  # a submission began, or the socket closed
    finally:
        os.close(fd)


def _prepare(pods: Path | None, early_zygote: bool) -> None:
    """What every runner does before it knows or runs its workflow: a private umask, its open files' limit, the
    pods' zygote forked (for ``pods``, or for pods yet unknown) while it holds only what the zygote needs,
    then the engine's imports."""
    os.umask(0o077)  # everything the runner and its pods' leaders create in the state folder is private
    raise_open_files_limit()  # before the zygote's fork: both hold files for every running pod (see .capacity)
    if early_zygote:
        from .pod.zygote import start_zygote_early  # noqa: PLC0415 - all the runner has imported when it forks

        start_zygote_early(pods)
    # the engine loads while the zygote gets ready (see the module's docstring)
    import asyncio  # noqa: PLC0415, F401
    import logging  # noqa: PLC0415, F401

    from . import run, store, watchdog  # noqa: PLC0415, F401


def _run(name: str, root: str, lock_fd: int, pods: list[str]) -> int:
    """Run the workflow ``name`` of the store at ``root``, holding its lock (``lock_fd``), to its end; ``pods``
    holds the pods' folder of a workflow that may run sandboxed pods."""
    import asyncio  # noqa: PLC0415
    import logging  # noqa: PLC0415

    from .pod.zygote import end_zygote  # noqa: PLC0415
    from .run import log, run_workflow  # noqa: PLC0415
    from .store import Store  # noqa: PLC0415
    from .watchdog import start_watchdog  # noqa: PLC0415

    watchdog = start_watchdog(Path(root), name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(Path(root))
    try:
        phase = asyncio.run(run_workflow(store, name, spawn_runner, Path(pods[0]) if pods else None))
    except Exception as error:  # recorded, then raised: the watchdog ends the workflow Error saying why
        store.runner_file(name, "error").write_text(f"{type(error).__name__}: {error}")
        raise
    end_zygote()  # its pods' processes reaped up to the runner, whose CPU time then counts theirs
    log.info("workflow %s finished: %s", name, phase)
    store.close()
    os.close(lock_fd)  # the watchdog wakes, finds the workflow finished and ends: reaped here, as the zygote was
    os.waitpid(watchdog, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
