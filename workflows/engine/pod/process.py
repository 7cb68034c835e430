"""Running one pod: one process forked from a warm interpreter (the runner's zygote, see :mod:`.zygote`).

``leader`` (PID 1 of the pod's own PID namespace; leads the pod's process group)
    Forked by the zygote into a new PID namespace (in the pods' user namespace,
    mapping the engine's user to root inside), it enters new mount, IPC and UTS
    namespaces and builds the pod's file tree (:mod:`.sandbox`; a standby leader
    builds its pod-independent part before its pod is known, see :mod:`.zygote`,
    or enters a copy of a tree a pod before left as built, see :mod:`.recycling`),
    mounts the pod's ``/proc``, pivots into the tree, then becomes ``main``: joins
    the pod's cgroup, installs the seccomp filter and ``exec``\\ s the container's
    command — or, for a Python script, runs it in the warm interpreter (no exec:
    this is what makes PythonTasks cheap). An image build keeps a separate
    ``main`` and captures the layer after it.
``collector`` (only for a pod that declares outputs)
    Forked by the zygote once the leader ended: in the pod's mount namespace,
    which the zygote kept, and with the pod's privileges, it copies the declared
    outputs to the node's folder and reports the pod's status with them.

When a PID namespace's first process ends, the kernel ends every other process
in it: every process of a pod ends with the pod. The leader dies with the
zygote (``PR_SET_PDEATHSIG``), the zygote with its launcher and the launcher
with the runner, so a pod cannot outlive the runner. Under ``WORKFLOWS_ISOLATION=none`` the runner forks the
pod's process itself, which runs ``main`` on the host.

The pod's stdout and stderr come back through pipes to the node's log file;
stdout is also kept (up to :data:`MAX_RESULT_BYTES`) as ``outputs.result``.
The pod's status comes through a third pipe (see :func:`run_pod`); a process
that is this process's child is reaped through a pidfd, the zygote reaps its own.
"""

from __future__ import annotations

import _signal
import builtins
import functools
import gc
import json
import marshal
import os
import select
import shutil
import signal
import socket
import sys
import types
from collections.abc import Awaitable, Callable
from pathlib import Path

from ..processgroups import kill_group
from ..records import Record
from . import messages, syscalls
from .exits import look_for_end, open_process
from .lazy_logging import LazyLogger
from .limits import Limits, PodCgroup, apply_rlimit
from .recycling import Template, enter_copy, make_template, message, write_again
from .sandbox import SandboxPlan, TreeBuilder, build_base

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote, which imports this module, stays lean (see .lazy_logging)
    from typing import Any

log = LazyLogger(__name__)

#: Argo keeps at most this much of stdout as ``outputs.result``.
MAX_RESULT_BYTES = 256 * 1024
_READ_SIZE = 65536
#: What a pod's leader tells its zygote once it entered the pod's tree (its mount namespace attached).
ENTERED = b"E"
#: Exit code of a pod whose sandbox could not be set up (the leader's status says why).
SANDBOX_FAILED = 125
#: Exit code of a command that could not be executed (not found, not executable).
EXEC_FAILED = 127
#: The folder of the node's folder receiving the collected outputs.
OUTPUTS_FOLDER = "outputs"
#: The namespaces a leader enters; the PID namespace it is the first process of is the zygote's fork's.
_NAMESPACES = syscalls.CLONE_NEWNS | syscalls.CLONE_NEWIPC | syscalls.CLONE_NEWUTS


