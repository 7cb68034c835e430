"""Argo resources as the argo SDK's models present them: snake_case attributes over Argo's dicts.

CloudHarness hands out the ``argo-workflows`` SDK's models (``workflow.raw``):
``raw.metadata.name``, ``raw.metadata.creation_timestamp`` (a ``datetime``),
``raw.status.nodes[...].children``, ``raw.to_dict()`` (snake_case keys, every
field of each object present, ``None`` when unset), ``raw.to_str()``. The views
here give the same reading of the plain dicts the backends return, guided by
the model of Argo's schema (:mod:`workflows.validation.model`, loaded at the
first attribute read). The SDK itself is never imported.
"""

from __future__ import annotations

import copy
import functools
import pprint
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .validation.model import Definition, FieldType

#: Fields of Kubernetes' ``Time`` type in Argo's resources: the SDK gives them as ``datetime``.
TIME_FIELDS = frozenset({"creationTimestamp", "deletionTimestamp", "startedAt", "finishedAt", "lastTransitionTime"})
#: Field names that are Python keywords: the SDK prefixes them with ``_``.
KEYWORD_FIELDS = {"continue": "_continue", "from": "_from"}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def attribute_name(field: str) -> str:
    """The SDK's attribute for Argo's JSON field: ``apiVersion`` → ``api_version``, ``podGC`` → ``pod_gc``."""
    if field in KEYWORD_FIELDS:
        return KEYWORD_FIELDS[field]
    return _WORD_BOUNDARY.sub("_", field).lower()


def parse_time(stamp: object) -> object:
    """A Kubernetes timestamp (``2026-11-27T10:00:00Z``) as an aware UTC ``datetime``; other values as they are."""
    if not isinstance(stamp, str):
        return stamp
    try:
        return datetime.fromisoformat(stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp).astimezone(timezone.utc)
    except ValueError:
        return stamp


@functools.lru_cache(maxsize=None)
def _attributes(definition: Definition) -> dict[str, str]:
    """Attribute name → JSON field, for every property of ``definition``."""
    return {attribute_name(field): field for field in definition.properties}


def _convert(value: Any, field: str | None, kind: FieldType | None, plain: bool) -> Any:
    """``value`` as the SDK gives it: nested objects as views (or dicts with ``plain``), times as datetimes."""
    if value is None:
        return None
    if field in TIME_FIELDS:
        return parse_time(value)
    if kind is not None and kind.kind == "definition" and isinstance(value, Mapping):
        return to_sdk_dict(value, kind.definition) if plain else ModelView(value, kind.definition)
    if kind is not None and kind.kind == "array" and isinstance(value, list):
        return [_convert(item, None, kind.element, plain) for item in value]
    if kind is not None and kind.kind == "map" and isinstance(value, Mapping):
        return {key: _convert(item, None, kind.element, plain) for key, item in value.items()}
    if kind is None and isinstance(value, Mapping):
        return to_sdk_dict(value, None) if plain else ModelView(value, None)
    return copy.deepcopy(value) if plain else value


def read_attribute(data: Mapping[str, Any], definition: Definition | None, name: str) -> Any:
    """The attribute ``name`` of the object ``data`` of type ``definition``, as the SDK model gives it.

    A property of the definition that ``data`` does not set is ``None``; a name
    that is no property raises ``AttributeError``. Without a definition, any
    snake_case name is looked up by its camelCase field.
    """
    if name.startswith("__"):
        raise AttributeError(name)
    if definition is None:
        for field in data:
            if attribute_name(field) == name:
                return _convert(data[field], field, None, plain=False)
        return None
    field = _attributes(definition).get(name)
    if field is None:
        raise AttributeError(f"{definition.name} has no attribute {name!r}")
    return _convert(data.get(field), field, definition.properties[field], plain=False)


