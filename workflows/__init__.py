"""harness-workflows: run batch work on Argo Workflows (or locally) from Python, without writing YAML.

``from workflows import tasks, operations, argo, argo_service, utils`` — the
same modules as CloudHarness's ``cloudharness.workflows``. Importing this package is light:
the Kubernetes and Kafka clients load only when a backend needs them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"
__all__ = ["tasks", "operations", "argo", "argo_service", "utils", "__version__"]

_SUBMODULES = frozenset({"tasks", "operations", "argo", "argo_service", "utils"})


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'workflows' has no attribute {name!r}")
