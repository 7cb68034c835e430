"""``{{...}}`` substitution with Argo's semantics (``util/template`` in argo-workflows v3.7).

Scope
-----
A scope is a plain **flat mapping** from Argo variable names to values::

    scope = {
        "workflow.name": "wf-abc", "workflow.parameters.config": '{"a": 1}',
        "inputs.parameters.week-temps": "...", "steps.flip.outputs.result": "heads",
        "tasks.b.outputs.parameters.p": "x", "item": "3", "item.name": "a",
        "pod.name": "wf-abc-123", "retries": "0",
    }

Values are strings (what ``{{name}}`` inserts, verbatim). ``None`` marks an
*absent optional* (a skipped node's output without default): a ``{{name}}``
tag on it is an error, but expressions see ``nil`` so ``x ?? 'fallback'``
works. Other values (datetimes, numbers, maps) are allowed for expressions
only; a ``{{name}}`` tag on them is an error, as in Argo.

Expressions (``{{=...}}``) get a *nested* view of the same scope, built by
:func:`expression_env` like Argo's ``expand.Expand``: ``inputs.parameters.x``
becomes ``inputs -> parameters -> x``, values stay as they are (JSON stays a
string: use ``fromJSON``/``jsonpath``), and a key that is the parent of other
keys disappears (with ``item`` and ``item.name`` both present, ``item`` in an
expression is the map ``{"name": ...}`` -- exactly Argo's behaviour for map
items). Argo's functions (``asInt``, ``asFloat``, ``jsonpath``, ``toJson``,
``sprig``) are added. Build it once with :func:`expression_env` and pass it as
``env=`` when substituting many values against one scope.

Substitution
------------
:func:`substitute` returns a deep copy of a value (dicts, lists, strings --
dict keys included, as Argo substitutes the whole JSON text; other scalars
unchanged) with every tag replaced:

* ``{{ name }}`` (spaces inside the braces are ignored) -> the scope's string.
* ``{{=expression}}`` -> the expression evaluated by
  :mod:`workflows.engine.lang.expr` and rendered like Argo's
  ``json.Marshal`` of the result: strings as is, ``30``, ``35.8``, ``true``,
  lists/maps as compact JSON with sorted keys (``[43]``,
  ``{"avg":35.8,"max":57}``). The expression text runs to the first ``}}``
  (so it cannot contain ``}}``), as with Argo's fasttemplate.
* ``{{a{{b}}`` (a tag built from another) -> ``{{a`` + value of ``b``, as Argo.
* an unclosed ``{{`` is always an error (Argo cannot parse the template).

Unresolvable tags, by mode (each mode is one of Argo's call sites):

``strict=True`` (default; Argo's ``Replace(..., allowUnresolved=false)``, used
when expanding loop items)
    an unknown ``{{name}}`` or an expression using a missing name raises
    :class:`UnresolvedReference`; an expression that fails or yields ``nil``
    raises :class:`ExpressionError`.
``strict=False`` (Argo's ``Replace(..., true)``, used for a template's own
inputs and the workflow's globals, ``SubstituteParams``)
    unknown ``{{name}}`` tags stay verbatim -- Argo fills ``steps.*``,
    ``tasks.*``, ``item*``, ``outputs.*``, ``inputs.artifacts.*``,
    ``pod.name``, ``retries``, ``workflow.status``, ``workflow.failures``,
    ``workflow.duration``, ``node.name`` ... later, and text it never knows
    (a script's own ``{{jinja}}``) reaches the container unchanged. An
    expression also stays verbatim when it uses a late-bound name that is not
    in the scope yet (:data:`~workflows.engine.lang.expr.LATE_BOUND_NAMES`:
    ``item``, ``retries``, ``lastRetry.*``, ``workflow.status``,
    ``workflow.failures``), when it fails at run time or when it yields
    ``nil``. Syntax errors always raise.
``strict=False, strict_prefixes=("steps", "tasks")`` (Argo's
``ReplaceStrictAny``, used to resolve a step's/task's references to other
nodes, ``when`` first)
    like ``strict=False``, except that ``{{steps.*}}``/``{{tasks.*}}`` tags
    (but not ``...outputs.artifacts...``, resolved separately) and expressions
    using missing ``steps.``/``tasks.`` names raise
    :class:`UnresolvedReference` (Argo requeues); an expression whose names
    are all present raises on evaluation errors.

How Argo sequences these for a step or DAG task: substitute ``when`` first
(third mode); if it evaluates false the node is skipped without resolving the
rest; otherwise substitute the whole step/task (third mode), expand its loop
(:mod:`workflows.engine.loops`) and substitute each item's copy in strict mode
(non-strict when the ``when`` is statically false).

Errors are :class:`TemplateError` subclasses naming the tag and where it is
(``arguments.parameters[0].value``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from ...vocabulary import Scope
from .errors import ExpressionError, TemplateError, UnresolvedReference
from .expr import (
    ARGO_FUNCTIONS,
    LATE_BOUND_NAMES,
    compile_expression,
    evaluate_expression,
    has_reference,
)
from .gofmt import go_json, go_sprint

__all__ = [
    "ExpressionError",
    "Scope",
    "TemplateError",
    "UnresolvedReference",
    "expression_env",
    "find_tags",
    "format_expression_result",
    "has_tags",
    "substitute",
    "substitute_string",
    "value_from_expression",
]


T = TypeVar("T")
_ARTIFACTS = ".outputs.artifacts."


def expression_env(scope: Scope) -> dict[str, Any]:
    """Return the nested environment expressions see for ``scope`` (Argo's ``expand.Expand`` + ``GetFuncMap``).

    ``{"a.b.c": "1", "a.d": "2", "item": "{...}", "item.k": "v"}`` ->
    ``{"a": {"b": {"c": "1"}, "d": "2"}, "item": {"k": "v"}, "asInt": ..., "sprig": ...}``.
    A name that is also the parent of other names is dropped (the children win).
    """
    parents: set[str] = set()
    for key in scope:
        index = key.find(".")
        while index > 0:
            parents.add(key[:index])
            index = key.find(".", index + 1)
    env: dict[str, Any] = {}
    for key, value in scope.items():
        if key in parents:
            continue
        if "." not in key:
            env[key] = value
            continue
        parts = key.split(".")
        node = env
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    env.update(ARGO_FUNCTIONS)
    return env


def format_expression_result(value: Any) -> str:
    """Render an expression's result as Argo inserts it: strings verbatim, anything else as Go's ``json.Marshal``.

    Raises ``ValueError`` for ``None`` and for values JSON cannot hold (NaN, infinities).
    """
    if isinstance(value, str):
        return value
    if value is None:
        raise ValueError("the expression evaluated to nil")
    text = go_json(value)
    if len(text) > 1 and text[0] == '"' and text[-1] == '"':  # a value marshalled as a JSON string (a time)
        return json.loads(text)
    return text


def value_from_expression(expression: str, scope: Scope, *, env: Mapping[str, Any] | None = None) -> str:
    """Evaluate an output parameter's ``valueFrom.expression`` as Argo does (``wfScope.resolveParameter``).

    The expression runs against :func:`expression_env` of ``scope`` without the
    ``{{=...}}`` missing-name checks (so the untaken branch of ``a ? b : c`` may
    name a skipped node), and the result is rendered with Go's ``%v``
    (``AnyStringPtr``): ``heads``, ``3``, ``[a b]``. A ``nil`` result raises
    :class:`ExpressionError` (Argo then falls back to ``valueFrom.default``).
    For ``fromExpression`` (artifacts) use
    :func:`workflows.engine.lang.expr.evaluate_expression` directly.
    """
    value = evaluate_expression(expression, env if env is not None else expression_env(scope))
    if value is None:
        raise ExpressionError(f"failed to evaluate expression {expression!r}: it evaluated to nil", tag=expression)
    return go_sprint(value)


def has_tags(value: Any) -> bool:
    """Return whether ``value`` (a string, or dicts/lists of them, keys included) contains a ``{{``."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(has_tags(key) or has_tags(sub) for key, sub in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_tags(sub) for sub in value)
    return False


def find_tags(text: str) -> list[str]:
    """Return the bodies of the ``{{...}}`` tags of ``text`` in order (``" item "``, ``"=asInt(x)"``), unstripped."""
    tags: list[str] = []
    position = text.find("{{")
    while position >= 0:
        end = text.find("}}", position + 2)
        if end < 0:
            break
        tags.append(text[position + 2 : end])
        position = text.find("{{", end + 2)
    return tags


class _Substitution:
    """One substitution run: the scope, the mode and a lazily built expression environment."""

    __slots__ = ("env", "scope", "strict", "strict_regex")

    def __init__(self, scope: Scope, strict: bool, strict_prefixes: Sequence[str] | None, env: Mapping[str, Any] | None) -> None:
        self.scope = scope
        self.strict = strict
        self.strict_regex = _prefix_regex(strict_prefixes) if strict_prefixes and not strict else None
        self.env = env

    def environment(self) -> Mapping[str, Any]:
        if self.env is None:
            self.env = expression_env(self.scope)
        return self.env

    def render(self, text: str) -> str:
        start = text.find("{{")
        if start < 0:
            return text
        out: list[str] = []
        position = 0
        while start >= 0:
            end = text.find("}}", start + 2)
            if end < 0:
                snippet = text[start : start + 60]
                raise TemplateError(f"cannot find the end tag '}}}}' of the tag starting with {snippet!r}", tag=snippet)
            out.append(text[position:start])
            tag = text[start + 2 : end]
            out.append(self.expression(tag[1:]) if tag.startswith("=") else self.simple(tag))
            position = end + 2
            start = text.find("{{", position)
        out.append(text[position:])
        return "".join(out)

    def simple(self, tag: str) -> str:
        name = tag.strip()
        scope = self.scope
        if name in scope:
            return _tag_value(tag, scope[name])
        nested_at = tag.rfind("{{")
        if nested_at > 0:
            nested = tag[nested_at + 2 :]
            if nested in scope:
                return "{{" + tag[:nested_at] + _tag_value(tag, scope[nested], nested)
        if self.strict or (
            self.strict_regex is not None and self.strict_regex.match(name) and _ARTIFACTS not in name
        ):
            raise UnresolvedReference(f"failed to resolve {{{{{tag}}}}}", name=name, tag=tag)
        return "{{" + tag + "}}"

    def expression(self, source: str) -> str:
        verbatim = "{{=" + source + "}}"
        try:
            compiled = compile_expression(source)
        except ExpressionError as error:
            raise ExpressionError(f"failed to evaluate expression {{{{={source}}}}}: {error.reason}", tag="=" + source) from None
        env = self.environment()
        missing = [name for name in compiled.references if not has_reference(env, name)]
        if self.strict and missing:
            raise UnresolvedReference(
                f"failed to evaluate expression {{{{={source}}}}}: {missing[0]} is missing", name=missing[0], tag="=" + source
            )
        if self.strict_regex is not None:
            for name in missing:
                if self.strict_regex.match(name):
                    raise UnresolvedReference(
                        f"failed to evaluate expression {{{{={source}}}}}: {name} is missing", name=name, tag="=" + source
                    )
        lenient = not self.strict and (bool(missing) or self.strict_regex is None)
        if lenient and any(name in LATE_BOUND_NAMES for name in missing):
            return verbatim
        try:
            result = compiled.evaluate(env)
            return format_expression_result(result)
        except UnresolvedReference as error:
            if lenient:
                return verbatim
            raise UnresolvedReference(
                f"failed to evaluate expression {{{{={source}}}}}: {error.reason}", name=error.name, tag="=" + source
            ) from None
        except (ExpressionError, ValueError) as error:
            if lenient:
                return verbatim
            reason = error.reason if isinstance(error, TemplateError) else str(error)
            raise ExpressionError(f"failed to evaluate expression {{{{={source}}}}}: {reason}", tag="=" + source) from None


def _tag_value(tag: str, value: Any, name: str | None = None) -> str:
    if isinstance(value, str):
        return value
    label = name if name is not None else tag.strip()
    if value is None:
        raise TemplateError(
            f"unable to substitute {{{{{tag}}}}}: {label} is an absent optional (skipped/omitted node with no default)", tag=tag
        )
    raise TemplateError(f"failed to resolve {{{{{tag}}}}} to string: {label} holds a {type(value).__name__}", tag=tag)


_PREFIX_CACHE: dict[tuple, re.Pattern] = {}


def _prefix_regex(prefixes: Sequence[str]) -> re.Pattern:
    key = tuple(prefixes)
    pattern = _PREFIX_CACHE.get(key)
    if pattern is None:
        pattern = re.compile("^(?:" + "|".join(re.escape(prefix) for prefix in key) + r")(?:\.|$)")
        _PREFIX_CACHE[key] = pattern
    return pattern


def _render_path(trail: list) -> str:
    text = ""
    for step in trail:
        if isinstance(step, int):
            text += f"[{step}]"
        elif text:
            text += f".{step}"
        else:
            text = str(step)
    return text


def _walk(value: Any, run: _Substitution, trail: list) -> Any:
    kind = type(value)
    if kind is str:
        if "{{" not in value:
            return value
        try:
            return run.render(value)
        except TemplateError as error:
            raise error.located(_render_path(trail)) from None
    if kind is dict or isinstance(value, dict):
        out = {}
        for key, sub in value.items():
            trail.append(key)
            if type(key) is str and "{{" in key:
                try:
                    new_key = run.render(key)
                except TemplateError as error:
                    raise error.located(_render_path(trail)) from None
            else:
                new_key = key
            out[new_key] = _walk(sub, run, trail)
            trail.pop()
        return out
    if kind is list or isinstance(value, (list, tuple)):
        out_list = []
        for index, sub in enumerate(value):
            trail.append(index)
            out_list.append(_walk(sub, run, trail))
            trail.pop()
        return out_list if kind is list or isinstance(value, list) else type(value)(out_list)
    if isinstance(value, str):
        return _walk(str(value), run, trail)
    return value


def substitute(
    value: T,
    scope: Scope,
    *,
    strict: bool = True,
    strict_prefixes: Sequence[str] | None = None,
    env: Mapping[str, Any] | None = None,
    where: str = "",
) -> T:
    """Return a deep copy of ``value`` with every ``{{...}}`` tag replaced from ``scope`` (see the module docstring).

    ``strict``/``strict_prefixes`` select Argo's behaviour for unresolvable
    tags; ``env`` is a prebuilt :func:`expression_env` of ``scope`` (built on
    first use otherwise); ``where`` prefixes the location in error messages
    (``templates.main.steps[0][1]``). The input is never mutated.
    """
    run = _Substitution(scope, strict, strict_prefixes, env)
    trail: list = [where] if where else []
    return _walk(value, run, trail)


def substitute_string(
    text: str,
    scope: Scope,
    *,
    strict: bool = True,
    strict_prefixes: Sequence[str] | None = None,
    env: Mapping[str, Any] | None = None,
    where: str = "",
) -> str:
    """:func:`substitute` for one string (the fast path when there is no ``{{``)."""
    if "{{" not in text:
        return text
    try:
        return _Substitution(scope, strict, strict_prefixes, env).render(text)
    except TemplateError as error:
        raise error.located(where) from None
