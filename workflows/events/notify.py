"""The on-exit notifier (image ``workflows-notify-queue``): ``python -m workflows.events.notify``.

Publishes ``{"workflow": <name>, "status": <status>, "payload": <payload>}``,
read from the environment that the compiled ``onExit`` template sets, under
the names CloudHarness's notify images read:

==========================  ===================================================================
``workflow_result``         the workflow's final status: ``Succeeded``, ``Failed`` or ``Error`` (required)
``queue_name``              the topic to publish on; default: the topic named after the workflow,
                            the one a caller of the workflow can derive
``payload``                 optional; published as the string it is (spaces, quotes, newlines and
                            all); unset, the payload is ``null``
``WORKFLOWS_PAYLOAD_JSON``  ``true`` when the operation was given a dict or list payload, which the
                            compiler encoded as JSON: it is published decoded
``WORKFLOW_NAME``           the workflow's name (required; CloudHarness's ``CH_WORKFLOW_NAME``,
                            less its last ``-`` segment, when only that one is set)
==========================  ===================================================================

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
from collections.abc import Mapping
from typing import Any

from ..runtime import (
    EXIT_PAYLOAD_ENV,
    EXIT_PAYLOAD_JSON_ENV,
    EXIT_QUEUE_ENV,
    EXIT_STATUS_ENV,
    WORKFLOW_NAME_ENV,
    get_workflow_name,
)
from .aliases import with_cloudharness_names
from .client import notify_queue, validate_topic_name
from ..errors import EventsError, InvalidTopicName

log = logging.getLogger("workflows.events.notify")


def decode_payload(raw: str | None, is_json: bool = False) -> Any:
    """The published payload: ``None`` if unset, the decoded value when ``is_json``, else the string itself.

    Raise ``ValueError`` naming the variable when ``is_json`` and ``raw`` is not JSON.
    """
    if raw is None or not is_json:
        return raw
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ValueError(f"{EXIT_PAYLOAD_ENV} is not valid JSON although {EXIT_PAYLOAD_JSON_ENV}=true: {error}") from None


def build_message(environ: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The topic and the message described by ``environ`` (default: ``os.environ``).

    Raise ``ValueError`` naming the missing variable, or :class:`InvalidTopicName`.
    """
    env = os.environ if environ is None else environ
    workflow = get_workflow_name(env)
    missing = [name for name, value in ((WORKFLOW_NAME_ENV, workflow), (EXIT_STATUS_ENV, env.get(EXIT_STATUS_ENV)))
               if not value]
    if missing:
        raise ValueError(f"{' and '.join(missing)} not set: the on-exit handler sets them from Argo's "
                         "{{workflow.name}} and {{workflow.status}}")
    queue = validate_topic_name(env.get(EXIT_QUEUE_ENV) or workflow)
    payload = decode_payload(env.get(EXIT_PAYLOAD_ENV), env.get(EXIT_PAYLOAD_JSON_ENV) == "true")
    return queue, {"workflow": workflow, "status": env[EXIT_STATUS_ENV], "payload": payload}


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
