"""The interface every events backend implements, and the selection of the backend in use.

A backend moves JSON texts; :class:`workflows.events.EventClient` validates
topic names and encodes/decodes messages, so every backend sees the same
checked input. The embedded backend (SQLite, this machine) is the only one of
this version; a Kafka backend will implement the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from .. import config
from . import settings
from .errors import EventsUnavailable


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


def get_event_backend() -> EventBackend:
    """The backend selected now by the environment (see :mod:`workflows.events.settings`), read at every call."""
    name = settings.events_backend_name()
    if name == settings.KAFKA:
        servers = settings.kafka_bootstrap_servers()
        where = f" (bootstrap servers {servers!r})" if servers else ""
        raise EventsUnavailable(
            f"Kafka is configured{where}, but the Kafka events backend is not part of this version of "
            "harness-workflows; unset WORKFLOWS_KAFKA_BOOTSTRAP/KAFKA_BOOTSTRAP_SERVERS or set "
            "WORKFLOWS_EVENTS_BACKEND=embedded to use the embedded backend"
        )
    from .embedded import EmbeddedBackend

    return EmbeddedBackend.at(config.state_home())
