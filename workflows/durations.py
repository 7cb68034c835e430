"""Go durations (``90s``, ``1h30m``, ``1.5h``), parsed exactly like Go's ``time.ParseDuration``.

The one home of the grammar, used by the compiler (``ttlStrategy``-style options), validation (``@every``
schedules), the engine (timeouts, retry backoffs, suspend durations) and the expression languages
(``duration()``, ``sprig.dateModify``). The grammar is ``[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+`` with the units
``ns us µs μs ms s m h``, plus a bare ``0`` (signed or not); every number needs at least one digit, before or
after its point (``3.s`` and ``.5s`` are valid, ``.s`` is not), and the total must fit Go's ``int64``
nanoseconds. Error messages are Go's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidDuration

if TYPE_CHECKING:  # pragma: no cover
    import datetime as _dt

__all__ = ["InvalidDuration", "duration_seconds", "go_duration_ns", "is_go_duration", "parse_go_duration"]

#: Nanoseconds per unit, as Go's ``unitMap`` (``µ`` is U+00B5 MICRO SIGN, ``μ`` U+03BC GREEK SMALL LETTER MU).
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX = 1 << 63  # Go's int64 bound: |duration| <= 1<<63 ns while summing, < 1<<63 when positive
_DIGITS = "0123456789"


def _leading_int(text: str, orig: str) -> tuple[int, str]:
    """Consume ``[0-9]*`` like Go's ``leadingInt``, refusing values beyond ``1<<63``."""
    value = 0
    i = 0
    while i < len(text) and text[i] in _DIGITS:
        if value > _MAX // 10:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
        value = value * 10 + ord(text[i]) - 48
        if value > _MAX:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
        i += 1
    return value, text[i:]


def _leading_fraction(text: str) -> tuple[int, float, str]:
    """Consume ``[0-9]*`` after a point like Go's ``leadingFraction``: digits past int64 precision are skipped."""
    value = 0
    scale = 1.0
    overflow = False
    i = 0
    while i < len(text) and text[i] in _DIGITS:
        if not overflow:
            following = value * 10 + ord(text[i]) - 48
            if value > (_MAX - 1) // 10 or following > _MAX:
                overflow = True
            else:
                value = following
                scale *= 10
        i += 1
    return value, scale, text[i:]


def go_duration_ns(text: str) -> int:
    """Nanoseconds of a Go duration string, as ``time.ParseDuration`` returns them.

    Raises :class:`InvalidDuration` with Go's message for anything Go refuses (``"3"``, ``".s"``, ``"1d"``,
    overflow beyond ``int64`` nanoseconds).
    """
    orig = text
    negative = False
    if text[:1] in ("-", "+"):
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise InvalidDuration(f'time: invalid duration "{orig}"')
    total = 0
    while text:
        if text[0] != "." and text[0] not in _DIGITS:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
        before = len(text)
        whole, text = _leading_int(text, orig)
        has_whole = len(text) != before
        fraction, scale, has_fraction = 0, 1.0, False
        if text[:1] == ".":
            text = text[1:]
            before = len(text)
            fraction, scale, text = _leading_fraction(text)
            has_fraction = len(text) != before
        if not has_whole and not has_fraction:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
        end = 0
        while end < len(text) and text[end] != "." and text[end] not in _DIGITS:
            end += 1
        if end == 0:
            raise InvalidDuration(f'time: missing unit in duration "{orig}"')
        unit_name, text = text[:end], text[end:]
        unit = _UNIT_NS.get(unit_name)
        if unit is None:
            raise InvalidDuration(f'time: unknown unit "{unit_name}" in duration "{orig}"')
        if whole > _MAX // unit:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
        whole *= unit
        if fraction > 0:
            whole += int(float(fraction) * (float(unit) / scale))  # float64 arithmetic, truncated, as Go
            if whole > _MAX:
                raise InvalidDuration(f'time: invalid duration "{orig}"')
        total += whole
        if total > _MAX:
            raise InvalidDuration(f'time: invalid duration "{orig}"')
    if negative:
        return -total
    if total > _MAX - 1:
        raise InvalidDuration(f'time: invalid duration "{orig}"')
    return total


def is_go_duration(text: str) -> bool:
    """Whether Go's ``time.ParseDuration`` accepts ``text``."""
    try:
        go_duration_ns(text)
    except InvalidDuration:
        return False
    return True


def parse_go_duration(text: str) -> _dt.timedelta:
    """A Go duration string as a :class:`~datetime.timedelta` (rounded to Python's microseconds).

    Raises :class:`InvalidDuration` with Go's message when Go refuses ``text``.
    """
    import datetime as _dt  # loaded by the expression languages only; the compiler needs no datetime

    return _dt.timedelta(microseconds=go_duration_ns(text) / 1000)


def duration_seconds(value: object) -> float:
    """Seconds of an Argo duration: a number of seconds or a Go duration string, as Argo's
    ``ParseStringToDuration`` reads it (a string of decimal digits, optionally signed, is seconds;
    anything else must be a Go duration).

    Raises :class:`InvalidDuration` naming the value when it is neither.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if digits and all(char in _DIGITS for char in digits):  # Go's strconv.Atoi
        return float(int(text))
    try:
        return go_duration_ns(text) / 1e9
    except InvalidDuration as error:
        raise InvalidDuration(
            f"{value!r} is not a duration (seconds, or a Go duration such as '90s' or '1h30m'): {error}"
        ) from None
