"""Recycled trees: a pod's file tree used again by a later pod of the same runner when the first left it as
it was built.

Building a pod's tree (:mod:`.sandbox`) is most of a standby leader's work: some thirty mounts and a hundred
file operations, about 2 ms of CPU, then its teardown. Most pods of a pipeline (PythonTasks, commands that
write only to their volumes or their output streams) leave their tree exactly as it was built. Such a tree is
built once and then used by one pod after the other, each in a tree equal to a fresh one:

- *The template.* A leader that built a tree (a standby's) makes its mount namespace, after the pivot, the
  pod's *template* (:func:`make_template`): it puts an inotify watch on every folder of the tree's writable
  file systems (the staging ``tmpfs``, which holds the overlays' upper folders, the pod's ``/tmp`` and its
  text files, and ``/dev``'s ``tmpfs``), records each file system's flags and size, enters a copy of that
  mount namespace (``unshare(CLONE_NEWNS)``), where the pod runs, and sends the zygote the template
  (:class:`Template`). No process ever runs in a template: what a pod mounts or unmounts goes to its copy
  only, which ends with it.
- *The check.* What a pod's copy shares with the template are the file systems themselves. Every change to
  them, made through the overlays or directly, is an inotify event of a watched folder (a file or folder
  made, removed, renamed, written, its mode, owner, times or extended attributes changed), which the kernel
  queues as the change happens; the watches are the zygote's (its inotify instance, :class:`Watcher`), and a
  pod's processes never hold it. Once every process of the pod ended (its PID namespace's first process was
  reaped, and the collector of its outputs, if any), the zygote reads the queued events: a template with
  none, whose file systems' flags and sizes are as recorded (no remount), goes back to the zygote's pool;
  any other is closed and torn down. A pod that wrote anything outside its volumes, even what it removed
  again, leaves its tree to be torn down. Three kinds of event are expected instead: the next pod's leader
  rewriting the text files; anything in an overlay's work folder (overlayfs's own); a change of a folder's
  attributes, which overlayfs makes itself as a pod looks names up — those folders' mode, owner and other
  extended attributes are compared with the template's record. Events the kernel dropped (its queue
  overflowed) count as changes to every template watched then.
- *The next pod.* The runner, giving a pod to a standby leader, asks for the next one with that pod's
  :func:`recycle_key` (the pod-dependent part of its tree: its volumes, its text files' paths, its cgroup
  view, its disk size); the zygote forks it on a pooled template of that key when it has one: the standby
  enters new PID, IPC and UTS namespaces as every leader does, then a copy of the template's mount namespace,
  where it mounts its own ``/proc``. A pod whose key differs from its recycled standby's gets another
  standby.

A template is in use by one pod at most at a time, from the standby's fork to the check: two pods never
share a layer. Pods that copy files into their tree at its start (input artifacts, ``COPY``), image builds
and pods with an image's layer are never recycled (:func:`recycle_key` is ``None``). A zygote pools at most
:data:`POOLED_TEMPLATES` templates and watches at most :data:`WATCHED_TEMPLATES`.
"""

from __future__ import annotations

import os
import struct

from ..records import Record
from . import syscalls
from .lazy_logging import LazyLogger
from .sandbox import SandboxPlan, TreeBuilder

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote stays lean (see .lazy_logging)
    from typing import Any

log = LazyLogger(__name__)

#: The most templates a zygote keeps unused (a parallel operation's pods end together: the rest are closed).
POOLED_TEMPLATES = 4
#: The most templates a zygote watches at once, pooled, in use or being made: each watches some tens of
#: folders, counted against the inotify watches of the engine's user (``fs.inotify.max_user_watches``) like
#: any other program's; pods beyond it build trees that are not recycled.
WATCHED_TEMPLATES = 8


