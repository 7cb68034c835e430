"""Structural check of a document against the model of Argo's schema.

Reports what Argo's official JSON schema lets through: unknown fields (with a
"did you mean" suggestion), values of the wrong type, IntOrString and Quantity
values Kubernetes would not decode, and missing required fields.  ``null``
values count as absent, as they do when Go decodes the document.  Field names
are case-sensitive, as in ``argo lint`` (strict by default).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..quantity import QUANTITY
from .model import Definition, FieldType
from .problems import MISSING, Problem, describe, render

_SUGGESTION_CUTOFF = 0.75


def check_structure(document: dict, root: Definition, path: str = "") -> list[Problem]:
    """Return the structural problems of ``document``, an object of definition ``root`` at ``path``."""
    return _Walker(path).walk(document, root)


class _Walker:
    """Walks one document; ``trail`` holds the keys and indexes leading to the current value.

    Paths are rendered only for problems, which keeps big documents fast.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.trail: list[object] = []
        self.problems: list[Problem] = []

    def walk(self, document: dict, root: Definition) -> list[Problem]:
        """Return the problems of ``document``, an object of definition ``root``."""
        self._object(document, root)
        return self.problems

    def _report(self, reason: str, *last: object) -> None:
        self.problems.append(Problem(render(self.path, [*self.trail, *last]), reason))

    def _object(self, value: dict, definition: Definition) -> None:
        properties = definition.properties
        trail = self.trail
        for key, sub in value.items():
            kind = properties.get(key) if type(key) is str else None
            if kind is None:
                self._report(_unknown_field(key, properties), key)
            elif sub is not None:
                trail.append(key)
                self._check(sub, kind)
                trail.pop()
        for name in definition.required:
            if value.get(name) is None:
                self._report(MISSING, name)

    def _check(self, value: object, kind: FieldType) -> None:
        """Check the non-null ``value`` against ``kind``."""
        name = kind.kind
        value_type = type(value)
        if name == "string":
            ok = value_type is str
        elif name == "definition":
            ok = value_type is dict
            if ok:
                self._object(value, kind.definition)
        elif name == "array":
            ok = value_type is list
            if ok:
                self._elements(enumerate(value), kind.element)
        elif name == "map":
            ok = value_type is dict
            if ok:
                self._entries(value, kind.element)
        elif name == "boolean":
            ok = value_type is bool
        elif name == "integer":
            ok = value_type is int
        elif name == "number":
            ok = value_type is int or value_type is float
        elif name == "int-or-string":
            ok = value_type is int or value_type is str
        elif name == "quantity":
            ok = value_type is int or value_type is float or value_type is str
            if value_type is str and not QUANTITY.match(value):
                self._report(f"not a Kubernetes quantity: {value!r} (examples: '500m', '0.5', '64Mi', '2Gi')")
        elif name == "object":
            ok = value_type is dict
        else:  # "any"
            ok = True
        if not ok:
            self._report(f"expected {kind.expectation}, got {describe(value)}")

    def _elements(self, pairs: Iterable[tuple[object, object]], element: FieldType) -> None:
        trail = self.trail
        for key, sub in pairs:
            if sub is not None:
                trail.append(key)
                self._check(sub, element)
                trail.pop()

    def _entries(self, value: dict, element: FieldType) -> None:
        for key in value:
            if type(key) is not str:
                self._report(f"map keys must be strings, got {describe(key)}", key)
        self._elements(((key, sub) for key, sub in value.items() if type(key) is str), element)


def _unknown_field(key: object, properties: dict[str, FieldType]) -> str:
    if not isinstance(key, str):
        return f"field names must be strings, got {describe(key)}"
    reason = f"unknown field {key!r}"
    close = difflib.get_close_matches(key, properties, n=1, cutoff=_SUGGESTION_CUTOFF)
    if not close:
        lowered = {name.lower(): name for name in properties}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    return f"{reason}, did you mean {close[0]!r}?" if close else reason
