"""Running one pod: a process (or a forked warm Python interpreter) in its own process group.

The pod's stdout and stderr come back through pipes: both go to the node's
log file, stdout is also kept (up to :data:`MAX_RESULT_BYTES`) as the
template's ``outputs.result``. The exit is observed through a pidfd, so the
runner's event loop waits for thousands of pods without threads or polling.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
import signal
import subprocess
import sys
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .paths import SandboxError, enter_read_only_sandbox

log = logging.getLogger(__name__)

#: Argo keeps at most this much of stdout as ``outputs.result``.
MAX_RESULT_BYTES = 256 * 1024
_READ_SIZE = 65536


@dataclass
class PodProcess:
    """What to start for a pod: ``argv``, or Python ``source`` run in a forked warm interpreter."""

    env: dict[str, str]
    cwd: Path
    log_path: Path
    argv: list[str] | None = None
    source: str | None = None
    script_path: str | None = None
    read_only: list[str] = field(default_factory=list)


@dataclass
class PodResult:
    """How a pod ended."""

    exit_code: int | None
    stdout: str
    error: str | None = None
    """Why the pod could not run at all (then ``exit_code`` is ``None``)."""


def _run_python_child(process: PodProcess, stdout_fd: int, stderr_fd: int) -> None:
    """In the forked child: become a fresh ``python SCRIPT`` and never return."""
    code = 1
    try:
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        asyncio.events._set_running_loop(None)  # the child is not inside the runner's event loop
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # as exec would: the runner's lock, database, event loop
        if process.read_only:
            _sandbox_or_exit(process.read_only)
        os.chdir(process.cwd)
        os.environ.clear()
        os.environ.update(process.env)
        logging.root.handlers.clear()
        logging.root.setLevel(logging.WARNING)
        main = types.ModuleType("__main__")
        main.__file__ = process.script_path
        main.__builtins__ = builtins
        sys.modules["__main__"] = main
        sys.argv = [process.script_path or "-c"]
        sys.path[0] = os.path.dirname(process.script_path or "")
        compiled = compile(process.source or "", process.script_path or "<script>", "exec")
        try:
            exec(compiled, main.__dict__)
            code = 0
        except SystemExit as exit_request:
            if exit_request.code is None or isinstance(exit_request.code, int):
                code = exit_request.code or 0
            else:
                print(exit_request.code, file=sys.stderr)
                code = 1
    except BaseException:  # noqa: BLE001 - the child reports whatever its script raised, like python does
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = code or 120
        os._exit(code)


#: Exit code of a pod whose read-only mounts could not be set up (its log says why).
SANDBOX_FAILED = 126


def _sandbox_or_exit(folders: list[str]) -> None:
    """Between fork and exec: enter the read-only sandbox, or explain on stderr and exit."""
    try:
        enter_read_only_sandbox(folders)
    except (SandboxError, OSError) as error:
        os.write(2, f"cannot mount {', '.join(folders)} read-only: {error}; read-only volumes need root or "
                    "unprivileged user namespaces\n".encode())
        os._exit(SANDBOX_FAILED)


def _start_process(process: PodProcess, stdout_fd: int, stderr_fd: int) -> int:
    """Start the pod's process; return its pid (it leads its own process group)."""
    if process.source is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_python_child(process, stdout_fd, stderr_fd)
        return pid
    folders = process.read_only
    popen = subprocess.Popen(
        process.argv,
        cwd=process.cwd,
        env=process.env,
        stdin=subprocess.DEVNULL,
        stdout=stdout_fd,
        stderr=stderr_fd,
        start_new_session=True,
        preexec_fn=(lambda: _sandbox_or_exit(folders)) if folders else None,
    )
    # The runner reaps the child through its pidfd; keep Popen from reaping or warning about it.
    popen.returncode = 0
    return popen.pid


def kill_group(pgid: int, signum: int = signal.SIGKILL) -> None:
    """Signal a pod's whole process group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


#: After the main process exits, how long its output pipes may stay open (held by escaped children).
PIPE_GRACE_SECONDS = 1.0


async def run_pod(process: PodProcess, on_start: Callable[[int], None] | None = None,
                  on_output: Callable[[], None] | None = None) -> PodResult:
    """Run a pod to its end; cancelling the call kills its process group.

    ``on_start(pid)`` is called once the process exists (its pid is also its
    process group), ``on_output()`` whenever it printed something. When the main process exits, the rest of its group is
    killed, as Kubernetes ends a pod with its main container.
    """
    loop = asyncio.get_running_loop()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        pid = _start_process(process, out_write, err_write)
    except (OSError, subprocess.SubprocessError) as error:
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        return PodResult(None, "", f"cannot start {process.argv[0] if process.argv else 'python'}: {error}")
    os.close(out_write)
    os.close(err_write)
    if on_start is not None:
        on_start(pid)
    stdout = bytearray()
    streams_closed = loop.create_future()
    exited: asyncio.Future[int] = loop.create_future()
    open_streams = {out_read, err_read}
    pidfd = os.pidfd_open(pid)

    def close_stream(fd: int) -> None:
        loop.remove_reader(fd)
        os.close(fd)
        open_streams.discard(fd)
        if not open_streams and not streams_closed.done():
            streams_closed.set_result(None)

    def drain(fd: int) -> None:
        data = os.read(fd, _READ_SIZE)
        if not data:
            close_stream(fd)
            return
        log_file.write(data)
        if on_output is not None:
            on_output()
        if fd == out_read and len(stdout) < MAX_RESULT_BYTES:
            stdout.extend(data[: MAX_RESULT_BYTES - len(stdout)])

    def reap() -> None:
        loop.remove_reader(pidfd)
        _, status = os.waitpid(pid, 0)
        kill_group(pid)
        exited.set_result(os.waitstatus_to_exitcode(status))

    with open(process.log_path, "ab", buffering=0) as log_file:
        loop.add_reader(out_read, drain, out_read)
        loop.add_reader(err_read, drain, err_read)
        loop.add_reader(pidfd, reap)
        try:
            code = await exited
            try:
                if not streams_closed.done():
                    await asyncio.wait_for(asyncio.shield(streams_closed), PIPE_GRACE_SECONDS)
            except asyncio.TimeoutError:
                log.warning("pod %s: output still open %.0fs after exit, closing it", pid, PIPE_GRACE_SECONDS)
        except asyncio.CancelledError:
            # Cancelling this task also cancels the future it awaits: "done" alone does not mean reaped.
            if exited.cancelled() or not exited.done():
                loop.remove_reader(pidfd)
                kill_group(pid)
                os.waitpid(pid, 0)
            raise
        finally:
            for fd in list(open_streams):
                close_stream(fd)
            os.close(pidfd)
    return PodResult(code, stdout.decode(errors="replace"))
