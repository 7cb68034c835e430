"""Operations of one task."""

from __future__ import annotations

from typing import Any

from ..tasks import Task
from .base import ContainerizedOperation, SyncOperation


class SingleTaskOperation(ContainerizedOperation):
    """Runs one task; the workflow's entrypoint is the task's template."""

    def __init__(self, basename: str, task: Task, **options: Any) -> None:
        super().__init__(basename, [task], **options)
        self.task: Task = task
        """The task."""


class ExecuteAndWaitOperation(ContainerizedOperation, SyncOperation):
    """A containerized operation that a caller runs and waits for."""
