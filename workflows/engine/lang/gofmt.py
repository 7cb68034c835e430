"""Go-compatible rendering of values, so strings produced by the engine match Argo's byte for byte.

Argo (a Go program) turns values into text in a few distinct ways, and the
engine must reproduce each one where Argo uses it:

* :func:`go_json` -- ``encoding/json.Marshal``: compact, map keys sorted, ``<``
  ``>`` ``&`` escaped as ``\\u003c`` ``\\u003e`` ``\\u0026``, floats in Go's
  shortest form (``35.8``, ``1e+21``, ``1e-7``, never ``1.0``). ``indent``
  gives ``MarshalIndent(v, "", indent)``.
* :func:`go_sprint` -- ``fmt.Sprint``/``%v``: ``[a b]`` for lists,
  ``map[k:v]`` for maps, ``<nil>``, floats as ``%g`` with Go's shortest digits.
* :func:`go_time_format` -- ``time.Time.Format`` with Go's reference layout
  (``2006-01-02T15:04:05Z07:00``).
* :func:`go_sprintf_int` -- ``fmt.Sprintf(format, n)`` for one integer (used by
  ``withSequence.format``), including Go's ``%!verb(...)`` error texts.
* :func:`go_duration_string` -- ``time.Duration.String`` (``1h2m3.5s``).

:class:`RawNumber` is a float that remembers the JSON text it was parsed from
(``1.0``, ``1e3``): Argo keeps loop items as raw JSON, so their text survives.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import operator
import re
from typing import Any

__all__ = [
    "RawNumber",
    "go_duration_string",
    "go_float_json",
    "go_float_v",
    "go_json",
    "go_sprint",
    "go_sprintf_int",
    "go_time_format",
    "go_time_string",
    "go_type_name",
    "parse_go_json",
]


class RawNumber(float):
    """A JSON number that keeps its source text (``raw``), as Go's ``json.RawMessage`` does."""

    raw: str

    def __new__(cls, raw: str) -> RawNumber:  # noqa: PYI034 - float subclasses build in __new__
        number = super().__new__(cls, raw)
        number.raw = raw
        return number

    def __repr__(self) -> str:
        return f"RawNumber({self.raw!r})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON value {name}")


def parse_go_json(text: str, *, raw_numbers: bool = False) -> Any:
    """Parse JSON the way Go's ``json.Unmarshal`` into ``interface{}`` does: every number is a float.

    With ``raw_numbers`` numbers become :class:`RawNumber` (keeping their text).
    ``NaN``/``Infinity`` are rejected as Go does. Raises ``ValueError``.
    """
    number = RawNumber if raw_numbers else float
    return json.loads(text, parse_int=number, parse_float=number, parse_constant=_reject_constant)


# ---------------------------------------------------------------------------------------------- floats


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return ``(digits, point)``: ``value == 0.digits * 10**point`` with Go's shortest round-trip digits."""
    from decimal import Decimal  # noqa: PLC0415 - 1.3 ms of every runner's start otherwise; few templates format floats

    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    if text == "0":
        return "0", 1
    # value = int(digits) * 10**exponent; digits may have had trailing zeros stripped.
    point = len(digits) + int(exponent)
    return text, point


