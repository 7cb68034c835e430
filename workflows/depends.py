"""Argo's enhanced ``depends`` expressions of DAG tasks.

Grammar (what Argo's controller accepts, see "Enhanced Depends Logic" in
Argo's documentation and ``workflow/common/ancestry.go``)::

    expression := or
    or         := and ("||" and)*
    and        := not ("&&" not)*
    not        := "!" not | "(" or ")" | operand
    operand    := TASK | TASK "." RESULT
    TASK       := [a-zA-Z0-9][-a-zA-Z0-9]*
    RESULT     := Succeeded | Failed | Errored | Skipped | Omitted | Daemoned
                | AnySucceeded | AllFailed

``!`` binds tighter than ``&&``, which binds tighter than ``||``.  A bare ``TASK``
means ``(TASK.Succeeded || TASK.Skipped || TASK.Daemoned)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .errors import DependsSyntaxError
from .vocabulary import NODE_PHASES

#: The results a ``TASK.RESULT`` operand may test, as Argo defines them.
TASK_RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
#: Results that look at the children of a task expanded with withItems, withParam or withSequence.
ITEM_RESULTS = frozenset({"AnySucceeded", "AllFailed"})
#: What a bare ``TASK`` operand means.
BARE_RESULTS = ("Succeeded", "Skipped", "Daemoned")
#: The phases of an Argo node.

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<task>[a-zA-Z0-9][-a-zA-Z0-9]*)(?P<dot>\.(?P<result>[A-Za-z0-9_]*))?)"
)


@dataclass(frozen=True)
class TaskOutcome:
    """What a finished dependency did, as the evaluation of a ``depends`` expression sees it.

    ``phase`` is the Argo node phase of the task (``Succeeded``, ``Failed``,
    ``Error``, ``Skipped``, ``Omitted``...); ``daemoned`` whether it runs a
    daemon; ``children`` the phases of its children when it was expanded with
    withItems, withParam or withSequence (``None`` otherwise).
    """

    phase: str
    daemoned: bool = False
    children: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for phase in (self.phase, *(self.children or ())):
            if phase not in NODE_PHASES:
                raise ValueError(f"unknown node phase {phase!r}, expected one of {', '.join(sorted(NODE_PHASES))}")

    def has(self, result: str) -> bool:
        """Return whether this outcome has the task result ``result`` (one of :data:`TASK_RESULTS`)."""
        if result == "Errored":
            return self.phase == "Error"
        if result == "Daemoned":
            return self.daemoned and self.phase != "Pending"
        if result == "AnySucceeded":
            return self.children is not None and "Succeeded" in self.children
        if result == "AllFailed":
            return bool(self.children) and all(phase == "Failed" for phase in self.children)
        return self.phase == result


@dataclass(frozen=True)
class Operand:
    """``task`` or ``task.result`` (``result`` is ``None`` for a bare task)."""

    task: str
    result: str | None = None

    def evaluate(self, results: Mapping[str, TaskOutcome]) -> bool:
        """Return whether the outcome of ``task`` in ``results`` matches this operand."""
        if self.task not in results:
            raise KeyError(f"no outcome given for task {self.task!r}")
        outcome = results[self.task]
        return any(outcome.has(result) for result in ((self.result,) if self.result else BARE_RESULTS))

    def __str__(self) -> str:
        return f"{self.task}.{self.result}" if self.result else self.task


@dataclass(frozen=True)
class Not:
    """``!operand``."""

    operand: Node

    def evaluate(self, results: Mapping[str, TaskOutcome]) -> bool:
        """Return the negation of the operand."""
        return not self.operand.evaluate(results)

    def __str__(self) -> str:
        return "!" + _wrap(self.operand, Not)


@dataclass(frozen=True)
class And:
    """``a && b && ...``."""

    operands: tuple[Node, ...]

    def evaluate(self, results: Mapping[str, TaskOutcome]) -> bool:
        """Return whether every operand holds."""
        return all(operand.evaluate(results) for operand in self.operands)

    def __str__(self) -> str:
        return " && ".join(_wrap(operand, And) for operand in self.operands)


@dataclass(frozen=True)
class Or:
    """``a || b || ...``."""

    operands: tuple[Node, ...]

    def evaluate(self, results: Mapping[str, TaskOutcome]) -> bool:
        """Return whether any operand holds."""
        return any(operand.evaluate(results) for operand in self.operands)

    def __str__(self) -> str:
        return " || ".join(_wrap(operand, Or) for operand in self.operands)


Node = Operand | Not | And | Or
_PRECEDENCE = {Or: 0, And: 1, Not: 2, Operand: 3}


def _wrap(node: Node, parent: type) -> str:
    """Return ``node`` as text, in parentheses when it binds less tightly than ``parent``."""
    text = str(node)
    return f"({text})" if _PRECEDENCE[type(node)] < _PRECEDENCE[parent] else text


def _operands(node: Node) -> Iterator[Operand]:
    if isinstance(node, Operand):
        yield node
    elif isinstance(node, Not):
        yield from _operands(node.operand)
    else:
        for operand in node.operands:
            yield from _operands(operand)


@dataclass(frozen=True)
class DependsExpression:
    """A parsed ``depends`` expression; ``str()`` gives its canonical text."""

    root: Node

    @property
    def tasks(self) -> frozenset[str]:
        """The names of the tasks the expression refers to."""
        return frozenset(operand.task for operand in _operands(self.root))

    @property
    def item_tasks(self) -> frozenset[str]:
        """The tasks tested with a result that needs withItems/withParam/withSequence (``.AnySucceeded``...)."""
        return frozenset(operand.task for operand in _operands(self.root) if operand.result in ITEM_RESULTS)

    def evaluate(self, results: Mapping[str, TaskOutcome]) -> bool:
        """Return whether the task runs, given the outcome of every task in :attr:`tasks`.

        Raises :class:`KeyError` when ``results`` lacks one of them.
        """
        return self.root.evaluate(results)

    def __str__(self) -> str:
        return str(self.root)


def parse_depends(expression: str) -> DependsExpression:
    """Parse the ``depends`` expression ``expression``; raise :class:`DependsSyntaxError` when it is invalid."""
    return DependsExpression(_Parser(expression).parse())


class _Parser:
    """A recursive-descent parser over the tokens of one expression."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = self._tokenize()
        self.index = 0

    def _tokenize(self) -> list[tuple[int, str, Operand | None]]:
        """Return ``(position, text, operand)`` for every token; ``operand`` is set for task operands."""
        tokens = []
        position = 0
        text = self.expression.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            start = len(text) - len(text[position:].lstrip())
            if match is None:
                raise DependsSyntaxError(self.expression, start, f"unexpected character {text[start]!r}")
            operand = None
            if match["task"]:
                operand = self._operand(match)
            tokens.append((start, match["op"] or match["task"], operand))
            position = match.end()
        return tokens

    def _operand(self, match: re.Match) -> Operand:
        task, result = match["task"], match["result"]
        if match["dot"] is None:
            return Operand(task)
        if result not in TASK_RESULTS:
            detail = (
                f"missing task result after '{task}.'"
                if not result
                else f"unknown task result {result!r} for task {task!r}"
            )
            raise DependsSyntaxError(
                self.expression, match.start("result"), f"{detail}: expected one of {', '.join(TASK_RESULTS)}"
            )
        return Operand(task, result)

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _position(self) -> int:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else len(self.expression)

    def parse(self) -> Node:
        """Return the tree of the whole expression."""
        if not self.tokens:
            raise DependsSyntaxError(self.expression, 0, "the expression is empty")
        node = self._or()
        if self.index < len(self.tokens):
            token = self._peek()
            detail = "unbalanced ')'" if token == ")" else f"expected '&&' or '||' before {token!r}"
            raise DependsSyntaxError(self.expression, self._position(), detail)
        return node

    def _or(self) -> Node:
        operands = [self._and()]
        while self._peek() == "||":
            self.index += 1
            operands.append(self._and())
        return _combine(Or, operands)

    def _and(self) -> Node:
        operands = [self._not()]
        while self._peek() == "&&":
            self.index += 1
            operands.append(self._not())
        return _combine(And, operands)

    def _not(self) -> Node:
        if self.index >= len(self.tokens):
            previous = f"after {self.tokens[-1][1]!r}" if self.tokens else ""
            raise DependsSyntaxError(
                self.expression, len(self.expression), f"expected a task or '(' {previous}".rstrip()
            )
        position, token, operand = self.tokens[self.index]
        self.index += 1
        if operand is not None:
            return operand
        if token == "!":
            return Not(self._not())
        if token == "(":
            node = self._or()
            if self._peek() != ")":
                raise DependsSyntaxError(self.expression, position, "'(' is never closed")
            self.index += 1
            return node
        raise DependsSyntaxError(self.expression, position, f"expected a task or '(', got {token!r}")


def _combine(kind: type[And] | type[Or], operands: list[Node]) -> Node:
    """Return ``operands`` joined by ``kind``, flattening nested joins of the same kind."""
    if len(operands) == 1:
        return operands[0]
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else (operand,))
    return kind(tuple(flat))
