"""Events: topics of JSON messages between workflows and the programs that wait for them.

CloudHarness's ``cloudharness.events`` API (:class:`EventClient`,
:func:`notify_queue`) over a backend chosen from the environment at each call
(:mod:`workflows.events.settings`):

- **embedded** (the default when no Kafka is configured): a SQLite database,
  ``$WORKFLOWS_HOME/events/events.sqlite``, shared by every process of the machine (and every local pod);
  consumers waiting for messages block on a
  :class:`~workflows.doorbell.Doorbell` instead of polling.
  Messages are kept until their topic is deleted.
- **kafka** (``WORKFLOWS_EVENTS_BACKEND=kafka``, or ``WORKFLOWS_KAFKA_BOOTSTRAP``
  or ``KAFKA_BOOTSTRAP_SERVERS`` set): a Kafka cluster, through ``kafka-python``
  (:mod:`workflows.events.kafka_backend`), imported only when selected.

Producing to a topic that does not exist creates it, as Kafka does by default.
Importing this package loads no Kafka client.
"""

from __future__ import annotations

from .backend import EventBackend, Subscription
from .client import (
    DEFAULT_CONSUME_TIMEOUT,
    DEFAULT_GROUP_ID,
    EventClient,
    is_exit_notification,
    notify_queue,
    validate_topic_name,
)
from .consumption import Consumption
from ..errors import (
    EventsConfigurationError,
    EventsError,
    EventsUnavailable,
    InvalidTopicName,
    MessageNotSerializable,
    ResultMissing,
    ResultTimeout,
)
from .results import ResultQueue
from .selection import get_event_backend
from .settings import cloudharness_bootstrap

__all__ = [
    "Consumption",
    "DEFAULT_CONSUME_TIMEOUT",
    "DEFAULT_GROUP_ID",
    "EventBackend",
    "EventClient",
    "EventsConfigurationError",
    "EventsError",
    "EventsUnavailable",
    "InvalidTopicName",
    "MessageNotSerializable",
    "ResultMissing",
    "ResultQueue",
    "ResultTimeout",
    "Subscription",
    "cloudharness_bootstrap",
    "get_event_backend",
    "is_exit_notification",
    "notify_queue",
    "validate_topic_name",
]
