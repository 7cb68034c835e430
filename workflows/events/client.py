"""The events client: CloudHarness's ``EventClient`` API over the selected backend."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from .backend import get_event_backend
from .errors import EventsError, InvalidTopicName, MessageNotSerializable, ResultTimeout

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


def _timeout(value: object) -> float | None:
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
        seconds = _timeout(timeout)
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


def wait_for_result(
    topic: str,
    timeout: float | None = DEFAULT_CONSUME_TIMEOUT,
    group_id: str = DEFAULT_GROUP_ID,
    delete_topic: bool = True,
) -> dict:
    """The result a ``send-result-event`` task published on ``topic`` (the workflow's name).

    Returns the first message of the topic that is not the workflow's own
    on-exit notification (which goes to the same topic when ``on_exit_notify``
    names no queue, and always comes after the result): ``{file name: text}``.
    Waits up to ``timeout`` seconds for it and raises :class:`ResultTimeout`
    if it does not come. With ``delete_topic`` (the default) the topic is
    deleted once the result is read.
    """
    client = EventClient(topic)
    seconds = _timeout(timeout)
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        messages = client.consume_all(timeout=remaining, group_id=group_id)
        results = [message for message in messages if not is_exit_notification(message, topic)]
        if results:
            if len(results) > 1:
                log.warning("topic %s holds %d result messages; returning the first", topic, len(results))
            result = results[0]
            if not isinstance(result, dict):
                raise EventsError(f"topic {topic!r}: expected a result dict of file contents, got {result!r}")
            if delete_topic:
                client.delete_topic()
            return result
        if not messages or remaining == 0:
            raise ResultTimeout(
                f"no result was published on topic {topic!r} within {seconds} s: did the workflow's "
                "send-result-event task run?"
            )
