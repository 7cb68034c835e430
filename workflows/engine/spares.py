"""Spare runners: a workflow's runner started ahead of the workflow, so that a process that submits workflows
one after another does not wait for each runner's interpreter and imports (about 100 ms here, most of a small
workflow's time from submission to end).

When a process submits its second workflow under the same circumstances as its first (:class:`Circumstances`:
the state folder, the environment, the working directory, the ids, limits and priority a runner inherits), it
starts a spare runner after that one's: a runner (:func:`.runner.spare_main`) that forks its pods' zygote,
imports the engine, and waits on a socket for a workflow. It does that once the runner started before it
ended (or a workflow came, or 2 s passed), so as not to take the CPU from that runner's workflow. The next
submission under the same circumstances hands it that workflow instead of starting a runner (:func:`take`,
:meth:`SpareRunner.hand`), and starts the next spare. So a spare runs its workflow exactly as a runner
started for it would: started the same way, with the same environment; what differs is only when it was
started. A spare whose circumstances no longer match is not used, but killed (an environment variable set since,
for example), and so is one that fails to take a workflow (it died, or did not answer within
:data:`HANDOFF_SECONDS`): a runner is then started as usual.

A spare ends when its socket closes: at the exit of the process that started it. ``WORKFLOWS_SPARE_RUNNER=0``
turns spares off (say, for a process that waits for all of its children).
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

#: The setting: ``1`` (the default) keeps a spare runner for processes that submit again; ``0`` turns them off.
SETTING = "WORKFLOWS_SPARE_RUNNER"
#: How long a submission waits for a spare runner to take its workflow (one just started may still import).
HANDOFF_SECONDS = 60.0
#: A spare runner's answer once it holds its workflow's descriptors.
TAKEN = b"taken"


def spares_enabled() -> bool:
    """Whether spare runners are on (:data:`SETTING`); raises :class:`EngineConfigurationError` for a value
    other than ``0`` or ``1``."""
    value = os.environ.get(SETTING, "1")
    if value not in ("0", "1"):
        raise EngineConfigurationError(f"{SETTING}={value!r}: expected 1 (spare runners, the default) or 0 (none)")
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
        self.values = (
            str(root), dict(os.environ), cwd, os.getresuid(), os.getresgid(), os.getgroups(),
            [resource.getrlimit(limit) for limit in _RLIMITS], os.getpriority(os.PRIO_PROCESS, 0),
            os.sched_getaffinity(0),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circumstances) and self.values == other.values

    __hash__ = None  # type: ignore[assignment] - compared, never hashed


class SpareRunner:
    """A spare runner's process, as started by this process under :attr:`circumstances`."""

    def __init__(self, process: subprocess.Popen, sock: socket.socket, circumstances: Circumstances) -> None:
        self.process = process
        self.sock = sock
        self.circumstances = circumstances
        self.owner = os.getpid()

    def hand(self, name: str, root: Path, pods: list[str], lock_fd: int, log_fd: int) -> bool:
        """Give the spare the workflow ``name`` of the store at ``root`` (its pods' folder in ``pods``, if any),
        with its locked ``runner.lock`` and its ``runner.log``; whether it took them. A spare that did not is
        killed and reaped, so that nothing of the workflow survives in it: the caller starts a runner instead."""
        try:
            if self.process.poll() is None:
                messages.send(self.sock, (name, str(root), pods), [lock_fd, log_fd])
                self.sock.settimeout(HANDOFF_SECONDS)
                if messages.receive_exactly(self.sock, len(TAKEN)) == TAKEN:
                    self.sock.close()
                    return True
        except (OSError, EOFError):  # it died, or did not answer in time
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


def prepare(circumstances: Circumstances, after: Path) -> None:
    """After a runner was started under ``circumstances``: start a spare for the next submission, when this
    process submits again under the same (its previous submission's were equal) and has none. The spare loads
    once that runner (its lock file ``after``) ended, or a workflow came, or 2 s passed
    (:func:`.runner.spare_main`)."""
    global _spare, _last
    with _lock:
        again, _last = _last == circumstances, circumstances
        if again and _own_spare() is None and spares_enabled():
            _spare = _start(circumstances, after)


def _start(circumstances: Circumstances, after: Path) -> SpareRunner:
    """Start a spare runner, to load once the runner whose lock file is ``after`` ended (``SIGTERM`` blocked,
    as in every runner until it can handle it)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, running this package
            python_command("from workflows.engine.runner import spare_main; sys.exit(spare_main(sys.argv[1:]))",
                           str(theirs.fileno()), str(after)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, pass_fds=(theirs.fileno(),))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
    return SpareRunner(process, ours, circumstances)


def receive_workflow(sock_fd: int) -> tuple[str, str, list[str], int] | None:
    """In a spare runner: wait on the socket ``sock_fd`` for a workflow; its name, state folder, pods' folder
    (``[]`` or one) and locked ``runner.lock``'s descriptor, once the spare holds them (its output is the
    workflow's ``runner.log`` from then on); ``None`` when the socket closed first."""
    with socket.socket(fileno=sock_fd) as sock:
        received = messages.receive(sock)
        if received is None:
            return None
        (name, root, pods), (lock_fd, log_fd) = received
        os.set_inheritable(lock_fd, False)  # pods must not hold the runner's lock
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        # A stop is signalled to the pid its submitter records once the spare took the workflow: one pending
        # now was sent to this process before, as a spare, and is not this workflow's.
        if signal.SIGTERM in signal.sigpending():
            signal.sigwait({signal.SIGTERM})
        sock.sendall(TAKEN)
    return name, root, pods, lock_fd
