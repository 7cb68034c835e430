"""A task's Argo template: what a task builds of itself, given where its operation places its pod."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..dicts import deep_merge

if TYPE_CHECKING:
    from .base import Task


def task_template(
    task: Task,
    *,
    env: list[dict[str, Any]] | None = None,
    volume_mounts: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    affinity: dict[str, Any] | None = None,
    inside_cloudharness: bool | None = None,
) -> dict[str, Any]:
    """The Argo template of ``task``, a fresh dict.

    ``env`` (after the task's own variables, except those the task sets itself), ``volume_mounts``, pod ``labels``
    and ``affinity`` come from the operation; the task's ``template_overrides``
    are merged last. ``inside_cloudharness`` decides the default retry limit
    (``None``: find out).
    """
    body = task.template_body()
    variables = [{"name": name, "value": value} for name, value in task.env.items()]
    if env:
        variables += [variable for variable in env if variable["name"] not in task.env]
    body["env"] = variables + task.library_env()
    if task.resources:
        body["resources"] = {section: dict(amounts) for section, amounts in task.resources.items()}
    if task.image_pull_policy is not None:
        body["imagePullPolicy"] = task.image_pull_policy
    if volume_mounts:
        body["volumeMounts"] = volume_mounts
    template: dict[str, Any] = {"name": task.template_name, task.template_type: body}
    if labels:
        template["metadata"] = {"labels": labels}
    if affinity:
        template["affinity"] = affinity
    retry_limit = task.retry_limit_in(inside_cloudharness)
    if retry_limit is not None:
        template["retryStrategy"] = {"limit": retry_limit}  # an int, as CloudHarness and Argo's examples write it
    if task.template_overrides:
        deep_merge(template, task.template_overrides)
    return template
