"""Test doubles for code that runs workflows: a fake cluster over real HTTP, and an in-memory backend.

:class:`FakeCluster` serves the Kubernetes API and Argo Server paths the ``kubernetes`` and ``argo-server``
backends use, and runs what is submitted with the local engine. :class:`MemoryBackend` records what is
submitted, without running anything. :class:`KafkaTestBroker` is a one-node broker speaking the Kafka
protocol on 127.0.0.1 (enough for kafka-python). The pytest plugin (:mod:`workflows.testing.pytest_plugin`)
gives the ``fake_cluster``, ``fake_argo_server`` and ``kafka_broker`` fixtures. The classes are imported
when first used (the broker loads kafka-python), so that the plugin, loaded in every pytest session, stays
light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import FakeCluster
    from .kafka_broker import KafkaTestBroker
    from .memory import MemoryBackend

__all__ = ["FakeCluster", "KafkaTestBroker", "MemoryBackend"]
_HOMES = {"FakeCluster": ".cluster", "KafkaTestBroker": ".kafka_broker", "MemoryBackend": ".memory"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
