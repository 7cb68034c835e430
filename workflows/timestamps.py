"""RFC 3339 UTC timestamps, as Kubernetes and Argo write them (``2026-11-21T10:00:00Z``)."""

from __future__ import annotations

import time

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def timestamp(seconds: float | None = None) -> str:
    """The timestamp of ``seconds`` since the epoch (now when ``None``)."""
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime(time.time() if seconds is None else seconds))


def epoch(stamp: str) -> float:
    """The seconds since the epoch of a timestamp written by :func:`timestamp` (or Argo)."""
    import calendar  # noqa: PLC0415 - with locale, 1.5 ms that every runner would import for the rare caller

    return calendar.timegm(time.strptime(stamp, TIMESTAMP_FORMAT))
