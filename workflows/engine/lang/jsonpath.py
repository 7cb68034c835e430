"""JSONPath as Argo's ``jsonpath(json, path)`` expression function evaluates it.

Argo (``util/expr/env``) parses the JSON text with ``encoding/json`` (every
number becomes a float) and queries it with ``github.com/evilmonkeyinc/jsonpath``
v0.8.1, whose result shapes this module reproduces:

* a *definite* path (``$.a``, ``$.a.b``, ``$[0].value``, ``$['x-y']``) returns
  the single value found, or fails when a key or index is missing;
* a wildcard (``[*]``, ``.*``), slice (``[0:1]``, ``[::-1]``), union
  (``[0,2]``, ``['a','b']``), filter (``[?(...)]``) or recursive descent
  (``..``) returns a *list*; the tokens after it are applied to each element
  and elements for which they fail are dropped (``$.employees[*].name`` ->
  ``["Baris", "Mo", "Jai"]``, ``$.employees[?(@.age>42 && @.age<44)].age`` ->
  ``[43]``) -- an index right after a filter/slice/union indexes the list;
* maps are walked in sorted-key order; ``.length`` is the length of a list,
  map or string.

Filters use the library's own small script language: ``@``/``$`` selectors,
numbers, ``'strings'``/``"strings"``, ``true``/``false``, ``nil``/``null``,
JSON array/object literals and the operators ``|| && ! == != < <= > >= =~ +
- * / % ** in``/``not in``. Like the library it splits an expression at the
first occurrence of its lowest-precedence operator (so ``a - b - c`` is ``a -
(b - c)``), compares with ``==`` numerically when both sides are numbers and as
strings otherwise, and treats a failed evaluation as "not selected".

Errors raise :class:`JSONPathError` (a ``ValueError``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any, Callable

from .gofmt import go_sprint, parse_go_json
from ...errors import JSONPathError

__all__ = ["JSONPathError", "query"]


def query(path: str, data: Any) -> Any:
    """Return the result of the JSONPath ``path`` applied to ``data`` (already-parsed JSON)."""
    tokens = _compile(path)
    return tokens[0].apply(data, data, tokens[1:])


# ---------------------------------------------------------------------------------------------- tokens


class _Token:
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _next(self, root: Any, value: Any, rest: tuple) -> Any:
        if rest:
            return rest[0].apply(root, value, rest[1:])
        return value


def _each(root: Any, value: Any, rest: tuple) -> tuple[Any, bool]:
    """Apply ``rest`` to one element of a multi-valued result: ``(result, keep)``; failures are dropped."""
    if not rest:
        return value, True
    try:
        result = rest[0].apply(root, value, rest[1:])
    except JSONPathError:
        return None, False
    return result, result is not None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if value is None:
        return "nil"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    return type(value).__name__


def _sorted_values(mapping: dict) -> list:
    return [mapping[key] for key in sorted(mapping)]


class _Root(_Token):
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        return self._next(root, root, rest)


class _Current(_Token):
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        return self._next(root, current, rest)


class _Key(_Token):
    def __init__(self, key: str) -> None:
        self.key = key

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        if isinstance(current, dict):
            if self.key not in current:
                raise JSONPathError(f"key: invalid token key '{self.key}' not found")
            return self._next(root, current[self.key], rest)
        if current is None:
            raise JSONPathError("key: invalid token target. expected [map] got [nil]")
        raise JSONPathError(f"key: invalid token target. expected [map] got [{_kind(current)}]")


class _Length(_Token):
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        if isinstance(current, dict):
            value: Any = current["length"] if "length" in current else len(current)
        elif isinstance(current, (list, str)):
            value = len(current)
        else:
            raise JSONPathError(f"length: invalid token target. expected [array map slice string] got [{_kind(current)}]")
        return self._next(root, value, rest)


class _Index(_Token):
    def __init__(self, index: int) -> None:
        self.index = index

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        if not isinstance(current, list):
            raise JSONPathError(f"index: invalid token target. expected [array slice] got [{_kind(current)}]")
        index = self.index + len(current) if self.index < 0 else self.index
        if not 0 <= index < len(current):
            raise JSONPathError("index: invalid token out of range")
        return self._next(root, current[index], rest)


def _members(current: Any, token: str) -> list:
    """The values a ``token`` (wildcard, filter) goes through: a list's items, a map's values in key order."""
    if isinstance(current, dict):
        return _sorted_values(current)
    if isinstance(current, list):
        return current
    raise JSONPathError(f"{token}: invalid token target. expected [array map slice] got [{_kind(current)}]")


class _Wildcard(_Token):
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        values = _members(current, "wildcard")
        out = []
        for value in values:
            result, keep = _each(root, value, rest)
            if keep:
                out.append(result)
        return out


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == int(value):
        return int(value)
    return None


class _Script(_Token):
    """``[(expression)]``: the expression's result is the index or key to take."""

    def __init__(self, expression: _Expr) -> None:
        self.expression = expression

    def value(self, root: Any, current: Any) -> Any:
        return self.expression.evaluate(root, current)

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        result = self.value(root, current)
        if isinstance(result, str) and len(result) > 1 and result[0] == result[-1] == "'":
            result = result[1:-1]
        number = _integer(result)
        if number is not None:
            return _Index(number).apply(root, current, rest)
        if isinstance(result, str):
            return _Key(result).apply(root, current, rest)
        raise JSONPathError("script: unexpected expression result")


