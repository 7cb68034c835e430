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
``WORKFLOWS_KAFKA_TIMEOUT``    seconds any one call to Kafka may take           ``10``
                               (connecting, producing, admin requests)
=============================  ===============================================  =================================

Inside a CloudHarness deployment, when neither bootstrap variable is set,
:func:`cloudharness_bootstrap` names the broker CloudHarness's own events
client uses, from the deployment's values (so ``kafka`` is then the default).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from ..errors import CloudHarnessEventsUnavailable
from ..errors import EventsConfigurationError

EMBEDDED = "embedded"
KAFKA = "kafka"
BACKENDS = (EMBEDDED, KAFKA)
#: Seconds a call to Kafka may take when ``WORKFLOWS_KAFKA_TIMEOUT`` is unset.
DEFAULT_KAFKA_TIMEOUT = 10.0
#: Kafka's port, when the values name none (CloudHarness's address has no port: the client adds it).
KAFKA_PORT = 9092


def kafka_bootstrap_servers() -> str | None:
    """The configured Kafka bootstrap servers, or ``None``.

    ``WORKFLOWS_KAFKA_BOOTSTRAP``, then ``KAFKA_BOOTSTRAP_SERVERS``; else,
    inside a CloudHarness deployment (detected as
    :func:`workflows.cloudharness.enabled` detects it), the broker its values
    name (:func:`cloudharness_bootstrap`).
    """
    for variable in ("WORKFLOWS_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    from .. import cloudharness

    if cloudharness.enabled():
        return cloudharness_bootstrap(cloudharness.values())
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


def kafka_timeout() -> float:
    """``WORKFLOWS_KAFKA_TIMEOUT`` in seconds (default 10): the limit of each connection, request and wait for an answer."""
    raw = os.environ.get("WORKFLOWS_KAFKA_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_KAFKA_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise EventsConfigurationError(f"WORKFLOWS_KAFKA_TIMEOUT={raw!r}: expected a number of seconds > 0")
    return value


def cloudharness_bootstrap(values: Mapping[str, Any]) -> str | None:
    """The Kafka bootstrap address of a CloudHarness deployment, from its values (``allvalues.yaml``).

    CloudHarness's events client connects to the ``events`` application's
    broker service inside the deployment's namespace: the service named
    ``apps.events.kafka.name`` (``bootstrap``) at
    ``<name>.<namespace>.svc.cluster.local``, on ``apps.events.kafka.port``
    (9092). ``None`` when the values deploy no ``events`` application.
    Raise :class:`EventsConfigurationError` when they do but name no namespace.
    """
    apps = values.get("apps") if isinstance(values, Mapping) else None
    events = apps.get("events") if isinstance(apps, Mapping) else None
    if not isinstance(events, Mapping):
        return None
    kafka = events.get("kafka") if isinstance(events.get("kafka"), Mapping) else {}
    namespace = values.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise EventsConfigurationError(
            f"CloudHarness values: namespace={namespace!r}: expected the deployment's namespace, where the "
            "events broker runs"
        )
    name = str(kafka.get("name") or "bootstrap")
    port = kafka.get("port") or KAFKA_PORT
    return f"{name}.{namespace}.svc.cluster.local:{port}"


def require_events_backend(what: str) -> None:
    """Raise :class:`CloudHarnessEventsUnavailable` for ``what`` inside a CloudHarness deployment without Kafka.

    There, the built-in steps publish to CloudHarness's Kafka; reading from it
    needs the Kafka events backend, with the broker the values name (the
    ``events`` application's) or one named by ``WORKFLOWS_KAFKA_BOOTSTRAP``.
    """
    from .. import cloudharness

    if not cloudharness.enabled():
        return
    if events_backend_name() != KAFKA:
        raise CloudHarnessEventsUnavailable(
            f"{what}: inside a CloudHarness deployment ({cloudharness.SWITCH_ENV} or CloudHarness values at "
            f"{str(cloudharness.values_path())!r}) the results travel through CloudHarness's Kafka, read by the "
            "Kafka events backend, but no broker is known: the values deploy no 'events' application and neither "
            "WORKFLOWS_KAFKA_BOOTSTRAP nor KAFKA_BOOTSTRAP_SERVERS is set (or WORKFLOWS_EVENTS_BACKEND=embedded); "
            f"name the broker, run outside CloudHarness (or with {cloudharness.SWITCH_ENV}=0), or use "
            "DistributedSyncOperation and read the shared volume"
        )