def recycle_key(plan: SandboxPlan) -> tuple | None:
    """What a pod of ``plan`` adds to a standby leader's base tree, as a key: pods with equal keys get equal
    trees but for the content of their text files (a script), which each pod writes again. ``None`` for a pod
    whose tree is never recycled: one that copies files into it at its start (input artifacts, ``COPY``), an
    image build, a pod with an image's layer or lower layers of its own."""
    if any(pod_file.text is None for pod_file in plan.files) or plan.capture or plan.image_layer is not None \
            or plan.lowers:
        return None
    volumes = tuple((volume.host, volume.path, volume.read_only) for volume in plan.volumes)
    return volumes, tuple(pod_file.path for pod_file in plan.files), plan.cgroup_view, plan.disk_bytes


#: The inotify events that change a watched folder or one of its entries.
WATCHED = (syscalls.IN_MODIFY | syscalls.IN_ATTRIB | syscalls.IN_MOVED_FROM | syscalls.IN_MOVED_TO
           | syscalls.IN_CREATE | syscalls.IN_DELETE | syscalls.IN_DELETE_SELF | syscalls.IN_MOVE_SELF)
#: A file's content written (a text file rewritten by the next pod's leader).
MODIFIED = syscalls.IN_MODIFY
#: Every event (expected of an overlay's work folder).
_ANY = 0xFFFFFFFF
_EVENT = struct.Struct("iIII")
#: The extended attributes overlayfs keeps on its upper folders (some set as it looks names up), hidden from pods;
#: but for those it keeps for a pod (escaped: ``user.overlay.x`` set through an overlay is
#: ``user.overlay.overlay.x`` on its upper folder).
_OVERLAY_XATTRS = "user.overlay."
_ESCAPED_XATTRS = "user.overlay.overlay."


def _sizes(fds: list[int]) -> tuple:
    """The flags and sizes of the file systems of ``fds``: a remount changes them."""
    return tuple((info.f_flag, info.f_blocks, info.f_files, info.f_bsize) for info in map(os.fstatvfs, fds))


def _folder_attributes(path: str) -> tuple:
    """What a pod may change of the folder at ``path`` besides its entries and times: its mode, owner and
    extended attributes (overlayfs's own aside)."""
    info = os.stat(path, follow_symlinks=False)
    names = sorted(name for name in os.listxattr(path, follow_symlinks=False)
                   if not name.startswith(_OVERLAY_XATTRS) or name.startswith(_ESCAPED_XATTRS))
    return info.st_mode, info.st_uid, info.st_gid, tuple((name, os.getxattr(path, name)) for name in names)


class Template(Record):
    """A pod's tree kept for the next pods (see the module's docstring): its mount namespace, its writable file
    systems (``O_PATH`` descriptors: ``/dev``'s, the overlays' roots, the staging ``tmpfs`` last) and their
    flags and sizes when it was built, the watches on their folders, and the :func:`recycle_key` of the pods
    it fits."""

    mount_ns: int
    file_systems: list[int]
    sizes: tuple
    folders: dict[int, tuple[int, str, tuple]]
    """The watched folders, by watch: the index of their file system's descriptor, their path from its root
    and their attributes when built (:func:`_folder_attributes`)."""
    children: dict[tuple[int, bytes], int]
    """The watched folders' watches, by (their parent's watch, their name)."""
    expected: dict[tuple[int, bytes], int]
    """The events expected of some entries, by (watch of their folder, name): a text file's writes (each pod
    writes it again), anything of an overlay's work folder (see :func:`make_template`)."""
    key: tuple
    dirty: bool
    """Whether its tree changed (the zygote's :class:`Watcher` says)."""
    touched: set[int]
    """The watched folders whose attributes may have changed: checked at the end (overlayfs sets its own
    extended attributes on an upper folder the first time a pod looks a name up in it)."""

    def __init__(self, mount_ns: int, file_systems: list[int], sizes: tuple, folders: dict[int, tuple[int, str, tuple]],
                 children: dict[tuple[int, bytes], int], expected: dict[tuple[int, bytes], int], key: tuple) -> None:
        self.mount_ns = mount_ns
        self.file_systems = file_systems
        self.sizes = sizes
        self.folders = folders
        self.children = children
        self.expected = expected
        self.key = key
        self.dirty = False
        self.touched = set()

    @property
    def watches(self) -> list[int]:
        """Its watches."""
        return list(self.folders)

    def fds(self) -> list[int]:
        """Its descriptors, the mount namespace's first."""
        return [self.mount_ns, *self.file_systems]

    def close(self) -> None:
        """Close its descriptors: the last reference to its mount namespace ends it."""
        for fd in self.fds():
            os.close(fd)