def _argument(root: Any, current: Any, argument: Any) -> int:
    if isinstance(argument, _Script):
        result = _integer(argument.value(root, current))
        if result is None:
            raise JSONPathError("range: unexpected expression result. expected [int]")
        return result
    return argument


class _Range(_Token):
    def __init__(self, start: Any, stop: Any, step: Any) -> None:
        self.start, self.stop, self.step = start, stop, step

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        if not isinstance(current, list):
            raise JSONPathError(f"range: invalid token target. expected [array slice] got [{_kind(current)}]")
        length = len(current)
        start = 0
        if self.start is not None:
            start = _argument(root, current, self.start)
            start = min(max(start + length if start < 0 else start, 0), length)
        stop = length
        if self.stop is not None:
            stop = _argument(root, current, self.stop)
            stop = min(max(stop + length if stop < 0 else stop, 0), length)
        step = 1
        if self.step is not None:
            step = _argument(root, current, self.step)
            if step == 0:
                raise JSONPathError("range: invalid token out of range")
        indexes = range(stop - 1, start - 1, step) if step < 0 else range(start, stop, step)
        return _many(root, [current[i] for i in indexes], rest)


def _many(root: Any, values: list, rest: tuple) -> Any:
    """Finish a multi-valued token: an index indexes the list, anything else maps over it."""
    if rest and isinstance(rest[0], _Index):
        return rest[0].apply(root, values, rest[1:])
    out = []
    for value in values:
        result, keep = _each(root, value, rest)
        if keep:
            out.append(result)
    return out


class _Union(_Token):
    def __init__(self, members: list) -> None:
        self.members = members

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        keys: list[str] = []
        indexes: list[int] = []
        for member in self.members:
            value = member.value(root, current) if isinstance(member, _Script) else member
            if isinstance(value, str):
                if indexes:
                    raise JSONPathError("union: invalid token argument. expected [int] got [string]")
                keys.append(value)
            elif _integer(value) is not None:
                if keys:
                    raise JSONPathError("union: invalid token argument. expected [string] got [int]")
                indexes.append(_integer(value))  # type: ignore[arg-type]
            else:
                raise JSONPathError("union: invalid token argument")
        if keys:
            if not isinstance(current, dict):
                raise JSONPathError(f"union: invalid token target. expected [map] got [{_kind(current)}]")
            values = [current[key] for key in keys if key in current]
        else:
            if not isinstance(current, list):
                raise JSONPathError(f"union: invalid token target. expected [array slice] got [{_kind(current)}]")
            length = len(current)
            values = []
            for index in indexes:
                index = index + length if index < 0 else index
                if 0 <= index < length:
                    values.append(current[index])
        return _many(root, values, rest)


class _Filter(_Token):
    def __init__(self, expression: _Expr) -> None:
        self.expression = expression

    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        elements = _members(current, "filter")
        selected = []
        for element in elements:
            try:
                outcome = self.expression.evaluate(root, element)
            except JSONPathError:
                outcome = None
            if _truthy(outcome):
                selected.append(element)
        return _many(root, selected, rest)


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, dict)):
        return len(value) > 0
    if isinstance(value, str):
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return value != ""
    if isinstance(value, (int, float)):
        return value != 0
    return True


class _Recursive(_Token):
    def apply(self, root: Any, current: Any, rest: tuple) -> Any:
        return self._collect(root, current, rest)

    def _collect(self, root: Any, current: Any, rest: tuple) -> list:
        found: list = []
        if current is None:
            return found
        if rest:
            try:
                result = rest[0].apply(root, current, rest[1:])
            except JSONPathError:
                result = None
            if isinstance(result, list):
                found.extend(result)
            elif result is not None:
                found.append(result)
        else:
            found.append(current)
        children = _sorted_values(current) if isinstance(current, dict) else current if isinstance(current, list) else ()
        for child in children:
            found.extend(self._collect(root, child, rest))
        return found


