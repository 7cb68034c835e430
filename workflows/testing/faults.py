"""Faults a test asks the fake cluster for: error answers, connection resets, lost responses, dropped watches."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

#: What a fault does to the request it hits.
FAIL = "fail"  # answer with an error status instead of processing the request
RESET = "reset"  # reset the connection without processing the request
LOSE = "lose"  # process the request, then reset the connection instead of answering


@dataclass
class Fault:
    """One armed fault: what it does, to which requests, how many more times."""

    action: str
    count: int
    method: str | None = None
    path: str | None = None
    status: int = 500
    retry_after: float | None = None

    def hits(self, method: str, path: str) -> bool:
        """Whether a request of ``method`` on ``path`` is one this fault is for."""
        return (self.method is None or self.method == method) and (self.path is None or re.search(self.path, path))


class Faults:
    """The faults armed on a cluster; thread-safe, each hit consumes one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self._watch_drops: list[int] = []

    def arm(self, fault: Fault) -> None:
        """Add ``fault`` (checked after the faults armed before it)."""
        if fault.count < 1:
            raise ValueError(f"count={fault.count!r}: expected a positive number of requests")
        if fault.path is not None:
            re.compile(fault.path)
        with self._lock:
            self._armed.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault for this request (consuming one of its hits), or ``None``."""
        with self._lock:
            for fault in self._armed:
                if fault.hits(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def drop_watches(self, count: int, after_events: int) -> None:
        """Drop the next ``count`` watch or event streams after ``after_events`` events each."""
        if count < 1 or after_events < 0:
            raise ValueError(f"count={count!r}, after_events={after_events!r}: expected count >= 1, after_events >= 0")
        with self._lock:
            self._watch_drops += [after_events] * count

    def take_watch_drop(self) -> int | None:
        """After how many events the stream starting now is to be dropped, or ``None``."""
        with self._lock:
            return self._watch_drops.pop(0) if self._watch_drops else None
