"""The keyword options common to every containerized operation, checked and normalised."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..durations import is_go_duration
from ..errors import BadOperationConfiguration
from ..images import resolve_image
from ..naming import DNS1123_SUBDOMAIN
from ..quantity import quantity
from ..volumes import VolumeMount, parse_volumes
from .context import PodExecutionContext, check_label

DEFAULT_SHARED_PATH = "/mnt/shared"
DEFAULT_TTL_STRATEGY = (("secondsAfterCompletion", 3600), ("secondsAfterSuccess", 1200), ("secondsAfterFailure", 7200))
DEFAULT_POD_GC_DELAY_SECONDS = 600
POD_GC_STRATEGIES = ("OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")
TOLERATION_FIELDS = frozenset({"key", "operator", "value", "effect", "tolerationSeconds"})
TOLERATION_OPERATORS = ("Exists", "Equal")
TOLERATION_EFFECTS = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")
NOTIFY_QUEUE_IMAGE = "workflows-notify-queue"
# Kafka topic names: what a queue can be called.
QUEUE_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}\Z")


class _Default:
    """Marks an option left to its default (``None`` means "disabled" for some options)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


def _positive_int(field: str, value: object, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadOperationConfiguration(f"{field}={value!r}: expected an int >= {minimum}")
    return value


def _string_map(field: str, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a dict of str to str, got {value!r}")
    return {str(key): str(item) for key, item in value.items()}


def _labels(field: str, value: object) -> dict[str, str]:
    labels = _string_map(field, value)
    for key, item in labels.items():
        check_label(field, key, item)
    return labels


def _shared_directory(value: object) -> tuple[VolumeMount, ...]:
    if value is None or value is False or value == "":
        return ()
    if value is True:
        value = DEFAULT_SHARED_PATH
    return parse_volumes("shared_directory", value)


def _volume_size(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise BadOperationConfiguration(f"shared_volume_size={value!r}: expected a positive size")
        return f"{value}Mi"
    return quantity("shared_volume_size", value)


def _pod_contexts(value: object) -> tuple[PodExecutionContext, ...]:
    if value is None:
        return ()
    contexts = (value,) if isinstance(value, PodExecutionContext) else value
    if not isinstance(contexts, (list, tuple)) or not all(isinstance(c, PodExecutionContext) for c in contexts):
        raise TypeError(f"pod_context must be a PodExecutionContext or a list/tuple of them, got {value!r}")
    keys: dict[str, str] = {}
    for context in contexts:
        if keys.setdefault(context.key, context.value) != context.value:
            raise BadOperationConfiguration(
                f"pod_context: label {context.key!r} is given two values, "
                f"{keys[context.key]!r} and {context.value!r}; a pod carries one"
            )
    return tuple(contexts)


def _ttl_strategy(value: object) -> dict[str, int] | None:
    if value is DEFAULT:
        return dict(DEFAULT_TTL_STRATEGY)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"ttl_strategy must be a dict or None, got {value!r}")
    known = {key for key, _ in DEFAULT_TTL_STRATEGY}
    for key, seconds in value.items():
        if key not in known:
            raise BadOperationConfiguration(f"ttl_strategy: unknown key {key!r}, expected {', '.join(sorted(known))}")
        _positive_int(f"ttl_strategy.{key}", seconds, minimum=0)
    return dict(value)


def _duration(field: str, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value}s"
    if isinstance(value, str) and is_go_duration(value) and not value.startswith("-"):
        return value
    raise BadOperationConfiguration(f"{field}={value!r}: expected seconds (int) or a duration such as '90s' or '1h30m'")


def _pod_gc(value: object, ttl_strategy: dict[str, int] | None) -> dict[str, Any] | None:
    if value is DEFAULT:
        delay = (ttl_strategy or {}).get("secondsAfterSuccess", DEFAULT_POD_GC_DELAY_SECONDS)
        return {"strategy": "OnWorkflowSuccess", "deleteDelayDuration": f"{delay}s"}
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"pod_gc must be a dict or None, got {value!r}")
    pod_gc = copy.deepcopy(dict(value))
    unknown = set(pod_gc) - {"strategy", "deleteDelayDuration", "labelSelector"}
    if unknown:
        raise BadOperationConfiguration(f"pod_gc: unknown key(s) {', '.join(sorted(map(repr, unknown)))}")
    if "strategy" in pod_gc and pod_gc["strategy"] not in POD_GC_STRATEGIES:
        raise BadOperationConfiguration(
            f"pod_gc.strategy={pod_gc['strategy']!r}, expected one of {', '.join(POD_GC_STRATEGIES)}"
        )
    if "deleteDelayDuration" in pod_gc:
        pod_gc["deleteDelayDuration"] = _duration("pod_gc.deleteDelayDuration", pod_gc["deleteDelayDuration"])
    return pod_gc


def _tolerations(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"tolerations must be a list of dicts, got {value!r}")
    tolerations = []
    for index, toleration in enumerate(value):
        field = f"tolerations[{index}]"
        if not isinstance(toleration, Mapping):
            raise TypeError(f"{field} must be a dict, got {toleration!r}")
        unknown = set(toleration) - TOLERATION_FIELDS
        if unknown:
            raise BadOperationConfiguration(f"{field}: unknown key(s) {', '.join(sorted(map(repr, unknown)))}")
        if toleration.get("operator", "Equal") not in TOLERATION_OPERATORS:
            raise BadOperationConfiguration(f"{field}.operator={toleration['operator']!r}, expected Exists or Equal")
        if toleration.get("effect", "") not in TOLERATION_EFFECTS:
            raise BadOperationConfiguration(
                f"{field}.effect={toleration['effect']!r}, expected one of {', '.join(TOLERATION_EFFECTS[1:])}"
            )
        tolerations.append(dict(toleration))
    return tolerations


def _image_pull_secrets(value: object) -> list[dict[str, str]]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"image_pull_secrets must be a list of secret names, got {value!r}")
    secrets = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, Mapping) else item
        if not isinstance(name, str) or not DNS1123_SUBDOMAIN.match(name):
            raise BadOperationConfiguration(f"image_pull_secrets[{index}]={item!r}: expected a secret name")
        secrets.append({"name": name})
    return secrets


