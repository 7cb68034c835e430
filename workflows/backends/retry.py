"""When and how long a cluster backend waits before trying a request again."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass



def retry_after_seconds(value: str | None) -> float | None:
    """The delay a ``Retry-After`` header asks for (seconds or an HTTP date), ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter: attempt ``n`` (from 1) waits up to
    ``min(cap, base * 2 ** (n - 1))`` seconds, or what the server's ``Retry-After`` asks (also capped)."""

    attempts: int = 8
    """How many times a request is sent at most (the first time included)."""
    base: float = 0.05
    """The first delay, in seconds."""
    cap: float = 5.0
    """The longest delay, in seconds."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts={self.attempts!r}: at least 1")
        if self.base < 0 or self.cap < 0:
            raise ValueError(f"base={self.base!r}, cap={self.cap!r}: delays cannot be negative")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The delay after failed attempt number ``attempt`` (1 for the first)."""
        if retry_after is not None:
            return min(self.cap, retry_after)
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)
