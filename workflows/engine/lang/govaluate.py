"""``when:`` conditions, evaluated as Argo's ``shouldExecute`` does with ``github.com/Knetic/govaluate``.

Argo parses the (already substituted) condition with govaluate, turns every
*variable* token into a string literal (it never passes parameters) and
evaluates the result, which must be a boolean. This module reimplements that
pipeline: govaluate's lexer (including its token-transition table, its
string-to-time literal conversion and its ``[escaped variable]`` syntax), its
operator precedence (``,`` < ``? : ??`` < ``||`` < ``&&`` < comparators <
``& | ^`` < ``<< >>`` < ``+ -`` < ``* / %`` < ``**`` < prefixes ``- ! ~``,
every level left-associative), its short-circuits and its run-time type
checks.

The entry point is :func:`evaluate_when`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from typing import Any, Callable

from ...errors import WorkflowsError
from .errors import ExpressionError
from .gofmt import ORDERINGS, go_float_v, go_sprint
from .gotime import parse_go_time

__all__ = ["evaluate_when"]

# token kinds
_PREFIX, _NUMERIC, _BOOLEAN, _STRING, _PATTERN, _TIME, _VARIABLE = "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN", "TIME", "VARIABLE"
_FUNCTION, _ACCESSOR, _COMPARATOR, _LOGICALOP, _MODIFIER = "FUNCTION", "ACCESSOR", "COMPARATOR", "LOGICALOP", "MODIFIER"
_CLAUSE, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR, _UNKNOWN = "CLAUSE", "CLAUSE_CLOSE", "TERNARY", "SEPARATOR", "UNKNOWN"

_VALUES = (_NUMERIC, _BOOLEAN, _STRING)
# kind -> (kinds that may follow, may the expression end here)
_STATES: dict[str, tuple[frozenset, bool]] = {
    _UNKNOWN: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _VARIABLE, _PATTERN, _FUNCTION, _ACCESSOR, _STRING, _TIME, _CLAUSE)), False),
    _CLAUSE: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _VARIABLE, _PATTERN, _FUNCTION, _ACCESSOR, _STRING, _TIME, _CLAUSE, _CLAUSE_CLOSE)), False),
    _CLAUSE_CLOSE: (frozenset((_COMPARATOR, _MODIFIER, _NUMERIC, _BOOLEAN, _VARIABLE, _STRING, _PATTERN, _TIME, _CLAUSE, _CLAUSE_CLOSE, _LOGICALOP, _TERNARY, _SEPARATOR)), True),
    _NUMERIC: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR)), True),
    _BOOLEAN: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR)), True),
    _STRING: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR)), True),
    _TIME: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _SEPARATOR)), True),
    _PATTERN: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _SEPARATOR)), True),
    _VARIABLE: (frozenset((_MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR)), True),
    _MODIFIER: (frozenset((_PREFIX, _NUMERIC, _VARIABLE, _FUNCTION, _ACCESSOR, _STRING, _BOOLEAN, _CLAUSE, _CLAUSE_CLOSE)), False),
    _COMPARATOR: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _VARIABLE, _FUNCTION, _ACCESSOR, _STRING, _TIME, _CLAUSE, _CLAUSE_CLOSE, _PATTERN)), False),
    _LOGICALOP: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _VARIABLE, _FUNCTION, _ACCESSOR, _STRING, _TIME, _CLAUSE, _CLAUSE_CLOSE)), False),
    _PREFIX: (frozenset((_NUMERIC, _BOOLEAN, _VARIABLE, _FUNCTION, _ACCESSOR, _CLAUSE, _CLAUSE_CLOSE)), False),
    _TERNARY: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _STRING, _TIME, _VARIABLE, _FUNCTION, _ACCESSOR, _CLAUSE, _SEPARATOR)), False),
    _FUNCTION: (frozenset((_CLAUSE,)), False),
    _ACCESSOR: (frozenset((_CLAUSE, _MODIFIER, _COMPARATOR, _LOGICALOP, _CLAUSE_CLOSE, _TERNARY, _SEPARATOR)), True),
    _SEPARATOR: (frozenset((_PREFIX, _NUMERIC, _BOOLEAN, _STRING, _TIME, _VARIABLE, _FUNCTION, _ACCESSOR, _CLAUSE)), False),
}

_PREFIX_SYMBOLS = frozenset(("-", "!", "~"))
_MODIFIER_SYMBOLS = frozenset(("+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"))
_LOGICAL_SYMBOLS = frozenset(("&&", "||"))
_COMPARATOR_SYMBOLS = frozenset(("==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"))
_TERNARY_SYMBOLS = frozenset(("?", ":", "??"))
_NUMBER_RE = re.compile(r"(?:\d+\.?\d*|\.\d+)\Z")


class _WhenError(WorkflowsError):
    """A govaluate error; the caller wraps it in :class:`ExpressionError` with Argo's wording."""


