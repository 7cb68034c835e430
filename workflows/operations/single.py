"""Operations of one task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..tasks import Task
from .base import AsyncOperation, ContainerizedOperation, SyncOperation
from .options import DEFAULT


class SingleTaskOperation(AsyncOperation):
    """Runs one task; the workflow's entrypoint is the task's template. ``execute()`` submits and returns.

    Positional options in CloudHarness's order: ``pod_context, shared_directory, pod_gc``.
    """

    def __init__(
        self,
        basename: str,
        task: Task,
        pod_context: Any = None,
        shared_directory: Any = None,
        pod_gc: Any = DEFAULT,
        **options: Any,
    ) -> None:
        super().__init__(
            basename, [task], pod_context=pod_context, shared_directory=shared_directory, pod_gc=pod_gc, **options
        )
        self.task: Task = task
        """The task."""


if TYPE_CHECKING:
    from ..argo import Workflow
    from ..backends import BackendLike


class ExecuteAndWaitOperation(ContainerizedOperation, SyncOperation):
    """A containerized operation that a caller runs and waits for."""

    def execute(self, timeout: float | None = None, backend: BackendLike = None) -> Workflow:
        """Submit the workflow to ``backend`` and block until it finishes (``Pending`` is not finished); return it.

        Waiting does not poll. After ``timeout`` seconds, :class:`TimeoutError`
        names the workflow, which keeps running.
        """
        return self.submit(backend).wait(timeout)
