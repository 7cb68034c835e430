"""Tasks that run a container image: Argo ``container`` templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import config
from ..errors import BadOperationConfiguration
from ..images import resolve_image
from .base import DEFAULT_RETRY, Task


def _string_list(field: str, value: object) -> list[str] | None:
    if value is None:
        return None
    if type(value) is list and all(type(item) is str for item in value):  # the common case, kept fast
        return list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{field} must be a list of strings, got {value!r}")
    items = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise TypeError(f"{field}[{index}] must be a string or a number, got {item!r}")
        items.append(str(item))
    return items


class ContainerizedTask(Task):
    """Runs a container image (an Argo container template), with an optional ``command`` (the entrypoint)
    and ``args``.

    Positional arguments in CloudHarness's order: ``name, resources,
    image_pull_policy, command, retry_limit, template_overrides``; the image is
    the keyword ``image`` (subclasses set it). Every other keyword is an
    environment variable (see :class:`~workflows.tasks.Task`).
    """

    template_type = "container"

    def __init__(
        self,
        name: str,
        resources: Mapping[str, Mapping[str, object]] | None = None,
        image_pull_policy: str | None = None,
        command: Sequence[str] | None = None,
        retry_limit: int | None = DEFAULT_RETRY,
        template_overrides: Any = None,
        *,
        image: str | None = None,
        args: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            name,
            resources,
            retry_limit=retry_limit,
            template_overrides=template_overrides,
            image_pull_policy=image_pull_policy,
            **options,
        )
        if not isinstance(image, str) or not image or image != image.strip():
            raise BadOperationConfiguration(f"task {self.name!r}: image={image!r} must be a non-empty image reference")
        self.image_name = image
        self.command: list[str] | None = _string_list(f"task {self.name!r}: command", command)
        """The container's entrypoint, or ``None`` for the image's own."""
        self.args: list[str] | None = _string_list(f"task {self.name!r}: args", args)
        """The container's arguments, or ``None`` for the image's own."""

    def template_body(self) -> dict[str, Any]:
        """The container fields: image, command, args."""
        body: dict[str, Any] = {"image": self.image_name}
        if self.command is not None:
            body["command"] = list(self.command)
        if self.args is not None:
            body["args"] = list(self.args)
        return body


class CustomTask(ContainerizedTask):
    """Runs an application image or an external one:
    ``CustomTask(name, image_name, resources, image_pull_policy, command, **env)`` as in CloudHarness.

    ``CustomTask('x', 'myapp-mytask')`` runs ``<registry>/myapp-mytask:<tag>``
    when ``<applications>/myapp/tasks/mytask/Dockerfile`` exists (see
    :mod:`workflows.config`); inside a CloudHarness deployment the name is
    resolved from CloudHarness's values; any other name is an external image,
    used verbatim.
    """

    def __init__(
        self,
        name: str,
        image_name: str,
        resources: Mapping[str, Mapping[str, object]] | None = None,
        image_pull_policy: str | None = None,
        command: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(image_name, str) or not image_name:
            raise BadOperationConfiguration(f"task {name!r}: image_name={image_name!r} must be a non-empty string")
        super().__init__(
            name, resources, image_pull_policy, command, image=resolve_image(image_name), **options
        )


class CommandBasedTask(ContainerizedTask):
    """Runs ``command`` (a list of strings) in the default image ``$WORKFLOWS_IMAGE``:
    ``CommandBasedTask(name, command, resources, image_pull_policy, **env)`` as in CloudHarness."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        resources: Mapping[str, Mapping[str, object]] | None = None,
        image_pull_policy: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, resources, image_pull_policy, command, image=config.default_image(), **options)
        if not self.command:
            raise BadOperationConfiguration(f"task {self.name!r}: command must be a non-empty list, got {command!r}")


class SendResultTask(CustomTask):
    """The step that publishes the files of the shared directory as the workflow's result
    (``send-result-event``, image ``workflows-send-result-event``), as in CloudHarness."""

    #: The task's name and its image.
    NAME = "send-result-event"
    IMAGE = "workflows-send-result-event"

    def __init__(self, **options: Any) -> None:
        super().__init__(self.NAME, self.IMAGE, **options)
