"""Pod execution contexts: run an operation's pods next to other pods of the cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadOperationConfiguration

# Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_KEY = re.compile(rf"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}\Z")
LABEL_VALUE = re.compile(rf"({_LABEL_NAME})?\Z")


def check_label(field: str, key: str, value: str) -> None:
    """Raise :class:`BadOperationConfiguration` unless ``key=value`` is a valid Kubernetes label."""
    if not LABEL_KEY.match(key) or len(key.rpartition("/")[0]) > 253:
        raise BadOperationConfiguration(f"{field}: invalid label key {key!r}")
    if not LABEL_VALUE.match(value):
        raise BadOperationConfiguration(
            f"{field}: invalid label value {value!r} for key {key!r}: at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )


@dataclass(frozen=True)
class PodExecutionContext:
    """A ``key=value`` label carried by every pod of the operation, with pod affinity to pods carrying it.

    ``required=True`` makes the affinity a scheduling requirement; otherwise it
    is a preference of weight 100. Both use the node (``kubernetes.io/hostname``)
    as topology. Key and value are converted with :class:`str`, as CloudHarness does.
    """

    key: str
    value: str
    required: bool = False

    def __init__(self, key: object, value: object, required: bool = False) -> None:
        object.__setattr__(self, "key", str(key))
        object.__setattr__(self, "value", str(value))
        object.__setattr__(self, "required", bool(required))
        check_label("PodExecutionContext", self.key, self.value)
