"""Operations that a caller (an API handler, say) runs and waits for."""

from __future__ import annotations

from typing import Any

from ..tasks import CustomTask, Task
from .composite import PipelineOperation
from .options import DEFAULT_SHARED_PATH
from .single import ExecuteAndWaitOperation, SingleTaskOperation

#: The built-in image that publishes the files of the shared directory as the operation's result.
SEND_RESULT_IMAGE = "workflows-send-result-event"
SEND_RESULT_TASK = "send-result-event"


class DistributedSyncOperation(ExecuteAndWaitOperation, SingleTaskOperation):
    """Runs one task in its own pod; the caller waits for the workflow to finish."""


class DistributedSyncOperationWithResults(PipelineOperation, ExecuteAndWaitOperation):
    """Runs one task, then returns what it wrote to its shared directory.

    The task is followed by a ``send-result-event`` task (image
    ``workflows-send-result-event``) that publishes the files of the shared
    directory (``/mnt/shared`` unless ``shared_directory`` says otherwise).
    """

    def __init__(self, basename: str, task: Task, **options: Any) -> None:
        options.setdefault("shared_directory", DEFAULT_SHARED_PATH)
        super().__init__(basename, [task, CustomTask(SEND_RESULT_TASK, SEND_RESULT_IMAGE)], **options)
        self.task: Task = task
        """The task whose results are returned."""