class PodProcess(Record):
    """What to start for a pod: ``argv``, or Python ``source`` run in a forked warm interpreter.

    ``cwd`` is a path of the pod's file tree (of the host's when unisolated).
    """

    env: dict[str, str]
    cwd: str
    log_path: Path
    argv: list[str] | None
    source: str | None
    script_path: str | None
    code: bytes | None
    """``source`` compiled by the runner (``marshal``), when it compiles (see :meth:`python`)."""

    def __init__(self, env: dict[str, str], cwd: str, log_path: Path, argv: list[str] | None = None,
                 source: str | None = None, script_path: str | None = None, code: bytes | None = None) -> None:
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.argv = argv
        self.source = source
        self.script_path = script_path
        self.code = code

    @classmethod
    def python(cls, env: dict[str, str], cwd: str, log_path: Path, source: str, script_path: str) -> PodProcess:
        """``python script_path`` of ``source``, compiled here as python would compile that file (none of the
        engine's ``__future__`` flags): the pod's forked interpreter then only loads the code, 0.2 ms sooner
        than compiling it among the zygote's shared pages. Source that does not compile is left for the pod,
        which reports the error as python does."""
        return cls(env, cwd, log_path, source=source, script_path=script_path, code=_compiled(source, script_path))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for a pod's leader (:mod:`.messages`) without ``log_path``, which only the runner reads:
        rebuilding a ``Path`` in the forked leader would cost it more than the rest of its message."""
        return {key: value for key, value in self.__dict__.items() if key != "log_path"}


@functools.lru_cache(maxsize=32)
def _compiled(source: str, script_path: str) -> bytes | None:
    """``source`` compiled as ``python script_path`` compiles it, marshalled; ``None`` when it does not compile.
    Cached: the pods of a loop, or of a pipeline of one function, run the same script (0.1 ms each)."""
    try:
        return marshal.dumps(compile(source, script_path, "exec", dont_inherit=True))
    except (SyntaxError, ValueError, RecursionError):
        return None


class PodRun(Record):
    """A pod to run: its process, its sandbox (``None``: on the host), its outputs and its limits."""

    process: PodProcess
    node_dir: Path
    sandbox: SandboxPlan | None
    outputs: list[str]
    limits: Limits
    host_paths: dict[str, str]
    """Unsandboxed pods: where each output path is on the host."""
    userns: int
    """The pods' user namespace (see :func:`.identity.pod_userns`)."""
    host_mounts: list[str]
    """The host's mount points (see :func:`.sandbox.host_mount_points`)."""
    image_build: Any
    """What to build before the pod runs: an application image's ``RUN`` lines (see :mod:`.build`)."""
    cgroup: PodCgroup | None
    own_folder: bool
    """Whether the sandboxed pod has a folder of its own (:attr:`pod_dir`: it has files to stage or outputs, or
    it is an image build). A plain pod has none: no file is made on the host for it."""

    def __init__(self, process: PodProcess, node_dir: Path, sandbox: SandboxPlan | None,
                 outputs: list[str] | None = None, limits: Limits | None = None,
                 host_paths: dict[str, str] | None = None, userns: int = -1, host_mounts: list[str] | None = None,
                 image_build: Any = None, cgroup: PodCgroup | None = None, own_folder: bool = True) -> None:
        self.process = process
        self.node_dir = node_dir
        self.sandbox = sandbox
        self.outputs = [] if outputs is None else outputs
        self.limits = Limits() if limits is None else limits
        self.host_paths = {} if host_paths is None else host_paths
        self.userns = userns
        self.host_mounts = [] if host_mounts is None else host_mounts
        self.image_build = image_build
        self.cgroup = cgroup
        self.own_folder = own_folder

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for a pod's leader (:mod:`.messages`) without ``node_dir``, which only the runner reads (see
        :meth:`PodProcess.__getstate__`)."""
        return {key: value for key, value in self.__dict__.items() if key != "node_dir"}

    @property
    def pod_dir(self) -> Path:
        """The sandboxed pod's own folder (its staged files, outputs, a build's layer), owned by the pod's
        root."""
        return self.node_dir / "pod"


class PodResult(Record):
    """How a pod ended."""

    exit_code: int | None
    stdout: str
    error: str | None
    """Why the pod could not run at all (then ``exit_code`` is ``None``)."""
    oom_killed: bool
    outputs: dict[str, str]
    """Pod path → host path of its copy, for every declared output the pod left."""
    output_errors: dict[str, str]
    """Pod path → why it could not be read (permission denied...)."""
    output_skipped: dict[str, list[str]]
    """Pod path of a folder → what in it the pod could not read (left out of the copy)."""
    ended_early: bool
    """Whether the pod's end was told from ``/proc`` before the zygote reaped its leader (see :mod:`.exits`)."""

    def __init__(self, exit_code: int | None, stdout: str, error: str | None = None, oom_killed: bool = False,
                 outputs: dict[str, str] | None = None, output_errors: dict[str, str] | None = None,
                 output_skipped: dict[str, list[str]] | None = None) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.error = error
        self.oom_killed = oom_killed
        self.outputs = {} if outputs is None else outputs
        self.output_errors = {} if output_errors is None else output_errors
        self.output_skipped = {} if output_skipped is None else output_skipped
        self.ended_early = False


