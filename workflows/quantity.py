"""Kubernetes resource quantities (``100m``, ``1.5Gi``, ``2``) and resource requirements."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import BadOperationConfiguration

#: Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource): a signed decimal number, then a
#: binary SI suffix, a decimal SI suffix or a decimal exponent.
QUANTITY = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?\Z")
#: Quantity strings already found valid: a set lookup is several times cheaper than the regex, and
#: tasks repeat the same few amounts. Bounded so that generated values cannot grow it without limit.
_VALID_QUANTITIES: set[str] = set()
_VALID_QUANTITIES_MAX = 4096

#: Resource names Kubernetes knows natively; anything else with a domain is an extended resource.
NATIVE_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "storage"})
RESOURCE_SECTIONS = ("requests", "limits")


def quantity(field: str, value: object) -> str:
    """Return ``value`` as a Kubernetes quantity string, or raise naming ``field`` and the value.

    ints and floats are accepted (``0.5`` → ``"0.5"``); booleans are not.
    """
    if type(value) is str and value in _VALID_QUANTITIES:  # the common case, kept fast
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadOperationConfiguration(f"{field}={value!r}: a quantity must be a string or a number")
    text = value if isinstance(value, str) else repr(value)
    if not QUANTITY.match(text):
        raise BadOperationConfiguration(
            f"{field}={value!r}: not a Kubernetes quantity (examples: '100m', '0.5', '64Mi', '2Gi')"
        )
    if len(_VALID_QUANTITIES) < _VALID_QUANTITIES_MAX:
        _VALID_QUANTITIES.add(text)
    return text


_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "n": 1e-9, "u": 1e-6,
             "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity_value(field: str, value: object) -> float:
    """The number a quantity stands for (``"64Mi"`` → 67108864.0, ``"500m"`` → 0.5); raises like :func:`quantity`."""
    text = quantity(field, value)
    for suffix in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return float(text)


def resource_requirements(field: str, resources: Mapping | None) -> dict[str, dict[str, str]]:
    """Check and normalise a container's ``resources`` (``{'requests': {...}, 'limits': {...}}``).

    Quantities become strings (the Argo schema types them as Quantity).
    Extended resources such as ``nvidia.com/gpu`` must be whole numbers, and,
    as Kubernetes requires, set in ``limits`` (a request, if any, must equal the limit).
    """
    if resources is None:
        return {}
    if type(resources) is not dict and not isinstance(resources, Mapping):
        raise TypeError(f"{field} must be a dict with 'requests' and/or 'limits', got {resources!r}")
    normalised: dict[str, dict[str, str]] = {}
    extended: set[str] = set()
    for section, amounts in resources.items():
        if section not in RESOURCE_SECTIONS:
            raise BadOperationConfiguration(
                f"{field}: unknown key {section!r}, expected 'requests' and/or 'limits'"
            )
        if type(amounts) is not dict and not isinstance(amounts, Mapping):
            raise BadOperationConfiguration(f"{field}.{section}={amounts!r}: expected a dict of resource: quantity")
        converted = normalised[section] = {}
        for resource, amount in amounts.items():
            # Field names are only formatted for an error: this runs for every task.
            if type(resource) is not str:
                resource = str(resource)
            converted[resource] = (
                amount if type(amount) is str and amount in _VALID_QUANTITIES
                else quantity(f"{field}.{section}.{resource}", amount)
            )
            if resource not in NATIVE_RESOURCES and not resource.startswith("hugepages-"):
                extended.add(resource)
    if extended:
        _check_extended(field, normalised.get("requests", {}), normalised.get("limits", {}), extended)
    return normalised


def _check_extended(field: str, requests: dict[str, str], limits: dict[str, str], extended: set[str]) -> None:
    """Kubernetes' rules for extended resources (GPUs...): whole numbers, in limits, requests equal to limits."""
    for resource in sorted(extended):
        for section, amounts in (("requests", requests), ("limits", limits)):
            if resource in amounts and not amounts[resource].isdigit():
                raise BadOperationConfiguration(
                    f"{field}.{section}.{resource}={amounts[resource]!r}: extended resources take a whole number"
                )
        if resource not in limits:
            raise BadOperationConfiguration(
                f"{field}.requests.{resource}={requests[resource]!r}: Kubernetes requires extended resources "
                f"in 'limits'; set limits.{resource} instead"
            )
        if resource in requests and requests[resource] != limits[resource]:
            raise BadOperationConfiguration(
                f"{field}.requests.{resource}={requests[resource]!r}: must equal limits.{resource}="
                f"{limits[resource]!r} (extended resources cannot be overcommitted)"
            )
