"""Tasks whose code travels inside the spec: Argo ``script`` templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import config
from ..errors import BadOperationConfiguration
from .base import Task
from .function_source import function_script


class InlinedTask(Task):
    """A task whose ``source`` runs through ``interpreter`` in the default image (an Argo script template).

    ``InlinedTask(name, source, ...)`` as in CloudHarness; the interpreter is
    ``python`` unless given, or unless a subclass defines CloudHarness's
    ``command`` attribute. The image is ``$WORKFLOWS_IMAGE``, read when the task
    is built (inside a CloudHarness deployment: its ``cloudharness-base`` image).
    """

    template_type = "script"

    def __init__(self, name: str, source: str, interpreter: str | None = None, **options: Any) -> None:
        super().__init__(name, **options)
        if interpreter is None:
            interpreter = getattr(self, "command", None) or "python"
        if not isinstance(interpreter, str) or not interpreter.strip():
            raise BadOperationConfiguration(f"task {self.name!r}: interpreter={interpreter!r} must be a command name")
        if not isinstance(source, str) or not source.strip():
            raise BadOperationConfiguration(f"task {self.name!r}: source must be a non-empty string, got {source!r}")
        self.source: str = source
        """The script that Argo runs."""
        self.interpreter: str = interpreter
        """The command that runs the script (``python``, ``bash``)."""
        self.image_name = config.default_image()

    def template_body(self) -> dict[str, Any]:
        """The script fields: image, command, source."""
        return {"image": self.image_name, "command": [self.interpreter], "source": self.source}


class PythonTask(InlinedTask):
    """Runs the body of a Python function, in a script template run by ``python``.

    >>> def hello():
    ...     print("hello")
    >>> PythonTask("hello", hello)  # doctest: +SKIP

    The function must be a ``def`` whose source is available, take no required
    arguments and use no names of an enclosing function; the modules it uses
    through global names are imported by the script. See
    :func:`workflows.tasks.function_source.function_script`.
    """

    def __init__(self, name: str, func: Callable[[], object], **options: Any) -> None:
        super().__init__(name, function_script(func, name), "python", **options)
        self.func = func
        """The function given."""


class BashTask(InlinedTask):
    """Runs ``source`` with ``bash``, in a script template."""

    def __init__(self, name: str, source: str, **options: Any) -> None:
        super().__init__(name, source, "bash", **options)