# ---------------------------------------------------------------------------------------------- parsing


def _tokenize(selector: str) -> list[str]:
    """Split a selector into token strings (``$``, ``key``, ``[...]``, ``..``)."""
    if not selector:
        raise JSONPathError("invalid JSONPath selector '': unexpected token '' at index 0")
    if selector[0] not in "$@":
        raise JSONPathError(f"invalid JSONPath selector '{selector}': unexpected token '{selector[0]}' at index 0")
    if len(selector) > 1 and selector[1] not in ".[":
        raise JSONPathError(f"invalid JSONPath selector '{selector}': unexpected token '{selector[1]}' at index 1")
    tokens = [selector[0]]
    i = 1
    length = len(selector)
    while i < length:
        char = selector[i]
        if selector.startswith("..", i):
            tokens.append("..")
            i += 2
            continue
        if char == ".":
            i += 1
            if i < length and selector[i] == "[":
                continue
            start = i
            while i < length and selector[i] not in ".[":
                i += 1
            tokens.append(selector[start:i])
            continue
        if char == "[":
            end = _closing_bracket(selector, i)
            tokens.append(selector[i : end + 1])
            i = end + 1
            continue
        start = i
        while i < length and selector[i] not in ".[":
            i += 1
        tokens.append(selector[start:i])
    return tokens


def _outside_quotes(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, parenthesis depth)`` for each character of ``text`` from ``start`` that is not
    inside a quoted string (quotes and their contents, escapes included, are skipped)."""
    quote = ""
    paren = 0
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        else:
            if char == "(":
                paren += 1
            elif char == ")":
                paren -= 1
            yield i, char, paren
        i += 1


def _closing_bracket(text: str, start: int) -> int:
    depth = 0
    for i, char, paren in _outside_quotes(text, start):
        if char == "[" and paren == 0:
            depth += 1
        elif char == "]" and paren == 0:
            depth -= 1
            if depth == 0:
                return i
    raise JSONPathError(f"invalid JSONPath selector '{text}': unclosed subscript at index {start}")


_INT_RE = re.compile(r"-?\d+\Z")


def _parse_token(token: str) -> _Token:
    text = token.strip()
    if not text:
        raise JSONPathError("invalid token. token string is empty")
    if text == "$":
        return _Root()
    if text == "@":
        return _Current()
    if text == "*":
        return _Wildcard()
    if text == "..":
        return _Recursive()
    if not text.startswith("["):
        return _Length() if text == "length" else _Key(text)
    inner = text[1:-1].strip()
    if not inner:
        raise JSONPathError(f"invalid token. '{text}' does not match any token format")
    if inner == "*":
        return _Wildcard()
    if inner.startswith("?"):
        if not (inner.startswith("?(") and inner.endswith(")")):
            raise JSONPathError(f"invalid token. '{text}' does not match any token format")
        return _Filter(_compile_expression(inner[2:-1].strip()))
    parts = _split_subscript(inner)
    if len(parts) == 1 and not any(sep for sep, _ in parts):
        return _single(parts[0][1], text)
    separators = {sep for sep, _ in parts if sep}
    if separators == {","}:
        return _Union([_union_member(value, text) for _, value in parts])
    if separators == {":"}:
        values = [_range_member(value, text) for _, value in parts]
        if len(values) > 3:
            raise JSONPathError(f"invalid token. '{text}' does not match any token format")
        while len(values) < 3:
            values.append(None)
        return _Range(*values)
    raise JSONPathError(f"invalid token. '{text}' does not match any token format")


def _single(value: str, text: str) -> _Token:
    if _is_quoted(value):
        return _Key(_unquote(value))
    if value.startswith("(") and value.endswith(")") and len(value) > 2:
        return _Script(_compile_expression(value[1:-1]))
    if _INT_RE.match(value):
        return _Index(int(value))
    raise JSONPathError(f"invalid token. '{text}' does not match any token format")


def _union_member(value: str, text: str) -> Any:
    if _is_quoted(value):
        return _unquote(value)
    if value.startswith("(") and value.endswith(")") and len(value) > 2:
        return _Script(_compile_expression(value[1:-1]))
    if _INT_RE.match(value):
        return int(value)
    raise JSONPathError(f"invalid token. '{text}' does not match any token format")


def _range_member(value: str, text: str) -> Any:
    if value == "":
        return None
    if value.startswith("(") and value.endswith(")") and len(value) > 2:
        return _Script(_compile_expression(value[1:-1]))
    if _INT_RE.match(value):
        return int(value)
    raise JSONPathError(f"invalid token. '{text}' does not match any token format")


def _is_quoted(value: str) -> bool:
    return len(value) > 1 and value[0] == value[-1] and value[0] in "'\""


def _unquote(value: str) -> str:
    quote = value[0]
    return value[1:-1].replace("\\" + quote, quote)


def _split_subscript(inner: str) -> list[tuple[str, str]]:
    """Split a subscript body at top-level ``,``/``:``: ``[(separator_before, part), ...]``."""
    parts: list[tuple[str, str]] = []
    start = 0
    separator = ""
    for i, char, paren in _outside_quotes(inner):
        if char in ",:" and paren == 0:
            parts.append((separator, inner[start:i].strip()))
            separator = char
            start = i + 1
    parts.append((separator, inner[start:].strip()))
    return parts


@functools.lru_cache(maxsize=512)
def _compile(selector: str) -> tuple:
    return tuple(_parse_token(token) for token in _tokenize(selector))


# ---------------------------------------------------------------------------------------------- scripts

# The script engine's operators, lowest precedence first: an expression is split
# at the first occurrence of the first operator of this list that it contains.
_OPERATORS = ("||", "&&", "==", "!=", "<=", ">=", "<", ">", "=~", "!", "+", "-", "**", "*", "/", "%", "not in", "in", "@", "$")
_PARAMETERS = {"nil": None, "null": None}
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|[iI]nf(?:inity)?|NaN)\Z")


class _Expr:
    """A compiled filter/script expression: an operator tree whose leaves are raw strings."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def evaluate(self, root: Any, current: Any) -> Any:
        if isinstance(self.node, str):
            text = self.node
            if text in ("$", "@"):
                return root if text == "$" else current
            if text in _PARAMETERS:
                return None
            number = _number_of(text)
            if number is not None:
                return number
            boolean = _bool_of(text)
            if boolean is not None:
                return boolean
            return text
        if isinstance(self.node, _Literal):
            return self.node.value
        return self.node(root, current)


