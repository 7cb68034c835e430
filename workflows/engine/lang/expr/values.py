"""Go semantics of expr-lang values: equality, ordering, arithmetic, member access, slices, and the methods of
``time.Time`` and ``time.Duration`` values (``(now() - t).Seconds()``).

Failures raise :class:`_Fail` (turned into :class:`~workflows.engine.lang.errors.ExpressionError` naming the
expression by :mod:`.evaluator`); ``a?.b`` on nil raises :class:`_NilChain`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Mapping
from typing import Any, Callable

from ....errors import WorkflowsError
from ..gofmt import ORDERINGS, go_duration_string, go_sprint, go_time_format, go_time_string, go_type_name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _aware(moment: _dt.datetime) -> _dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.timezone.utc)


class _Fail(WorkflowsError):
    """An evaluation error, turned into :class:`ExpressionError` naming the expression."""


class _NilChain(WorkflowsError):
    """``a?.b`` met a nil ``a``: the whole chain is nil."""


def _type(value: Any) -> str:
    return go_type_name(value)


def go_equal(a: Any, b: Any) -> bool:
    """expr's ``==``: numbers across int/float, strings, bools, times; lists element-wise; else deep equality."""
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        return _aware(a) == _aware(b)
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(go_equal(x, y) for x, y in zip(a, b))
    return _deep_equal(a, b)


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (isinstance(a, float) and isinstance(b, float)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values are unequal
        return False


def _less(a: Any, b: Any, op: str) -> bool:
    if _is_number(a) and _is_number(b) or isinstance(a, str) and isinstance(b, str):
        pass
    elif isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        a, b = _aware(a), _aware(b)
    elif isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        pass
    else:
        raise _Fail(f"invalid operation: {_type(a)} {op} {_type(b)}")
    return ORDERINGS[op](a, b)


def _add(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a + b
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.timedelta):
        return a + b
    if isinstance(a, _dt.timedelta) and isinstance(b, (_dt.datetime, _dt.timedelta)):
        return b + a
    raise _Fail(f"invalid operation: {_type(a)} + {_type(b)}")


def _subtract(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a - b
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        return _aware(a) - _aware(b)
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.timedelta):
        return a - b
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        return a - b
    raise _Fail(f"invalid operation: {_type(a)} - {_type(b)}")


def _multiply(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a * b
    if isinstance(a, _dt.timedelta) and _is_number(b):
        return a * b
    if _is_number(a) and isinstance(b, _dt.timedelta):
        return b * a
    raise _Fail(f"invalid operation: {_type(a)} * {_type(b)}")


def _divide(a: Any, b: Any) -> float:
    if not (_is_number(a) and _is_number(b)):
        raise _Fail(f"invalid operation: {_type(a)} / {_type(b)}")
    a, b = float(a), float(b)
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: Any, b: Any) -> int:
    if not (_is_int(a) and _is_int(b)):
        raise _Fail(f"invalid operation: {_type(a)} % {_type(b)}")
    if b == 0:
        raise _Fail("integer divide by zero")
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _power(a: Any, b: Any) -> float:
    if not (_is_number(a) and _is_number(b)):
        raise _Fail(f"invalid operation: {_type(a)} ** {_type(b)}")
    try:
        return math.pow(float(a), float(b))
    except OverflowError:
        return math.inf
    except ValueError:
        if float(a) == 0:
            return math.inf
        return math.nan


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(go_equal(item, needle) for item in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise _Fail(f'operator "in" not defined on {_type(haystack)}')


def _strings(a: Any, b: Any, op: str) -> tuple[str, str]:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise _Fail(f"invalid operation: {_type(a)} {op} {_type(b)}")
    return a, b


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(_go_regex(pattern))
    except re.error as error:
        raise _Fail(f"error parsing regexp: {error}: `{pattern}`") from None


def _go_regex(pattern: str) -> str:
    """Translate the few RE2 spellings Python lacks (``\\z``, ``(?P<name>`` is shared, ``\\Q..\\E``)."""
    return pattern.replace("\\z", "\\Z")


def _contains(a: Any, b: Any) -> bool:
    text, sub = _strings(a, b, "contains")
    return sub in text


def _starts_with(a: Any, b: Any) -> bool:
    text, prefix = _strings(a, b, "startsWith")
    return text.startswith(prefix)


def _ends_with(a: Any, b: Any) -> bool:
    text, suffix = _strings(a, b, "endsWith")
    return text.endswith(suffix)


def _matches(a: Any, b: Any) -> bool:
    text, pattern = _strings(a, b, "matches")
    return _regex(pattern).search(text) is not None


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _Fail(f"invalid operation: {what} (mismatched type {_type(value)}, expected bool)")


def _to_index(value: Any) -> int:
    if _is_int(value):
        return value
    if isinstance(value, float):
        return int(value)
    raise _Fail(f"invalid operation: int({_type(value)})")


def _fetch(base: Any, key: Any, optional: bool = False) -> Any:
    if base is None:
        if optional:
            raise _NilChain()
        raise _Fail(f"cannot fetch {go_sprint(key)} from <nil>")
    if isinstance(base, Mapping):
        if not isinstance(key, str) and not _is_number(key) and key is not None:
            raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")
        if not isinstance(key, str) and key is not None:
            raise _Fail(f"cannot use {_type(key)} as map key of {_type(base)}")
        return base.get(key)
    if isinstance(base, (list, tuple, str)):
        if not _is_number(key):
            raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")
        index = _to_index(key)
        data: Any = base.encode("utf-8") if isinstance(base, str) else base
        size = len(data)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise _Fail(f"index out of range: {index} (array length is {size})")
        return data[index]
    raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")


def _slice(base: Any, low: Any, high: Any) -> Any:
    if isinstance(base, (list, tuple, str)):
        data: Any = base.encode("utf-8") if isinstance(base, str) else base
        size = len(data)
        a = 0 if low is None else _to_index(low)
        b = size if high is None else _to_index(high)
        a = max(a + size if a < 0 else a, 0)
        b = min(max(b + size if b < 0 else b, 0), size)
        a = min(a, b)
        result = data[a:b]
        return result.decode("utf-8", errors="replace") if isinstance(base, str) else list(result)
    raise _Fail(f"cannot slice {_type(base)}")


# -- methods of Go values (time.Time, time.Duration)


def _duration_methods(value: _dt.timedelta) -> dict:
    nanos = (value.days * 86400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    return {
        "Seconds": lambda: nanos / 1e9,
        "Minutes": lambda: nanos / 6e10,
        "Hours": lambda: nanos / 3.6e12,
        "Milliseconds": lambda: int(nanos / 1_000_000),
        "Microseconds": lambda: int(nanos / 1000),
        "Nanoseconds": lambda: nanos,
        "String": lambda: go_duration_string(value),
        "Abs": lambda: abs(value),
    }


def _time_methods(value: _dt.datetime) -> dict:
    moment = _aware(value)
    return {
        "Unix": lambda: int(moment.timestamp()),
        "UnixMilli": lambda: int(moment.timestamp() * 1000),
        "UnixNano": lambda: int(moment.timestamp() * 1e9),
        "Year": lambda: moment.year,
        "Month": lambda: moment.month,
        "Day": lambda: moment.day,
        "Hour": lambda: moment.hour,
        "Minute": lambda: moment.minute,
        "Second": lambda: moment.second,
        "Nanosecond": lambda: moment.microsecond * 1000,
        "YearDay": lambda: moment.timetuple().tm_yday,
        "Weekday": lambda: (moment.weekday() + 1) % 7,
        "Format": lambda layout: go_time_format(moment, layout),
        "String": lambda: go_time_string(moment),
        "UTC": lambda: moment.astimezone(_dt.timezone.utc),
        "Local": lambda: moment.astimezone(),
        "Add": lambda delta: moment + delta,
        "Sub": lambda other: moment - _aware(other),
        "AddDate": lambda years, months, days: _add_date(moment, years, months, days),
        "Before": lambda other: moment < _aware(other),
        "After": lambda other: moment > _aware(other),
        "Equal": lambda other: moment == _aware(other),
        "IsZero": lambda: moment == _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc),
        "Truncate": lambda delta: _truncate(moment, delta),
    }


def _add_date(moment: _dt.datetime, years: int, months: int, days: int) -> _dt.datetime:
    month_index = moment.month - 1 + months
    year = moment.year + years + month_index // 12
    month = month_index % 12 + 1
    day = moment.day
    base = moment.replace(year=year, month=month, day=1)
    return base + _dt.timedelta(days=day - 1 + days)


def _truncate(moment: _dt.datetime, delta: _dt.timedelta) -> _dt.datetime:
    if delta <= _dt.timedelta(0):
        return moment
    epoch = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
    return moment - ((moment - epoch) % delta)


def _method(base: Any, name: str) -> Callable[..., Any]:
    if isinstance(base, Mapping):
        function = base.get(name)
        if function is None:
            raise _Fail(f"cannot fetch {name} from {_type(base)}")
        if not callable(function):
            raise _Fail(f"{name} is not a function (type {_type(function)})")
        return function
    if isinstance(base, _dt.timedelta):
        methods = _duration_methods(base)
    elif isinstance(base, _dt.datetime):
        methods = _time_methods(base)
    elif base is None:
        raise _Fail(f"cannot fetch {name} from <nil>")
    else:
        methods = {}
    if name not in methods:
        raise _Fail(f"type {_type(base)} has no method {name}")
    return methods[name]