class ExitNotification:
    """``on_exit_notify``: a message published on a queue when the workflow ends, whatever its outcome."""

    def __init__(self, value: object) -> None:
        if not isinstance(value, Mapping):
            raise TypeError(f"on_exit_notify must be a dict with optional 'queue', 'payload', 'image', got {value!r}")
        unknown = set(value) - {"queue", "payload", "image"}
        if unknown:
            raise BadOperationConfiguration(
                f"on_exit_notify: unknown key(s) {', '.join(sorted(map(repr, unknown)))}; "
                "expected 'queue', 'payload', 'image'"
            )
        queue = value.get("queue")
        if queue is not None and (not isinstance(queue, str) or not QUEUE_NAME.match(queue)):
            raise BadOperationConfiguration(
                f"on_exit_notify.queue={queue!r}: expected a queue name of letters, digits, '.', '_', '-'"
            )
        self.queue: str | None = queue
        """The queue (topic) to publish on, or ``None`` for the notifier's default."""
        payload = value.get("payload")
        if payload is not None and not isinstance(payload, str):
            try:
                payload = json.dumps(payload, separators=(",", ":"))
            except TypeError as error:
                raise BadOperationConfiguration(
                    f"on_exit_notify.payload={payload!r}: expected a string or JSON-serialisable data ({error})"
                ) from error
        self.payload: str | None = payload
        """The payload, as a string (JSON for structured payloads), or ``None``."""
        self.payload_is_json: bool = payload is not None and not isinstance(value.get("payload"), str)
        """Whether :attr:`payload` is the JSON of a dict, list or number given (a string is passed as it is)."""
        image = value.get("image", NOTIFY_QUEUE_IMAGE)
        if not isinstance(image, str) or not image:
            raise BadOperationConfiguration(f"on_exit_notify.image={image!r}: expected an image name")
        self.image: str = resolve_image(image)
        """The notifier image, resolved like a CustomTask image."""


class OperationOptions:
    """The options every containerized operation accepts, checked and normalised.

    An unknown keyword is a :class:`TypeError`; a bad value a
    :class:`~workflows.errors.BadOperationConfiguration` naming it.
    Every instance owns its values (no shared mutable defaults).
    """

    def __init__(
        self,
        *,
        shared_directory: bool | str | Sequence[str] | None = None,
        shared_volume_size: int | str = 10,
        pod_context: PodExecutionContext | Sequence[PodExecutionContext] | None = None,
        ttl_strategy: Mapping[str, int] | None = DEFAULT,
        pod_gc: Mapping[str, Any] | None = DEFAULT,
        on_exit_notify: Mapping[str, Any] | None = None,
        parallelism: int | None = None,
        active_deadline_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        service_account: str | None = None,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Mapping[str, Any]] | None = None,
        image_pull_secrets: str | Sequence[str] | None = None,
    ) -> None:
        self.shared_directories: tuple[VolumeMount, ...] = _shared_directory(shared_directory)
        """Volumes mounted in every task; the first one's path is the ``shared_directory`` env."""
        self.shared_volume_size: str = _volume_size(shared_volume_size)
        """Size of each ephemeral volume, as a quantity."""
        self.pod_contexts: tuple[PodExecutionContext, ...] = _pod_contexts(pod_context)
        """Labels and pod affinity of every pod."""
        self.ttl_strategy: dict[str, int] | None = _ttl_strategy(ttl_strategy)
        """``spec.ttlStrategy``, or ``None`` to keep finished workflows."""
        self.pod_gc: dict[str, Any] | None = _pod_gc(pod_gc, self.ttl_strategy)
        """``spec.podGC``, or ``None`` to keep pods."""
        self.on_exit_notify: ExitNotification | None = (
            ExitNotification(on_exit_notify) if on_exit_notify is not None else None
        )
        """The exit notification, if any."""
        self.parallelism: int | None = _positive_int("parallelism", parallelism)
        """``spec.parallelism``."""
        self.active_deadline_seconds: int | None = _positive_int("active_deadline_seconds", active_deadline_seconds)
        """``spec.activeDeadlineSeconds``."""
        self.labels: dict[str, str] = _labels("labels", labels)
        """Labels of the Workflow object."""
        self.annotations: dict[str, str] = _string_map("annotations", annotations)
        """Annotations of the Workflow object."""
        if service_account is not None and (
            not isinstance(service_account, str) or not DNS1123_SUBDOMAIN.match(service_account)
        ):
            raise BadOperationConfiguration(f"service_account={service_account!r}: expected a service account name")
        self.service_account: str | None = service_account
        """``spec.serviceAccountName``."""
        self.node_selector: dict[str, str] = _labels("node_selector", node_selector)
        """``spec.nodeSelector``."""
        self.tolerations: list[dict[str, Any]] = _tolerations(tolerations)
        """``spec.tolerations``."""
        self.image_pull_secrets: list[dict[str, str]] = _image_pull_secrets(image_pull_secrets)
        """``spec.imagePullSecrets``."""

    @property
    def shared_path(self) -> str | None:
        """Mount path of the first shared directory (the tasks' ``shared_directory`` env), or ``None``."""
        return self.shared_directories[0].path if self.shared_directories else None
