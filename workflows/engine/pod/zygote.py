"""The zygote: one lean process per runner, already in the pods' user namespace, that forks every sandboxed
pod's leader, each the first process (PID 1) of a new PID namespace.

Why: a pod's cost is mostly forks and exits of a Python process, and those cost in proportion to the memory
the process maps (its page tables are copied at fork and torn down at exit and ``exec``). The runner's
interpreter holds the whole engine (SQLite, expressions, asyncio...); the zygote is an interpreter that
imported only what a pod's processes run (:mod:`.process`, :mod:`.sandbox`, :mod:`.syscalls`,
:mod:`.limits`), so the pod's leader and the ``exec`` of the pod's command each cost a fraction. What only
the runner's side or a rare failure needs is imported when used (:mod:`subprocess`, :mod:`typing`,
:mod:`logging` through :mod:`.lazy_logging`), and its records are plain classes (:mod:`..records`), whose
module imports nothing, rather than dataclasses, which bring :mod:`inspect`: 3 MB less heap in all to copy and
tear down for each pod (``bench/README.md``). It also enters the pods' user namespace once, instead of once per
pod. A PythonTask still runs in a forked, warm interpreter (the zygote's), not a fresh ``python``.

Processes. The runner forks a launcher first thing, before it imports the engine (:func:`start_zygote_early`; a
process that did not starts a fresh ``python``), which enters the pods' user namespace and a new PID namespace,
then forks the zygote as that namespace's first process, and lives as long as it (each dies with its parent: the
launcher with the runner, the zygote with the launcher, every pod with the zygote, whose PID namespace holds
them all). For each pod, the zygote creates a new PID namespace and forks the pod's leader into it as its first
process: the leader builds the pod's tree and becomes the pod's main process (:func:`.process.lead_pod`), so
that one fork makes a pod, and the pod's end (its PID 1's) is the end of all its processes. The zygote can leave
its own PID namespace's children for a new one and come back (``setns``) because it owns that namespace, which
it could not do in the host's. At its end, the runner closes the zygote's socket and reaps what follows
(:func:`end_zygote`): every process of the pods is reaped by its parent, up to the runner.

Protocol (Unix stream sockets). Each message is the length of a pickled :class:`_Request`, with descriptors
attached, then the request. A zygote started by a spare runner first waits for its working directory
(:data:`WORKDIR`). The zygote says :data:`READY`; then, to the zygote, the runner sends
- a pod (its descriptors: stdout, stderr, the ``done`` pipe, the pod's folder as an ``O_PATH`` descriptor,
  its cgroup's ``cgroup.procs``, its volumes' detached mounts): the zygote forks the pod's leader and answers
  its pid on the host (negative: the ``errno`` of a failed fork; see :data:`ANSWER`);
- a standby leader's :class:`Kit` and the recycle key of the pods it is likely to get, with the standby's end
  of a socket pair the runner keeps the other end of: the zygote forks the standby leader, on a recycled
  tree of that key when it has one (:mod:`.recycling`), and answers its pid the same way, and whether it is
  recycled. Without a kit (the last standby of that key was recycled), it forks one only on a recycled tree,
  else answers 0;
- that it gave a standby leader its pod (with the pod's ``done`` pipe and folder): the zygote follows it as
  that pod's leader. No answer.
Answers come in the order of the questions. A plain pod (no image layer, no build, the default disk size)
goes from the runner straight to its oldest standby leader, on that leader's socket: the zygote is not on the
way, and hears of it after. Once a leader entered its pod's tree, it sends the zygote the pod's mount
namespace. When the leader ends, the zygote writes the pod's status to the ``done`` pipe: its exit code, or,
for a pod that declared outputs, a collector forked into the pod's mount namespace copies them and writes the
status with them (:func:`.process.copy_declared_outputs`); then the pipe ends. (The runner mostly took a
PythonTask's end from ``/proc`` by then, as its leader's memory was let go: :mod:`.exits`.) The zygote holds
the pod's mount namespace until then, so that its teardown comes after the status, not in the leader's exit (and
while the runner goes on, not while the next pod mounts its tree: both take the kernel's mount lock). A
leader that could not set the pod up writes why to the ``done`` pipe first.

Standby leaders. Most of a pod's start does not depend on the pod: the leader's fork, its namespaces, the
host's tree, ``/dev``. So the runner keeps :data:`STANDBY_LEADERS` leaders ready (:func:`_standby`), forked
by the zygote and built before their pods are known, over the zygote's working directory (an empty folder of
the runner's, covered only in each standby's own mount namespace): only its volumes, files and processes
remain to do when its pod comes. A standby's kit holds the host's mount points, the disk size and, when the
engine runs as root, the detached lower layers only the runner can make. The runner asks for the next
standby as it gives one its pod: the next base tree (2–3 ms) is built on one core while the pod starts on
the other. When the standby leaders died, a pod's leader is forked anew, with a kit's lower layers.

Recycled trees (:mod:`.recycling`). A standby's tree whose pod left it exactly as built serves the next pods
of the same kind: the zygote keeps it as a template, watched with its inotify instance, and forks the next
standby into a copy of its mount namespace instead of building a tree (0.5 ms of CPU instead of 2, and no
detached mounts to make and tear down: the volumes' id-mapped mounts are made only for a leader that builds
its tree, see :meth:`Zygote.fork_leader`).

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
  read-only; other pods' layers are ``tmpfs`` mounted only in their own mount namespaces (a layer serves a
  later pod only once every process of the pod before ended, and only when that pod left it exactly as
  built: :mod:`.recycling`), and the templates' descriptors and inotify instance are the zygote's alone (a
  leader closes its copy of the instance before its pod's processes start);
- IPC and hostnames: each pod has its own IPC and UTS namespaces;
- kernel keyrings, the one thing the kernel keys on (user namespace, id) alone: the pods' seccomp filter
  refuses ``add_key``, ``request_key`` and ``keyctl`` (:func:`.syscalls.ignore_chown`), as Docker does;
- the zygote itself, the only process holding the namespace open besides pods, is outside every pod's PID
  namespace (pods' namespaces are children of its own), and its socket is only in the runner and the zygote.

Volumes are what pods share on purpose, as on Kubernetes. Pods of different runners (workflows) get
different user namespaces, as before.
"""

from __future__ import annotations

import collections
import gc
import os
import pickle
import select
import signal
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from ...errors import PodSetupError, ZygoteError
from ..bootstrap import python_command
from ..processgroups import kill_group
from ..records import Record
from . import messages, syscalls
from .identity import host_lowers, pod_root_ids, pod_userns, use_idmapped_volumes
from .isolation import isolation
from .lazy_logging import LazyLogger
from .limits import Limits
from .process import (ENTERED, PodFds, PodProcess, PodRun, begin_leader, close_all_but, copy_declared_outputs,
                      enter_user_namespace, lead_pod, prepare_base, prepare_recycled, print_exception,
                      refusal_message, rehearse_python, shell_exit_code)
