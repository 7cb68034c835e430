"""Templates by kind: ``spec.templateDefaults``, and running one template once by dispatching on its type.

:func:`execute` is one attempt of a template whose inputs are resolved: it
builds the template's scope (globals, inputs, output placeholders, ``pod.name``,
``node.name``, ``retries``) and hands it to the executor of its kind: pods and
container sets (:mod:`.podnodes`), steps (:mod:`.steps`), DAGs (:mod:`.dag`),
suspend (:mod:`.suspend`), HTTP (:mod:`.httpcall`), resources (:mod:`.resources`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..dicts import deep_merge
from ..vocabulary import template_type
from .arguments import Inputs, artifact_paths
from .dag import run_dag
from .httpcall import run_http_node
from .podnodes import run_container_set, run_pod
from .resources import run_resource_node
from .scope import input_scope, output_placeholders
from .steps import run_steps
from .support import SUPPORTED_TYPES, UNSUPPORTED_TYPES
from .suspend import run_suspend

if TYPE_CHECKING:
    from .execution import WorkflowExecution

#: Template types that run as a pod with one main container (``vocabulary.POD_TYPES`` counts more kinds).
MAIN_CONTAINER_TYPES = ("container", "script")


async def execute(execution: WorkflowExecution, template: dict[str, Any], inputs: Inputs, name: str, display: str,
                  parent: str | None, boundary: str | None, *, attempt: int) -> dict[str, Any]:
    """Run ``template`` once (attempt number ``attempt``) with its resolved ``inputs``; return its node."""
    parameters, artifacts, raw = inputs
    node_id = execution.nodes.node_id(name)
    scope = {**execution.globals, **input_scope(parameters, artifact_paths(template), artifacts),
             **output_placeholders(template), "pod.name": node_id, "node.name": name, "retries": str(attempt)}
    kind = template_type(template)
    if kind in MAIN_CONTAINER_TYPES:
        return await run_pod(execution, template, kind, scope, artifacts, raw, name, display, parent, boundary)
    if kind == "containerSet":
        return await run_container_set(execution, template, scope, artifacts, raw, name, display, parent, boundary)
    if kind == "steps":
        return await run_steps(execution, template, scope, name, display, parent, boundary)
    if kind == "dag":
        return await run_dag(execution, template, scope, name, display, parent, boundary)
    if kind == "suspend":
        return await run_suspend(execution, template, scope, name, display, parent, boundary)
    if kind == "http":
        return await run_http_node(execution, template, scope, name, display, parent, boundary)
    if kind == "resource":
        return await run_resource_node(execution, template, scope, name, display, parent, boundary)
    return execution.nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary,
                                  phase="Error", message=f"template type {kind!r} is not supported by the local engine")


def node_type(template: dict[str, Any]) -> str:
    """The type of the node a template makes (``Steps``, ``DAG``, ``Suspend``, ``HTTP``; ``Pod`` otherwise)."""
    return {"steps": "Steps", "dag": "DAG", "suspend": "Suspend", "http": "HTTP"}.get(template_type(template), "Pod")


def with_defaults(template: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``template`` over ``spec.templateDefaults``, keeping its own type (Argo's ``SetType`` after the merge:
    a container default does not turn a steps template into a container)."""
    kind = template_type(template)
    merged = deep_merge(copy.deepcopy(defaults), template)
    for other in (*SUPPORTED_TYPES, *UNSUPPORTED_TYPES):
        if other != kind:
            merged.pop(other, None)
    return merged
