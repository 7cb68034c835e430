"""The Argo Server REST paths of the fake cluster (``/api/v1/workflows``, logs, ``/api/v1/workflow-events``).

Answers follow Argo Server 3.7 and 4.x behind its gRPC gateway: errors as ``{"code": <gRPC code>,
"message": ...}`` with the gateway's HTTP status; streams as newline-delimited ``{"result": ...}``
objects, an error inside a stream as ``{"error": {"grpc_code", "http_code", "message", "http_status"}}``.
"""

from __future__ import annotations

import http
import time
from collections.abc import Iterator
from typing import Any

from .api import WORKFLOWS, ApiError, bad_request
from .server import Flavour, JsonAnswer, Request, Router, StreamAnswer
from .selection import parse_selectors, selected_name
from .service import MERGE_PATCH, ClusterService
from ..vocabulary import COMPLETED_PHASES

NAMESPACE = r"(?P<namespace>[a-z0-9][-a-z0-9]*)"
NAME = r"(?P<name>[^/]+)"
#: What ``/api/v1/version`` answers: the Argo release the argo-workflows SDK 6.7 was generated for.
VERSION = {"version": "v3.7.9", "buildDate": "2026-01-01T00:00:00Z", "gitCommit": "0" * 40, "gitTag": "v3.7.9",
           "gitTreeState": "clean", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"}
#: Argo Server's answer to a missing or wrong bearer token.
UNAUTHENTICATED = "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"
# Argo's ToStatusError (HTTP status of a Kubernetes error → gRPC code), then the gateway's gRPC code → HTTP status.
_GRPC_OF_HTTP = {408: 1, 504: 4, 404: 5, 409: 6, 403: 7, 401: 16, 429: 8, 400: 3, 501: 12, 500: 13, 503: 14}
_HTTP_OF_GRPC = {1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400,
                 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}


def grpc_code(status: int) -> int:
    """The gRPC code Argo Server gives an error of HTTP ``status`` from the layers below it."""
    return _GRPC_OF_HTTP.get(status, 13 if status >= 500 else 3)


class ArgoFlavour(Flavour):
    """Errors as Argo Server's gRPC gateway writes them."""

    def _parts(self, error: ApiError) -> tuple[int, int, str]:
        code = grpc_code(error.code)
        return code, _HTTP_OF_GRPC[code], UNAUTHENTICATED if error.code == 401 else error.message

    def error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """``{"code": <gRPC code>, "message": ...}`` with the gateway's HTTP status."""
        code, status, message = self._parts(error)
        return status, {"code": code, "message": message}

    def stream_error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """The gateway's stream error chunk (its HTTP status applies when nothing was sent yet)."""
        code, status, message = self._parts(error)
        return status, {"error": {"grpc_code": code, "http_code": status, "message": message,
                                  "http_status": http.HTTPStatus(status).phrase}}


class FieldCleaner:
    """Argo Server's ``fields`` parameter: ``a.b,c`` keeps only those paths, ``-a.b,c`` removes them."""

    def __init__(self, spec: str | None, prefix: str = "") -> None:
        spec = spec or ""
        self.exclude = spec.startswith("-")
        self.fields = {field[len(prefix):] if prefix and field.startswith(prefix) else field
                       for field in spec.lstrip("-").split(",") if field}

    def clean(self, value: Any) -> Any:
        """``value`` (a JSON-like object) with the fields kept or removed; unchanged without fields."""
        return self._clean([], value) if self.fields else value

    def _clean(self, path: list[str], value: Any) -> Any:
        if isinstance(value, list):
            return [self._clean(path, item) for item in value]
        if not isinstance(value, dict):
            return value
        result = {}
        for key, item in value.items():
            dotted = ".".join([*path, key])
            named = dotted in self.fields
            inside = named or any(field.startswith(dotted + ".") for field in self.fields)
            if self.exclude and not named:
                result[key] = self._clean([*path, key], item)
            elif not self.exclude and inside:
                result[key] = item if named else self._clean([*path, key], item)
        return result


def _sort_key(workflow: dict[str, Any]) -> tuple[int, str]:
    """Argo's order of a page: unfinished first, newest first; then the most recently finished first."""
    finished = (workflow.get("status") or {}).get("finishedAt")
    return (1, finished) if finished else (0, workflow["metadata"].get("creationTimestamp", ""))


def _positive_int(request: Request, name: str, message: str) -> int:
    value = request.query.get(name) or "0"
    try:
        number = int(value)
    except ValueError:
        raise bad_request(message) from None
    if number < 0:
        raise bad_request(message)
    return number


class ArgoApi:
    """Argo Server routes over a :class:`ClusterService`."""

    def __init__(self, service: ClusterService) -> None:
        self.service = service

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        flavour = ArgoFlavour()
        base = "/api/v1/workflows/" + NAMESPACE
        router.add("GET", "/api/v1/version", lambda request: JsonAnswer(200, VERSION), flavour)
        router.add("POST", base, self.create, flavour)
        router.add("GET", base, self.list, flavour)
        router.add("GET", base + "/" + NAME, self.get, flavour)
        router.add("DELETE", base + "/" + NAME, self.delete, flavour)
        router.add("PUT", base + "/" + NAME + "/stop", lambda request, **path: self.shutdown(request, "Stop", **path),
                   flavour)
        router.add("PUT", base + "/" + NAME + "/terminate",
                   lambda request, **path: self.shutdown(request, "Terminate", **path), flavour)
        router.add("GET", base + "/" + NAME + "/log", self.logs, flavour)
        router.add("GET", base + "/" + NAME + r"/(?P<pod>[^/]+)/log", self.logs, flavour)
        router.add("GET", "/api/v1/workflow-events/" + NAMESPACE, self.events, flavour)

    def create(self, request: Request, namespace: str) -> JsonAnswer:
        """POST ``{"workflow": {...}}``: the created workflow."""
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("workflow"), dict):
            raise bad_request("workflow body not specified")
        workflow = dict(body["workflow"])
        workflow["metadata"] = {**(workflow.get("metadata") or {}), "namespace": namespace}
        return JsonAnswer(200, self.service.create_workflow(namespace, workflow))

    def list(self, request: Request, namespace: str) -> JsonAnswer:
        """GET: a page (``listOptions.limit``, ``listOptions.continue`` = offset) newest first."""
        query = request.query
        selector = parse_selectors("workflows", query.get("listOptions.labelSelector"),
                                   query.get("listOptions.fieldSelector"))
        offset = _positive_int(request, "listOptions.continue", "listOptions.continue must be int")
        limit = _positive_int(request, "listOptions.limit", "listOptions.limit must be int")
        items, version, _ = self.service.store.list(WORKFLOWS, namespace, selector)
        items.sort(key=lambda item: item["metadata"].get("creationTimestamp", ""), reverse=True)
        page = items[offset:offset + limit] if limit else items[offset:]
        page.sort(key=lambda item: _sort_key(item)[1], reverse=True)
        page.sort(key=lambda item: _sort_key(item)[0])
        metadata = {"resourceVersion": version}
        if limit and offset + len(page) < len(items):
            metadata["continue"] = str(offset + len(page))
        return JsonAnswer(200, FieldCleaner(query.get("fields")).clean(
            {"metadata": metadata, "items": page or None}))

    def get(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """GET one workflow (``fields`` applies)."""
        workflow = self.service.store.get(WORKFLOWS, namespace, name)
        return JsonAnswer(200, FieldCleaner(request.query.get("fields")).clean(workflow))

    def delete(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """DELETE: ``{}``."""
        self.service.delete_workflow(namespace, name)
        return JsonAnswer(200, {})

    def shutdown(self, request: Request, strategy: str, namespace: str, name: str) -> JsonAnswer:
        """PUT ``stop``/``terminate``: ``spec.shutdown`` set; a finished workflow is refused as Argo does."""
        workflow = self.service.store.get(WORKFLOWS, namespace, name)
        if (workflow.get("status") or {}).get("phase") in COMPLETED_PHASES:
            raise ApiError(500, "InternalError", f'cannot shutdown a completed workflow: workflow: "{name}", '
                                                 f'namespace: "{namespace}"')
        self.service.patch_workflow(namespace, name, MERGE_PATCH, {"spec": {"shutdown": strategy}})
        return JsonAnswer(200, self.service.store.get(WORKFLOWS, namespace, name))

    def logs(self, request: Request, namespace: str, name: str, pod: str | None = None) -> StreamAnswer:
        """GET the log lines of the workflow's pods (``podName``, ``logOptions.container``,
        ``logOptions.follow``): one ``{"result": {"content", "podName"}}`` per line."""
        self.service.store.get(WORKFLOWS, namespace, name)
        pod = pod or request.query.get("podName") or None
        container = request.query.get("logOptions.container") or "main"
        follow = request.flag("logOptions.follow")
        changes = self.service.store.watch(WORKFLOWS, namespace, parse_selectors(
            "workflows", None, f"metadata.name={name}"), None) if follow else iter(())
        return StreamAnswer(self._log_lines(namespace, name, pod, container, changes), watch=False,
                            eager_headers=False)

    def _log_lines(self, namespace: str, name: str, pod_name: str | None, container: str,
                   changes: Iterator[Any]) -> Iterator[dict[str, Any]]:
        """Each pod's new lines, again after each change of the workflow (``changes``), until it is finished."""
        sent: dict[str, int] = {}
        while True:
            for pod in self.service.workflow_pods(namespace, name):
                pod_id = pod["metadata"]["name"]
                if pod_name and pod_id != pod_name or pod["status"].get("phase") == "Pending":
                    continue
                lines = self.service.pod_log(namespace, pod_id, container).splitlines()
                for line in lines[sent.get(pod_id, 0):]:
                    # proto3 fields are omitempty: an empty line has no "content"
                    yield {"result": {"content": line, "podName": pod_id} if line else {"podName": pod_id}}
                sent[pod_id] = len(lines)
            workflow = self.service.store.find(WORKFLOWS, namespace, name)
            if workflow is None or (workflow.get("status") or {}).get("phase") in COMPLETED_PHASES:
                return
            if next(changes, None) is None:
                return

    def events(self, request: Request, namespace: str) -> StreamAnswer:
        """GET the workflow event stream: ``{"result": {"type", "object"}}`` per change."""
        query = request.query
        selector = parse_selectors("workflows", query.get("listOptions.labelSelector"),
                                   query.get("listOptions.fieldSelector"))
        name = selected_name(query.get("listOptions.fieldSelector"))
        if name:
            self.service.store.get(WORKFLOWS, namespace, name)
        version = query.get("listOptions.resourceVersion") or "0"
        try:
            since = None if version == "0" else int(version)
        except ValueError:
            raise bad_request(f"listOptions.resourceVersion={version!r}: not a valid resource version") from None
        timeout = _positive_int(request, "listOptions.timeoutSeconds", "listOptions.timeoutSeconds must be int")
        deadline = time.monotonic() + timeout if timeout else None
        cleaner = FieldCleaner(query.get("fields"), "result.object.")
        events = self.service.watch_workflows(namespace, selector, since, deadline)
        return StreamAnswer(self._events(events, cleaner), eager_headers=False)

    def _events(self, events: Iterator[tuple[str, dict[str, Any]]], cleaner: FieldCleaner) -> Iterator[dict[str, Any]]:
        for event_type, workflow in events:
            yield {"result": {"type": event_type, "object": cleaner.clean(workflow)}}
        # The Kubernetes watch under it ended (listOptions.timeoutSeconds): Argo Server reports io.EOF as
        # ResourceExhausted.
        raise ApiError(429, "TooManyRequests", "EOF")
