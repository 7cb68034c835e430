"""The base of every task: a named unit of work that becomes one Argo template."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import cloudharness
from ..errors import BadOperationConfiguration
from ..naming import ENV_VAR_NAME, check_dns1123_label
from ..quantity import resource_requirements
from ..runtime import CH_WORKFLOW_NAME_ENV, WORKFLOW_NAME_ENV, workflow_name_env
from ..volumes import VolumeMount, parse_volumes
from .overrides import template_overrides as _check_overrides
from .template import task_template


class _Default:
    """Marks an argument left to its default, which depends on where the workflow runs."""

    def __repr__(self) -> str:
        return "DEFAULT"

    def __copy__(self) -> _Default:
        return self

    def __deepcopy__(self, memo: dict) -> _Default:
        return self


#: ``retry_limit`` left to its default: 10 inside a CloudHarness deployment (as CloudHarness), else no retries.
DEFAULT_RETRY: Any = _Default()

IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def _check_retry_limit(task: str, retry_limit: object) -> int:
    if isinstance(retry_limit, bool) or not isinstance(retry_limit, int) or retry_limit < 0:
        raise BadOperationConfiguration(f"task {task!r}: retry_limit={retry_limit!r} must be a non-negative int or None")
    return retry_limit


#: Environment variables every task gets from the library; a task cannot set them itself.
RESERVED_ENV = frozenset({WORKFLOW_NAME_ENV, CH_WORKFLOW_NAME_ENV})


def _check_env_name(task: str, name: object) -> None:
    if name in RESERVED_ENV:
        raise BadOperationConfiguration(
            f"task {task!r}: environment variable {name!r} is set by the library (the workflow's name)"
        )
    if not isinstance(name, str) or not ENV_VAR_NAME.match(name):
        raise BadOperationConfiguration(
            f"task {task!r}: invalid environment variable name {name!r}: "
            "use letters, digits and '_', not starting with a digit"
        )


def _check_env(task: str, env: Mapping[str, object]) -> dict[str, str]:
    checked = {}
    for name, value in env.items():
        _check_env_name(task, name)
        checked[name] = value if type(value) is str else str(value)
    return checked


def _default_retry_limit() -> int | None:
    return cloudharness.RETRY_LIMIT if cloudharness.enabled() else None


class Task(ABC):
    """A named unit of work; an operation turns each task into one Argo template.

    Options shared by every task, in CloudHarness's positional order
    (``name, resources, volume_mounts, retry_limit, template_overrides``):

    - ``resources``: ``{'requests': {...}, 'limits': {...}}`` with Kubernetes
      quantities; GPUs as extended resources, e.g. ``{'limits': {'nvidia.com/gpu': 1}}``.
    - ``volume_mounts``: list of ``[CLAIM:]PATH[:MODE]`` (see :mod:`workflows.volumes`).
    - ``retry_limit``: how many times Argo retries the task (default: no retries;
      10 inside a CloudHarness deployment, as CloudHarness).
    - ``template_overrides``: a dict in Argo's own camelCase, or a template model
      with ``to_dict()`` such as :class:`~workflows.tasks.V1alpha1Template` (see
      :mod:`workflows.tasks.overrides`), deep-merged into the template (dicts merge
      key by key; any other value replaces). Its ``name`` renames the template.
    - ``image_pull_policy`` (keyword): ``Always``, ``IfNotPresent`` or ``Never``.

    Tasks are equal, and hash, by name (an operation's task names are unique).

    Every other keyword becomes an environment variable of the task, its value
    converted with :class:`str`.
    """

    #: The Argo template type this task compiles to: ``container`` or ``script``.
    template_type: ClassVar[str]

    def __init__(
        self,
        name: str,
        resources: Mapping[str, Mapping[str, object]] | None = None,
        volume_mounts: list[str] | tuple[str, ...] | None = None,
        retry_limit: int | None = DEFAULT_RETRY,
        template_overrides: Mapping[str, Any] | Any | None = None,
        *,
        image_pull_policy: str | None = None,
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
        self._retry_limit: int | None = (
            _check_retry_limit(self.name, retry_limit) if retry_limit not in (None, DEFAULT_RETRY) else retry_limit
        )
        if image_pull_policy is not None and image_pull_policy not in IMAGE_PULL_POLICIES:
            raise BadOperationConfiguration(
                f"task {self.name!r}: image_pull_policy={image_pull_policy!r}, "
                f"expected one of {', '.join(IMAGE_PULL_POLICIES)}"
            )
        self.image_pull_policy: str | None = image_pull_policy
        """Kubernetes ``imagePullPolicy``, or ``None`` for Kubernetes' default."""
        overrides = _check_overrides(self.name, template_overrides) if template_overrides is not None else {}
        self.template_name: str = (
            check_dns1123_label(f"task {self.name!r}: template_overrides name", overrides.pop("name"))
            if "name" in overrides
            else self.name
        )
        """The name of the task's template: the task's name unless ``template_overrides`` renames it."""
        self.template_overrides: dict[str, Any] = overrides
        """Argo template fields (camelCase, without ``name``) deep-merged over the compiled template."""
        self.env: dict[str, str] = _check_env(self.name, env) if env else {}
        """Environment variables given by the user, in the order given."""

    @property
    def retry_limit(self) -> int | None:
        """Argo ``retryStrategy.limit``, or ``None`` for no retries (the default: 10 inside a CloudHarness
        deployment, decided when read or when the workflow is compiled)."""
        return self.retry_limit_in(None)

    @retry_limit.setter
    def retry_limit(self, value: int | None) -> None:
        self._retry_limit = _check_retry_limit(self.name, value) if value is not None else None

    def retry_limit_in(self, inside_cloudharness: bool | None) -> int | None:
        """The retry limit when compiled inside a CloudHarness deployment or not (``None``: find out)."""
        if self._retry_limit is not DEFAULT_RETRY:
            return self._retry_limit
        if inside_cloudharness is None:
            return _default_retry_limit()
        return cloudharness.RETRY_LIMIT if inside_cloudharness else None

    #: The full image reference the task runs in (set by each concrete task class).
    image_name: str

    @abstractmethod
    def template_body(self) -> dict[str, Any]:
        """A fresh dict with the type-specific fields of the container or script (image, command, ...)."""

    def spec(self) -> dict[str, Any]:
        """The task's Argo template on its own, outside any operation."""
        return task_template(self)

    def instance(self) -> dict[str, str]:
        """The step (or DAG task) that runs this task's template."""
        return {"name": self.name, "template": self.template_name}

    def add_env(self, name: str, value: object) -> None:
        """Set the environment variable ``name`` of the task (its value converted with :class:`str`)."""
        _check_env_name(self.name, name)
        self.env[name] = value if type(value) is str else str(value)

    @property
    def envs(self) -> list[dict[str, Any]]:
        """The container's ``env`` outside an operation: the task's variables, then :meth:`library_env`."""
        return [{"name": name, "value": value} for name, value in self.env.items()] + self.library_env()

    def library_env(self) -> list[dict[str, Any]]:
        """The variables the library gives every task (the workflow's name), after the task's and the operation's."""
        return workflow_name_env()

    def metadata_spec(self) -> dict[str, Any]:
        """The pod metadata the task's own volumes call for: ``{'labels': {...}}``, or ``{}``.

        See :mod:`workflows.compiler.affinity` for the labels of ReadWriteOnce claims.
        """
        from ..compiler.affinity import claim_labels

        labels = claim_labels(self._own_claims(), ())
        return {"labels": labels} if labels else {}

    def affinity_spec(self) -> dict[str, Any]:
        """The pod affinity the task's own volumes call for, or ``{}`` (without the operation's contexts)."""
        from ..compiler.affinity import pod_affinity, volume_terms

        required, preferred = volume_terms(self._own_claims(), ())
        return pod_affinity(required, preferred) or {}

    def _own_claims(self) -> list[str]:
        claims = (m.claim for m in self.volume_mounts if m.claim is not None and not m.shared_across_nodes)
        return list(dict.fromkeys(claims))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
