"""``template_overrides``: Argo template fields given as a dict or as an argo SDK model.

A dict is taken in Argo's own camelCase. An object with ``to_dict()`` — the
argo SDK's template model, or :class:`V1alpha1Template` — gives snake_case keys
and, in CloudHarness's SDK, ``None`` for every unset field: its keys are turned
into Argo's field names with the model of Argo's schema (so ``retry_strategy``
becomes ``retryStrategy`` and ``host_ip`` ``hostIP``, while the keys of maps
such as labels stay as written) and its ``None`` values are dropped.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import BadOperationConfiguration

if TYPE_CHECKING:
    from ..validation.model import Definition, FieldType

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """The argo SDK's attribute name of the Argo field ``name`` (``hostIP`` → ``host_ip``)."""
    return _CAMEL.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name)).lower()


@functools.lru_cache(maxsize=None)
def _field_names(definition: Definition) -> dict[str, str]:
    names = {snake_case(name): name for name in definition.properties}
    names.update({name: name for name in definition.properties})
    return names


def _convert(field: str, value: Any, kind: FieldType | None) -> Any:
    if kind is not None and kind.kind in ("definition", "array", "map"):
        expected = Mapping if kind.kind != "array" else (list, tuple)
        if not isinstance(value, expected):
            what = f"an Argo {kind.definition.name}" if kind.definition is not None else kind.expectation
            raise BadOperationConfiguration(f"{field}={value!r}: expected {what}")
    if kind is not None and kind.kind == "definition" and isinstance(value, Mapping):
        assert kind.definition is not None
        names = _field_names(kind.definition)
        converted = {}
        for key, item in value.items():
            if item is None:
                continue
            name = names.get(key) if isinstance(key, str) else None
            if name is None:
                raise BadOperationConfiguration(
                    f"{field}: unknown field {key!r} of an Argo {kind.definition.name}"
                )
            converted[name] = _convert(f"{field}.{name}", item, kind.definition.properties[name])
        return converted
    if kind is not None and kind.kind in ("array", "map"):
        element = kind.element
        if isinstance(value, (list, tuple)):
            return [_convert(f"{field}[{index}]", item, element) for index, item in enumerate(value)]
        if isinstance(value, Mapping):
            return {
                key: _convert(f"{field}[{key!r}]", item, element) for key, item in value.items() if item is not None
            }
    return copy.deepcopy(value)


def sdk_template_to_argo(field: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The snake_case ``data`` of an SDK template model as Argo template fields (camelCase, no ``None``)."""
    from ..validation.model import FieldType, load_model

    template = load_model().definitions["Template"]
    return _convert(field, data, FieldType("definition", definition=template))


def template_overrides(task: str, value: object) -> dict[str, Any]:
    """Check and normalise a task's ``template_overrides`` into Argo's camelCase fields (a fresh dict)."""
    field = f"task {task!r}: template_overrides"
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    to_dict = getattr(value, "to_dict", None)
    if not callable(to_dict):
        raise TypeError(
            f"{field} must be a dict in Argo's camelCase or a template model with to_dict(), got {value!r}"
        )
    data = to_dict()
    if not isinstance(data, Mapping):
        raise TypeError(f"{field}: {type(value).__name__}.to_dict() returned {data!r}, expected a dict")
    return sdk_template_to_argo(field, data)


class V1alpha1Template:
    """An Argo template given with the argo SDK's snake_case keyword arguments, as ``template_overrides``.

    A light stand-in for the SDK's ``V1alpha1Template`` that CloudHarness
    re-exports from its ``tasks`` module: ``V1alpha1Template(active_deadline_seconds=60,
    retry_strategy={'limit': '3'})``. Nested values may be dicts (snake_case or
    camelCase) or SDK models. Field names are checked when a task receives it.
    """

    def __init__(self, **fields: Any) -> None:
        self._fields = fields

    def to_dict(self) -> dict[str, Any]:
        """The fields given, nested models turned into dicts, as the SDK's ``to_dict()`` does."""
        return {key: _plain(value) for key, value in self._fields.items()}

    def __repr__(self) -> str:
        return f"V1alpha1Template({', '.join(f'{key}={value!r}' for key, value in self._fields.items())})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, V1alpha1Template) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
