"""The base of every task: a named unit of work that becomes one Argo template."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import BadOperationConfiguration
from ..naming import ENV_VAR_NAME, check_dns1123_label
from ..quantity import resource_requirements
from ..runtime import CH_WORKFLOW_NAME_ENV, WORKFLOW_NAME_ENV
from ..volumes import VolumeMount, parse_volumes

IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def _check_retry_limit(task: str, retry_limit: object) -> int:
    if isinstance(retry_limit, bool) or not isinstance(retry_limit, int) or retry_limit < 0:
        raise BadOperationConfiguration(f"task {task!r}: retry_limit={retry_limit!r} must be a non-negative int or None")
    return retry_limit


def _check_overrides(task: str, overrides: object) -> dict[str, Any]:
    if not isinstance(overrides, Mapping):
        raise TypeError(f"task {task!r}: template_overrides must be a dict in Argo's camelCase, got {overrides!r}")
    if "name" in overrides:
        raise BadOperationConfiguration(
            f"task {task!r}: template_overrides cannot change 'name' ({overrides['name']!r}); rename the task instead"
        )
    return copy.deepcopy(dict(overrides))


#: Environment variables every task gets from the library; a task cannot set them itself.
RESERVED_ENV = frozenset({WORKFLOW_NAME_ENV, CH_WORKFLOW_NAME_ENV})


def _check_env(task: str, env: Mapping[str, object]) -> dict[str, str]:
    checked = {}
    for name, value in env.items():
        if name in RESERVED_ENV:
            raise BadOperationConfiguration(
                f"task {task!r}: environment variable {name!r} is set by the library (the workflow's name)"
            )
        if not ENV_VAR_NAME.match(name):
            raise BadOperationConfiguration(
                f"task {task!r}: invalid environment variable name {name!r}: "
                "use letters, digits and '_', not starting with a digit"
            )
        checked[name] = value if type(value) is str else str(value)
    return checked


class Task(ABC):
    """A named unit of work; an operation turns each task into one Argo template.

    Keyword options shared by every task:

    - ``resources``: ``{'requests': {...}, 'limits': {...}}`` with Kubernetes
      quantities; GPUs as extended resources, e.g. ``{'limits': {'nvidia.com/gpu': 1}}``.
    - ``volume_mounts``: list of ``[CLAIM:]PATH[:MODE]`` (see :mod:`workflows.volumes`).
    - ``retry_limit``: how many times Argo retries the task (default: no retries).
    - ``image_pull_policy``: ``Always``, ``IfNotPresent`` or ``Never``.
    - ``template_overrides``: a dict in Argo's own camelCase, deep-merged into the
      template (dicts merge key by key; any other value replaces).

    Every other keyword becomes an environment variable of the task, its value
    converted with :class:`str`.
    """

    #: The Argo template type this task compiles to: ``container`` or ``script``.
    template_type: ClassVar[str]

    def __init__(
        self,
        name: str,
        *,
        resources: Mapping[str, Mapping[str, object]] | None = None,
        volume_mounts: list[str] | tuple[str, ...] | None = None,
        retry_limit: int | None = None,
        image_pull_policy: str | None = None,
        template_overrides: Mapping[str, Any] | None = None,
        **env: object,
    ) -> None:
        # Every check below runs per task: cheap cases skip the helpers, and messages are built on error only.
        self.name: str = check_dns1123_label("task name", name)
        """The normalised name, used as the template and step/DAG task name."""
        self.resources: dict[str, dict[str, str]] = (
            resource_requirements(f"task {self.name!r}: resources", resources) if resources is not None else {}
        )
        """Normalised resource requirements (quantities as strings)."""
        self.volume_mounts: tuple[VolumeMount, ...] = (
            parse_volumes(f"task {self.name!r}: volume_mounts", volume_mounts) if volume_mounts else ()
        )
        """The task's own volumes, mounted in its pod only."""
        self.retry_limit: int | None = _check_retry_limit(self.name, retry_limit) if retry_limit is not None else None
        """Argo ``retryStrategy.limit``, or ``None`` for no retries."""
        if image_pull_policy is not None and image_pull_policy not in IMAGE_PULL_POLICIES:
            raise BadOperationConfiguration(
                f"task {self.name!r}: image_pull_policy={image_pull_policy!r}, "
                f"expected one of {', '.join(IMAGE_PULL_POLICIES)}"
            )
        self.image_pull_policy: str | None = image_pull_policy
        """Kubernetes ``imagePullPolicy``, or ``None`` for Kubernetes' default."""
        self.template_overrides: dict[str, Any] = (
            _check_overrides(self.name, template_overrides) if template_overrides is not None else {}
        )
        """Argo template fields deep-merged over the compiled template."""
        self.env: dict[str, str] = _check_env(self.name, env) if env else {}
        """Environment variables given by the user, in the order given."""

    #: The full image reference the task runs in (set by each concrete task class).
    image_name: str

    @abstractmethod
    def template_body(self) -> dict[str, Any]:
        """A fresh dict with the type-specific fields of the container or script (image, command, ...)."""

    def spec(self) -> dict[str, Any]:
        """The task's Argo template on its own, outside any operation."""
        from ..compiler.templates import task_template

        return task_template(self)

    def instance(self) -> dict[str, str]:
        """The step (or DAG task) that runs this task's template."""
        return {"name": self.name, "template": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
