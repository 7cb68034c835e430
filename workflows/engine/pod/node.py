"""The engine's one entry to pods: :func:`run_pod_node` (see the package's documentation)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import BuildFailed
from ..records import Record
from .identity import host_lowers, needs_idmapped_volumes, pod_userns, pods_own_tree
from .inputs import PodSetupError, env_values
from .isolation import isolation
from .launch import pod_run
from .limits import create_cgroup
from .outputs import collect_outputs
from .process import refusal_message, run_pod
from .sandbox import DEFAULT_DISK_BYTES, host_mount_points
from .syscalls import NamespacesRefused
from .zygote import Zygote, ZygoteError, zygote

log = logging.getLogger(__name__)


class PodEnd(Record):
    """How a pod node ended: its phase, message and outputs."""

    phase: str
    message: str | None
    outputs: dict[str, Any] | None

    def __init__(self, phase: str, message: str | None = None, outputs: dict[str, Any] | None = None) -> None:
        self.phase = phase
        self.message = message
        self.outputs = outputs


def _close(fds: list[int]) -> None:
    while fds:
        os.close(fds.pop())


def prepare_pods(folder: Path) -> None:
    """As a workflow that may run sandboxed pods begins: get the runner's zygote ready with its first standby
    leader now, rather than when the first pod comes, so that the standby builds its tree while the runner works
    out the workflow's first steps. ``folder`` is the workflow's pods' folder. What fails here is left for the
    first pod to fail on and report. Call it in the runner's event loop (the zygote's answers are read there)."""
    try:
        if isolation() == "sandbox":
            zygote(pod_userns(), folder, host_mount_points(), DEFAULT_DISK_BYTES)
    except (PodSetupError, NamespacesRefused, ZygoteError, OSError) as error:
        log.debug("the pods' zygote is not ready ahead of the first pod: %s", error)


async def run_pod_node(kind: str, template: dict[str, Any], spec: dict[str, Any], volume_dirs: dict[str, Path],
                       artifacts: dict[str, str], raw: dict[str, str], node_id: str, node_dir: Path,
                       log_path: Path, artifact_dir: Path, on_start: Callable[[int], None],
                       on_output: Callable[[], None]) -> PodEnd:
    """Run the pod of a resolved ``container`` or ``script`` template to its end.

    Cancelling the call kills the pod. Never raises for the pod's own failures:
    they are the returned phase and message.
    """
    body = template[kind]
    try:
        run = pod_run(kind, body, env_values(body, node_id), spec, volume_dirs, (artifacts, raw), template,
                      node_dir, log_path, node_id)
    except (PodSetupError, OSError) as error:
        return PodEnd("Error", str(error))
    trees: list[int] = []
    forker: Zygote | None = None  # forks a sandboxed pod's leader
    try:
        if run.sandbox is not None:
            try:
                run.userns = pod_userns()
                run.host_mounts = host_mount_points()  # the volumes are id-mapped as the zygote forks the leader
                forker = zygote(run.userns, run.node_dir.parent, run.host_mounts, DEFAULT_DISK_BYTES)
            except NamespacesRefused as error:
                return PodEnd("Error", refusal_message(error))
            except ZygoteError as error:
                return PodEnd("Error", str(error))
        if forker is not None and run.image_build is not None:
            try:
                layer, held = await run.image_build.layer(forker.fork_leader)
            except BuildFailed as error:
                return PodEnd("Error", str(error))
            except OSError as error:  # the state folder refused it: the node fails, not the runner
                return PodEnd("Error", f"cannot build the layer of image {template[kind].get('image')!r}: {error}")
            trees.append(held)  # no build removes the layer while this pod runs on it
            if needs_idmapped_volumes():
                trees.append(pods_own_tree(str(layer)))
                run.sandbox.image_layer = trees[-1]
            else:
                run.sandbox.image_layer = str(layer)
        if forker is not None and not forker.standby_fits(run.sandbox):
            plain = run.sandbox.image_layer is None and not run.sandbox.capture
            try:  # else the zygote's standby leader brings them
                run.sandbox.lowers.update(host_lowers(plain, trees))
            except OSError as error:
                return PodEnd("Error", f"cannot detach the host's folders for the pod (id-mapped mounts, "
                                       f"Linux >= 5.12): {error}")
        if run.limits.memory is not None or run.limits.cpu is not None:
            run.cgroup = create_cgroup(f"workflows-{node_id}", run.limits)
            if run.sandbox is not None:
                run.sandbox.cgroup_view = run.cgroup is not None
        result = await run_pod(run, on_start=on_start, on_output=on_output,
                               fork_leader=forker.fork_leader if forker is not None else None)
        if forker is not None:
            forker.ended_early += result.ended_early
    finally:
        _close(trees)
        if run.cgroup is not None:
            run.cgroup.remove()
    if result.error is not None:
        with open(log_path, "a", encoding="utf-8") as pod_log:
            pod_log.write(result.error + "\n")
        return PodEnd("Error", result.error)
    if result.output_skipped:
        with open(log_path, "a", encoding="utf-8") as pod_log:
            for path, entries in result.output_skipped.items():
                pod_log.write(f"output {path}: left out what the pod cannot read: {', '.join(entries)}\n")
    outputs, problem = collect_outputs(template, result, artifact_dir, node_id)
    if result.oom_killed:
        return PodEnd("Failed", "OOMKilled (exit code 137)", outputs)
    if problem:
        return PodEnd("Error", problem, outputs)
    if result.exit_code != 0:
        return PodEnd("Failed", f"Error (exit code {result.exit_code})", outputs)
    return PodEnd("Succeeded", None, outputs)
