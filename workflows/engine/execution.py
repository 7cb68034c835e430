"""The interpreter: runs one workflow's templates with Argo's semantics.

Templates run as asyncio coroutines in the runner process: a pod is a child
process, a steps or DAG template a coroutine that runs its children. Nodes are
recorded in Argo's shape (:mod:`.nodes`); the runner flushes them to the store.

:class:`WorkflowExecution` is the workflow's run (Argo's ``operator.go``): its
state, the entrypoint, and :meth:`~WorkflowExecution.invoke`, which resolves a
template's inputs (:mod:`.arguments`) and runs it, under its ``retryStrategy``
(:mod:`.retries`) or once (:mod:`.templates`, which dispatches on the kind:
:mod:`.podnodes`, :mod:`.steps`, :mod:`.dag`, :mod:`.suspend`, HTTP,
resources). Steps and DAG tasks share :mod:`.children` (``when``, loops,
``continueOn``, parallelism, ``failFast``); exit handlers are :mod:`.exithandler`;
the outputs of steps and DAG templates :mod:`.outputs`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from ..errors import NodeFailure
from .arguments import resolve_inputs
from .capacity import node_room
from .children import NODE_REFERENCES, parallelism
from .exithandler import run_workflow_exit_handler
from .lang.templating import TemplateError, substitute
from .nodes import NodeTable
from .retries import run_with_retries
from .scope import Scope, workflow_globals
from .skipped import without_absent_arguments
from .store import Store
from .templates import execute, node_type, with_defaults


class WorkflowExecution:
    """One run of a stored workflow, from its entrypoint through its exit handler."""

    def __init__(self, store: Store, name: str,
                 submit: Callable[[Store, dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.store = store
        #: Creates the workflows of resource templates (:func:`workflows.engine.submission.submit`, bound).
        self.submit = submit
        self.name = name
        self.manifest = store.manifest(name)
        self.spec = self.manifest["spec"]
        defaults = self.spec.get("templateDefaults") or {}
        # spec.templateDefaults apply to every template; a template's own fields win.
        self.templates = {
            template["name"]: with_defaults(template, defaults) if defaults else template
            for template in self.spec.get("templates") or []
        }
        self.nodes = NodeTable(store, name)
        self.globals: Scope = workflow_globals(self.manifest)
        self.directory = store.workflow_dir(name)
        self.pod_slots = parallelism(self.spec)
        #: The pods this runner runs at once, the local node's room (:mod:`.capacity`).
        self.node_slots = asyncio.Semaphore(node_room())
        self.volume_dirs = self._volume_dirs()
        self.logs = self.directory / "logs"
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.global_outputs: dict[str, str] = {}
        #: The ids of the DAG nodes (a step's or a task's exit hook sees it as ``steps.X`` or ``tasks.X``).
        self.dag_ids: set[str] = set()
        self.printed = False
        """Whether a pod printed something since the runner last rang the workflow's doorbell."""

    def _volume_dirs(self) -> dict[str, Path]:
        dirs = {}
        for volume in self.spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                dirs[volume["name"]] = self.store.claim_dir(claim)
        for template in self.spec.get("volumeClaimTemplates") or []:
            name = template["metadata"]["name"]
            dirs[name] = self.directory / "volumes" / name
            dirs[name].mkdir(mode=0o700, parents=True, exist_ok=True)
        return dirs

    # --- the workflow ------------------------------------------------------------------------------------------

    async def run_main(self) -> dict[str, Any]:
        """Run the entrypoint with the workflow's arguments; return the root node."""
        entry = {"template": self.spec["entrypoint"], "arguments": self.spec.get("arguments") or {}}
        return await self.invoke(entry, self.globals, self.name, self.name, parent=None, boundary=None)

    async def run_exit_handler(self, status: str) -> dict[str, Any] | None:
        """Run ``spec.onExit`` with ``workflow.status`` and ``workflow.failures``; return its node
        (:func:`.exithandler.run_workflow_exit_handler`)."""
        return await run_workflow_exit_handler(self, status)

    def fail_unfinished(self, message: str) -> None:
        """Mark every node still running as failed (after a stop, a deadline, a crash)."""
        for node in self.nodes.running():
            self.nodes.update(node["id"], phase="Failed", message=message)

    # --- templates ---------------------------------------------------------------------------------------------

    def template_of(self, holder: dict[str, Any]) -> dict[str, Any]:
        """The template a step, task or entrypoint runs: its ``inline`` template, or the one it names."""
        if holder.get("inline") is not None:
            return {"name": holder.get("name", "inline"), **holder["inline"]}
        return self.templates[holder["template"]]

    async def invoke(self, holder: dict[str, Any], caller: Scope, name: str, display: str, *, parent: str | None,
                     boundary: str | None) -> dict[str, Any]:
        """Run the template a step, task or entrypoint names, with its arguments resolved in ``caller``'s scope."""
        template = self.template_of(holder)
        try:
            arguments = substitute(without_absent_arguments(holder.get("arguments") or {}, caller), caller,
                                   strict=False, strict_prefixes=NODE_REFERENCES)
            inputs = resolve_inputs(template, arguments, self.globals)
        except (TemplateError, NodeFailure) as error:
            return self.nodes.create(name, display, node_type(template), template["name"],
                                     parent=parent, boundary=boundary, phase="Error", message=str(error))
        # Argo's default for a template without its own is spec.retryStrategy; ``{}`` retries without limit.
        retry = template.get("retryStrategy", self.spec.get("retryStrategy"))
        if retry is not None:
            return await run_with_retries(self, template, inputs, retry, name, display, parent, boundary)
        return await execute(self, template, inputs, name, display, parent, boundary, attempt=0)

    # --- what templates report back ----------------------------------------------------------------------------

    def publish_parameter(self, global_name: str, value: str) -> None:
        """Make an output parameter with a ``globalName`` a workflow output (``workflow.outputs.parameters``)."""
        self.global_outputs[global_name] = value
        self.globals[f"workflow.outputs.parameters.{global_name}"] = value

    def mark_printed(self) -> None:
        """Note that a pod printed something (the runner rings the doorbell for ``logs --follow``)."""
        self.printed = True