from .recycling import POOLED_TEMPLATES, WATCHED_TEMPLATES, Template, Watcher, received, recycle_key
from .sandbox import PodFile, SandboxPlan, VolumeBind, host_layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote stays lean: neither is imported when it runs (see .lazy_logging)
    import subprocess
    from typing import Any

log = LazyLogger(__name__)

#: An answer: the pid of the forked leader (negative: the ``errno`` of a failed fork; 0: no standby leader forked,
#: for a request without a kit when no recycled tree fits), and whether that standby leader was forked on a
#: recycled tree (:mod:`.recycling`).
ANSWER = struct.Struct("!qq")
#: How long the runner waits for the zygote to start or to answer a request.
ANSWER_SECONDS = 60.0
#: The most questions the runner leaves unanswered at once (see :attr:`Zygote.in_flight`).
MAX_IN_FLIGHT = 4
#: The zygote's first message once it can fork pods (else: why it cannot, as text).
READY = "ready"
#: A spare runner's first message to its zygote, once its workflow is known: the working directory's descriptor.
WORKDIR = "workdir"
#: How long a runner at its end gives its zygote to end on its own (see :func:`end_zygote`) before killing it.
END_SECONDS = 5.0


class Kit(Record):
    """What a standby leader builds its base tree from: the host's mount points, the pod's disk size and the
    lower layers the runner detached for it (folder → descriptor; none unless the engine runs as root)."""

    mounts: list[str]
    disk_bytes: int
    lowers: dict[str, int]

    def __init__(self, mounts: list[str], disk_bytes: int, lowers: dict[str, int]) -> None:
        self.mounts = mounts
        self.disk_bytes = disk_bytes
        self.lowers = lowers

    def base(self) -> SandboxPlan:
        """The plan of the base tree: a plain pod of that disk size, without volumes or files."""
        return SandboxPlan(self.disk_bytes, lowers=dict(self.lowers), hostname="")


class _Request(Record):
    """One message, with its descriptors: a pod to start (``run``); a standby leader to fork (``kit``); or the
    news that the runner gave a standby leader its pod (``given``)."""

    run: PodRun | None
    fds: list[int]
    """The pod's descriptors: stdout, stderr, ``done``, its folder, ``cgroups`` cgroup files, its trees."""
    cgroups: int
    kit: Kit | None
    """Without a pod: a standby leader's kit (:attr:`fds` holds its socket from the runner); with a pod that
    fits a standby leader but found none: its leader's lower layers."""
    given: int
    """Without a pod: the host pid of the standby leader the runner gave a pod (:attr:`fds` holds that pod's
    ``done`` pipe and folder), so that the zygote reports the pod's end."""
    outputs: list[str]
    """With :attr:`given`: the paths of the pod's declared outputs."""
    recycle: tuple | None
    """With a kit: the :func:`.recycling.recycle_key` of the pod the runner just gave a standby leader, the
    likely key of the next one: the zygote forks the next standby on a pooled tree of that key, if it has one.
    With a pod for a standby: its key, the tree it builds becomes a template."""

    def __init__(self, run: PodRun | None, fds: list[int], cgroups: int = 0, kit: Kit | None = None, given: int = 0,
                 outputs: list[str] | None = None, recycle: tuple | None = None) -> None:
        self.run = run
        self.fds = fds
        self.cgroups = cgroups
        self.kit = kit
        self.given = given
        self.outputs = [] if outputs is None else outputs
        self.recycle = recycle

    def pod_fds(self) -> PodFds:
        """The pod's own descriptors among :attr:`fds`."""
        stdout, stderr, done, pod_dir = self.fds[:4]
        return PodFds(stdout, stderr, done, pod_dir, self.fds[4:4 + self.cgroups])


def _send(sock: socket.socket, request: _Request) -> None:
    """Send ``request`` with its descriptors (the pod's, then the kit's) attached. Raises ``OSError``."""
    kit_fds = list(request.kit.lowers.values()) if request.kit is not None else []
    messages.send(sock, request, [*request.fds, *kit_fds])


def _receive(sock: socket.socket) -> _Request | None:
    """The next request, its descriptor numbers those of this process; ``None`` once the sender closed."""
    received = messages.receive(sock)
    if received is None:
        return None
    request, fds = received
    assert isinstance(request, _Request)
    kit_fds = list(request.kit.lowers.values()) if request.kit is not None else []
    mapping = dict(zip([*request.fds, *kit_fds], fds))
    if request.run is not None:
        assert request.run.sandbox is not None
        request.run.sandbox = request.run.sandbox.with_fds(mapping)
    if request.kit is not None:
        request.kit.lowers = {folder: mapping[fd] for folder, fd in request.kit.lowers.items()}
    request.fds = [mapping[fd] for fd in request.fds]
    return request


def standby_fits(plan: SandboxPlan, disk_bytes: int) -> bool:
    """Whether a pod of ``plan`` can go to a standby leader built for ``disk_bytes``: a plain pod (no image
    layer, no build, no lower layers of its own) of that disk size."""
    return plan.image_layer is None and not plan.capture and not plan.lowers and plan.disk_bytes == disk_bytes


# --------------------------------------------------------------------------- in the runner


class _StandbyHandle(Record):
    """A standby leader as the runner holds it: its socket (the runner's end, where its pod goes) and the
    zygote's answer, its pid on the host (a future)."""

    sock: socket.socket
    pid: Any
    key: tuple | None
    """The recycle key it was asked with: a standby forked on a recycled tree takes only pods of that key."""

    def __init__(self, sock: socket.socket, pid: Any, key: tuple | None = None) -> None:
        self.sock = sock
        self.pid = pid
        self.key = key


