"""Where events live and which backend carries them, read from the environment at every use.

=============================  ===============================================  =================================
variable                       meaning                                          default
=============================  ===============================================  =================================
``WORKFLOWS_HOME``             state directory of the embedded backend          ``$XDG_DATA_HOME/harness-workflows``
                               (``events/events.sqlite``, ``events/waiters/``)  (``~/.local/share/harness-workflows``)
``WORKFLOWS_EVENTS_BACKEND``   ``embedded`` or ``kafka``                        ``kafka`` when a bootstrap server
                                                                                is configured, else ``embedded``
``WORKFLOWS_KAFKA_BOOTSTRAP``  Kafka bootstrap servers, ``host:port[,...]``     unset
``KAFKA_BOOTSTRAP_SERVERS``    the same, read when the variable above is unset  unset
=============================  ===============================================  =================================
"""

from __future__ import annotations

import os

from .errors import EventsConfigurationError

EMBEDDED = "embedded"
KAFKA = "kafka"
BACKENDS = (EMBEDDED, KAFKA)


def kafka_bootstrap_servers() -> str | None:
    """The configured Kafka bootstrap servers (``WORKFLOWS_KAFKA_BOOTSTRAP``, then ``KAFKA_BOOTSTRAP_SERVERS``), or ``None``."""
    for variable in ("WORKFLOWS_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    return None


def events_backend_name() -> str:
    """``embedded`` or ``kafka``: ``WORKFLOWS_EVENTS_BACKEND`` if set, else ``kafka`` iff Kafka is configured."""
    name = os.environ.get("WORKFLOWS_EVENTS_BACKEND", "").strip().lower()
    if not name:
        return KAFKA if kafka_bootstrap_servers() else EMBEDDED
    if name not in BACKENDS:
        raise EventsConfigurationError(
            f"WORKFLOWS_EVENTS_BACKEND={os.environ['WORKFLOWS_EVENTS_BACKEND']!r}: expected one of {', '.join(BACKENDS)}"
        )
    return name
