"""Go's ``time.Parse`` with reference layouts (``2006-01-02T15:04:05Z07:00``), for expr's ``date()``, sprig's
``toDate`` and govaluate's date comparisons.

Go durations are parsed by :mod:`workflows.durations`, the one home of that grammar.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re


_TIME_TOKENS = (
    ("January", r"(?P<month_name>January|February|March|April|May|June|July|August|September|October|November|December)"),
    ("Jan", r"(?P<month_abbr>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"),
    ("Monday", r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"),
    ("Mon", r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"),
    ("MST", r"(?P<zone_name>[A-Z]{3,5}|[+-]\d{2,4})"),
    ("2006", r"(?P<year>\d{4})"),
    ("Z07:00", r"(?P<zone>Z|[+-]\d{2}:\d{2})"),
    ("Z0700", r"(?P<zone>Z|[+-]\d{4})"),
    ("Z07", r"(?P<zone>Z|[+-]\d{2})"),
    ("-07:00", r"(?P<zone>[+-]\d{2}:\d{2})"),
    ("-0700", r"(?P<zone>[+-]\d{4})"),
    ("-07", r"(?P<zone>[+-]\d{2})"),
    ("002", r"(?P<yday>\d{3})"),
    ("01", r"(?P<month>\d{2})"),
    ("02", r"(?P<day>\d{2})"),
    ("06", r"(?P<year2>\d{2})"),
    ("03", r"(?P<hour12>\d{2})"),
    ("04", r"(?P<minute>\d{2})"),
    ("05", r"(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?"),
    ("_2", r" ?(?P<day>\d{1,2})"),
    ("15", r"(?P<hour>\d{2})"),
    ("PM", r"(?P<ampm>AM|PM)"),
    ("pm", r"(?P<ampm>am|pm)"),
    ("1", r"(?P<month>\d{1,2})"),
    ("2", r"(?P<day>\d{1,2})"),
    ("3", r"(?P<hour12>\d{1,2})"),
    ("4", r"(?P<minute>\d{1,2})"),
    ("5", r"(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?"),
)
_FRACTION_LAYOUT = re.compile(r"[.,](0+|9+)(?![0-9])")
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


@functools.lru_cache(maxsize=64)
def _layout_regex(layout: str) -> re.Pattern:
    out: list[str] = []
    used: set[str] = set()
    i = 0
    while i < len(layout):
        fraction = _FRACTION_LAYOUT.match(layout, i)
        if fraction:
            digits = fraction.group(1)
            name = "?P<fraction>" if "fraction" not in used else "?:"
            used.add("fraction")
            out.append(rf"[.,]({name}\d{{{len(digits)}}})" if digits[0] == "0" else rf"(?:[.,]({name}\d+))?")
            i = fraction.end()
            continue
        for token, pattern in _TIME_TOKENS:
            if layout.startswith(token, i):
                if token in ("05", "5") and (_FRACTION_LAYOUT.match(layout, i + len(token)) or "fraction" in used):
                    pattern = pattern.split("(?:[.,]")[0]  # the layout spells the fraction out
                names = re.findall(r"\?P<(\w+)>", pattern)
                if any(name in used for name in names):
                    pattern = re.sub(r"\?P<\w+>", "?:", pattern)
                used.update(names)
                out.append(pattern)
                i += len(token)
                break
        else:
            out.append(re.escape(layout[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def parse_go_time(layout: str, text: str, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """Parse ``text`` with a Go reference layout (``2006-01-02T15:04:05Z07:00``), like ``time.Parse``; raises ``ValueError``.

    Without a zone in the text the result is in ``zone`` (UTC by default).
    """
    match = _layout_regex(layout).match(text)
    if match is None:
        raise ValueError(f'parsing time "{text}" as "{layout}": cannot parse')
    fields = match.groupdict()
    year = int(fields["year"]) if fields.get("year") else (2000 + int(fields["year2"]) if fields.get("year2") and int(fields["year2"]) < 69 else (1900 + int(fields["year2"]) if fields.get("year2") else 0))
    month = 1
    if fields.get("month"):
        month = int(fields["month"])
    elif fields.get("month_name"):
        month = _MONTH_NAMES.index(fields["month_name"]) + 1
    elif fields.get("month_abbr"):
        month = [name[:3] for name in _MONTH_NAMES].index(fields["month_abbr"]) + 1
    day = int(fields["day"]) if fields.get("day") else 1
    hour = int(fields["hour"]) if fields.get("hour") else 0
    if fields.get("hour12"):
        hour = int(fields["hour12"]) % 12
        if (fields.get("ampm") or "").upper() == "PM":
            hour += 12
    minute = int(fields["minute"]) if fields.get("minute") else 0
    second = int(fields["second"]) if fields.get("second") else 0
    micro = int((fields.get("fraction") or "0")[:6].ljust(6, "0"))
    tz: _dt.tzinfo = zone or _dt.timezone.utc
    offset_text = fields.get("zone")
    if offset_text:
        if offset_text == "Z":
            tz = _dt.timezone.utc
        else:
            digits = offset_text[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            delta = _dt.timedelta(hours=hours, minutes=minutes)
            tz = _dt.timezone(-delta if offset_text[0] == "-" else delta)
    elif fields.get("zone_name") == "UTC":
        tz = _dt.timezone.utc
    if year == 0:
        year = 1  # Go's year 0 (a layout without a year) is outside Python's range: use year 1
    try:
        moment = _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as error:
        raise ValueError(f'parsing time "{text}": {error}') from None
    if fields.get("yday"):
        moment = moment.replace(month=1, day=1) + _dt.timedelta(days=int(fields["yday"]) - 1)
    return moment
