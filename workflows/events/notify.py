"""The on-exit notifier (image ``workflows-notify-queue``): ``python -m workflows.events.notify``.

Publishes ``{"workflow": <name>, "status": <status>, "payload": <payload>}``,
read from the environment that the compiled ``onExit`` template sets:

=====================  ========================================================================
``WORKFLOW_NAME``      the workflow's name (required)
``WORKFLOW_STATUS``    its final status: ``Succeeded``, ``Failed`` or ``Error`` (required)
``QUEUE``              the topic to publish on; default: the topic named after the workflow
                       (``WORKFLOW_NAME``), the one a caller of the workflow can derive
``PAYLOAD``            optional; a JSON object or array (how the compiler encodes dict and list
                       payloads) is published decoded, anything else as the string it is;
                       unset, the payload is ``null``
=====================  ========================================================================

CloudHarness's names ``workflow_result``, ``queue_name`` and ``payload`` are
read when these are unset (:mod:`workflows.events.aliases`). The events backend
is the one the environment selects (:mod:`workflows.events.settings`): Kafka
when the pod's environment names a broker.

Exit status: 0 when published, 2 when the environment is incomplete or
invalid, 1 when publishing failed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from ..runtime import (
    EXIT_PAYLOAD_ENV,
    EXIT_QUEUE_ENV,
    EXIT_STATUS_ENV,
    WORKFLOW_NAME_ENV,
)
from .aliases import with_cloudharness_names
from .client import notify_queue, validate_topic_name
from .errors import EventsError, InvalidTopicName

log = logging.getLogger("workflows.events.notify")


def decode_payload(raw: str | None) -> Any:
    """The published payload: ``None`` if unset, a decoded JSON object/array, else the string itself.

    Scalars stay strings (``"42"`` is published as ``"42"``): a string payload
    is never turned into a number or a boolean.
    """
    if raw is None:
        return None
    if raw.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw


def build_message(environ: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The topic and the message described by ``environ`` (default: ``os.environ``).

    Raise ``ValueError`` naming the missing variable, or :class:`InvalidTopicName`.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in (WORKFLOW_NAME_ENV, EXIT_STATUS_ENV) if not env.get(name)]
    if missing:
        raise ValueError(f"{' and '.join(missing)} not set: the on-exit handler sets them from Argo's "
                         "{{workflow.name}} and {{workflow.status}}")
    workflow = env[WORKFLOW_NAME_ENV]
    queue = validate_topic_name(env.get(EXIT_QUEUE_ENV) or workflow)
    return queue, {"workflow": workflow, "status": env[EXIT_STATUS_ENV],
                   "payload": decode_payload(env.get(EXIT_PAYLOAD_ENV))}


def main() -> int:
    """Publish the notification; return the exit status."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        queue, message = build_message(with_cloudharness_names(os.environ))
    except (ValueError, InvalidTopicName) as error:
        log.error("cannot notify: %s", error)
        return 2
    try:
        notify_queue(queue, message)
    except EventsError as error:
        log.error("cannot publish on %s: %s", queue, error)
        return 1
    log.info("published %s on %s", json.dumps(message), queue)
    return 0


if __name__ == "__main__":
    sys.exit(main())
