"""The local node's capacity: how many pods a runner runs at once, and the open files they need.

A Kubernetes node runs at most ``maxPods`` pods (the kubelet's default: 110); a pod no node has room for stays
``Pending``, with the scheduler's reason as its message, until one ends. A runner is the local engine's node for
its workflow: it runs at most :func:`max_pods` of that workflow's pods at once, and the others wait, ``Pending``,
with that message (:data:`UNSCHEDULABLE_MESSAGE`).

Open files bound it too. Each running pod holds about :data:`FILES_PER_POD` descriptors in the runner (its
output pipes, its ``done`` pipe) and as many in the zygote (its folder, its mount namespace), and a process may
hold only ``RLIMIT_NOFILE`` of them. Its soft value is often 1024 (systemd's default, kept so that programs using
``select()`` do not break); a few hundred pods past it, the runner would fail with ``EMFILE``. So the runner
raises its soft limit to the hard one at its start (:func:`raise_open_files_limit`, as Go programs do since Go
1.19), before it forks the zygote, which inherits it, and so do the pods, as containers get the container
runtime's limit rather than their caller's. :func:`max_pods` then keeps the pods within what is left.

``WORKFLOWS_MAX_PODS`` sets the number of pods (each runner's), read when used.
"""

from __future__ import annotations

import os

from ..errors import EngineConfigurationError
from .pod.lazy_logging import LazyLogger

log = LazyLogger(__name__)

MAX_PODS_ENV = "WORKFLOWS_MAX_PODS"
#: The kubelet's default ``maxPods``: how many pods a runner runs at once unless ``WORKFLOWS_MAX_PODS`` says.
DEFAULT_MAX_PODS = 110
#: Open files a running pod holds in the runner and, as many, in the zygote: 3–4 each, measured with ``ls
#: /proc/PID/fd`` during 100 parallel pods; twice that, for init containers and sidecars.
FILES_PER_POD = 8
#: Open files kept for the rest of a runner: its database, logs, sockets, watches, the pods' builds.
RESERVED_FILES = 256
#: The node message of a pod that waits for room: Argo's for a pod the scheduler could not place (its
#: ``getPendingReason``: the ``PodScheduled`` condition's reason and message), one node having too many pods.
UNSCHEDULABLE_MESSAGE = "Unschedulable: 0/1 nodes are available: 1 Too many pods."


def max_pods_setting() -> int | None:
    """``WORKFLOWS_MAX_PODS`` as a positive integer, or None when it is unset or empty. Raises
    :class:`~workflows.errors.EngineConfigurationError`, naming the variable and its value, for anything else."""
    value = os.environ.get(MAX_PODS_ENV, "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise EngineConfigurationError(f"{MAX_PODS_ENV}={value!r}: expected a whole number of pods, at least 1")
    return count


def raise_open_files_limit() -> None:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit (which an unprivileged process may always do;
    Linux keeps the hard limit within ``fs.nr_open``, never infinite)."""
    import resource  # noqa: PLC0415 - the runner imports this module before it forks the zygote: kept light

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def max_pods(open_files: int) -> int:
    """How many pods a runner whose processes may each open ``open_files`` files runs at once:
    ``WORKFLOWS_MAX_PODS`` (else :data:`DEFAULT_MAX_PODS`), within what those files allow, and at least 1."""
    room = max(1, (open_files - RESERVED_FILES) // FILES_PER_POD)
    return min(max_pods_setting() or DEFAULT_MAX_PODS, room)


def node_room() -> int:
    """How many pods this runner runs at once: :func:`max_pods` of its open files' soft limit (raised at its start),
    with a warning in its log when that is fewer than ``WORKFLOWS_MAX_PODS`` asks."""
    import resource  # noqa: PLC0415 - see raise_open_files_limit

    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    room = max_pods(open_files)
    wanted = max_pods_setting()
    if wanted is not None and wanted > room:
        log.warning("%s=%d: this runner may open only %d files, enough for %d pods at once; the others wait, "
                    "Pending (raise the hard limit, `ulimit -Hn`, to run more)", MAX_PODS_ENV, wanted,
                    open_files, room)
    return room
