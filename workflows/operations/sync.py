"""Operations that a caller (an API handler, say) runs and waits for."""

from __future__ import annotations

from typing import Any

from ..tasks import SendResultTask, Task
from .composite import PipelineOperation
from .options import DEFAULT_SHARED_PATH
from .single import ExecuteAndWaitOperation, SingleTaskOperation

#: The built-in image that publishes the files of the shared directory as the operation's result.
SEND_RESULT_IMAGE = SendResultTask.IMAGE
SEND_RESULT_TASK = SendResultTask.NAME


class DistributedSyncOperation(ExecuteAndWaitOperation, SingleTaskOperation):
    """Runs one task in its own pod; the caller waits for the workflow to finish."""


class DataFrameOperation(DistributedSyncOperation):
    """CloudHarness's name for a distributed sync operation meant for dataframe processing: the same operation."""


class DistributedSyncOperationWithResults(PipelineOperation, ExecuteAndWaitOperation):
    """Runs one task, then returns what it wrote to its shared directory.

    The task is followed by a ``send-result-event`` task (image
    ``workflows-send-result-event``) that publishes the files of the shared
    directory (``/mnt/shared`` unless ``shared_directory`` says otherwise).
    """

    def __init__(self, basename: str, task: Task, **options: Any) -> None:
        options.setdefault("shared_directory", DEFAULT_SHARED_PATH)
        super().__init__(basename, [task, SendResultTask()], **options)
        self.task: Task = task
        """The task whose results are returned."""

    def execute(self, timeout: float | None = None) -> dict[str, str]:
        """Run the workflow, wait for it, and return the files its task wrote: ``{file name: text}``.

        Raises :class:`TimeoutError` (naming the workflow) when it does not
        finish within ``timeout`` seconds, and
        :class:`~workflows.argo.WorkflowException` when it does not succeed.
        """
        from ..argo import WorkflowException
        from ..cloudharness import require_events_backend
        from ..events import wait_for_result

        require_events_backend(f"operation {self.name!r}: execute()")
        workflow = ExecuteAndWaitOperation.execute(self, timeout)
        if not workflow.succeeded():
            raise WorkflowException(
                500, f"workflow {workflow.name!r} ended {workflow.status}: {workflow.get_status_message()}"
            )
        return wait_for_result(workflow.name, timeout=0)
