"""Backends: where compiled specs run. Every backend takes the same Workflow dict.

``WORKFLOWS_BACKEND`` selects one by name (``local``, ``kubernetes``,
``argo-server``); unset, it is ``kubernetes`` inside a pod that has a service
account and ``local`` elsewhere. Backends register under their name with
:func:`register_backend`; the built-in ones are imported only when selected.
"""

from __future__ import annotations

import collections
import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import WorkflowsError

SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


class BackendUnavailable(WorkflowsError):
    """The selected backend is unknown or cannot be loaded."""


class Backend(ABC):
    """What every backend does with Argo-shaped workflow dicts (``metadata``, ``spec``, ``status``)."""

    @abstractmethod
    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create the workflow; return it as stored (with ``metadata.name``)."""

    @abstractmethod
    def get(self, name: str) -> dict[str, Any]:
        """The workflow named ``name``; raise :class:`workflows.argo.WorkflowNotFound` when there is none."""

    @abstractmethod
    def list(self, phase: str | None, limit: int, continue_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of workflows, newest first, and the token of the next page (``None`` at the end)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Delete the workflow and what belongs to it; raise ``WorkflowNotFound`` when there is none."""

    @abstractmethod
    def node_logs(self, name: str) -> dict[str, str]:
        """What each pod of the workflow printed so far: node id → text, in the order the pods started."""

    def logs(self, name: str) -> list[str]:
        """The logs of each pod of the workflow, in the order the pods started."""
        return list(self.node_logs(name).values())

    @abstractmethod
    def watch(self, name: str, timeout: float | None) -> Iterator[dict[str, Any]]:
        """Yield the workflow now and each time it changes, until it is finished (without polling).

        Raise :class:`TimeoutError` (naming the workflow) when ``timeout`` seconds pass first.
        """

    def wait(self, name: str, timeout: float | None) -> dict[str, Any]:
        """Block until the workflow is finished; return it (see :meth:`watch`)."""
        (last,) = collections.deque(self.watch(name, timeout), maxlen=1)
        return last

    @abstractmethod
    def stop(self, name: str) -> None:
        """Stop a running workflow: kill its pods, run its exit handler, end it ``Failed``."""

    def resume(self, name: str) -> None:
        """Resume a suspended workflow: its suspend nodes running now end ``Succeeded``."""
        raise BackendUnavailable(f"the {type(self).__name__} backend cannot resume workflows")


_FACTORIES: dict[str, Callable[[], Backend]] = {}
#: Backends shipped with the library, imported when first selected: name → ``module:class``.
_BUILTIN = {"local": "workflows.backends.local:LocalBackend"}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``factory`` the backend selected by ``WORKFLOWS_BACKEND=name``."""
    _FACTORIES[name] = factory


def default_backend_name() -> str:
    """``kubernetes`` inside a pod with a service account (as kubectl detects it), ``local`` elsewhere."""
    if os.environ.get("KUBERNETES_SERVICE_HOST") and SERVICE_ACCOUNT_TOKEN.is_file():
        return "kubernetes"
    return "local"


def get_backend() -> Backend:
    """The backend selected now by ``WORKFLOWS_BACKEND`` (read at every call)."""
    name = os.environ.get("WORKFLOWS_BACKEND") or default_backend_name()
    if name not in _FACTORIES and name in _BUILTIN:
        module, _, attribute = _BUILTIN[name].partition(":")
        register_backend(name, getattr(importlib.import_module(module), attribute))
    if name not in _FACTORIES:
        known = ", ".join(sorted({*_FACTORIES, *_BUILTIN})) or "none"
        raise BackendUnavailable(f"WORKFLOWS_BACKEND={name!r}: no such backend is available (available: {known})")
    return _FACTORIES[name]()
