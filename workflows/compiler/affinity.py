"""Pod affinity: the complete ``affinity`` each pod gets.

In Argo a template's own ``affinity`` replaces the workflow-level one
entirely, so every template carries all of the terms that apply to its pod
(operation contexts and the volumes it mounts) and no empty section.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
PREFERRED_WEIGHT = 100


def _term(key: str, value: str) -> dict[str, Any]:
    return {
        "labelSelector": {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]},
        "topologyKey": HOSTNAME_TOPOLOGY,
    }


def pod_affinity(required: Iterable[tuple[str, str]], preferred: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    """An ``affinity`` with pod-affinity terms selecting each ``(key, value)`` label, or ``None`` if there is none."""
    section: dict[str, Any] = {}
    required_terms = [_term(key, value) for key, value in required]
    if required_terms:
        section["requiredDuringSchedulingIgnoredDuringExecution"] = required_terms
    preferred_terms = [{"weight": PREFERRED_WEIGHT, "podAffinityTerm": _term(key, value)} for key, value in preferred]
    if preferred_terms:
        section["preferredDuringSchedulingIgnoredDuringExecution"] = preferred_terms
    return {"podAffinity": section} if section else None
