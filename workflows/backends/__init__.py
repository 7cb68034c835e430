"""Backends: where compiled specs run. Every backend takes the same Workflow dict.

A backend is an object: pass one to ``op.execute(backend=...)``,
``op.submit(backend=...)`` and every :mod:`workflows.argo` function, or give
its name (``local``, ``kubernetes``, ``argo-server``). Without one, the
backend named by ``WORKFLOWS_BACKEND`` (read at each use; unset, it is
``kubernetes`` inside a pod that has a service account and ``local``
elsewhere) is built once per process and reused while the configuration it
was built from (the ``WORKFLOWS_*``, ``ARGO_*`` and ``KUBE*`` variables) stays
the same. Backends register under their name with :func:`register_backend`;
the built-in ones are imported only when selected.
"""

from __future__ import annotations

import collections
import importlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..errors import BackendUnavailable

if TYPE_CHECKING:
    from ..argo import Workflow

SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
#: Environment variables whose values configure backends: a change gives a new default backend.
CONFIG_PREFIXES = ("WORKFLOWS_", "ARGO_", "KUBE")


class Backend(ABC):
    """What every backend does with Argo-shaped workflow dicts (``metadata``, ``spec``, ``status``)."""

    #: The name it is registered under.
    name: str = ""

    @abstractmethod
    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create the workflow; return it as stored (with ``metadata.name``)."""

    @contextmanager
    def submitting(self) -> Iterator[None]:
        """Around one submission, from before its spec is validated to the end of :meth:`submit`: a backend may
        start there what the submission will need, to get ready while the spec is checked (the local backend
        starts the workflow's runner). Nothing, by default."""
        yield

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

    def results(self, workflow: Workflow) -> list[dict[str, str]]:
        """The messages a finished ``DistributedSyncOperationWithResults`` published on its topic (named after the
        workflow) through the events backend, the exit notification left out; the topic is deleted."""
        from ..events import EventClient, is_exit_notification

        client = EventClient(workflow.name)
        messages = [message for message in client.consume_all(timeout=0)
                    if not is_exit_notification(message, workflow.name)]
        client.delete_topic()
        return messages

    def resume(self, name: str) -> None:
        """Resume a suspended workflow: its suspend nodes running now end ``Succeeded``."""
        raise BackendUnavailable(f"the {type(self).__name__} backend cannot resume workflows")


#: What ``backend=`` accepts: a backend, the name of one, or ``None`` for the configured default.
BackendLike = Union[Backend, str, None]

_FACTORIES: dict[str, Callable[[], Backend]] = {}
#: Backends shipped with the library, imported when first selected: name → ``module:class``.
_BUILTIN = {
    "local": "workflows.backends.local:LocalBackend",
    "kubernetes": "workflows.backends.kubernetes:KubernetesBackend",
    "argo-server": "workflows.backends.argo_server:ArgoServerBackend",
}
#: The default backend of each name, with the configuration key it was built for.
_CACHE: dict[str, tuple[Hashable, Backend]] = {}
_CACHE_LOCK = threading.Lock()


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``factory`` the backend selected by ``WORKFLOWS_BACKEND=name`` (replacing any cached one)."""
    with _CACHE_LOCK:
        _FACTORIES[name] = factory
        _CACHE.pop(name, None)


def default_backend_name() -> str:
    """``kubernetes`` inside a pod with a service account (as kubectl detects it), ``local`` elsewhere."""
    if os.environ.get("KUBERNETES_SERVICE_HOST") and SERVICE_ACCOUNT_TOKEN.is_file():
        return "kubernetes"
    return "local"


def _factory(name: str) -> Callable[[], Backend]:
    if name not in _FACTORIES and name in _BUILTIN:
        module, _, attribute = _BUILTIN[name].partition(":")
        _FACTORIES.setdefault(name, getattr(importlib.import_module(module), attribute))
    if name not in _FACTORIES:
        known = ", ".join(sorted({*_FACTORIES, *_BUILTIN})) or "none"
        raise BackendUnavailable(f"WORKFLOWS_BACKEND={name!r}: no such backend is available (available: {known})")
    return _FACTORIES[name]


def create_backend(name: str | None = None, **options: Any) -> Backend:
    """A new backend named ``name`` (default: ``WORKFLOWS_BACKEND``), built with ``options`` (``namespace=`` for
    the cluster backends), not shared with anyone."""
    name = name or os.environ.get("WORKFLOWS_BACKEND") or default_backend_name()
    return _factory(name)(**options)


def configuration_key(factory: Callable[[], Backend]) -> Hashable:
    """What the default backend built by ``factory`` depends on: the configuration variables, and whatever the
    factory's ``configuration_key()`` adds (the kubeconfig files' identity, say)."""
    environment = tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith(CONFIG_PREFIXES)))
    extra = getattr(factory, "configuration_key", None)
    return environment, (extra() if extra is not None else None)


def get_backend(backend: BackendLike = None) -> Backend:
    """``backend`` itself when it is a :class:`Backend`; else the backend named ``backend`` or, for ``None``, by
    ``WORKFLOWS_BACKEND`` (read at every call), built once per process and configuration and then reused."""
    if isinstance(backend, Backend):
        return backend
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"backend={backend!r}: expected a Backend, a backend name or None")
    name = backend or os.environ.get("WORKFLOWS_BACKEND") or default_backend_name()
    factory = _factory(name)
    key = (factory, configuration_key(factory))
    with _CACHE_LOCK:
        cached = _CACHE.get(name)
    if cached is not None and cached[0] == key:
        return cached[1]
    built = factory()
    with _CACHE_LOCK:
        cached = _CACHE.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        _CACHE[name] = (key, built)
        return built