def to_sdk_dict(data: Mapping[str, Any], definition: Definition | None) -> dict[str, Any]:
    """What the SDK model's ``to_dict()`` gives: snake_case keys, every property of the definition (``None`` if unset).

    Fields the definition does not know are kept, under their snake_case name.
    """
    result: dict[str, Any] = {}
    properties = definition.properties if definition is not None else {}
    for field, kind in properties.items():
        result[attribute_name(field)] = _convert(data.get(field), field, kind, plain=True)
    for field, value in data.items():
        if field not in properties:
            result[attribute_name(field)] = _convert(value, field, None, plain=True)
    return result


def definition_of(kind: str) -> Definition:
    """The model's definition named ``kind`` (``Workflow``, ``NodeStatus``...)."""
    from .validation.model import load_model

    return load_model().definitions[kind]


class ModelView:
    """A read-only view of one object of an Argo resource, like the SDK's model of it.

    Attributes in snake_case; ``view["jsonField"]`` reads the underlying dict;
    :meth:`to_dict` and :meth:`to_str` as the SDK's models have them.
    """

    __slots__ = ("_data", "_definition")

    def __init__(self, data: Mapping[str, Any], definition: Definition | None) -> None:
        self._data = data
        self._definition = definition

    def __getattr__(self, name: str) -> Any:
        return read_attribute(self._data, self._definition, name)

    def __getitem__(self, field: str) -> Any:
        return self._data[field]

    def __contains__(self, field: object) -> bool:
        return field in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def to_dict(self) -> dict[str, Any]:
        """The object as the SDK's ``to_dict()`` gives it (see :func:`to_sdk_dict`)."""
        return to_sdk_dict(self._data, self._definition)

    def to_str(self) -> str:
        """The pretty-printed :meth:`to_dict`, as the SDK's ``to_str()``."""
        return pprint.pformat(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ModelView):
            return self._data == other._data
        return isinstance(other, Mapping) and self._data == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return self.to_str()


class WorkflowModel(dict):
    """A Workflow dict (``raw["metadata"]["name"]``) that also reads like the SDK's ``V1alpha1Workflow``.

    ``raw.metadata.name``, ``raw.metadata.creation_timestamp`` (a ``datetime``),
    ``raw.status.phase``, ``raw.status.nodes``, ``raw.to_dict()``, ``raw.to_str()``.
    """

    def __getattr__(self, name: str) -> Any:
        return read_attribute(self, definition_of("Workflow"), name)

    def to_dict(self) -> dict[str, Any]:
        """The workflow as the SDK's ``to_dict()`` gives it: snake_case keys, ``None`` for unset fields."""
        return to_sdk_dict(self, definition_of("Workflow"))

    def to_str(self) -> str:
        """The pretty-printed :meth:`to_dict`, as the SDK's ``to_str()``."""
        return pprint.pformat(self.to_dict())


@functools.lru_cache(maxsize=1)
def workflow_list_definition() -> Definition:
    """``WorkflowList`` (``metadata`` a ``ListMeta``, ``items`` Workflows): Argo's schema model does not hold it."""
    from .validation.model import Definition, FieldType

    list_meta = Definition("meta.v1.ListMeta", {
        "continue": FieldType("string"),
        "remainingItemCount": FieldType("integer"),
        "resourceVersion": FieldType("string"),
        "selfLink": FieldType("string"),
    })
    workflows = FieldType("array", element=FieldType("definition", definition=definition_of("Workflow")))
    return Definition("WorkflowList", {
        "apiVersion": FieldType("string"),
        "items": workflows,
        "kind": FieldType("string"),
        "metadata": FieldType("definition", definition=list_meta),
    })


class WorkflowListModel(ModelView):
    """A page of workflows read like the SDK's ``V1alpha1WorkflowList``: ``items`` (workflows), ``metadata._continue``."""

    __slots__ = ()

    def __init__(self, items: list[Mapping[str, Any]] | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__({"metadata": dict(metadata or {}), "items": list(items or [])}, workflow_list_definition())
