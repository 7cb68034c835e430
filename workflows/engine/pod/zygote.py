"""The zygote: one lean process per runner, already in the pods' user namespace, that forks every sandboxed
pod's leader.

Why: a pod's cost is mostly forks and exits of a Python process, and those cost in proportion to the memory
the process maps (its page tables are copied at fork and torn down at exit and ``exec``). The runner's
interpreter holds the whole engine (SQLite, expressions, asyncio...); the zygote is a fresh interpreter that
imports only what a pod's processes run (:mod:`.process`, :mod:`.sandbox`, :mod:`.syscalls`,
:mod:`.limits`), so its leader, the pod's init and the ``exec`` of the pod's command each cost a fraction.
It also enters the pods' user namespace once, instead of once per pod. A PythonTask still runs in a forked,
warm interpreter (the zygote's), not a fresh ``python``.

Protocol (a Unix stream socket): the runner sends the length of a pickled request, with the pod's
descriptors attached (stdout, stderr, the ``done`` pipe, the pod's folder as an ``O_PATH`` descriptor, its
cgroup's ``cgroup.procs``, its volumes' detached mounts), then the request; the zygote forks the leader and
answers its pid (negative: the ``errno`` of a failed fork). The leader writes the pod's status (exit code,
outputs) to the ``done`` pipe once the pod ended (:func:`.process._leader`); the zygote keeps its own copy
of that pipe until it reaped the leader and the pod's process group is empty (the zygote is a child
subreaper: a killed leader's pod init is re-parented to it), then writes the leader's exit status there too
and closes it. So the runner learns the pod's end early, and a pod killed before its leader could report
still ends with a status and an end of file, once every one of its processes is gone.

Why sharing one user namespace between the pods of a runner lets no pod affect another. Pods of one runner
all map their root to the same host id (:mod:`.identity`) whether or not they share a namespace; what a
shared user namespace adds is that each pod's root holds capabilities over the *other* pods' namespaces,
which are owned by that same user namespace. Those capabilities need a way to reach the other pod, and there
is none:

- processes: a pod sees only its own PID namespace, so it cannot name another pod's processes to
  ``kill``, ``ptrace``, ``process_vm_*``, ``pidfd_open`` or ``/proc/<pid>`` (its ``/proc`` is its own PID
  namespace's); ``kill(-1)`` reaches only its own PID namespace;
- namespaces: ``setns`` into another pod's mount, PID, IPC or UTS namespace needs a descriptor of it,
  found through ``/proc/<pid>/ns`` (not visible, see above) or inherited (the leader closes every descriptor
  but the pod's own, and the zygote's socket is closed in the leader);
- files: each pod has its own mount namespace, its own writable layer and ``/tmp``, and the host's tree
  read-only; other pods' layers are ``tmpfs`` mounted only in their own mount namespaces;
- IPC and hostnames: each pod has its own IPC and UTS namespaces;
- kernel keyrings, the one thing the kernel keys on (user namespace, id) alone: the pods' seccomp filter
  refuses ``add_key``, ``request_key`` and ``keyctl`` (:func:`.syscalls.ignore_chown`), as Docker does;
- the zygote itself, the only process holding the namespace open besides pods, is outside every pod's PID
  namespace, and its socket is only in the runner and the zygote.

Volumes are what pods share on purpose, as on Kubernetes. Pods of different runners (workflows) get
different user namespaces, as before.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys

from ...errors import ZygoteError
from . import syscalls
from .process import PodRun, _leader, enter_user_namespace
from .sandbox import host_layout

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!Q")
_PID = struct.Struct("!q")
#: How long the runner waits for the zygote to start or to answer a request.
ANSWER_SECONDS = 60.0
#: The most descriptors a request carries (the kernel's SCM_MAX_FD is 253).
MAX_FDS = 250


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the zygote's socket")
        data.extend(chunk)
    return bytes(data)


# --------------------------------------------------------------------------- in the runner


@dataclasses.dataclass
class Zygote:
    """The runner's handle on its zygote process."""

    process: subprocess.Popen
    sock: socket.socket

    def fork_leader(self, run: PodRun, stdout_fd: int, stderr_fd: int, done_fd: int) -> int:
        """Have the zygote fork ``run``'s leader (see :func:`.process._leader`): its pid.

        Raises :class:`ZygoteError` when the zygote is gone or does not answer.
        """
        assert run.sandbox is not None
        pod_dir = os.open(run.pod_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        cgroup_fds = run.cgroup.join_fds() if run.cgroup is not None else []
        try:
            fds = [stdout_fd, stderr_fd, done_fd, pod_dir, *cgroup_fds, *run.sandbox.inherited_fds()]
            if len(fds) > MAX_FDS:
                raise ZygoteError(0, f"a pod with {len(fds)} descriptors to pass (at most {MAX_FDS})")
            request = dataclasses.replace(run, cgroup=None, image_build=None, userns=-1)
            payload = pickle.dumps((request, fds, len(cgroup_fds)), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                socket.send_fds(self.sock, [_LENGTH.pack(len(payload))], fds)
                self.sock.sendall(payload)
                (pid,) = _PID.unpack(_receive_exactly(self.sock, _PID.size))
            except (OSError, EOFError) as error:
                raise ZygoteError(0, f"the pods' zygote did not answer: {error}") from error
        finally:
            os.close(pod_dir)
            for fd in cgroup_fds:
                os.close(fd)
        if pid < 0:
            raise OSError(-pid, f"the zygote cannot fork the pod's leader: {os.strerror(-pid)}")
        return pid

    def close(self) -> None:
        """End the zygote (its pods' leaders die with it) and reap it."""
        self.sock.close()
        self.process.kill()
        self.process.wait()


_zygote: Zygote | None = None
_owner = -1


def zygote(userns: int) -> Zygote:
    """This process's zygote, in the user namespace ``userns``; started on first use, again if it died.

    Raises :class:`ZygoteError` when it cannot start.
    """
    global _zygote, _owner
    if _zygote is not None and _owner == os.getpid() and _zygote.process.poll() is None:
        return _zygote
    if _zygote is not None and _owner == os.getpid():
        _zygote.close()
    _zygote = None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, running this module
            [sys.executable, "-c", "from workflows.engine.pod.zygote import serve; serve()",
             str(theirs.fileno()), str(userns), str(os.getpid())],
            pass_fds=(theirs.fileno(), userns), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            cwd="/")
    except OSError as error:
        ours.close()
        raise ZygoteError(error.errno or 0, f"cannot start the pods' zygote: {error}") from error
    finally:
        theirs.close()
    ours.settimeout(ANSWER_SECONDS)
    handle = Zygote(process, ours)
    try:
        ready = _receive_exactly(ours, 1)
    except (OSError, EOFError) as error:
        handle.close()
        raise ZygoteError(0, f"the pods' zygote did not start: {error}") from error
    if ready != b"R":
        handle.close()
        raise ZygoteError(0, f"the pods' zygote did not start (answered {ready!r})")
    _zygote, _owner = handle, os.getpid()
    return handle


# --------------------------------------------------------------------------- in the zygote


class _Zygote:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.done: dict[int, int] = {}  # leader pid → the zygote's copy of its ``done`` pipe
        self.ended: dict[int, int] = {}  # leader pid → its exit code, while its process group is not empty

    def reap(self, *_: object) -> None:
        """SIGCHLD: reap every ended child; once a pod's whole process group is gone (its leader and, when the
        leader was killed, the pod's init, orphaned to this subreaper), write the leader's exit status to the
        pod's ``done`` pipe and close it. Not re-entered: SIGCHLD stays blocked while it runs."""
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            self._reap()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.done:
                code = os.waitstatus_to_exitcode(status)
                self.ended[pid] = 128 - code if code < 0 else code
        for leader, code in list(self.ended.items()):
            try:
                os.killpg(leader, 0)
                continue  # some of the pod's processes are still ending
            except PermissionError:
                continue  # the same: only an existing process can refuse
            except ProcessLookupError:
                pass
            del self.ended[leader]
            fd = self.done.pop(leader)
            try:
                os.write(fd, b"%d\n" % code)
            except OSError:  # the runner stopped listening (the pod was cancelled)
                pass
            os.close(fd)

    def serve_one(self) -> bool:
        """Fork the leader of one request; ``False`` once the runner closed the socket."""
        header, fds, _, _ = socket.recv_fds(self.sock, _LENGTH.size, MAX_FDS)
        if not header:
            return False
        header += _receive_exactly(self.sock, _LENGTH.size - len(header))
        (length,) = _LENGTH.unpack(header)
        run, runner_fds, cgroups = pickle.loads(_receive_exactly(self.sock, length))  # noqa: S301 - our runner
        mapping = dict(zip(runner_fds, fds))
        run.sandbox = run.sandbox.with_fds(mapping)
        stdout_fd, stderr_fd, done_fd, pod_dir = fds[:4]
        cgroup_fds = fds[4:4 + cgroups]
        host_layout(run.host_mounts)  # once, here: the pods only replay it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # reap only once the pid is known
        try:
            try:
                pid = os.fork()
            except OSError as error:
                pid = -(error.errno or 1)
            if pid == 0:
                _leader(run, stdout_fd, stderr_fd, done_fd, os.getppid(), pod_dir, cgroup_fds)
            if pid > 0:
                self.done[pid] = done_fd
            for fd in fds:
                if fd != done_fd or pid < 0:
                    os.close(fd)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        self.sock.sendall(_PID.pack(pid))
        return True


def serve() -> None:
    """The zygote's main (``python -c ... SOCKET USERNS RUNNER_PID``): enter the pods' user namespace, then
    fork a leader for each request until the runner closes the socket. Dies with the runner."""
    sock_fd, userns, runner = (int(value) for value in sys.argv[1:4])
    syscalls.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != runner:  # the runner died before the death signal was armed
        os._exit(1)
    sock = socket.socket(fileno=sock_fd)
    syscalls.set_child_subreaper()  # a killed leader's pod init ends here, so that its end can be waited for
    enter_user_namespace(userns)
    os.close(userns)
    server = _Zygote(sock)
    signal.signal(signal.SIGCHLD, server.reap)
    # Forks share the zygote's pages until one side writes; a collection writes to every object it scans.
    # The zygote's own objects are never collected (frozen), and its short-lived requests make no cycles.
    syscalls.warm_up()  # what every pod needs, built once here rather than in each of them
    gc.disable()
    gc.freeze()
    sock.sendall(b"R")
    while server.serve_one():
        pass
    os._exit(0)
