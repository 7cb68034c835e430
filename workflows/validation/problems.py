"""Problems found in a spec, and the paths that locate them in the document."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The reason given for a required field that is absent (same text in every check, so duplicates merge).
MISSING = "required field is missing"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_NUMBERS = re.compile(r"(\d+)")
_MAX_VALUE_CHARS = 80


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where (``field``, a path into the document) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@functools.lru_cache(maxsize=4096)  # keys repeat a lot
def _is_plain(key: str) -> bool:
    return _PLAIN_KEY.match(key) is not None


def child(path: str, key: object) -> str:
    """Return the path of ``key`` inside the object at ``path`` (``spec`` + ``entrypoint``).

    Keys that are not plain identifiers are quoted: ``metadata.labels["app.kubernetes.io/name"]``.
    """
    text = str(key)
    if not _is_plain(text):
        return path + '["' + text.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return f"{path}.{text}" if path else text


def item(path: str, index: int) -> str:
    """Return the path of element ``index`` of the list at ``path`` (``spec.templates[2]``)."""
    return f"{path}[{index}]"


def render(path: str, trail: Iterable[object]) -> str:
    """Return the path of the value reached from ``path`` through the keys and indexes of ``trail``."""
    for step in trail:
        path = item(path, step) if type(step) is int else child(path, step)
    return path


def describe(value: object) -> str:
    """Describe ``value`` for a message: its JSON type and a shortened representation."""
    if value is None:
        return "null"
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "map"}.get(
        type(value), type(value).__name__
    )
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return f"{kind} {text}"


def _sort_key(problem: Problem) -> tuple:
    parts = _NUMBERS.split(problem.field)
    return tuple((0, int(part)) if index % 2 else (1, part) for index, part in enumerate(parts)), problem.reason


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Return ``problems`` without duplicates, in document order of their paths (``[2]`` before ``[10]``)."""
    return sorted(set(problems), key=_sort_key)
