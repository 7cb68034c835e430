"""The languages a template or a ``when`` can be written in, evaluated with Argo's semantics (no ``eval``).

Laid out like Argo's ``util/expr`` and ``util/template``: :mod:`.expr` (expr-lang, ``{{=...}}`` tags and
``expression:`` fields), :mod:`.govaluate` (``when:`` conditions), :mod:`.sprig` (the ``sprig.*`` functions),
:mod:`.jsonpath`, :mod:`.gofmt` (Go's rendering of values), :mod:`.gotime` (Go's time layouts),
:mod:`.templating` (``{{...}}`` substitution) and :mod:`.errors` (their exception classes).
"""
