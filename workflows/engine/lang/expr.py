"""The two expression languages of Argo Workflows, evaluated with Argo's semantics (no ``eval``).

``when:`` conditions -- govaluate
---------------------------------
:func:`evaluate_when` evaluates a ``when`` string *after* its ``{{...}}`` tags
were substituted, exactly like Argo's ``shouldExecute``
(``workflow/controller/steps.go``): the string is parsed by
``github.com/Knetic/govaluate`` and every *variable* token (a bare word such as
``heads`` in ``tails == heads``, or ``[any text]``) is turned into a string
literal, because Argo never passes parameters. So ``Succeeded == Succeeded``
and ``'a' == "a"`` are true, ``3 < 10`` compares numbers (unquoted numbers
are numbers), ``'3' == 3`` is false (a quoted string never equals a number),
``"2024-01-02" < "2024-02-01"`` compares times (govaluate turns strings that
parse as dates into Unix seconds) and ``"x" in ("x", "y")`` tests membership.
Operators: ``== != < > <= >= =~ !~ in && || ! - + * / % ** & | ^ << >> ~ ?
: ??``, parentheses, ``true``/``false``. Dotted bare words (``a.b``),
bare words next to each other (``hello world``) and leftover ``{{...}}`` are
errors, as in Argo. An empty condition is true; a non-boolean result is an
error (:class:`ExpressionError`).

``{{=...}}`` tags and ``expression:`` fields -- expr-lang
-----------------------------------------------------------
:func:`evaluate_expression` evaluates ``github.com/expr-lang/expr`` (v1.17)
syntax against an environment (a mapping, usually built by
:func:`workflows.engine.lang.templating.expression_env`):

* literals ``1``, ``0x1F``, ``1_000``, ``2.5``, ``'s'``, ``"s"``, `` `raw` ``,
  ``true``, ``false``, ``nil``, arrays ``[1, 2]``, maps ``{a: 1, 'b-c': 2}``;
* ``a.b``, ``a['x-y']``, ``a[0]``, ``a[-1]``, ``a?.b``, slices ``a[1:3]``,
  ``a[:2]``, method calls (``(now() - t).Seconds()``, ``sprig.date(...)``);
* ``+ - * / % ** ^``, unary ``- + ! not``, ``== != < > <= >=`` (chained
  ``a < b < c``), ``&& and || or``, ``in``/``not in``, ``matches``,
  ``contains``, ``startsWith``, ``endsWith``, ``..`` (ranges), ``??``,
  ``c ? a : b``, ``a ?: b``, pipes ``x | f(y)`` (= ``f(x, y)``), ``let x = 1;
  x + 1``, ``if c { a } else { b }``, ``;`` sequences, ``//`` comments;
* closures ``{# > 1}`` / ``{.field}`` (``#``, ``#index``, ``#acc``) for
  ``all any none one filter map find findIndex findLast findLastIndex count
  sum groupBy sortBy reduce``;
* expr's builtins (``len type abs ceil floor round int float string trim
  trimPrefix trimSuffix upper lower split splitAfter replace repeat join
  indexOf lastIndexOf hasPrefix hasSuffix max min mean median toJSON fromJSON
  toBase64 fromBase64 now duration date timezone first last get take keys
  values toPairs fromPairs reverse uniq concat flatten sort bit*``) and the
  functions Argo adds (``util/expr/env``): ``asInt``, ``asFloat``,
  ``jsonpath(json, path)``, ``toJson`` and the ``sprig`` map
  (:mod:`workflows.engine.lang.sprig`).

Values follow Go: integers are ``int``, JSON numbers (``fromJSON``,
``jsonpath``) are ``float``; ``/`` always gives a float, ``%`` needs integers,
``==`` compares numbers across int/float but never a string with a number;
``&&``/``||``/``!``/ternaries need booleans; a missing map key gives ``nil``
and fetching from ``nil`` is an error (use ``?.``/``??``). Names that are
neither in the environment nor Argo functions raise
:class:`UnresolvedReference` even in branches that are not evaluated (expr
checks names at compile time). Any other failure raises
:class:`ExpressionError` naming the expression.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Callable

from .errors import ExpressionError, LoopError, TemplateError, UnresolvedReference
from .gofmt import go_json, go_sprint, go_type_name, parse_go_json
from .jsonpath import JSONPathError
from .jsonpath import query as jsonpath_query
from .sprig import SPRIG

__all__ = [
    "ARGO_FUNCTIONS",
    "LATE_BOUND_NAMES",
    "ExpressionError",
    "LoopError",
    "TemplateError",
    "UnresolvedReference",
    "compile_expression",
    "evaluate_expression",
    "evaluate_expression_bool",
    "evaluate_when",
    "expression_references",
    "has_reference",
    "parse_go_duration",
    "parse_go_time",
]


# ============================================================================================== lexer

_EOF, _NUM, _STR, _IDENT, _OP, _BRACKET = "EOF", "Number", "String", "Identifier", "Operator", "Bracket"
_KEYWORD_OPERATORS = frozenset(("in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else", "not"))


class _Token:
    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: str, pos: int) -> None:
        self.kind = kind
        self.value = value
        self.pos = pos

    def __repr__(self) -> str:
        return f"{self.kind}({self.value!r})" if self.kind != _EOF else "EOF"


def _is_alnum(char: str) -> bool:
    return char == "_" or char == "$" or char.isalpha() or char.isdigit()


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


def _unescape(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    length = len(body)
    while i < length:
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= length:
            raise ValueError("unable to unescape string, found '\\' as last character")
        code = body[i + 1]
        i += 2
        if code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
        elif code in "xXuU":
            if code == "u" and i < length and body[i] == "{":
                end = body.find("}", i)
                if end < 0:
                    raise ValueError("unable to unescape string")
                digits = body[i + 1 : end]
                i = end + 1
            else:
                size = {"x": 2, "X": 2, "u": 4, "U": 8}[code]
                digits = body[i : i + size]
                i += size
                if len(digits) != size:
                    raise ValueError("unable to unescape string")
            try:
                out.append(chr(int(digits, 16)))
            except ValueError as error:
                raise ValueError("unable to unescape string") from error
        elif code in "01234567":
            digits = body[i - 1 : i + 2]
            i += 2
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("unable to unescape string")
            out.append(chr(int(digits, 8)))
        else:
            raise ValueError("unable to unescape string")
    return "".join(out)


def _lex(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    length = len(source)

    def fail(message: str, at: int) -> ExpressionError:
        return ExpressionError(f"{message} (at position {at + 1}) in expression {source!r}", tag=source)

    while i < length:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if char in "'\"":
            j = i + 1
            while j < length and source[j] != char:
                j += 2 if source[j] == "\\" else 1
            if j >= length:
                raise fail("literal not terminated", start)
            try:
                tokens.append(_Token(_STR, _unescape(source[i + 1 : j]), start))
            except ValueError as error:
                raise fail(str(error), start) from None
            i = j + 1
        elif char == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise fail("literal not terminated", start)
            tokens.append(_Token(_STR, source[i + 1 : end], start))
            i = end + 1
        elif char.isdigit() or (char == "." and i + 1 < length and source[i + 1].isdigit()):
            i = _scan_number(source, i, fail)
            tokens.append(_Token(_NUM, source[start:i], start))
        elif char == "?":
            i += 2 if i + 1 < length and source[i + 1] in ".?" else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char == "/":
            if source.startswith("//", i):
                end = source.find("\n", i)
                i = length if end < 0 else end + 1
            elif source.startswith("/*", i):
                end = source.find("*/", i + 2)
                if end < 0:
                    raise fail("unclosed comment", start)
                i = end + 2
            else:
                tokens.append(_Token(_OP, "/", start))
                i += 1
        elif char == "#":
            tokens.append(_Token(_OP, "#", start))
            i += 1
            j = i
            while j < length and _is_alnum(source[j]):
                j += 1
            if j > i:
                tokens.append(_Token(_IDENT, source[i:j], i))
                i = j
        elif char in "|:":
            i += 2 if i + 1 < length and source[i + 1] == char else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char in "([{)]}":
            tokens.append(_Token(_BRACKET, char, start))
            i += 1
        elif char in ",;%+-^":
            tokens.append(_Token(_OP, char, start))
            i += 1
        elif char in "&!=*<>":
            i += 2 if i + 1 < length and source[i + 1] in "&=*" else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char == ".":
            i += 2 if i + 1 < length and source[i + 1] == "." else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif _is_alnum(char):
            j = i
            while j < length and _is_alnum(source[j]):
                j += 1
            word = source[i:j]
            tokens.append(_Token(_OP if word in _KEYWORD_OPERATORS else _IDENT, word, start))
            i = j
        else:
            raise fail(f"unrecognized character: {char!r}", start)
    tokens.append(_Token(_EOF, "", length))
    return tokens


def _scan_number(source: str, i: int, fail: Callable[[str, int], ExpressionError]) -> int:
    start = i
    length = len(source)
    digits = "0123456789_"
    if source[i] == "0" and i + 1 < length and source[i + 1] in "xXoObB":
        digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[source[i + 1].lower()]
        i += 2
    while i < length and source[i] in digits:
        i += 1
    end = i
    if i < length and source[i] == ".":
        if i + 1 < length and source[i + 1] == ".":
            return end  # a range operator: 1..3
        i += 1
        while i < length and source[i] in digits:
            i += 1
    if i < length and source[i] in "eE" and digits == "0123456789_":
        i += 1
        if i < length and source[i] in "+-":
            i += 1
        while i < length and source[i] in digits:
            i += 1
    if i < length and _is_alnum(source[i]):
        raise fail(f"bad number syntax: {source[start:i + 1]!r}", start)
    return i


# ============================================================================================== AST


class _Node:
    __slots__ = ()


class _Lit(_Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Ident(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Pointer(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Member(_Node):
    __slots__ = ("method", "obj", "optional", "prop")

    def __init__(self, obj: _Node, prop: _Node, optional: bool) -> None:
        self.obj = obj
        self.prop = prop
        self.optional = optional
        self.method = False


class _Slice(_Node):
    __slots__ = ("high", "low", "obj")

    def __init__(self, obj: _Node, low: _Node | None, high: _Node | None) -> None:
        self.obj = obj
        self.low = low
        self.high = high


class _Call(_Node):
    __slots__ = ("args", "callee")

    def __init__(self, callee: _Node, args: list) -> None:
        self.callee = callee
        self.args = args


class _Builtin(_Node):
    __slots__ = ("args", "name")

    def __init__(self, name: str, args: list) -> None:
        self.name = name
        self.args = args


class _Predicate(_Node):
    __slots__ = ("body",)

    def __init__(self, body: _Node) -> None:
        self.body = body


class _Unary(_Node):
    __slots__ = ("node", "op")

    def __init__(self, op: str, node: _Node) -> None:
        self.op = op
        self.node = node


class _Binary(_Node):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: _Node, right: _Node) -> None:
        self.op = op
        self.left = left
        self.right = right


class _Cond(_Node):
    __slots__ = ("cond", "no", "yes")

    def __init__(self, cond: _Node, yes: _Node, no: _Node) -> None:
        self.cond = cond
        self.yes = yes
        self.no = no


class _Array(_Node):
    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items


class _Map(_Node):
    __slots__ = ("pairs",)

    def __init__(self, pairs: list) -> None:
        self.pairs = pairs


class _Chain(_Node):
    __slots__ = ("node",)

    def __init__(self, node: _Node) -> None:
        self.node = node


class _Let(_Node):
    __slots__ = ("body", "name", "value")

    def __init__(self, name: str, value: _Node, body: _Node) -> None:
        self.name = name
        self.value = value
        self.body = body


class _Seq(_Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes


def _children(node: _Node) -> Iterator[_Node]:
    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name)
        if isinstance(value, _Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, _Node):
                    yield item
                elif isinstance(item, tuple):
                    yield from (sub for sub in item if isinstance(sub, _Node))


def _walk(node: _Node) -> Iterator[_Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(_children(current))))


# ============================================================================================== parser

_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_LEFT, _RIGHT = 1, 2
_BINARY = {
    "|": (0, _LEFT), "or": (10, _LEFT), "||": (10, _LEFT), "and": (15, _LEFT), "&&": (15, _LEFT),
    "==": (20, _LEFT), "!=": (20, _LEFT), "<": (20, _LEFT), ">": (20, _LEFT), ">=": (20, _LEFT), "<=": (20, _LEFT),
    "in": (20, _LEFT), "matches": (20, _LEFT), "contains": (20, _LEFT), "startsWith": (20, _LEFT), "endsWith": (20, _LEFT),
    "..": (25, _LEFT), "+": (30, _LEFT), "-": (30, _LEFT), "*": (60, _LEFT), "/": (60, _LEFT), "%": (60, _LEFT),
    "**": (100, _RIGHT), "^": (100, _RIGHT), "??": (500, _LEFT),
}
_COMPARISONS = frozenset(("<", ">", ">=", "<="))
_NEGATABLE = frozenset(("contains", "matches", "startsWith", "endsWith", "in"))
_EXPR, _PRED, _OPTIONAL = 1, 2, 4
_PREDICATES = {
    "all": (_EXPR, _PRED), "none": (_EXPR, _PRED), "any": (_EXPR, _PRED), "one": (_EXPR, _PRED),
    "filter": (_EXPR, _PRED), "map": (_EXPR, _PRED), "count": (_EXPR, _PRED | _OPTIONAL), "sum": (_EXPR, _PRED | _OPTIONAL),
    "find": (_EXPR, _PRED), "findIndex": (_EXPR, _PRED), "findLast": (_EXPR, _PRED), "findLastIndex": (_EXPR, _PRED),
    "groupBy": (_EXPR, _PRED), "sortBy": (_EXPR, _PRED, _EXPR | _OPTIONAL), "reduce": (_EXPR, _PRED, _EXPR | _OPTIONAL),
}
_IDENTIFIER_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _lex(source)
        self.i = 0
        self.depth = 0

    # -- helpers
    @property
    def cur(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> None:
        if self.i < len(self.tokens) - 1:
            self.i += 1

    def error(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.cur
        if message == "unexpected token":
            message = "unexpected end of expression" if token.kind == _EOF else f"unexpected token {token!r}"
        return ExpressionError(f"{message} (at position {token.pos + 1}) in expression {self.source!r}", tag=self.source)

    def is_op(self, value: str) -> bool:
        return self.cur.kind == _OP and self.cur.value == value

    def is_bracket(self, value: str) -> bool:
        return self.cur.kind == _BRACKET and self.cur.value == value

    def expect(self, kind: str, value: str | None = None) -> _Token:
        token = self.cur
        if token.kind != kind or (value is not None and token.value != value):
            raise self.error("unexpected token")
        self.advance()
        return token

    # -- grammar
    def parse(self) -> _Node:
        node = self.sequence()
        if self.cur.kind != _EOF:
            raise self.error("unexpected token")
        return node

    def sequence(self) -> _Node:
        nodes = [self.expression(0)]
        while self.is_op(";"):
            self.advance()
            if self.cur.kind == _EOF:
                break
            nodes.append(self.expression(0))
        return nodes[0] if len(nodes) == 1 else _Seq(nodes)

    def expression(self, precedence: int) -> _Node:
        if precedence == 0 and self.is_op("let"):
            return self.let()
        if precedence == 0 and self.is_op("if"):
            return self.conditional_if()
        left = self.primary()
        previous = ""
        while self.cur.kind == _OP:
            token = self.cur
            op = token.value
            negate = False
            saved = self.i
            if op == "not":
                self.advance()
                following = self.cur
                if following.kind == _OP and following.value in _NEGATABLE:
                    if _BINARY[following.value][0] < precedence:
                        self.i = saved
                        break
                    negate = True
                    op = following.value
                else:
                    raise self.error("unexpected token")
            spec = _BINARY.get(op)
            if spec is None or spec[0] < precedence:
                self.i = saved
                break
            self.advance()
            if op == "|":
                name = self.expect(_IDENT)
                left = self.call(name, [left])
                previous = op
                continue
            if previous == "??" and op != "??":
                raise self.error(f"Operator ({op}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.", token)
            if op in _COMPARISONS:
                left = self.comparison(left, op, spec[0])
                previous = op
                continue
            right = self.expression(spec[0] + 1 if spec[1] == _LEFT else spec[0])
            left = _Binary(op, left, right)
            if negate:
                left = _Unary("not", left)
            previous = op
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: _Node, op: str, precedence: int) -> _Node:
        root: _Node | None = None
        while True:
            right = self.expression(precedence + 1)
            node = _Binary(op, left, right)
            root = node if root is None else _Binary("&&", root, node)
            left = right
            if not (self.cur.kind == _OP and self.cur.value in _COMPARISONS):
                return root
            op = self.cur.value
            self.advance()

    def conditional(self, node: _Node) -> _Node:
        while self.is_op("?"):
            self.advance()
            if not self.is_op(":"):
                yes = self.expression(0)
                self.expect(_OP, ":")
                no = self.expression(0)
            else:
                self.advance()
                yes = node
                no = self.expression(0)
            node = _Cond(node, yes, no)
        return node

    def let(self) -> _Node:
        self.expect(_OP, "let")
        name = self.expect(_IDENT).value
        self.expect(_OP, "=")
        value = self.expression(0)
        self.expect(_OP, ";")
        return _Let(name, value, self.sequence())

    def conditional_if(self) -> _Node:
        self.advance()
        condition = self.expression(0)
        self.expect(_BRACKET, "{")
        yes = self.sequence()
        self.expect(_BRACKET, "}")
        self.expect(_OP, "else")
        if self.is_op("if"):
            no = self.conditional_if()
        else:
            self.expect(_BRACKET, "{")
            no = self.sequence()
            self.expect(_BRACKET, "}")
        return _Cond(condition, yes, no)

    def primary(self) -> _Node:
        token = self.cur
        if token.kind == _OP and token.value in _UNARY:
            self.advance()
            operand = self.expression(_UNARY[token.value])
            return self.postfix(_Unary(token.value, operand))
        if self.is_bracket("("):
            self.advance()
            node = self.sequence()
            self.expect(_BRACKET, ")")
            return self.postfix(node)
        if self.depth > 0 and token.kind == _OP and token.value in ("#", "."):
            name = ""
            if token.value == "#":
                self.advance()
                if self.cur.kind == _IDENT:
                    name = self.cur.value
                    self.advance()
            return self.postfix(_Pointer(name))
        if token.kind == _OP and token.value == "::":
            self.advance()
            name = self.expect(_IDENT)
            return self.postfix(self.call(name, [], builtins=False))
        return self.secondary()

    def secondary(self) -> _Node:
        token = self.cur
        node: _Node
        if token.kind == _IDENT:
            self.advance()
            if token.value in ("true", "false"):
                return _Lit(token.value == "true")
            if token.value == "nil":
                return _Lit(None)
            node = self.call(token, []) if self.is_bracket("(") else _Ident(token.value)
        elif token.kind == _NUM:
            self.advance()
            return _Lit(self.number(token))
        elif token.kind == _STR:
            self.advance()
            node = _Lit(token.value)
        elif self.is_bracket("["):
            node = self.array()
        elif self.is_bracket("{"):
            node = self.mapping()
        else:
            raise self.error("unexpected token")
        return self.postfix(node)

    def number(self, token: _Token) -> Any:
        text = token.value.replace("_", "")
        lowered = text.lower()
        try:
            if lowered.startswith("0x"):
                return int(text, 16)
            if lowered.startswith("0b"):
                return int(text, 2)
            if lowered.startswith("0o"):
                return int(text, 8)
            if "." in lowered or "e" in lowered:
                return float(text)
            return int(text, 10)
        except ValueError:
            raise self.error(f"invalid number literal {token.value!r}", token) from None

    def call(self, token: _Token, args: list, builtins: bool = True) -> _Node:
        name = token.value
        if builtins and name in _PREDICATES:
            self.expect(_BRACKET, "(")
            spec = _PREDICATES[name][len(args) :]
            for index, kind in enumerate(spec):
                if self.is_bracket(")"):
                    if kind & _OPTIONAL:
                        break
                    raise self.error(f"expected at least {len(spec)} arguments")
                if index > 0:
                    self.expect(_OP, ",")
                args.append(self.predicate() if kind & _PRED else self.expression(0))
            if self.is_op(","):
                self.advance()
            self.expect(_BRACKET, ")")
            return _Builtin(name, args)
        if builtins and name in _BUILTINS:
            return _Builtin(name, self.arguments(args))
        return _Call(_Ident(name), self.arguments(args))

    def arguments(self, args: list) -> list:
        offset = len(args)
        self.expect(_BRACKET, "(")
        while not self.is_bracket(")"):
            if len(args) > offset:
                self.expect(_OP, ",")
            if self.is_bracket(")"):
                break
            args.append(self.expression(0))
        self.expect(_BRACKET, ")")
        return args

    def predicate(self) -> _Node:
        brackets = self.is_bracket("{")
        if brackets:
            self.advance()
        self.depth += 1
        node = self.sequence() if brackets else self.expression(0)
        if not brackets and self.is_op(";"):
            raise self.error("wrap predicate with brackets { and }")
        self.depth -= 1
        if brackets:
            self.expect(_BRACKET, "}")
        return _Predicate(node)

    def array(self) -> _Node:
        self.expect(_BRACKET, "[")
        items: list = []
        while not self.is_bracket("]"):
            if items:
                self.expect(_OP, ",")
                if self.is_bracket("]"):
                    break
            items.append(self.expression(0))
        self.expect(_BRACKET, "]")
        return _Array(items)

    def mapping(self) -> _Node:
        self.expect(_BRACKET, "{")
        pairs: list = []
        while not self.is_bracket("}"):
            if pairs:
                self.expect(_OP, ",")
                if self.is_bracket("}"):
                    break
            token = self.cur
            key: _Node
            if token.kind in (_NUM, _STR, _IDENT):
                key = _Lit(token.value)
                self.advance()
            elif self.is_bracket("("):
                key = self.expression(0)
            else:
                raise self.error(
                    f"a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token {token!r})"
                )
            self.expect(_OP, ":")
            pairs.append((key, self.expression(0)))
        self.expect(_BRACKET, "}")
        return _Map(pairs)

    def postfix(self, node: _Node) -> _Node:
        chained = False
        while self.cur.kind in (_OP, _BRACKET):
            token = self.cur
            if token.value in (".", "?.") and token.kind == _OP:
                optional = token.value == "?."
                self.advance()
                prop = self.cur
                if optional and prop.kind == _BRACKET and prop.value == "[":
                    node = self.index(node, optional=True)
                    chained = True
                    continue
                self.advance()
                if prop.kind != _IDENT and not (prop.kind == _OP and _IDENTIFIER_RE.match(prop.value)):
                    raise self.error("expected name", prop)
                member = _Member(node, _Lit(prop.value), optional)
                chained = chained or optional
                if self.is_bracket("("):
                    member.method = True
                    node = _Call(member, self.arguments([]))
                else:
                    node = member
            elif token.kind == _BRACKET and token.value == "[":
                node = self.index(node, optional=False)
            else:
                break
        return _Chain(node) if chained else node

    def index(self, node: _Node, optional: bool) -> _Node:
        self.expect(_BRACKET, "[")
        if self.is_op(":"):
            self.advance()
            high = None if self.is_bracket("]") else self.expression(0)
            self.expect(_BRACKET, "]")
            return _Slice(node, None, high)
        low = self.expression(0)
        if self.is_op(":"):
            self.advance()
            high = None if self.is_bracket("]") else self.expression(0)
            self.expect(_BRACKET, "]")
            return _Slice(node, low, high)
        self.expect(_BRACKET, "]")
        return _Member(node, low, optional)


# ============================================================================================== values


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _aware(moment: _dt.datetime) -> _dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.timezone.utc)


class _Fail(Exception):
    """An evaluation error, turned into :class:`ExpressionError` naming the expression."""


class _NilChain(Exception):
    """``a?.b`` met a nil ``a``: the whole chain is nil."""


def _type(value: Any) -> str:
    return go_type_name(value)


def go_equal(a: Any, b: Any) -> bool:
    """expr's ``==``: numbers across int/float, strings, bools, times; lists element-wise; else deep equality."""
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        return _aware(a) == _aware(b)
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(go_equal(x, y) for x, y in zip(a, b))
    return _deep_equal(a, b)


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (isinstance(a, float) and isinstance(b, float)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values are unequal
        return False


def _less(a: Any, b: Any, op: str) -> bool:
    if _is_number(a) and _is_number(b) or isinstance(a, str) and isinstance(b, str):
        pass
    elif isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        a, b = _aware(a), _aware(b)
    elif isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        pass
    else:
        raise _Fail(f"invalid operation: {_type(a)} {op} {_type(b)}")
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _add(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a + b
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.timedelta):
        return a + b
    if isinstance(a, _dt.timedelta) and isinstance(b, (_dt.datetime, _dt.timedelta)):
        return b + a
    raise _Fail(f"invalid operation: {_type(a)} + {_type(b)}")


def _subtract(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a - b
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        return _aware(a) - _aware(b)
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.timedelta):
        return a - b
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        return a - b
    raise _Fail(f"invalid operation: {_type(a)} - {_type(b)}")


def _multiply(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return a * b
    if isinstance(a, _dt.timedelta) and _is_number(b):
        return a * b
    if _is_number(a) and isinstance(b, _dt.timedelta):
        return b * a
    raise _Fail(f"invalid operation: {_type(a)} * {_type(b)}")


def _divide(a: Any, b: Any) -> float:
    if not (_is_number(a) and _is_number(b)):
        raise _Fail(f"invalid operation: {_type(a)} / {_type(b)}")
    a, b = float(a), float(b)
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: Any, b: Any) -> int:
    if not (_is_int(a) and _is_int(b)):
        raise _Fail(f"invalid operation: {_type(a)} % {_type(b)}")
    if b == 0:
        raise _Fail("integer divide by zero")
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _power(a: Any, b: Any) -> float:
    if not (_is_number(a) and _is_number(b)):
        raise _Fail(f"invalid operation: {_type(a)} ** {_type(b)}")
    try:
        return math.pow(float(a), float(b))
    except OverflowError:
        return math.inf
    except ValueError:
        if float(a) == 0:
            return math.inf
        return math.nan


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, (list, tuple)):
        return any(go_equal(item, needle) for item in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise _Fail(f'operator "in" not defined on {_type(haystack)}')


def _strings(a: Any, b: Any, op: str) -> tuple[str, str]:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise _Fail(f"invalid operation: {_type(a)} {op} {_type(b)}")
    return a, b


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(_go_regex(pattern))
    except re.error as error:
        raise _Fail(f"error parsing regexp: {error}: `{pattern}`") from None


def _go_regex(pattern: str) -> str:
    """Translate the few RE2 spellings Python lacks (``\\z``, ``(?P<name>`` is shared, ``\\Q..\\E``)."""
    return pattern.replace("\\z", "\\Z")


def _contains(a: Any, b: Any) -> bool:
    text, sub = _strings(a, b, "contains")
    return sub in text


def _starts_with(a: Any, b: Any) -> bool:
    text, prefix = _strings(a, b, "startsWith")
    return text.startswith(prefix)


def _ends_with(a: Any, b: Any) -> bool:
    text, suffix = _strings(a, b, "endsWith")
    return text.endswith(suffix)


def _matches(a: Any, b: Any) -> bool:
    text, pattern = _strings(a, b, "matches")
    return _regex(pattern).search(text) is not None


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _Fail(f"invalid operation: {what} (mismatched type {_type(value)}, expected bool)")


def _to_index(value: Any) -> int:
    if _is_int(value):
        return value
    if isinstance(value, float):
        return int(value)
    raise _Fail(f"invalid operation: int({_type(value)})")


def _fetch(base: Any, key: Any, optional: bool = False) -> Any:
    if base is None:
        if optional:
            raise _NilChain()
        raise _Fail(f"cannot fetch {go_sprint(key)} from <nil>")
    if isinstance(base, Mapping):
        if not isinstance(key, str) and not _is_number(key) and key is not None:
            raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")
        if not isinstance(key, str) and key is not None:
            raise _Fail(f"cannot use {_type(key)} as map key of {_type(base)}")
        return base.get(key)
    if isinstance(base, (list, tuple, str)):
        if not _is_number(key):
            raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")
        index = _to_index(key)
        data: Any = base.encode("utf-8") if isinstance(base, str) else base
        size = len(data)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise _Fail(f"index out of range: {index} (array length is {size})")
        return data[index]
    raise _Fail(f"cannot fetch {go_sprint(key)} from {_type(base)}")


def _slice(base: Any, low: Any, high: Any) -> Any:
    if isinstance(base, (list, tuple, str)):
        data: Any = base.encode("utf-8") if isinstance(base, str) else base
        size = len(data)
        a = 0 if low is None else _to_index(low)
        b = size if high is None else _to_index(high)
        a = max(a + size if a < 0 else a, 0)
        b = min(max(b + size if b < 0 else b, 0), size)
        a = min(a, b)
        result = data[a:b]
        return result.decode("utf-8", errors="replace") if isinstance(base, str) else list(result)
    raise _Fail(f"cannot slice {_type(base)}")


# -- methods of Go values (time.Time, time.Duration)


def _duration_methods(value: _dt.timedelta) -> dict:
    from .gofmt import go_duration_string

    nanos = (value.days * 86400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    return {
        "Seconds": lambda: nanos / 1e9,
        "Minutes": lambda: nanos / 6e10,
        "Hours": lambda: nanos / 3.6e12,
        "Milliseconds": lambda: int(nanos / 1_000_000),
        "Microseconds": lambda: int(nanos / 1000),
        "Nanoseconds": lambda: nanos,
        "String": lambda: go_duration_string(value),
        "Abs": lambda: abs(value),
    }


def _time_methods(value: _dt.datetime) -> dict:
    from .gofmt import go_time_format, go_time_string

    moment = _aware(value)
    return {
        "Unix": lambda: int(moment.timestamp()),
        "UnixMilli": lambda: int(moment.timestamp() * 1000),
        "UnixNano": lambda: int(moment.timestamp() * 1e9),
        "Year": lambda: moment.year,
        "Month": lambda: moment.month,
        "Day": lambda: moment.day,
        "Hour": lambda: moment.hour,
        "Minute": lambda: moment.minute,
        "Second": lambda: moment.second,
        "Nanosecond": lambda: moment.microsecond * 1000,
        "YearDay": lambda: moment.timetuple().tm_yday,
        "Weekday": lambda: (moment.weekday() + 1) % 7,
        "Format": lambda layout: go_time_format(moment, layout),
        "String": lambda: go_time_string(moment),
        "UTC": lambda: moment.astimezone(_dt.timezone.utc),
        "Local": lambda: moment.astimezone(),
        "Add": lambda delta: moment + delta,
        "Sub": lambda other: moment - _aware(other),
        "AddDate": lambda years, months, days: _add_date(moment, years, months, days),
        "Before": lambda other: moment < _aware(other),
        "After": lambda other: moment > _aware(other),
        "Equal": lambda other: moment == _aware(other),
        "IsZero": lambda: moment == _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc),
        "Truncate": lambda delta: _truncate(moment, delta),
    }


def _add_date(moment: _dt.datetime, years: int, months: int, days: int) -> _dt.datetime:
    month_index = moment.month - 1 + months
    year = moment.year + years + month_index // 12
    month = month_index % 12 + 1
    day = moment.day
    base = moment.replace(year=year, month=month, day=1)
    return base + _dt.timedelta(days=day - 1 + days)


def _truncate(moment: _dt.datetime, delta: _dt.timedelta) -> _dt.datetime:
    if delta <= _dt.timedelta(0):
        return moment
    epoch = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
    return moment - ((moment - epoch) % delta)


def _method(base: Any, name: str) -> Callable[..., Any]:
    if isinstance(base, Mapping):
        function = base.get(name)
        if function is None:
            raise _Fail(f"cannot fetch {name} from {_type(base)}")
        if not callable(function):
            raise _Fail(f"{name} is not a function (type {_type(function)})")
        return function
    if isinstance(base, _dt.timedelta):
        methods = _duration_methods(base)
    elif isinstance(base, _dt.datetime):
        methods = _time_methods(base)
    elif base is None:
        raise _Fail(f"cannot fetch {name} from <nil>")
    else:
        methods = {}
    if name not in methods:
        raise _Fail(f"type {_type(base)} has no method {name}")
    return methods[name]


# ============================================================================================== builtins


def _arity(name: str, args: Sequence, *counts: int) -> None:
    if len(args) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise _Fail(f"invalid number of arguments for {name} (expected {expected}, got {len(args)})")


def _str_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Fail(f"invalid argument for {name} (type {_type(value)})")
    return value


def _builtin_int(value: Any) -> int:
    if _is_int(value):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return -(2**63)
        return int(value)
    if isinstance(value, str):
        if re.fullmatch(r"[+-]?\d+", value):
            return int(value)
        raise _Fail(f"invalid operation: int({value})")
    raise _Fail(f"invalid operation: int({_type(value)})")


_GO_FLOAT_RE = re.compile(r"[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d+)?|\d+\.|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])\Z")


def _builtin_float(value: Any) -> float:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        if _GO_FLOAT_RE.match(value) and "_" not in value:
            return float(value)
        raise _Fail(f"invalid operation: float({value})")
    raise _Fail(f"invalid operation: float({_type(value)})")


def _builtin_len(value: Any) -> int:
    if isinstance(value, (list, tuple, Mapping, str)):
        return len(value)
    raise _Fail(f"invalid argument for len (type {_type(value)})")


def _builtin_type(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, _dt.datetime):
        return "time.Time"
    if isinstance(value, _dt.timedelta):
        return "time.Duration"
    if callable(value):
        return "func"
    return "unknown"


def _round_half_away(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    rounded = math.floor(abs(value) + 0.5)
    if abs(value) + 0.5 == rounded and rounded - abs(value) != 0.5:
        rounded -= 1
    return math.copysign(rounded, value)


def _numeric_unary(name: str, function: Callable[[float], float]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not _is_number(value):
            raise _Fail(f"invalid argument for {name} (type {_type(value)})")
        return function(float(value))

    return apply


def _builtin_abs(value: Any) -> Any:
    if not _is_number(value):
        raise _Fail(f"invalid argument for abs (type {_type(value)})")
    return abs(value)


def _flatten_numbers(name: str, args: Sequence, out: list) -> list:
    for arg in args:
        if isinstance(arg, (list, tuple)):
            _flatten_numbers(name, arg, out)
        elif _is_number(arg):
            out.append(arg)
        else:
            raise _Fail(f"invalid argument for {name} (type {_type(arg)})")
    return out


def _builtin_minmax(name: str) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) == 1 and not isinstance(args[0], (list, tuple)) and not _is_number(args[0]):
            return args[0]
        values = _flatten_numbers(name, args, [])
        if not values:
            return None
        best = values[0]
        for value in values[1:]:
            if (value > best) if name == "max" else (value < best):
                best = value
        return best

    return apply


def _builtin_mean(*args: Any) -> float:
    values = _flatten_numbers("mean", args, [])
    return float(sum(values)) / len(values) if values else 0.0


def _builtin_median(*args: Any) -> float:
    values = sorted(float(v) for v in _flatten_numbers("median", args, []))
    if not values:
        return 0.0
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _builtin_trim(*args: Any) -> str:
    _arity("trim", args, 1, 2)
    text = _str_arg("trim", args[0])
    return text.strip() if len(args) == 1 else text.strip(_str_arg("trim", args[1]))


def _builtin_trim_prefix(*args: Any) -> str:
    _arity("trimPrefix", args, 1, 2)
    text = _str_arg("trimPrefix", args[0])
    prefix = _str_arg("trimPrefix", args[1]) if len(args) == 2 else " "
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def _builtin_trim_suffix(*args: Any) -> str:
    _arity("trimSuffix", args, 1, 2)
    text = _str_arg("trimSuffix", args[0])
    suffix = _str_arg("trimSuffix", args[1]) if len(args) == 2 else " "
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _go_split(text: str, separator: str, count: int = -1, after: bool = False) -> list:
    if count == 0:
        return []
    if separator == "":
        parts = list(text)
        if count > 0 and len(parts) > count:
            parts = parts[: count - 1] + ["".join(parts[count - 1 :])]
        return parts
    pieces = text.split(separator, count - 1 if count > 0 else -1)
    if after:
        return [piece + separator for piece in pieces[:-1]] + [pieces[-1]]
    return pieces


def _builtin_split(*args: Any) -> list:
    _arity("split", args, 2, 3)
    count = _to_index(args[2]) if len(args) == 3 else -1
    return _go_split(_str_arg("split", args[0]), _str_arg("split", args[1]), count)


def _builtin_split_after(*args: Any) -> list:
    _arity("splitAfter", args, 2, 3)
    count = _to_index(args[2]) if len(args) == 3 else -1
    return _go_split(_str_arg("splitAfter", args[0]), _str_arg("splitAfter", args[1]), count, after=True)


def _builtin_replace(*args: Any) -> str:
    _arity("replace", args, 3, 4)
    text, old, new = (_str_arg("replace", a) for a in args[:3])
    count = _to_index(args[3]) if len(args) == 4 else -1
    return text.replace(old, new, count if count >= 0 else -1)


def _builtin_repeat(text: Any, count: Any) -> str:
    number = _to_index(count)
    if number < 0:
        raise _Fail(f"invalid argument for repeat (expected positive integer, got {number})")
    if number > 1_000_000:
        raise _Fail("memory budget exceeded")
    return _str_arg("repeat", text) * number


def _builtin_join(*args: Any) -> str:
    _arity("join", args, 1, 2)
    glue = _str_arg("join", args[1]) if len(args) == 2 else ""
    items = args[0]
    if not isinstance(items, (list, tuple)):
        raise _Fail(f"invalid argument for join (type {_type(items)})")
    for item in items:
        if not isinstance(item, str):
            raise _Fail(f"interface conversion: interface {{}} is {_type(item)}, not string")
    return glue.join(items)


def _byte_index(text: Any, sub: Any, last: bool = False) -> int:
    haystack = _str_arg("indexOf", text).encode("utf-8")
    needle = _str_arg("indexOf", sub).encode("utf-8")
    return haystack.rfind(needle) if last else haystack.find(needle)


def _builtin_to_json(value: Any) -> str:
    try:
        return go_json(value, indent="  ")
    except ValueError as error:
        raise _Fail(str(error)) from None


def _builtin_from_json(text: Any) -> Any:
    try:
        return parse_go_json(_str_arg("fromJSON", text))
    except ValueError as error:
        raise _Fail(f"fromJSON: {error}") from None


def _builtin_from_base64(text: Any) -> str:
    try:
        return base64.b64decode(_str_arg("fromBase64", text), validate=True).decode("utf-8", errors="replace")
    except ValueError as error:
        raise _Fail(f"illegal base64 data: {error}") from None


def _builtin_now(*args: Any) -> _dt.datetime:
    if not args:
        return _dt.datetime.now().astimezone()
    if len(args) == 1 and isinstance(args[0], _dt.tzinfo):
        return _dt.datetime.now(args[0])
    raise _Fail(f"invalid number of arguments (expected 0, got {len(args)})")


def _builtin_timezone(name: Any) -> _dt.tzinfo:
    name = _str_arg("timezone", name)
    if name == "UTC":
        return _dt.timezone.utc
    if name == "Local":
        return _dt.datetime.now().astimezone().tzinfo  # type: ignore[return-value]
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001
        raise _Fail(f"unknown time zone {name}") from None


_DEFAULT_DATE_LAYOUTS = (
    "2006-01-02",
    "15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05Z07:00",
    "02 Jan 06 15:04 MST",
    "Monday, 02-Jan-06 15:04:05 MST",
    "Mon, 02 Jan 2006 15:04:05 MST",
)


def _builtin_date(*args: Any) -> _dt.datetime:
    zone: _dt.tzinfo | None = None
    if args and isinstance(args[0], _dt.tzinfo):
        zone = args[0]
        args = args[1:]
    if not 1 <= len(args) <= 3:
        raise _Fail(f"invalid number of arguments (expected 1 to 3, got {len(args)})")
    text = _str_arg("date", args[0])
    if len(args) >= 2:
        if len(args) == 3:
            zone = _builtin_timezone(args[2])
        try:
            return parse_go_time(_str_arg("date", args[1]), text, zone)
        except ValueError as error:
            raise _Fail(str(error)) from None
    for layout in _DEFAULT_DATE_LAYOUTS:
        try:
            return parse_go_time(layout, text, zone)
        except ValueError:
            continue
    raise _Fail(f"invalid date {text}")


def _builtin_duration(text: Any) -> _dt.timedelta:
    try:
        return parse_go_duration(_str_arg("duration", text))
    except ValueError as error:
        raise _Fail(str(error)) from None


def _builtin_first_last(index: int) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value:
            return value[index]
        return None

    return apply


def _builtin_get(*args: Any) -> Any:
    _arity("get", args, 2)
    base, key = args
    if base is None:
        return None
    if isinstance(base, Mapping):
        try:
            return base.get(key)
        except TypeError:
            return None
    if isinstance(base, (list, tuple, str)):
        if not _is_number(key):
            return None
        try:
            return _fetch(base, key)
        except _Fail:
            return None
    return None


def _builtin_take(items: Any, count: Any) -> list:
    if not isinstance(items, (list, tuple)):
        raise _Fail(f"cannot take from {_type(items)}")
    if not _is_int(count):
        raise _Fail(f"cannot take {_type(count)} elements")
    return list(items[: max(count, 0)])


def _mapping_arg(name: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        raise _Fail(f"cannot get {name} from {_type(value)}")
    return value


def _builtin_from_pairs(pairs: Any) -> dict:
    if not isinstance(pairs, (list, tuple)):
        raise _Fail(f"cannot transform {_type(pairs)} from pairs")
    out: dict = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _Fail(f"invalid pair {go_sprint(pair)}")
        out[pair[0]] = pair[1]
    return out


def _list_arg(name: str, value: Any) -> list:
    if not isinstance(value, (list, tuple)):
        raise _Fail(f"cannot {name} {_type(value)}")
    return list(value)


def _builtin_uniq(items: Any) -> list:
    out: list = []
    for item in _list_arg("uniq", items):
        if not any(go_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _builtin_concat(*lists: Any) -> list:
    if not lists:
        raise _Fail("invalid number of arguments (expected at least 1, got 0)")
    out: list = []
    for value in lists:
        out.extend(_list_arg("concat", value))
    return out


def _builtin_flatten(items: Any) -> list:
    out: list = []

    def walk(values: Sequence) -> None:
        for value in values:
            if isinstance(value, (list, tuple)):
                walk(value)
            else:
                out.append(value)

    walk(_list_arg("flatten", items))
    return out


def _sort_key(value: Any) -> Any:
    if _is_number(value):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    raise _Fail(f"cannot sort {_type(value)}")


def _builtin_sort(*args: Any) -> list:
    _arity("sort", args, 1, 2)
    items = _list_arg("sort", args[0])
    descending = False
    if len(args) == 2:
        if args[1] not in ("asc", "desc"):
            raise _Fail(f"invalid order {go_sprint(args[1])}, expected asc or desc")
        descending = args[1] == "desc"
    return sorted(items, key=_sort_key, reverse=descending)


def _bit(name: str, function: Callable[[int, int], int]) -> Callable[..., int]:
    def apply(*args: Any) -> int:
        _arity(name, args, 2)
        if not (_is_int(args[0]) and _is_int(args[1])):
            raise _Fail(f"cannot use {_type(args[0] if not _is_int(args[0]) else args[1])} as argument (type int) to call {name}")
        return function(args[0], args[1])

    return apply


def _bitnot(value: Any) -> int:
    if not _is_int(value):
        raise _Fail(f"cannot use {_type(value)} as argument (type int) to call bitnot")
    return ~value


def _shift(a: int, b: int, right: bool) -> int:
    if b < 0:
        raise _Fail(f"invalid operation: negative shift count {b} (type int)")
    return a >> b if right else (a << b) & 0xFFFFFFFFFFFFFFFF


_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _builtin_len,
    "type": _builtin_type,
    "abs": _builtin_abs,
    "ceil": _numeric_unary("ceil", lambda x: float(math.ceil(x)) if math.isfinite(x) else x),
    "floor": _numeric_unary("floor", lambda x: float(math.floor(x)) if math.isfinite(x) else x),
    "round": _numeric_unary("round", _round_half_away),
    "int": _builtin_int,
    "float": _builtin_float,
    "string": go_sprint,
    "trim": _builtin_trim,
    "trimPrefix": _builtin_trim_prefix,
    "trimSuffix": _builtin_trim_suffix,
    "upper": lambda text: _str_arg("upper", text).upper(),
    "lower": lambda text: _str_arg("lower", text).lower(),
    "split": _builtin_split,
    "splitAfter": _builtin_split_after,
    "replace": _builtin_replace,
    "repeat": _builtin_repeat,
    "join": _builtin_join,
    "indexOf": lambda text, sub: _byte_index(text, sub),
    "lastIndexOf": lambda text, sub: _byte_index(text, sub, last=True),
    "hasPrefix": lambda text, prefix: _str_arg("hasPrefix", text).startswith(_str_arg("hasPrefix", prefix)),
    "hasSuffix": lambda text, suffix: _str_arg("hasSuffix", text).endswith(_str_arg("hasSuffix", suffix)),
    "max": _builtin_minmax("max"),
    "min": _builtin_minmax("min"),
    "mean": _builtin_mean,
    "median": _builtin_median,
    "toJSON": _builtin_to_json,
    "fromJSON": _builtin_from_json,
    "toBase64": lambda text: base64.b64encode(_str_arg("toBase64", text).encode("utf-8")).decode("ascii"),
    "fromBase64": _builtin_from_base64,
    "now": _builtin_now,
    "duration": _builtin_duration,
    "date": _builtin_date,
    "timezone": _builtin_timezone,
    "first": _builtin_first_last(0),
    "last": _builtin_first_last(-1),
    "get": _builtin_get,
    "take": _builtin_take,
    "keys": lambda value: list(_mapping_arg("keys", value).keys()),
    "values": lambda value: list(_mapping_arg("values", value).values()),
    "toPairs": lambda value: [[k, v] for k, v in _mapping_arg("pairs", value).items()],
    "fromPairs": _builtin_from_pairs,
    "reverse": lambda items: list(reversed(_list_arg("reverse", items))),
    "uniq": _builtin_uniq,
    "concat": _builtin_concat,
    "flatten": _builtin_flatten,
    "sort": _builtin_sort,
    "bitand": _bit("bitand", lambda a, b: a & b),
    "bitor": _bit("bitor", lambda a, b: a | b),
    "bitxor": _bit("bitxor", lambda a, b: a ^ b),
    "bitnand": _bit("bitnand", lambda a, b: a & ~b),
    "bitshl": _bit("bitshl", lambda a, b: _shift(a, b, right=False)),
    "bitshr": _bit("bitshr", lambda a, b: _shift(a, b, right=True)),
    "bitushr": _bit("bitushr", lambda a, b: _shift(a & 0xFFFFFFFFFFFFFFFF, b, right=True)),
    "bitnot": lambda value: _bitnot(value),
}
_BUILTIN_ARITY = {
    "len": (1,), "type": (1,), "abs": (1,), "ceil": (1,), "floor": (1,), "round": (1,), "int": (1,), "float": (1,),
    "string": (1,), "upper": (1,), "lower": (1,), "repeat": (2,), "indexOf": (2,), "lastIndexOf": (2,),
    "hasPrefix": (2,), "hasSuffix": (2,), "toJSON": (1,), "fromJSON": (1,), "toBase64": (1,), "fromBase64": (1,),
    "duration": (1,), "timezone": (1,), "first": (1,), "last": (1,), "take": (2,), "keys": (1,), "values": (1,),
    "toPairs": (1,), "fromPairs": (1,), "reverse": (1,), "uniq": (1,), "flatten": (1,), "bitnot": (1,),
}


# -- Argo's additions to the environment (util/expr/env.GetFuncMap)


def _argo_to_json(value: Any) -> str:
    try:
        return go_json(value)
    except ValueError as error:
        raise _Fail(str(error)) from None


def _argo_jsonpath(document: Any, path: Any) -> Any:
    if not isinstance(document, str):
        raise _Fail(f"jsonpath: the JSON argument must be a string, got {_type(document)} {go_sprint(document)!r}")
    if not isinstance(path, str):
        raise _Fail(f"jsonpath: the path argument must be a string, got {_type(path)}")
    try:
        data = parse_go_json(document)
    except ValueError as error:
        raise _Fail(f"jsonpath: invalid JSON {document!r}: {error}") from None
    try:
        return jsonpath_query(path, data)
    except JSONPathError as error:
        raise _Fail(f"jsonpath {path!r}: {error}") from None


#: The functions Argo adds to every expression environment (``asInt``/``asFloat`` are expr's ``int``/``float``).
ARGO_FUNCTIONS: dict[str, Any] = {
    "asInt": _builtin_int,
    "asFloat": _builtin_float,
    "jsonpath": _argo_jsonpath,
    "toJson": _argo_to_json,
    "sprig": SPRIG,
}

#: Names Argo leaves unresolved (the tag stays verbatim) when an expression uses them before they exist.
LATE_BOUND_NAMES = (
    "item",
    "retries",
    "lastRetry.exitCode",
    "lastRetry.status",
    "lastRetry.duration",
    "lastRetry.message",
    "workflow.status",
    "workflow.failures",
)


# ============================================================================================== compiler


class _Ctx:
    __slots__ = ("env", "frames", "vars")

    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env
        self.vars: dict = {}
        self.frames: list = []


Evaluator = Callable[[_Ctx], Any]


def _compile(node: _Node) -> Evaluator:
    kind = type(node)
    handler = _COMPILERS.get(kind)
    if handler is None:  # pragma: no cover - every node kind has a compiler
        raise _Fail(f"cannot compile {kind.__name__}")
    return handler(node)


def _c_lit(node: _Lit) -> Evaluator:
    value = node.value
    return lambda ctx: value


def _c_ident(node: _Ident) -> Evaluator:
    name = node.name

    def identifier(ctx: _Ctx) -> Any:
        if ctx.vars and name in ctx.vars:
            return ctx.vars[name]
        env = ctx.env
        if name in env:
            return env[name]
        if name in ARGO_FUNCTIONS:
            return ARGO_FUNCTIONS[name]
        raise UnresolvedReference(f"unknown name {name}", name=name)

    return identifier


def _c_pointer(node: _Pointer) -> Evaluator:
    name = node.name
    slot = {"": 0, "index": 1, "acc": 2}.get(name)

    def pointer(ctx: _Ctx) -> Any:
        if slot is None:
            raise _Fail(f"unknown pointer #{name}")
        if not ctx.frames:
            raise _Fail("# used outside of a closure")
        return ctx.frames[-1][slot]

    return pointer


def _c_member(node: _Member) -> Evaluator:
    obj = _compile(node.obj)
    prop = _compile(node.prop)
    optional = node.optional
    return lambda ctx: _fetch(obj(ctx), prop(ctx), optional)


def _c_slice(node: _Slice) -> Evaluator:
    obj = _compile(node.obj)
    low = _compile(node.low) if node.low is not None else None
    high = _compile(node.high) if node.high is not None else None
    return lambda ctx: _slice(obj(ctx), low(ctx) if low else None, high(ctx) if high else None)


def _invoke(name: str, function: Any, args: list) -> Any:
    if not callable(function):
        raise _Fail(f"{name} is not a function (type {_type(function)})")
    try:
        return function(*args)
    except (TemplateError, _Fail, _NilChain):
        raise
    except TypeError as error:
        raise _Fail(f"{name}: wrong arguments ({error})") from None
    except (ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError, AttributeError, re.error) as error:
        raise _Fail(f"{name}: {error}") from None


def _c_call(node: _Call) -> Evaluator:
    args = [_compile(arg) for arg in node.args]
    callee = node.callee
    if isinstance(callee, _Member):
        base = _compile(callee.obj)
        prop = _compile(callee.prop)
        optional = callee.optional

        def method_call(ctx: _Ctx) -> Any:
            target = base(ctx)
            if target is None and optional:
                raise _NilChain()
            name = prop(ctx)
            return _invoke(str(name), _method(target, str(name)), [arg(ctx) for arg in args])

        return method_call
    function = _compile(callee)
    label = callee.name if isinstance(callee, _Ident) else "function"
    return lambda ctx: _invoke(label, function(ctx), [arg(ctx) for arg in args])


def _run_predicate(ctx: _Ctx, body: Evaluator, element: Any, index: int, acc: Any = None) -> Any:
    ctx.frames.append((element, index, acc))
    try:
        return body(ctx)
    finally:
        ctx.frames.pop()


def _iterable(name: str, value: Any) -> Sequence:
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    raise _Fail(f"cannot iterate over {_type(value)} (in {name})")


def _predicate_builtin(name: str, args: list) -> Evaluator:
    collection = args[0]
    body = args[1] if len(args) > 1 else None
    extra = args[2] if len(args) > 2 else None

    def test(ctx: _Ctx, element: Any, index: int) -> bool:
        return _bool(_run_predicate(ctx, body, element, index), f"predicate of {name}")  # type: ignore[arg-type]

    def run(ctx: _Ctx) -> Any:
        items = _iterable(name, collection(ctx))
        if name == "all":
            return all(test(ctx, x, i) for i, x in enumerate(items))
        if name == "none":
            return not any(test(ctx, x, i) for i, x in enumerate(items))
        if name == "any":
            return any(test(ctx, x, i) for i, x in enumerate(items))
        if name == "one":
            return sum(1 for i, x in enumerate(items) if test(ctx, x, i)) == 1
        if name == "filter":
            return [x for i, x in enumerate(items) if test(ctx, x, i)]
        if name == "map":
            return [_run_predicate(ctx, body, x, i) for i, x in enumerate(items)]  # type: ignore[arg-type]
        if name == "find":
            return next((x for i, x in enumerate(items) if test(ctx, x, i)), None)
        if name == "findIndex":
            return next((i for i, x in enumerate(items) if test(ctx, x, i)), -1)
        if name == "findLast":
            return next((x for i, x in reversed(list(enumerate(items))) if test(ctx, x, i)), None)
        if name == "findLastIndex":
            return next((i for i, x in reversed(list(enumerate(items))) if test(ctx, x, i)), -1)
        if name == "count":
            if body is None:
                return sum(1 for x in items if _bool(x, "count"))
            return sum(1 for i, x in enumerate(items) if test(ctx, x, i))
        if name == "sum":
            total: Any = 0
            for i, x in enumerate(items):
                total = _add(total, x if body is None else _run_predicate(ctx, body, x, i))
            return total
        if name == "groupBy":
            groups: dict = {}
            for i, x in enumerate(items):
                groups.setdefault(_run_predicate(ctx, body, x, i), []).append(x)  # type: ignore[arg-type]
            return groups
        if name == "sortBy":
            order = extra(ctx) if extra is not None else "asc"
            if order not in ("asc", "desc"):
                raise _Fail(f"unknown order {go_sprint(order)}, use asc or desc")
            keyed = [(_sort_key(_run_predicate(ctx, body, x, i)), x) for i, x in enumerate(items)]  # type: ignore[arg-type]
            keyed.sort(key=lambda pair: pair[0], reverse=order == "desc")
            return [x for _, x in keyed]
        if name == "reduce":
            values = list(items)
            if extra is not None:
                acc = extra(ctx)
                start = 0
            else:
                if not values:
                    raise _Fail("reduce of empty array with no initial value")
                acc = values[0]
                start = 1
            for i in range(start, len(values)):
                acc = _run_predicate(ctx, body, values[i], i, acc)  # type: ignore[arg-type]
            return acc
        raise _Fail(f"unknown builtin {name}")  # pragma: no cover

    return run


def _c_builtin(node: _Builtin) -> Evaluator:
    name = node.name
    args = [_compile(arg) for arg in node.args]
    if name in _PREDICATES:
        return _predicate_builtin(name, args)
    function = _BUILTINS[name]
    arity = _BUILTIN_ARITY.get(name)
    if arity is not None and len(args) not in arity:
        # expr's checker rejects this when compiling; Argo then treats it like any failed evaluation.
        message = f"invalid number of arguments for {name} (expected {' or '.join(map(str, arity))}, got {len(args)})"

        def wrong_arity(ctx: _Ctx) -> Any:
            raise _Fail(message)

        return wrong_arity
    return lambda ctx: _invoke(name, function, [arg(ctx) for arg in args])


def _c_predicate(node: _Predicate) -> Evaluator:
    return _compile(node.body)


def _c_unary(node: _Unary) -> Evaluator:
    operand = _compile(node.node)
    op = node.op
    if op in ("!", "not"):
        return lambda ctx: not _bool(operand(ctx), f"operand of {op}")

    def numeric(ctx: _Ctx) -> Any:
        value = operand(ctx)
        if not (_is_number(value) or (op == "-" and isinstance(value, _dt.timedelta))):
            raise _Fail(f"invalid operation: {op}{_type(value)}")
        return -value if op == "-" else value

    return numeric


def _c_binary(node: _Binary) -> Evaluator:
    op = node.op
    left = _compile(node.left)
    right = _compile(node.right)
    if op in ("&&", "and"):
        return lambda ctx: _bool(left(ctx), f"left operand of {op}") and _bool(right(ctx), f"right operand of {op}")
    if op in ("||", "or"):
        return lambda ctx: _bool(left(ctx), f"left operand of {op}") or _bool(right(ctx), f"right operand of {op}")
    if op == "??":

        def coalesce(ctx: _Ctx) -> Any:
            value = left(ctx)
            return right(ctx) if value is None else value

        return coalesce
    if op == "==":
        return lambda ctx: go_equal(left(ctx), right(ctx))
    if op == "!=":
        return lambda ctx: not go_equal(left(ctx), right(ctx))
    if op in _COMPARISONS:
        return lambda ctx: _less(left(ctx), right(ctx), op)
    simple: dict[str, Callable[[Any, Any], Any]] = {
        "+": _add,
        "-": _subtract,
        "*": _multiply,
        "/": _divide,
        "%": _modulo,
        "**": _power,
        "^": _power,
        "in": _in,
        "matches": _matches,
        "contains": _contains,
        "startsWith": _starts_with,
        "endsWith": _ends_with,
        "..": _range,
    }
    function = simple[op]
    return lambda ctx: function(left(ctx), right(ctx))


def _range(a: Any, b: Any) -> list:
    if not (_is_int(a) and _is_int(b)):
        raise _Fail(f"invalid operation: {_type(a)} .. {_type(b)}")
    return list(range(a, b + 1))


def _c_cond(node: _Cond) -> Evaluator:
    cond = _compile(node.cond)
    yes = _compile(node.yes)
    no = _compile(node.no)
    return lambda ctx: yes(ctx) if _bool(cond(ctx), "condition of ?:") else no(ctx)


def _c_array(node: _Array) -> Evaluator:
    items = [_compile(item) for item in node.items]
    return lambda ctx: [item(ctx) for item in items]


def _c_map(node: _Map) -> Evaluator:
    pairs = [(_compile(key), _compile(value)) for key, value in node.pairs]

    def mapping(ctx: _Ctx) -> dict:
        out = {}
        for key, value in pairs:
            name = key(ctx)
            if not isinstance(name, str):
                raise _Fail(f"map keys must be strings, got {_type(name)}")
            out[name] = value(ctx)
        return out

    return mapping


def _c_chain(node: _Chain) -> Evaluator:
    inner = _compile(node.node)

    def chain(ctx: _Ctx) -> Any:
        try:
            return inner(ctx)
        except _NilChain:
            return None

    return chain


def _c_let(node: _Let) -> Evaluator:
    value = _compile(node.value)
    body = _compile(node.body)
    name = node.name

    def let(ctx: _Ctx) -> Any:
        saved = ctx.vars
        ctx.vars = dict(saved)
        ctx.vars[name] = value(ctx)
        try:
            return body(ctx)
        finally:
            ctx.vars = saved

    return let


def _c_seq(node: _Seq) -> Evaluator:
    nodes = [_compile(sub) for sub in node.nodes]

    def sequence(ctx: _Ctx) -> Any:
        result = None
        for sub in nodes:
            result = sub(ctx)
        return result

    return sequence


_COMPILERS: dict[type, Callable[[Any], Evaluator]] = {
    _Lit: _c_lit,
    _Ident: _c_ident,
    _Pointer: _c_pointer,
    _Member: _c_member,
    _Slice: _c_slice,
    _Call: _c_call,
    _Builtin: _c_builtin,
    _Predicate: _c_predicate,
    _Unary: _c_unary,
    _Binary: _c_binary,
    _Cond: _c_cond,
    _Array: _c_array,
    _Map: _c_map,
    _Chain: _c_chain,
    _Let: _c_let,
    _Seq: _c_seq,
}


# ============================================================================================== public API


class CompiledExpression:
    """A parsed expr-lang expression: evaluate it many times with :meth:`evaluate`.

    ``free_names`` are the top-level names it reads from the environment (expr
    rejects unknown ones before running); ``references`` are the names and
    dotted member paths Argo checks for presence (``inputs.parameters.x``,
    ``item``), excluding those guarded by ``??`` or ``?.``.
    """

    __slots__ = ("_run", "free_names", "references", "source")

    def __init__(self, source: str, free_names: tuple, references: tuple, run: Evaluator) -> None:
        self.source = source
        self.free_names = free_names
        self.references = references
        self._run = run

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate against ``env``; raises :class:`UnresolvedReference` or :class:`ExpressionError`."""
        for name in self.free_names:
            if name not in env and name not in ARGO_FUNCTIONS:
                raise UnresolvedReference(
                    f"unknown name {name} in expression {self.source!r}", name=name, tag=self.source
                )
        ctx = _Ctx(env)
        try:
            return self._run(ctx)
        except UnresolvedReference as error:
            raise UnresolvedReference(f"{error.reason} in expression {self.source!r}", name=error.name, tag=self.source) from None
        except _Fail as error:
            raise ExpressionError(f"failed to evaluate expression {self.source!r}: {error}", tag=self.source) from None
        except _NilChain:  # pragma: no cover - chains catch it
            return None
        except RecursionError:
            raise ExpressionError(f"expression {self.source!r} is nested too deeply", tag=self.source) from None


def _free_names(root: _Node) -> tuple:
    names: list[str] = []
    bound: set[str] = set()

    def visit(node: _Node, scope: frozenset) -> None:
        if isinstance(node, _Ident):
            if node.name not in scope and node.name not in names:
                names.append(node.name)
            return
        if isinstance(node, _Let):
            visit(node.value, scope)
            visit(node.body, scope | {node.name})
            return
        for child in _children(node):
            visit(child, scope)

    visit(root, frozenset(bound))
    return tuple(names)


def _member_path(node: _Member) -> str | None:
    parts: list[str] = []
    current: _Node = node
    while isinstance(current, _Member):
        if current.optional or not isinstance(current.prop, _Lit) or not isinstance(current.prop.value, str):
            return None
        parts.append(current.prop.value)
        current = current.obj
    if not isinstance(current, _Ident):
        return None
    parts.append(current.name)
    return ".".join(reversed(parts))


def _references(root: _Node, let_names: set) -> tuple:
    guarded: set[int] = set()
    for node in _walk(root):
        if isinstance(node, _Binary) and node.op == "??":
            guarded.update(id(sub) for sub in _walk(node.left) if isinstance(sub, _Member))
        elif isinstance(node, _Member) and node.optional and isinstance(node.obj, _Member):
            guarded.add(id(node.obj))
    found: list[str] = []
    for node in _walk(root):
        if id(node) in guarded:
            continue
        name: str | None = None
        if isinstance(node, _Ident):
            name = None if node.name in let_names else node.name
        elif isinstance(node, _Member) and not node.method:
            name = _member_path(node)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found)


@functools.lru_cache(maxsize=2048)
def compile_expression(source: str) -> CompiledExpression:
    """Parse and compile ``source`` (cached); raises :class:`ExpressionError` on a syntax error."""
    if not source.strip():
        raise ExpressionError("empty expression", tag=source)
    try:
        tree = _Parser(source).parse()
        run = _compile(tree)
    except _Fail as error:
        raise ExpressionError(f"invalid expression {source!r}: {error}", tag=source) from None
    except RecursionError:
        raise ExpressionError(f"expression {source!r} is nested too deeply", tag=source) from None
    let_names = {node.name for node in _walk(tree) if isinstance(node, _Let)}
    return CompiledExpression(source, _free_names(tree), _references(tree, let_names), run)


def evaluate_expression(expression: str, env: Mapping[str, Any]) -> Any:
    """Evaluate the expr-lang ``expression`` against ``env`` and return the Python value.

    ``env`` maps top-level names to values (nested dicts/lists/strings/numbers,
    ``None``, datetimes, callables); Argo's functions (``asInt``, ``jsonpath``,
    ``sprig``, ...) are available even when ``env`` lacks them. Raises
    :class:`UnresolvedReference` for an unknown name and :class:`ExpressionError`
    for syntax and evaluation errors.
    """
    return compile_expression(expression).evaluate(env)


def evaluate_expression_bool(expression: str, env: Mapping[str, Any]) -> bool:
    """Evaluate ``expression`` like Argo's ``argoexpr.EvalBool`` (retry/hook/stop expressions): the result must be a bool."""
    result = evaluate_expression(expression, env)
    if not isinstance(result, bool):
        raise ExpressionError(f"unable to cast expression result '{go_sprint(result)}' to bool (expression {expression!r})", tag=expression)
    return result


def expression_references(expression: str) -> tuple:
    """Return the names/member paths ``expression`` reads, as Argo's ``getIdentifiers`` lists them.

    Members under ``??`` or ``?.`` are left out (they may be absent). Raises
    :class:`ExpressionError` on a syntax error.
    """
    return compile_expression(expression).references


def has_reference(env: Mapping[str, Any], path: str) -> bool:
    """Return whether the dotted ``path`` exists in the (nested) ``env`` -- Argo's ``hasVarInEnv``.

    A key holding ``None`` (an absent optional output) counts as present.
    """
    if path in env:
        return True
    parts = path.split(".")
    current: Any = env
    for index, part in enumerate(parts):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif index == 0 and part in ARGO_FUNCTIONS:
            current = ARGO_FUNCTIONS[part]
        else:
            return False
    return True


# -- Go duration and time parsing (for duration(), date(), sprig.toDate)

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> _dt.timedelta:
    """Parse a Go duration (``1h30m``, ``1.5s``, ``-300ms``, ``0``) like ``time.ParseDuration``; raises ``ValueError``."""
    original = text
    sign = 1
    if text[:1] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return _dt.timedelta(0)
    if not text:
        raise ValueError(f'time: invalid duration "{original}"')
    seconds = 0.0
    position = 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            if re.match(r"(\d+\.?\d*|\.\d+)", text[position:]):
                raise ValueError(f'time: missing unit in duration "{original}"')
            raise ValueError(f'time: invalid duration "{original}"')
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    return _dt.timedelta(seconds=sign * seconds)


_TIME_TOKENS = (
    ("January", r"(?P<month_name>January|February|March|April|May|June|July|August|September|October|November|December)"),
    ("Jan", r"(?P<month_abbr>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"),
    ("Monday", r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"),
    ("Mon", r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"),
    ("MST", r"(?P<zone_name>[A-Z]{3,5}|[+-]\d{2,4})"),
    ("2006", r"(?P<year>\d{4})"),
    ("Z07:00", r"(?P<zone>Z|[+-]\d{2}:\d{2})"),
    ("Z0700", r"(?P<zone>Z|[+-]\d{4})"),
    ("Z07", r"(?P<zone>Z|[+-]\d{2})"),
    ("-07:00", r"(?P<zone>[+-]\d{2}:\d{2})"),
    ("-0700", r"(?P<zone>[+-]\d{4})"),
    ("-07", r"(?P<zone>[+-]\d{2})"),
    ("002", r"(?P<yday>\d{3})"),
    ("01", r"(?P<month>\d{2})"),
    ("02", r"(?P<day>\d{2})"),
    ("06", r"(?P<year2>\d{2})"),
    ("03", r"(?P<hour12>\d{2})"),
    ("04", r"(?P<minute>\d{2})"),
    ("05", r"(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?"),
    ("_2", r" ?(?P<day>\d{1,2})"),
    ("15", r"(?P<hour>\d{2})"),
    ("PM", r"(?P<ampm>AM|PM)"),
    ("pm", r"(?P<ampm>am|pm)"),
    ("1", r"(?P<month>\d{1,2})"),
    ("2", r"(?P<day>\d{1,2})"),
    ("3", r"(?P<hour12>\d{1,2})"),
    ("4", r"(?P<minute>\d{1,2})"),
    ("5", r"(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?"),
)
_FRACTION_LAYOUT = re.compile(r"[.,](0+|9+)(?![0-9])")
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


@functools.lru_cache(maxsize=64)
def _layout_regex(layout: str) -> re.Pattern:
    out: list[str] = []
    used: set[str] = set()
    i = 0
    while i < len(layout):
        fraction = _FRACTION_LAYOUT.match(layout, i)
        if fraction:
            digits = fraction.group(1)
            name = "?P<fraction>" if "fraction" not in used else "?:"
            used.add("fraction")
            out.append(rf"[.,]({name}\d{{{len(digits)}}})" if digits[0] == "0" else rf"(?:[.,]({name}\d+))?")
            i = fraction.end()
            continue
        for token, pattern in _TIME_TOKENS:
            if layout.startswith(token, i):
                if token in ("05", "5") and (_FRACTION_LAYOUT.match(layout, i + len(token)) or "fraction" in used):
                    pattern = pattern.split("(?:[.,]")[0]  # the layout spells the fraction out
                names = re.findall(r"\?P<(\w+)>", pattern)
                if any(name in used for name in names):
                    pattern = re.sub(r"\?P<\w+>", "?:", pattern)
                used.update(names)
                out.append(pattern)
                i += len(token)
                break
        else:
            out.append(re.escape(layout[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def parse_go_time(layout: str, text: str, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """Parse ``text`` with a Go reference layout (``2006-01-02T15:04:05Z07:00``), like ``time.Parse``; raises ``ValueError``.

    Without a zone in the text the result is in ``zone`` (UTC by default).
    """
    match = _layout_regex(layout).match(text)
    if match is None:
        raise ValueError(f'parsing time "{text}" as "{layout}": cannot parse')
    fields = match.groupdict()
    year = int(fields["year"]) if fields.get("year") else (2000 + int(fields["year2"]) if fields.get("year2") and int(fields["year2"]) < 69 else (1900 + int(fields["year2"]) if fields.get("year2") else 0))
    month = 1
    if fields.get("month"):
        month = int(fields["month"])
    elif fields.get("month_name"):
        month = _MONTH_NAMES.index(fields["month_name"]) + 1
    elif fields.get("month_abbr"):
        month = [name[:3] for name in _MONTH_NAMES].index(fields["month_abbr"]) + 1
    day = int(fields["day"]) if fields.get("day") else 1
    hour = int(fields["hour"]) if fields.get("hour") else 0
    if fields.get("hour12"):
        hour = int(fields["hour12"]) % 12
        if (fields.get("ampm") or "").upper() == "PM":
            hour += 12
    minute = int(fields["minute"]) if fields.get("minute") else 0
    second = int(fields["second"]) if fields.get("second") else 0
    micro = int((fields.get("fraction") or "0")[:6].ljust(6, "0"))
    tz: _dt.tzinfo = zone or _dt.timezone.utc
    offset_text = fields.get("zone")
    if offset_text:
        if offset_text == "Z":
            tz = _dt.timezone.utc
        else:
            digits = offset_text[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            delta = _dt.timedelta(hours=hours, minutes=minutes)
            tz = _dt.timezone(-delta if offset_text[0] == "-" else delta)
    elif fields.get("zone_name") == "UTC":
        tz = _dt.timezone.utc
    if year == 0:
        year = 1  # Go's year 0 (a layout without a year) is outside Python's range: use year 1
    try:
        moment = _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as error:
        raise ValueError(f'parsing time "{text}": {error}') from None
    if fields.get("yday"):
        moment = moment.replace(month=1, day=1) + _dt.timedelta(days=int(fields["yday"]) - 1)
    return moment


# -- when: (govaluate)


def evaluate_when(condition: str) -> bool:
    """Evaluate an already-substituted ``when`` condition with govaluate, exactly as Argo's ``shouldExecute``.

    Empty means true. Bare words are strings (``tails == heads`` is false).
    Raises :class:`ExpressionError` naming the condition on a syntax error, a
    type error (``'a' < 1``) or a non-boolean result.
    """
    from .govaluate import evaluate_when as _evaluate

    return _evaluate(condition)
