"""``withItems`` / ``withParam`` / ``withSequence`` expansion with Argo's semantics.

Argo (``workflow/controller/steps.go`` ``expandStep``, ``dag.go``
``expandTask``, ``operator.go`` ``processItem``/``expandSequence``/
``generateNodeName``) turns a looping step or DAG task into one node per item:

1. :func:`expand_loop` returns the items (``None`` when the step does not
   loop). ``resolve`` substitutes ``{{...}}`` in the loop fields first --
   pass e.g. ``lambda v: substitute(v, scope, strict=False,
   strict_prefixes=("steps", "tasks"))``. Argo resolves the whole step before
   expanding, so a ``withParam`` of ``{{steps.a.outputs.result}}`` must become
   a JSON list here.
2. :func:`item_scope` gives the scope entries of one item (``item``,
   ``item.<key>``) to add to the step's scope before substituting the rest of
   the step (strictly, as Argo's ``processItem`` does).
3. :func:`loop_node_name` names the child node: ``step(0:value)``.

Items are kept as JSON values. ``withItems`` maps get their keys sorted at
every level (Argo stores the YAML as JSON produced from Go maps);
``withParam`` items keep their source key order and number text
(``1.0`` stays ``1.0``: Argo keeps them as raw JSON), see
:class:`~workflows.engine.lang.gofmt.RawNumber`.

Errors (a ``withParam`` that is not a JSON list, a sequence bound that is not
an integer, a format whose output is not a JSON string) raise
:class:`~workflows.engine.lang.errors.LoopError` naming the value. Argo
ignores those errors when the step's ``when`` evaluates false (the step is
then skipped); the caller decides.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from typing import Any, Callable

from .lang.errors import LoopError
from .lang.gofmt import RawNumber, go_float_json, go_json, go_sprintf_int

__all__ = [
    "LoopError",
    "expand_loop",
    "expand_sequence",
    "item_scope",
    "item_string",
    "loop_node_name",
    "parse_with_param",
]

_ATOI_RE = re.compile(r"[+-]?\d+\Z")


def expand_loop(step: Mapping[str, Any], resolve: Callable[[Any], Any] | None = None) -> list | None:
    """Return the items a step/DAG task loops over, or ``None`` when it has no loop.

    ``step`` is the step or task dict; only ``withItems`` (a non-empty list),
    ``withParam`` (a non-empty string: JSON list text, or an already-parsed
    list) and ``withSequence`` are read, in that order, like Argo's
    ``ShouldExpand``. ``resolve`` is applied to the chosen field before it is
    interpreted (identity by default). The returned list may be empty (Argo
    then records the step as skipped with "Skipped, empty params").
    """
    resolve = resolve or _identity
    items = step.get("withItems")
    if items:
        resolved = resolve(items)
        if not isinstance(resolved, list):
            raise LoopError(f"withItems must be a list, got {resolved!r}", tag=str(resolved))
        return [_normalize(item, sort=True) for item in resolved]
    param = step.get("withParam")
    if param not in (None, ""):
        return parse_with_param(resolve(param))
    sequence = step.get("withSequence")
    if sequence is not None:
        return expand_sequence(resolve(sequence))
    return None


def _identity(value: Any) -> Any:
    return value


def _normalize(value: Any, sort: bool) -> Any:
    """Turn a YAML-loaded value into the JSON value Argo stores (maps sorted by key when ``sort``)."""
    if isinstance(value, dict):
        pairs = [(key if isinstance(key, str) else _key_text(key), _normalize(sub, sort)) for key, sub in value.items()]
        if sort:
            pairs.sort(key=lambda pair: pair[0])
        return dict(pairs)
    if isinstance(value, (list, tuple)):
        return [_normalize(sub, sort) for sub in value]
    if isinstance(value, _dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return go_float_json(key)
    return str(key)


def parse_with_param(value: Any) -> list:
    """Parse a resolved ``withParam``: JSON list text (or ``null``) -> items; raises :class:`LoopError` otherwise.

    An already-parsed list is accepted as is.
    """
    if isinstance(value, list):
        return [_normalize(item, sort=False) for item in value]
    if not isinstance(value, str):
        raise LoopError(f"withParam value could not be parsed as a JSON list: {value!r}", tag=repr(value))
    try:
        parsed = json.loads(value, parse_float=RawNumber, parse_constant=_reject_constant)
    except ValueError as error:
        raise LoopError(
            f"withParam value could not be parsed as a JSON list: {value.strip()}: {error}", tag=value
        ) from None
    if parsed is None:
        return []
    if not isinstance(parsed, list):
        kind = "object" if isinstance(parsed, dict) else "string" if isinstance(parsed, str) else "number" if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) else "bool"
        raise LoopError(
            f"withParam value could not be parsed as a JSON list: {value.strip()}: json: cannot unmarshal {kind} into Go value of type []v1alpha1.Item",
            tag=value,
        )
    return parsed


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _atoi(value: Any, field: str) -> int:
    text = str(value) if not isinstance(value, bool) else ("true" if value else "false")
    if isinstance(value, float) and value == int(value):
        text = str(int(value))
    if not _ATOI_RE.match(text):
        raise LoopError(f'withSequence.{field}: strconv.Atoi: parsing "{text}": invalid syntax', tag=text)
    return int(text)


def expand_sequence(sequence: Mapping[str, Any]) -> list:
    """Return the items of a resolved ``withSequence`` (strings, formatted with ``format``, default ``%d``).

    ``end`` wins over ``count`` (``count: N`` means ``end = start + N - 1``;
    ``count: 0`` gives no items), ``start`` defaults to 0 and ``start > end``
    counts down -- as Argo's ``expandSequence``. ``format`` is Go's printf
    (``%02X``, ``item-%d``); each result is parsed as a JSON string, as Argo does.
    """
    if not isinstance(sequence, Mapping):
        raise LoopError(f"withSequence must be a map, got {sequence!r}", tag=repr(sequence))
    start = _atoi(sequence["start"], "start") if sequence.get("start") is not None else 0
    if sequence.get("end") is not None:
        end = _atoi(sequence["end"], "end")
    elif sequence.get("count") is not None:
        count = _atoi(sequence["count"], "count")
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise LoopError("neither end nor count was specified in withSequence", tag=repr(dict(sequence)))
    layout = sequence.get("format") or "%d"
    step = 1 if start <= end else -1
    items = []
    for number in range(start, end + step, step):
        text = go_sprintf_int(str(layout), number)
        try:
            items.append(json.loads('"' + text + '"'))
        except ValueError as error:
            raise LoopError(f"withSequence.format {layout!r} produced {text!r}, which is not a JSON string: {error}", tag=str(layout)) from None
    return items


def item_string(value: Any) -> str:
    """Return ``%v`` of an Argo item value (``Item.String()``): strings unquoted but JSON-escaped, numbers as their JSON text, ``null``, maps/lists as compact JSON."""
    if isinstance(value, str):
        return go_json(value, escape_html=False, sort_keys="none")[1:-1]
    return go_json(value, escape_html=False, sort_keys="none")


def item_scope(item: Any) -> dict[str, str]:
    """Return the flat scope entries Argo's ``processItem`` sets for one loop item.

    * a string: ``{"item": item}``; a number: its JSON text (``"3"``,
      ``"1.5"``); a bool: ``"true"``/``"false"``;
    * a map: ``item`` is the map as compact JSON (keys sorted), and every key
      gets ``item.<key>`` = :func:`item_string` of its value (nested maps and
      lists as JSON, strings unquoted);
    * a list: ``item`` is its compact JSON; ``null``: ``"[]"`` (Argo reads it as an empty list).

    In expressions (:func:`workflows.engine.lang.templating.expression_env`) a map
    item is therefore the map of those strings, anything else a string.
    """
    if isinstance(item, str):
        return {"item": item}
    if isinstance(item, bool):
        return {"item": "true" if item else "false"}
    if isinstance(item, int):
        return {"item": str(item)}
    if isinstance(item, float):
        return {"item": go_float_json(item)}
    if isinstance(item, dict):
        scope = {"item": go_json(item, sort_keys="top")}
        for key, value in item.items():
            scope[f"item.{key}"] = item_string(value)
        return scope
    if isinstance(item, (list, tuple)):
        return {"item": go_json(list(item), sort_keys="none")}
    if item is None:
        return {"item": "[]"}
    raise LoopError(f"withItems expected string, number, list, or map. received: {item!r}", tag=repr(item))


def loop_node_name(base_name: str, index: int, item: Any) -> str:
    """Return Argo's name for the ``index``-th child of a looping node: ``base(index:description)``.

    The description is ``%v`` of the item (:func:`item_string`); for a map,
    its sorted ``key:value`` pairs joined by commas (``(0:image:debian,tag:9.1)``);
    for a list, ``[a b]``. Parentheses are removed from the description.
    """
    if isinstance(item, dict):
        description = ",".join(sorted(f"{key}:{item_string(value)}" for key, value in item.items()))
    elif isinstance(item, (list, tuple)):
        description = "[" + " ".join(item_string(value) for value in item) + "]"
    elif item is None:
        description = "[]"  # Argo reads a null item as an empty list
    else:
        description = item_string(item)
    description = description.replace("(", "").replace(")", "")
    return f"{base_name}({index}:{description})"