class _Tok:
    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any) -> None:
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        return f"{self.kind} [{self.value}]"


def _is_letter(char: str) -> bool:
    return char.isalpha()


def _is_numeric(char: str) -> bool:
    return char.isdigit() or char == "."


def _is_variable_char(char: str) -> bool:
    return char.isalpha() or char.isdigit() or char == "_" or char == "."


def _is_not_quote(char: str) -> bool:
    return char != "'" and char != '"'


def _is_symbol_char(char: str) -> bool:
    return not (char.isdigit() or char.isalpha() or char in "()[]'\"")


def _is_hex(char: str) -> bool:
    return char.isdigit() or char.lower() in "abcdef"


def _read_until(text: str, pos: int, include_space: bool, break_space: bool, condition: Callable[[str], bool]) -> tuple[str, int, bool]:
    """govaluate's ``readUntilFalse`` (escaping always on): ``(read, new_position, stopped_by_condition)``."""
    out: list[str] = []
    length = len(text)
    while pos < length:
        char = text[pos]
        pos += 1
        if char == "\\":
            if pos < length:
                out.append(text[pos])
                pos += 1
            continue
        if char.isspace():
            if break_space and out:
                return "".join(out), pos, True
            if not include_space:
                continue
        if condition(char):
            out.append(char)
        else:
            return "".join(out), pos - 1, True
    return "".join(out), pos, False


