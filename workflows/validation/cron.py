"""CronWorkflow schedules, checked like ``cron.ParseStandard`` of robfig/cron v3 (what Argo uses)."""

from __future__ import annotations

import functools
import zoneinfo

from ..durations import is_go_duration
from .access import sequence
from .problems import MISSING, Problem, child, item

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = {name: number for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DAYS = {name: number for number, name in enumerate("sun mon tue wed thu fri sat".split())}
#: (name, lowest, highest, names) of the five standard fields.
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)


def schedule_error(schedule: str) -> str | None:
    """Return why the cron ``schedule`` is malformed, or ``None`` when it parses."""
    spec = schedule.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        _, _, spec = spec.partition(" ")
        spec = spec.strip()
    if not spec:
        return "empty schedule"
    if spec.startswith("@"):
        if spec.startswith("@every "):
            duration = spec[len("@every ") :].strip()
            return None if is_go_duration(duration) else f"invalid duration {duration!r}"
        return None if spec in DESCRIPTORS else f"unknown descriptor {spec!r}"
    fields = spec.split()
    if len(fields) != len(_FIELDS):
        return (
            f"expected exactly {len(_FIELDS)} fields (minute hour day-of-month month day-of-week), found {len(fields)}"
        )
    for text, (name, low, high, names) in zip(fields, _FIELDS):
        for part in text.split(","):
            error = _range_error(part, low, high, names)
            if error:
                return f"{name} field {text!r}: {error}"
    return None


def _range_error(part: str, low: int, high: int, names: dict[str, int]) -> str | None:
    span, slash, step = part.partition("/")
    if slash and not (_is_number(step) and int(step) > 0):
        return f"invalid step {step!r}"
    if span in ("*", "?"):
        return None
    bounds = span.split("-")
    if len(bounds) > 2:
        return f"invalid range {span!r}"
    values = []
    for bound in bounds:
        value = names.get(bound.lower(), int(bound) if _is_number(bound) else None)
        if value is None:
            return f"invalid value {bound!r}"
        if not low <= value <= high:
            return f"{bound!r} is outside {low}-{high}"
        values.append(value)
    if values[0] > values[-1]:
        return f"range {span!r} starts after its end"
    return None


def check_cron_spec(spec: dict, path: str) -> list[Problem]:
    """Check the scheduling fields of a CronWorkflow's ``spec`` (at ``path``), like Argo's ``ValidateCronWorkflow``."""
    problems: list[Problem] = []
    schedule = spec.get("schedule")
    schedules = spec.get("schedules")
    if schedule and schedules:
        problems.append(Problem(path, "set either schedule or schedules, not both"))
    elif not schedule and not schedules:
        problems.append(Problem(child(path, "schedules"), MISSING))
    given = [(child(path, "schedule"), schedule)] if schedule else []
    given += [(item(child(path, "schedules"), index), value) for index, value in enumerate(sequence(schedules))]
    for schedule_path, value in given:
        error = schedule_error(value) if isinstance(value, str) else None
        if error:
            problems.append(Problem(schedule_path, f"invalid cron schedule {value!r}: {error}"))
    timezone = spec.get("timezone")
    if isinstance(timezone, str) and timezone and not _known_timezone(timezone):
        problems.append(Problem(child(path, "timezone"), f"unknown time zone {timezone!r}"))
    policy = spec.get("concurrencyPolicy")
    if policy and policy not in CONCURRENCY_POLICIES:
        problems.append(
            Problem(
                child(path, "concurrencyPolicy"),
                f"unknown policy {policy!r}, expected one of {', '.join(CONCURRENCY_POLICIES)}",
            )
        )
    deadline = spec.get("startingDeadlineSeconds")
    if type(deadline) is int and deadline < 0:
        problems.append(Problem(child(path, "startingDeadlineSeconds"), f"must not be negative, got {deadline}"))
    return problems


@functools.lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_timezone(name: str) -> bool:
    """Return whether ``name`` is an IANA time zone (always true when this system has no time zone database)."""
    return not _timezones() or name in _timezones() or name in ("UTC", "Local")


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
