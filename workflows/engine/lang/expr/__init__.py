"""The two expression languages of Argo Workflows, evaluated with Argo's semantics (no ``eval``).

expr-lang lives in this package, split like ``github.com/expr-lang/expr``: :mod:`.lexer` (tokens),
:mod:`.parser` (tree), :mod:`.values` (Go semantics of values and operators), :mod:`.builtins` (functions)
and :mod:`.evaluator` (compilation to closures, the entry points re-exported here). Names with a leading
underscore are private to the package. ``when:`` conditions are :mod:`workflows.engine.lang.govaluate`'s.

``when:`` conditions -- govaluate
---------------------------------
:func:`workflows.engine.lang.govaluate.evaluate_when` evaluates a ``when`` string *after* its ``{{...}}`` tags
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

from ..errors import ExpressionError, LoopError, TemplateError, UnresolvedReference
from .builtins import ARGO_FUNCTIONS, LATE_BOUND_NAMES
from .evaluator import (
    CompiledExpression,
    compile_expression,
    evaluate_expression,
    evaluate_expression_bool,
    expression_references,
    has_reference,
)

__all__ = [
    "ARGO_FUNCTIONS",
    "LATE_BOUND_NAMES",
    "CompiledExpression",
    "ExpressionError",
    "LoopError",
    "TemplateError",
    "UnresolvedReference",
    "compile_expression",
    "evaluate_expression",
    "evaluate_expression_bool",
    "expression_references",
    "has_reference",
]
