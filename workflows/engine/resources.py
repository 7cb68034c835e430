"""Resource templates whose resource is an Argo Workflow: the local engine is the cluster for those.

Argo's executor runs ``kubectl ACTION`` on the template's manifest, then
waits until the resource matches ``successCondition`` or
``failureCondition`` (label-selector syntax over the object's JSON fields,
``status.phase == Succeeded``, ``status.phase in (Failed, Error)``), then
reads output parameters with ``kubectl get -o jsonpath=...``
(``workflow/executor/resource.go``). Locally the resource can only be a
Workflow, and the actions ``create``, ``apply`` (create unless it exists) and
``get``; anything else is refused at submission (:func:`resource_problem`).
``setOwnerReference`` records the parent in the child's
``metadata.ownerReferences``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Callable

from ..errors import BadOperationConfiguration, ResourceError
from ..vocabulary import COMPLETED_PHASES
from .records import FrozenRecord
from .store import Store
from .watchdog import bury, runner_alive

if TYPE_CHECKING:
    from .execution import WorkflowExecution
    from .scope import Scope

#: What a resource template may do locally.
LOCAL_ACTIONS = ("create", "apply", "get")
#: Seconds between two looks at the resource while waiting for a condition.
CHECK_INTERVAL = 0.5
_TOP_LEVEL = re.compile(r"^(apiVersion|kind):\s*['\"]?([^'\"\s#]+)", re.MULTILINE)
_REQUIREMENT = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_.\-/\[\]]+)\s*(?:(==|=|!=|\snotin\s|\sin\s)\s*(.*?))?\s*$")


def manifest_kind(manifest: str) -> tuple[str | None, str | None]:
    """``(apiVersion, kind)`` read from the top-level lines of a manifest that may still hold ``{{tags}}``."""
    found = dict(_TOP_LEVEL.findall(manifest or ""))
    return found.get("apiVersion"), found.get("kind")


def resource_problem(where: str, resource: dict[str, Any]) -> str | None:
    """Why the local engine cannot run this resource template, or ``None``."""
    action = resource.get("action")
    api_version, kind = manifest_kind(resource.get("manifest") or "")
    if action not in LOCAL_ACTIONS:
        return f"{where}: resource action {action!r} is not supported locally (only {', '.join(LOCAL_ACTIONS)})"
    if resource.get("manifestFrom") or not (api_version or "").startswith("argoproj.io/") or kind != "Workflow":
        return f"{where}: resource templates run locally only on Argo Workflows (this one is a {kind or 'manifest'})"
    if resource.get("flags") or resource.get("mergeStrategy"):
        return f"{where}: resource flags and mergeStrategy (kubectl options) are not supported locally"
    for condition in ("successCondition", "failureCondition"):
        if resource.get(condition):
            try:
                parse_selector(resource[condition])
            except BadOperationConfiguration as error:
                return f"{where}: resource.{condition}: {error}"
    return None


class Requirement(FrozenRecord):
    """One requirement of a label selector over JSON fields (``key op values``; ``op`` ``exists``/``!``)."""

    key: str
    operator: str
    values: tuple[str, ...]

    def __init__(self, key: str, operator: str, values: tuple[str, ...]) -> None:
        self.key = key
        self.operator = operator
        self.values = values

    def matches(self, document: Any) -> bool:
        """Whether ``document`` (a JSON object) meets it, Kubernetes' way (a missing field is not equal)."""
        value = field_text(document, self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        if self.operator in ("=", "==", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values  # != and notin

    def __str__(self) -> str:
        """As Kubernetes' ``Requirement.String``: ``key==value``, ``key in (a,b)`` (values sorted), ``!key``."""
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(sorted(self.values))})"
        return f"{self.key}{self.operator}{self.values[0]}"