class Zygote(Record):
    """The runner's handle on its zygote process."""

    process: subprocess.Popen | ForkedLauncher
    sock: socket.socket
    mounts: list[str]
    """The host's mount points (see :func:`.sandbox.host_mount_points`)."""
    disk_bytes: int
    """The disk size of the pods its standby leaders are built for."""
    folder: Path
    """The zygote's working directory (see :func:`_standby_folder`)."""
    answers: collections.deque
    """Futures of the questions sent, oldest first, each answered by a pid."""
    received: bytearray
    loop: Any
    """The runner's ``asyncio`` event loop, which reads the answers (not imported here: the zygote stays
    lean)."""
    in_flight: Any
    """An ``asyncio.Semaphore`` of :data:`MAX_IN_FLIGHT`: the questions sent and not yet answered. Unbounded,
    a burst of pods fills both sockets' buffers (the zygote's answers unread while the runner still sends)."""
    standbys: collections.deque
    """The standby leaders the zygote forked for this runner, oldest first (:class:`_StandbyHandle`)."""
    given: int
    """How many pods went to standby leaders."""
    recycling: dict
    """Whether the last standby asked for a recycle key was forked on a recycled tree, by key."""
    recycled: int
    """How many of those ran on recycled trees (see :mod:`.recycling`)."""
    ended_early: int
    """How many pods' ends the runner told from ``/proc`` before the zygote reaped their leaders (see
    :mod:`.exits`)."""

    def __init__(self, process: subprocess.Popen | ForkedLauncher, sock: socket.socket, mounts: list[str],
                 disk_bytes: int, folder: Path) -> None:
        self.process = process
        self.sock = sock
        self.mounts = mounts
        self.disk_bytes = disk_bytes
        self.folder = folder
        self.answers = collections.deque()
        self.received = bytearray()
        self.loop = None
        self.in_flight = None
        self.standbys = collections.deque()
        self.given = 0
        self.recycling = {}
        self.recycled = 0
        self.ended_early = 0

    def standby_fits(self, plan: SandboxPlan) -> bool:
        """Whether a pod of ``plan`` goes to a standby leader, which brings its lower layers."""
        return standby_fits(plan, self.disk_bytes)

    def _kit(self, trees: list[int]) -> Kit:
        return Kit(self.mounts, self.disk_bytes, host_lowers(True, trees))

    def add_standby(self, key: tuple | None = None) -> None:
        """Have the zygote fork a standby leader, whose socket the runner keeps: a pod goes there directly; on a
        recycled tree for pods of ``key`` (see :mod:`.recycling`) when the zygote has one. Its kit goes with
        the request unless the last standby asked for ``key`` was recycled: the zygote then forks one only on a
        recycled tree (else it answers 0, and a standby with a kit is asked for when a pod comes). Raises
        :class:`ZygoteError` (or ``OSError``, detaching the host's folders)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        trees: list[int] = []
        try:
            kit = None if key is not None and self.recycling.get(key) else self._kit(trees)
            answer = self._question(_Request(None, [theirs.fileno()], kit=kit, recycle=key))
        except BaseException:
            ours.close()
            raise
        finally:  # sent: the zygote has its own copies
            theirs.close()
            for fd in trees:
                os.close(fd)
        self.standbys.append(_StandbyHandle(ours, answer, key))

    async def fork_leader(self, run: PodRun, stdout_fd: int, stderr_fd: int, done_fd: int) -> int:
        """Give ``run`` to a standby leader, or have the zygote fork its leader (see :func:`.process.lead_pod`):
        its pid on the host. The runner's event loop goes on while the zygote forks (answers come in order).

        When the engine runs as root, the pod's volumes are attached through id-mapped mounts, made here only for
        a leader that builds the pod's tree: a pod on a recycled tree finds them there (see :mod:`.recycling`).

        Raises :class:`ZygoteError` when the zygote is gone or does not answer, ``OSError`` when the volumes
        cannot be id-mapped. Cancelled, it still kills the leader once the zygote named it.
        """
        import asyncio  # noqa: PLC0415 - the runner's side only: the zygote stays lean

        assert run.sandbox is not None
        if self.in_flight is None:
            self.in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with self.in_flight:
            # A pod without a folder of its own works from the zygote's (its root's), where it writes nothing.
            folder = run.pod_dir if run.own_folder else self.folder
            pod_dir = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            cgroup_fds = run.cgroup.join_fds() if run.cgroup is not None else []
            trees: list[int] = []  # the volumes' id-mapped mounts, a standby's lower layers
            try:
                fds = [stdout_fd, stderr_fd, done_fd, pod_dir, *cgroup_fds, *run.sandbox.inherited_fds()]
                request = _Request(run.replace(cgroup=None, image_build=None, userns=-1), fds,
                                   len(cgroup_fds))
                fits = self.standby_fits(run.sandbox)
                pid = await self._to_standby(request, recycle_key(run.sandbox), trees) if fits else None
                if pid is None:
                    _attach_volumes(request, trees)
                    request.kit = self._kit(trees) if fits else None  # a standby's lower layers
                    answer = self._ask(request)
            finally:  # sent: the zygote, or the standby leader, has its own copies
                for fd in [pod_dir, *cgroup_fds, *trees]:
                    os.close(fd)
            if pid is None:
                pid, _ = await answer
        if pid < 0:
            raise OSError(-pid, f"the zygote cannot fork the pod's leader: {os.strerror(-pid)}")
        return pid

    async def _to_standby(self, request: _Request, key: tuple | None, trees: list[int]) -> int | None:
        """Send the pod of ``request`` (of the recycle ``key``) to the oldest standby leader that fits it, tell
        the zygote (which reports the pod's end) and ask it for the next standby leader, for a pod of the same
        key: the pod's pid, or ``None`` when no standby leader is left (each died, or could not be forked). When
        the pods before it took every standby leader (a parallel burst), one more is asked for and waited for:
        forked on a recycled tree, it costs a quarter of a leader that builds the pod's tree. A standby on a
        recycled tree of another key is let go (it ends; its tree goes back to the pool). A standby that
        builds the pod's tree gets its volumes' id-mapped mounts (added to ``trees``)."""
        asked = False
        while True:
            if not self.standbys:  # a burst of pods took the last one: the next, rather than a tree built anew
                if asked:
                    return None
                self.add_standby(key)
                asked = True
            standby = self.standbys.popleft()
            try:
                pid, recycled = await self._answered(standby.pid)
                if standby.key is not None:
                    self.recycling[standby.key] = bool(recycled)
                if pid == 0 or (pid > 0 and recycled and standby.key != key):  # none forked, or not for this pod
                    standby.sock.close()
                    self.add_standby(key)
                    continue
                if pid > 0:
                    request.recycle = key
                    if not recycled:
                        _attach_volumes(request, trees)
                    _send(standby.sock, request)
                    self.given += 1
                    self.recycled += bool(recycled)
            except OSError:  # it died before its pod (a dead zygote: the next question says so)
                pid = -1
            finally:
                standby.sock.close()
            if pid < 0:
                continue
            fds = request.pod_fds()
            assert request.run is not None
            self._send(_Request(None, [fds.done, fds.pod_dir], given=pid, outputs=list(request.run.outputs)))
            self.add_standby(key)
            return pid

    def _send(self, request: _Request) -> None:
        try:
            _send(self.sock, request)
        except OSError as error:
            raise ZygoteError(error.errno or 0, f"the pods' zygote does not listen: {error}") from error

    def _question(self, request: _Request) -> Any:
        """Send ``request`` now: the future of its answer (a pid), read by the event loop."""
        import asyncio  # noqa: PLC0415 - the runner's side only: the zygote stays lean

        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._send(request)
        self.answers.append(answer)
        if loop is not self.loop:  # read from the first question on (not one reader per question)
            if self.loop is not None:
                self.loop.remove_reader(self.sock.fileno())  # nothing, once that loop is closed
            self.loop = loop
            loop.add_reader(self.sock.fileno(), self._read_answers)
        return answer

    def _ask(self, request: _Request) -> Awaitable[tuple[int, int]]:
        """Send ``request`` now; its answer (see :data:`ANSWER`), read by the event loop."""
        return self._answered(self._question(request))

    async def _answered(self, answer: Any) -> tuple[int, int]:
        """The pid ``answer`` (a future) brings, and whether it is a recycled standby's, within
        :data:`ANSWER_SECONDS`."""
        import asyncio  # noqa: PLC0415 - the runner's side only: the zygote stays lean

        from ..timeouts import within  # noqa: PLC0415

        if answer.done():  # mostly: a standby leader's was read as the pod before ran
            return answer.result()
        try:
            return await within(asyncio.shield(answer), ANSWER_SECONDS)
        except asyncio.TimeoutError:
            self.close(f"no answer in {ANSWER_SECONDS:.0f} s")
            raise ZygoteError(0, f"the pods' zygote did not answer in {ANSWER_SECONDS:.0f} s") from None
        except asyncio.CancelledError:
            answer.add_done_callback(_kill_named_leader)
            raise

    def _read_answers(self) -> None:
        """The event loop's reader of the zygote's answers, each for the oldest question."""
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError as error:
            self.close(str(error))
            return
        if not data:
            self.close("it ended")
            return
        self.received.extend(data)
        while len(self.received) >= ANSWER.size and self.answers:
            pid_and_recycled = ANSWER.unpack(self.received[:ANSWER.size])
            del self.received[:ANSWER.size]
            answer = self.answers.popleft()
            if not answer.done():
                answer.set_result(pid_and_recycled)

    def alive(self) -> bool:
        """Whether the zygote still runs and holds its end of the socket (a zygote that just died may not be
        reaped yet, but its socket is already hung up)."""
        if self.process.poll() is not None or self.sock.fileno() < 0:
            return False
        hangup = select.poll()
        hangup.register(self.sock, select.POLLHUP)
        return not any(events & (select.POLLHUP | select.POLLERR) for _, events in hangup.poll(0))

    def close(self, why: str = "it was ended", grace: float = 0.0) -> None:
        """End the zygote (its pods' leaders die with it) and reap it; the questions still waiting fail with
        ``why``. Its socket closed, the zygote ends on its own: it is given ``grace`` seconds for that (see
        :func:`end_zygote`), then killed. Again on an ended zygote: nothing more."""
        if self.sock.fileno() >= 0 and self.loop is not None:
            self.loop.remove_reader(self.sock.fileno())
        failing = self.loop is None or not self.loop.is_closed()  # once the run is over, nobody awaits them
        while self.answers:
            answer = self.answers.popleft()
            if failing and not answer.done():
                answer.set_exception(ZygoteError(0, f"the pods' zygote did not answer: {why}"))
        self.sock.close()
        while self.standbys:
            self.standbys.popleft().sock.close()
        _end(self.process, grace)


def _attach_volumes(request: _Request, trees: list[int]) -> None:
    """When the engine runs as root: the volumes of ``request``'s pod through id-mapped mounts, whose
    descriptors go with it (and to ``trees``). Raises ``OSError``."""
    assert request.run is not None and request.run.sandbox is not None
    made = len(trees)
    request.run.sandbox = request.run.sandbox.replace()  # the caller's plan keeps no closed descriptor
    try:
        use_idmapped_volumes(request.run.sandbox, trees)
    except OSError as error:
        raise OSError(error.errno, f"cannot attach the pod's volumes through id-mapped mounts (Linux >= 5.12 on "
                                   f"a file system supporting them): {error}") from error
    request.fds += trees[made:]


def _end(process: subprocess.Popen | ForkedLauncher, grace: float) -> None:
    """Reap the zygote's launcher ``process`` once it exits, which it does once its zygote did; killed (its
    zygote and pods with it) when it has not within ``grace`` seconds."""
    if process.poll() is not None:
        return
    exited = False
    if grace > 0:
        pidfd = os.pidfd_open(process.pid)  # not reaped yet: still this pid's
        try:
            ended = select.poll()  # not select(): a runner of many pods holds descriptors past FD_SETSIZE
            ended.register(pidfd, select.POLLIN)
            exited = bool(ended.poll(grace * 1000))
        finally:
            os.close(pidfd)
        if not exited:
            log.warning("the pods' zygote did not end %.0f s after its runner closed its socket: killed", grace)
    if not exited:
        process.kill()
    process.wait()


def end_zygote() -> None:
    """At the runner's end: end this process's zygote (or the one started early, never adopted) and reap it.

    Its socket closed, the zygote returns; its PID namespace ends with it (the standby leader, and any pod's
    process left, killed and reaped by the kernel for it), then its launcher, which reaps it, exits. So every
    pod's process is reaped up to this process: none is left a zombie for the system to reap, and the CPU time
    they used adds up in this process's children's (``getrusage(RUSAGE_CHILDREN)`` of whoever reaps the runner:
    ``bench/engine.py`` reads it). A zygote that has not ended within :data:`END_SECONDS` is killed.
    """
    global _zygote, _early
    if _zygote is not None and _owner == os.getpid():
        log.info("%d of the %d pods given to standby leaders ran on recycled trees; %d pods' ends were told as "
                 "their leaders exited", _zygote.recycled, _zygote.given, _zygote.ended_early)
        _zygote.close("the runner ended", grace=END_SECONDS)
    _zygote = None
    early, _early = _early, None
    if early is not None and early.owner == os.getpid():
        early.sock.close()
        _end(early.process, END_SECONDS)


def _kill_named_leader(answer) -> None:
    """A cancelled pod's leader, once the zygote named it: killed with its process group."""
    if not answer.cancelled() and answer.exception() is None and answer.result()[0] > 0:
        kill_group(answer.result()[0])


_zygote: Zygote | None = None
_owner = -1
#: The zygote's working directory in the folder given to :func:`zygote`: where standby leaders build.
STANDBY_FOLDER = ".standby"
#: How many standby leaders a zygote keeps. Two gave a pipeline no measurable gain over one (bench/README.md)
#: and build one more unused tree at the end of every workflow.
STANDBY_LEADERS = 1


def _standby_folder(folder: Path) -> Path:
    """An empty folder of the pods' root, the mount point of standby leaders' trees (in their own mount
    namespaces: the host never sees anything there)."""
    standby = folder / STANDBY_FOLDER
    standby.mkdir(mode=0o700, parents=True, exist_ok=True)
    uid, gid = pod_root_ids()
    if (uid, gid) != (os.geteuid(), os.getegid()):
        os.chown(standby, uid, gid)
    return standby


class ForkedLauncher:
    """The zygote's launcher as forked by this process (:func:`start_zygote_early`), handled as
    :class:`subprocess.Popen` handles a process it started."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Its exit code once it ended (reaped), else None."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        """Send it ``SIGKILL`` (nothing once reaped)."""
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        """Until it ended; its exit code."""
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class _StartedZygote(Record):
    """A zygote's process as started, not yet known to be ready: by the first pod, or ahead of it
    (:func:`start_zygote_early`)."""

    process: subprocess.Popen | ForkedLauncher
    sock: socket.socket
    standby: Path | None
    """Its working directory; ``None`` for a spare runner's, until its workflow is known (:func:`_adopt_early`)."""
    userns: int
    owner: int

    def __init__(self, process: subprocess.Popen | ForkedLauncher, sock: socket.socket, standby: Path | None,
                 userns: int, owner: int) -> None:
        self.process = process
        self.sock = sock
        self.standby = standby
        self.userns = userns
        self.owner = owner


_early: _StartedZygote | None = None


def _launch_zygote(userns: int, folder: Path) -> _StartedZygote:
    """Start the zygote's process in the user namespace ``userns``, its working directory in ``folder``; do not
    wait for it. Raises :class:`ZygoteError`."""
    import subprocess  # noqa: PLC0415 - the runner's side only: the zygote stays lean

    standby = _standby_folder(folder)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        launcher = subprocess.Popen(  # noqa: S603 - this interpreter, running this module
            python_command("from workflows.engine.pod.zygote import serve; serve()",
                           str(theirs.fileno()), str(userns), str(os.getpid())),
            pass_fds=(theirs.fileno(), userns), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            cwd=standby)
    except OSError as error:
        ours.close()
        raise ZygoteError(error.errno or 0, f"cannot start the pods' zygote: {error}") from error
    finally:
        theirs.close()
    return _StartedZygote(launcher, ours, standby, userns, os.getpid())


def _fork_zygote(userns: int, folder: Path | None) -> _StartedZygote:
    """Fork the zygote's launcher from this process, which must hold no more than the zygote needs (a runner
    that imported only this module); do not wait for it. Without ``folder`` (a spare runner's), the zygote gets
    ready, then waits for its working directory before it answers (:func:`_adopt_early`). Raises ``OSError``."""
    standby = _standby_folder(folder) if folder is not None else None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    runner = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        raise
    if pid == 0:  # the launcher: never returns into the runner's code
        try:
            ours.close()
            sock_fd = theirs.detach()
            close_all_but([sock_fd, userns])  # as exec would: the runner's lock, the user namespace's holder...
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.close(devnull)
            os.chdir("/" if standby is None else standby)
            _serve(sock_fd, userns, runner, workdir_follows=standby is None)
        finally:
            os._exit(1)
    theirs.close()
    return _StartedZygote(ForkedLauncher(pid), ours, standby, userns, runner)


def start_zygote_early(folder: Path | None) -> None:
    """Start this process's zygote now, for pods of ``folder`` (see :func:`zygote`), without waiting for it.

    A runner calls this first thing, having imported only this module: its launcher is forked from the runner
    as it is then, as lean as the zygote must be, so the zygote needs no interpreter of its own (about 50 ms
    of CPU saved), and gets ready on another core while the runner imports the engine. The first pod adopts
    it. A spare runner (:mod:`..spares`) does not know its workflow yet: ``None``, and the first pod gives the
    zygote its working directory. Nothing happens when pods run unisolated; a zygote that cannot start is left
    for the first pod to report.
    """
    global _early
    try:
        if isolation() != "sandbox":
            return
        _early = _fork_zygote(pod_userns(), folder)
    except (PodSetupError, OSError) as error:  # NamespacesRefused and ZygoteError are OSErrors
        log.debug("the pods' zygote was not started early: %s", error)


def _adopt_early(userns: int, folder: Path) -> _StartedZygote:
    """The zygote started early when it was started by this process for ``userns`` and ``folder`` and still
    runs, else a new one."""
    global _early
    early, _early = _early, None
    if early is not None:
        if (early.owner, early.userns) == (os.getpid(), userns) and early.process.poll() is None:
            if early.standby is None:  # a spare runner's: its working directory, where the workflow's are
                early.standby = _standby_folder(folder)
                workdir = os.open(early.standby, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    messages.send(early.sock, WORKDIR, [workdir])
                    return early
                except OSError:  # the zygote died: a new one, below
                    pass
                finally:
                    os.close(workdir)
            elif early.standby == folder / STANDBY_FOLDER:
                return early
        early.sock.close()
        _end(early.process, 0.0)
    return _launch_zygote(userns, folder)


def zygote(userns: int, folder: Path, mounts: list[str], disk_bytes: int) -> Zygote:
    """This process's zygote, in the user namespace ``userns``; started on first use (or adopted, when started
    early), again if it died.

    ``folder`` (a folder of the runner's) gets the zygote's working directory; ``mounts`` are the host's
    mount points and ``disk_bytes`` the disk size of the pods its standby leaders are built for.
    Raises :class:`ZygoteError` when it cannot start.
    """
    global _zygote, _owner
    if _zygote is not None and _owner == os.getpid() and _zygote.alive():
        return _zygote
    if _zygote is not None and _owner == os.getpid():
        _zygote.close("it died")
    _zygote = None
    launched = _adopt_early(userns, folder)
    launcher, ours, standby = launched.process, launched.sock, launched.standby
    ours.settimeout(ANSWER_SECONDS)
    handle = Zygote(launcher, ours, mounts, disk_bytes, standby)
    try:
        ready = messages.receive(ours)
    except (OSError, EOFError) as error:
        handle.close()
        raise ZygoteError(0, f"the pods' zygote did not start: {error}") from error
    if ready is None or ready[0] != READY:
        handle.close()
        raise ZygoteError(0, "the pods' zygote did not start" if ready is None else str(ready[0]))
    try:
        for _ in range(STANDBY_LEADERS):
            handle.add_standby()
    except OSError as error:
        handle.close()
        raise ZygoteError(error.errno or 0, f"cannot give the pods' zygote its first standby kits: {error}") from error
    _zygote, _owner = handle, os.getpid()
    return handle


# --------------------------------------------------------------------------- in the zygote


class _Standby(Record):
    """A standby leader: its pid (in the zygote's PID namespace) and the zygote's end of its socket, where it
    tells that it entered its pod's tree; until the runner says it gave it a pod."""

    pid: int
    sock: socket.socket
    ended: int | None
    """Its exit code, when it ended before the zygote learned of its pod."""
    template: Template | None
    """The recycled tree it was forked on (see :mod:`.recycling`), until its pod's end."""
    watching: bool
    """Whether it holds the zygote's inotify instance, to make its tree a template."""
    overflows: int
    """The zygote's inotify queue's overflows when it was forked (see :meth:`.recycling.Watcher.claim`)."""

    def __init__(self, pid: int, sock: socket.socket, template: Template | None = None, watching: bool = False,
                 overflows: int = 0) -> None:
        self.pid = pid
        self.sock = sock
        self.ended = None
        self.template = template
        self.watching = watching
        self.overflows = overflows


class _Leader(Record):
    """A pod's leader, as the zygote follows it until it reported the pod's end."""

    sock: socket.socket | None
    """Until the leader entered the pod's tree (:data:`.process.ENTERED`, with its mount namespace)."""
    done: int
    """The zygote's copy of the pod's ``done`` pipe."""
    pod_dir: int
    """The zygote's copy of the pod's folder (``O_PATH``), where a collector copies the outputs."""
    outputs: list[str]
    mount_ns: int
    """The pod's mount namespace, kept past the leader's end: the outputs are read there, and its teardown
    happens after the pod's status went out, not before (in the leader's exit)."""
    template: Template | None
    """The template of the pod's tree (see :mod:`.recycling`): the recycled tree it ran on, or the one its
    leader built; checked and pooled once the pod and its collector ended."""
    watching: bool
    """Whether its leader may still send a template it made (its note not read yet)."""
    overflows: int
    """As :attr:`_Standby.overflows`."""

    def __init__(self, sock: socket.socket | None, done: int, pod_dir: int, outputs: list[str],
                 template: Template | None = None, watching: bool = False, overflows: int = 0) -> None:
        self.sock = sock
        self.done = done
        self.pod_dir = pod_dir
        self.outputs = outputs
        self.mount_ns = -1
        self.template = template
        self.watching = watching
        self.overflows = overflows

    def close(self) -> None:
        """Close what the zygote holds for the pod: the last reference to its mount namespace ends it."""
        if self.sock is not None:
            self.sock.close()
        for fd in (self.done, self.pod_dir, self.mount_ns):
            if fd >= 0:
                os.close(fd)


#: Up to how many children the zygote tells a new child's host pid from its list of children (see
#: :meth:`_Zygote._host_pid`); beyond, reading and parsing the list would cost more than the pidfd's ``fdinfo``.
LISTED_CHILDREN = 64


def _listed_children() -> set[int]:
    """The host pids of this thread's children (``/proc/thread-self/children``: the zygote's ``/proc`` is the
    host's). Raises ``OSError`` (a kernel without ``CONFIG_PROC_CHILDREN``)."""
    fd = os.open("/proc/thread-self/children", os.O_RDONLY)
    try:
        return {int(pid) for pid in os.read(fd, 65536).split()}
    finally:
        os.close(fd)


def _pidfd_host_pid(pid: int) -> int:
    """The host's pid of the zygote's child ``pid`` (the zygote's own ``/proc`` is the host's: its pidfd's
    ``fdinfo`` tells the pid in the host's PID namespace)."""
    pidfd = os.pidfd_open(pid)
    try:
        info = os.open(f"/proc/self/fdinfo/{pidfd}", os.O_RDONLY)
        try:
            text = os.read(info, 4096)
        finally:
            os.close(info)
    finally:
        os.close(pidfd)
    for line in text.splitlines():
        if line.startswith(b"Pid:"):
            return int(line.split()[1])
    raise OSError(0, f"no pid for the zygote's child {pid} in its pidfd's fdinfo")


def _as_new_leader(lead: Callable[..., None], *args: Any) -> None:
    """In a process the zygote just forked into a new PID namespace: begin as a pod's leader, die with the
    zygote, then ``lead(*args)``, which closes the descriptors it does not keep (:func:`.process.close_all_but`),
    the zygote's end of the leader's socket among them: not through the socket object, whose ``close`` would
    have the leader copy more of the zygote's pages (9 of its ~230 before its own code runs). Never returns,
    whatever ``lead`` does."""
    try:
        begin_leader()
        syscalls.set_parent_death_signal(signal.SIGKILL)
        lead(*args)
    except BaseException:  # noqa: BLE001 - a forked process must never return into the zygote's loop
        print_exception()
    finally:
        os._exit(1)


def _standby(pods: socket.socket, notes: socket.socket, kit: Kit | None, template_ns: int, inotify: int) -> None:
    """A standby leader: build the base tree from ``kit`` over the working directory, or, without a kit, enter
    a copy of the recycled tree ``template_ns`` (see :mod:`.recycling`); then wait for its pod (from the
    runner, on ``pods``) and lead it (:func:`.process.lead_pod`; it tells the zygote on ``notes``, and watches
    the tree it built with the zygote's ``inotify`` instance)."""
    if kit is not None:
        close_all_but([pods.fileno(), notes.fileno(), *kit.lowers.values(), inotify])
        prepared = prepare_base(kit.base(), kit.mounts)
    else:
        close_all_but([pods.fileno(), notes.fileno(), template_ns])
        prepared = prepare_recycled(template_ns)
    _rehearse_receiving()
    request = _receive(pods)
    if request is None or request.run is None:  # the runner ended, or gave no pod
        os._exit(0)
    # A recycled tree is the zygote's template already; a built one may become one.
    recycle = request.recycle if kit is not None else None
    lead_pod(request.run, request.pod_fds(), prepared, notes, recycle, inotify)  # which closes ``pods``


#: A pickled request shaped like a PythonTask pod's, made once in the zygote (see :func:`_rehearse_receiving`).
_SAMPLE_REQUEST = b""


def sample_request() -> bytes:
    """A pickled :class:`_Request` shaped like a plain PythonTask pod's (its process, environment, volumes,
    script), for :func:`_rehearse_receiving`."""
    script = "/argo/staging/script"
    env = {f"ARGO_SAMPLE_VARIABLE_{index}": "sample-value" for index in range(16)}
    process = PodProcess.python(env, "/", Path("/"), "pass\n", script)
    volumes = [VolumeBind(f"/sample/{index}", f"/sample/{index}", read_only=True) for index in range(4)]
    plan = SandboxPlan(1 << 30, volumes, [PodFile(script, text="pass\n")], hostname="sample")
    run = PodRun(process, Path("/"), plan, limits=Limits())
    return pickle.dumps(_Request(run, [0, 1, 2, 3], recycle=recycle_key(plan)), protocol=pickle.HIGHEST_PROTOCOL)


def _rehearse_receiving() -> None:
    """In a standby leader waiting for its pod: receive a sample pod (:data:`_SAMPLE_REQUEST`) as
    :func:`_receive` receives the real one. Unpickling writes to the pages of the classes it makes instances of
    and of the allocator's pools, which this process shares with the zygote: the sample's writes copy them now,
    while the pod before runs, rather than when the pod comes (140 copy-on-write faults, ~0.3 ms, off each
    step's critical path; bench/README.md)."""
    if _SAMPLE_REQUEST:
        request = pickle.loads(_SAMPLE_REQUEST)  # noqa: S301 - the zygote's own
        if request.run is not None and request.run.sandbox is not None:
            request.run.sandbox.with_fds({})
            rehearse_python(request.run.process)


def _leader(notes: socket.socket, request: _Request) -> None:
    """A pod's leader forked with its pod: build all of the pod's tree and lead it (:func:`.process.lead_pod`).
    """
    run = request.run
    assert run is not None and run.sandbox is not None
    close_all_but([notes.fileno(), *request.fds, *run.sandbox.inherited_fds()])
    lead_pod(run, request.pod_fds(), prepare_base(run.sandbox, run.host_mounts), notes)


def _sent_note(sock: socket.socket) -> bool:
    """Whether the ended standby leader of ``sock`` sent its note: it had a pod."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, ConnectionError):
        return False


def _close_kit(kit: Kit) -> None:
    for fd in kit.lowers.values():
        os.close(fd)


class _Zygote:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        """The zygote's own PID namespace, whose children the pods' namespaces are."""
        self.leaders: dict[int, _Leader] = {}
        """The pods' leaders, by pid, until their pod's status went out."""
        self.standbys: dict[int, _Standby] = {}
        """The standby leaders, by pid on the host, until the runner gave them a pod."""
        self.collectors: dict[int, Template] = {}
        """The templates of the trees whose pods' outputs a collector (by pid) still reads."""
        self.host_pids: dict[int, int] = {}
        """The host pids of the standby leaders and leaders, by pid here, until they are reaped."""
        self.templates: list[Template] = []
        """The pooled templates, oldest first (see :mod:`.recycling`)."""
        self.watcher = Watcher.open()
        self.wakeup_read, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wakeup_write)  # SIGCHLD wakes the loop, which reaps (never in a handler)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def _host_pid(self, pid: int) -> int:
        """The host's pid of the standby leader or leader ``pid`` just forked: the one child in the zygote's list of
        children (:func:`_listed_children`) it does not know yet (0.02 ms), else (an orphan it adopted, a
        collector, more than :data:`LISTED_CHILDREN` children, no list) what its pidfd says (0.08 ms)."""
        host = 0
        if len(self.host_pids) < LISTED_CHILDREN:
            try:
                unknown = _listed_children().difference(self.host_pids.values())
            except OSError:
                unknown = set()
            if len(unknown) == 1:
                host = unknown.pop()
        self.host_pids[pid] = host = host or _pidfd_host_pid(pid)
        return host

    def _fork(self) -> int:
        """Fork a child that is the first process of a new PID namespace (a pod's): its pid here. Raises
        ``OSError``."""
        syscalls.unshare(syscalls.CLONE_NEWPID)  # the next child's PID namespace
        pid = -1
        try:
            pid = os.fork()
        finally:
            if pid != 0:  # this process's next children: back in its own PID namespace
                syscalls.setns(self.pid_ns, syscalls.CLONE_NEWPID)
        return pid

    def _reap(self) -> None:
        """Reap every ended child; a pod's leader (the first process of its PID namespace: its end is the end of
        all the pod's processes) gets the pod's status written to its ``done`` pipe, by a collector when the
        pod declared outputs."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            self.host_pids.pop(pid, None)
            leader = self.leaders.pop(pid, None)
            if leader is not None:
                if leader.sock is not None:  # its note, if it sent one, is there: it ended
                    self._note(leader)
                self._report(leader, shell_exit_code(status))
            elif pid in self.collectors:
                self._recycle(self.collectors.pop(pid))
            else:  # a standby leader whose pod the zygote does not know yet, or that died before its pod
                for standby in self.standbys.values():
                    if standby.pid == pid:
                        standby.ended = shell_exit_code(status)
                        # Let go before its pod, it made no template, and its recycled tree was never a pod's.
                        # (Otherwise the template goes with the pod, whose outputs may still be read there.)
                        if not _sent_note(standby.sock):
                            standby.watching = False
                            if standby.template is not None:
                                self._recycle(standby.template)
                                standby.template = None

    def _recycle(self, template: Template) -> None:
        """Pool ``template``, whose pod's processes all ended, when its tree is as built (see :mod:`.recycling`);
        else close it."""
        assert self.watcher is not None  # a template was made with its watches
        try:
            pristine = self.watcher.pristine(template)
        except OSError as error:
            log.debug("a pod's tree cannot be checked for recycling: %s", error)
            pristine = False
        if pristine and len(self.templates) < POOLED_TEMPLATES:
            self.templates.append(template)
        else:
            self.watcher.release(template)
            template.close()

    def _may_watch(self) -> bool:
        """Whether a new standby leader may make its tree a template: fewer than :data:`WATCHED_TEMPLATES` are
        pooled, in use or being made."""
        if self.watcher is None:
            return False
        held = len(self.templates) + len(self.collectors)
        held += sum(1 for leader in self.leaders.values() if leader.template is not None or leader.watching)
        held += sum(1 for standby in self.standbys.values() if standby.template is not None or standby.watching)
        return held < WATCHED_TEMPLATES

    def _pooled(self, key: tuple | None) -> Template | None:
        """A pooled template for pods of ``key``, taken out of the pool."""
        for index, template in enumerate(self.templates):
            if key is not None and template.key == key:
                return self.templates.pop(index)
        return None

    def _report(self, leader: _Leader, code: int) -> None:
        """The pod of ``leader`` ended with ``code``: its status (with its outputs) to its ``done`` pipe."""
        if leader.mount_ns >= 0 and leader.outputs:
            try:
                collector = os.fork()
            except OSError as error:
                log.warning("cannot fork the collector of a pod's outputs: %s", error)
            else:
                if collector == 0:
                    signal.set_wakeup_fd(-1)
                    close_all_but([leader.mount_ns, leader.pod_dir, leader.done])
                    copy_declared_outputs(leader.mount_ns, leader.pod_dir, leader.outputs, code, leader.done)
                leader.close()
                if leader.template is not None:  # checked once the collector, in the pod's tree, ended
                    self.collectors[collector] = leader.template
                return
        try:
            os.write(leader.done, b"%d\n" % code)
        except OSError:  # the runner stopped listening (the pod was cancelled)
            pass
        leader.close()
        if leader.template is not None:
            self._recycle(leader.template)

    def _fork_standby(self, request: _Request) -> int:
        """Fork a standby leader with the kit (or on a pooled tree of the recycle key) and the runner's socket of
        ``request``: its host pid, minus the ``errno`` of a failed fork, or 0 when the request has no kit and
        the pool no tree of its key."""
        kit = request.kit
        template = self._pooled(request.recycle)
        if template is None and kit is None:
            os.close(request.fds[0])
            return 0
        watching = template is None and self._may_watch()
        if kit is not None and template is None:
            host_layout(kit.mounts)  # once, here: the leaders only replay it
        pods = socket.socket(fileno=request.fds[0])
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = self._fork()
        except OSError as error:
            log.warning("cannot fork the pods' standby leader: %s", error)
            ours.close()
            pid = -(error.errno or 1)
        if pid == 0:
            _as_new_leader(_standby, pods, theirs, None if template else kit, template.mount_ns if template else -1,
                           self.watcher.fd if self.watcher and watching else -1)
        pods.close()
        theirs.close()
        if kit is not None:
            _close_kit(kit)
        if pid < 0:
            if template is not None:
                self._recycle(template)
            return pid
        host_pid = self._host_pid(pid)
        overflows = self.watcher.overflows if self.watcher is not None else 0
        self.standbys[host_pid] = _Standby(pid, ours, template=template, watching=watching, overflows=overflows)
        return host_pid

    def _given(self, request: _Request) -> None:
        """The runner gave the standby leader ``request.given`` (a host pid) its pod: follow it as the pod's
        leader."""
        done, pod_dir = request.fds
        standby = self.standbys.pop(request.given, None)
        if standby is None:
            log.warning("the runner gave a pod to %d, which is no standby leader of the pods", request.given)
            os.close(done)
            os.close(pod_dir)
            return
        leader = _Leader(standby.sock, done, pod_dir, request.outputs, template=standby.template,
                         watching=standby.watching, overflows=standby.overflows)
        if standby.ended is None:
            self.leaders[standby.pid] = leader
        else:  # it ended already
            self._note(leader)
            self._report(leader, standby.ended)

    def _fork_leader(self, request: _Request) -> int:
        """Fork a leader for the pod of ``request``: its host pid, or minus the ``errno`` of a failed fork."""
        run = request.run
        assert run is not None and run.sandbox is not None
        host_layout(run.host_mounts)  # once, here: the pods only replay it
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = self._fork()
        except OSError as error:
            for fd in [ours.detach(), theirs.detach(), *request.fds]:
                os.close(fd)
            return -(error.errno or 1)
        if pid == 0:
            _as_new_leader(_leader, theirs, request)
        theirs.close()
        fds = request.pod_fds()
        self.leaders[pid] = _Leader(ours, fds.done, fds.pod_dir, list(run.outputs))
        for fd in request.fds:  # the leader has its own
            if fd not in (fds.done, fds.pod_dir):
                os.close(fd)
        return self._host_pid(pid)

    def _note(self, leader: _Leader) -> None:
        """Read the note of ``leader``: it entered its pod's tree (its mount namespace attached, and the
        template of the tree it built, see :mod:`.recycling`), or ended before."""
        assert leader.sock is not None
        try:
            message = messages.receive(leader.sock)
        except (OSError, EOFError):
            message = None
        if message is not None:
            (note, payload), fds = message
            if note == ENTERED and fds:
                leader.mount_ns = fds.pop(0)
                template = received(payload, fds)
                if template is not None and self.watcher is not None:
                    leader.template, fds = template, []
                    self.watcher.claim(template, leader.overflows)
            for fd in fds:
                os.close(fd)
        leader.sock.close()
        leader.sock = None
        leader.watching = False

    def serve(self) -> None:
        """Handle the runner's messages, the leaders' notes and the children's ends until the runner closes the
        socket."""
        while True:
            waiting = select.poll()
            waiting.register(self.sock, select.POLLIN)
            waiting.register(self.wakeup_read, select.POLLIN)
            socks = {leader.sock.fileno(): leader for leader in self.leaders.values() if leader.sock is not None}
            for fd in socks:
                waiting.register(fd, select.POLLIN)
            ready = {fd for fd, _ in waiting.poll()}
            for fd in ready & socks.keys():
                self._note(socks[fd])
            if self.wakeup_read in ready:
                while True:
                    try:
                        if not os.read(self.wakeup_read, 512):
                            break
                    except BlockingIOError:
                        break
                self._reap()
            if self.sock.fileno() in ready and not self.serve_one():
                return

    def serve_one(self) -> bool:
        """Handle one message: fork a standby leader (a kit) or a pod's leader and answer its host pid, or
        follow the pod the runner gave a standby leader; ``False`` once the runner closed the socket."""
        request = _receive(self.sock)
        if request is None:
            return False
        if request.given:
            self._given(request)
            return True
        if request.run is None:
            pid = self._fork_standby(request)
        else:
            if request.kit is not None:  # no standby leader: a new leader builds the pod's tree with its kit
                assert request.run.sandbox is not None
                request.run.sandbox.lowers.update(request.kit.lowers)
                request.fds += list(request.kit.lowers.values())
            pid = self._fork_leader(request)
        recycled = request.run is None and pid > 0 and self.standbys[pid].template is not None
        self.sock.sendall(ANSWER.pack(pid, recycled))
        return True


def _launch(sock: socket.socket, userns: int) -> None:
    """In the process the runner started: enter the pods' user namespace, then fork the zygote as the first
    process of a new PID namespace, and live as long as it does (the zygote dies with this process, this
    process with the runner)."""
    try:
        enter_user_namespace(userns)
        os.close(userns)
        syscalls.unshare(syscalls.CLONE_NEWPID)
        zygote_pid = os.fork()
    except OSError as error:  # said to the runner, which fails the pod with it
        messages.send(sock, refusal_message(error) if isinstance(error, syscalls.NamespacesRefused)
                      else f"cannot start the pods' zygote: {error}", [])
        os._exit(1)
    if zygote_pid == 0:
        syscalls.set_parent_death_signal(signal.SIGKILL)  # a launcher already gone: this PID namespace's
        return                                             # first process waits on a socket nobody holds
    sock.close()
    _, status = os.waitpid(zygote_pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def serve() -> None:
    """The zygote's main when started by :func:`_launch_zygote` (``python -c ... SOCKET USERNS RUNNER_PID``)."""
    _serve(*(int(value) for value in sys.argv[1:4]))


