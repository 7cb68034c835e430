"""Operations to Argo ``Workflow`` dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..runtime import (
    EXIT_PAYLOAD_ENV,
    EXIT_PAYLOAD_JSON_ENV,
    EXIT_QUEUE_ENV,
    EXIT_STATUS_ENV,
    SHARED_DIRECTORY_ENV,
    workflow_name_env,
)
from ..naming import generate_name
from .affinity import pod_affinity
from .templates import task_template

if TYPE_CHECKING:
    from ..operations.base import ContainerizedOperation
    from ..operations.options import ExitNotification, OperationOptions

API_VERSION = "argoproj.io/v1alpha1"


def _exit_handler(
    notification: ExitNotification, labels: dict[str, str], affinity: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``onExit`` template: publishes ``{"workflow", "status", "payload"}`` on the queue.

    Its container gets what CloudHarness's notify images read (``workflow_result``,
    and ``queue_name`` and ``payload`` when given), the workflow's name, and
    ``WORKFLOWS_PAYLOAD_JSON=true`` when a dict or list payload was encoded as JSON.
    """
    from ..operations.base import EXIT_HANDLER_NAME

    env = [{"name": EXIT_STATUS_ENV, "value": "{{workflow.status}}"}]
    if notification.queue is not None:
        env.append({"name": EXIT_QUEUE_ENV, "value": notification.queue})
    if notification.payload is not None:
        env.append({"name": EXIT_PAYLOAD_ENV, "value": notification.payload})
        if notification.payload_is_json:
            env.append({"name": EXIT_PAYLOAD_JSON_ENV, "value": "true"})
    env += workflow_name_env()
    template: dict[str, Any] = {"name": EXIT_HANDLER_NAME, "container": {"image": notification.image, "env": env}}
    if labels:
        template["metadata"] = {"labels": labels}
    if affinity:
        template["affinity"] = affinity
    return template


def _spec_options(spec: dict[str, Any], options: OperationOptions) -> None:
    """Add the workflow-level fields that come straight from the options."""
    if options.ttl_strategy is not None:
        spec["ttlStrategy"] = dict(options.ttl_strategy)
    if options.pod_gc is not None:
        spec["podGC"] = {key: (dict(value) if isinstance(value, dict) else value) for key, value in options.pod_gc.items()}
    if options.parallelism is not None:
        spec["parallelism"] = options.parallelism
    if options.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = options.active_deadline_seconds
    if options.service_account is not None:
        spec["serviceAccountName"] = options.service_account
    if options.node_selector:
        spec["nodeSelector"] = dict(options.node_selector)
    if options.tolerations:
        spec["tolerations"] = [dict(toleration) for toleration in options.tolerations]
    if options.image_pull_secrets:
        spec["imagePullSecrets"] = [dict(secret) for secret in options.image_pull_secrets]


def compile_workflow(operation: ContainerizedOperation) -> dict[str, Any]:
    """Compile ``operation`` to a fresh Argo Workflow dict (deterministic: same operation, same dict)."""
    options = operation.options
    plan = operation.volume_plan
    contexts = options.pod_contexts
    context_labels = {context.key: context.value for context in contexts}
    required = [(context.key, context.value) for context in contexts if context.required]
    preferred = [(context.key, context.value) for context in contexts if not context.required]
    shared_path = options.shared_path

    templates: list[dict[str, Any]] = []
    entry = operation.entry_template()
    if entry is not None:
        templates.append(entry)
    for task in operation.task_list():
        env = [{"name": SHARED_DIRECTORY_ENV, "value": shared_path}] if shared_path is not None else None
        if task.name in plan.pod_mounts:
            volume_labels = plan.node_labels(task.name)
            labels = {**context_labels, **volume_labels}
            affinity = pod_affinity([*required, *volume_labels.items()], preferred)
            mounts = plan.volume_mounts(task.name)
        else:
            labels = dict(context_labels)
            affinity = pod_affinity(required, preferred) if contexts else None
            mounts = None
        templates.append(task_template(task, env=env, volume_mounts=mounts, labels=labels, affinity=affinity))

    spec: dict[str, Any] = {"entrypoint": operation.entrypoint, "templates": templates}
    if options.on_exit_notify is not None:
        handler = _exit_handler(options.on_exit_notify, dict(context_labels), pod_affinity(required, preferred))
        templates.append(handler)
        spec["onExit"] = handler["name"]
    claims = plan.workflow_volumes()
    if claims:
        spec["volumes"] = claims
    claim_templates = plan.claim_templates(options.shared_volume_size)
    if claim_templates:
        spec["volumeClaimTemplates"] = claim_templates
    _spec_options(spec, options)

    metadata: dict[str, Any] = {"generateName": generate_name(operation.name)}
    if options.labels:
        metadata["labels"] = dict(options.labels)
    if options.annotations:
        metadata["annotations"] = dict(options.annotations)
    return {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": metadata, "spec": spec}
