"""How pods see their volumes and files without touching the real paths they name.

A pod's container paths — volume mount paths, input and output artifact
paths, output parameter files — are mapped to folders of the state dir, and
every occurrence of a mapped path in the pod's command, arguments, env values
and script source is rewritten to its folder. A task that writes
``/mnt/shared/out.txt`` thus writes ``<state>/workflows/<wf>/volumes/<vol>/out.txt``,
and the next task reading ``/mnt/shared/out.txt`` reads the same file.
A program that builds such a path from pieces at run time is not rewritten:
use the ``shared_directory`` env (rewritten too) rather than a literal path.

Read-only mounts are enforced, not just rewritten: the pod runs in its own
mount namespace where the folder is bind-mounted read-only (as root, or
through an unprivileged user namespace); where neither is possible the pod
fails with a message saying so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18


@dataclass(frozen=True)
class Mapping:
    """A container path and the host folder or file standing for it."""

    container_path: str
    host_path: Path
    read_only: bool = False


class PathMap:
    """The mappings of one pod, and the rewriting of strings that mention them."""

    def __init__(self, mappings: Iterable[Mapping]) -> None:
        # Longest container paths first, so /mnt/data/in wins over /mnt/data.
        self.mappings = sorted(mappings, key=lambda m: len(m.container_path), reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![\w.-])("
                + "|".join(re.escape(m.container_path.rstrip("/")) for m in self.mappings)
                + r")(?![\w.-])"
            )
            if self.mappings
            else None
        )
        self._hosts = {m.container_path.rstrip("/"): str(m.host_path) for m in self.mappings}
        self._folders: set[str] = set()

    def rewrite(self, text: str) -> str:
        """``text`` with every mapped container path replaced by its host path.

        A mapped path followed by ``/`` is a folder (``/tmp`` in ``/tmp/out.txt``): see :meth:`make_folders`.
        """
        if self._pattern is None or "/" not in text:
            return text

        def replace(match: re.Match) -> str:
            if text[match.end():match.end() + 1] == "/":
                self._folders.add(self._hosts[match.group(1)])
            return self._hosts[match.group(1)]

        return self._pattern.sub(replace, text)

    def make_folders(self) -> None:
        """Create the host folders of mapped paths that rewritten strings use as folders."""
        for folder in self._folders:
            os.makedirs(folder, exist_ok=True)

    def rewrite_all(self, value: Any) -> Any:
        """:meth:`rewrite` applied to every string of a list (or a single string)."""
        if isinstance(value, str):
            return self.rewrite(value)
        return [self.rewrite(item) if isinstance(item, str) else item for item in value]

    def host(self, container_path: str) -> Path | None:
        """The host path of a container path (under a mapping), or ``None`` when unmapped."""
        for mapping in self.mappings:
            prefix = mapping.container_path.rstrip("/")
            if container_path == prefix or container_path.startswith(prefix + "/"):
                return mapping.host_path / container_path[len(prefix):].lstrip("/")
        return None

    def read_only_folders(self) -> list[str]:
        """Host folders the pod must not be able to write."""
        return [str(m.host_path) for m in self.mappings if m.read_only]


class SandboxError(OSError):
    """A pod's read-only mounts could not be set up."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{what}: {os.strerror(errno)}")


def enter_read_only_sandbox(folders: list[str]) -> None:
    """In the current (child) process: a private mount namespace where ``folders`` are read-only.

    Runs between fork and exec. Root needs only a mount namespace; other users
    get one through a user namespace that maps them to root inside.
    """
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        _check(libc.unshare(_CLONE_NEWNS), "unshare(mount namespace)")
    else:
        _check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWUSER), "unshare(user and mount namespaces)")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "make mounts private")
    for folder in folders:
        path = folder.encode()
        _check(libc.mount(path, path, None, _MS_BIND | _MS_REC, None), f"bind {folder}")
        _check(libc.mount(None, path, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None), f"make {folder} read-only")