def _lex(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    state = _UNKNOWN
    pos = 0
    length = len(text)
    while pos < length:
        kind = _UNKNOWN
        value: Any = None
        while pos < length:
            char = text[pos]
            pos += 1
            if char.isspace():
                continue
            if _is_numeric(char):
                if pos < length and char == "0":
                    following = text[pos]
                    pos += 1
                    if pos < length and following == "x":
                        digits, pos, _ = _read_until(text, pos, False, True, _is_hex)
                        try:
                            value = float(int(digits, 16))
                        except ValueError:
                            raise _WhenError(f"Unable to parse hex value '{digits}' to uint64") from None
                        kind = _NUMERIC
                        break
                    pos -= 1
                digits, pos, _ = _read_until(text, pos - 1, False, True, _is_numeric)
                if not _NUMBER_RE.match(digits):
                    raise _WhenError(f"Unable to parse numeric value '{digits}' to float64")
                value = float(digits)
                kind = _NUMERIC
                break
            if char == ",":
                kind, value = _SEPARATOR, ","
                break
            if char == "[":
                value, pos, completed = _read_until(text, pos, True, False, lambda c: c != "]")
                if not completed:
                    raise _WhenError("Unclosed parameter bracket")
                pos += 1
                kind = _VARIABLE
                break
            if _is_letter(char):
                word, pos, _ = _read_until(text, pos - 1, False, True, _is_variable_char)
                kind, value = _VARIABLE, word
                if word in ("true", "false"):
                    kind, value = _BOOLEAN, word == "true"
                if word in ("in", "IN"):
                    kind, value = _COMPARATOR, "in"
                if word.find(".") > 0:
                    if word.endswith("."):
                        raise _WhenError(f"Hanging accessor on token '{word}'")
                    parts = word.split(".")
                    for part in parts[1:]:
                        if part[:1].upper() != part[:1]:
                            raise _WhenError(f"Unable to access unexported field '{part}' in token '{word}'")
                    kind, value = _ACCESSOR, parts
                break
            if not _is_not_quote(char):
                literal, pos, completed = _read_until(text, pos, True, False, _is_not_quote)
                if not completed:
                    raise _WhenError("Unclosed string literal")
                pos += 1
                moment = _parse_time(literal)
                if moment is not None:
                    kind, value = _TIME, moment
                else:
                    kind, value = _STRING, literal
                break
            if char == "(":
                kind, value = _CLAUSE, "("
                break
            if char == ")":
                kind, value = _CLAUSE_CLOSE, ")"
                break
            symbol, pos, _ = _read_until(text, pos - 1, False, True, _is_symbol_char)
            value = symbol
            if _PREFIX in _STATES[state][0] and symbol in _PREFIX_SYMBOLS:
                kind = _PREFIX
            elif symbol in _MODIFIER_SYMBOLS:
                kind = _MODIFIER
            elif symbol in _LOGICAL_SYMBOLS:
                kind = _LOGICALOP
            elif symbol in _COMPARATOR_SYMBOLS:
                kind = _COMPARATOR
            elif symbol in _TERNARY_SYMBOLS:
                kind = _TERNARY
            else:
                raise _WhenError(f"Invalid token: '{symbol}'")
            break
        if kind == _UNKNOWN:
            break
        tokens.append(_Tok(kind, value))
        state = kind
    return tokens


def _check_balance(tokens: list[_Tok]) -> None:
    depth = 0
    for token in tokens:
        if token.kind == _CLAUSE:
            depth += 1
        elif token.kind == _CLAUSE_CLOSE:
            depth -= 1
    if depth != 0:
        raise _WhenError("Unbalanced parenthesis")


def _check_syntax(tokens: list[_Tok]) -> None:
    state = _UNKNOWN
    last: _Tok | None = None
    for token in tokens:
        if token.kind not in _STATES[state][0]:
            if last is not None and last.kind == _VARIABLE and token.kind == _CLAUSE:
                raise _WhenError(f"Undefined function {last.value}")
            last_value = "<nil>" if last is None else _show(last.value)
            raise _WhenError(f"Cannot transition token types from {state} [{last_value}] to {token.kind} [{_show(token.value)}]")
        state = token.kind
        last = token
    if not _STATES[state][1]:
        raise _WhenError("Unexpected end of expression")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(value) + "]"
    if isinstance(value, float):
        return go_float_v(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, re.Pattern):
        return value.pattern
    return str(value)


def _optimize(tokens: list[_Tok]) -> None:
    for index, token in enumerate(tokens):
        if token.kind == _COMPARATOR and token.value in ("=~", "!~") and index + 1 < len(tokens):
            following = tokens[index + 1]
            if following.kind == _STRING:
                tokens[index + 1] = _Tok(_PATTERN, _compile_regex(following.value))


def _compile_regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern.replace("\\z", "\\Z"))
    except re.error as error:
        raise _WhenError(f"error parsing regexp: {error}: `{pattern}`") from None


# ---------------------------------------------------------------------------------------------- times


def _local_zone() -> _dt.tzinfo:
    return _dt.datetime.now().astimezone().tzinfo  # type: ignore[return-value]


