"""Test doubles for code that runs workflows: a fake cluster over real HTTP, and an in-memory backend.

:class:`FakeCluster` serves the Kubernetes API and Argo Server paths the ``kubernetes`` and ``argo-server``
backends use, and runs what is submitted with the local engine. :class:`MemoryBackend` records what is
submitted, without running anything. The pytest plugin (:mod:`workflows.testing.pytest_plugin`) gives the
``fake_cluster`` and ``fake_argo_server`` fixtures. Both classes are imported when first used, so that the
plugin, loaded in every pytest session, stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import FakeCluster
    from .memory import MemoryBackend

__all__ = ["FakeCluster", "MemoryBackend"]
_HOMES = {"FakeCluster": ".cluster", "MemoryBackend": ".memory"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