def _split_outside_parentheses(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_selector(text: str) -> list[Requirement]:
    """Kubernetes' label selector syntax (``labels.Parse``), as Argo reads resource conditions."""
    requirements = []
    for part in _split_outside_parentheses(text):
        match = _REQUIREMENT.match(part)
        if match is None or (match.group(1) and match.group(3)):
            raise BadOperationConfiguration(f"cannot parse the condition {part.strip()!r} (in {text!r})")
        negated, key, operator, values = match.groups()
        if operator is None:
            requirements.append(Requirement(key, "!" if negated else "exists", ()))
            continue
        operator = operator.strip()
        if operator in ("in", "notin"):
            if not (values.startswith("(") and values.endswith(")")):
                raise BadOperationConfiguration(f"{part.strip()!r}: the values of {operator} go in parentheses")
            items = tuple(item.strip() for item in values[1:-1].split(","))
        else:
            items = (values.strip(),)
        requirements.append(Requirement(key, operator, items))
    return requirements


def field_text(document: Any, path: str) -> str | None:
    """The field at the dotted ``path`` (gjson's syntax: ``status.phase``, ``items.0.name``) as text, or ``None``."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def kubectl_jsonpath(document: Any, template: str) -> str:
    """``kubectl get -o jsonpath=TEMPLATE`` of simple templates: ``{.metadata.name}``, ``{.items[0].x}``, text."""

    def one(match: re.Match) -> str:
        value = document
        for name, index in re.findall(r"\.([\w-]+)|\[(\d+)\]", match.group(1)):
            if name and isinstance(value, dict) and name in value:
                value = value[name]
            elif index and isinstance(value, list) and int(index) < len(value):
                value = value[int(index)]
            else:
                raise ResourceError(f"jsonpath {template!r}: {match.group(1)} is not found")
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

    return re.sub(r"\{\s*([^{}]*?)\s*\}", one, template)


async def _wait(store: Store, name: str, resource: dict[str, Any]) -> dict[str, Any]:
    """The workflow once it meets ``successCondition``; raise :class:`ResourceError` when it meets
    ``failureCondition`` (or ends without meeting the success one)."""
    import asyncio  # noqa: PLC0415 - the runner's: submissions import this module (.support) without it

    success = parse_selector(resource["successCondition"]) if resource.get("successCondition") else []
    failure = parse_selector(resource["failureCondition"]) if resource.get("failureCondition") else []
    while True:
        workflow = store.read(name)
        if workflow is None:
            raise ResourceError(f"workflow {name!r} was deleted while its status was still being checked")
        for requirement in failure:
            if requirement.matches(workflow):
                raise ResourceError(f"failure condition '{requirement}' evaluated true")
        if all(requirement.matches(workflow) for requirement in success):
            return workflow
        if workflow["status"].get("phase") in COMPLETED_PHASES:
            raise ResourceError(f"workflow {name!r} ended {workflow['status']['phase']} without meeting "
                                f"the success condition {resource.get('successCondition')!r}")
        if not runner_alive(store, name):
            bury(store, name)
        await asyncio.sleep(CHECK_INTERVAL)


async def run_resource(store: Store, resource: dict[str, Any], manifest: dict[str, Any], owner: dict[str, Any],
                       submit: Callable[[Store, dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Carry out a resolved resource template on the Workflow ``manifest`` (parsed); return the workflow as it
    stands once the conditions hold. ``owner`` is the calling workflow's metadata (``setOwnerReference``);
    ``submit`` creates a workflow (:func:`workflows.engine.submission.submit`)."""
    metadata = manifest.setdefault("metadata", {})
    name = metadata.get("name")
    action = resource.get("action")
    if action == "get" or (action == "apply" and name and store.read(name) is not None):
        if not name:
            raise ResourceError("resource get: the manifest has no metadata.name")
        if store.read(name) is None:
            raise ResourceError(f'workflows.argoproj.io "{name}" not found')
    else:
        if resource.get("setOwnerReference"):
            metadata.setdefault("ownerReferences", []).append(
                {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": owner["name"],
                 "uid": owner.get("uid", ""), "blockOwnerDeletion": True})
        try:
            name = submit(store, manifest)["metadata"]["name"]
        except BadOperationConfiguration as error:
            raise ResourceError(f"resource {action}: {error}") from error
    if resource.get("successCondition") or resource.get("failureCondition"):
        return await _wait(store, name, resource)
    return store.read(name)


async def run_resource_node(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str,
                            display: str, parent: str | None, boundary: str | None) -> dict[str, Any]:
    """A resource template's node (:func:`run_resource`): ``Failed`` when the resource cannot be carried out,
    as Argo's resource pod fails; its output parameters are ``jsonPath`` reads of the workflow."""
    import yaml

    # Deferred: submission's checks (:mod:`.support`) import this module and need no template language.
    from .lang.templating import TemplateError, substitute

    nodes = execution.nodes
    node = nodes.create(name, display, "Pod", template["name"], parent=parent, boundary=boundary, phase="Running")
    try:
        resource = substitute(template["resource"], scope, strict=False)
        manifest = yaml.safe_load(resource["manifest"])
    except (TemplateError, yaml.YAMLError) as error:
        return nodes.update(node["id"], phase="Error", message=f"resource manifest: {error}")
    try:
        if execution.submit is None:
            raise ResourceError("this execution cannot create workflows (no submit function)")
        workflow = await run_resource(execution.store, resource, manifest, execution.manifest["metadata"],
                                      execution.submit)
        parameters = [{"name": parameter["name"],
                       "value": kubectl_jsonpath(workflow, parameter["valueFrom"]["jsonPath"])}
                      for parameter in (template.get("outputs") or {}).get("parameters") or []
                      if (parameter.get("valueFrom") or {}).get("jsonPath")]
    except ResourceError as error:  # in Argo the resource pod fails
        return nodes.update(node["id"], phase="Failed", message=str(error))
    outputs = {"parameters": parameters} if parameters else None
    return nodes.update(node["id"], phase="Succeeded", outputs=outputs)
