"""The interpreter: runs one workflow's templates with Argo's semantics.

Templates run as asyncio coroutines in the runner process: a pod is a child
process, a steps or DAG template a coroutine that runs its children. Nodes are
recorded in Argo's shape (:mod:`.nodes`); the runner flushes them to the store.

Semantics follow Argo's controller (``workflow/controller/operator.go``,
``steps.go``, ``dag.go``): step groups in order with their steps in parallel;
DAG tasks as their ``dependencies``/``depends`` allow, ``failFast`` by default;
``when``, ``continueOn``, loops, retries with backoff, template parallelism,
timeouts, and exit handlers with ``workflow.status`` and ``workflow.failures``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import time
from collections import deque
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Awaitable, Callable

from ..dicts import deep_merge
from ..durations import duration_seconds
from ..timestamps import epoch
from ..depends import TaskOutcome, parse_depends
from .lang.expr import evaluate_expression, evaluate_expression_bool
from .lang.govaluate import evaluate_when
from .httpcall import call as call_http
from .loops import expand_loop, item_scope, loop_node_name
from ..vocabulary import COMPLETED_PHASES as COMPLETED, FAILED_OR_ERROR
from .containerset import MAIN, container_template, sidecar_template
from .nodes import NodeTable
from .pod import PodEnd, run_pod_node
from .scope import (
    Scope,
    aggregate_scope,
    input_scope,
    node_scope,
    output_placeholders,
    workflow_globals,
)
from .resume import ResumeRequests, supplied_outputs
from .resources import ResourceError, kubectl_jsonpath, run_resource
from .skipped import skipped_outputs_scope, without_absent_arguments
from .store import Store
from .support import SUPPORTED_TYPES, UNSUPPORTED_TYPES
from ..vocabulary import template_type
from .lang.templating import TemplateError, expression_env, substitute, value_from_expression
from ..errors import NodeFailure

log = logging.getLogger(__name__)

POD_TYPES = ("container", "script")
#: References a step or task must resolve before it runs (Argo's ``ReplaceStrictAny``).
NODE_REFERENCES = ("steps", "tasks")
#: Retry policies and the node phases each one retries (Argo's default is OnFailure).
RETRY_PHASES = {"Always": {"Failed", "Error"}, "OnFailure": {"Failed"}, "OnError": {"Error"},
                "OnTransientError": {"Error"}}


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
        parallelism = self.spec.get("parallelism")
        self.pod_slots = asyncio.Semaphore(int(parallelism)) if parallelism else None
        self.volume_dirs = self._volume_dirs()
        self.logs = self.directory / "logs"
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.global_outputs: dict[str, str] = {}
        self._dag_ids: set[str] = set()
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
        """Run ``spec.onExit`` with ``workflow.status`` and ``workflow.failures``; return its node."""
        handler = self.spec.get("onExit")
        if not handler:
            return None
        self.globals["workflow.status"] = status
        self.globals["workflow.failures"] = json.dumps(self.failures())
        name = f"{self.name}.onExit"
        return await self.invoke({"template": handler}, self.globals, name, name, parent=None, boundary=None)

    def failures(self) -> list[dict[str, Any]]:
        """``workflow.failures``: the failed pods, as Argo lists them."""
        return [
            {"displayName": node["displayName"], "message": node.get("message", ""),
             "templateName": node.get("templateName", ""), "phase": node["phase"], "podName": node["id"],
             "finishedAt": node.get("finishedAt", "")}
            for node in self.nodes.nodes.values()
            if node["type"] == "Pod" and node["phase"] in FAILED_OR_ERROR
        ]

    def fail_unfinished(self, message: str) -> None:
        """Mark every node still running as failed (after a stop, a deadline, a crash)."""
        for node in self.nodes.running():
            self.nodes.update(node["id"], phase="Failed", message=message)

    # --- template invocation -----------------------------------------------------------------------------------

    def _template_of(self, holder: dict[str, Any]) -> dict[str, Any]:
        if holder.get("inline") is not None:
            return {"name": holder.get("name", "inline"), **holder["inline"]}
        return self.templates[holder["template"]]

    async def invoke(self, holder: dict[str, Any], caller: Scope, name: str, display: str, *, parent: str | None,
                     boundary: str | None) -> dict[str, Any]:
        """Run the template a step, task or entrypoint names, with its arguments resolved in ``caller``'s scope."""
        template = self._template_of(holder)
        try:
            arguments = substitute(without_absent_arguments(holder.get("arguments") or {}, caller), caller,
                                   strict=False, strict_prefixes=NODE_REFERENCES)
            parameters, artifacts, raw = self._inputs(template, arguments)
        except (TemplateError, NodeFailure) as error:
            return self.nodes.create(name, display, _node_type(template), template["name"],
                                     parent=parent, boundary=boundary, phase="Error", message=str(error))
        inputs = (parameters, artifacts, raw)
        # Argo's default for a template without its own is spec.retryStrategy; ``{}`` retries without limit.
        retry = template.get("retryStrategy", self.spec.get("retryStrategy"))
        if retry is not None:
            return await self._with_retries(template, inputs, retry, name, display, parent, boundary)
        return await self._execute(template, inputs, name, display, parent, boundary, attempt=0)

    def _inputs(self, template: dict[str, Any], arguments: dict[str, Any]
                ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """Input parameter values, input artifact sources (store paths) and raw artifact data."""
        given = {p["name"]: p for p in arguments.get("parameters") or []}
        parameters = {}
        for declared in (template.get("inputs") or {}).get("parameters") or []:
            name = declared["name"]
            argument = given.get(name, {})
            if "value" in argument:
                value = argument["value"]
            elif "value" in declared:
                value = declared["value"]
            elif "default" in declared:
                value = declared["default"]
            else:
                raise NodeFailure(f"inputs.parameters.{name} was not supplied")
            value = value if isinstance(value, str) else json.dumps(value)
            enum = declared.get("enum")
            if enum and value not in [str(option) for option in enum]:
                raise NodeFailure(f"inputs.parameters.{name}: value {value!r} is not in enum {enum}")
            parameters[name] = value
        # Argo's SubstituteParams: input values may use the workflow's globals and the other inputs
        tagged = [name for name, value in parameters.items() if "{{" in value]
        if tagged:
            scope = {**self.globals, **input_scope(parameters, {}, {})}
            parameters.update({name: substitute(parameters[name], scope, strict=False) for name in tagged})
        given_artifacts = {a["name"]: a for a in arguments.get("artifacts") or []}
        artifacts, raw = {}, {}
        for declared in (template.get("inputs") or {}).get("artifacts") or []:
            name = declared["name"]
            source = {**declared, **given_artifacts.get(name, {})}
            unresolved = "{{" in str(source.get("from") or "")  # an optional artifact that was never produced
            if source.get("from") and not unresolved:
                artifacts[name] = str(Path(source["from"]) / source["subPath"]) if source.get("subPath") \
                    else source["from"]
            elif (source.get("raw") or {}).get("data") is not None:
                raw[name] = source["raw"]["data"]
            elif unresolved and not declared.get("optional"):
                raise NodeFailure(f"inputs.artifacts.{name}: {source['from']} could not be resolved")
            elif not declared.get("optional"):
                raise NodeFailure(f"inputs.artifacts.{name} was not supplied")
        return parameters, artifacts, raw

    async def _with_retries(self, template: dict[str, Any], inputs: tuple, retry: dict[str, Any], name: str,
                            display: str, parent: str | None, boundary: str | None) -> dict[str, Any]:
        node = self.nodes.create(name, display, "Retry", template["name"], parent=parent, boundary=boundary)
        scope = {**self.globals, **input_scope(inputs[0], {}, {})}
        try:
            # Without a limit, Argo retries until the template succeeds (or the policy stops it).
            limit = int(substitute(str(retry["limit"]), scope, strict=False)) if "limit" in retry else None
            backoff = retry.get("backoff") or {}
            delay = duration_seconds(backoff["duration"]) if backoff.get("duration") else 0.0
            cap = duration_seconds(backoff["cap"]) if backoff.get("cap") else None
            max_duration = duration_seconds(backoff["maxDuration"]) if backoff.get("maxDuration") else None
        except (TemplateError, ValueError) as error:
            return self.nodes.update(node["id"], phase="Error", message=f"retryStrategy: {error}")
        retried = RETRY_PHASES.get(retry.get("retryPolicy") or "OnFailure", {"Failed"})
        factor = float(backoff.get("factor", 1) or 1)
        started = time.monotonic()
        child: dict[str, Any] = {}
        for attempt in itertools.count():
            child = await self._execute(template, inputs, f"{name}({attempt})", f"{display}({attempt})",
                                        node["id"], boundary, attempt=attempt)
            if child["phase"] not in retried or attempt == limit or not self._retry_allowed(retry, child, scope):
                break
            wait = min(delay, cap) if cap is not None else delay
            if max_duration is not None and time.monotonic() - started + wait > max_duration:
                break
            if wait:
                await asyncio.sleep(wait)
                delay *= factor
        return self.nodes.update(node["id"], phase=child["phase"], message=child.get("message"),
                                 outputs=child.get("outputs"))

    @staticmethod
    def _retry_allowed(retry: dict[str, Any], attempt: dict[str, Any], scope: Scope) -> bool:
        """``retryStrategy.expression``, evaluated with ``lastRetry.*`` of the attempt that just ended."""
        expression = retry.get("expression")
        if not expression:
            return True
        started = attempt.get("startedAt")
        finished = attempt.get("finishedAt")
        duration = (epoch(finished) - epoch(started)) if started and finished else 0
        last = {"lastRetry.exitCode": (attempt.get("outputs") or {}).get("exitCode", "-1"),
                "lastRetry.status": attempt["phase"], "lastRetry.duration": str(int(duration)),
                "lastRetry.message": attempt.get("message", "")}
        local = {**scope, **last}
        try:
            return evaluate_expression_bool(substitute(expression, local, strict=False), expression_env(local))
        except TemplateError as error:
            log.warning("retryStrategy.expression %r: %s; not retrying", expression, error)
            return False

    async def _execute(self, template: dict[str, Any], inputs: tuple, name: str, display: str, parent: str | None,
                       boundary: str | None, *, attempt: int) -> dict[str, Any]:
        parameters, artifacts, raw = inputs
        node_id = self.nodes.node_id(name)
        scope = {**self.globals, **input_scope(parameters, self._artifact_paths(template), artifacts),
                 **output_placeholders(template), "pod.name": node_id, "node.name": name, "retries": str(attempt)}
        kind = template_type(template)
        if kind in POD_TYPES:
            return await self._pod(template, kind, scope, artifacts, raw, name, display, parent, boundary)
        if kind == "containerSet":
            return await self._container_set(template, scope, artifacts, raw, name, display, parent, boundary)
        if kind == "steps":
            return await self._steps(template, scope, name, display, parent, boundary)
        if kind == "dag":
            return await self._dag(template, scope, name, display, parent, boundary)
        if kind == "suspend":
            return await self._suspend(template, scope, name, display, parent, boundary)
        if kind == "http":
            return await self._http(template, scope, name, display, parent, boundary)
        if kind == "resource":
            return await self._resource(template, scope, name, display, parent, boundary)
        return self.nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary,
                                 phase="Error", message=f"template type {kind!r} is not supported by the local engine")

    @staticmethod
    def _artifact_paths(template: dict[str, Any]) -> dict[str, str]:
        return {a["name"]: a.get("path", "") for a in (template.get("inputs") or {}).get("artifacts") or []}

    # --- pods ---------------------------------------------------------------------------------------------------

    def _pod_node(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                  boundary: str | None) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Create a pod's node (``Pending``) and resolve its template in ``scope``: ``(node id, resolved template,
        None)``, or ``(node id, {}, the node)`` once it ended ``Error`` on a reference that does not resolve."""
        node_id = self.nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary,
                                    phase="Pending")["id"]
        try:
            resolved = substitute({key: value for key, value in template.items() if key != "name"}, scope,
                                  strict=False)
        except TemplateError as error:
            return node_id, {}, self.nodes.update(node_id, phase="Error", message=str(error))
        resolved["name"] = template["name"]
        return node_id, resolved, None

    async def _pod(self, template: dict[str, Any], kind: str, scope: Scope, artifacts: dict[str, str],
                   raw: dict[str, str], name: str, display: str, parent: str | None, boundary: str | None
                   ) -> dict[str, Any]:
        node_id, resolved, failed = self._pod_node(template, scope, name, display, parent, boundary)
        if failed is not None:
            return failed
        async with AsyncExitStack() as stack:
            if self.pod_slots is not None:
                await stack.enter_async_context(self.pod_slots)
            self.nodes.update(node_id, phase="Running")
            failed_init = await self._init_containers(resolved, kind, node_id)
            if failed_init is not None:
                return self.nodes.update(node_id, phase=failed_init.phase, message=failed_init.message)
            sidecars = self._start_sidecars(resolved, kind, node_id)
            try:
                end = await asyncio.wait_for(
                    run_pod_node(kind, resolved, self.spec, self.volume_dirs, artifacts, raw, node_id,
                                 self.directory / "nodes" / node_id, self.logs / f"{node_id}.log",
                                 self.directory / "artifacts",
                                 on_start=lambda pid: self.nodes.set_pgid(node_id, pid), on_output=self._printed),
                    self._pod_timeout(resolved))
            except asyncio.TimeoutError:
                return self.nodes.update(node_id, phase="Failed",
                                         message="Pod was active on the node longer than the specified deadline")
            finally:
                self.nodes.set_pgid(node_id, None)
                for sidecar in sidecars:  # Argo kills the sidecars once the main container has ended
                    sidecar.cancel()
                await asyncio.gather(*sidecars, return_exceptions=True)
            broken = next((future.result() for future in sidecars
                           if not future.cancelled() and future.exception() is None
                           and future.result().phase == "Error"), None)
            if broken is not None:  # a sidecar that could not even start (its exit status does not count)
                end = PodEnd("Error", f"sidecar: {broken.message}", end.outputs)
        for parameter in (end.outputs or {}).get("parameters") or []:
            if parameter.get("globalName"):
                self.global_outputs[parameter["globalName"]] = parameter["value"]
                self.globals[f"workflow.outputs.parameters.{parameter['globalName']}"] = parameter["value"]
        for artifact in (end.outputs or {}).get("artifacts") or []:
            if artifact.get("globalName"):
                self.globals[f"workflow.outputs.artifacts.{artifact['globalName']}"] = artifact["path"]
        return self.nodes.update(node_id, phase=end.phase, message=end.message, outputs=end.outputs)

    def _companion(self, template: dict[str, Any], kind: str, node_id: str, container: dict[str, Any],
                   role: str) -> Awaitable[PodEnd]:
        """Run an init container or a sidecar of a pod (:func:`.containerset.sidecar_template`) in a sandbox of
        its own sharing the pod's volumes; its log is ``<node id>.<name>.log``."""
        node_dir = self.directory / "nodes" / node_id
        empty_dirs = {volume["name"]: node_dir / "emptydir" / volume["name"]
                      for volume in self.spec.get("volumes") or [] if "emptyDir" in volume}
        return run_pod_node(
            "container", sidecar_template(template, kind, container), self.spec, {**empty_dirs, **self.volume_dirs},
            {}, {}, f"{node_id}-{container['name']}", node_dir / role / container["name"],
            self.logs / f"{node_id}.{container['name']}.log", self.directory / "artifacts",
            on_start=lambda pid: None, on_output=self._printed)

    async def _init_containers(self, template: dict[str, Any], kind: str, node_id: str) -> PodEnd | None:
        """Run the pod's init containers one after the other; how the first that did not succeed ended, or None."""
        for container in template.get("initContainers") or []:
            end = await self._companion(template, kind, node_id, container, "init")
            if end.phase != "Succeeded":
                return PodEnd(end.phase, f"init container {container['name']!r}: {end.message}")
        return None

    def _start_sidecars(self, template: dict[str, Any], kind: str, node_id: str) -> list[asyncio.Future]:
        """Start the pod's sidecars, which run until the main container has ended."""
        return [asyncio.ensure_future(self._companion(template, kind, node_id, sidecar, "sidecars"))
                for sidecar in template.get("sidecars") or []]

    async def _container_set(self, template: dict[str, Any], scope: Scope, artifacts: dict[str, str],
                             raw: dict[str, str], name: str, display: str, parent: str | None, boundary: str | None
                             ) -> dict[str, Any]:
        """A container set (:mod:`.containerset`): one pod node, a ``Container`` child node per container."""
        node_id, resolved, failed = self._pod_node(template, scope, name, display, parent, boundary)
        if failed is not None:
            return failed
        node_dir = self.directory / "nodes" / node_id
        own_volumes = resolved.get("volumes") or []
        volume_dirs = {**self.volume_dirs, **{volume["name"]: node_dir / "emptydir" / volume["name"]
                                              for volume in own_volumes}}
        containers = resolved["containerSet"]["containers"]
        finished = {container["name"]: asyncio.Event() for container in containers}
        ends: dict[str, PodEnd] = {}

        async def run(container: dict[str, Any]) -> None:
            container_name = container["name"]
            for dependency in container.get("dependencies") or []:
                await finished[dependency].wait()
            child = self.nodes.create(f"{name}.{container_name}", container_name, "Container", template["name"],
                                      parent=node_id, boundary=boundary, phase="Running")
            unmet = [dep for dep in container.get("dependencies") or [] if ends[dep].phase != "Succeeded"]
            if unmet:
                ends[container_name] = PodEnd("Omitted", f"dependency {unmet[0]!r} did not succeed")
            else:
                child_id = child["id"]
                ends[container_name] = await run_pod_node(
                    "container", container_template(resolved, container), self.spec, volume_dirs, artifacts, raw,
                    child_id, node_dir / "containers" / container_name, self.logs / f"{child_id}.log",
                    self.directory / "artifacts", on_start=lambda pid: self.nodes.set_pgid(child_id, pid),
                    on_output=self._printed)
                self.nodes.set_pgid(child_id, None)
            end = ends[container_name]
            self.nodes.update(child["id"], phase=end.phase, message=end.message, outputs=end.outputs)
            finished[container_name].set()

        async with AsyncExitStack() as stack:
            if self.pod_slots is not None:
                await stack.enter_async_context(self.pod_slots)
            self.nodes.update(node_id, phase="Running")
            try:
                await asyncio.wait_for(asyncio.gather(*(run(container) for container in containers)),
                                       self._pod_timeout(resolved))
            except asyncio.TimeoutError:
                return self.nodes.update(node_id, phase="Failed",
                                         message="Pod was active on the node longer than the specified deadline")
        failed = next(((container_name, end) for container_name, end in ends.items()
                       if end.phase in FAILED_OR_ERROR), None)
        if failed is not None:
            container_name, end = failed
            return self.nodes.update(node_id, phase=end.phase, message=f"container {container_name}: {end.message}")
        return self.nodes.update(node_id, phase="Succeeded", outputs=(ends.get(MAIN) or PodEnd("Succeeded")).outputs)

    def _printed(self) -> None:
        self.printed = True

    @staticmethod
    def _pod_timeout(template: dict[str, Any]) -> float | None:
        limits = [duration_seconds(template[key]) for key in ("timeout", "activeDeadlineSeconds") if template.get(key)]
        return min(limits) if limits else None

    async def _suspend(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                       boundary: str | None) -> dict[str, Any]:
        node = self.nodes.create(name, display, "Suspend", template["name"], parent=parent, boundary=boundary)
        try:
            duration = (template["suspend"] or {}).get("duration")
            seconds = None if duration is None else max(0.0, duration_seconds(substitute(str(duration), scope,
                                                                                        strict=False)))
        except (TemplateError, ValueError) as error:
            return self.nodes.update(node["id"], phase="Error", message=str(error))
        await ResumeRequests(self.store).wait(self.name, seconds)  # a resume ends it, or its duration does
        parameters, missing = supplied_outputs(template)
        if missing:
            message = f"raw output parameter '{missing[0]}' has not been set and does not have a default value"
            return self.nodes.update(node["id"], phase="Error", message=message)
        outputs = {"parameters": parameters} if parameters else None
        return self.nodes.update(node["id"], phase="Succeeded", outputs=outputs)

    async def _http(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                    boundary: str | None) -> dict[str, Any]:
        """An HTTP template: the request is made from the runner (:mod:`.httpcall`), off the event loop."""
        node = self.nodes.create(name, display, "HTTP", template["name"], parent=parent, boundary=boundary)
        try:
            http = substitute(template["http"], scope, strict=False)
        except TemplateError as error:
            return self.nodes.update(node["id"], phase="Error", message=str(error))
        outcome = await asyncio.get_running_loop().run_in_executor(None, call_http, http)
        outputs = {"result": outcome.result} if outcome.result is not None else None
        return self.nodes.update(node["id"], phase=outcome.phase, message=outcome.message, outputs=outputs)

    async def _resource(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                        boundary: str | None) -> dict[str, Any]:
        """A resource template on an Argo Workflow (:mod:`.resources`): the local engine is its cluster."""
        import yaml

        node = self.nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary,
                                 phase="Running")
        try:
            resource = substitute(template["resource"], scope, strict=False)
            manifest = yaml.safe_load(resource["manifest"])
        except (TemplateError, yaml.YAMLError) as error:
            return self.nodes.update(node["id"], phase="Error", message=f"resource manifest: {error}")
        try:
            if self.submit is None:
                raise ResourceError("this execution cannot create workflows (no submit function)")
            workflow = await run_resource(self.store, resource, manifest, self.manifest["metadata"], self.submit)
            parameters = [{"name": parameter["name"],
                           "value": kubectl_jsonpath(workflow, parameter["valueFrom"]["jsonPath"])}
                          for parameter in (template.get("outputs") or {}).get("parameters") or []
                          if (parameter.get("valueFrom") or {}).get("jsonPath")]
        except ResourceError as error:  # in Argo the resource pod fails
            return self.nodes.update(node["id"], phase="Failed", message=str(error))
        outputs = {"parameters": parameters} if parameters else None
        return self.nodes.update(node["id"], phase="Succeeded", outputs=outputs)

    # --- steps --------------------------------------------------------------------------------------------------

    async def _steps(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                     boundary: str | None) -> dict[str, Any]:
        node = self.nodes.create(name, display, "Steps", template["name"], parent=parent, boundary=boundary)
        node_id = node["id"]
        local = dict(scope)
        limit = asyncio.Semaphore(int(template["parallelism"])) if template.get("parallelism") else None
        stop = _FailFast(template)
        outbound = [node_id]
        phase, message = "Succeeded", None
        for index, group in enumerate(template["steps"] or []):
            group_name = f"{name}[{index}]"
            group_node = self.nodes.create(group_name, f"[{index}]", "StepGroup", template["name"],
                                           parent=None, boundary=node_id)
            for upstream in outbound:
                self.nodes.link(upstream, group_node["id"])
            runs = [self._loop_or_single(step, local, f"{group_name}.{step['name']}", [group_node["id"]], node_id,
                                         limit, stop, task_group=False) for step in group or []]
            results = await asyncio.gather(*runs)
            outbound, group_failed = [], None
            if stop.stopped:
                self.nodes.update(group_node["id"], phase="Failed", message=stop.message)
                phase, message = "Failed", stop.message
                break
            for step, (step_node, children) in zip(group or [], results):
                local.update(node_scope(f"steps.{step['name']}", step_node))
                local.update(skipped_outputs_scope(f"steps.{step['name']}", step_node, self._template_of(step),
                                                   include_artifacts=True))
                if children is not None:
                    local.update(aggregate_scope(f"steps.{step['name']}", children))
                outbound += [child["id"] for child in children] if children else [step_node["id"]]
                if step_node["phase"] in FAILED_OR_ERROR and not _continues(step, step_node["phase"]):
                    group_failed = group_failed or step_node
            if group_failed:  # Argo (steps.go): the group and the steps are Failed, whether the child failed or errored
                phase, message = "Failed", f"child '{group_failed['id']}' failed"
                self.nodes.update(group_node["id"], phase=phase, message=message)
                break
            self.nodes.update(group_node["id"], phase="Succeeded")
        outputs, problem = self._template_outputs(template, local)
        if problem:
            phase, message = "Error", problem
        return self.nodes.update(node_id, phase=phase, message=message, outputs=outputs)

    async def _loop_or_single(self, holder: dict[str, Any], scope: Scope, name: str, parents: list[str],
                              boundary: str, limit: asyncio.Semaphore | None, stop: _FailFast, *, task_group: bool
                              ) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
        """A step or DAG task: one run, or one child per loop item, and the children when it looped.

        Argo puts a looped step's children straight into its step group, and a looped DAG task's
        children below a ``TaskGroup`` node (``task_group``).
        """
        try:
            items = expand_loop(holder, lambda value: substitute(value, scope, strict=False,
                                                                 strict_prefixes=NODE_REFERENCES))
        except TemplateError as error:
            for parent in parents:
                self.nodes.link(parent, self.nodes.node_id(name))
            return self.nodes.create(name, holder["name"], "Skipped", None, parent=None, boundary=boundary,
                                     phase="Error", message=str(error)), None
        if items is None:
            return await self._guarded(holder, scope, name, holder["name"], parents, boundary, limit, stop), None
        if task_group:
            group = self.nodes.create(name, holder["name"], "TaskGroup", None, parent=None, boundary=boundary)
            for parent in parents:
                self.nodes.link(parent, group["id"])
            parents = [group["id"]]
        children = [child for child in await asyncio.gather(*[
            self._guarded(holder, {**scope, **item_scope(item)}, loop_node_name(name, index, item),
                          loop_node_name(holder["name"], index, item), parents, boundary, limit, stop)
            for index, item in enumerate(items)
        ]) if child is not None]
        phase = next((child["phase"] for child in children if child["phase"] in FAILED_OR_ERROR), "Succeeded")
        if task_group:
            return self.nodes.update(group["id"], phase=phase), children
        return {"id": self.nodes.node_id(name), "phase": phase, "type": "StepGroup", "outputs": None}, children

    async def _guarded(self, holder: dict[str, Any], scope: Scope, name: str, display: str, parents: list[str],
                       boundary: str, limit: asyncio.Semaphore | None, stop: _FailFast) -> dict[str, Any] | None:
        """Evaluate ``when``, then invoke under the template's parallelism limit and run the step's onExit.

        The node becomes a child of each of ``parents``. Returns ``None`` (no node) when the
        template's ``failFast`` stopped it from starting.
        """
        def attach() -> None:
            for parent in parents:
                self.nodes.link(parent, self.nodes.node_id(name))

        condition = holder.get("when")
        if condition:
            try:
                run = evaluate_when(substitute(condition, scope, strict=False, strict_prefixes=NODE_REFERENCES))
            except TemplateError as error:
                attach()
                return self.nodes.create(name, display, "Skipped", None, parent=None, boundary=boundary,
                                         phase="Error", message=str(error))
            if not run:
                attach()
                return self.nodes.create(name, display, "Skipped", None, parent=None, boundary=boundary,
                                         phase="Skipped", message=f"when '{condition}' evaluated false")
        async with AsyncExitStack() as stack:
            if limit is not None:
                await stack.enter_async_context(limit)
            if stop.stopped:
                return None
            attach()
            node = await self.invoke(holder, scope, name, display, parent=None, boundary=boundary)
        stop.record(node)
        hook = (holder.get("hooks") or {}).get("exit") or ({"template": holder["onExit"]} if holder.get("onExit") else None)
        if hook:
            prefix = "tasks" if boundary in self._dag_ids else "steps"
            exit_scope = {**scope, **node_scope(f"{prefix}.{holder['name']}", node), "workflow.status": node["phase"]}
            await self.invoke(hook, exit_scope, f"{name}.onExit", f"{display}.onExit",
                              parent=node["id"], boundary=boundary)
        return node

    # --- DAG ----------------------------------------------------------------------------------------------------

    async def _dag(self, template: dict[str, Any], scope: Scope, name: str, display: str, parent: str | None,
                   boundary: str | None) -> dict[str, Any]:
        node = self.nodes.create(name, display, "DAG", template["name"], parent=parent, boundary=boundary)
        node_id = node["id"]
        self._dag_ids.add(node_id)
        dag = template["dag"]
        tasks = {task["name"]: task for task in dag.get("tasks") or []}
        expressions = {task_name: _depends_of(task, tasks) for task_name, task in tasks.items()}
        upstream = {task_name: set(expression.tasks) if expression else set()
                    for task_name, expression in expressions.items()}
        dependents: dict[str, list[str]] = {task_name: [] for task_name in tasks}
        for task_name, deps in upstream.items():
            for dep in deps:
                dependents[dep].append(task_name)
        try:
            target = substitute(str(dag.get("target") or ""), scope, strict=False)
        except TemplateError as error:
            return self.nodes.update(node_id, phase="Error", message=f"dag.target: {error}")
        targets = target.split() or [t for t in tasks if not dependents[t]]
        unknown = [t for t in targets if t not in tasks]
        if unknown:
            return self.nodes.update(node_id, phase="Error", message=f"dag.target: no task named {unknown[0]!r}")
        # Only the targets and what they depend on run (all tasks when there is no target).
        needed = _ancestors_and_self(targets, upstream)
        tasks = {name: task for name, task in tasks.items() if name in needed}
        limit = asyncio.Semaphore(int(template["parallelism"])) if template.get("parallelism") else None
        local = dict(scope)
        finished: dict[str, dict[str, Any]] = {}
        children_of: dict[str, list[dict[str, Any]] | None] = {}
        running: dict[asyncio.Future, str] = {}
        waiting = {task_name: len(upstream[task_name]) for task_name in tasks}
        ready = deque(task_name for task_name, count in waiting.items() if count == 0)
        stop = _FailFast(template)

        def finish(task_name: str, task_node: dict[str, Any]) -> None:
            finished[task_name] = task_node
            for dependent in dependents[task_name]:
                if dependent not in waiting:
                    continue
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    ready.append(dependent)

        while True:
            while ready and not stop.stopped:
                task_name = ready.popleft()
                expression = expressions[task_name]
                if expression is not None and not expression.evaluate(
                        {dep: _outcome(finished[dep], children_of.get(dep)) for dep in upstream[task_name]}):
                    omitted = self._dag_node(name, task_name, node_id, upstream[task_name], finished,
                                             phase="Omitted", node_type="Skipped",
                                             message="omitted: depends condition not met")
                    local.update(node_scope(f"tasks.{task_name}", omitted))
                    local.update(skipped_outputs_scope(f"tasks.{task_name}", omitted,
                                                       self._template_of(tasks[task_name]), include_artifacts=False))
                    finish(task_name, omitted)
                    continue
                future = asyncio.ensure_future(self._loop_or_single(
                    tasks[task_name], local, f"{name}.{task_name}", _dag_parents(node_id, upstream[task_name], finished),
                    node_id, limit, stop, task_group=True))
                running[future] = task_name
            if not running:  # nothing runs and nothing more can start
                break
            try:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # stopped: stop the tasks too (their pods are killed)
                for future in running:
                    future.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                raise
            for future in done:
                task_name = running.pop(future)
                task_node, children = future.result()
                if task_node is None:  # not started: the template fails fast
                    continue
                children_of[task_name] = children
                local.update(node_scope(f"tasks.{task_name}", task_node))
                local.update(skipped_outputs_scope(f"tasks.{task_name}", task_node,
                                                   self._template_of(tasks[task_name]), include_artifacts=False))
                if children is not None:
                    local.update(aggregate_scope(f"tasks.{task_name}", children))
                finish(task_name, task_node)
        phase = "Failed" if stop.stopped else _dag_phase(targets, tasks, upstream, finished)
        message = stop.message if stop.stopped else None
        outputs = None
        if phase == "Succeeded":
            outputs, problem = self._template_outputs(template, local)
            if problem:
                phase, message = "Error", problem
        elif message is None:
            failed = next((n for n in finished.values() if n["phase"] in FAILED_OR_ERROR), None)
            message = f"child '{failed['id']}' {failed['phase'].lower()}" if failed else None
        return self.nodes.update(node_id, phase=phase, message=message, outputs=outputs)

    def _dag_node(self, dag_name: str, task_name: str, dag_id: str, upstream: set[str],
                  finished: dict[str, dict[str, Any]], *, phase: str, node_type: str, message: str
                  ) -> dict[str, Any]:
        node = self.nodes.create(f"{dag_name}.{task_name}", task_name, node_type, None, parent=None,
                                 boundary=dag_id, phase=phase, message=message)
        for parent in _dag_parents(dag_id, upstream, finished):
            self.nodes.link(parent, node["id"])
        return node

    # --- outputs of steps and DAG templates ---------------------------------------------------------------------

    def _template_outputs(self, template: dict[str, Any], scope: Scope) -> tuple[dict[str, Any] | None, str | None]:
        declared = template.get("outputs") or {}
        parameters = []
        for parameter in declared.get("parameters") or []:
            value_from = parameter.get("valueFrom") or {}
            source = value_from.get("parameter") or value_from.get("expression")
            try:
                if "parameter" in value_from:
                    value = substitute(value_from["parameter"], scope)
                elif "expression" in value_from:
                    value = value_from_expression(value_from["expression"], scope)
                else:
                    value = substitute(str(parameter.get("value", "")), scope)
            except TemplateError as error:
                if "default" in value_from:
                    value = str(value_from["default"])
                else:
                    return None, f"output parameter {parameter['name']!r} ({source}): {error}"
            entry = {"name": parameter["name"], "value": value}
            if parameter.get("globalName"):
                entry["globalName"] = parameter["globalName"]
                self.global_outputs[parameter["globalName"]] = value
                self.globals[f"workflow.outputs.parameters.{parameter['globalName']}"] = value
            parameters.append(entry)
        artifacts = []
        for artifact in declared.get("artifacts") or []:
            try:
                if artifact.get("fromExpression"):
                    path = str(evaluate_expression(artifact["fromExpression"], expression_env(scope)))
                else:
                    path = substitute(artifact.get("from", ""), scope)
            except TemplateError as error:
                if artifact.get("optional"):  # Argo leaves an optional artifact out when its source is missing
                    continue
                return None, f"output artifact {artifact['name']!r}: {error}"
            artifacts.append({"name": artifact["name"], "path": path})
        outputs: dict[str, Any] = {}
        if parameters:
            outputs["parameters"] = parameters
        if artifacts:
            outputs["artifacts"] = artifacts
        return outputs or None, None


