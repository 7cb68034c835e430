"""A doorbell: processes on one machine block until another process rings, without polling.

Generic (nothing here knows about events): a :class:`Doorbell` is a directory.
A waiter binds a Unix datagram socket in it and blocks in ``select`` until a
datagram arrives or its timeout expires; :meth:`Doorbell.ring` sends one
datagram to every socket of the directory. Typical use, with no lost wake-ups::

    bell = Doorbell(state_dir / "waiters" / key)
    with bell.waiter() as waiter:           # 1. register first...
        while not condition():              # 2. ...then check the shared state
            if not waiter.wait(remaining()):  # 3. block until rung (or timeout)
                break                       # timed out

    # in another process, after committing the change:
    bell.ring()

A ring that lands between steps 1 and 3 stays queued in the socket, so step 3
returns at once. Rings carry no data and may be spurious: always re-check the
condition. Sockets left behind by dead processes (``ECONNREFUSED``) are removed
by the next ring; :meth:`Doorbell.prune` removes a directory no one waits on.

Socket addresses are limited to about 100 bytes; when ``directory/<name>`` is
longer, the socket is bound in a private directory under the system's
temporary directory and the doorbell directory holds a symlink to it.
"""

from __future__ import annotations

import errno
import logging
import os
import selectors
import shutil
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Doorbell", "Waiter"]

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux, 104 on macOS and the BSDs (including the final NUL).
_MAX_SOCKET_PATH = 100
_SHORT_DIR_PREFIX = "wf-bell-"
# A full receive queue already holds a wake-up for its waiter: nothing is lost.
_QUEUE_FULL = {errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS}
_GONE = {errno.ECONNREFUSED, errno.ENOENT}


def _fits(path: str) -> bool:
    return len(os.fsencode(path)) <= _MAX_SOCKET_PATH


def _short_base() -> str:
    import tempfile  # noqa: PLC0415 - only for paths too long for a socket: every runner imports this module

    base = tempfile.gettempdir()
    if not _fits(os.path.join(base, _SHORT_DIR_PREFIX + "x" * 8, "s")) and os.path.isdir("/tmp"):
        base = "/tmp"
    return base


class Waiter:
    """A registered waiter of a :class:`Doorbell`; made by :meth:`Doorbell.waiter`."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the doorbell rings or ``timeout`` seconds pass (``None``: no limit).

        Return ``True`` when it rang (every pending ring is consumed), ``False``
        on timeout. A ring that arrived since the last call returns at once.
        """
        if timeout is not None and timeout < 0:
            timeout = 0
        if not self._selector.select(timeout):
            return False
        self._drain()
        return True

    def _drain(self) -> None:
        while True:
            try:
                self._socket.recv(64)
            except (BlockingIOError, InterruptedError):
                return

    def _close(self) -> None:
        self._selector.close()
        self._socket.close()


class Doorbell:
    """A wake-up channel between processes of one machine, identified by ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        """Where waiters register their sockets (created by the first waiter)."""

    def __repr__(self) -> str:
        return f"Doorbell({str(self.directory)!r})"

    @contextmanager
    def waiter(self) -> Iterator[Waiter]:
        """Register a waiter for the duration of the ``with`` block.

        Rings sent after this returns are never lost: check your condition
        *inside* the block, then call :meth:`Waiter.wait`.
        """
        for attempt in range(5):
            try:
                waiter, entry, short_dir = self._register()
                break
            except FileNotFoundError:  # the directory was pruned between mkdir and bind: make it again
                if attempt == 4:
                    raise
        try:
            yield waiter
        finally:
            waiter._close()
            self._cleanup(entry, short_dir)

    def _register(self) -> tuple[Waiter, str, str | None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # only its owner's processes may ring
        entry = str(self.directory / f"{os.getpid()}-{os.urandom(8).hex()}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        short_dir = None
        try:
            sock.setblocking(False)
            if _fits(entry):
                sock.bind(entry)
            else:
                import tempfile  # noqa: PLC0415 - see _short_base

                short_dir = tempfile.mkdtemp(prefix=_SHORT_DIR_PREFIX, dir=_short_base())
                address = os.path.join(short_dir, "s")
                sock.bind(address)
                os.symlink(address, entry)
            return Waiter(sock), entry, short_dir
        except BaseException:
            sock.close()
            self._cleanup(entry, short_dir)
            raise

    def prune(self) -> bool:
        """Remove the doorbell's directory if no one waits on it; return whether it is gone.

        Safe while others register: a waiter whose directory vanishes makes it again.
        """
        try:
            self.directory.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True

    def ring(self) -> int:
        """Wake every current waiter; return how many were rung. Never blocks.

        Sockets whose owner is gone are removed. A doorbell nobody waits on
        (even one whose directory does not exist) rings no one.
        """
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        rung = 0
        if not entries:
            return 0
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            for entry in entries:
                target = entry.path
                try:
                    mode = os.lstat(entry.path).st_mode
                    if stat.S_ISLNK(mode):
                        target = os.readlink(entry.path)
                    elif not stat.S_ISSOCK(mode):
                        continue
                    sender.sendto(b"\x01", target)
                    rung += 1
                except OSError as error:
                    if error.errno in _QUEUE_FULL:
                        rung += 1
                    elif error.errno in _GONE:
                        self._remove_stale(entry.path, target)
                    else:
                        log.debug("doorbell %s: cannot ring %s: %s", self.directory, entry.path, error)
        return rung

    def _remove_stale(self, entry: str, target: str) -> None:
        log.debug("doorbell %s: removing stale waiter %s", self.directory, entry)
        short_dir = os.path.dirname(target) if target != entry else None
        if short_dir is not None and not os.path.basename(short_dir).startswith(_SHORT_DIR_PREFIX):
            short_dir = None
        self._cleanup(entry, short_dir)

    @staticmethod
    def _cleanup(entry: str, short_dir: str | None) -> None:
        try:
            os.unlink(entry)
        except FileNotFoundError:
            pass
        except OSError as error:  # pragma: no cover - permissions
            log.debug("cannot remove waiter %s: %s", entry, error)
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)
