"""Go durations (``90s``, ``1h30m``, ``1.5h``), as Argo parses ``deleteDelayDuration`` and ``@every``."""

from __future__ import annotations

import re

#: Go's ``time.ParseDuration`` grammar: signed sequence of decimal numbers with units, or a bare ``0``.
GO_DURATION = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+\Z|[+-]?0\Z")


def is_go_duration(text: str) -> bool:
    """Whether Go's ``time.ParseDuration`` accepts ``text``."""
    return GO_DURATION.match(text) is not None