_TIME_LAYOUTS = (
    "Mon Jan _2 15:04:05 2006",
    "Mon Jan _2 15:04:05 MST 2006",
    "Mon Jan 02 15:04:05 -0700 2006",
    "2006-01-02T15:04:05Z07:00",
    "2006-01-02T15:04:05.999999999Z07:00",
    "2006-01-02",
    "2006-01-02 15:04",
    "2006-01-02 15:04:05",
    "2006-01-02 15:04:05-07:00",
    "2006-01-02T15Z0700",
    "2006-01-02T15:04Z0700",
    "2006-01-02T15:04:05Z0700",
    "2006-01-02T15:04:05.999999999Z0700",
)
_KITCHEN_RE = re.compile(r"(\d{1,2}):(\d{2})(AM|PM)\Z")
_YEAR_ZERO = -62167219200  # Unix seconds of 0000-01-01T00:00:00Z


def _parse_time(candidate: str) -> float | None:
    """govaluate's ``tryParseTime``: Unix seconds when the string literal is a date/time, else ``None``."""
    if not candidate or not (candidate[0].isdigit() or candidate[0] in "MTWFS"):
        return None
    return _parse_time_cached(candidate)


@functools.lru_cache(maxsize=256)
def _parse_time_cached(candidate: str) -> float | None:
    kitchen = _KITCHEN_RE.match(candidate)
    if kitchen:
        hour = int(kitchen.group(1))
        if 1 <= hour <= 12:
            hour = hour % 12 + (12 if kitchen.group(3) == "PM" else 0)
            return float(_YEAR_ZERO + hour * 3600 + int(kitchen.group(2)) * 60)
    zone = _local_zone()
    for layout in _TIME_LAYOUTS:
        try:
            return float(int(parse_go_time(layout, candidate, zone).timestamp()))
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------------------------- planning

_SHORT = object()  # govaluate's shortCircuitHolder


class _Stage:
    __slots__ = ("left", "right", "symbol", "value")

    def __init__(self, symbol: str, left: _Stage | None = None, right: _Stage | None = None, value: Any = None) -> None:
        self.symbol = symbol
        self.left = left
        self.right = right
        self.value = value


class _Planner:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def level(self, kinds: tuple, symbols: frozenset | None, operand: Callable[[], _Stage | None]) -> _Stage | None:
        left = operand()
        while True:
            token = self.peek()
            if token is None or token.kind not in kinds:
                return left
            if symbols is not None and (not isinstance(token.value, str) or token.value not in symbols):
                return left
            self.i += 1
            left = _Stage(token.value, left, operand())

    def tokens_(self) -> _Stage | None:
        if self.peek() is None:
            return None
        return self.separator()

    def separator(self) -> _Stage | None:
        return self.level((_SEPARATOR,), None, self.ternary)

    def ternary(self) -> _Stage | None:
        return self.level((_TERNARY,), _TERNARY_SYMBOLS, self.logical_or)

    def logical_or(self) -> _Stage | None:
        return self.level((_LOGICALOP,), frozenset(("||",)), self.logical_and)

    def logical_and(self) -> _Stage | None:
        return self.level((_LOGICALOP,), frozenset(("&&",)), self.comparator)

    def comparator(self) -> _Stage | None:
        return self.level((_COMPARATOR,), _COMPARATOR_SYMBOLS, self.bitwise)

    def bitwise(self) -> _Stage | None:
        return self.level((_MODIFIER,), frozenset(("&", "|", "^")), self.shift)

    def shift(self) -> _Stage | None:
        return self.level((_MODIFIER,), frozenset(("<<", ">>")), self.additive)

    def additive(self) -> _Stage | None:
        return self.level((_MODIFIER,), frozenset(("+", "-")), self.multiplicative)

    def multiplicative(self) -> _Stage | None:
        return self.level((_MODIFIER,), frozenset(("*", "/", "%")), self.exponential)

    def exponential(self) -> _Stage | None:
        return self.level((_MODIFIER,), frozenset(("**",)), self.value)

    def value(self) -> _Stage | None:
        token = self.peek()
        if token is None:
            return None
        self.i += 1
        kind = token.kind
        if kind == _ACCESSOR:
            following = self.peek()
            arguments = self.tokens_() if following is not None and following.kind == _CLAUSE else None
            return _Stage("ACCESS", right=arguments, value=token.value)
        if kind == _CLAUSE:
            inner = self.tokens_()
            self.i += 1  # the matching CLAUSE_CLOSE (balance was checked)
            return _Stage("NOOP", right=inner)
        if kind == _CLAUSE_CLOSE:
            self.i -= 1
            return None
        if kind in (_NUMERIC, _STRING, _PATTERN, _BOOLEAN, _TIME):
            return _Stage("LITERAL", value=token.value)
        if kind == _PREFIX:  # the lexer never yields two prefixes in a row, so the operand is one value
            return _Stage("PREFIX" + token.value, right=self.value())
        if kind == _VARIABLE:  # never reached: Argo turns variables into strings
            raise _WhenError(f"No parameter '{token.value}' found.")
        raise _WhenError(f"Unable to plan token kind: '{kind}', value: '{_show(token.value)}'")


