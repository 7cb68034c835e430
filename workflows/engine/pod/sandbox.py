"""A pod's file tree, built by the pod's leader (its PID 1) in its own user, mount and PID namespaces.

The tree (bubblewrap's design, with a writable layer):

- the new root is a ``tmpfs`` of the pod's own, sized by :attr:`SandboxPlan.disk_bytes`;
- each top-level folder of the host (``/usr``, ``/etc``, ``/home``...) is an
  ``overlayfs`` whose lower layer is the host's folder, read-only, and whose
  upper layer lives on that ``tmpfs``: writes anywhere succeed and land in
  the pod's layer, never on the host. A folder holding other mounts (which an
  unprivileged user namespace may not clone) is rebuilt one level down, its
  mounts bound read-only. When the engine runs as root, a plain pod gets the
  same tree from a single overlay of a clone of the host's root mount (the
  runner's, without the mounts below it), with the host's other mounts bound
  read-only on top: a few mounts instead of dozens;
- ``/tmp`` is the pod's own (on the same ``tmpfs``: a task filling it fills
  only its own layer), ``/proc`` is the pod's PID namespace's, ``/dev`` holds
  ``null``, ``zero``, ``full``, ``random``, ``urandom``, ``tty`` and a ``shm``;
  ``/sys`` is the host's, read-only (when the engine runs as root, without the host's mounts below it,
  cgroups and tracing, but for a pod with a cgroup of its own: only root can take the one without the
  others);
- volumes are bind-mounted at their ``mountPath`` (read-only when the spec
  says ``readOnly``), input artifacts, the script and COPY sources are
  written into the layer (a host folder on their way that the pod's root
  may not enter is an empty folder of the pod's own there), then the root
  is pivoted and the host's tree detached.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
from collections.abc import Callable
from ..records import FrozenRecord, Record
from . import syscalls
from .syscalls import MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_REC

#: Top-level host folders the pod gets its own version of.
OWN_FOLDERS = ("proc", "dev", "sys", "tmp")
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
#: The folder of the staging ``tmpfs`` where the clone of the host's root mount is attached.
HOST_VIEW = "host"
#: :attr:`HostEntry.value` of a folder the pod's root may not enter.
CLOSED = "closed"
#: Device nodes bound from the host into the pod's ``/dev``.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

#: Size of a pod's own layer (its writes outside volumes, its ``/tmp``) without an ``ephemeral-storage`` limit.
DEFAULT_DISK_BYTES = 1 << 30


class VolumeBind(FrozenRecord):
    """A host folder (or file) visible in the pod at ``path``.

    ``tree``: a detached (id-mapped) mount of ``host`` to attach instead of binding ``host`` by its path.
    """

    host: str
    path: str
    read_only: bool
    tree: int | None

    def __init__(self, host: str, path: str, read_only: bool = False, tree: int | None = None) -> None:
        self.host = host
        self.path = path
        self.read_only = read_only
        self.tree = tree


class PodFile(FrozenRecord):
    """A file or folder written into the pod's layer before it starts: copied from ``source``, or ``text``.

    In a :class:`SandboxPlan`, ``source`` is relative to the pod's folder (see :func:`build`).
    """

    path: str
    source: str | None
    text: str | None

    def __init__(self, path: str, source: str | None = None, text: str | None = None) -> None:
        self.path = path
        self.source = source
        self.text = text


class SandboxPlan(Record):
    """Everything the pod's leader needs to build the pod's file tree."""

    disk_bytes: int
    volumes: list[VolumeBind]
    files: list[PodFile]
    hostname: str
    image_layer: int | str | None
    """The folder of an image's replayed ``RUN`` layer (host paths inside), stacked on the host's: its path,
    or a detached (id-mapped) mount of it."""
    lowers: dict[str, int]
    """Host folder → a detached (id-mapped) mount of it, to use as its overlay's lower layer; for ``/sys``, a
    clone of the host's without the mounts below it, bound read-only."""
    capture: bool
    """Whether the pod's leader keeps what the pod changed (an image build, see :mod:`.build`)."""
    cgroup_view: bool
    """Whether the pod has a cgroup of its own (limits): it then sees the host's cgroup file systems, read-only,
    under ``/sys/fs/cgroup``, where it reads its own cgroup's limits and statistics."""

    def __init__(self, disk_bytes: int, volumes: list[VolumeBind] | None = None, files: list[PodFile] | None = None,
                 hostname: str = "pod", image_layer: int | str | None = None, lowers: dict[str, int] | None = None,
                 capture: bool = False, cgroup_view: bool = False) -> None:
        self.disk_bytes = disk_bytes
        self.volumes = [] if volumes is None else volumes
        self.files = [] if files is None else files
        self.hostname = hostname
        self.image_layer = image_layer
        self.lowers = {} if lowers is None else lowers
        self.capture = capture
        self.cgroup_view = cgroup_view

    def inherited_fds(self) -> list[int]:
        """The open file descriptors the pod's processes need from the runner."""
        fds = [volume.tree for volume in self.volumes if volume.tree is not None]
        fds += list(self.lowers.values())
        return fds + ([self.image_layer] if isinstance(self.image_layer, int) else [])

    def with_fds(self, mapping: dict[int, int]) -> SandboxPlan:
        """This plan with its descriptors renumbered (``mapping``: old number → new), as another process
        received them."""
        volumes = [volume.replace(tree=mapping[volume.tree]) if volume.tree is not None else volume
                   for volume in self.volumes]
        image_layer = mapping[self.image_layer] if isinstance(self.image_layer, int) else self.image_layer
        return self.replace(volumes=volumes, image_layer=image_layer,
                            lowers={folder: mapping[fd] for folder, fd in self.lowers.items()})