def with_defaults(template: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``template`` over ``spec.templateDefaults``, keeping its own type (Argo's ``SetType`` after the merge:
    a container default does not turn a steps template into a container)."""
    kind = template_type(template)
    merged = deep_merge(copy.deepcopy(defaults), template)
    for other in (*SUPPORTED_TYPES, *UNSUPPORTED_TYPES):
        if other != kind:
            merged.pop(other, None)
    return merged


def _node_type(template: dict[str, Any]) -> str:
    return {"steps": "Steps", "dag": "DAG", "suspend": "Suspend", "http": "HTTP"}.get(template_type(template), "Pod")


def _ancestors_and_self(names: list[str], upstream: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(upstream.get(name, ()))
    return seen


class _FailFast:
    """A steps or DAG template's own ``failFast``: once a child failed, no further child starts."""

    message = "template has failed or errored children and failFast enabled"

    def __init__(self, template: dict[str, Any]) -> None:
        self.enabled = bool(template.get("failFast"))
        self.stopped = False

    def record(self, node: dict[str, Any]) -> None:
        """Note a finished child."""
        if self.enabled and node["phase"] in FAILED_OR_ERROR:
            self.stopped = True


def _dag_parents(dag_id: str, upstream: set[str], finished: dict[str, dict[str, Any]]) -> list[str]:
    """Argo links a DAG task below the DAG node (no dependencies) or below each of its dependencies."""
    return [finished[dep]["id"] for dep in sorted(upstream)] or [dag_id]


def _continues(holder: dict[str, Any], phase: str) -> bool:
    """Whether a step's or task's ``continueOn`` lets the flow go on after ``phase``."""
    continue_on = holder.get("continueOn") or {}
    return bool(continue_on.get("failed") if phase == "Failed" else continue_on.get("error"))


def _depends_of(task: dict[str, Any], tasks: dict[str, dict[str, Any]]):
    """The task's ``depends`` expression; ``dependencies: [a]`` means ``a`` succeeded, skipped or daemoned,
    widened by the dependency's own ``continueOn`` (Argo's ``expandDependency``)."""
    if task.get("depends"):
        return parse_depends(task["depends"])
    dependencies = task.get("dependencies") or []
    if not dependencies:
        return None
    terms = []
    for dependency in dependencies:
        results = ["Succeeded", "Skipped", "Daemoned"]
        continue_on = tasks.get(dependency, {}).get("continueOn") or {}
        if continue_on.get("failed"):
            results.append("Failed")
        if continue_on.get("error"):
            results.append("Errored")
        terms.append("(" + " || ".join(f"{dependency}.{result}" for result in results) + ")")
    return parse_depends(" && ".join(terms))


def _outcome(node: dict[str, Any], children: list[dict[str, Any]] | None) -> TaskOutcome:
    return TaskOutcome(node["phase"], children=tuple(child["phase"] for child in children) if children else None)


def _dag_phase(targets: list[str], tasks: dict[str, dict[str, Any]], upstream: dict[str, set[str]],
               finished: dict[str, dict[str, Any]]) -> str:
    """Argo's ``assessDAGPhase``: each target's branch phase decides; an omitted task inherits its parents'."""
    branch: dict[str, str] = {}

    def branch_phase(task_name: str) -> str:
        if task_name in branch:
            return branch[task_name]
        node = finished.get(task_name)
        if node is not None and node["phase"] in COMPLETED:
            phase = node["phase"]
        else:
            parents = [branch_phase(dep) for dep in upstream[task_name]] or ["Succeeded"]
            phase = next((p for p in parents if p in FAILED_OR_ERROR), "Succeeded")
            if node is None:
                phase = phase if phase in FAILED_OR_ERROR else ""
        branch[task_name] = phase
        return phase

    for target in targets:
        phase = branch_phase(target)
        if phase in FAILED_OR_ERROR and not _continues(tasks[target], phase):
            return phase
    return "Succeeded"