# ---------------------------------------------------------------------------------------------- evaluation


def _type_error(template: str, value: Any, symbol: str) -> _WhenError:
    return _WhenError(template.format(value=_show_value(value), symbol=symbol))


def _show_value(value: Any) -> str:
    if isinstance(value, float):
        return go_float_v(value)
    if isinstance(value, re.Pattern):
        return value.pattern
    return go_sprint(value)


_LOGICAL_ERROR = "Value '{value}' cannot be used with the logical operator '{symbol}', it is not a bool"
_MODIFIER_ERROR = "Value '{value}' cannot be used with the modifier '{symbol}', it is not a number"
_COMPARATOR_ERROR = "Value '{value}' cannot be used with the comparator '{symbol}', it is not a number"
_TERNARY_ERROR = "Value '{value}' cannot be used with the ternary operator '{symbol}', it is not a bool"
_PREFIX_ERROR = "Value '{value}' cannot be used with the prefix '{symbol}'"


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, re.Pattern):
        return a is b
    return bool(a == b)


def _evaluate(stage: _Stage | None) -> Any:
    if stage is None:
        return None
    symbol = stage.symbol
    if symbol == "LITERAL":
        return stage.value
    if symbol == "NOOP":
        return _evaluate(stage.right)
    if symbol == "ACCESS":
        raise _WhenError(f"No parameter '{stage.value[0]}' found.")
    if symbol.startswith("PREFIX"):
        op = symbol[6:]
        right = _evaluate(stage.right)
        if op == "!":
            if not isinstance(right, bool):
                raise _type_error(_PREFIX_ERROR, right, "!")
            return not right
        if not _is_float(right):
            raise _type_error(_PREFIX_ERROR, right, op)
        return -right if op == "-" else float(~int(right))
    left = _evaluate(stage.left)
    right: Any = None
    if symbol == "&&" and left is False:
        return False
    if symbol == "||" and left is True:
        return True
    if symbol == "??" and left is not None:
        return left
    if symbol == "?" and left is False or symbol == ":" and left is not None:
        right = _SHORT
    if right is not _SHORT:
        right = _evaluate(stage.right)
    return _apply(symbol, left, right)


