"""Runners started ahead: a workflow's runner started before its workflow is known, so that submitting does not
wait for the runner's interpreter and imports (about 100 ms here, most of a small workflow's time from
submission to end).

Two moments start one, each under the circumstances of the moment (:class:`Circumstances`: the state folder,
the environment, the working directory, the ids, limits and priority a runner inherits):

- *A submission begins* (:func:`ahead`, through the local backend's ``submitting()``): the runner loads while
  the submitting process checks and stores the spec (for a process's first workflow, while it imports the
  backend too). A spare already waiting for that submission is told to load now instead.
- *A process submits its second workflow under the same circumstances as its first* (:func:`prepare`): one
  more, a spare, for the next submission. It loads once the runner started before it ended (or a workflow
  came, or 2 s passed), so as not to take the CPU from that runner's workflow; a process whose environment
  changes at every submission, or that submits once, never starts one.

Either is a runner (:func:`.runner.spare_main`) that forks its pods' zygote, imports the engine, and waits on a
socket for a workflow. The submission hands it its workflow (:func:`take`, :meth:`SpareRunner.hand`): its name
and, over ``SCM_RIGHTS``, its locked ``runner.lock`` and its ``runner.log``; so it runs the workflow exactly as a
runner started for it would, started the same way, with the same environment; what differs is only when it was
started. The hand-off does not wait for the runner to load: the message waits in the socket, and should the
runner die first, the descriptors it carries close with the socket, the workflow's lock is free and the
workflow ends ``Error`` (:mod:`.watchdog`), as for any runner that dies (what a runner started ahead says
before it has a workflow goes to the state folder's :data:`LOG`). A spare whose circumstances no longer
match is not used but killed (an environment variable set since, for example), and so is one found dead, or
one started for a submission that failed (:func:`discard`): a runner is then started as usual.

A spare ends when its socket closes: at the exit of the process that started it. ``WORKFLOWS_SPARE_RUNNER=0``
turns runners started ahead off, both kinds (say, for a process that waits for all of its children).
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import threading
from pathlib import Path

from ..errors import EngineConfigurationError
from .bootstrap import python_command
from .pod import messages

#: The setting: ``1`` (the default) starts runners ahead (see the module's docstring); ``0`` turns them off.
SETTING = "WORKFLOWS_SPARE_RUNNER"
#: Where, in the state folder, runners started ahead write until they have a workflow (whose ``runner.log`` they
#: write from then on): what a runner that died before it read its workflow said.
LOG = "spares.log"
#: The message that tells a spare still waiting to load (:func:`.runner.spare_main`) that a submission it will
#: serve began: it loads now.
LOAD = "load"


def spares_enabled() -> bool:
    """Whether spare runners are on (:data:`SETTING`); raises :class:`EngineConfigurationError` for a value
    other than ``0`` or ``1``."""
    value = os.environ.get(SETTING, "1")
    if value not in ("0", "1"):
        raise EngineConfigurationError(f"{SETTING}={value!r}: expected 1 (runners started ahead, the default) or 0 "
                                       "(none)")
    return value == "1"


#: Every resource limit a runner inherits.
_RLIMITS = [getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")]


class Circumstances:
    """What a runner inherits from the process that starts it, as it is at one moment: a spare started under
    some circumstances serves a workflow submitted under equal ones only."""

    def __init__(self, root: Path) -> None:
        try:
            cwd: str | None = os.getcwd()
        except FileNotFoundError:  # deleted: a runner inherits it all the same
            cwd = None
        self.root = str(root)
        self.values = (
            self.root, dict(os.environ), cwd, os.getresuid(), os.getresgid(), os.getgroups(),
            [resource.getrlimit(limit) for limit in _RLIMITS], os.getpriority(os.PRIO_PROCESS, 0),
            os.sched_getaffinity(0),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circumstances) and self.values == other.values

    __hash__ = None  # type: ignore[assignment] - compared, never hashed


class SpareRunner:
    """A runner started ahead by this process (a spare, or one started as a submission began), under
    :attr:`circumstances`."""

    def __init__(self, process: subprocess.Popen, sock: socket.socket, circumstances: Circumstances) -> None:
        self.process = process
        self.sock = sock
        self.circumstances = circumstances
        self.owner = os.getpid()

    def nudge(self) -> None:
        """Tell the spare that a submission it may serve began: it loads now, if it was still waiting to (and
        skips such messages before its workflow). A spare that died is found so by :meth:`hand`."""
        try:
            messages.send(self.sock, LOAD, [])
        except OSError:  # it died: hand() finds it so
            pass

    def hand(self, name: str, root: Path, pods: list[str], lock_fd: int, log_fd: int) -> bool:
        """Give the spare the workflow ``name`` of the store at ``root`` (its pods' folder in ``pods``, if any),
        with its locked ``runner.lock`` and its ``runner.log``; whether it was sent. The spare reads it once it
        loaded; should it die first, the descriptors close with the socket. A spare found dead is reaped, and the
        caller starts a runner instead."""
        try:
            if self.process.poll() is None:
                messages.send(self.sock, (name, str(root), pods), [lock_fd, log_fd])
                self.sock.close()
                return True
        except OSError:  # it died
            pass
        self.kill()
        return False

    def kill(self) -> None:
        """End the spare now, reaped: nothing it was sent survives it."""
        self.sock.close()
        self.process.kill()
        self.process.wait()


_lock = threading.Lock()
_spare: SpareRunner | None = None
_last: Circumstances | None = None


def _own_spare() -> SpareRunner | None:
    """This process's spare (call it holding :data:`_lock`). One inherited through a fork is its parent's: this
    process forgets it, closing its copy of the socket."""
    global _spare
    if _spare is not None and _spare.owner != os.getpid():
        _spare.sock.close()
        _spare = None
    return _spare


def take(circumstances: Circumstances) -> SpareRunner | None:
    """This process's spare runner, if it was started under ``circumstances``, for the caller to hand a
    workflow to; ``None`` otherwise (a spare started under others is killed)."""
    global _spare
    with _lock:
        spare, _spare = _own_spare(), None
    if spare is None or spare.circumstances == circumstances:
        return spare
    spare.kill()
    return None


def ahead(circumstances: Circumstances) -> SpareRunner | None:
    """As a submission begins: make sure that this process has a runner for ``circumstances`` loading now (its
    spare, told to load, or one started here), to be handed the workflow when it is stored. Return the one
    started here, for :func:`discard` should the submission fail; ``None`` when there was one already, or
    runners started ahead are off (raises :class:`EngineConfigurationError` for a bad :data:`SETTING`)."""
    global _spare
    if not spares_enabled():
        return None
    with _lock:
        spare = _own_spare()
        if spare is not None and spare.circumstances == circumstances and spare.process.poll() is None:
            spare.nudge()
            return None
        _spare = started = _start(circumstances, None)
    if spare is not None:  # started under other circumstances, or dead
        spare.kill()
    return started


def discard(spare: SpareRunner) -> None:
    """End ``spare``, started by :func:`ahead` for a submission that failed, unless a submission took it."""
    global _spare
    with _lock:
        if _own_spare() is not spare:
            return
        _spare = None
    spare.kill()


def prepare(circumstances: Circumstances, after: Path) -> None:
    """After a runner was started under ``circumstances``: start a spare for the next submission, when this
    process submits again under the same (its previous submission's were equal) and has none. The spare loads
    once that runner (its lock file ``after``) ended, or a submission began, or 2 s passed
    (:func:`.runner.spare_main`)."""
    global _spare, _last
    with _lock:
        again, _last = _last == circumstances, circumstances
        if again and _own_spare() is None and spares_enabled():
            _spare = _start(circumstances, after)


def _start(circumstances: Circumstances, after: Path | None) -> SpareRunner:
    """Start a spare runner, to load once the runner whose lock file is ``after`` ended, or at once without one
    (``SIGTERM`` blocked, as in every runner until it can handle it)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    output = os.open(Path(circumstances.root, LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, running this package
            python_command("from workflows.engine.runner import spare_main; sys.exit(spare_main(sys.argv[1:]))",
                           str(theirs.fileno()), str(after or "")),
            stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True,
            pass_fds=(theirs.fileno(),))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
        os.close(output)
    return SpareRunner(process, ours, circumstances)


def receive_workflow(sock_fd: int) -> tuple[str, str, list[str], int] | None:
    """In a spare runner: wait on the socket ``sock_fd`` for a workflow; its name, state folder, pods' folder
    (``[]`` or one) and locked ``runner.lock``'s descriptor, once the spare holds them (its output is the
    workflow's ``runner.log`` from then on); ``None`` when the socket closed first."""
    with socket.socket(fileno=sock_fd) as sock:
        received = messages.receive(sock)
        while received is not None and received[0] == LOAD:
            received = messages.receive(sock)
        if received is None:
            return None
        (name, root, pods), (lock_fd, log_fd) = received
    os.set_inheritable(lock_fd, False)  # pods must not hold the runner's lock
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # A SIGTERM pending now was sent to this process as a spare; a stop of this workflow is also recorded in
    # the store, where the run finds it (.run.run_workflow).
    if signal.SIGTERM in signal.sigpending():
        signal.sigwait({signal.SIGTERM})
    return name, root, pods, lock_fd
