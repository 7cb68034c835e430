"""Exception classes shared by the engine's templating, expression and loop modules.

:mod:`workflows.engine.lang.templating` and :mod:`workflows.engine.lang.expr`
re-export them.
"""

from __future__ import annotations

from ...errors import WorkflowsError


class TemplateError(WorkflowsError):
    """A ``{{...}}`` tag, a ``when`` condition or an expression that cannot be resolved or evaluated.

    ``tag`` is the offending text (a tag body such as ``inputs.parameters.x`` or
    ``=asInt(x)``, a condition or an expression) and ``where`` locates it (a
    path such as ``arguments.parameters[0].value``; empty when unknown). The
    message always names both.
    """

    def __init__(self, message: str, *, tag: str | None = None, where: str = "") -> None:
        self.tag = tag
        self.where = where
        self.reason = message
        super().__init__(f"{message} (at {where})" if where else message)

    def located(self, where: str) -> TemplateError:
        """Return a copy of this error (same class) whose message also names ``where``."""
        if not where or self.where:
            return self
        error = type(self).__new__(type(self))
        TemplateError.__init__(error, self.reason, tag=self.tag, where=where)
        return error


class UnresolvedReference(TemplateError):
    """A ``{{name}}`` tag, or a name an expression uses, that the scope does not hold.

    Argo requeues the node on such errors when the name is a ``steps.``/``tasks.``
    reference (the producer may not have finished yet); ``name`` is the missing name.
    """

    def __init__(self, message: str, *, name: str, tag: str | None = None, where: str = "") -> None:
        super().__init__(message, tag=tag, where=where)
        self.name = name

    def located(self, where: str) -> TemplateError:
        """Return a copy of this error whose message also names ``where``."""
        if not where or self.where:
            return self
        return UnresolvedReference(self.reason, name=self.name, tag=self.tag, where=where)


class ExpressionError(TemplateError):
    """A syntax or evaluation error in an expression (``{{=...}}``, ``when:``, ``expression:``)."""


class LoopError(TemplateError):
    """A ``withItems``/``withParam``/``withSequence`` that cannot be expanded (bad JSON, bad numbers, ...)."""