def host_mount_points() -> list[str]:
    """The mount points of the calling process's mount namespace (``/proc/self/mountinfo``), read once per
    process (the host's mounts do not change while a runner lives, and pods' mounts are their own)."""
    global _host_mounts
    if _host_mounts is not None:
        return _host_mounts
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            points.append(_OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), line.split()[4]))
    _host_mounts = points
    return points


_host_mounts: list[str] | None = None


class HostEntry(FrozenRecord):
    """What a pod's tree has at the host's ``path``.

    ``kind``: ``"own"`` (``/proc``, ``/dev``, ``/sys``, ``/tmp``: made by the pod) and ``"folder"`` (a folder
    the pod's root may not enter, ``value`` :data:`CLOSED`, or one holding mounts, rebuilt one level down):
    an empty folder of the pod's own; ``"link"``: a symbolic link to ``value``; ``"mount"``: a mount point,
    bound read-only (``value`` is ``"folder"`` for a folder); ``"file"``: a file; ``"layer"``: a folder
    without mounts, in the pod's writable layer.
    """

    path: str
    kind: str
    value: str

    def __init__(self, path: str, kind: str, value: str = "") -> None:
        self.path = path
        self.kind = kind
        self.value = value


def _walk(folder: str, mounts: list[str], entries: list[HostEntry]) -> None:
    for name in sorted(os.listdir(folder)):
        host = os.path.join(folder, name)
        if folder == "/" and name in OWN_FOLDERS and not os.path.islink(host):
            entries.append(HostEntry(host, "own"))
        elif os.path.islink(host):
            entries.append(HostEntry(host, "link", os.readlink(host)))
        elif host in mounts:
            entries.append(HostEntry(host, "mount", "folder" if os.path.isdir(host) else "file"))
        elif os.path.isdir(host):
            prefix = host + "/"
            if not os.access(host, os.R_OK | os.X_OK):
                # A folder the pod's root may not enter: an empty one of the pod's own (the engine's
                # own installation, when it lies there, is bound below it).
                entries.append(HostEntry(host, "folder", CLOSED))
            elif any(point.startswith(prefix) for point in mounts):  # rebuilt one level down
                entries.append(HostEntry(host, "folder"))
                _walk(host, mounts, entries)
            else:
                entries.append(HostEntry(host, "layer"))
        elif os.path.exists(host):
            entries.append(HostEntry(host, "file"))


