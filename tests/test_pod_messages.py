"""The engine's own messages (``workflows.engine.pod.messages``): an object and descriptors over a Unix
stream socket, whole whatever the socket's room."""

from __future__ import annotations

import os
import socket
import threading

from workflows.engine.pod import messages


def _send_and_receive(message: object, sndbuf: int | None = None) -> tuple[object, list[bytes]]:
    """Send ``message`` with two pipes' write ends attached (from another thread, the socket's send buffer
    ``sndbuf`` bytes when given); what arrives, and what each received descriptor carries."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if sndbuf is not None:  # with a timeout, as the runner's sockets to its zygote: a send may send part
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        ours.settimeout(30)
    pipes = [os.pipe() for _ in range(2)]
    sender = threading.Thread(target=messages.send, args=(ours, message, [write for _, write in pipes]))
    sender.start()
    try:
        received = messages.receive(theirs)
        sender.join()
        assert received is not None
        got, fds = received
        carried = []
        for (read, write), fd in zip(pipes, fds):
            os.write(fd, b"through " + str(fd).encode())
            os.close(fd)
            os.close(write)
            carried.append(os.read(read, 100))
            os.close(read)
        return got, carried
    finally:
        ours.close()
        theirs.close()


def test_a_small_message_arrives_whole_with_its_descriptors():
    got, carried = _send_and_receive({"pod": "a", "args": [1, 2]})
    assert got == {"pod": "a", "args": [1, 2]}
    assert len(carried) == 2 and all(data.startswith(b"through ") for data in carried)


def test_a_message_larger_than_the_socket_takes_at_once_arrives_whole():
    """Larger than the socket's buffer, on a socket with a timeout (as the runner's to its zygote, where a
    send may send part of what it is given): the message arrives whole, its descriptors with it."""
    message = {"blob": os.urandom(3 * 1024 * 1024)}
    got, carried = _send_and_receive(message, sndbuf=4096)
    assert got == message
    assert len(carried) == 2


def test_the_next_message_follows_the_first_on_the_same_socket():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        messages.send(ours, "first", [])
        messages.send(ours, ["second"], [])
        ours.close()
        assert messages.receive(theirs) == ("first", [])
        assert messages.receive(theirs) == (["second"], [])
        assert messages.receive(theirs) is None
    finally:
        theirs.close()
