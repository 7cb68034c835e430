"""Reading a subprocess's pipes with a timeout, so that a test never hangs on a child that stays silent."""

from __future__ import annotations

import threading
from typing import IO, Callable

#: Seconds a test waits for a child's output before failing (a safety net, not a speed requirement).
READ_TIMEOUT = 60.0


class ReadTimeout(AssertionError):
    """The child wrote nothing (or not up to a newline) within the timeout."""


def _read(read: Callable[[], str], what: str, timeout: float) -> str:
    result: list[str] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(read())
        except (OSError, ValueError) as error:  # a closed pipe
            failure.append(error)

    reader = threading.Thread(target=run, daemon=True, name=f"read {what}")
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise ReadTimeout(f"no {what} from the child process within {timeout} s")
    if failure:
        raise failure[0]
    return result[0]


def read_line(stream: IO[str], timeout: float = READ_TIMEOUT) -> str:
    """The next line of ``stream`` (``""`` at its end); :class:`ReadTimeout` when none comes in ``timeout`` s."""
    return _read(stream.readline, "line", timeout)


def read_rest(stream: IO[str], timeout: float = READ_TIMEOUT) -> str:
    """Everything left in ``stream`` up to its end; :class:`ReadTimeout` when it stays open ``timeout`` s."""
    return _read(stream.read, "end of output", timeout)