def _find_unquoted(source: str, operator: str) -> int:
    single = double = False
    square = round_ = 0
    for index, char in enumerate(source):
        if char == "(" and not (single or double or square):
            round_ += 1
        elif char == ")" and not (single or double or square):
            round_ -= 1
        elif char == "[" and not (single or double or round_):
            square += 1
        elif char == "]" and not (single or double or round_):
            square -= 1
        elif char == "'" and not (double or square or round_):
            single = not single
        elif char == '"' and not (single or square or round_):
            double = not double
        if single or double or square > 0 or round_ > 0:
            continue
        start = index + 1 - len(operator)
        if start < 0:
            continue
        if source[start : index + 1] == operator:
            return start
    return -1


def _build(expression: str, operators: tuple) -> Any:
    expression = expression.strip()
    if not expression:
        return None
    while expression.startswith("(") and expression.endswith(")"):
        expression = expression[1:-1].strip()
        operators = _OPERATORS
    for position, operator in enumerate(operators):
        index = _find_unquoted(expression, operator)
        if index < 0:
            continue
        right_text = expression[index + len(operator) :].strip()
        if right_text == "" and operator not in ("$", "@"):
            continue
        remaining = operators[position:]
        right = _argument_node(right_text, remaining)
        left_text = expression[:index].strip()
        if left_text == "" and operator not in ("$", "@", "!"):
            continue
        left = _argument_node(left_text, remaining)
        if operator in ("$", "@"):
            if left is not None:
                continue
            return _selector(expression)
        if operator == "!":
            if left is not None:
                continue
            return _not(right)
        return _binary(operator, left, right)
    return None


def _argument_node(text: str, operators: tuple) -> Any:
    node = _build(text, operators)
    if node is not None:
        return node
    text = text.strip()
    if not text:
        return None
    if (text.startswith("[") and text.endswith("]")) or (text.startswith("{") and text.endswith("}")):
        try:
            return _Literal(parse_go_json(text))
        except ValueError:
            return text
    return text


class _Literal:
    def __init__(self, value: Any) -> None:
        self.value = value


def _compile_expression(expression: str) -> _Expr:
    node = _build(expression, _OPERATORS)
    return _Expr(node if node is not None else expression.strip())