def _apply(symbol: str, left: Any, right: Any) -> Any:
    if symbol in ("&&", "||"):
        if not isinstance(left, bool):
            raise _type_error(_LOGICAL_ERROR, left, symbol)
        if not isinstance(right, bool):
            raise _type_error(_LOGICAL_ERROR, right, symbol)
        return (left and right) if symbol == "&&" else (left or right)
    if symbol == "==":
        return _deep_equal(left, right)
    if symbol == "!=":
        return not _deep_equal(left, right)
    if symbol in ("<", ">", "<=", ">="):
        if not ((_is_float(left) and _is_float(right)) or (isinstance(left, str) and isinstance(right, str))):
            raise _type_error(_COMPARATOR_ERROR, left, symbol)
        return ORDERINGS[symbol](left, right)
    if symbol in ("=~", "!~"):
        if not isinstance(left, str):
            raise _type_error(_COMPARATOR_ERROR, left, symbol)
        if isinstance(right, str):
            pattern = _compile_regex(right)
        elif isinstance(right, re.Pattern):
            pattern = right
        else:
            raise _type_error(_COMPARATOR_ERROR, right, symbol)
        found = pattern.search(left) is not None
        return found if symbol == "=~" else not found
    if symbol == "in":
        if not isinstance(right, list):
            raise _type_error(_COMPARATOR_ERROR, right, symbol)
        return any(type(item) is type(left) and not isinstance(item, list) and item == left for item in right)
    if symbol == "+":
        if isinstance(left, str) or isinstance(right, str):
            return _concat_value(left) + _concat_value(right)
        if not (_is_float(left) and _is_float(right)):
            raise _type_error(_MODIFIER_ERROR, left, symbol)
        return left + right
    if symbol in ("-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>"):
        if not _is_float(left):
            raise _type_error(_MODIFIER_ERROR, left, symbol)
        if not _is_float(right):
            raise _type_error(_MODIFIER_ERROR, right, symbol)
        return _arithmetic(symbol, left, right)
    if symbol == "?":
        if not isinstance(left, bool):
            raise _type_error(_TERNARY_ERROR, left, symbol)
        return right if left else None
    if symbol in (":", "??"):
        return left if left is not None else right
    if symbol == ",":
        return (left + [right]) if isinstance(left, list) else [left, right]
    raise _WhenError(f"unknown operator {symbol}")  # pragma: no cover


def _concat_value(value: Any) -> str:
    if isinstance(value, float):
        return go_float_v(value)
    return _show_value(value)


def _arithmetic(symbol: str, left: float, right: float) -> float:
    if symbol == "-":
        return left - right
    if symbol == "*":
        return left * right
    if symbol == "/":
        if right == 0:
            return math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left) * math.copysign(1.0, right)
        return left / right
    if symbol == "%":
        return math.fmod(left, right) if right != 0 else math.nan
    if symbol == "**":
        try:
            return math.pow(left, right)
        except OverflowError:
            return math.inf
        except ValueError:
            return math.inf if left == 0 else math.nan
    a, b = int(left), int(right)
    if symbol == "&":
        return float(a & b)
    if symbol == "|":
        return float(a | b)
    if symbol == "^":
        return float(a ^ b)
    if symbol == "<<":
        return float((a << b) & 0xFFFFFFFFFFFFFFFF)
    return float((a & 0xFFFFFFFFFFFFFFFF) >> b)


# ---------------------------------------------------------------------------------------------- API


@functools.lru_cache(maxsize=1024)
def _plan(condition: str) -> _Stage | None:
    try:
        tokens = _lex(condition)
        _check_balance(tokens)
        _check_syntax(tokens)
        _optimize(tokens)
    except _WhenError as error:
        hint = ' (hint: try wrapping the affected expression in quotes ("))' if "Invalid token" in str(error) else ""
        raise ExpressionError(f"Invalid 'when' expression '{condition}': {error}{hint}", tag=condition) from None
    # Argo turns govaluate variables into string literals: bare words are strings.
    converted = [_Tok(_STRING, token.value) if token.kind == _VARIABLE else token for token in tokens]
    try:
        _check_balance(converted)
        _check_syntax(converted)
        _optimize(converted)
        return _Planner(converted).tokens_()
    except _WhenError as error:
        raise ExpressionError(f"Failed to parse 'when' expression '{condition}': {error}", tag=condition) from None


def evaluate_when(condition: str) -> bool:
    """Return whether a node with this (already substituted) ``when`` runs; see the module docstring."""
    if condition == "":
        return True
    stage = _plan(condition)
    try:
        result = _evaluate(stage)
    except _WhenError as error:
        raise ExpressionError(f"Failed to evaluate 'when' expresion '{condition}': {error}", tag=condition) from None
    if not isinstance(result, bool):
        raise ExpressionError(f"Expected boolean evaluation for '{condition}'. Got {_show_value(result)}", tag=condition)
    return result
