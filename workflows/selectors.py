"""Kubernetes field and label selectors, and Argo Server's ``fields`` trimming, over workflow dicts.

What :func:`workflows.argo.get_workflows` accepts the way CloudHarness passes it
to Argo: a field selector on ``metadata.name`` / ``metadata.namespace`` (the
only fields the API server selects custom resources on), an equality-based
label selector, and ``fields`` (``items.metadata.name,metadata`` keeps those
paths; a leading ``-`` removes the listed paths instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SelectorError

#: The fields the Kubernetes API server selects custom resources on.
SELECTABLE_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Selector:
    """One term: the value at ``path`` (a tuple of keys) compared with ``value``.

    ``operator`` is ``=`` or ``!=``; for a label selector ``exists`` and
    ``!exists`` test the presence of the label (``value`` unused).
    """

    path: tuple[str, ...]
    operator: str
    value: str = ""

    def is_name_equality(self) -> bool:
        """Whether the term selects one workflow by name."""
        return self.path == ("metadata", "name") and self.operator == "="

    def matches(self, resource: Mapping[str, Any]) -> bool:
        """Whether ``resource`` satisfies the term."""
        current: Any = resource
        for key in self.path:
            current = current.get(key) if isinstance(current, Mapping) else None
        if self.operator == "exists":
            return current is not None
        if self.operator == "!exists":
            return current is None
        equal = current == self.value
        return equal if self.operator == "=" else not equal


def _terms(selector: object, parameter: str) -> list[str]:
    if selector is None or selector == "":
        return []
    if not isinstance(selector, str):
        raise SelectorError(f"{parameter}={selector!r}: expected a string like 'key=value,other!=value'")
    terms = [term.strip() for term in selector.split(",")]
    if any(not term for term in terms):
        raise SelectorError(f"{parameter}={selector!r}: empty term")
    return terms


def _split(term: str) -> tuple[str, str, str] | None:
    """``(key, operator, value)`` of ``key=value``, ``key==value`` or ``key!=value``; ``None`` for a bare key."""
    for operator, normal in (("!=", "!="), ("==", "="), ("=", "=")):
        key, found, value = term.partition(operator)
        if found:
            return key.strip(), normal, value.strip()
    return None


def parse_field_selector(selector: object) -> list[Selector]:
    """The terms of a field selector; :class:`SelectorError` on bad syntax or an unsupported field."""
    result = []
    for term in _terms(selector, "field_selector"):
        split = _split(term)
        if split is None:
            raise SelectorError(f"field_selector={selector!r}: {term!r} is not 'field=value' or 'field!=value'")
        field, operator, value = split
        if field not in SELECTABLE_FIELDS:
            raise SelectorError(
                f"field_selector={selector!r}: field {field!r} is not supported "
                f"(workflows can be selected on {' and '.join(SELECTABLE_FIELDS)})"
            )
        result.append(Selector(tuple(field.split(".")), operator, value))
    return result


def parse_label_selector(selector: object) -> list[Selector]:
    """The terms of an equality-based label selector (``k=v``, ``k!=v``, ``k``, ``!k``)."""
    result = []
    for term in _terms(selector, "list_options_label_selector"):
        split = _split(term)
        if split is not None:
            key, operator, value = split
        elif term.startswith("!"):
            key, operator, value = term[1:].strip(), "!exists", ""
        else:
            key, operator, value = term, "exists", ""
        if not key or " " in key or "(" in value:
            raise SelectorError(
                f"list_options_label_selector={selector!r}: {term!r} is not 'key=value', 'key!=value', 'key' or '!key' "
                "(set-based terms such as 'key in (a,b)' are not supported)"
            )
        result.append(Selector(("metadata", "labels", key), operator, value))
    return result


def trim_fields(document: Mapping[str, Any], fields: str) -> dict[str, Any]:
    """A copy of ``document`` keeping (or, with a leading ``-``, dropping) the listed dotted paths.

    As Argo Server's ``fields`` parameter: a path names a key through maps,
    lists being crossed without an index; keeping a path keeps everything
    under it, and the maps on the way to a kept path.
    """
    if not isinstance(fields, str):
        raise SelectorError(f"fields={fields!r}: expected a string like 'items.metadata.name,metadata'")
    exclude = fields.startswith("-")
    listed = frozenset((fields[1:] if exclude else fields).split(","))

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            kept = {}
            for key, item in value.items():
                field_path = f"{path}.{key}" if path else key
                if field_path in listed:
                    if not exclude:
                        kept[key] = item
                elif exclude or any(name.startswith(field_path) for name in listed):
                    kept[key] = clean(item, field_path)
            return kept
        if isinstance(value, list):
            return [clean(item, path) for item in value]
        return value

    return clean(document, "")
