"""Plain-dict helpers shared by the compiler, the tasks and the engine."""

from __future__ import annotations

import copy
from typing import Any


def deep_merge(target: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge ``overrides`` into ``target`` in place: dicts merge key by key, any other value replaces."""
    for key, value in overrides.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
    return target
