"""Operations that a caller (an API handler, say) runs and waits for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BadOperationConfiguration
from ..tasks import SendResultTask, Task
from .composite import PipelineOperation
from .options import DEFAULT_SHARED_PATH
from .single import ExecuteAndWaitOperation, SingleTaskOperation

if TYPE_CHECKING:
    from ..argo import Workflow
    from ..backends import BackendLike

#: The built-in image that publishes the files of the shared directory as the operation's result.
SEND_RESULT_IMAGE = SendResultTask.IMAGE
SEND_RESULT_TASK = SendResultTask.NAME
#: ``results_via`` values: read the result from the finished workflow (its backend's way), or from a topic
#: created before submission (CloudHarness's way).
RESULTS_VIA_WORKFLOW = "workflow"
RESULTS_VIA_QUEUE = "queue"
RESULTS_VIA = (RESULTS_VIA_WORKFLOW, RESULTS_VIA_QUEUE)


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

    ``results_via`` says how the caller gets them: ``"workflow"`` (the default
    outside a CloudHarness deployment) asks the workflow's backend once the
    workflow has finished (:meth:`~workflows.backends.Backend.results`);
    ``"queue"`` (the default inside one, CloudHarness's way) names the workflow
    before submitting it, creates the topic of that name on the events backend
    first, reads it with a consumer group of its own
    (:class:`~workflows.events.ResultQueue`) and deletes it afterwards, on
    success and on failure alike.
    """

    def __init__(self, basename: str, task: Task, results_via: str | None = None, **options: Any) -> None:
        if results_via is not None and results_via not in RESULTS_VIA:
            raise BadOperationConfiguration(
                f"operation {basename!r}: results_via={results_via!r}: expected one of "
                f"{', '.join(map(repr, RESULTS_VIA))} (or None: {RESULTS_VIA_QUEUE!r} inside a CloudHarness "
                f"deployment, else {RESULTS_VIA_WORKFLOW!r})"
            )
        options.setdefault("shared_directory", DEFAULT_SHARED_PATH)
        from ..backends.results import result_task_options

        super().__init__(basename, [task, SendResultTask(**result_task_options())], **options)
        self.task: Task = task
        """The task whose results are returned."""
        self._results_via = results_via

    @property
    def results_via(self) -> str:
        """``"workflow"`` or ``"queue"``: as given, else ``"queue"`` inside a CloudHarness deployment (read now)."""
        if self._results_via is not None:
            return self._results_via
        from .. import cloudharness

        return RESULTS_VIA_QUEUE if cloudharness.enabled() else RESULTS_VIA_WORKFLOW

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
        from ..events.settings import require_events_backend

        require_events_backend(f"operation {self.name!r}: execute()")
        if self.results_via == RESULTS_VIA_QUEUE:
            messages = self._execute_via_queue(timeout, backend)
        else:
            workflow = ExecuteAndWaitOperation.execute(self, timeout, backend)
            self._check_succeeded(workflow)
            messages = workflow.backend.results(workflow)
        if not messages:
            workflow = self._submitted("execute()")
            raise WorkflowResultsMissing(
                workflow.name,
                f"workflow {workflow.name!r} put no result in the queue: task {self.task.name!r} wrote no file "
                f"in its shared directory {self.options.shared_path}",
            )
        return messages

    def _execute_via_queue(self, timeout: float | None, backend: BackendLike) -> list[dict[str, str]]:
        """Name the workflow, create its result topic, submit, wait, read the topic; delete it in any case."""
        from ..backends.cluster import generate_name
        from ..events import ResultQueue

        spec = self.to_workflow()
        metadata = spec["metadata"]
        metadata["name"] = generate_name(metadata.pop("generateName"))
        with ResultQueue(metadata["name"]) as results:
            workflow = self._submit(spec, backend).wait(timeout)
            self._check_succeeded(workflow)
            # The result step ended successfully, so what it published is on the topic (acknowledged): read all
            # that is there now, without waiting for more.
            return results.collect(timeout=0)

    @staticmethod
    def _check_succeeded(workflow: Workflow) -> None:
        from ..argo import WorkflowResultsMissing

        if not workflow.succeeded():
            raise WorkflowResultsMissing(
                workflow.name,
                f"workflow {workflow.name!r} ended {workflow.status}: {workflow.get_status_message()}",
            )
