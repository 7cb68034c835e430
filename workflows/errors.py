"""Exception classes shared across the package."""

from __future__ import annotations


class WorkflowsError(Exception):
    """Base class of every error raised by harness-workflows."""


class BadOperationConfiguration(WorkflowsError, ValueError, RuntimeError):
    """A task, an operation or a spec is configured in a way Argo would reject or misrun.

    The message names the offending field and value. It is a ``ValueError``
    and also a ``RuntimeError``, what CloudHarness's class of the same name
    derives from, so code written for either catches it.
    """


class InvalidWorkflowSpec(BadOperationConfiguration):
    """A compiled or raw Argo spec failed validation.

    ``problems`` holds every :class:`workflows.validation.Problem` found, so
    callers can report all of them instead of the first one only.
    """

    def __init__(self, problems: list) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid workflow spec ({len(self.problems)} problem(s)):\n{lines}")