def _selector(selector: str) -> Callable[[Any, Any], Any]:
    tokens = tuple(_parse_token(token) for token in _tokenize(selector))

    def evaluate(root: Any, current: Any) -> Any:
        value = tokens[0].apply(root, current, tokens[1:])
        if isinstance(value, str):
            return value if _is_single_quoted(value) else f"'{value}'"
        return value

    return evaluate


def _is_single_quoted(value: str) -> bool:
    return len(value) > 1 and value[0] == value[-1] == "'"


def _resolve(argument: Any, root: Any, current: Any) -> tuple[Any, bool]:
    """Return ``(value, is_raw_text)`` for an operand."""
    if callable(argument):
        return argument(root, current), False
    if isinstance(argument, _Literal):
        return argument.value, False
    if isinstance(argument, str) and argument in _PARAMETERS:
        return None, False
    return argument, True


def _number_of(text: str) -> float | None:
    if _NUMBER_RE.match(text):
        return float(text)
    return None


def _bool_of(text: str) -> bool | None:
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _required(argument: Any, root: Any, current: Any) -> Any:
    """The value of a function's argument that may not be absent (kubectl's ``invalid argument. is nil``)."""
    if argument is None:
        raise JSONPathError("invalid argument. is nil")
    value, _ = _resolve(argument, root, current)
    return value


def _get_number(argument: Any, root: Any, current: Any) -> float:
    value = _required(argument, root, current)
    number = _number_of(go_sprint(value))
    if number is None:
        raise JSONPathError("invalid argument. expected number")
    return number


def _get_string(argument: Any, root: Any, current: Any) -> str:
    value = _required(argument, root, current)
    if isinstance(value, str):
        if _is_single_quoted(value):
            return value
        if len(value) > 1 and value[0] == value[-1] == '"':
            return f"'{value[1:-1]}'"
        return value
    return go_sprint(value)


def _get_boolean(argument: Any, root: Any, current: Any) -> bool:
    if argument is None:
        return False
    value, _ = _resolve(argument, root, current)
    if value is None:
        return False
    boolean = _bool_of(go_sprint(value))
    if boolean is None:
        raise JSONPathError("invalid argument. expected boolean")
    return boolean


def _get_elements(argument: Any, root: Any, current: Any) -> list:
    value = _required(argument, root, current)
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    raise JSONPathError("invalid argument. expected collection")


def _not(argument: Any) -> Callable[[Any, Any], Any]:
    return lambda root, current: not _get_boolean(argument, root, current)


def _strip_single(text: str) -> str:
    return text[1:-1] if _is_single_quoted(text) else text


def _binary(operator: str, left: Any, right: Any) -> Callable[[Any, Any], Any]:
    if operator in ("||", "&&"):
        def logic(root: Any, current: Any) -> Any:
            first = _get_boolean(left, root, current)
            second = _get_boolean(right, root, current)
            return (first or second) if operator == "||" else (first and second)

        return logic
    if operator in ("==", "!="):
        def equality(root: Any, current: Any) -> Any:
            try:
                same = _get_number(left, root, current) == _get_number(right, root, current)
            except JSONPathError:
                same = _get_string(left, root, current) == _get_string(right, root, current)
            return same if operator == "==" else not same

        return equality
    if operator == "=~":
        def regex(root: Any, current: Any) -> Any:
            text = _strip_single(_get_string(left, root, current))
            pattern = _strip_single(_get_string(right, root, current))
            try:
                return re.search(pattern, text) is not None
            except re.error as error:
                raise JSONPathError("invalid argument. expected regex") from error

        return regex
    if operator in ("in", "not in"):
        def membership(root: Any, current: Any) -> Any:
            try:
                item: Any = _get_number(left, root, current)
            except JSONPathError:
                item = _get_string(left, root, current)
            found = any(type(element) is type(item) and element == item for element in _get_elements(right, root, current))
            return found if operator == "in" else not found

        return membership
    comparisons: dict[str, Callable[[float, float], Any]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "**": lambda a, b: a**b,
        "/": _divide,
        "%": _modulus,
    }
    compute = comparisons[operator]

    def arithmetic(root: Any, current: Any) -> Any:
        return compute(_get_number(left, root, current), _get_number(right, root, current))

    return arithmetic


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise JSONPathError("invalid argument. divide by zero")
    return a / b


def _modulus(a: float, b: float) -> float:
    if int(b) == 0:
        raise JSONPathError("invalid argument. divide by zero")
    return float(int(a) % int(b) if (a >= 0) == (b >= 0) else -(abs(int(a)) % abs(int(b))))
