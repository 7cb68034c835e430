"""What a task's code can read about its workflow, from inside its pod."""

from __future__ import annotations

import os

#: Every task gets the name of its workflow (not of its pod) in this variable.
WORKFLOW_NAME_ENV = "WORKFLOW_NAME"
#: Tasks of an operation with a shared directory get its mount path in this variable.
SHARED_DIRECTORY_ENV = "shared_directory"
#: What the ``on_exit_notify`` handler receives: the workflow's final status, and the queue and payload if given.
EXIT_STATUS_ENV = "WORKFLOW_STATUS"
EXIT_QUEUE_ENV = "QUEUE"
EXIT_PAYLOAD_ENV = "PAYLOAD"


def get_workflow_name() -> str | None:
    """The name of the workflow this task runs in, or ``None`` outside a workflow."""
    return os.environ.get(WORKFLOW_NAME_ENV)


def get_shared_directory() -> str | None:
    """The mount path of the operation's (first) shared directory, or ``None`` when it has none."""
    return os.environ.get(SHARED_DIRECTORY_ENV)
