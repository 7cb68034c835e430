"""Go durations: one parser with ``time.ParseDuration``'s grammar, checked against Go's own test cases."""

from __future__ import annotations

import datetime as dt

import pytest

from workflows.durations import InvalidDuration, duration_seconds, go_duration_ns, is_go_duration, parse_go_duration
from workflows.errors import WorkflowsError

NS, US, MS, S, M, H = 1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000

# Go 1.22 src/time/time_test.go parseDurationTests (inputs and expected nanoseconds).
GO_VALID = [
    ("0", 0), ("5s", 5 * S), ("30s", 30 * S), ("1478s", 1478 * S),
    ("-5s", -5 * S), ("+5s", 5 * S), ("-0", 0), ("+0", 0),
    ("5.0s", 5 * S), ("5.6s", 5 * S + 600 * MS), ("5.s", 5 * S), (".5s", 500 * MS), ("1.0s", S),
    ("1.00s", S), ("1.004s", S + 4 * MS), ("1.0040s", S + 4 * MS), ("100.00100s", 100 * S + MS),
    ("10ns", 10 * NS), ("11us", 11 * US), ("12\u00b5s", 12 * US), ("12\u03bcs", 12 * US), ("13ms", 13 * MS),
    ("14s", 14 * S), ("15m", 15 * M), ("16h", 16 * H),
    ("3h30m", 3 * H + 30 * M), ("10.5s4m", 4 * M + 10 * S + 500 * MS), ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
    ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS), ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
    ("52763797000ns", 52763797000), ("0.3333333333333333333h", 20 * M), ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", (1 << 63) - 1), ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1), ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)), ("-9223372036s854ms775us808ns", -(1 << 63)),
    ("-2562047h47m16.854775808s", -(1 << 63)), ("0.100000000000000000000h", 6 * M),
    ("0.830103483285477580700h", 49 * M + 48 * S + 372539827),
]

# Go's parseDurationErrorTests, with the kind of message Go gives.
GO_INVALID = [
    ("", "invalid duration"), ("3", "missing unit"), ("-", "invalid duration"), ("s", "invalid duration"),
    (".", "invalid duration"), ("-.", "invalid duration"), (".s", "invalid duration"), ("+.s", "invalid duration"),
    ("1d", 'unknown unit "d"'), ("\x85\x85", "invalid duration"), ("\uFFFD", "invalid duration"),
    ("9223372036854775810ns", "invalid duration"), ("9223372036854775808ns", "invalid duration"),
    ("-9223372036854775809ns", "invalid duration"), ("9223372036854776us", "invalid duration"),
    ("3000000h", "invalid duration"), ("9223372036854775.808us", "invalid duration"),
    ("9223372036854ms775us808ns", "invalid duration"),
    # beyond Go's table: a space is part of the unit, digits must be ASCII, units are case-sensitive
    ("1 s", 'unknown unit " s"'), ("\u0661s", "invalid duration"), ("1S", 'unknown unit "S"'), ("1h ", 'unknown unit "h "'),
]


@pytest.mark.parametrize(("text", "nanoseconds"), GO_VALID)
def test_go_accepts(text, nanoseconds):
    assert go_duration_ns(text) == nanoseconds
    assert is_go_duration(text)


@pytest.mark.parametrize(("text", "message"), GO_INVALID)
def test_go_refuses(text, message):
    with pytest.raises(InvalidDuration, match=message) as caught:
        go_duration_ns(text)
    assert f'"{text}"' in str(caught.value)
    assert isinstance(caught.value, WorkflowsError) and isinstance(caught.value, ValueError)
    assert not is_go_duration(text)


def test_timedelta_and_seconds():
    assert parse_go_duration("1h30m") == dt.timedelta(minutes=90)
    assert parse_go_duration("-1.5s") == dt.timedelta(seconds=-1.5)
    assert parse_go_duration("1500ns") == dt.timedelta(microseconds=2)  # Python keeps microseconds
    assert duration_seconds("3.s") == 3.0  # the copy this parser replaced read it as 0
    assert duration_seconds(".5s") == 0.5
    assert duration_seconds(" 90 ") == 90.0
    assert duration_seconds(7) == 7.0
    assert duration_seconds("1m30s") == 90.0
    with pytest.raises(InvalidDuration, match=r"'3d' is not a duration .*unknown unit \"d\""):
        duration_seconds("3d")
    assert duration_seconds("-5") == -5.0 and duration_seconds("+5") == 5.0
    assert duration_seconds(2.5) == 2.5  # a YAML number
    for text in ("1.5", "1e3", "nan", "inf", "", "\u0661"):  # strings Argo's Atoi and ParseDuration both refuse
        with pytest.raises(InvalidDuration, match="is not a duration"):
            duration_seconds(text)
    with pytest.raises(InvalidDuration, match="is not a duration"):
        duration_seconds(True)
