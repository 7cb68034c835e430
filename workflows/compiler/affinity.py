"""Pod labels and pod affinity: what keeps a pod next to the pods it must share a node with.

How the scheduler reads required pod-affinity terms decides everything here: the
terms are met on a node when **one** pod there matches **all** of them together;
when no pod anywhere matches them all, the incoming pod is let in anywhere, but
only if it matches them all itself. A pod whose terms it cannot match itself
stays Pending until such a pod appears (CloudHarness's two ``usesvolume`` terms
with different values for two claims are never met).

So every pod carries every label its own terms select, and at most one
required term names ``usesvolume``:

- A ReadWriteOnce claim is tied to the node of its users, CloudHarness
  application pods included. A pod mounting claims carries ``usesvolume=<first
  claim>`` (its own claims first, then the operation's, as CloudHarness) and
  ``usesvolume-<claim>=true`` for each; its one required term selects
  ``usesvolume`` in ``[<first claim>, <first claim>-<namespace>]`` — the second
  value is the label of CloudHarness application pods that mount that claim
  (``auto-deployments.yaml``), known inside a CloudHarness deployment. Its other
  claims get preferred terms (weight 100): ``usesvolume-<claim>=true`` and
  ``usesvolume`` in ``[<claim>, <claim>-<namespace>]``, each scored on its own.
- An operation's ephemeral shared volume belongs to one workflow: its pods carry
  ``harness-workflows/volume-<name>={{workflow.name}}``, required when the pod
  mounts no claim, preferred otherwise (the volume follows its first pod).
- ``PodExecutionContext`` labels and terms come first, required or preferred as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..naming import MAX_OBJECT_NAME

HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
PREFERRED_WEIGHT = 100
#: CloudHarness's label of pods that mount a ReadWriteOnce claim.
USESVOLUME = "usesvolume"

#: A term: a label key and the values it selects (operator ``In``).
Term = tuple[str, tuple[str, ...]]


def claim_key(claim: str) -> str:
    """``usesvolume-<claim>``, the label of every pod mounting ``claim``; shortened with a hash to fit 63 characters."""
    from .volumes import fit

    return fit(f"{USESVOLUME}-{claim}", claim, MAX_OBJECT_NAME)


def claim_value(claim: str) -> str:
    """The ``usesvolume`` value of a pod whose first claim is ``claim`` (shortened with a hash past 63 characters)."""
    from .volumes import fit

    return fit(claim, claim, MAX_OBJECT_NAME)


def claim_labels(claims: Sequence[str], ephemeral: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The labels of a pod mounting the ReadWriteOnce ``claims`` (first one first) and shared ephemeral volumes."""
    labels = {USESVOLUME: claim_value(claims[0])} if claims else {}
    for claim in claims:
        labels[claim_key(claim)] = "true"
    labels.update(ephemeral)
    return labels


def _usesvolume_values(claim: str, namespace: str | None) -> tuple[str, ...]:
    value = claim_value(claim)
    return (value, f"{claim}-{namespace}") if namespace else (value,)


def volume_terms(
    claims: Sequence[str], ephemeral: Sequence[tuple[str, str]], namespace: str | None = None
) -> tuple[list[Term], list[Term]]:
    """The ``(required, preferred)`` terms of a pod mounting ``claims`` and shared ephemeral volumes.

    ``namespace`` (CloudHarness's) adds ``<claim>-<namespace>``, its application pods' label value.
    """
    required: list[Term] = []
    preferred: list[Term] = []
    if claims:
        required.append((USESVOLUME, _usesvolume_values(claims[0], namespace)))
        for claim in claims[1:]:
            preferred.append((claim_key(claim), ("true",)))
            preferred.append((USESVOLUME, _usesvolume_values(claim, namespace)))
    for index, (key, value) in enumerate(ephemeral):
        (required if not claims and index == 0 else preferred).append((key, (value,)))
    return required, preferred


def _term(key: str, values: Sequence[str]) -> dict[str, Any]:
    return {
        "labelSelector": {"matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]},
        "topologyKey": HOSTNAME_TOPOLOGY,
    }


def pod_affinity(required: Iterable[Term], preferred: Iterable[Term]) -> dict[str, Any] | None:
    """An ``affinity`` with a pod-affinity term per ``(key, values)``, or ``None`` if there is none."""
    section: dict[str, Any] = {}
    required_terms = [_term(key, values) for key, values in required]
    if required_terms:
        section["requiredDuringSchedulingIgnoredDuringExecution"] = required_terms
    preferred_terms = [{"weight": PREFERRED_WEIGHT, "podAffinityTerm": _term(key, values)} for key, values in preferred]
    if preferred_terms:
        section["preferredDuringSchedulingIgnoredDuringExecution"] = preferred_terms
    return {"podAffinity": section} if section else None
