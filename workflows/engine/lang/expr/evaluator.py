"""expr-lang's evaluator: a parsed tree compiled once to Python closures, then run against an environment.

:func:`compile_expression` caches compiled expressions; :func:`evaluate_expression` and friends are the
public entry points re-exported by :mod:`workflows.engine.lang.expr`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ..errors import ExpressionError, TemplateError, UnresolvedReference
from ..gofmt import go_sprint
from .builtins import _BUILTIN_ARITY, _BUILTINS, ARGO_FUNCTIONS, _sort_key
from .parser import (
    _COMPARISONS,
    _PREDICATES,
    _Array,
    _Binary,
    _Builtin,
    _Call,
    _Chain,
    _children,
    _Cond,
    _Ident,
    _Let,
    _Lit,
    _Map,
    _Member,
    _Node,
    _Parser,
    _Pointer,
    _Predicate,
    _Seq,
    _Slice,
    _Unary,
    _walk,
)
from .values import (
    _add,
    _bool,
    _contains,
    _divide,
    _ends_with,
    _Fail,
    _fetch,
    _in,
    _is_int,
    _is_number,
    _less,
    _matches,
    _method,
    _modulo,
    _multiply,
    _NilChain,
    _power,
    _slice,
    _starts_with,
    _subtract,
    _type,
    go_equal,
)


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