def _watch_folders(inotify: int, top: str, index: int, template: Template, names: dict[str, int],
                   unwatched: frozenset[str] = frozenset()) -> None:
    """Watch ``top`` (a path from the working directory, the root of ``template``'s file system ``index``) and
    every folder below it but the folders of ``unwatched`` (normalised paths from the working directory) and
    theirs, recording them in ``template`` (and their watches in ``names``, by path)."""
    def watch(path: str) -> None:
        wd = syscalls.inotify_add_watch(inotify, path, WATCHED)
        names[path] = wd
        template.folders[wd] = (index, os.path.relpath(path, top) if top.startswith("/") else path,
                                _folder_attributes(path))
        if path != top:
            template.children[names[os.path.dirname(path)], os.path.basename(path).encode()] = wd

    watch(top)
    for folder, folders, _ in os.walk(top):
        folders[:] = [name for name in folders if os.path.normpath(os.path.join(folder, name)) not in unwatched
                      and not os.path.islink(os.path.join(folder, name))]
        for name in folders:
            watch(os.path.join(folder, name))


def make_template(inotify: int, builder: TreeBuilder, key: tuple) -> Template | None:
    """In a leader that just pivoted into the tree ``builder`` built, holding the zygote's ``inotify``
    instance: watch the tree's writable file systems for the zygote and record them as a template, then enter
    a copy of its mount namespace, where the pod runs. ``None`` when a text file lies elsewhere (in a volume).
    Raises ``OSError`` (with the watches made removed).

    The overlays' work folders are overlayfs's own, neither watched nor their events counted: it makes and
    removes its temporary files there (a copy-up's, an ``O_TMPFILE``'s, as ``libffi`` opens), and what stays
    in the tree is in the upper folders.
    """
    fds: list[int] = []
    template = Template(-1, [], (), {}, {}, {}, key)
    made = False
    try:
        fds.append(os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC))
        for path in ["/dev", "/", *[host for _, host in builder.layered]]:
            fds.append(os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC))
        fds.append(os.open(".", os.O_PATH | os.O_CLOEXEC, dir_fd=builder.staging_fd))
        names: dict[str, int] = {}
        _watch_folders(inotify, "/dev", 0, template, names)
        os.fchdir(builder.staging_fd)
        try:
            _watch_folders(inotify, ".", len(fds) - 2, template, names, frozenset(builder.work_folders))
        finally:
            os.chdir("/")
        for path, mask in [*((path, MODIFIED) for path in builder.written),
                           *((path, _ANY) for path in builder.work_folders)]:
            folder = names.get(os.path.join(".", os.path.dirname(path)))
            if folder is None:
                return None
            template.expected[folder, os.path.basename(path).encode()] = mask
        template.mount_ns, template.file_systems, template.sizes = fds[0], fds[1:], _sizes(fds[1:])
        syscalls.unshare(syscalls.CLONE_NEWNS)
        made = True
        return template
    finally:
        if not made:
            for wd in template.folders:
                syscalls.inotify_rm_watch(inotify, wd)
            for fd in fds:
                os.close(fd)


