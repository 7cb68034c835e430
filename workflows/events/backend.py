"""The interface every events backend implements.

A backend moves JSON texts; :class:`workflows.events.EventClient` validates
topic names and encodes/decodes messages, so every backend sees the same
checked input. Two backends implement it: the embedded one
(:mod:`workflows.events.embedded`, SQLite on this machine) and Kafka
(:mod:`workflows.events.kafka_backend`); :func:`workflows.events.get_event_backend`
picks one from the environment.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Subscription:
    """A consumer group's long-lived reading of one topic (what ``async_consume`` loops on).

    This base class reads through :meth:`EventBackend.consume`, which commits
    what it returns; backends with a cheaper long-lived consumer override it.
    """

    def __init__(self, backend: EventBackend, topic: str, group_id: str) -> None:
        self.backend = backend
        self.topic = topic
        self.group_id = group_id

    def poll(self, timeout: float) -> list[str]:
        """The next values of the topic for this group, waiting up to ``timeout`` seconds for the first; ``[]`` then."""
        return self.backend.consume(self.topic, self.group_id, timeout)

    def commit(self) -> None:
        """Mark the values returned by the last :meth:`poll` as processed (here: they already are)."""

    def close(self) -> None:
        """Release the subscription's resources."""


class EventBackend(ABC):
    """Topics of ordered messages, read by consumer groups that each see every message once."""

    name: str = ""

    @abstractmethod
    def create_topic(self, topic: str) -> bool:
        """Create ``topic``; return ``False`` when it already exists."""

    @abstractmethod
    def delete_topic(self, topic: str) -> bool:
        """Delete ``topic``, its messages and its consumer groups' offsets; return ``False`` when there was none."""

    @abstractmethod
    def produce(self, topic: str, value: str) -> int:
        """Append ``value`` (a JSON text) to ``topic``, creating the topic if needed; return its offset."""

    @abstractmethod
    def consume(self, topic: str, group_id: str, timeout: float | None) -> list[str]:
        """Take the values ``group_id`` has not consumed yet, oldest first, and commit them.

        When there are none, wait up to ``timeout`` seconds (``None``: no limit)
        for the first one, then return all that are available; ``[]`` on timeout.
        """

    def subscribe(self, topic: str, group_id: str) -> Subscription:
        """A long-lived reading of ``topic`` by ``group_id``."""
        return Subscription(self, topic, group_id)
