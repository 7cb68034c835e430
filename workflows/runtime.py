"""What a task's code can read about its workflow, from inside its pod."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Every task gets the name of its workflow (not of its pod) in this variable.
WORKFLOW_NAME_ENV = "WORKFLOW_NAME"
#: CloudHarness's variable: every task gets ``<workflow name>-`` + :data:`CH_WORKFLOW_NAME_SUFFIX` in it,
#: so CloudHarness's own ``get_workflow_name()`` (which drops the last ``-`` segment) finds the workflow's name.
CH_WORKFLOW_NAME_ENV = "CH_WORKFLOW_NAME"
#: The segment after the workflow's name in :data:`CH_WORKFLOW_NAME_ENV` (no ``-`` in it).
CH_WORKFLOW_NAME_SUFFIX = "pod"
#: The value every task gets in :data:`CH_WORKFLOW_NAME_ENV`.
CH_WORKFLOW_NAME_VALUE = "{{workflow.name}}-" + CH_WORKFLOW_NAME_SUFFIX
#: Tasks of an operation with a shared directory get its mount path in this variable.
SHARED_DIRECTORY_ENV = "shared_directory"
#: What the ``on_exit_notify`` handler receives, under the names CloudHarness's notify images read:
#: the workflow's final status, and the queue and payload if given.
EXIT_STATUS_ENV = "workflow_result"
EXIT_QUEUE_ENV = "queue_name"
EXIT_PAYLOAD_ENV = "payload"
#: Set to ``true`` when the compiler encoded a dict or list payload as JSON (a string payload is passed as it is).
EXIT_PAYLOAD_JSON_ENV = "WORKFLOWS_PAYLOAD_JSON"


def get_workflow_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The name of the workflow this task runs in, or ``None`` outside a workflow.

    Read from ``WORKFLOW_NAME`` in ``environ`` (default: ``os.environ``); in a
    pod that only has CloudHarness's ``CH_WORKFLOW_NAME``, its last ``-``
    segment is dropped, as CloudHarness does.
    """
    env = os.environ if environ is None else environ
    name = env.get(WORKFLOW_NAME_ENV)
    if name:
        return name
    legacy = env.get(CH_WORKFLOW_NAME_ENV)
    if legacy and "-" in legacy:
        return legacy.rsplit("-", 1)[0]
    return None


def workflow_name_env() -> list[dict[str, str]]:
    """The env entries that give every pod its workflow's name: ``WORKFLOW_NAME`` and CloudHarness's ``CH_WORKFLOW_NAME``."""
    return [{"name": WORKFLOW_NAME_ENV, "value": "{{workflow.name}}"},
            {"name": CH_WORKFLOW_NAME_ENV, "value": CH_WORKFLOW_NAME_VALUE}]


def get_shared_directory() -> str | None:
    """The mount path of the operation's (first) shared directory, or ``None`` when it has none."""
    return os.environ.get(SHARED_DIRECTORY_ENV)
