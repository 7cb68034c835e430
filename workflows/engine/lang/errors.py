"""Exception classes shared by the engine's templating, expression and loop modules.

:mod:`workflows.engine.lang.templating` and :mod:`workflows.engine.lang.expr`
re-export them.
"""

from __future__ import annotations

from ...errors import ExpressionError, LoopError, TemplateError, UnresolvedReference

__all__ = ["ExpressionError", "LoopError", "TemplateError", "UnresolvedReference"]

