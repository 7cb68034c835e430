"""The few Linux system calls the sandbox needs, through ``ctypes`` (Python < 3.12 has no ``os.unshare``).

Every wrapper raises :class:`SandboxSyscallError` (an ``OSError`` with the
call named) on failure. Numbers are the kernel's generic ones, the same on
x86-64 and arm64 for the calls added after 2019 (``open_tree``, ``fsopen``, ``mount_setattr``...).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import struct

from ...errors import NamespacesRefused, SandboxSyscallError

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000

MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_AT_RECURSIVE = 0x8000
_AT_EMPTY_PATH = 0x1000
_AT_FDCWD = -100
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_IDMAP = 0x100000
_OPEN_TREE_CLONE = 1
_OPEN_TREE_CLOEXEC = 0o2000000
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
_SYS_OPEN_TREE = 428
_SYS_MOVE_MOUNT = 429
_SYS_MOUNT_SETATTR = 442
_SYS_FSOPEN = 430
_SYS_FSCONFIG = 431
_SYS_FSMOUNT = 432
_FSOPEN_CLOEXEC = 1
_FSMOUNT_CLOEXEC = 1
_FSCONFIG_SET_STRING = 1
_FSCONFIG_CMD_CREATE = 6
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_IN_DONT_FOLLOW = 0x02000000
#: inotify's events (``inotify(7)``).
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ISDIR = 0x40000000

#: ``chown``-family system calls per architecture (AUDIT_ARCH value, call numbers).
_CHOWN_CALLS = {
    "x86_64": (0xC000003E, (92, 93, 94, 260)),  # chown, fchown, lchown, fchownat
    "aarch64": (0xC00000B7, (54, 55)),  # fchownat, fchown
}
#: Kernel keyring system calls per architecture (add_key, request_key, keyctl): refused, as Docker's default
#: seccomp profile does. A user's keyrings belong to its user namespace and id, which the pods of one runner
#: share (see .zygote).
_KEYRING_CALLS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    """The C library, as the interpreter itself links it (its global symbols): no ``ctypes.util.find_library``,
    which runs ``ldconfig -p`` in a subprocess and weighs 0.6 MB in every process forking pods."""
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise SandboxSyscallError(number, f"{what}: {os.strerror(number)}")


def _path(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


#: What ``unshare`` fails with when namespaces are off (sysctl, exhausted, LSM) rather than for a bug.
_REFUSALS = (errno.EPERM, errno.EACCES, errno.ENOSPC, errno.EINVAL, errno.EUSERS)


def unshare(flags: int) -> None:
    """``unshare(2)``: move the calling (single-threaded) process into new namespaces."""
    if _libc().unshare(flags) != 0:
        number = ctypes.get_errno()
        kind = NamespacesRefused if number in _REFUSALS else SandboxSyscallError
        raise kind(number, f"unshare: {os.strerror(number)}")


def setns(fd: int, nstype: int) -> None:
    """``setns(2)``: enter the namespace ``fd`` refers to."""
    _check(_libc().setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    """``mount(2)``."""
    _check(_libc().mount(_path(source), _path(target), _path(fstype), ctypes.c_ulong(flags), _path(data)),
           f"mount {fstype or source or ''} on {target}")


def umount(target: str, flags: int = 0) -> None:
    """``umount2(2)``."""
    _check(_libc().umount2(_path(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)`` (no libc wrapper: through ``syscall``)."""
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise SandboxSyscallError(0, f"pivot_root: unsupported architecture {os.uname().machine}")
    _check(_libc().syscall(number, _path(new_root), _path(put_old)), f"pivot_root {new_root}")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def make_read_only_recursively(target: str) -> None:
    """``mount_setattr(2)`` with ``AT_RECURSIVE``: ``target`` and every mount below it become read-only."""
    attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    _check(_libc().syscall(_SYS_MOUNT_SETATTR, -100, _path(target), _AT_RECURSIVE, ctypes.byref(attr),
                           ctypes.sizeof(attr)), f"make {target} read-only")


