"""Operations to Argo ``Workflow`` dicts.

:func:`compile_workflow` reads an operation through :class:`CompilableOperation`
(it never imports the operation classes): each task builds its own template
(:func:`workflows.tasks.template.task_template`), the operation its entry template;
the compiler places them with the volume plan and adds the exit handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..runtime import (
    EXIT_PAYLOAD_ENV,
    EXIT_PAYLOAD_JSON_ENV,
    EXIT_QUEUE_ENV,
    EXIT_STATUS_ENV,
    SHARED_DIRECTORY_ENV,
    workflow_name_env,
)
from ..naming import generate_name
from ..vocabulary import EXIT_HANDLER_NAME
from .affinity import claim_labels, pod_affinity, volume_terms
from ..tasks.template import task_template

if TYPE_CHECKING:
    from ..operations.options import ExitNotification, OperationOptions
    from ..tasks import Task
    from .volumes import VolumePlan

API_VERSION = "argoproj.io/v1alpha1"


class CompilableOperation(Protocol):
    """What :func:`compile_workflow` reads of an operation (``ContainerizedOperation`` has it all)."""

    #: The workflow's ``generateName`` prefix.
    name: str
    #: The checked operation options.
    options: OperationOptions
    #: Volumes, their names and the mounts of each task.
    volume_plan: VolumePlan

    @property
    def entrypoint(self) -> str:
        """``spec.entrypoint``."""

    @property
    def modifies_templates(self) -> bool:
        """Whether :meth:`modify_template` must be called on every template."""

    def entry_template(self) -> dict[str, Any] | None:
        """The template arranging the tasks (steps or DAG), or ``None`` when the entrypoint is a task."""

    def task_list(self) -> Sequence[Task]:
        """Every task, in order."""

    def modify_template(self, template: dict[str, Any]) -> dict[str, Any]:
        """The user's hook on every compiled template."""


def _exit_handler(
    notification: ExitNotification, labels: dict[str, str], affinity: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``onExit`` template: publishes ``{"workflow", "status", "payload"}`` on the queue.

    Its container gets what CloudHarness's notify images read (``workflow_result``,
    and ``queue_name`` and ``payload`` when given), the workflow's name, and
    ``WORKFLOWS_PAYLOAD_JSON=true`` when a dict or list payload was encoded as JSON.
    """

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


def compile_workflow(operation: CompilableOperation) -> dict[str, Any]:
    """Compile ``operation`` to a fresh Argo Workflow dict (deterministic: same operation, same dict).

    Pod labels and affinity: see :mod:`workflows.compiler.affinity`. As in
    CloudHarness, the operation's contexts and shared claims make the workflow's
    ``spec.affinity``; a template whose pod needs more (its own claims, the
    operation's ephemeral volumes) carries its complete affinity, since in Argo a
    template's affinity replaces the workflow's.
    """
    from .. import cloudharness

    options = operation.options
    plan = operation.volume_plan
    inside_cloudharness = cloudharness.enabled()
    namespace = cloudharness.namespace() if inside_cloudharness else None
    contexts = options.pod_contexts
    context_labels = {context.key: context.value for context in contexts}
    context_required = [(context.key, (context.value,)) for context in contexts if context.required]
    context_preferred = [(context.key, (context.value,)) for context in contexts if not context.required]
    shared_claims, _ = plan.shared_volumes()
    shared_required, shared_preferred = volume_terms(shared_claims, (), namespace)
    workflow_labels = {**context_labels, **claim_labels(shared_claims, ())}
    workflow_affinity = pod_affinity([*context_required, *shared_required], [*context_preferred, *shared_preferred])
    shared_path = options.shared_path

    templates: list[dict[str, Any]] = []
    entry = operation.entry_template()
    if entry is not None:
        if context_labels:
            entry["metadata"] = {"labels": dict(context_labels)}
        templates.append(entry)
    for task in operation.task_list():
        env = [{"name": SHARED_DIRECTORY_ENV, "value": shared_path}] if shared_path is not None else None
        if task.name in plan.pod_mounts:
            claims, ephemeral = plan.pod_volumes(task.name)
            labels = {**context_labels, **claim_labels(claims, ephemeral)}
            required, preferred = volume_terms(claims, ephemeral, namespace)
            affinity = pod_affinity([*context_required, *required], [*context_preferred, *preferred])
            mounts = plan.volume_mounts(task.name)
        else:
            labels, affinity, mounts = dict(context_labels), workflow_affinity, None
        templates.append(
            task_template(
                task,
                env=env,
                volume_mounts=mounts,
                labels=labels,
                affinity=affinity if affinity != workflow_affinity else None,
                inside_cloudharness=inside_cloudharness,
            )
        )

    spec: dict[str, Any] = {"entrypoint": operation.entrypoint, "templates": templates}
    if options.on_exit_notify is not None:
        handler = _exit_handler(options.on_exit_notify, dict(workflow_labels), None)
        templates.append(handler)
        spec["onExit"] = handler["name"]
    claims = plan.workflow_volumes()
    if claims:
        spec["volumes"] = claims
    claim_templates = plan.claim_templates(options.shared_volume_size)
    if claim_templates:
        spec["volumeClaimTemplates"] = claim_templates
    _spec_options(spec, options)
    if workflow_affinity is not None:
        spec["affinity"] = workflow_affinity
    if inside_cloudharness:
        cloudharness.workflow_additions(spec)
    if operation.modifies_templates:
        spec["templates"] = [operation.modify_template(template) for template in spec["templates"]]

    metadata: dict[str, Any] = {"generateName": generate_name(operation.name)}
    if options.labels:
        metadata["labels"] = dict(options.labels)
    if options.annotations:
        metadata["annotations"] = dict(options.annotations)
    return {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": metadata, "spec": spec}