def refusal_message(error: OSError) -> str:
    """What to do when the kernel refuses user namespaces."""
    return (f"the kernel refused the pod's sandbox (unshare of user, mount and PID namespaces: "
            f"{os.strerror(error.errno) if error.errno else error}): enable unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1, and user.max_user_namespaces > 0; on Ubuntu also "
            "kernel.apparmor_restrict_unprivileged_userns=0), or run images in a container runtime "
            "(WORKFLOWS_CONTAINER_RUNTIME=docker|podman), or accept running tasks unisolated on this machine "
            "with WORKFLOWS_ISOLATION=none")


def enter_user_namespace(userns: int) -> None:
    """Enter the pods' user namespace ``userns`` as its root (the pod's root id on the host, see .identity)."""
    was_root = os.geteuid() == 0
    syscalls.setns(userns, syscalls.CLONE_NEWUSER)
    if was_root:  # drop root's supplementary groups (an unprivileged user's namespace denies setgroups)
        os.setgroups([])
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


# --------------------------------------------------------------------------- in the children


def _reset_child_state() -> None:
    # _signal, the C module under signal: signal's wrappers convert numbers to enums, whose pages a forked
    # leader would copy (0.1 ms of its start)
    for signum in (_signal.SIGCHLD, _signal.SIGTERM, _signal.SIGINT, _signal.SIGPIPE, _signal.SIGHUP):
        _signal.signal(signum, _signal.SIG_DFL)
    _signal.set_wakeup_fd(-1)
    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())  # the zygote blocks SIGCHLD while it forks
    events = sys.modules.get("asyncio.events")
    if events is not None:  # forked from the runner: the child is not inside its event loop
        events._set_running_loop(None)