def _serve(sock_fd: int, userns: int, runner: int, workdir_follows: bool = False) -> None:
    """In the launcher the runner started: enter the pods' user namespace and a PID namespace of its own, then
    fork a leader for each request on the socket ``sock_fd`` until the runner closes it. Dies with the runner.
    With ``workdir_follows``, the zygote takes its working directory from the runner's first message
    (:data:`WORKDIR`, its descriptor attached) before it answers. Never returns."""
    syscalls.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != runner:  # the runner died before the death signal was armed
        os._exit(1)
    sock = socket.socket(fileno=sock_fd)
    _launch(sock, userns)
    server = _Zygote(sock)
    syscalls.warm_up()  # what every pod needs, built once here rather than in each of them
    global _SAMPLE_REQUEST
    _SAMPLE_REQUEST = sample_request()
    # Each pod's process gets its own environment (a PythonTask's os.environ is its pod's alone): an empty one
    # here spares every PythonTask unsetting the runner's variables one by one (0.2 ms of its start)
    os.environ.clear()
    if workdir_follows:
        received = messages.receive(sock)
        if received is None:  # the spare runner ended without a workflow
            os._exit(0)
        os.fchdir(received[1][0])
        os.close(received[1][0])
    # Forks share the zygote's pages until one side writes; a collection writes to every object it scans.
    # The zygote's own objects are never collected (frozen), and its short-lived requests make no cycles.
    gc.disable()
    gc.freeze()
    messages.send(sock, READY, [])
    server.serve()
    os._exit(0)
