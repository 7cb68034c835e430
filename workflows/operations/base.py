"""Operation base classes: an operation is an Argo workflow built from tasks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ..collector import collector_paused
from ..errors import BadOperationConfiguration, OperationNotSubmitted
from ..naming import check_basename
from ..runtime import SHARED_DIRECTORY_ENV
from ..tasks import Task
from ..vocabulary import EXIT_HANDLER_NAME, Phase
from .options import OperationOptions

if TYPE_CHECKING:
    from ..argo import Workflow
    from ..backends import BackendLike
    from ..compiler.volumes import VolumePlan
    from .context import PodExecutionContext


class OperationStatus:
    """The phases of an operation's workflow, as CloudHarness names them."""

    PENDING = Phase.Pending
    RUNNING = Phase.Running
    ERROR = Phase.Error
    SUCCEEDED = Phase.Succeeded
    SKIPPED = Phase.Skipped
    FAILED = Phase.Failed


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
        super().__init__(check_basename("basename", basename))
        given = {key: copy.deepcopy(options[key]) for key in ("on_exit_notify", "shared_volume_size") if key in options}
        self.options = OperationOptions(**options)
        """The checked options."""
        self._given = given
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
        template_names: dict[str, str] = {}
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
            if task.template_name in reserved:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: task {task.name!r}: template name {task.template_name!r} is the "
                    "name of a template the operation adds"
                )
            other = template_names.setdefault(task.template_name, task.name)
            if other != task.name:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: tasks {other!r} and {task.name!r} both have template name "
                    f"{task.template_name!r}; template names must be unique"
                )
            shared_path = self.options.shared_path
            if shared_path is not None and task.env.get(SHARED_DIRECTORY_ENV, shared_path) != shared_path:
                raise BadOperationConfiguration(
                    f"operation {self.name!r}: task {task.name!r} sets env {SHARED_DIRECTORY_ENV!r}="
                    f"{task.env[SHARED_DIRECTORY_ENV]!r}, but the operation's shared_directory is {shared_path!r}"
                )
            names.add(task.name)
        return tasks

    def task_list(self) -> tuple[Task, ...]:
        """Every task of the operation, in order."""
        return self._tasks

    @property
    def entrypoint(self) -> str:
        """``spec.entrypoint``: the entry template, or the task's template of a single-task operation."""
        return f"{self.name}-{self.entry_suffix}" if self.entry_suffix is not None else self._tasks[0].template_name

    @property
    def volumes(self) -> list[str]:
        """The shared directories, as ``[CLAIM:]PATH[:MODE]`` strings (CloudHarness's ``volumes``)."""
        return [str(mount) for mount in self.options.shared_directories]

    @property
    def pod_contexts(self) -> list[PodExecutionContext]:
        """The pod contexts of every pod: those given, then, as CloudHarness lists them, a required
        ``usesvolume`` context for the first ReadWriteOnce shared claim (see :mod:`workflows.compiler.affinity`)."""
        from ..compiler.affinity import USESVOLUME, claim_value
        from .context import PodExecutionContext

        contexts = list(self.options.pod_contexts)
        claims, _ = self.volume_plan.shared_volumes()
        if claims:
            contexts.append(PodExecutionContext(USESVOLUME, claim_value(claims[0]), True))
        return contexts

    @property
    def ttl_strategy(self) -> dict[str, int] | None:
        """``spec.ttlStrategy``, or ``None`` when finished workflows are kept."""
        return self.options.ttl_strategy

    @property
    def pod_gc(self) -> dict[str, Any] | None:
        """``spec.podGC``, or ``None`` when pods are kept."""
        return self.options.pod_gc

    @property
    def shared_volume_size(self) -> int | str:
        """The size of ephemeral volumes as given (an int means Mi; default 10, as CloudHarness)."""
        return self._given.get("shared_volume_size", 10)

    @property
    def on_exit_notify(self) -> dict[str, Any] | None:
        """The ``on_exit_notify`` dict as given, or ``None``."""
        return copy.deepcopy(self._given.get("on_exit_notify"))

    def spec(self) -> dict[str, Any]:
        """The workflow's ``spec``, compiled afresh."""
        return self.to_workflow()["spec"]

    @property
    def templates(self) -> list[dict[str, Any]]:
        """Every template of the workflow, complete (labels, mounts and affinity included), compiled afresh."""
        return self.spec()["templates"]

    def modify_template(self, template: dict[str, Any]) -> dict[str, Any]:
        """Hook called on every compiled template, complete, before the workflow is returned; return it.

        The default returns it unchanged: unlike CloudHarness, labels, volume mounts
        and affinity are already in place. Override it to change templates.
        """
        return template

    @property
    def modifies_templates(self) -> bool:
        """Whether a subclass overrides :meth:`modify_template` (compiling then calls it on every template)."""
        return type(self).modify_template is not ContainerizedOperation.modify_template

    def entry_template(self) -> dict[str, Any] | None:
        """The template that arranges the tasks (steps or DAG), or ``None`` when the entrypoint is a task."""
        return None

    def to_workflow(self) -> dict[str, Any]:
        """The Argo Workflow as a plain dict; compiling twice gives identical output."""
        from ..compiler.workflow import compile_workflow

        with collector_paused():  # the compile makes no cycles; full collections made its cost per task grow
            return compile_workflow(self)

    def to_yaml(self) -> str:
        """The Argo Workflow as YAML."""
        from ..compiler.yaml import dump_yaml

        return dump_yaml(self.to_workflow())

    def submit(self, backend: BackendLike = None) -> Workflow:
        """Compile, validate (see :func:`workflows.validation.validate_spec`) and submit the workflow to
        ``backend`` (a :class:`~workflows.backends.Backend`, a backend name, or ``None``: the configured one).

        The ``on_exit_notify`` queue, when named, is created first on the events backend."""
        return self._submit(self.to_workflow(), backend)

    def _submit(self, spec: dict[str, Any], backend: BackendLike) -> Workflow:
        """Submit the compiled ``spec``, after creating the topic its exit handler publishes on (when named),
        so that no broker ever sees a message for a topic that does not exist yet."""
        from .. import argo

        notification = self.options.on_exit_notify
        if notification is not None and notification.queue is not None:
            from ..events import EventClient
            from ..events.aliases import UNSET_VALUES

            if notification.queue not in UNSET_VALUES:  # CloudHarness's 'None' names no queue
                EventClient(notification.queue).create_topic()
        self.persisted = argo.submit_workflow(spec, backend=backend)
        return self.persisted

    def _submitted(self, what: str) -> Workflow:
        if self.persisted is None:
            raise OperationNotSubmitted(f"operation {self.name!r}: {what} needs a submitted workflow; call execute()")
        return self.persisted

    def refresh(self) -> None:
        """Read the submitted workflow again (``persisted``)."""
        self._submitted("refresh()").refresh()

    def is_running(self) -> bool:
        """Whether the submitted workflow is pending or running (refreshed first); ``False`` before submission."""
        if self.persisted is None:
            return False
        self.refresh()
        return self.persisted.status in (OperationStatus.RUNNING, OperationStatus.PENDING)

    def is_error(self) -> bool:
        """Whether the submitted workflow ended in error or failure (refreshed first); ``False`` before submission."""
        if self.persisted is None:
            return False
        self.refresh()
        return self.persisted.status in (OperationStatus.ERROR, OperationStatus.FAILED)

    def get_operation_update_url(self) -> str:
        """Where the submitted workflow can be followed: ``<base>/operations/<workflow name>``.

        The base is ``$WORKFLOWS_OPERATIONS_URL``; else, inside a CloudHarness
        deployment, its ``workflows`` application's address (as CloudHarness);
        else ``workflows://local``, for which ``workflows get <workflow name>``
        shows the workflow (see :func:`workflows.config.operations_url`).
        """
        from ..config import operations_url

        return f"{operations_url()}/operations/{self._submitted('get_operation_update_url()').name}"


class AsyncOperation(ContainerizedOperation):
    """Submitted and left running: ``execute()`` returns the workflow handle at once."""

    def execute(self, backend: BackendLike = None) -> Workflow:
        """Submit the workflow to ``backend`` (see :meth:`submit`) and return its handle."""
        return self.submit(backend)
