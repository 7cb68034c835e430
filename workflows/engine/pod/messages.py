"""Messages between the engine's own processes (the runner, its zygote, standby leaders): a pickled
object with file descriptors attached, over a Unix stream socket.

Framing: the length of the pickled object (8 bytes, network order) carries the descriptors
(``SCM_RIGHTS``), then the pickled bytes follow. Only the engine's processes hold these sockets, so
unpickling trusts the sender.
"""

from __future__ import annotations

import errno
import pickle
import socket
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote stays lean (see .lazy_logging)
    from typing import Any

_LENGTH = struct.Struct("!Q")
#: The most descriptors a message carries (the kernel's SCM_MAX_FD is 253).
MAX_FDS = 250


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock``; raises :class:`EOFError` when the other side closed first."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the socket")
        data.extend(chunk)
    return bytes(data)


def send(sock: socket.socket, message: Any, fds: list[int]) -> None:
    """Send ``message`` (pickled) with the descriptors ``fds`` attached. Raises ``OSError`` (``EPIPE`` when the
    other side is gone, never ``SIGPIPE``; ``E2BIG`` for more than :data:`MAX_FDS` descriptors)."""
    if len(fds) > MAX_FDS:
        raise OSError(errno.E2BIG, f"a message with {len(fds)} descriptors (at most {MAX_FDS})")
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    socket.send_fds(sock, [_LENGTH.pack(len(payload))], fds, socket.MSG_NOSIGNAL)
    sock.sendall(payload, socket.MSG_NOSIGNAL)


def receive(sock: socket.socket) -> tuple[Any, list[int]] | None:
    """The next message and its descriptors (numbered in this process, in the order sent); ``None`` once the
    other side closed. Raises :class:`EOFError` for a message cut short."""
    header, fds, _, _ = socket.recv_fds(sock, _LENGTH.size, MAX_FDS)
    if not header:
        return None
    header += receive_exactly(sock, _LENGTH.size - len(header))
    (length,) = _LENGTH.unpack(header)
    return pickle.loads(receive_exactly(sock, length)), fds  # noqa: S301 - only the engine's processes send
