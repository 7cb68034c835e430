"""The events client: CloudHarness's ``EventClient`` API over the selected backend."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from .consumption import Consumption, Handler
from ..errors import InvalidTopicName, MessageNotSerializable
from .selection import get_event_backend

log = logging.getLogger("workflows.events")

#: Seconds ``consume_all`` waits for a first message (CloudHarness polls Kafka for 10 s).
DEFAULT_CONSUME_TIMEOUT = 10.0
#: The consumer group of ``consume_all`` (CloudHarness's default).
DEFAULT_GROUP_ID = "default"
#: Kafka's topic name rule.
TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}\Z")


def validate_topic_name(topic: object) -> str:
    """Return ``topic`` if it is a valid Kafka topic name, else raise :class:`InvalidTopicName` naming it.

    Valid: 1 to 249 characters among ``a-z A-Z 0-9 . _ -``, other than ``.`` and ``..``.
    """
    if not isinstance(topic, str) or not TOPIC_NAME.match(topic) or topic in (".", ".."):
        raise InvalidTopicName(
            f"topic name {topic!r} is invalid: expected 1 to 249 characters among a-z, A-Z, 0-9, '.', '_', '-' "
            "(and not '.' or '..')"
        )
    return topic


def check_timeout(value: object) -> float | None:
    """``value`` as seconds (``None``: no limit); a group name or a negative number is a clear error."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(
            f"consume_all(timeout={value!r}): timeout is a number of seconds; pass the consumer group as "
            f"group_id={value!r} (CloudHarness's consume_all took the group as first argument)"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        raise ValueError(f"timeout={value!r}: expected a number of seconds >= 0, or None to wait without limit")
    return float(value)


class EventClient:
    """Publish to and consume from one topic (a queue) of the events backend.

    The backend is chosen at each call from the environment (see
    :mod:`workflows.events.settings`): the embedded backend (SQLite under
    ``$WORKFLOWS_HOME``, shared by all processes of the machine) unless Kafka
    is configured. Topics follow Kafka's rules: producing to a topic that does
    not exist creates it, and messages are kept until the topic is deleted.
    """

    def __init__(self, topic: str) -> None:
        self.topic: str = validate_topic_name(topic)
        """The topic this client publishes to and consumes from."""
        self._consumptions: list[Consumption] = []

    @property
    def topic_id(self) -> str:
        """The topic (CloudHarness's name for :attr:`topic`)."""
        return self.topic

    def __repr__(self) -> str:
        return f"EventClient({self.topic!r})"

    def create_topic(self) -> bool:
        """Create the topic; return ``True`` if created, ``False`` if it already existed.

        Unlike CloudHarness (which raises when the topic exists), creating an
        existing topic is not an error: a producer may have created it first.
        """
        created = get_event_backend().create_topic(self.topic)
        log.debug("topic %s %s", self.topic, "created" if created else "already exists")
        return created

    def produce(self, message: dict) -> int:
        """Publish ``message`` (any JSON-serialisable value, usually a dict); return its offset in the topic.

        The topic is created if it does not exist (Kafka's ``auto.create.topics.enable`` default).
        Raise :class:`MessageNotSerializable`, naming the topic, if ``message`` cannot be encoded as JSON.
        """
        try:
            value = json.dumps(message)
        except (TypeError, ValueError) as error:
            raise MessageNotSerializable(
                f"cannot publish on topic {self.topic!r}: the message is not JSON-serialisable ({error})"
            ) from error
        offset = get_event_backend().produce(self.topic, value)
        log.debug("published on %s at offset %d", self.topic, offset)
        return offset

    def consume_all(
        self, timeout: float | None = DEFAULT_CONSUME_TIMEOUT, group_id: str = DEFAULT_GROUP_ID
    ) -> list[dict]:
        """The messages ``group_id`` has not consumed yet, from the earliest kept, in order; marks them consumed.

        If there are none, wait up to ``timeout`` seconds (``None``: no limit)
        for the first one to arrive, then return every message available;
        return ``[]`` if none arrived in time. Each consumer group receives
        each message once; groups are independent.
        """
        seconds = check_timeout(timeout)
        if not isinstance(group_id, str) or not group_id:
            raise ValueError(f"group_id={group_id!r}: expected a non-empty string")
        values = get_event_backend().consume(self.topic, group_id, seconds)
        return [json.loads(value) for value in values]

    def delete_topic(self) -> bool:
        """Delete the topic, its messages and its consumer groups' offsets.

        Return ``True`` if it existed, ``False`` if not (CloudHarness raises then).
        """
        deleted = get_event_backend().delete_topic(self.topic)
        log.debug("topic %s %s", self.topic, "deleted" if deleted else "did not exist")
        return deleted

    def async_consume(self, app: Any = None, handler: Handler | None = None,
                      group_id: str = DEFAULT_GROUP_ID) -> Consumption:
        """Consume the topic in a background thread: ``handler(event_client=self, app=app, message=message)``.

        CloudHarness's signature and call. ``app`` is passed through (a Flask
        ``current_app`` proxy is resolved to the application first, as
        CloudHarness does). Messages are handled one at a time, in order; one
        whose handler raises is logged and skipped, and the thread goes on. A
        failing backend (broker down) is logged and retried with a growing
        pause. Returns the running :class:`Consumption`; :meth:`close` (or its
        ``stop``) ends it.
        """
        if handler is None or not callable(handler):
            raise TypeError(f"async_consume(handler={handler!r}): expected a callable taking "
                            "event_client=, app= and message= keywords")
        if not isinstance(group_id, str) or not group_id:
            raise ValueError(f"group_id={group_id!r}: expected a non-empty string")
        resolve = getattr(app, "_get_current_object", None)
        if callable(resolve):
            app = resolve()
        consumption = Consumption(self, app, handler, group_id)
        self._consumptions.append(consumption)
        consumption.start()
        return consumption

    def close(self, timeout: float | None = None) -> None:
        """Stop every ``async_consume`` thread of this client, waiting up to ``timeout`` seconds for each."""
        while self._consumptions:
            self._consumptions.pop().stop(timeout)


def notify_queue(queue: str, message: dict) -> None:
    """Publish ``message`` on ``queue`` (CloudHarness's ``cloudharness.workflows.utils.notify_queue``)."""
    EventClient(queue).produce(message)


def is_exit_notification(message: Any, workflow: str) -> bool:
    """Whether ``message`` is the on-exit notification of ``workflow`` (see :mod:`workflows.events.notify`)."""
    return (
        isinstance(message, dict)
        and set(message) == {"workflow", "status", "payload"}
        and message.get("workflow") == workflow
    )
