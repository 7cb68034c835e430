"""The ``sprig.*`` functions of Argo expressions (``github.com/Masterminds/sprig/v3`` v3.3.0's generic map).

Argo exposes ``sprig.GenericFuncMap()`` (minus ``env``/``expandenv``) as the
``sprig`` map of the expression environment, so ``sprig.date('2006', ts)``,
``sprig.add(1, 2)``, ``sprig.b64dec(s)`` ... call these functions. Arguments
are converted the way sprig converts them (``spf13/cast``: numbers from
strings with base prefixes, failed conversions give ``0``), and results keep
sprig's types (``add``/``max``/``min`` return integers, ``addf`` floats).

:data:`SPRIG` maps each supported name to its Python implementation; a name
missing from it is reported as an unknown function by the evaluator.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import os.path
import posixpath
import re
import zlib
from typing import TYPE_CHECKING, Any, Callable

from ...durations import parse_go_duration
from .gofmt import go_duration_string, go_json, go_sprint, go_time_format, parse_go_json
from .gotime import parse_go_time

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["SPRIG", "to_float64", "to_int64"]

_TRIM_ZERO_DECIMAL = re.compile(r"^(-?\d+)\.0*$")


def to_int64(value: Any) -> int:
    """Convert like ``cast.ToInt64``: numbers truncate, strings parse (``0x``/``0o``/``0b``/leading-0 octal), else 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return 0
        return int(value)
    if isinstance(value, str):
        text = value
        match = _TRIM_ZERO_DECIMAL.match(text)
        if match:
            text = match.group(1)
        try:
            return _parse_int_base0(text)
        except ValueError:
            return 0
    return 0


def _parse_int_base0(text: str) -> int:
    sign = 1
    body = text
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body or "_" in body and not body.lower().startswith(("0x", "0o", "0b")):
        raise ValueError(text)
    lowered = body.lower()
    if lowered.startswith("0x"):
        return sign * int(body[2:].replace("_", ""), 16)
    if lowered.startswith("0o"):
        return sign * int(body[2:].replace("_", ""), 8)
    if lowered.startswith("0b"):
        return sign * int(body[2:].replace("_", ""), 2)
    if len(body) > 1 and body[0] == "0":
        return sign * int(body[1:], 8)
    if not body.isdigit():
        raise ValueError(text)
    return sign * int(body)


def to_float64(value: Any) -> float:
    """Convert like ``cast.ToFloat64``: numbers as is, strings parsed, anything else 0."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value != value.strip() or "_" in value:
            return 0.0
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def _strval(value: Any) -> str:
    return value if isinstance(value, str) else go_sprint(value)


def _strslice(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_strval(item) for item in value if item is not None]
    if value is None:
        return []
    return [_strval(value)]


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"sprig.{name}: expected a string argument, got {go_sprint(value)!r}")
    return value


def _hex_digest(algorithm: str, text: str) -> str:
    import hashlib  # noqa: PLC0415 - OpenSSL, 2 ms: only when an expression asks for a digest

    return hashlib.new(algorithm, text.encode()).hexdigest()


def _uuid4() -> str:
    import uuid  # noqa: PLC0415 - with platform, 2 ms: only when an expression asks for one

    return str(uuid.uuid4())


def _b64dec(text: str) -> str:
    try:
        return base64.b64decode(_string(text, "b64dec"), validate=True).decode("utf-8", errors="replace")
    except (ValueError, base64.binascii.Error) as error:  # type: ignore[attr-defined]
        return f"illegal base64 data: {error}"


def _b32dec(text: str) -> str:
    try:
        return base64.b32decode(_string(text, "b32dec")).decode("utf-8", errors="replace")
    except (ValueError, base64.binascii.Error) as error:  # type: ignore[attr-defined]
        return f"illegal base32 data: {error}"


def _local_zone(zone: str) -> _dt.tzinfo | None:
    if zone in ("Local", ""):
        return None
    if zone == "UTC":
        return _dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(zone)
    except Exception:  # noqa: BLE001 - unknown zone: sprig falls back to UTC
        return _dt.timezone.utc


def _moment(date: Any) -> _dt.datetime:
    """Sprig's date argument: a time, or Unix seconds as an int; anything else means now."""
    if isinstance(date, _dt.datetime):
        return date if date.tzinfo is not None else date.replace(tzinfo=_dt.timezone.utc)
    if isinstance(date, int) and not isinstance(date, bool):
        return _dt.datetime.fromtimestamp(date, _dt.timezone.utc)
    return _dt.datetime.now(_dt.timezone.utc)


def _date_in_zone(layout: str, date: Any, zone: str) -> str:
    moment = _moment(date)
    target = _local_zone(zone)
    moment = moment.astimezone(target) if target is not None else moment.astimezone()
    return go_time_format(moment, layout)


