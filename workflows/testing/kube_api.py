"""The Kubernetes API paths of the fake cluster: Argo ``workflows`` (custom objects), ``pods`` and their logs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from .api import PODS, WORKFLOWS, ApiError, Kind, bad_request
from .server import Flavour, JsonAnswer, Request, Router, StreamAnswer
from .selection import parse_selectors
from .service import ClusterService

WORKFLOWS_PATH = r"/apis/argoproj\.io/v1alpha1"
PODS_PATH = r"/api/v1"
NAMESPACED = r"/namespaces/(?P<namespace>[a-z0-9][-a-z0-9]*)"
NAME = r"(?P<name>[^/]+)"
#: What ``/version`` answers: a recent Kubernetes release.
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64",
           "goVersion": "go1.23.4", "compiler": "gc", "gitTreeState": "clean"}


class KubeFlavour(Flavour):
    """Errors as the API server writes them: ``Status`` objects; in a watch, an ``ERROR`` event."""

    def error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """The ``Status`` body with the error's code."""
        return error.code, error.status()

    def stream_error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """An ``ERROR`` watch event carrying the ``Status`` (the stream itself answered 200)."""
        return 200, {"type": "ERROR", "object": error.status()}


def _int(request: Request, name: str) -> int:
    value = request.query.get(name) or "0"
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name}={value!r}: not an integer") from None
    if number < 0:
        raise bad_request(f"{name}={value!r}: must not be negative")
    return number


class KubeApi:
    """Kubernetes API routes over a :class:`ClusterService`."""

    def __init__(self, service: ClusterService) -> None:
        self.service = service

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        flavour = KubeFlavour()
        collection = WORKFLOWS_PATH + NAMESPACED + "/workflows"
        router.add("GET", "/version", lambda request: JsonAnswer(200, VERSION), flavour)
        router.add("GET", collection, self.list_or_watch_workflows, flavour)
        router.add("GET", WORKFLOWS_PATH + "/workflows", self.list_or_watch_workflows, flavour)
        router.add("POST", collection, self.create_workflow, flavour)
        router.add("GET", collection + "/" + NAME, self.get_workflow, flavour)
        router.add("DELETE", collection + "/" + NAME, self.delete_workflow, flavour)
        router.add("PATCH", collection + "/" + NAME, self.patch_workflow, flavour)
        router.add("GET", PODS_PATH + NAMESPACED + "/pods", self.list_pods, flavour)
        router.add("GET", PODS_PATH + NAMESPACED + "/pods/" + NAME, self.get_pod, flavour)
        router.add("GET", PODS_PATH + NAMESPACED + "/pods/" + NAME + "/log", self.pod_log, flavour)

    # --- workflows -------------------------------------------------------------------------------------------------

    def create_workflow(self, request: Request, namespace: str) -> JsonAnswer:
        """POST: 201 with the stored workflow."""
        return JsonAnswer(201, self.service.create_workflow(namespace, request.json()))

    def get_workflow(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """GET one workflow."""
        return JsonAnswer(200, self.service.store.get(WORKFLOWS, namespace, name))

    def delete_workflow(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """DELETE: the workflow as it was deleted."""
        return JsonAnswer(200, self.service.delete_workflow(namespace, name))

    def patch_workflow(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """PATCH with a merge patch or a JSON patch."""
        return JsonAnswer(200, self.service.patch_workflow(
            namespace, name, request.headers.get("content-type", ""), request.json()))

    def list_or_watch_workflows(self, request: Request, namespace: str | None = None) -> JsonAnswer | StreamAnswer:
        """GET the collection: a list, or with ``watch=true`` a stream of events."""
        return self._list_or_watch(request, WORKFLOWS, namespace)

    # --- pods ------------------------------------------------------------------------------------------------------

    def list_pods(self, request: Request, namespace: str) -> JsonAnswer | StreamAnswer:
        """GET pods (label and field selectors, pagination; ``watch=true`` streams)."""
        return self._list_or_watch(request, PODS, namespace)

    def get_pod(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """GET one pod."""
        return JsonAnswer(200, self.service.store.get(PODS, namespace, name))

    def pod_log(self, request: Request, namespace: str, name: str) -> JsonAnswer:
        """GET a container's log as text (``container``, ``tailLines``)."""
        text = self.service.pod_log(namespace, name, request.query.get("container"))
        tail = request.query.get("tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[len(lines) - min(_int(request, "tailLines"), len(lines)):])
        return JsonAnswer(200, text, content_type="text/plain")

    # --- shared ----------------------------------------------------------------------------------------------------

    def _list_or_watch(self, request: Request, kind: Kind, namespace: str | None) -> JsonAnswer | StreamAnswer:
        selector = parse_selectors(kind.plural, request.query.get("labelSelector"), request.query.get("fieldSelector"))
        if request.flag("watch"):
            version = request.query.get("resourceVersion") or "0"
            try:
                since = None if version == "0" else int(version)
            except ValueError:
                raise bad_request(f"resourceVersion={version!r}: not a valid resource version") from None
            timeout = _int(request, "timeoutSeconds")
            deadline = time.monotonic() + timeout if timeout else None
            bookmarks = request.flag("allowWatchBookmarks")
            events = self.service.store.watch(kind, namespace, selector, since, deadline)
            return StreamAnswer(self._watch_events(kind, events, bookmarks))
        items, version, token = self.service.store.list(
            kind, namespace, selector, _int(request, "limit"), request.query.get("continue"))
        metadata = {"resourceVersion": version}
        if token:
            metadata["continue"] = token
        return JsonAnswer(200, {"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": metadata,
                                "items": items})

    def _watch_events(self, kind: Kind, events: Iterator[tuple[str, dict[str, Any]]],
                      bookmarks: bool) -> Iterator[dict[str, Any]]:
        for event_type, obj in events:
            yield {"type": event_type, "object": obj}
        if bookmarks:
            yield {"type": "BOOKMARK", "object": {"kind": kind.kind, "apiVersion": kind.api_version,
                                                  "metadata": {"resourceVersion": str(self.service.store.revision)}}}
