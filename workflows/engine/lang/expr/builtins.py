"""expr-lang's builtin functions (``len``, ``trim``, ``toJSON``, ``date``, ``bitand``...) and the functions Argo
adds to every environment (:data:`ARGO_FUNCTIONS`: ``asInt``, ``asFloat``, ``jsonpath``, ``toJson``, ``sprig``).

The predicate builtins that take a closure (``all``, ``filter``, ``reduce``...) are compiled by :mod:`.evaluator`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ....durations import parse_go_duration
from ..gofmt import go_json, go_sprint, parse_go_json
from ..gotime import parse_go_time
from ....errors import JSONPathError
from ..sprig import SPRIG
from .values import _fetch, _Fail, _is_int, _is_number, _to_index, _type, go_equal


def _arity(name: str, args: Sequence, *counts: int) -> None:
    if len(args) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise _Fail(f"invalid number of arguments for {name} (expected {expected}, got {len(args)})")


def _str_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Fail(f"invalid argument for {name} (type {_type(value)})")
    return value


def _builtin_int(value: Any) -> int:
    if _is_int(value):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return -(2**63)
        return int(value)
    if isinstance(value, str):
        if re.fullmatch(r"[+-]?\d+", value):
            return int(value)
        raise _Fail(f"invalid operation: int({value})")
    raise _Fail(f"invalid operation: int({_type(value)})")


_GO_FLOAT_RE = re.compile(r"[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d+)?|\d+\.|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])\Z")


def _builtin_float(value: Any) -> float:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        if _GO_FLOAT_RE.match(value) and "_" not in value:
            return float(value)
        raise _Fail(f"invalid operation: float({value})")
    raise _Fail(f"invalid operation: float({_type(value)})")


def _builtin_len(value: Any) -> int:
    if isinstance(value, (list, tuple, Mapping, str)):
        return len(value)
    raise _Fail(f"invalid argument for len (type {_type(value)})")


def _builtin_type(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, _dt.datetime):
        return "time.Time"
    if isinstance(value, _dt.timedelta):
        return "time.Duration"
    if callable(value):
        return "func"
    return "unknown"


def _round_half_away(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    rounded = math.floor(abs(value) + 0.5)
    if abs(value) + 0.5 == rounded and rounded - abs(value) != 0.5:
        rounded -= 1
    return math.copysign(rounded, value)


def _numeric_unary(name: str, function: Callable[[float], float]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not _is_number(value):
            raise _Fail(f"invalid argument for {name} (type {_type(value)})")
        return function(float(value))

    return apply


def _builtin_abs(value: Any) -> Any:
    if not _is_number(value):
        raise _Fail(f"invalid argument for abs (type {_type(value)})")
    return abs(value)


def _flatten_numbers(name: str, args: Sequence, out: list) -> list:
    for arg in args:
        if isinstance(arg, (list, tuple)):
            _flatten_numbers(name, arg, out)
        elif _is_number(arg):
            out.append(arg)
        else:
            raise _Fail(f"invalid argument for {name} (type {_type(arg)})")
    return out


def _builtin_minmax(name: str) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) == 1 and not isinstance(args[0], (list, tuple)) and not _is_number(args[0]):
            return args[0]
        values = _flatten_numbers(name, args, [])
        if not values:
            return None
        best = values[0]
        for value in values[1:]:
            if (value > best) if name == "max" else (value < best):
                best = value
        return best

    return apply


def _builtin_mean(*args: Any) -> float:
    values = _flatten_numbers("mean", args, [])
    return float(sum(values)) / len(values) if values else 0.0


def _builtin_median(*args: Any) -> float:
    values = sorted(float(v) for v in _flatten_numbers("median", args, []))
    if not values:
        return 0.0
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _builtin_trim(*args: Any) -> str:
    _arity("trim", args, 1, 2)
    text = _str_arg("trim", args[0])
    return text.strip() if len(args) == 1 else text.strip(_str_arg("trim", args[1]))


def _builtin_trim_prefix(*args: Any) -> str:
    _arity("trimPrefix", args, 1, 2)
    text = _str_arg("trimPrefix", args[0])
    prefix = _str_arg("trimPrefix", args[1]) if len(args) == 2 else " "
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def _builtin_trim_suffix(*args: Any) -> str:
    _arity("trimSuffix", args, 1, 2)
    text = _str_arg("trimSuffix", args[0])
    suffix = _str_arg("trimSuffix", args[1]) if len(args) == 2 else " "
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _go_split(text: str, separator: str, count: int = -1, after: bool = False) -> list:
    if count == 0:
        return []
    if separator == "":
        parts = list(text)
        if count > 0 and len(parts) > count:
            parts = parts[: count - 1] + ["".join(parts[count - 1 :])]
        return parts
    pieces = text.split(separator, count - 1 if count > 0 else -1)
    if after:
        return [piece + separator for piece in pieces[:-1]] + [pieces[-1]]
    return pieces


def _builtin_split(*args: Any) -> list:
    _arity("split", args, 2, 3)
    count = _to_index(args[2]) if len(args) == 3 else -1
    return _go_split(_str_arg("split", args[0]), _str_arg("split", args[1]), count)


def _builtin_split_after(*args: Any) -> list:
    _arity("splitAfter", args, 2, 3)
    count = _to_index(args[2]) if len(args) == 3 else -1
    return _go_split(_str_arg("splitAfter", args[0]), _str_arg("splitAfter", args[1]), count, after=True)


def _builtin_replace(*args: Any) -> str:
    _arity("replace", args, 3, 4)
    text, old, new = (_str_arg("replace", a) for a in args[:3])
    count = _to_index(args[3]) if len(args) == 4 else -1
    return text.replace(old, new, count if count >= 0 else -1)


def _builtin_repeat(text: Any, count: Any) -> str:
    number = _to_index(count)
    if number < 0:
        raise _Fail(f"invalid argument for repeat (expected positive integer, got {number})")
    if number > 1_000_000:
        raise _Fail("memory budget exceeded")
    return _str_arg("repeat", text) * number


def _builtin_join(*args: Any) -> str:
    _arity("join", args, 1, 2)
    glue = _str_arg("join", args[1]) if len(args) == 2 else ""
    items = args[0]
    if not isinstance(items, (list, tuple)):
        raise _Fail(f"invalid argument for join (type {_type(items)})")
    for item in items:
        if not isinstance(item, str):
            raise _Fail(f"interface conversion: interface {{}} is {_type(item)}, not string")
    return glue.join(items)


def _byte_index(text: Any, sub: Any, last: bool = False) -> int:
    haystack = _str_arg("indexOf", text).encode("utf-8")
    needle = _str_arg("indexOf", sub).encode("utf-8")
    return haystack.rfind(needle) if last else haystack.find(needle)


def _builtin_to_json(value: Any) -> str:
    try:
        return go_json(value, indent="  ")
    except ValueError as error:
        raise _Fail(str(error)) from None


def _builtin_from_json(text: Any) -> Any:
    try:
        return parse_go_json(_str_arg("fromJSON", text))
    except ValueError as error:
        raise _Fail(f"fromJSON: {error}") from None


def _builtin_from_base64(text: Any) -> str:
    try:
        return base64.b64decode(_str_arg("fromBase64", text), validate=True).decode("utf-8", errors="replace")
    except ValueError as error:
        raise _Fail(f"illegal base64 data: {error}") from None


def _builtin_now(*args: Any) -> _dt.datetime:
    if not args:
        return _dt.datetime.now().astimezone()
    if len(args) == 1 and isinstance(args[0], _dt.tzinfo):
        return _dt.datetime.now(args[0])
    raise _Fail(f"invalid number of arguments (expected 0, got {len(args)})")


def _builtin_timezone(name: Any) -> _dt.tzinfo:
    name = _str_arg("timezone", name)
    if name == "UTC":
        return _dt.timezone.utc
    if name == "Local":
        return _dt.datetime.now().astimezone().tzinfo  # type: ignore[return-value]
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001
        raise _Fail(f"unknown time zone {name}") from None


_DEFAULT_DATE_LAYOUTS = (
    "2006-01-02",
    "15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05Z07:00",
    "02 Jan 06 15:04 MST",
    "Monday, 02-Jan-06 15:04:05 MST",
    "Mon, 02 Jan 2006 15:04:05 MST",
)


def _builtin_date(*args: Any) -> _dt.datetime:
    zone: _dt.tzinfo | None = None
    if args and isinstance(args[0], _dt.tzinfo):
        zone = args[0]
        args = args[1:]
    if not 1 <= len(args) <= 3:
        raise _Fail(f"invalid number of arguments (expected 1 to 3, got {len(args)})")
    text = _str_arg("date", args[0])
    if len(args) >= 2:
        if len(args) == 3:
            zone = _builtin_timezone(args[2])
        try:
            return parse_go_time(_str_arg("date", args[1]), text, zone)
        except ValueError as error:
            raise _Fail(str(error)) from None
    for layout in _DEFAULT_DATE_LAYOUTS:
        try:
            return parse_go_time(layout, text, zone)
        except ValueError:
            continue
    raise _Fail(f"invalid date {text}")


def _builtin_duration(text: Any) -> _dt.timedelta:
    try:
        return parse_go_duration(_str_arg("duration", text))
    except ValueError as error:
        raise _Fail(str(error)) from None


def _builtin_first_last(index: int) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value:
            return value[index]
        return None

    return apply


def _builtin_get(*args: Any) -> Any:
    _arity("get", args, 2)
    base, key = args
    if base is None:
        return None
    if isinstance(base, Mapping):
        try:
            return base.get(key)
        except TypeError:
            return None
    if isinstance(base, (list, tuple, str)):
        if not _is_number(key):
            return None
        try:
            return _fetch(base, key)
        except _Fail:
            return None
    return None


def _builtin_take(items: Any, count: Any) -> list:
    if not isinstance(items, (list, tuple)):
        raise _Fail(f"cannot take from {_type(items)}")
    if not _is_int(count):
        raise _Fail(f"cannot take {_type(count)} elements")
    return list(items[: max(count, 0)])


def _mapping_arg(name: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        raise _Fail(f"cannot get {name} from {_type(value)}")
    return value


def _builtin_from_pairs(pairs: Any) -> dict:
    if not isinstance(pairs, (list, tuple)):
        raise _Fail(f"cannot transform {_type(pairs)} from pairs")
    out: dict = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _Fail(f"invalid pair {go_sprint(pair)}")
        out[pair[0]] = pair[1]
    return out


def _list_arg(name: str, value: Any) -> list:
    if not isinstance(value, (list, tuple)):
        raise _Fail(f"cannot {name} {_type(value)}")
    return list(value)


def _builtin_uniq(items: Any) -> list:
    out: list = []
    for item in _list_arg("uniq", items):
        if not any(go_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _builtin_concat(*lists: Any) -> list:
    if not lists:
        raise _Fail("invalid number of arguments (expected at least 1, got 0)")
    out: list = []
    for value in lists:
        out.extend(_list_arg("concat", value))
    return out


def _builtin_flatten(items: Any) -> list:
    out: list = []

    def walk(values: Sequence) -> None:
        for value in values:
            if isinstance(value, (list, tuple)):
                walk(value)
            else:
                out.append(value)

    walk(_list_arg("flatten", items))
    return out


def _sort_key(value: Any) -> Any:
    if _is_number(value):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    raise _Fail(f"cannot sort {_type(value)}")


def _builtin_sort(*args: Any) -> list:
    _arity("sort", args, 1, 2)
    items = _list_arg("sort", args[0])
    descending = False
    if len(args) == 2:
        if args[1] not in ("asc", "desc"):
            raise _Fail(f"invalid order {go_sprint(args[1])}, expected asc or desc")
        descending = args[1] == "desc"
    return sorted(items, key=_sort_key, reverse=descending)


def _bit(name: str, function: Callable[[int, int], int]) -> Callable[..., int]:
    def apply(*args: Any) -> int:
        _arity(name, args, 2)
        if not (_is_int(args[0]) and _is_int(args[1])):
            raise _Fail(f"cannot use {_type(args[0] if not _is_int(args[0]) else args[1])} as argument (type int) to call {name}")
        return function(args[0], args[1])

    return apply


def _bitnot(value: Any) -> int:
    if not _is_int(value):
        raise _Fail(f"cannot use {_type(value)} as argument (type int) to call bitnot")
    return ~value


def _shift(a: int, b: int, right: bool) -> int:
    if b < 0:
        raise _Fail(f"invalid operation: negative shift count {b} (type int)")
    return a >> b if right else (a << b) & 0xFFFFFFFFFFFFFFFF


_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _builtin_len,
    "type": _builtin_type,
    "abs": _builtin_abs,
    "ceil": _numeric_unary("ceil", lambda x: float(math.ceil(x)) if math.isfinite(x) else x),
    "floor": _numeric_unary("floor", lambda x: float(math.floor(x)) if math.isfinite(x) else x),
    "round": _numeric_unary("round", _round_half_away),
    "int": _builtin_int,
    "float": _builtin_float,
    "string": go_sprint,
    "trim": _builtin_trim,
    "trimPrefix": _builtin_trim_prefix,
    "trimSuffix": _builtin_trim_suffix,
    "upper": lambda text: _str_arg("upper", text).upper(),
    "lower": lambda text: _str_arg("lower", text).lower(),
    "split": _builtin_split,
    "splitAfter": _builtin_split_after,
    "replace": _builtin_replace,
    "repeat": _builtin_repeat,
    "join": _builtin_join,
    "indexOf": lambda text, sub: _byte_index(text, sub),
    "lastIndexOf": lambda text, sub: _byte_index(text, sub, last=True),
    "hasPrefix": lambda text, prefix: _str_arg("hasPrefix", text).startswith(_str_arg("hasPrefix", prefix)),
    "hasSuffix": lambda text, suffix: _str_arg("hasSuffix", text).endswith(_str_arg("hasSuffix", suffix)),
    "max": _builtin_minmax("max"),
    "min": _builtin_minmax("min"),
    "mean": _builtin_mean,
    "median": _builtin_median,
    "toJSON": _builtin_to_json,
    "fromJSON": _builtin_from_json,
    "toBase64": lambda text: base64.b64encode(_str_arg("toBase64", text).encode("utf-8")).decode("ascii"),
    "fromBase64": _builtin_from_base64,
    "now": _builtin_now,
    "duration": _builtin_duration,
    "date": _builtin_date,
    "timezone": _builtin_timezone,
    "first": _builtin_first_last(0),
    "last": _builtin_first_last(-1),
    "get": _builtin_get,
    "take": _builtin_take,
    "keys": lambda value: list(_mapping_arg("keys", value).keys()),
    "values": lambda value: list(_mapping_arg("values", value).values()),
    "toPairs": lambda value: [[k, v] for k, v in _mapping_arg("pairs", value).items()],
    "fromPairs": _builtin_from_pairs,
    "reverse": lambda items: list(reversed(_list_arg("reverse", items))),
    "uniq": _builtin_uniq,
    "concat": _builtin_concat,
    "flatten": _builtin_flatten,
    "sort": _builtin_sort,
    "bitand": _bit("bitand", lambda a, b: a & b),
    "bitor": _bit("bitor", lambda a, b: a | b),
    "bitxor": _bit("bitxor", lambda a, b: a ^ b),
    "bitnand": _bit("bitnand", lambda a, b: a & ~b),
    "bitshl": _bit("bitshl", lambda a, b: _shift(a, b, right=False)),
    "bitshr": _bit("bitshr", lambda a, b: _shift(a, b, right=True)),
    "bitushr": _bit("bitushr", lambda a, b: _shift(a & 0xFFFFFFFFFFFFFFFF, b, right=True)),
    "bitnot": lambda value: _bitnot(value),
}
_BUILTIN_ARITY = {
    "len": (1,), "type": (1,), "abs": (1,), "ceil": (1,), "floor": (1,), "round": (1,), "int": (1,), "float": (1,),
    "string": (1,), "upper": (1,), "lower": (1,), "repeat": (2,), "indexOf": (2,), "lastIndexOf": (2,),
    "hasPrefix": (2,), "hasSuffix": (2,), "toJSON": (1,), "fromJSON": (1,), "toBase64": (1,), "fromBase64": (1,),
    "duration": (1,), "timezone": (1,), "first": (1,), "last": (1,), "take": (2,), "keys": (1,), "values": (1,),
    "toPairs": (1,), "fromPairs": (1,), "reverse": (1,), "uniq": (1,), "flatten": (1,), "bitnot": (1,),
}


# -- Argo's additions to the environment (util/expr/env.GetFuncMap)


def _argo_to_json(value: Any) -> str:
    try:
        return go_json(value)
    except ValueError as error:
        raise _Fail(str(error)) from None


def _argo_jsonpath(document: Any, path: Any) -> Any:
    if not isinstance(document, str):
        raise _Fail(f"jsonpath: the JSON argument must be a string, got {_type(document)} {go_sprint(document)!r}")
    if not isinstance(path, str):
        raise _Fail(f"jsonpath: the path argument must be a string, got {_type(path)}")
    try:
        data = parse_go_json(document)
    except ValueError as error:
        raise _Fail(f"jsonpath: invalid JSON {document!r}: {error}") from None
    from ..jsonpath import query  # noqa: PLC0415 - 1.4 ms of every runner's start otherwise; few workflows use it

    try:
        return query(path, data)
    except JSONPathError as error:
        raise _Fail(f"jsonpath {path!r}: {error}") from None


#: The functions Argo adds to every expression environment (``asInt``/``asFloat`` are expr's ``int``/``float``).
ARGO_FUNCTIONS: dict[str, Any] = {
    "asInt": _builtin_int,
    "asFloat": _builtin_float,
    "jsonpath": _argo_jsonpath,
    "toJson": _argo_to_json,
    "sprig": SPRIG,
}

#: Names Argo leaves unresolved (the tag stays verbatim) when an expression uses them before they exist.
LATE_BOUND_NAMES = (
    "item",
    "retries",
    "lastRetry.exitCode",
    "lastRetry.status",
    "lastRetry.duration",
    "lastRetry.message",
    "workflow.status",
    "workflow.failures",
)
