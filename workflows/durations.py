"""Go durations (``90s``, ``1h30m``, ``1.5h``), as Argo parses ``deleteDelayDuration`` and ``@every``."""

from __future__ import annotations

import re

#: Go's ``time.ParseDuration`` grammar: signed sequence of decimal numbers with units, or a bare ``0``.
GO_DURATION = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+\Z|[+-]?0\Z")


def is_go_duration(text: str) -> bool:
    """Whether Go's ``time.ParseDuration`` accepts ``text``."""
    return GO_DURATION.match(text) is not None

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def duration_seconds(value: object) -> float:
    """Seconds of an Argo duration: a number of seconds (int or numeric string) or a Go duration string.

    Raises :class:`ValueError` naming the value when it is neither.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if not is_go_duration(text):
        raise ValueError(f"{value!r} is not a duration (seconds, or a Go duration such as '90s' or '1h30m')")
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text))