class Watcher:
    """The zygote's inotify instance, whose watches the leaders put on their templates' folders
    (:func:`make_template`): tells which templates changed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.templates: dict[int, Template] = {}
        """The templates known, by watch."""
        self.unclaimed: set[int] = set()
        """Watches that saw a change before their template came to the zygote (the leader's note is late)."""
        self.released: set[int] = set()
        """Watches removed, until their last event (``IN_IGNORED``) was read."""
        self.overflows = 0
        """How many times the kernel's queue overflowed (events lost): a template whose watches were made
        before one and claimed after counts as changed (see :meth:`claim`)."""

    @classmethod
    def open(cls) -> Watcher | None:
        """A new inotify instance; ``None`` when the kernel refuses one (the user's ``max_user_instances`` are
        taken): the zygote then recycles no tree."""
        try:
            return cls(syscalls.inotify_init())
        except OSError as error:
            log.debug("no inotify instance, no tree is recycled: %s", error)
            return None

    def claim(self, template: Template, overflows: int) -> None:
        """Follow ``template``, just received from its leader, which was given the instance when the queue had
        overflowed ``overflows`` times (:attr:`overflows`): dirty if one of its watches already saw a change, or
        if events were lost since."""
        if overflows != self.overflows:
            template.dirty = True
        for wd in template.watches:
            self.templates[wd] = template
            if wd in self.unclaimed:
                self.unclaimed.discard(wd)
                template.dirty = True

    def read(self) -> None:
        """Read the queued events: each change marks its template dirty (and stops watching it)."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            offset = 0
            while offset < len(data):
                wd, mask, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                self._event(wd, mask, name)

    def _event(self, wd: int, mask: int, name: bytes) -> None:
        if mask & syscalls.IN_Q_OVERFLOW:  # changes lost: every template may have changed
            self.overflows += 1
            for template in {id(template): template for template in self.templates.values()}.values():
                self._dirty(template)
            return
        if wd in self.released:
            if mask & syscalls.IN_IGNORED:  # its last event
                self.released.discard(wd)
            return
        template = self.templates.get(wd)
        if template is None:
            self.unclaimed.add(wd)
        elif not mask & ~template.expected.get((wd, name), 0):
            return
        elif mask & syscalls.IN_ISDIR and not mask & ~(syscalls.IN_ATTRIB | syscalls.IN_ISDIR) \
                and (folder := template.children.get((wd, name)) if name else wd) is not None:
            template.touched.add(folder)
        else:
            self._dirty(template)

    def _dirty(self, template: Template) -> None:
        template.dirty = True
        self.release(template)

    def release(self, template: Template) -> None:
        """Stop watching ``template``'s folders."""
        for wd in template.watches:
            if self.templates.pop(wd, None) is not None:
                self.released.add(wd)
                syscalls.inotify_rm_watch(self.fd, wd)

    def pristine(self, template: Template) -> bool:
        """Whether ``template``, whose pod's processes all ended, is as built: no change to its folders, no
        remount. Raises ``OSError``."""
        self.read()
        if template.dirty or _sizes(template.file_systems) != template.sizes:
            return False
        for wd in template.touched:
            index, path, attributes = template.folders[wd]
            if _folder_attributes(f"/proc/self/fd/{template.file_systems[index]}/{path}") != attributes:
                return False
        template.touched.clear()
        return True


def write_again(plan: SandboxPlan) -> None:
    """In a recycled standby leader given its pod (of ``plan``): write the pod's text files (its script) where
    the template's pod wrote its own (the key says the paths are the same)."""
    for pod_file in plan.files:
        fd = os.open(pod_file.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # as the builder opens it
        try:
            data = memoryview((pod_file.text or "").encode())
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)


def enter_copy(template_ns: int) -> None:
    """In a recycled standby leader (PID 1 of a new PID namespace): enter a copy of the template's mount
    namespace ``template_ns`` (which it then closes), with a ``/proc`` of its own PID namespace. Raises
    ``OSError``."""
    syscalls.setns(template_ns, syscalls.CLONE_NEWNS)
    os.close(template_ns)
    syscalls.unshare(syscalls.CLONE_NEWNS)
    os.chdir("/")
    # On top of the first pod's (a new proc mount needs a visible one: the kernel's mount_too_revealing)
    syscalls.mount("proc", "/proc", "proc", syscalls.MS_NOSUID | syscalls.MS_NODEV)


def message(template: Template | None) -> tuple[Any, list[int]]:
    """A template as the leader sends it with its note (descriptors apart)."""
    if template is None:
        return None, []
    return (template.sizes, template.folders, template.children, template.expected, template.key), template.fds()


def received(payload: Any, fds: list[int]) -> Template | None:
    """The template a leader's note brought (see :func:`message`)."""
    if payload is None:
        return None
    sizes, folders, children, expected, key = payload
    return Template(fds[0], fds[1:], sizes, folders, children, expected, key)
