"""expr-lang's parser: tokens to a tree of nodes, with expr's operator precedence (``expr/parser``).

The node classes (``_Lit``, ``_Member``, ``_Binary``...) are shared with :mod:`.evaluator`, which compiles
them to closures; :func:`_walk` visits a tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import ExpressionError
from .builtins import _BUILTINS
from .lexer import _BRACKET, _EOF, _IDENT, _NUM, _OP, _STR, _lex, _Token


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