def _format_e(negative: bool, digits: str, point: int, min_exp_digits: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    sign = "-" if exp < 0 else "+"
    return f"{'-' if negative else ''}{mantissa}e{sign}{abs(exp):0{min_exp_digits}d}"


def _format_f(negative: bool, digits: str, point: int) -> str:
    if point <= 0:
        text = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return ("-" if negative else "") + text


def go_float_json(value: float) -> str:
    """Format a float as ``encoding/json`` does (``1``, ``35.8``, ``1e+21``, ``1e-7``). Raises ``ValueError`` for NaN/Inf."""
    if isinstance(value, RawNumber):
        return value.raw
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {go_float_v(value)}")
    negative = math.copysign(1.0, value) < 0
    if value == 0:
        return "-0" if negative else "0"
    digits, point = _shortest_digits(value)
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        return _format_e(negative, digits, point, 1)
    return _format_f(negative, digits, point)


def go_float_v(value: float) -> str:
    """Format a float as ``fmt`` ``%v`` does (``%g``, shortest digits: ``1e+06``, ``123456``, ``0.0001``, ``1e-05``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    if value == 0:
        return "-0" if negative else "0"
    digits, point = _shortest_digits(value)
    exp = point - 1
    if exp < -4 or exp >= 6:  # strconv 'g' with the shortest precision uses 6 for this decision
        return _format_e(negative, digits, point, 2)
    return _format_f(negative, digits, point)


# ---------------------------------------------------------------------------------------------- JSON

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")
_LINE_RE = re.compile("[\u2028\u2029]")


def _json_string(text: str, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if escape_html:
        return _HTML_RE.sub(lambda match: _HTML_ESCAPES[match.group()], encoded)
    return _LINE_RE.sub(lambda match: _HTML_ESCAPES[match.group()], encoded)


def go_json(value: Any, *, indent: str | None = None, escape_html: bool = True, sort_keys: str = "all") -> str:
    """Return ``value`` encoded as Go's ``json.Marshal`` (or ``json.MarshalIndent(v, "", indent)``) would.

    ``sort_keys``: ``"all"`` sorts every map (Go maps), ``"top"`` only the
    outermost one (a Go map of raw JSON values), ``"none"`` keeps insertion
    order (raw JSON). Raises ``ValueError`` for values JSON cannot hold (NaN).
    """
    parts: list[str] = []
    _encode(value, parts, indent, "\n", escape_html, sort_keys, 0)
    return "".join(parts)


def _encode(value: Any, out: list[str], indent: str | None, newline: str, html: bool, sort_keys: str, depth: int) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_json_string(value, html))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(go_float_json(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        items = [(k if isinstance(k, str) else go_sprint(k), v) for k, v in value.items()]
        if sort_keys == "all" or (sort_keys == "top" and depth == 0):
            items.sort(key=lambda pair: pair[0])
        inner = None if indent is None else newline + indent
        out.append("{")
        for index, (key, sub) in enumerate(items):
            if index:
                out.append(",")
            if inner is not None:
                out.append(inner)
            out.append(_json_string(key, html))
            out.append(":" if indent is None else ": ")
            _encode(sub, out, indent, inner or newline, html, sort_keys, depth + 1)
        if inner is not None:
            out.append(newline)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = None if indent is None else newline + indent
        out.append("[")
        for index, sub in enumerate(value):
            if index:
                out.append(",")
            if inner is not None:
                out.append(inner)
            _encode(sub, out, indent, inner or newline, html, sort_keys, depth + 1)
        if inner is not None:
            out.append(newline)
        out.append("]")
    elif isinstance(value, _dt.datetime):
        out.append(_json_string(_rfc3339(value, nano=True), html))
    elif isinstance(value, _dt.timedelta):
        out.append(str(_nanoseconds(value)))
    elif isinstance(value, (bytes, bytearray)):
        import base64

        out.append('"' + base64.b64encode(bytes(value)).decode("ascii") + '"')
    else:
        raise ValueError(f"json: unsupported type: {go_type_name(value)}")


#: Go's ordering operators: expr-lang and govaluate compare as Go does, once each has checked its operands' types.
ORDERINGS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


# ---------------------------------------------------------------------------------------------- %v


def go_type_name(value: Any) -> str:
    """Return the Go type name Argo would report for ``value`` in an error (``string``, ``float64``, ...)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, _dt.datetime):
        return "time.Time"
    if isinstance(value, _dt.timedelta):
        return "time.Duration"
    if callable(value):
        return "func"
    return type(value).__name__


