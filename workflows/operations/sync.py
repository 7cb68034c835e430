"""Operations that a caller (an API handler, say) runs and waits for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..tasks import CustomTask, Task
from .composite import PipelineOperation
from .options import DEFAULT_SHARED_PATH
from .single import ExecuteAndWaitOperation, SingleTaskOperation

if TYPE_CHECKING:
    from ..backends import BackendLike

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
        from ..backends.results import result_task_options

        result_step = CustomTask(SEND_RESULT_TASK, SEND_RESULT_IMAGE, **result_task_options())
        super().__init__(basename, [task, result_step], **options)
        self.task: Task = task
        """The task whose results are returned."""

    def execute(self, timeout: float | None = None, backend: BackendLike = None) -> dict[str, str]:
        """Run the workflow, wait for it, and return the files its task wrote: ``{file name: text}``.

        Raises :class:`TimeoutError` (naming the workflow) when it does not
        finish within ``timeout`` seconds, and
        :class:`~workflows.argo.WorkflowException` when it does not succeed.
        """
        from ..argo import WorkflowException

        workflow = ExecuteAndWaitOperation.execute(self, timeout, backend)
        if not workflow.succeeded():
            raise WorkflowException(
                500, f"workflow {workflow.name!r} ended {workflow.status}: {workflow.get_status_message()}"
            )
        return workflow.backend.results(workflow)