def _run_python(process: PodProcess) -> int:
    """``python SCRIPT`` in this (forked) interpreter: the exit code."""
    gc.enable()  # a zygote's child inherits a disabled collector (see .zygote); the script gets python's own
    os.environ.clear()
    os.environ.update(process.env)
    logging = sys.modules.get("logging")
    if logging is not None:  # forked from the runner (the zygote has none): Python's defaults for the script
        logging.root.handlers.clear()
        logging.root.setLevel(logging.WARNING)
    main = types.ModuleType("__main__")
    main.__file__ = process.script_path
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.argv = [process.script_path or "-c"]
    sys.path[0] = os.path.dirname(process.script_path or "")
    code = 1
    try:
        program = (marshal.loads(process.code) if process.code is not None  # noqa: S302 - the runner's own
                   else compile(process.source or "", process.script_path or "<script>", "exec", dont_inherit=True))
        exec(program, main.__dict__)
        code = 0
    except SystemExit as exit_request:
        if exit_request.code is None or isinstance(exit_request.code, int):
            code = exit_request.code or 0
        else:
            print(exit_request.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the child reports whatever its script raised, like python does
        print_exception()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    return code


def rehearse_python(process: PodProcess) -> None:
    """In a standby leader waiting for its pod: what :func:`_run_python` does before and around a script, with
    the sample ``process`` (whose script does nothing), so that the pages it writes (the environment's, a
    module's, the evaluation loop's) are this process's copies before the pod comes (see
    :func:`.zygote._rehearse_receiving`). The pod's own environment replaces the sample's."""
    os.environ.clear()
    os.environ.update(process.env)
    main = types.ModuleType("__main__")
    main.__file__ = process.script_path
    main.__builtins__ = builtins
    if process.code is not None:
        exec(marshal.loads(process.code), main.__dict__)  # noqa: S102, S302 - the zygote's own sample


def _main(run: PodRun, cgroup_fds: list[int], isolated: bool) -> None:
    """The pod's main process: join the cgroup, drop ``chown``, then exec or run the script. Never returns."""
    code = EXEC_FAILED
    try:
        if isolated:
            syscalls.set_parent_death_signal(signal.SIGKILL)
        for fd in cgroup_fds:
            os.write(fd, b"0")
            os.close(fd)
        if not cgroup_fds:
            apply_rlimit(run.limits, forked_interpreter=run.process.source is not None)
        if isolated:
            syscalls.ignore_chown()
        process = run.process
        try:
            _enter_working_directory(process.cwd, make=isolated)
        except OSError as error:
            os.write(2, f"cannot enter the working directory {process.cwd}: {error.strerror}\n".encode())
            os._exit(EXEC_FAILED)
        if process.source is not None:
            code = _run_python(process)
            close_files()
        else:
            argv = process.argv or []
            try:
                os.execvpe(argv[0], argv, process.env)
            except OSError as error:
                os.write(2, f"cannot run {argv[0]!r}: {error.strerror}\n".encode())
    except BaseException:  # noqa: BLE001 - whatever happens, this forked process must not return
        print_exception()
    finally:
        os._exit(code)


def _enter_working_directory(cwd: str, make: bool) -> None:
    """Enter the pod's working directory; with ``make`` (in a sandbox, whose tree is the pod's own), one that
    does not exist is made first, mode 0755, as container runtimes make a container's (runc's
    ``prepareRootfs``): Argo's ``templateDefaults`` e2e workflow runs ``pwd`` in ``/src``, which its image
    lacks. Raises ``OSError``."""
    try:
        os.chdir(cwd)
    except FileNotFoundError:
        if not make:
            raise
        os.makedirs(cwd, 0o755)
        os.chdir(cwd)


def close_files() -> None:
    """Close every descriptor of this process, its streams included, as its exit would: a PythonTask's leader,
    its script done, just before it exits. Its streams then close for the runner before its memory is torn down,
    which tells the runner to look for the pod's end in ``/proc`` (see :mod:`.exits`)."""
    os.closerange(0, os.sysconf("SC_OPEN_MAX"))


def _collect(outputs: list[str]) -> dict:
    """In the leader, in the pod's tree with its privileges: copy each output path to ``outputs/<n>``.

    A declared path the pod cannot read is an error; inside a declared folder,
    what the pod cannot read is left out and listed under ``output_skipped``. The
    copies are made readable by their owner (:func:`_readable_by_owner`).
    """
    found, errors, skipped = {}, {}, {}
    for index, path in enumerate(outputs):
        if not os.path.lexists(path):
            continue
        os.makedirs(OUTPUTS_FOLDER, exist_ok=True)
        target = os.path.join(OUTPUTS_FOLDER, str(index))
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                try:
                    shutil.copytree(path, target, symlinks=True)
                except shutil.Error as error:
                    skipped[path] = [f"{source} ({reason})" for source, _, reason in error.args[0]]
            else:
                shutil.copyfile(path, target, follow_symlinks=True)
            _readable_by_owner(target)
            found[path] = target
        except OSError as error:
            errors[path] = f"cannot read {error.filename or path}: {error.strerror}"
    return {"outputs": found, "output_errors": errors, "output_skipped": skipped}


def _readable_by_owner(copy: str) -> None:
    """Let the owner of the output ``copy`` (a file, or a folder and all it holds) read it, and search and
    write its folders: the pod's root read a folder of mode 000 that it owns, as root in a container does,
    and copied its mode; the engine, run by an ordinary user, is that same owner without those privileges
    (run by root, it reads it anyway), and stores the copy, then deletes it with the workflow."""
    if not os.path.isdir(copy):
        _add_mode(copy, 0o400)
        return
    for folder, _, names in os.walk(copy):
        _add_mode(folder, 0o700)
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                _add_mode(path, 0o400)


def _add_mode(path: str, bits: int) -> None:
    """Add the permission ``bits`` to ``path``'s mode, where it lacks any."""
    mode = os.stat(path).st_mode
    if mode & bits != bits:
        os.chmod(path, mode | bits)


def shell_exit_code(status: int) -> int:
    """A wait status as a shell (and Kubernetes) reports it: the exit code, or 128 + the killing signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def print_exception() -> None:
    """Print the exception being handled to standard error, as a forked process ends on it (:mod:`traceback`
    imported then: the zygote stays lean, see :mod:`.lazy_logging`)."""
    import traceback  # noqa: PLC0415

    traceback.print_exc()


def close_all_but(keep: list[int]) -> None:
    """Close every descriptor from 3 up but ``keep``, as ``exec`` would close the engine's (its lock,
    database, event loop, other pods' pipes and sockets)."""
    low = 3
    for fd in sorted(fd for fd in set(keep) if fd >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def _report(done_fd: int, status: dict) -> None:
    """Write a pod's status (a line of JSON, see :func:`run_pod`) to its ``done`` pipe."""
    message = memoryview(json.dumps(status).encode() + b"\n")
    while message:
        message = message[os.write(done_fd, message):]


def begin_leader() -> None:
    """A leader's first steps: a session of its own (its process group is the pod's), a container's umask,
    the signals of a fresh process."""
    os.setsid()
    os.umask(0o022)  # a container's: the runner's own (0077, for its state) is no business of the pod's
    _reset_child_state()


class Prepared(Record):
    """What a leader made before the pod's own part of its tree — a standby leader before its pod was known
    (see :mod:`.zygote`): new mount, IPC and UTS namespaces and the base of a pod's tree; or why it could not
    (``status``: ``refused`` or ``sandbox_error``, as the pod's status reports it)."""

    builder: TreeBuilder | None
    status: dict
    recycled: bool
    """Whether the leader entered a copy of a recycled tree (see :mod:`.recycling`) instead: its pod's volumes
    are there already, only its hostname remains to set."""

    def __init__(self, builder: TreeBuilder | None, status: dict | None = None, recycled: bool = False) -> None:
        self.builder = builder
        self.status = {} if status is None else status
        self.recycled = recycled

    def fds(self) -> list[int]:
        """The descriptors the leader keeps for its pod."""
        return self.builder.held_fds() if self.builder is not None else []


def prepare_base(base: SandboxPlan, mounts: list[str]) -> Prepared:
    """In a leader (PID 1 of a new PID namespace, in the pods' user namespace): enter new mount, IPC and UTS
    namespaces and build the pod-independent part of a pod's tree from ``base`` over the working directory."""
    try:
        syscalls.unshare(_NAMESPACES)
    except syscalls.NamespacesRefused as error:
        return Prepared(None, {"refused": refusal_message(error)})
    try:  # here rather than in the pod's own time: a standby leader builds it before its pod comes
        return Prepared(build_base(base, mounts))
    except OSError as error:
        return Prepared(None, {"sandbox_error": f"cannot set up the pod's sandbox: {error}"})


class PodFds(Record):
    """A pod's descriptors, as its leader received them: the pod's stdout and stderr, its ``done`` pipe, its
    folder (``O_PATH``) and its cgroup's ``cgroup.procs``."""

    stdout: int
    stderr: int
    done: int
    pod_dir: int
    cgroups: list[int]

    def __init__(self, stdout: int, stderr: int, done: int, pod_dir: int, cgroups: list[int] | None = None) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.done = done
        self.pod_dir = pod_dir
        self.cgroups = [] if cgroups is None else cgroups


def prepare_recycled(template_ns: int) -> Prepared:
    """In a recycled standby leader (PID 1 of a new PID namespace, in the pods' user namespace): enter new IPC
    and UTS namespaces and a copy of the recycled tree's mount namespace ``template_ns`` (see
    :mod:`.recycling`)."""
    try:
        syscalls.unshare(syscalls.CLONE_NEWIPC | syscalls.CLONE_NEWUTS)
        enter_copy(template_ns)
    except OSError as error:
        return Prepared(None, {"sandbox_error": f"cannot set up the pod's sandbox: {error}"})
    return Prepared(None, recycled=True)


def _template(inotify: int, builder: TreeBuilder, key: tuple) -> Template | None:
    """The template of the tree ``builder`` built, the leader then in a copy of it; ``None`` (the pod runs in
    the tree itself, which will not be recycled) when it cannot be made: the user's inotify watches are all
    taken, say."""
    try:
        return make_template(inotify, builder, key)
    except OSError as error:
        log.debug("the pod's tree will not be recycled: %s", error)
        return None


def lead_pod(run: PodRun, fds: PodFds, prepared: Prepared, zygote_sock: socket.socket,
             recycle: tuple | None = None, inotify: int = -1) -> None:
    """The pod's PID 1, forked by the zygote into a new PID namespace (see :mod:`.zygote`), its other namespaces
    and base tree ``prepared``: add the pod's part of the tree, enter it, tell the zygote (:data:`ENTERED`, with
    the pod's mount namespace, which the zygote keeps for the outputs), then become the pod's main process.
    Never returns.

    With a ``recycle`` key (a standby's pod, see :func:`.recycling.recycle_key`) and the zygote's ``inotify``
    instance, the tree it built becomes a template for the next pods of that key, sent to the zygote with the
    note, and the pod runs in a copy of it (:func:`.recycling.make_template`). The instance is closed before
    the pod's processes start.

    Why the pod could not start goes to the ``done`` pipe (its status, see :func:`run_pod`); how it ended is
    this process's exit status, which the zygote reports. An image build keeps a separate main process and
    captures the layer after it.
    """
    assert run.sandbox is not None
    code = SANDBOX_FAILED
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds.stdout, 1)
        os.dup2(fds.stderr, 2)
        close_all_but([fds.done, fds.pod_dir, *fds.cgroups, *run.sandbox.inherited_fds(), *prepared.fds(),
                       zygote_sock.fileno(), inotify])
        builder = prepared.builder
        if builder is None and not prepared.recycled:
            _report(fds.done, {**prepared.status, "exit_code": code})
            os._exit(code)
        template = None
        try:
            if builder is None:  # a recycled tree: only the hostname is the pod's own
                for fd in [fds.pod_dir, *run.sandbox.inherited_fds()]:  # its volumes are there already
                    os.close(fd)
                if run.sandbox.hostname:
                    syscalls.sethostname(run.sandbox.hostname)
                write_again(run.sandbox)
            else:
                os.fchdir(fds.pod_dir)
                os.close(fds.pod_dir)
                builder.adopt_pod_folder()
                builder.add_pod(run.sandbox)
                builder.enter()
                if recycle is not None and inotify >= 0:
                    template = _template(inotify, builder, recycle)
        except OSError as error:
            _report(fds.done, {"sandbox_error": f"cannot set up the pod's sandbox: {error}", "exit_code": code})
            os._exit(code)
        finally:
            if inotify >= 0:  # the zygote's watches: never the pod's
                os.close(inotify)
        mount_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY)  # the pod's own /proc now
        payload, template_fds = message(template)
        try:  # a zygote gone: this pod dies with it
            messages.send(zygote_sock, (ENTERED, payload), [mount_ns, *template_fds])
        except OSError:
            pass
        for fd in [mount_ns, *template_fds]:
            os.close(fd)
        zygote_sock.close()
        # PID 1 becomes the pod's main process, as a container's command is; an image build forks it, to
        # capture the layer after it
        main = os.fork() if run.sandbox.capture else 0
        if main == 0:
            for fd in [*prepared.fds(), fds.done]:  # the pod's processes must not reach the engine with these
                os.close(fd)
            _main(run, fds.cgroups, isolated=True)
        for fd in fds.cgroups:
            os.close(fd)
        while True:  # PID 1 reaps every orphan of its namespace
            pid, status = os.wait()
            if pid == main:
                code = shell_exit_code(status)
                break
        if code == 0 and builder is not None:  # an image build's: only it forks a separate main
            try:
                builder.capture()
            except OSError as error:
                _report(fds.done, {"sandbox_error": f"cannot keep the image's layer: {error}",
                                   "exit_code": SANDBOX_FAILED})
                code = SANDBOX_FAILED
    except BaseException:  # noqa: BLE001 - the pod's leader never returns into the zygote
        print_exception()
    finally:
        os._exit(code)