def go_sprint(value: Any) -> str:
    """Return ``fmt.Sprint(value)`` (``%v``): ``[a b]``, ``map[a:1 b:2]``, ``<nil>``, ``1e+06``."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return go_float_v(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_sprint(sub) for sub in value) + "]"
    if isinstance(value, dict):
        pairs = sorted((go_sprint(k), go_sprint(v)) for k, v in value.items())
        return "map[" + " ".join(f"{k}:{v}" for k, v in pairs) + "]"
    if isinstance(value, _dt.datetime):
        return go_time_string(value)
    if isinstance(value, _dt.timedelta):
        return go_duration_string(value)
    return str(value)


# ---------------------------------------------------------------------------------------------- time


def _nanoseconds(delta: _dt.timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def go_duration_string(delta: _dt.timedelta) -> str:
    """Return ``time.Duration.String()``: ``0s``, ``1.5s``, ``2m0s``, ``1h2m3s``, ``250ms``, ``1µs``."""
    nanos = _nanoseconds(delta)
    if nanos == 0:
        return "0s"
    negative = nanos < 0
    nanos = abs(nanos)
    sign = "-" if negative else ""
    if nanos < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if nanos < size * 1000:
                return sign + _fraction(nanos, size) + unit
    seconds_text = _fraction(nanos % 60_000_000_000, 1_000_000_000) + "s"
    minutes = nanos // 60_000_000_000
    if minutes == 0:
        return sign + seconds_text
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{sign}{minutes}m{seconds_text}"
    return f"{sign}{hours}h{minutes}m{seconds_text}"


def _fraction(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    width = len(str(unit)) - 1
    return f"{whole}." + f"{rest:0{width}d}".rstrip("0")


def _as_aware(moment: _dt.datetime) -> _dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.timezone.utc)


def _zone_name(moment: _dt.datetime) -> str:
    name = moment.tzname()
    if name and name not in ("UTC+00:00",) and not name.startswith(("UTC+", "UTC-")):
        return name
    offset = moment.utcoffset() or _dt.timedelta(0)
    if not offset:
        return "UTC"
    return _offset(offset, colon=False)


def _offset(offset: _dt.timedelta, *, colon: bool, seconds: bool = False, hours_only: bool = False) -> str:
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours_only:
        return f"{sign}{hours:02d}"
    separator = ":" if colon else ""
    text = f"{sign}{hours:02d}{separator}{minutes:02d}"
    if seconds:
        text += f"{separator}{secs:02d}"
    return text


def _rfc3339(moment: _dt.datetime, *, nano: bool) -> str:
    layout = "2006-01-02T15:04:05.999999999Z07:00" if nano else "2006-01-02T15:04:05Z07:00"
    return go_time_format(_as_aware(moment), layout)


def go_time_string(moment: _dt.datetime) -> str:
    """Return ``time.Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    return go_time_format(_as_aware(moment), "2006-01-02 15:04:05.999999999 -0700 MST")


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Go's layout elements, longest first where one is a prefix of another.
_LAYOUT_TOKENS = (
    "January", "Jan", "Monday", "Mon", "MST",
    "2006", "002", "01", "02", "06", "03", "04", "05", "_2", "15",
    "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
    "-07:00:00", "-070000", "-07:00", "-0700", "-07",
    "PM", "pm", "1", "2", "3", "4", "5",
)
_FRACTION_RE = re.compile(r"[.,](0+|9+)(?![0-9])")


def go_time_format(moment: _dt.datetime, layout: str) -> str:
    """Return ``moment.Format(layout)`` with Go's reference-time layout (``2006-01-02T15:04:05Z07:00``)."""
    moment = _as_aware(moment)
    out: list[str] = []
    i = 0
    length = len(layout)
    while i < length:
        if layout[i] in ".," and i + 1 < length and layout[i + 1] in "09":
            match = _FRACTION_RE.match(layout, i)
            if match:  # .000 / .999 (not followed by another digit) is a fraction of a second
                digits = match.group(1)
                fraction = f"{moment.microsecond * 1000:09d}"[: len(digits)]
                if digits[0] == "9":
                    fraction = fraction.rstrip("0")
                    out.append(layout[i] + fraction if fraction else "")
                else:
                    out.append(layout[i] + fraction)
                i = match.end()
                continue
        for token in _LAYOUT_TOKENS:
            if layout.startswith(token, i):
                if token in ("Jan", "Mon") and layout.startswith(token + "uary" if token == "Jan" else token + "day", i):
                    continue
                out.append(_layout_value(moment, token))
                i += len(token)
                break
        else:
            out.append(layout[i])
            i += 1
    return "".join(out)