def detached_tree(path: str, userns_fd: int | None, recursive: bool = True) -> int:
    """A detached copy of the mount tree at ``path``, its ids going through the user namespace ``userns_fd``
    (``None``: unchanged).

    (``open_tree(OPEN_TREE_CLONE)`` then ``mount_setattr(MOUNT_ATTR_IDMAP)``; needs privilege over the
    file system, i.e. root.) The returned fd can be attached with :func:`attach_tree`; it is inherited
    by children.
    """
    libc = _libc()
    fd = libc.syscall(_SYS_OPEN_TREE, _AT_FDCWD, _path(path),
                      _OPEN_TREE_CLONE | (_AT_RECURSIVE if recursive else 0))
    if fd < 0:
        number = ctypes.get_errno()
        raise SandboxSyscallError(number, f"open_tree {path}: {os.strerror(number)}")
    if userns_fd is None:
        return fd
    attr = _MountAttr(_MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
    result = libc.syscall(_SYS_MOUNT_SETATTR, fd, b"", _AT_EMPTY_PATH | (_AT_RECURSIVE if recursive else 0),
                          ctypes.byref(attr), ctypes.sizeof(attr))
    if result != 0:
        number = ctypes.get_errno()
        os.close(fd)
        raise SandboxSyscallError(number, f"id-mapped mount of {path}: {os.strerror(number)}")
    return fd


def new_tmpfs(options: dict[str, str], flags: int = 0) -> int:
    """A detached, new ``tmpfs`` (``fsopen``, ``fsconfig``, ``fsmount``): its mount's descriptor.

    ``options`` are its mount options (``size``, ``mode``...), ``flags`` ``MOUNT_ATTR_*`` values such as
    :data:`MOUNT_ATTR_NOSUID`. Attach it with :func:`attach_tree`.
    """
    libc = _libc()
    context = libc.syscall(_SYS_FSOPEN, b"tmpfs", _FSOPEN_CLOEXEC)
    if context < 0:
        number = ctypes.get_errno()
        raise SandboxSyscallError(number, f"fsopen tmpfs: {os.strerror(number)}")
    try:
        for key, value in options.items():
            _check(libc.syscall(_SYS_FSCONFIG, context, _FSCONFIG_SET_STRING, key.encode(), value.encode(), 0),
                   f"fsconfig tmpfs {key}={value}")
        _check(libc.syscall(_SYS_FSCONFIG, context, _FSCONFIG_CMD_CREATE, None, None, 0), "fsconfig tmpfs create")
        fd = libc.syscall(_SYS_FSMOUNT, context, _FSMOUNT_CLOEXEC, flags)
        if fd < 0:
            number = ctypes.get_errno()
            raise SandboxSyscallError(number, f"fsmount tmpfs: {os.strerror(number)}")
        return fd
    finally:
        os.close(context)


def attach_tree(fd: int, target: str) -> None:
    """``move_mount(2)``: attach the detached tree ``fd`` at ``target``."""
    _check(_libc().syscall(_SYS_MOVE_MOUNT, fd, b"", _AT_FDCWD, _path(target), _MOVE_MOUNT_F_EMPTY_PATH),
           f"move_mount to {target}")


def set_parent_death_signal(signum: int) -> None:
    """``prctl(PR_SET_PDEATHSIG)``: receive ``signum`` when the parent thread dies."""
    _check(_libc().prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def set_child_subreaper() -> None:
    """``prctl(PR_SET_CHILD_SUBREAPER)``: orphaned descendants are re-parented to this process."""
    _check(_libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def sethostname(name: str) -> None:
    """``sethostname(2)`` (in a UTS namespace of the pod's own)."""
    data = name.encode()[:64]
    _check(_libc().sethostname(data, len(data)), "sethostname")


def inotify_init() -> int:
    """``inotify_init1(IN_NONBLOCK | IN_CLOEXEC)``: a new inotify instance (non-blocking reads)."""
    fd = _libc().inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    _check(fd if fd < 0 else 0, "inotify_init1")
    return fd


def inotify_add_watch(inotify: int, path: str, mask: int) -> int:
    """``inotify_add_watch(2)``: watch ``path`` (relative to the working directory, not followed if a
    symbolic link) for ``mask``; the watch descriptor."""
    wd = _libc().inotify_add_watch(inotify, _path(path), ctypes.c_uint32(mask | _IN_DONT_FOLLOW))
    _check(wd if wd < 0 else 0, f"inotify_add_watch {path}")
    return wd


def inotify_rm_watch(inotify: int, wd: int) -> None:
    """``inotify_rm_watch(2)``; a watch already gone (its file system unmounted) is no error."""
    if _libc().inotify_rm_watch(inotify, wd) != 0 and ctypes.get_errno() != errno.EINVAL:
        _check(-1, "inotify_rm_watch")


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


class _FilterProgram(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.lru_cache(maxsize=1)
def _chown_filter() -> tuple[_FilterProgram, ctypes.Array] | None:
    """The pods' seccomp filter as a BPF program (built once per process; a zygote builds it before it forks)."""
    arch = _CHOWN_CALLS.get(os.uname().machine)
    if arch is None:
        return None
    audit_arch, numbers = arch
    ld_w_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    allow, errno_zero = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | 0
    program = [_bpf(ld_w_abs, 0, 0, 4), _bpf(jeq_k, 1, 0, audit_arch), _bpf(ret_k, 0, 0, allow),
               _bpf(ld_w_abs, 0, 0, 0)]
    answers = [(number, errno_zero) for number in numbers]
    answers += [(number, errno_zero | errno.ENOSYS) for number in _KEYRING_CALLS[os.uname().machine]]
    for number, answer in answers:  # this call: that answer; else the next test
        program += [_bpf(jeq_k, 0, 1, number), _bpf(ret_k, 0, 0, answer)]
    program.append(_bpf(ret_k, 0, 0, allow))
    code = b"".join(program)
    buffer = ctypes.create_string_buffer(code, len(code))
    return _FilterProgram(len(program), ctypes.cast(buffer, ctypes.c_void_p)), buffer


#: The C library's functions the wrappers here call (``ctypes`` makes each one's function object on first use).
_LIBC_FUNCTIONS = ("inotify_add_watch", "inotify_init1", "inotify_rm_watch", "mount", "prctl", "sethostname",
                   "setns", "syscall", "umount2", "unshare")


def warm_up() -> None:
    """Load libc, make its functions' objects and build the ``chown`` filter now (in a process that forks pods:
    once, not in each; each forked process would write them to pages it shares with the forking one)."""
    libc = _libc()
    for name in _LIBC_FUNCTIONS:
        getattr(libc, name)
    _chown_filter()


def ignore_chown() -> None:
    """A seccomp filter making ``chown``, ``fchown``, ``lchown`` and ``fchownat`` succeed without effect, and
    refusing the kernel keyring calls (``ENOSYS``, as in a Docker container).

    In a user namespace that maps a single id, changing a file's owner to any
    other id fails (``EINVAL``); containers' root expects it to work
    (``chown -R 1000:1000 ...`` under ``set -e``). Sets ``no_new_privs``, as
    any seccomp filter of an unprivileged process must. Unknown architectures
    get no filter.
    """
    built = _chown_filter()
    if built is None:
        return
    fprog, _ = built
    _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _check(_libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")