def copy_declared_outputs(mount_ns: int, pod_dir: int, outputs: list[str], exit_code: int, done_fd: int) -> None:
    """Forked by the zygote once a pod's PID 1 ended: in the pod's mount namespace (its tree as the pod left
    it), with the pod's privileges, copy its declared ``outputs`` to the pod's folder, then report the pod's
    status with them. Never returns."""
    status: dict = {"exit_code": exit_code}
    try:
        os.umask(0o022)
        syscalls.setns(mount_ns, syscalls.CLONE_NEWNS)
        os.fchdir(pod_dir)  # the pod's folder, on the host: where the outputs go
        status.update(_collect(outputs))
    except OSError as error:
        status["sandbox_error"] = f"cannot read the pod's outputs: {error}"
    except BaseException as error:  # noqa: BLE001 - a forked process must never return into the zygote
        status["sandbox_error"] = f"the pod's outputs could not be read: {error!r}"
    finally:
        try:
            _report(done_fd, status)
        finally:
            os._exit(0)


def _host_leader(run: PodRun, stdout_fd: int, stderr_fd: int, done_fd: int) -> None:
    """An unisolated pod (``WORKFLOWS_ISOLATION=none``): its process, forked by the runner, runs the pod's main
    on the host; its exit status is the pod's. Never returns."""
    code = SANDBOX_FAILED
    try:
        begin_leader()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        close_all_but([])  # the done pipe too: the main process's exit is its report
        os.chdir(run.node_dir)
        _main(run, run.cgroup.join_fds() if run.cgroup is not None else [], isolated=False)
    except BaseException:  # noqa: BLE001 - the pod's process never returns into the runner
        print_exception()
    finally:
        os._exit(code)