def _layout_value(moment: _dt.datetime, token: str) -> str:
    offset = moment.utcoffset() or _dt.timedelta(0)
    hour12 = moment.hour % 12 or 12
    if token.startswith("Z") and not offset:
        return "Z"
    values = {
        "January": lambda: _MONTHS[moment.month - 1],
        "Jan": lambda: _MONTHS[moment.month - 1][:3],
        "Monday": lambda: _DAYS[moment.weekday()],
        "Mon": lambda: _DAYS[moment.weekday()][:3],
        "MST": lambda: _zone_name(moment),
        "2006": lambda: f"{moment.year:04d}",
        "06": lambda: f"{moment.year % 100:02d}",
        "002": lambda: f"{moment.timetuple().tm_yday:03d}",
        "01": lambda: f"{moment.month:02d}",
        "1": lambda: str(moment.month),
        "02": lambda: f"{moment.day:02d}",
        "_2": lambda: f"{moment.day:>2d}",
        "2": lambda: str(moment.day),
        "15": lambda: f"{moment.hour:02d}",
        "03": lambda: f"{hour12:02d}",
        "3": lambda: str(hour12),
        "04": lambda: f"{moment.minute:02d}",
        "4": lambda: str(moment.minute),
        "05": lambda: f"{moment.second:02d}",
        "5": lambda: str(moment.second),
        "PM": lambda: "PM" if moment.hour >= 12 else "AM",
        "pm": lambda: "pm" if moment.hour >= 12 else "am",
        "Z07:00:00": lambda: _offset(offset, colon=True, seconds=True),
        "-07:00:00": lambda: _offset(offset, colon=True, seconds=True),
        "Z070000": lambda: _offset(offset, colon=False, seconds=True),
        "-070000": lambda: _offset(offset, colon=False, seconds=True),
        "Z07:00": lambda: _offset(offset, colon=True),
        "-07:00": lambda: _offset(offset, colon=True),
        "Z0700": lambda: _offset(offset, colon=False),
        "-0700": lambda: _offset(offset, colon=False),
        "Z07": lambda: _offset(offset, colon=False, hours_only=True),
        "-07": lambda: _offset(offset, colon=False, hours_only=True),
    }
    return values[token]()


# ---------------------------------------------------------------------------------------------- printf

_VERB_RE = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?(.)?", re.DOTALL)


def go_sprintf_int(format_text: str, number: int) -> str:
    """Return Go's ``fmt.Sprintf(format_text, number)`` for one ``int`` argument.

    Supports the integer verbs (``%d %v %x %X %o %O %b %c %q %U``) with flags,
    width and precision; other verbs give Go's ``%!s(int=5)`` text, a second
    verb ``%!d(MISSING)`` and an unused argument ``%!(EXTRA int=5)``.
    """
    out: list[str] = []
    used = False
    i = 0
    while i < len(format_text):
        percent = format_text.find("%", i)
        if percent < 0:
            out.append(format_text[i:])
            break
        out.append(format_text[i:percent])
        match = _VERB_RE.match(format_text, percent)
        assert match is not None
        flags, width, precision, verb = match.group(1), match.group(2), match.group(3), match.group(4)
        i = match.end()
        if verb is None:
            out.append("%!(NOVERB)")
            continue
        if verb == "%":
            out.append("%")
            continue
        if used:
            out.append(f"%!{verb}(MISSING)")
            continue
        used = True
        out.append(_format_int(number, flags, int(width) if width else None, precision, verb))
    if not used:
        out.append(f"%!(EXTRA int={number})")
    return "".join(out)


def _format_int(number: int, flags: str, width: int | None, precision: str | None, verb: str) -> str:
    negative = number < 0
    magnitude = abs(number)
    prefix = ""
    if verb in "dv":
        body = str(magnitude)
    elif verb == "x":
        body = format(magnitude, "x")
        prefix = "0x" if "#" in flags else ""
    elif verb == "X":
        body = format(magnitude, "X")
        prefix = "0X" if "#" in flags else ""
    elif verb == "o":
        body = format(magnitude, "o")
        prefix = "0" if "#" in flags else ""
    elif verb == "O":
        body = format(magnitude, "o")
        prefix = "0o"
    elif verb == "b":
        body = format(magnitude, "b")
    elif verb == "c":
        return _pad(chr(number) if 0 <= number <= 0x10FFFF else "\ufffd", flags, width)
    elif verb == "q":
        return _pad("'" + (chr(number) if 0 <= number <= 0x10FFFF else "\ufffd") + "'", flags, width)
    elif verb == "U":
        return _pad(f"U+{number:04X}", flags, width)
    else:
        return f"%!{verb}(int={number})"
    if precision is not None:
        digits = int(precision) if precision else 0
        if digits == 0 and magnitude == 0:
            body = ""
        body = body.rjust(digits, "0")
    sign = "-" if negative else ("+" if "+" in flags else (" " if " " in flags else ""))
    text = sign + prefix + body
    if width is not None and len(text) < width:
        if "-" in flags:
            text = text.ljust(width)
        elif "0" in flags and precision is None:
            text = sign + prefix + body.rjust(width - len(sign) - len(prefix), "0")
        else:
            text = text.rjust(width)
    return text


def _pad(text: str, flags: str, width: int | None) -> str:
    if width is None or len(text) >= width:
        return text
    return text.ljust(width) if "-" in flags else text.rjust(width)
