"""Kubernetes resource quantities (``100m``, ``1.5Gi``, ``2``) and resource requirements."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import BadOperationConfiguration

# Kubernetes' grammar: <signedNumber><suffix>, suffix one of the binary SI, decimal SI or exponent forms.
QUANTITY = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?\Z")
_QUANTITY_MATCH = QUANTITY.match

#: Resource names Kubernetes knows natively; anything else with a domain is an extended resource.
NATIVE_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "storage"})
RESOURCE_SECTIONS = ("requests", "limits")


def quantity(field: str, value: object) -> str:
    """Return ``value`` as a Kubernetes quantity string, or raise naming ``field`` and the value.

    ints and floats are accepted (``0.5`` → ``"0.5"``); booleans are not.
    """
    if type(value) is str and _QUANTITY_MATCH(value):  # the common case, kept fast
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadOperationConfiguration(f"{field}={value!r}: a quantity must be a string or a number")
    text = value if isinstance(value, str) else repr(value)
    if not QUANTITY.match(text):
        raise BadOperationConfiguration(
            f"{field}={value!r}: not a Kubernetes quantity (examples: '100m', '0.5', '64Mi', '2Gi')"
        )
    return text


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
            converted[str(resource)] = (
                amount if type(amount) is str and _QUANTITY_MATCH(amount)
                else quantity(f"{field}.{section}.{resource}", amount)
            )
    requests, limits = normalised.get("requests", {}), normalised.get("limits", {})
    for resource in requests.keys() | limits.keys():
        if resource in NATIVE_RESOURCES or resource.startswith("hugepages-"):
            continue
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
    return normalised
