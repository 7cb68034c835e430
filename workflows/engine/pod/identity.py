"""Who a pod's root is on the host.

- Engine run by an ordinary user: the pod's root *is* that user (a user
  namespace mapping that single id, which needs no privilege). Files a pod
  writes on its volumes belong to the user; host files owned by anyone else
  are read-only to the pod (and unreadable where their mode says so).
- Engine run by root: the pod's root is :data:`SANDBOX_ROOT_ID`, an id no
  account uses, so that a pod gets none of root's access to the host (root's
  files, ``/proc/sys``, root's sockets). Its volumes are attached through
  id-mapped mounts (Linux ≥ 5.12) that translate that id to root, so files a
  pod writes on its volumes still belong to root on the host.

When the engine runs as root, root's files under :data:`OWNED_SYSTEM_FOLDERS` are the pod's root's in its
view (id-mapped lower layers), so ``COPY``/``RUN`` into ``/usr/local`` work as in a container.

In both cases ``chown`` inside the pod succeeds without effect (a seccomp filter,
:func:`~.syscalls.ignore_chown`), as a single-id namespace cannot represent other owners.
"""

from __future__ import annotations

import errno
import os
import signal

from . import syscalls
from .sandbox import SandboxPlan, VolumeBind

#: The host uid and gid of a pod's root when the engine runs as root.
SANDBOX_ROOT_ID = 2**31 - 2
#: Host folders whose root-owned files the pod's root owns in its view when the engine runs as root
#: (through id-mapped lower layers): software goes there (``COPY x /usr/local/bin/``, ``RUN pip install``),
#: and they hold no secrets or sockets. Elsewhere (``/etc``, ``/var``...) root's files stay someone else's.
OWNED_SYSTEM_FOLDERS = ("/usr", "/opt")

_userns_fd: int | None = None


def pod_root_ids() -> tuple[int, int]:
    """The host ``(uid, gid)`` of a pod's root."""
    if os.geteuid() == 0:
        return SANDBOX_ROOT_ID, SANDBOX_ROOT_ID
    return os.geteuid(), os.getegid()


def needs_idmapped_volumes() -> bool:
    """Whether volumes must be attached through id-mapped mounts (the engine runs as root)."""
    return os.geteuid() == 0


def pod_userns() -> int:
    """The user namespace of this process's pods, mapping :func:`pod_root_ids` to root (an open fd).

    Made once per process: pods' leaders enter it (``setns``, much cheaper than creating one per
    pod), and id-mapped mounts translate ids through it. Raises
    :class:`~.syscalls.NamespacesRefused` when the kernel refuses user namespaces.
    """
    global _userns_fd
    if _userns_fd is not None:
        return _userns_fd
    uid, gid = pod_root_ids()
    ready_read, ready_write = os.pipe()
    hold_read, hold_write = os.pipe()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.close(ready_read)
            os.close(hold_write)
            try:
                syscalls.unshare(syscalls.CLONE_NEWUSER)
            except OSError as error:
                os.write(ready_write, str(error.errno).encode())
                raise
            os.write(ready_write, b"x")
            os.read(hold_read, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_write)
    os.close(hold_read)
    try:
        answer = os.read(ready_read, 16)
        if answer != b"x":
            number = int(answer) if answer.isdigit() else errno.EIO
            raise syscalls.NamespacesRefused(number, f"unshare: {os.strerror(number)}")
        writes = [("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")]
        if os.geteuid() != 0:  # an unprivileged map needs setgroups denied first
            writes.insert(0, ("setgroups", "deny"))
        for name, text in writes:
            with open(f"/proc/{child}/{name}", "w", encoding="ascii") as target:
                target.write(text)
        _userns_fd = os.open(f"/proc/{child}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_read)
        os.close(hold_write)
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    return _userns_fd


def idmapped_volume(path: str) -> int:
    """A detached mount of ``path`` where root's files are the pod's root's (an fd; close it after the fork)."""
    return syscalls.detached_tree(path, pod_userns())


def pods_own_tree(path: str) -> int:
    """A detached mount of ``path``, whose files already belong to the pod's root (an image's layer)."""
    return syscalls.detached_tree(path, None)


def use_idmapped_volumes(sandbox: SandboxPlan, trees: list[int]) -> None:
    """When the engine runs as root: replace the sandbox's volumes by id-mapped detached mounts.

    Their descriptors are appended to ``trees`` (close them once the pod ended). Raises
    :class:`~.syscalls.NamespacesRefused` when user namespaces are off, ``OSError`` otherwise.
    """
    if not needs_idmapped_volumes():
        return
    volumes = []
    for volume in sandbox.volumes:
        trees.append(idmapped_volume(volume.host))
        volumes.append(VolumeBind(volume.host, volume.path, volume.read_only, trees[-1]))
    sandbox.volumes = volumes


def host_lowers(plain: bool, trees: list[int]) -> dict[str, int]:
    """When the engine runs as root, the lower layers of a pod's tree taken from detached mounts (else none):
    id-mapped ones for :data:`OWNED_SYSTEM_FOLDERS` and, for a ``plain`` pod (no image layer, no build), a
    detached, non-recursive clone of the host's root mount, the lower layer of the one overlay its tree binds
    the host's folders from (see :mod:`.sandbox`); and a non-recursive clone of ``/sys``, the pod's
    read-only ``/sys`` (the host's cgroup and tracing file systems below it are one more mount each to make
    and tear down: a pod gets the cgroup ones only when it has a cgroup of its own, see
    :attr:`.sandbox.SandboxPlan.cgroup_view`).

    Only a privileged process can clone the root mount without the mounts below it (in an unprivileged
    user namespace they are locked to it), so an ordinary user's pods keep one overlay per folder. The
    clone shows nothing the pod's own overlays of each folder did not: ids are not mapped (host root's
    files stay someone else's), and what lies under the host's mount points is covered by the pod's own
    mounts. The descriptors are appended to ``trees``. Raises ``OSError`` (and
    :class:`~.syscalls.NamespacesRefused` when user namespaces are off).
    """
    lowers: dict[str, int] = {}
    if not needs_idmapped_volumes():
        return lowers
    for folder in OWNED_SYSTEM_FOLDERS:
        if os.path.isdir(folder) and not os.path.islink(folder):
            trees.append(syscalls.detached_tree(folder, pod_userns(), recursive=False))
            lowers[folder] = trees[-1]
    if plain:
        trees.append(syscalls.detached_tree("/", None, recursive=False))
        lowers["/"] = trees[-1]
    if os.path.isdir("/sys") and not os.path.islink("/sys"):
        trees.append(syscalls.detached_tree("/sys", None, recursive=False))
        lowers["/sys"] = trees[-1]
    return lowers


def use_idmapped_mounts(sandbox: SandboxPlan, trees: list[int]) -> None:
    """When the engine runs as root: id-mapped volumes (:func:`use_idmapped_volumes`) and the lower layers of
    a pod that is not plain (:func:`host_lowers`): an image build's."""
    use_idmapped_volumes(sandbox, trees)
    sandbox.lowers.update(host_lowers(False, trees))
