"""Plan the volumes of an operation: names, workflow-level declarations, per-pod mounts and node affinity."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import BadOperationConfiguration
from ..naming import MAX_OBJECT_NAME
from ..volumes import VolumeMount

#: Prefix of the pod labels that tie pods mounting the same ReadWriteOnce volume to one node.
LABEL_PREFIX = "harness-workflows"
_NOT_LABEL_CHARS = re.compile(r"[^a-z0-9-]+")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def fit(slug: str, identity: str, limit: int = MAX_OBJECT_NAME) -> str:
    """``slug`` if it fits in ``limit`` characters, else a truncated slug with a stable hash of ``identity``."""
    if len(slug) <= limit:
        return slug
    return f"{slug[: limit - 9].rstrip('-')}-{_digest(identity)}"


@dataclass(frozen=True)
class PlannedVolume:
    """One volume of the workflow, mounted by one or more pods."""

    name: str
    """Volume name in the spec (a DNS-1123 label, unique in the workflow)."""
    claim: str | None
    """Existing claim name, or ``None`` for an ephemeral ``volumeClaimTemplates`` volume."""
    shared_across_nodes: bool
    """ReadWriteMany: pods mounting it need not share a node."""

    @property
    def ephemeral_label(self) -> tuple[str, str]:
        """The pod label ``(key, value)`` of an ephemeral volume: it belongs to one workflow, so the value is
        the workflow's name (see :mod:`workflows.compiler.affinity`)."""
        return f"{LABEL_PREFIX}/{fit('volume-' + self.name, self.name)}", "{{workflow.name}}"


class VolumePlan:
    """Every volume an operation mounts, with the mounts of each task.

    ``shared`` volumes are mounted in every task; ``task_mounts`` maps a task
    name to its own volumes. Raises :class:`BadOperationConfiguration` when two
    volumes share a mount path in one pod, or when a claim is declared both
    ReadWriteMany and not.
    """

    def __init__(self, shared: Iterable[VolumeMount], task_mounts: dict[str, tuple[VolumeMount, ...]]) -> None:
        shared = tuple(shared)
        self._shared = shared
        self._own = task_mounts
        self._mounts_by_identity: dict[str, list[VolumeMount]] = {}
        for mount in (*shared, *(m for mounts in task_mounts.values() for m in mounts)):
            self._mounts_by_identity.setdefault(self._identity(mount), []).append(mount)
        self.volumes: dict[str, PlannedVolume] = self._name_volumes()
        """Planned volumes by identity (``claim:NAME`` or ``path:PATH``), in order of first use."""
        self.pod_mounts: dict[str, tuple[tuple[PlannedVolume, VolumeMount], ...]] = {
            task: self._pod(f"task {task!r}", (*shared, *mounts))
            for task, mounts in task_mounts.items()
            if shared or mounts
        }
        """For each task that mounts volumes, those volumes and how it mounts them."""

    @staticmethod
    def _identity(mount: VolumeMount) -> str:
        return f"claim:{mount.claim}" if mount.claim is not None else f"path:{mount.path}"

    def _name_volumes(self) -> dict[str, PlannedVolume]:
        slugs = {}
        for identity, mounts in self._mounts_by_identity.items():
            modes = {mount.shared_across_nodes for mount in mounts}
            if len(modes) > 1:
                raise BadOperationConfiguration(
                    f"volume {mounts[0].claim!r} is mounted both as ReadWriteMany (':rwx') and not: "
                    f"{', '.join(sorted({str(m) for m in mounts}))}"
                )
            source = mounts[0].claim if mounts[0].claim is not None else mounts[0].path
            slugs[identity] = _NOT_LABEL_CHARS.sub("-", source.lower()).strip("-") or "volume"
        uses = Counter(slugs.values())
        planned = {}
        for identity, slug in slugs.items():
            name = fit(slug, identity) if uses[slug] == 1 else fit(f"{slug}-{_digest(identity)}", identity)
            first = self._mounts_by_identity[identity][0]
            planned[identity] = PlannedVolume(name, first.claim, first.shared_across_nodes)
        return planned

    def _pod(self, owner: str, mounts: Iterable[VolumeMount]) -> tuple[tuple[PlannedVolume, VolumeMount], ...]:
        by_path: dict[str, VolumeMount] = {}
        for mount in mounts:
            other = by_path.setdefault(mount.path, mount)
            if other is not mount and other != mount:
                raise BadOperationConfiguration(
                    f"{owner}: two volumes are mounted at {mount.path!r}: {str(other)!r} and {str(mount)!r}"
                )
        return tuple((self.volumes[self._identity(mount)], mount) for mount in by_path.values())

    def workflow_volumes(self) -> list[dict[str, Any]]:
        """``spec.volumes``: the existing claims."""
        return [
            {"name": volume.name, "persistentVolumeClaim": {"claimName": volume.claim}}
            for volume in self.volumes.values()
            if volume.claim is not None
        ]

    def claim_templates(self, size: str) -> list[dict[str, Any]]:
        """``spec.volumeClaimTemplates``: the ephemeral volumes, each of ``size``, deleted with the workflow."""
        return [
            {
                "metadata": {"name": volume.name},
                "spec": {
                    "accessModes": ["ReadWriteMany" if volume.shared_across_nodes else "ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                },
            }
            for volume in self.volumes.values()
            if volume.claim is None
        ]

    def volume_mounts(self, task: str) -> list[dict[str, Any]]:
        """The ``volumeMounts`` of a task's container."""
        mounts = []
        for volume, mount in self.pod_mounts.get(task, ()):
            entry: dict[str, Any] = {"name": volume.name, "mountPath": mount.path}
            if mount.read_only:
                entry["readOnly"] = True
            mounts.append(entry)
        return mounts

    def shared_volumes(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The operation's ReadWriteOnce claims, and the labels of its ReadWriteOnce ephemeral volumes."""
        return self._node_bound(self._shared)

    def pod_volumes(self, task: str) -> tuple[list[str], list[tuple[str, str]]]:
        """The ReadWriteOnce claims a task's pod mounts (its own first, then the operation's) and the labels
        of the operation's ReadWriteOnce ephemeral volumes (a task's own ephemeral volume is its pod's alone)."""
        own_claims, _ = self._node_bound(self._own.get(task, ()))
        claims, ephemeral = self._node_bound(self._shared)
        return list(dict.fromkeys(own_claims + claims)), ephemeral

    def _node_bound(self, mounts: Iterable[VolumeMount]) -> tuple[list[str], list[tuple[str, str]]]:
        claims: list[str] = []
        ephemeral: list[tuple[str, str]] = []
        for mount in mounts:
            if mount.shared_across_nodes:
                continue
            if mount.claim is not None:
                claims.append(mount.claim)
            else:
                ephemeral.append(self.volumes[self._identity(mount)].ephemeral_label)
        return list(dict.fromkeys(claims)), list(dict.fromkeys(ephemeral))
