"""Label and field selectors, parsed and matched as the Kubernetes API server does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api import bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"\s*!?\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*\Z")
_EQUALITY = re.compile(rf"\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*\Z")
_EXISTS = re.compile(rf"\s*(!?)\s*({_KEY})\s*\Z")
#: Fields each resource can be selected on (what the API server supports for workflows and pods).
FIELDS = {
    "workflows": ("metadata.name", "metadata.namespace"),
    "pods": ("metadata.name", "metadata.namespace", "status.phase", "spec.nodeName", "spec.restartPolicy"),
}

Requirement = Callable[[dict[str, Any]], bool]


@dataclass
class Selector:
    """A label selector and a field selector together; an empty one matches everything."""

    requirements: list[Requirement] = field(default_factory=list)

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` meets every requirement."""
        return all(requirement(obj) for requirement in self.requirements)


def _split(text: str) -> list[str]:
    """Split a selector on the commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _label_requirement(text: str) -> Requirement:
    match = _SET.match(text)
    if match:
        key, operator = match.group(1), match.group(3)
        values = {value.strip() for value in match.group(4).split(",") if value.strip()}
        if operator == "in":
            return lambda obj: _labels(obj).get(key) in values
        return lambda obj: _labels(obj).get(key) not in values
    match = _EQUALITY.match(text)
    if match:
        key, operator, value = match.group(1), match.group(3), match.group(4)
        if operator == "!=":
            return lambda obj: _labels(obj).get(key) != value
        return lambda obj: _labels(obj).get(key) == value
    match = _EXISTS.match(text)
    if match:
        negated, key = match.group(1) == "!", match.group(2)
        return lambda obj: (key in _labels(obj)) != negated
    raise bad_request(f"unable to parse requirement: {text.strip()!r}: found unexpected token")


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _field_requirement(resource: str, text: str) -> Requirement:
    match = re.match(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*\Z", text)
    if not match:
        raise bad_request(f"invalid selector: '{text.strip()}'; can't understand '{text.strip()}'")
    path, operator, value = match.groups()
    if path not in FIELDS.get(resource, ("metadata.name", "metadata.namespace")):
        raise bad_request(f'field label not supported: {path}')
    if operator == "!=":
        return lambda obj: _field_value(obj, path) != value
    return lambda obj: _field_value(obj, path) == value


def parse_selectors(resource: str, label_selector: str | None, field_selector: str | None) -> Selector:
    """The :class:`Selector` of a request's ``labelSelector`` and ``fieldSelector`` parameters.

    Raises :class:`~workflows.testing.api.ApiError` (400 BadRequest) naming what it cannot parse.
    """
    requirements = [_label_requirement(part) for part in _split(label_selector or "")]
    requirements += [_field_requirement(resource, part) for part in _split(field_selector or "")]
    return Selector(requirements)


def selected_name(field_selector: str | None) -> str | None:
    """The name a field selector ``metadata.name=NAME`` (or ``==``) asks for, else ``None``."""
    for part in _split(field_selector or ""):
        match = re.match(r"\s*metadata\.name\s*==?\s*(.*?)\s*\Z", part)
        if match:
            return match.group(1)
    return None
