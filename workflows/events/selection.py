"""The events backend in use, chosen from the environment at every call (see :mod:`workflows.events.settings`).

The Kafka backend's module (and ``kafka-python``) is imported only when Kafka is selected.
"""

from __future__ import annotations

from .. import config
from . import settings
from .backend import EventBackend
from ..errors import EventsConfigurationError


def get_event_backend() -> EventBackend:
    """The backend selected now by the environment, read at every call.

    Kafka (``WORKFLOWS_EVENTS_BACKEND=kafka``, or a bootstrap address in
    ``WORKFLOWS_KAFKA_BOOTSTRAP``/``KAFKA_BOOTSTRAP_SERVERS``) or the embedded
    backend of ``$WORKFLOWS_HOME``.
    """
    if settings.events_backend_name() == settings.KAFKA:
        servers = settings.kafka_bootstrap_servers()
        if servers is None:
            raise EventsConfigurationError(
                "WORKFLOWS_EVENTS_BACKEND=kafka, but no broker is configured: set WORKFLOWS_KAFKA_BOOTSTRAP "
                "(or KAFKA_BOOTSTRAP_SERVERS) to host:port[,host:port...]"
            )
        from .kafka_backend import KafkaBackend

        return KafkaBackend.at(servers, settings.kafka_timeout())
    from .embedded import EmbeddedBackend

    return EmbeddedBackend.at(config.state_home())