def _to_date(layout: str, text: str) -> _dt.datetime:
    return parse_go_time(layout, text)


def _dfault(default: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return default
    return given[0]


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    return False


def _coalesce(*values: Any) -> Any:
    for value in values:
        if not _empty(value):
            return value
    return None


def _ternary(true_value: Any, false_value: Any, condition: Any) -> Any:
    return true_value if condition else false_value


def _dict(*pairs: Any) -> dict:
    result: dict = {}
    for index in range(0, len(pairs), 2):
        key = _strval(pairs[index])
        result[key] = pairs[index + 1] if index + 1 < len(pairs) else ""
    return result


def _list(*items: Any) -> list:
    return list(items)


def _get(mapping: dict, key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


def _has_key(mapping: dict, key: str) -> bool:
    return isinstance(mapping, dict) and key in mapping


def _keys(*mappings: dict) -> list:
    keys: list = []
    for mapping in mappings:
        keys.extend(mapping.keys())
    return keys


def _values(mapping: dict) -> list:
    return list(mapping.values())


def _as_list(value: Any, name: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"sprig.{name}: cannot find {name} on type {go_sprint(value)}")


def _first(value: Any) -> Any:
    items = _as_list(value, "first")
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = _as_list(value, "last")
    return items[-1] if items else None


def _rest(value: Any) -> list:
    return _as_list(value, "rest")[1:]


def _initial(value: Any) -> list:
    return _as_list(value, "initial")[:-1]


def _reverse(value: Any) -> list:
    return list(reversed(_as_list(value, "reverse")))


def _uniq(value: Any) -> list:
    out: list = []
    for item in _as_list(value, "uniq"):
        if item not in out:
            out.append(item)
    return out


def _has(needle: Any, haystack: Any) -> bool:
    return haystack is not None and needle in _as_list(haystack, "has")


def _without(value: Any, *omit: Any) -> list:
    return [item for item in _as_list(value, "without") if item not in omit]


def _append(value: Any, item: Any) -> list:
    return _as_list(value, "append") + [item]


def _prepend(value: Any, item: Any) -> list:
    return [item] + _as_list(value, "prepend")


def _concat(*lists: Any) -> list:
    out: list = []
    for value in lists:
        out.extend(_as_list(value, "concat"))
    return out


def _slice(value: Any, *indexes: Any) -> list:
    items = _as_list(value, "slice")
    if not indexes:
        return items
    start = to_int64(indexes[0])
    end = to_int64(indexes[1]) if len(indexes) > 1 else len(items)
    return items[start:end]


def _until_step(start: int, stop: int, step: int) -> list:
    if stop < start:
        return list(range(start, stop, step)) if step < 0 else []
    return list(range(start, stop, step)) if step > 0 else []


def _until(count: int) -> list:
    return _until_step(0, count, -1 if count < 0 else 1)


def _decimal(value: Any) -> Decimal:
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - see .gofmt's _shortest_digits

    try:
        return Decimal(repr(to_float64(value))) if not isinstance(value, int) or isinstance(value, bool) else Decimal(value)
    except InvalidOperation:
        return Decimal(0)


def _decimal_op(first: Any, rest: tuple, op: Callable[[Decimal, Decimal], Decimal]) -> float:
    result = _decimal(first)
    for value in rest:
        result = op(result, _decimal(value))
    return float(result)


def _go_div(a: int, b: int) -> int:
    """Go integer division: truncates toward zero (raises ``ZeroDivisionError`` for 0)."""
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _go_mod(a: int, b: int) -> int:
    """Go integer remainder: takes the sign of the dividend (raises ``ZeroDivisionError`` for 0)."""
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _round(value: Any, places: Any, *round_on: Any) -> float:
    threshold = to_float64(round_on[0]) if round_on else 0.5
    power = 10 ** to_float64(places)
    digit = power * to_float64(value)
    fraction = digit - math.trunc(digit)
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


def _substr(start: int, end: int, text: str) -> str:
    if start < 0:
        return text[:end]
    if end < 0 or end > len(text):
        return text[start:]
    return text[start:end]


def _trunc(count: int, text: str) -> str:
    if count < 0 and len(text) + count > 0:
        return text[len(text) + count :]
    if count >= 0 and len(text) > count:
        return text[:count]
    return text


def _quote(*values: Any) -> str:
    return " ".join(go_json(_strval(value), escape_html=False) for value in values if value is not None)


def _squote(*values: Any) -> str:
    return " ".join(f"'{go_sprint(value)}'" for value in values if value is not None)


def _cat(*values: Any) -> str:
    return " ".join(go_sprint(value) for value in values if value is not None)


def _indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _split(separator: str, text: str) -> dict:
    return {f"_{index}": part for index, part in enumerate(text.split(separator))}


def _splitn(separator: str, count: int, text: str) -> dict:
    parts = text.split(separator, count - 1) if count > 0 else ([] if count == 0 else text.split(separator))
    return {f"_{index}": part for index, part in enumerate(parts)}


def _regex_find_all(pattern: str, text: str, count: int) -> list:
    matches = [match.group() for match in re.finditer(pattern, text)]
    return matches if count < 0 else matches[:count]


def _regex_find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group() if match else ""


def _regex_replace_all(pattern: str, text: str, replacement: str) -> str:
    # Go expands $1 / ${1} / ${name} in the replacement.
    python_replacement = re.sub(r"\$\{?(\w+)\}?", lambda m: "\\g<" + m.group(1) + ">", replacement.replace("\\", "\\\\"))
    return re.sub(pattern, python_replacement, text)


def _regex_split(pattern: str, text: str, count: int) -> list:
    parts = re.split(pattern, text)
    return parts if count < 0 else parts[:count]


def _from_json(text: str) -> Any:
    try:
        return parse_go_json(text)
    except ValueError:
        return {}


def _to_json(value: Any) -> str:
    try:
        return go_json(value)
    except ValueError:
        return ""


def _to_pretty_json(value: Any) -> str:
    try:
        return go_json(value, indent="  ")
    except ValueError:
        return ""


def _to_raw_json(value: Any) -> str:
    try:
        return go_json(value, escape_html=False)
    except ValueError:
        return ""


def _duration(seconds: Any) -> str:
    if isinstance(seconds, str):
        try:
            number = int(seconds)
        except ValueError:
            number = 0
    elif isinstance(seconds, int) and not isinstance(seconds, bool):
        number = seconds
    else:
        number = 0
    return go_duration_string(_dt.timedelta(seconds=number))


def _title(text: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), text)


def _abs_path(path: str) -> bool:
    return path.startswith("/")


def _clean(path: str) -> str:
    return posixpath.normpath(path) if path else "."


SPRIG: dict[str, Callable[..., Any]] = {
    # strings
    "trim": lambda s: _string(s, "trim").strip(),
    "upper": lambda s: _string(s, "upper").upper(),
    "lower": lambda s: _string(s, "lower").lower(),
    "title": _title,
    "trimAll": lambda cutset, s: s.strip(cutset),
    "trimall": lambda cutset, s: s.strip(cutset),
    "trimPrefix": lambda prefix, s: s[len(prefix) :] if prefix and s.startswith(prefix) else s,
    "trimSuffix": lambda suffix, s: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
    "trunc": _trunc,
    "substr": _substr,
    "repeat": lambda count, s: s * max(count, 0),
    "replace": lambda old, new, s: s.replace(old, new),
    "contains": lambda sub, s: sub in s,
    "hasPrefix": lambda prefix, s: s.startswith(prefix),
    "hasSuffix": lambda suffix, s: s.endswith(suffix),
    "quote": _quote,
    "squote": _squote,
    "cat": _cat,
    "indent": _indent,
    "nindent": lambda spaces, s: "\n" + _indent(spaces, s),
    "nospace": lambda s: re.sub(r"\s", "", s),
    "plural": lambda one, many, count: one if count == 1 else many,
    "toString": _strval,
    "toStrings": _strslice,
    "join": lambda separator, value: separator.join(_strslice(value)),
    "split": _split,
    "splitn": _splitn,
    "splitList": lambda separator, s: s.split(separator) if separator else list(s),
    "sortAlpha": lambda value: sorted(_strslice(value)),
    # encodings
    "b64enc": lambda s: base64.b64encode(_string(s, "b64enc").encode()).decode("ascii"),
    "b64dec": _b64dec,
    "b32enc": lambda s: base64.b32encode(_string(s, "b32enc").encode()).decode("ascii"),
    "b32dec": _b32dec,
    "sha1sum": lambda s: _hex_digest("sha1", s),
    "sha256sum": lambda s: _hex_digest("sha256", s),
    "sha512sum": lambda s: _hex_digest("sha512", s),
    "adler32sum": lambda s: str(zlib.adler32(s.encode())),
    "uuidv4": _uuid4,
    "fromJson": _from_json,
    "toJson": _to_json,
    "toPrettyJson": _to_pretty_json,
    "toRawJson": _to_raw_json,
    # numbers
    "atoi": lambda s: to_int64(s) if re.fullmatch(r"[+-]?\d+", s or "") else 0,
    "int": to_int64,
    "int64": to_int64,
    "float64": to_float64,
    "add": lambda *values: sum(to_int64(v) for v in values),
    "add1": lambda value: to_int64(value) + 1,
    "sub": lambda a, b: to_int64(a) - to_int64(b),
    "mul": lambda a, *rest: math.prod([to_int64(a)] + [to_int64(v) for v in rest]),
    "div": lambda a, b: _go_div(to_int64(a), to_int64(b)),
    "mod": lambda a, b: _go_mod(to_int64(a), to_int64(b)),
    "max": lambda a, *rest: max([to_int64(a)] + [to_int64(v) for v in rest]),
    "biggest": lambda a, *rest: max([to_int64(a)] + [to_int64(v) for v in rest]),
    "min": lambda a, *rest: min([to_int64(a)] + [to_int64(v) for v in rest]),
    "maxf": lambda a, *rest: max([to_float64(a)] + [to_float64(v) for v in rest]),
    "minf": lambda a, *rest: min([to_float64(a)] + [to_float64(v) for v in rest]),
    "addf": lambda *values: _decimal_op(0.0, values, lambda x, y: x + y),
    "add1f": lambda value: _decimal_op(value, (1,), lambda x, y: x + y),
    "subf": lambda a, *rest: _decimal_op(a, rest, lambda x, y: x - y),
    "mulf": lambda a, *rest: _decimal_op(a, rest, lambda x, y: x * y),
    "divf": lambda a, *rest: _decimal_op(a, rest, lambda x, y: x / y),
    "floor": lambda value: float(math.floor(to_float64(value))),
    "ceil": lambda value: float(math.ceil(to_float64(value))),
    "round": _round,
    "until": _until,
    "untilStep": _until_step,
    # defaults and logic
    "default": _dfault,
    "empty": _empty,
    "coalesce": _coalesce,
    "ternary": _ternary,
    "all": lambda *values: all(not _empty(v) for v in values),
    "any": lambda *values: any(not _empty(v) for v in values),
    "compact": lambda value: [item for item in _as_list(value, "compact") if not _empty(item)],
    "deepEqual": lambda a, b: a == b,
    "typeOf": lambda value: {str: "string", bool: "bool", int: "int", float: "float64", list: "[]interface {}", dict: "map[string]interface {}"}.get(type(value), "<nil>" if value is None else type(value).__name__),
    # lists and dicts
    "list": _list,
    "tuple": _list,
    "dict": _dict,
    "get": _get,
    "hasKey": _has_key,
    "keys": _keys,
    "values": _values,
    "pluck": lambda key, *mappings: [m[key] for m in mappings if isinstance(m, dict) and key in m],
    "pick": lambda mapping, *keys: {k: v for k, v in mapping.items() if k in keys},
    "omit": lambda mapping, *keys: {k: v for k, v in mapping.items() if k not in keys},
    "first": _first,
    "last": _last,
    "rest": _rest,
    "initial": _initial,
    "reverse": _reverse,
    "uniq": _uniq,
    "has": _has,
    "without": _without,
    "append": _append,
    "push": _append,
    "prepend": _prepend,
    "concat": _concat,
    "slice": _slice,
    # dates
    "now": lambda: _dt.datetime.now().astimezone(),
    "date": lambda layout, date: _date_in_zone(layout, date, "Local"),
    "dateInZone": _date_in_zone,
    "date_in_zone": _date_in_zone,
    "htmlDate": lambda date: _date_in_zone("2006-01-02", date, "Local"),
    "htmlDateInZone": lambda date, zone: _date_in_zone("2006-01-02", date, zone),
    "unixEpoch": lambda moment: str(int(_moment(moment).timestamp())),
    "toDate": _to_date,
    "mustToDate": _to_date,
    "dateModify": lambda text, moment: moment,  # replaced below (needs the duration parser)
    "duration": _duration,
    # regular expressions
    "regexMatch": lambda pattern, text: re.search(pattern, text) is not None,
    "regexFind": _regex_find,
    "regexFindAll": _regex_find_all,
    "regexReplaceAll": _regex_replace_all,
    "regexReplaceAllLiteral": lambda pattern, text, replacement: re.sub(pattern, lambda _m: replacement, text),
    "regexSplit": _regex_split,
    "regexQuoteMeta": re.escape,
    # paths
    "base": lambda path: posixpath.basename(path.rstrip("/")) or ("/" if path.startswith("/") else "."),
    "dir": lambda path: posixpath.dirname(path) or ".",
    "clean": _clean,
    "ext": lambda path: os.path.splitext(path)[1],
    "isAbs": _abs_path,
}


def _date_modify(text: str, moment: _dt.datetime) -> _dt.datetime:
    try:
        return moment + parse_go_duration(text)
    except ValueError:
        return moment


SPRIG["dateModify"] = _date_modify
SPRIG["date_modify"] = _date_modify
