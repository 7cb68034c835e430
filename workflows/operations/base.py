"""Operation base classes: an operation is an Argo workflow built from tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import BadOperationConfiguration
from ..naming import GENERATED_SUFFIX_LENGTH, MAX_OBJECT_NAME, check_dns1123_label
from ..runtime import SHARED_DIRECTORY_ENV
from ..tasks import Task
from .options import OperationOptions

if TYPE_CHECKING:
    from ..argo import Workflow
    from ..backends import BackendLike
    from ..compiler.volumes import VolumePlan

#: Name of the template that runs the ``on_exit_notify`` handler.
EXIT_HANDLER_NAME = "exit-handler"
#: The longest basename: ``generateName`` is ``<basename>-`` and gets 5 random characters.
MAX_BASENAME = MAX_OBJECT_NAME - GENERATED_SUFFIX_LENGTH - 1


class ManagedOperation:
    """An operation: something a service asks to run. ``name`` identifies it."""

    def __init__(self, name: str) -> None:
        self.name = name


class SyncOperation(ManagedOperation):
    """An operation whose ``execute`` returns the result directly."""


class DirectOperation(SyncOperation):
    """Runs ``callback`` in the calling process: for work too light for a workflow."""

    def __init__(self, name: str, callback: Callable[..., Any]) -> None:
        super().__init__(name)
        self.callback = callback

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Call the callback and return what it returns."""
        return self.callback(*args, **kwargs)


class ResourceQueryOperation(DirectOperation):
    """A direct operation that queries a resource."""


class DataQueryOperation(DirectOperation):
    """A direct operation that queries a database."""


class ContainerizedOperation(ManagedOperation):
    """An operation that runs its tasks as an Argo workflow.

    Subclasses say how the tasks are arranged (:attr:`entry_suffix`,
    :meth:`entry_template`); the common keyword options are those of
    :class:`~workflows.operations.options.OperationOptions`.
    Building an operation checks everything it can and never changes the tasks given.
    """

    #: The entry template is named ``<basename>-<entry_suffix>``; ``None``: the entrypoint is the only task.
    entry_suffix: ClassVar[str | None] = None

    def __init__(self, basename: str, tasks: Iterable[Task], **options: Any) -> None:
        super().__init__(check_dns1123_label("basename", basename, max_length=MAX_BASENAME))
        self.options = OperationOptions(**options)
        """The checked options."""
        self.persisted: Workflow | None = None
        """The handle of the last submitted workflow."""
        self._tasks = self._check_tasks(tasks)
        from ..compiler.volumes import VolumePlan

        try:
            self.volume_plan: VolumePlan = VolumePlan(
                self.options.shared_directories, {task.name: task.volume_mounts for task in self._tasks}
            )
        except BadOperationConfiguration as error:
            raise BadOperationConfiguration(f"operation {self.name!r}: {error}") from None
        """Volumes, their names and the mounts of each task."""

    def _check_tasks(self, tasks: Iterable[Task]) -> tuple[Task, ...]:
        tasks = tuple(tasks)
        if not tasks:
            raise BadOperationConfiguration(f"operation {self.name!r} has no tasks")
        names: set[str] = set()
        reserved = set()
        if self.entry_suffix is not None:
            reserved.add(f"{self.name}-{self.entry_suffix}")
        if self.options.on_exit_notify is not None:
            reserved.add(EXIT_HANDLER_NAME)
        for index, task in enumerate(tasks):
            if not isinstance(task, Task):
                raise TypeError(f"operation {self.name!r}: tasks[{index}] must be a Task, got {task!r}")
            if task.name in names:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: two tasks are named {task.name!r}; task names must be unique"
                )
            if task.name in reserved:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: task name {task.name!r} is the name of a template the operation adds"
                )
            if self.options.shared_path is not None and SHARED_DIRECTORY_ENV in task.env:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: task {task.name!r} sets env {SHARED_DIRECTORY_ENV!r}="
                    f"{task.env[SHARED_DIRECTORY_ENV]!r}, which the operation's shared_directory provides"
                )
            names.add(task.name)
        return tasks

    def task_list(self) -> tuple[Task, ...]:
        """Every task of the operation, in order."""
        return self._tasks

    @property
    def entrypoint(self) -> str:
        """``spec.entrypoint``: the entry template, or the task of a single-task operation."""
        return f"{self.name}-{self.entry_suffix}" if self.entry_suffix is not None else self._tasks[0].name

    def entry_template(self) -> dict[str, Any] | None:
        """The template that arranges the tasks (steps or DAG), or ``None`` when the entrypoint is a task."""
        return None

    def to_workflow(self) -> dict[str, Any]:
        """The Argo Workflow as a plain dict; compiling twice gives identical output."""
        from ..compiler.workflow import compile_workflow

        return compile_workflow(self)

    def to_yaml(self) -> str:
        """The Argo Workflow as YAML."""
        from ..compiler.yaml import dump_yaml

        return dump_yaml(self.to_workflow())

    def submit(self, backend: BackendLike = None) -> Workflow:
        """Compile, validate (see :func:`workflows.validation.validate_spec`) and submit the workflow to
        ``backend`` (a :class:`~workflows.backends.Backend`, a backend name, or ``None``: the configured one)."""
        from .. import argo

        self.persisted = argo.submit_workflow(self.to_workflow(), backend=backend)
        return self.persisted


class AsyncOperation(ContainerizedOperation):
    """Submitted and left running: ``execute()`` returns the workflow handle at once."""

    def execute(self, backend: BackendLike = None) -> Workflow:
        """Submit the workflow to ``backend`` (see :meth:`submit`) and return its handle."""
        return self.submit(backend)
