"""Submitting a workflow to the local engine: resolve its WorkflowTemplate references, check that the engine
can run all of it, store it and start its runner. The local backend and resource templates that create
Workflows both submit through here."""

from __future__ import annotations

from typing import Any, Callable

from ..templaterefs import resolve_references
from .capacity import max_pods_setting
from .spares import spares_enabled
from .store import Store
from .support import check_supported
from .templatestore import TemplateStore


def submit(store: Store, manifest: dict[str, Any], start: Callable[[Store, dict[str, Any]], Any]
           ) -> dict[str, Any]:
    """Store ``manifest`` (resolved) and start its runner with ``start(store, stored manifest)``
    (:func:`workflows.engine.runner.spawn_runner`); return the stored manifest, named.

    Raises :class:`workflows.templaterefs.TemplateNotFound` for a reference the
    stored templates cannot answer and
    :class:`workflows.engine.support.UnsupportedWorkflow` for what the engine cannot run, and
    :class:`~workflows.errors.EngineConfigurationError` for a bad ``WORKFLOWS_MAX_PODS`` or
    ``WORKFLOWS_SPARE_RUNNER``.
    """
    manifest = resolve_references(manifest, TemplateStore(store))
    check_supported(manifest)
    max_pods_setting()  # the runner reads it too: a bad value is the caller's error, before anything is stored
    spares_enabled()  # read after the runner's start, likewise
    stored = store.create(manifest)
    start(store, stored)
    return stored
