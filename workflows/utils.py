"""CloudHarness's ``cloudharness.workflows.utils``: what services and task code import from it.

Usable inside a running task: :func:`get_workflow_name`,
:func:`get_shared_directory` and :func:`notify_queue` read the pod's
environment and publish through the events backend the environment selects.
Importing this module loads neither the operations nor the events package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .runtime import CH_WORKFLOW_NAME_ENV, SHARED_DIRECTORY_ENV, get_shared_directory, get_workflow_name

if TYPE_CHECKING:
    from .operations.context import PodExecutionContext

#: CloudHarness's name of the variable holding the workflow's name (plus one ``-`` segment it drops).
WORKFLOW_NAME_VARIABLE_NAME = CH_WORKFLOW_NAME_ENV
#: The variable holding the shared directory's mount path.
SHARED_DIRECTORY_VARIABLE_NAME = SHARED_DIRECTORY_ENV

__all__ = [
    "SHARED_DIRECTORY_VARIABLE_NAME",
    "WORKFLOW_NAME_VARIABLE_NAME",
    "PodExecutionContext",
    "get_shared_directory",
    "get_workflow_name",
    "is_accounts_present",
    "notify_queue",
    "volume_requires_affinity",
]


def notify_queue(queue: str, message: Any) -> None:
    """Publish ``message`` on the topic ``queue`` (see :func:`workflows.events.notify_queue`)."""
    from .events import notify_queue as publish

    publish(queue, message)


def is_accounts_present() -> bool:
    """Whether CloudHarness's ``accounts`` application is deployed, from CloudHarness's values (see :mod:`workflows.cloudharness`)."""
    from .cloudharness import is_accounts_present as accounts_deployed

    return accounts_deployed()


def volume_requires_affinity(volume: str) -> bool:
    """Whether pods mounting the volume string ``[CLAIM:]PATH[:MODE]`` must share a node, as CloudHarness answers it.

    CloudHarness's test on the string: it has a ``:`` part (a claim, or a mode)
    and is not marked ``:rwx`` (ReadWriteMany). ``a:b`` and ``a:b:ro`` need
    affinity; ``a`` and ``a:b:rwx`` do not.
    """
    if not isinstance(volume, str):
        raise TypeError(f"volume must be a '[CLAIM:]PATH[:MODE]' string, got {type(volume).__name__} {volume!r}")
    return ":" in volume and not volume.endswith(":rwx")


def __getattr__(name: str) -> Any:
    if name == "PodExecutionContext":  # loaded on use: importing the operations package is not light
        from .operations.context import PodExecutionContext

        return PodExecutionContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
