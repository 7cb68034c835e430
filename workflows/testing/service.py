"""What both fake APIs do to workflows and pods: the API server's registry rules plus the controller's hooks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Protocol

from ..naming import DNS1123_SUBDOMAIN
from .api import PODS, WORKFLOWS, ApiError, bad_request
from .resources import ResourceStore
from .selection import Selector

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
#: What ``metadata`` keeps from the stored object whatever a patch says.
_IMMUTABLE_METADATA = ("name", "namespace", "uid", "creationTimestamp", "generateName")
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
PHASE_LABEL = "workflows.argoproj.io/phase"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
NODE_NAME_ANNOTATION = "workflows.argoproj.io/node-name"


class Controller(Protocol):
    """What the fake cluster's workflow controller is told."""

    def created(self, namespace: str, name: str) -> None:
        """A workflow was created."""

    def shutdown(self, namespace: str, name: str, strategy: str) -> None:
        """``spec.shutdown`` of a workflow was set to ``strategy`` (``Stop`` or ``Terminate``)."""

    def deleted(self, namespace: str, name: str) -> None:
        """A workflow was deleted."""

    def pod_log(self, namespace: str, pod: dict[str, Any]) -> str:
        """What the ``main`` container of ``pod`` printed so far."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch of ``target`` by ``patch`` (``target`` is not changed)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path and not path.startswith("/"):
        raise ApiError(422, "Invalid", f"JSON pointer {path!r} does not start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def json_patch(target: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 JSON patch (``add``, ``remove``, ``replace``, ``test``) of a copy of ``target``."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"invalid JSON patch operation: {operation!r}")
        *parents, last = _pointer(operation["path"]) or [""]
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
            if node is None:
                raise ApiError(422, "Invalid", f"the JSON patch path {operation['path']!r} does not exist")
        op = operation["op"]
        if op == "test":
            current = node[int(last)] if isinstance(node, list) else node.get(last)
            if current != operation.get("value"):
                raise ApiError(422, "Invalid", f"the JSON patch test of {operation['path']!r} failed")
        elif op in ("add", "replace") and isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            node[index:index + (op == "replace")] = [operation.get("value")]
        elif op in ("add", "replace") and isinstance(node, dict):
            if op == "replace" and last not in node:
                raise ApiError(422, "Invalid", f"the JSON patch path {operation['path']!r} does not exist")
            node[last] = operation.get("value")
        elif op == "remove" and isinstance(node, (list, dict)):
            try:
                del node[int(last) if isinstance(node, list) else last]
            except (KeyError, IndexError):
                raise ApiError(422, "Invalid", f"the JSON patch path {operation['path']!r} does not exist") from None
        else:
            raise bad_request(f"unsupported JSON patch operation {op!r} on {operation['path']!r}")
    return document


class ClusterService:
    """Workflows and pods of the fake cluster, with the checks the API server makes and the controller told."""

    def __init__(self, store: ResourceStore, controller: Controller) -> None:
        self.store = store
        self.controller = controller

    # --- workflows -------------------------------------------------------------------------------------------------

    def create_workflow(self, namespace: str, body: Any) -> dict[str, Any]:
        """Create a workflow from a request body, as the API server does (``generateName`` honoured)."""
        if not isinstance(body, dict):
            raise bad_request("the request body must be a Workflow object")
        if body.get("kind", "Workflow") != "Workflow" or body.get("apiVersion", WORKFLOWS.api_version) \
                != WORKFLOWS.api_version:
            raise bad_request(f"the API version in the data ({body.get('apiVersion')}) and the kind "
                              f"({body.get('kind')}) do not match argoproj.io/v1alpha1 Workflow")
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            raise WORKFLOWS.invalid("", "metadata.name", "Required value: name or generateName is required")
        if metadata.get("namespace") not in (None, "", namespace):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        name = metadata.get("name") or ""
        for field, value, limit in (("metadata.name", name, 253), ("metadata.generateName",
                                                                     metadata.get("generateName") or "", 248)):
            if value and (not isinstance(value, str) or len(value) > limit
                          or not DNS1123_SUBDOMAIN.match(value.rstrip("-") if field.endswith("Name") else value)):
                raise WORKFLOWS.invalid(name, field, f"Invalid value: {value!r}: a lowercase RFC 1123 subdomain "
                                                     "must consist of lower case alphanumeric characters, '-' or '.'")
        created = self.store.create(WORKFLOWS, namespace, body)
        self.controller.created(namespace, created["metadata"]["name"])
        return created

    def patch_workflow(self, namespace: str, name: str, content_type: str, patch: Any) -> dict[str, Any]:
        """Apply a merge patch or a JSON patch; tell the controller when ``spec.shutdown`` is set."""
        media = content_type.split(";")[0].strip()
        if media not in (MERGE_PATCH, JSON_PATCH):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media types include: "
                           f"{JSON_PATCH}, {MERGE_PATCH}")
        before: dict[str, Any] = {}

        def change(obj: dict[str, Any]) -> None:
            before.update(copy.deepcopy(obj))
            wanted = (patch.get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
            if wanted and wanted != obj["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {WORKFLOWS.qualified} "{name}": '
                               "the object has been modified; please apply your changes to the latest version "
                               "and try again")
            if media == MERGE_PATCH and not isinstance(patch, dict):
                raise bad_request("a merge patch must be a JSON object")
            patched = merge_patch(obj, patch) if media == MERGE_PATCH else json_patch(obj, patch)
            for key in _IMMUTABLE_METADATA:
                if key in obj["metadata"]:
                    patched.setdefault("metadata", {})[key] = obj["metadata"][key]
            obj.clear()
            obj.update(patched)

        updated = self.store.update(WORKFLOWS, namespace, name, change)
        shutdown = (updated.get("spec") or {}).get("shutdown")
        if shutdown and shutdown != (before.get("spec") or {}).get("shutdown"):
            self.controller.shutdown(namespace, name, shutdown)
        return updated

    def delete_workflow(self, namespace: str, name: str) -> dict[str, Any]:
        """Delete a workflow and its pods (as the garbage collector does); return it as deleted."""
        deleted = self.store.delete(WORKFLOWS, namespace, name)
        self.controller.deleted(namespace, name)
        for pod in self.workflow_pods(namespace, name):
            self.store.delete(PODS, namespace, pod["metadata"]["name"])
        return deleted

    def watch_workflows(self, namespace: str | None, selector: Selector, since: int | None,
                        deadline: float | None) -> Iterator[tuple[str, dict[str, Any]]]:
        """The API server's watch of workflows (see :meth:`ResourceStore.watch`)."""
        return self.store.watch(WORKFLOWS, namespace, selector, since, deadline)

    # --- pods ------------------------------------------------------------------------------------------------------

    def workflow_pods(self, namespace: str, workflow: str) -> list[dict[str, Any]]:
        """The pods of a workflow (label ``workflows.argoproj.io/workflow``), in the order of its nodes."""
        pods = [pod for pod in self.store.list(PODS, namespace, Selector())[0]
                if pod["metadata"].get("labels", {}).get(WORKFLOW_LABEL) == workflow]
        found = self.store.find(WORKFLOWS, namespace, workflow)
        order = {node_id: index for index, node_id in enumerate(((found or {}).get("status") or {}).get("nodes") or {})}
        return sorted(pods, key=lambda pod: order.get(pod["metadata"]["annotations"].get(NODE_ID_ANNOTATION), -1))

    def pod_log(self, namespace: str, name: str, container: str | None) -> str:
        """The log of a pod's container, with the API server's errors for a bad or missing container name."""
        pod = self.store.get(PODS, namespace, name)
        containers = [item["name"] for item in pod["spec"]["containers"]]
        if container is None:
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: "
                              f"[{' '.join(containers)}]")
        if container not in containers:
            raise bad_request(f"container {container} is not valid for pod {name}")
        if container != "main":
            return ""
        if pod.get("status", {}).get("phase") == "Pending":
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
        return self.controller.pod_log(namespace, pod)
