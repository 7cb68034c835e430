"""The doorbells of the local engine: how waiters learn, without polling, that a workflow changed."""

from __future__ import annotations

from ..doorbell import Doorbell
from .store import Store


def workflow_bell(store: Store, name: str) -> Doorbell:
    """Rung by the runner whenever the workflow's nodes or phase change, and when it ends."""
    return Doorbell(store.root / "bells" / name)