# --------------------------------------------------------------------------- in the runner


#: After the leader exits, how long the output pipes may stay open (held by escaped children).
PIPE_GRACE_SECONDS = 1.0
#: After a cancelled pod was killed, how long to wait for its zygote to reap its leader.
KILL_WAIT_SECONDS = 10.0


#: Forks a pod's leader elsewhere (the zygote): ``(run, stdout_fd, stderr_fd, done_fd)`` → its pid, awaited.
ForkLeader = Callable[[PodRun, int, int, int], Awaitable[int]]


def _start(run: PodRun, stdout_fd: int, stderr_fd: int, done_fd: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _host_leader(run, stdout_fd, stderr_fd, done_fd)
    return pid


def _result(run: PodRun, exit_code: int, stdout: bytes, status: dict) -> PodResult:
    text = stdout.decode(errors="replace")
    if status.get("refused"):
        return PodResult(None, text, status["refused"])
    if status.get("sandbox_error"):
        return PodResult(None, text, status["sandbox_error"])
    oom = run.cgroup is not None and run.cgroup.oom_killed()
    if run.sandbox is None:  # unisolated: the outputs are where the task wrote them, on the host
        outputs = {path: run.host_paths[path] for path in run.outputs
                   if path in run.host_paths and os.path.lexists(run.host_paths[path])}
    else:
        outputs = {path: str(run.pod_dir / copy) for path, copy in (status.get("outputs") or {}).items()}
    return PodResult(137 if oom else exit_code, text, oom_killed=oom, outputs=outputs,
                     output_errors=status.get("output_errors") or {},
                     output_skipped=status.get("output_skipped") or {})


async def _end_of(fd: int, seconds: float) -> None:
    """Until the ``done`` pipe ``fd`` reaches its end (the zygote reaped the leader), at most ``seconds``: the
    runner's other pods go on meanwhile."""
    import asyncio  # noqa: PLC0415 - the runner's side only: the zygote, which imports this module, stays lean

    from ..timeouts import within  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    ended = loop.create_future()

    def drain() -> None:
        if not os.read(fd, _READ_SIZE) and not ended.done():
            ended.set_result(None)

    loop.add_reader(fd, drain)
    try:
        await within(ended, seconds)
    except asyncio.TimeoutError:
        log.warning("the pod's leader was not reaped %.0fs after it was killed", seconds)
    finally:
        loop.remove_reader(fd)


def _close_all(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


#: Exit code standing for a leader that ended without a report and without a status (its zygote died).
_LOST = -1


async def run_pod(run: PodRun, on_start: Callable[[int], None] | None = None,
                  on_output: Callable[[], None] | None = None, fork_leader: ForkLeader | None = None) -> PodResult:
    """Run a pod to its end; cancelling the call kills its process group.

    ``on_start(pid)`` is called once the leader exists (its pid is also its
    process group), ``on_output()`` whenever the pod printed something.
    ``fork_leader``: where a sandboxed pod's leader is forked (the zygote,
    which reaps it and reports its status, the outputs with it; the teardown
    of the pod's mount namespace comes after); an unisolated pod's process is
    forked by this process, its exit status its report.

    The ``done`` pipe brings the status: one line, JSON (``exit_code`` and
    the outputs, or why the pod could not start) or the exit code alone,
    then its end.
    """
    import asyncio  # noqa: PLC0415 - the runner's side only: the zygote, which imports this module, stays lean

    from ..timeouts import within  # noqa: PLC0415
    from .podlog import PodLog  # noqa: PLC0415

    if run.sandbox is not None and fork_leader is None:
        return PodResult(None, "", "a sandboxed pod needs the pods' zygote to fork its leader")
    loop = asyncio.get_running_loop()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    done_read, done_write = os.pipe()
    try:
        if fork_leader is not None:
            pid = await fork_leader(run, out_write, err_write, done_write)
        else:
            pid = _start(run, out_write, err_write, done_write)
    except OSError as error:
        _close_all(out_read, out_write, err_read, err_write, done_read, done_write)
        return PodResult(None, "", f"cannot start the pod: {error}")
    except asyncio.CancelledError:
        _close_all(out_read, out_write, err_read, err_write, done_read, done_write)
        raise
    for fd in (out_write, err_write, done_write):
        os.close(fd)
    if on_start is not None:
        on_start(pid)
    stdout = bytearray()
    streams_closed = loop.create_future()
    exited: asyncio.Future[int] = loop.create_future()
    open_streams = {out_read, err_read}
    pidfd = os.pidfd_open(pid) if fork_leader is None else None  # else the zygote reaps it
    # A sandboxed PythonTask's end may be told from /proc as its streams close (see .exits), but not when a
    # collector reads its outputs after it, nor when it is in a cgroup, which is read and removed after it.
    early = fork_leader is not None and run.process.source is not None and not run.outputs and run.cgroup is None
    leader = _open_leader(pid) if early else -1
    ended_early = False
    reported = bytearray()
    status: dict = {}
    pod_log = PodLog(run.process.log_path)  # made on the pod's first output: a silent pod makes no file

    def close_stream(fd: int) -> None:
        nonlocal ended_early
        loop.remove_reader(fd)
        os.close(fd)
        open_streams.discard(fd)
        if not open_streams and not streams_closed.done():
            streams_closed.set_result(None)
            if leader >= 0 and not exited.done() and not _readable(done_read):  # else report() reads it
                wait_status = look_for_end(leader)
                if wait_status is not None:
                    ended_early = True
                    exited.set_result(shell_exit_code(wait_status))

    def drain(fd: int) -> None:
        data = os.read(fd, _READ_SIZE)
        if not data:
            close_stream(fd)
            return
        pod_log.write(data)
        if on_output is not None:
            on_output()
        if fd == out_read and len(stdout) < MAX_RESULT_BYTES:
            stdout.extend(data[: MAX_RESULT_BYTES - len(stdout)])

    def report() -> None:
        # The first line: the leader's report of the pod's end, or (zygote) the leader's exit status.
        data = os.read(done_read, _READ_SIZE)
        reported.extend(data)
        if data and b"\n" not in reported:
            return
        loop.remove_reader(done_read)
        if exited.done():
            return
        if b"\n" in reported:
            if pidfd is not None:  # the pod's processes are gone; stragglers of its group go now
                kill_group(pid)
            line = reported.split(b"\n", 1)[0]
            if line.startswith(b"{"):
                status.update(json.loads(line))
                exited.set_result(int(status["exit_code"]))
            else:
                exited.set_result(int(line))
        elif pidfd is None:
            exited.set_result(_LOST)
        # else: the leader ended without a report (killed, or the unisolated main): its exit status says it

    def reap() -> None:
        assert pidfd is not None
        loop.remove_reader(pidfd)
        kill_group(pid)  # before reaping: until then the group's id cannot be reused
        _, status = os.waitpid(pid, 0)
        os.close(pidfd)
        if not exited.done():
            exited.set_result(shell_exit_code(status))

    try:
        loop.add_reader(out_read, drain, out_read)
        loop.add_reader(err_read, drain, err_read)
        loop.add_reader(done_read, report)
        if pidfd is not None:
            loop.add_reader(pidfd, reap)
        try:
            code = await exited
            try:
                if not streams_closed.done():
                    await within(asyncio.shield(streams_closed), PIPE_GRACE_SECONDS)
            except asyncio.TimeoutError:
                log.warning("pod %s: output still open %.0fs after exit, closing it", pid, PIPE_GRACE_SECONDS)
        except asyncio.CancelledError:
            # Cancelling this task also cancels the future it awaits: "done" alone does not mean reaped.
            if exited.cancelled() or not exited.done():
                kill_group(pid)
                if pidfd is not None:
                    loop.remove_reader(pidfd)
                    os.waitpid(pid, 0)
                    os.close(pidfd)
                else:
                    loop.remove_reader(done_read)
                    await _end_of(done_read, KILL_WAIT_SECONDS)
            raise
        finally:
            loop.remove_reader(done_read)
            os.close(done_read)
            for fd in list(open_streams):
                close_stream(fd)
    finally:
        pod_log.close()
        if leader >= 0:
            os.close(leader)
    if code == _LOST:
        return PodResult(None, bytes(stdout).decode(errors="replace"),
                         "the pod's leader ended without a status: the pods' zygote died")
    result = _result(run, code, bytes(stdout), status)
    result.ended_early = ended_early
    return result


def _open_leader(pid: int) -> int:
    """``/proc`` of the pod's leader ``pid`` (see :func:`.exits.open_process`); -1 when it ended already (its
    memory gone) or ``/proc`` would not show this process its exit status."""
    try:
        return open_process(pid)
    except OSError:
        return -1


def _readable(fd: int) -> bool:
    """Whether ``fd`` has something to read (or its end) now."""
    waiting = select.poll()
    waiting.register(fd, select.POLLIN)
    return bool(waiting.poll(0))
