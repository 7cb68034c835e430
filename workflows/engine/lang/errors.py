"""The errors of the engine's languages, as its templating, expression and loop modules import them.

They are defined in :mod:`workflows.errors` (with every other exception of the package);
:mod:`workflows.engine.lang.templating` and :mod:`workflows.engine.lang.expr` re-export them too.
"""

from __future__ import annotations

from ...errors import ExpressionError, LoopError, TemplateError, UnresolvedReference

__all__ = ["ExpressionError", "LoopError", "TemplateError", "UnresolvedReference"]

