"""Operations that a caller (an API handler, say) runs and waits for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..tasks import SendResultTask, Task
from .composite import PipelineOperation
from .options import DEFAULT_SHARED_PATH
from .single import ExecuteAndWaitOperation, SingleTaskOperation

if TYPE_CHECKING:
    from ..backends import BackendLike

#: The built-in image that publishes the files of the shared directory as the operation's result.
SEND_RESULT_IMAGE = SendResultTask.IMAGE
SEND_RESULT_TASK = SendResultTask.NAME


class DistributedSyncOperation(ExecuteAndWaitOperation, SingleTaskOperation):
    """Runs one task in its own pod; the caller waits for the workflow to finish."""


class DataFrameOperation(DistributedSyncOperation):
    """CloudHarness's name for a distributed sync operation meant for dataframe processing: the same operation."""


class DistributedSyncOperationWithResults(PipelineOperation, ExecuteAndWaitOperation):
    """Runs one task, then returns what it wrote to its shared directory, as CloudHarness does.

    The task is followed by a ``send-result-event`` task (image
    ``workflows-send-result-event``) that publishes each file of the shared
    directory (``/mnt/shared`` unless ``shared_directory`` says otherwise) as
    one message ``{file name: text}`` (see :mod:`workflows.events.send_result`).
    """

    def __init__(self, basename: str, task: Task, **options: Any) -> None:
        options.setdefault("shared_directory", DEFAULT_SHARED_PATH)
        from ..backends.results import result_task_options

        super().__init__(basename, [task, SendResultTask(**result_task_options())], **options)
        self.task: Task = task
        """The task whose results are returned."""

    def execute(  # type: ignore[override]
        self, timeout: float | None = None, backend: BackendLike = None
    ) -> list[dict[str, str]]:
        """Run the workflow, wait for it, and return the messages its send-result step published.

        One ``{file name: text}`` per file the task wrote, by file name, so
        ``execute()[0]["result"]`` reads a task's ``result`` file, as with
        CloudHarness. Raises :class:`TimeoutError` (naming the workflow) when it
        does not finish within ``timeout`` seconds, and
        :class:`~workflows.argo.WorkflowResultsMissing` (a ``RuntimeError``, as
        CloudHarness raises) when it does not succeed or publishes nothing.
        """
        from ..argo import WorkflowResultsMissing
        from ..cloudharness import require_events_backend

        require_events_backend(f"operation {self.name!r}: execute()")
        workflow = ExecuteAndWaitOperation.execute(self, timeout, backend)
        if not workflow.succeeded():
            raise WorkflowResultsMissing(
                workflow.name,
                f"workflow {workflow.name!r} ended {workflow.status}: {workflow.get_status_message()}",
            )
        messages = workflow.backend.results(workflow)
        if not messages:
            raise WorkflowResultsMissing(
                workflow.name,
                f"workflow {workflow.name!r} put no result in the queue: task {self.task.name!r} wrote no file "
                f"in its shared directory {self.options.shared_path}",
            )
        return messages
