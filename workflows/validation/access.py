"""Tolerant access to documents whose fields may have the wrong type.

The structural check reports wrong types; the semantic checks read through
these helpers so that a wrong type never crashes them (it reads as empty).
"""

from __future__ import annotations


def mapping(value: object) -> dict:
    """Return ``value`` if it is a map, else an empty map."""
    return value if isinstance(value, dict) else {}


def sequence(value: object) -> list:
    """Return ``value`` if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def text(value: object) -> str:
    """Return ``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def entries(value: object) -> list[tuple[int, dict]]:
    """Return ``(index, entry)`` for the entries of the list ``value`` that are maps."""
    if type(value) is not list:
        return []
    return [(index, entry) for index, entry in enumerate(value) if type(entry) is dict]
