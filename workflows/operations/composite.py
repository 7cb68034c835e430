"""Operations of several tasks: pipeline, parallel, simple DAG, DAG."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import BadOperationConfiguration
from ..graph import find_cycle
from ..naming import normalise_name
from ..tasks import Task
from .base import AsyncOperation


class CompositeOperation(AsyncOperation):
    """An operation of several tasks, arranged by the subclass in its entry template.

    Positional options in CloudHarness's order: ``shared_directory, shared_volume_size, pod_context``.
    """

    def __init__(
        self,
        basename: str,
        tasks: Iterable[Task],
        shared_directory: Any = None,
        shared_volume_size: int | str = 10,
        pod_context: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(
            basename,
            tasks,
            shared_directory=shared_directory,
            shared_volume_size=shared_volume_size,
            pod_context=pod_context,
            **options,
        )


class PipelineOperation(CompositeOperation):
    """Runs ``tasks`` one after the other; a failure stops the pipeline."""

    entry_suffix = "pipeline"

    def entry_template(self) -> dict[str, Any]:
        """A steps template with one task per step group."""
        return {"name": self.entrypoint, "steps": [[task.instance()] for task in self.task_list()]}


class ParallelOperation(CompositeOperation):
    """Runs ``tasks`` all at once."""

    entry_suffix = "parallel"

    def entry_template(self) -> dict[str, Any]:
        """A steps template with every task in one step group."""
        return {"name": self.entrypoint, "steps": [[task.instance() for task in self.task_list()]]}


class SimpleDagOperation(CompositeOperation):
    """Runs groups of tasks in order, the tasks of a group in parallel.

    Each positional argument after ``basename`` is a task or an iterable of tasks.
    """

    entry_suffix = "simpledag"

    def __init__(self, basename: str, *task_groups: Task | Iterable[Task], **options: Any) -> None:
        groups = tuple((group,) if isinstance(group, Task) else tuple(group) for group in task_groups)
        for index, group in enumerate(groups):
            if not group:
                raise BadOperationConfiguration(f"operation {basename!r}: task group {index} is empty")
        self.task_groups: tuple[tuple[Task, ...], ...] = groups
        """The groups, in order."""
        CompositeOperation.__init__(self, basename, [task for group in groups for task in group], **options)

    def entry_template(self) -> dict[str, Any]:
        """A steps template with one step group per task group."""
        return {"name": self.entrypoint, "steps": [[task.instance() for task in group] for group in self.task_groups]}


class DagOperation(CompositeOperation):
    """Runs ``tasks`` as an Argo DAG.

    ``dependencies`` maps a task name to the list of task names it waits for
    (all of them must succeed) or to an Argo ``depends`` expression such as
    ``"a.Failed || b.Succeeded"``. Tasks without an entry start at once.
    """

    entry_suffix = "dag"

    def __init__(
        self,
        basename: str,
        tasks: Iterable[Task],
        dependencies: Mapping[str, Sequence[str] | str] | None = None,
        **options: Any,
    ) -> None:
        CompositeOperation.__init__(self, basename, tasks, **options)
        if dependencies is not None and not isinstance(dependencies, Mapping):
            raise TypeError(f"operation {self.name!r}: dependencies must be a dict, got {dependencies!r}")
        self.dependencies: dict[str, list[str] | str] = self._check_dependencies(dependencies or {})
        """Normalised dependencies: task name → list of task names, or a ``depends`` expression."""

    def _check_dependencies(self, dependencies: Mapping[str, Sequence[str] | str]) -> dict[str, list[str] | str]:
        known = {task.name for task in self.task_list()}
        checked: dict[str, list[str] | str] = {}
        graph: dict[str, list[str]] = {}
        for key, value in dependencies.items():
            task = key if not isinstance(key, str) or key in known else normalise_name(key)
            if task not in known:
                raise BadOperationConfiguration(f"{self._field(key)}: no task is named {key!r}")
            if type(value) is list and all(type(name) is str and name in known for name in value):
                upstream = checked[task] = list(value)  # the common case, kept fast: names as the tasks have them
            else:
                checked[task], upstream = self._check_dependency(key, value, known)
            graph[task] = upstream
        cycle = find_cycle(graph)
        if cycle:
            raise BadOperationConfiguration(
                f"operation {self.name!r}: dependency cycle {' -> '.join(cycle)} (each depends on the next)"
            )
        return checked

    def _field(self, key: object) -> str:
        return f"operation {self.name!r}: dependencies[{key!r}]"

    def _check_dependency(self, key: object, value: object, known: set[str]) -> tuple[list[str] | str, list[str]]:
        """One entry of ``dependencies``: what to store for it, and the tasks it waits for."""
        if isinstance(value, str):
            from ..depends import DependsSyntaxError, parse_depends  # loaded for the first `depends`

            try:
                expression = parse_depends(value)
            except DependsSyntaxError as error:
                raise BadOperationConfiguration(f"{self._field(key)}: {error}") from None
            stored: list[str] | str = value.strip()
            upstream = sorted(expression.tasks)
        elif isinstance(value, Sequence) and all(isinstance(name, str) for name in value):
            stored = upstream = [name if name in known else normalise_name(name) for name in value]
        else:
            raise TypeError(f"{self._field(key)} must be a list of task names or a depends expression, got {value!r}")
        for name in upstream:
            if name not in known:
                raise BadOperationConfiguration(f"{self._field(key)}={value!r}: depends on unknown task {name!r}")
        return stored, upstream

    def entry_template(self) -> dict[str, Any]:
        """A DAG template with one task per task, carrying its dependencies.

        Argo refuses a DAG that mixes ``dependencies`` and ``depends``: when any
        task has a ``depends`` expression, a list ``[a, b]`` is written as its
        equivalent expression ``a && b``.
        """
        as_expressions = any(isinstance(upstream, str) for upstream in self.dependencies.values())
        dag_tasks = []
        for task in self.task_list():
            entry: dict[str, Any] = task.instance()
            upstream = self.dependencies.get(task.name)
            if isinstance(upstream, str):
                entry["depends"] = upstream
            elif upstream and as_expressions:
                entry["depends"] = " && ".join(upstream)
            elif upstream:
                entry["dependencies"] = list(upstream)
            dag_tasks.append(entry)
        return {"name": self.entrypoint, "dag": {"tasks": dag_tasks}}