def host_layout(mounts: list[str]) -> list[HostEntry]:
    """How the host's tree appears in a pod, parents first, for the pod's root (whose access decides).

    ``mounts``: the host's mount points (:func:`host_mount_points`). Computed once per process and set of
    mounts: the zygote computes it before it forks its first pod, so its pods only replay it. The host's
    top-level folders and mounts are taken not to change while a runner lives.
    """
    global _layout
    key = tuple(point for point in mounts if point != "/")
    if _layout is None or _layout[0] != key:
        entries: list[HostEntry] = []
        _walk("/", list(key), entries)
        _layout = (key, entries)
    return _layout[1]


_layout: tuple[tuple[str, ...], list[HostEntry]] | None = None


class TreeBuilder:
    """Builds a pod's tree in two parts: :meth:`build_base` (the host's tree, the pod's own folders, an
    image's layer) from ``plan``, then :meth:`add_pod` (volumes, files, hostname) from the pod's plan. A
    standby leader (see :mod:`.zygote`) builds the first part before its pod is known."""

    def __init__(self, plan: SandboxPlan, mounts: list[str]) -> None:
        self.plan = plan
        self.pod_plan: SandboxPlan | None = None
        self.mounts = mounts
        self.root = "root"  # paths relative to the staging tmpfs, the working directory while building
        self.layers = "layers"
        self.count = 0
        self.layered: list[tuple[int, str]] = []  # (overlay number, host folder)
        self.written: list[str] = []  # the text files written, by their paths on the staging tmpfs
        self.work_folders: list[str] = []  # the overlays' work folders, on the staging tmpfs
        # Where the image's layer is. A host folder holding it cannot have it as a lower layer (overlayfs
        # refuses overlapping layers): there the image's changes are not visible.
        self.image = plan.image_layer if isinstance(plan.image_layer, str) else None
        # One overlay of the whole host (see _host_overlay) when the runner could clone its root mount. Image
        # builds keep one overlay per folder (their upper layers are the image's), as do pods stacking an
        # image's layer (it lies on the host's file system, and overlayfs refuses overlapping layers).
        self.shared = "/" in plan.lowers and plan.image_layer is None and not plan.capture
        self.pod_fd = os.open(".", os.O_PATH | os.O_DIRECTORY)
        self.staging_fd = -1
        self.host_top = {entry.path[1:] for entry in host_layout(self.mounts) if entry.path.count("/") == 1}

    def _bind_read_only(self, host: str, target: str, folder: bool) -> None:
        if folder:
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "a").close()
        syscalls.mount(host, target, None, MS_BIND | MS_REC)
        syscalls.make_read_only_recursively(target)

    def _new_layer(self) -> tuple[str, str]:
        """A new (upper, work) pair of folders on the staging ``tmpfs``."""
        self.count += 1
        folder = os.path.join(self.layers, str(self.count))
        os.mkdir(folder)
        os.mkdir(folder + "/upper")
        os.mkdir(folder + "/work")
        self.work_folders.append(folder + "/work")
        return folder + "/upper", folder + "/work"

    def _overlay(self, host: str, target: str) -> None:
        upper, work = self._new_layer()
        os.makedirs(target, exist_ok=True)
        lower = _escape(host)
        if host in self.plan.lowers:
            lower = f"lower{self.count}"
            os.makedirs(lower)
            syscalls.attach_tree(self.plan.lowers[host], lower)
        if self.image is not None and os.path.isdir(self.image + host) \
                and not (os.path.abspath(self.image) + "/").startswith(host.rstrip("/") + "/"):
            lower = f"{_escape(self.image + host)}:{lower}"  # the image's RUN layer above the host's folder
        syscalls.mount("overlay", target, "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work},userxattr")
        self.layered.append((self.count, host))

    def held_fds(self) -> list[int]:
        """The descriptors the builder holds: the pod's folder, the staging ``tmpfs`` and both plans' trees
        (the pod's processes must not inherit them)."""
        fds = [self.pod_fd, self.staging_fd, *self.plan.inherited_fds()]
        if self.pod_plan is not None and self.pod_plan is not self.plan:
            fds += self.pod_plan.inherited_fds()
        return [fd for fd in dict.fromkeys(fds) if fd >= 0]

    def adopt_pod_folder(self) -> None:
        """A standby leader's base tree given to a pod: the working directory (the pod's folder) becomes the
        builder's pod folder, and the staging ``tmpfs`` the working directory again."""
        os.close(self.pod_fd)
        self.pod_fd = os.open(".", os.O_PATH | os.O_DIRECTORY)
        os.fchdir(self.staging_fd)

    def build_base(self) -> None:
        """The pod-independent part of the tree: the staging ``tmpfs`` over the working directory, the host's
        tree, the pod's own folders, what an image's ``RUN`` lines made."""
        plan = self.plan
        syscalls.mount(None, "/", None, MS_REC | MS_PRIVATE)
        # The staging tmpfs covers the pod's folder in this mount namespace only; the leader, whose working
        # directory is that folder's own, still writes the pod's outputs there, on the host.
        self.staging_fd = syscalls.new_tmpfs({"size": str(plan.disk_bytes), "mode": "755"},
                                             syscalls.MOUNT_ATTR_NOSUID | syscalls.MOUNT_ATTR_NODEV)
        syscalls.attach_tree(self.staging_fd, ".")
        os.fchdir(self.staging_fd)
        if isinstance(plan.image_layer, int):
            os.makedirs("image")
            syscalls.attach_tree(plan.image_layer, "image")
            self.image = "image"
        os.mkdir(self.root)
        os.mkdir(self.layers)
        if self.shared:
            self._host_overlay()
        else:
            self._host_overlays()
        self._system_folders()
        if self.image is not None:  # what the image's RUN lines made at the top level (/app...)
            for name in os.listdir(self.image):
                if name not in self.host_top and name not in OWN_FOLDERS:
                    _copy(os.path.join(self.image, name), os.path.join(self.root, name))

    def add_pod(self, plan: SandboxPlan) -> None:
        """The pod's own part of the tree (its working directory is the staging ``tmpfs``): its volumes, its
        files and its hostname."""
        self.pod_plan = plan
        for volume in plan.volumes:
            self._volume(volume)
        for pod_file in plan.files:
            self._write(pod_file)
        if plan.hostname:
            syscalls.sethostname(plan.hostname)
        cgroups = "/sys/fs/cgroup"
        if plan.cgroup_view and "/sys" in self.plan.lowers and os.path.isdir(cgroups):  # else /sys has them
            self._bind_read_only(cgroups, self.root + cgroups, True)

    def _host_overlays(self) -> None:
        """The host's tree as one overlay per folder (or binds, around the host's mounts)."""
        syscalls.mount(self.root, self.root, None, MS_BIND)
        for entry in host_layout(self.mounts):
            target = self.root + entry.path
            if entry.kind in ("own", "folder"):
                os.mkdir(target)
            elif entry.kind == "link":
                os.symlink(entry.value, target)
            elif entry.kind in ("mount", "file"):
                self._bind_read_only(entry.path, target, entry.value == "folder")
            else:
                self._overlay(entry.path, target)

    def _host_overlay(self) -> None:
        """The host's tree as one overlay of a clone of its root mount (a root engine's plain pods).

        The upper layer is prepared first so that the tree is the same as :meth:`_host_overlays`': the pod's
        own folders (``/tmp``...) and the folders its root may not enter are empty (opaque) folders of its
        own, and the folders it gets in its layer are its own (a merged folder takes the owner and mode of
        its upper one), as each overlay's root is there. Only the host's other mounts are bound on top.
        """
        upper, work = self._new_layer()
        for entry in host_layout(self.mounts):
            if entry.kind in ("own", "folder", "layer"):
                os.mkdir(upper + entry.path)
                if entry.kind == "own" or entry.value == CLOSED:
                    os.setxattr(upper + entry.path, "user.overlay.opaque", b"y")
        lower = HOST_VIEW + "-lower"
        os.mkdir(lower)
        syscalls.attach_tree(self.plan.lowers["/"], lower)
        syscalls.mount("overlay", self.root, "overlay", 0,
                       f"lowerdir={lower},upperdir={upper},workdir={work},userxattr")
        for entry in host_layout(self.mounts):
            if entry.kind == "mount":
                self._bind_read_only(entry.path, self.root + entry.path, entry.value == "folder")
            elif entry.kind == "layer" and entry.path in self.plan.lowers:  # /usr, /opt: the pod's own view
                self._overlay(entry.path, self.root + entry.path)

    def _system_folders(self) -> None:
        root = self.root
        os.chmod(os.path.join(root, "tmp"), 0o1777)
        dev = os.path.join(root, "dev")
        syscalls.mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
        for device in DEVICES:
            if os.path.exists("/dev/" + device):
                open(os.path.join(dev, device), "a").close()
                syscalls.mount("/dev/" + device, os.path.join(dev, device), None, MS_BIND)
        for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                           ("stderr", "/proc/self/fd/2")):
            os.symlink(link, os.path.join(dev, name))
        os.makedirs(os.path.join(dev, "pts"))
        os.makedirs(os.path.join(dev, "shm"), mode=0o1777)
        os.chmod(os.path.join(dev, "shm"), 0o1777)
        if "/sys" in self.plan.lowers:  # one mount rather than the host's dozen (cgroups, tracing...)
            syscalls.attach_tree(self.plan.lowers["/sys"], os.path.join(root, "sys"))
            syscalls.make_read_only_recursively(os.path.join(root, "sys"))
        elif os.path.isdir("/sys"):
            self._bind_read_only("/sys", os.path.join(root, "sys"), True)

    def _inside(self, path: str) -> str:
        """The building path of the pod's ``path``: symbolic links resolved as in the pod, never escaping it."""
        parts = [part for part in path.split("/") if part and part != "."]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = os.path.join(self.root, *resolved, part)
            if os.path.islink(candidate):
                hops += 1
                if hops > 40:
                    raise OSError(f"too many symbolic links in {path}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                parts = [item for item in target.split("/") if item and item != "."] + parts
                continue
            resolved.append(part)
        return os.path.join(self.root, *resolved)

    def _open_up(self, target: str) -> bool:
        """Make room for ``target``, which the pod's root could not make: whether there was something to do.

        - The first folder on the way that it may not enter (a host folder private to someone else: the
          engine's state, a user's home) is covered with an empty folder of the pod's own, as the host's
          top-level ones are (see :data:`CLOSED`), so that a volume or a file can go there.
        - Else the last folder on the way, which it may enter but not write (a host folder someone else owns,
          ``/usr/local/bin`` for an ordinary user's pods: ``COPY`` goes there), gets an overlay of its own over
          the host's, whose root folder is the pod's (a merged folder takes its upper one's owner).

        Either's content goes into a built image like the layers' (:meth:`capture`)."""
        path = self.root
        for part in os.path.relpath(target, self.root).split("/"):
            if not os.path.isdir(os.path.join(path, part)):  # resolved by _inside: no symbolic link on the way
                break
            path = os.path.join(path, part)
            if not os.access(path, os.X_OK):
                self.count += 1
                own = os.path.join(self.layers, str(self.count), "upper")
                os.makedirs(own)
                syscalls.mount(own, path, None, MS_BIND)
                self.layered.append((self.count, path[len(self.root):]))
                return True
        host = path[len(self.root):]
        if os.access(path, os.W_OK) or not host or self._in_volume(host) or not os.path.isdir(host):
            return False
        self._overlay(host, path)
        return True

    def _in_volume(self, path: str) -> bool:
        """Whether ``path`` (a path of the pod's tree) lies in one of the pod's volumes."""
        volumes = self.pod_plan.volumes if self.pod_plan is not None else []
        return any(path == volume.path or path.startswith(volume.path.rstrip("/") + "/") for volume in volumes)

    def _reaching(self, target: str, place: Callable[[], None]) -> None:
        """``place()`` (which makes ``target``), again once a folder on its way the pod's root may not enter is
        covered (:meth:`_open_up`)."""
        try:
            place()
        except PermissionError:
            if not self._open_up(target):
                raise
            place()

    def _volume(self, volume: VolumeBind) -> None:
        target = self._inside(volume.path)
        self._reaching(target, functools.partial(self._mount_volume, volume, target))

    def _mount_volume(self, volume: VolumeBind, target: str) -> None:
        if volume.tree is not None or os.path.isdir(volume.host):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        if volume.tree is not None:
            syscalls.attach_tree(volume.tree, target)
        else:
            syscalls.mount(volume.host, target, None, MS_BIND | MS_REC)
        if volume.read_only:
            syscalls.make_read_only_recursively(target)

    def _write(self, pod_file: PodFile) -> None:
        target = self._inside(pod_file.path)
        self._reaching(target, functools.partial(self._write_at, pod_file, target))

    def _write_at(self, pod_file: PodFile, target: str) -> None:
        if target != self.root:  # ``ADD . /`` copies into the pod's root itself
            os.makedirs(os.path.dirname(target), exist_ok=True)
        if pod_file.text is not None:
            with open(target, "w", encoding="utf-8") as out:
                out.write(pod_file.text)
            self.written.append(self._on_staging(target))
        elif pod_file.source is not None:
            source = f"/proc/self/fd/{self.pod_fd}/{pod_file.source}"  # in the pod's folder, under the tmpfs
            if stat.S_ISDIR(os.stat(source).st_mode):
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)

    def _on_staging(self, target: str) -> str:
        """Where the file the pod sees at ``target`` (a building path, see :meth:`_inside`) lies on the staging
        ``tmpfs``: in the upper folder of the deepest overlay holding it, else in the root folder."""
        path = target[len(self.root):] or "/"
        layers = [(host, number) for number, host in self.layered]
        if self.shared:
            layers.append(("/", 1))  # _host_overlay's, the first layer
        for host, number in sorted(layers, key=lambda item: len(item[0]), reverse=True):
            if path == host or path.startswith(host.rstrip("/") + "/"):
                return os.path.normpath(f"{self.layers}/{number}/upper/{path[len(host):]}")
        return os.path.normpath(self.root + path)

    def enter(self) -> None:
        """In the pod's leader (PID 1 of its PID namespace, whose ``/proc`` it mounts): make the built root
        the pod's ``/`` and detach the host's tree."""
        syscalls.mount("proc", os.path.join(self.root, "proc"), "proc", MS_NOSUID | MS_NODEV)
        os.chdir(self.root)
        syscalls.pivot_root(".", ".")
        syscalls.umount(".", syscalls.MNT_DETACH)
        os.chdir("/")


    def capture(self) -> None:
        """After the pod's main process: copy what it changed to ``layer/`` of the pod's folder.

        Runs in the pod's leader, after the pivot: the layers are reached through the staging
        folder it kept open. Deletions (overlay whiteouts) are not kept.
        """
        staging = f"/proc/self/fd/{self.staging_fd}"
        layer = f"/proc/self/fd/{self.pod_fd}/layer"
        os.makedirs(layer, exist_ok=True)
        for number, host in self.layered:
            _copy(f"{staging}/{self.layers}/{number}/upper", layer + host)
        for name in os.listdir("/"):
            if name not in self.host_top and name not in OWN_FOLDERS:
                _copy("/" + name, os.path.join(layer, name))


def _escape(path: str) -> str:
    """A path as an overlayfs option value."""
    return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")


def _copy(source: str, target: str) -> None:
    """Copy a file or a tree, symbolic links as links, without overlay whiteouts (character devices)."""
    def whiteouts(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if stat.S_ISCHR(os.lstat(os.path.join(folder, name)).st_mode)]

    if os.path.isdir(source) and not os.path.islink(source):
        shutil.copytree(source, target, symlinks=True, ignore=whiteouts, dirs_exist_ok=True)
    elif not stat.S_ISCHR(os.lstat(source).st_mode):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def build_base(plan: SandboxPlan, mounts: list[str]) -> TreeBuilder:
    """In a leader, in the pod's new namespaces: the pod-independent part of a pod's file tree (on a ``tmpfs``
    mounted over the working directory in the pod's mount namespace); the working directory is then that
    ``tmpfs``. :meth:`TreeBuilder.add_pod` adds the pod's own part; the leader then enters the
    tree (:meth:`TreeBuilder.enter`).

    ``mounts`` are the host's mount points, read before any namespace was entered.
    """
    builder = TreeBuilder(plan, mounts)
    builder.build_base()
    return builder

