"""The ``kubernetes`` backend: Argo ``Workflow`` objects through the Kubernetes API (``argoproj.io/v1alpha1``),
with the official ``kubernetes`` client, imported only when this backend is used.

Configuration as kubectl finds it (see :mod:`workflows.backends.kubeconfig`).
The verbs it uses — and nothing more — are granted by ``deploy/rbac.yaml``:
``workflows``: create, get, list, watch, patch, delete; ``pods``: list; ``pods/log``: get.
"""

from __future__ import annotations

import http.client
import json
import math
import os
from collections.abc import Iterator
from typing import Any

from . import BackendUnavailable
from .cluster import (
    MAIN_CONTAINER,
    NODE_ID_ANNOTATION,
    REQUEST_TIMEOUT,
    WORKFLOW_LABEL,
    ApiFailure,
    ClusterBackend,
    Page,
    json_lines,
    pod_nodes,
)
from .kubeconfig import DEFAULT_NAMESPACE, kubeconfig_identity, load_configuration
from .retry import RetryPolicy, retry_after_seconds

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflows"


def _failure(error: Exception) -> ApiFailure:
    """An :class:`ApiFailure` for what the client raised: the ``Status`` message of an error answer, or the
    reason there was no answer."""
    from kubernetes.client.exceptions import ApiException

    if isinstance(error, ApiException):
        body = error.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        try:
            status = json.loads(body) if body else {}
        except ValueError:
            status = {}
        if not isinstance(status, dict):
            status = {}
        message = status.get("message") or (body or "").strip() or error.reason or ""
        headers = error.headers or {}
        return ApiFailure(error.status, message, status.get("reason") or "",
                          retry_after_seconds(headers.get("Retry-After")))
    return ApiFailure(None, f"{type(error).__name__}: {error}")


def _client_errors() -> tuple[type[BaseException], ...]:
    import urllib3
    from kubernetes.client.exceptions import ApiException

    return ApiException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError


class KubernetesBackend(ClusterBackend):
    """Workflows as custom objects of the Kubernetes API, in one namespace."""

    name = "kubernetes"

    def __init__(self, namespace: str | None = None, context: str | None = None, api_client: Any = None,
                 retry: RetryPolicy | None = None) -> None:
        """Connect as kubectl would (or through ``api_client``, a ``kubernetes.client.ApiClient``);
        ``namespace`` overrides the configured one."""
        try:
            from kubernetes import client
        except ImportError:
            raise BackendUnavailable("backend 'kubernetes' needs the kubernetes client: pip install kubernetes") from None

        if api_client is None:
            configuration, configured, self.where = load_configuration(context)
            api_client = client.ApiClient(configuration)
        else:
            configured = os.environ.get("WORKFLOWS_NAMESPACE") or DEFAULT_NAMESPACE
            self.where = "the ApiClient given"
        super().__init__(namespace or configured, retry)
        self.api_client = api_client
        self.objects = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self._errors = _client_errors()

    @staticmethod
    def configuration_key() -> tuple[Any, ...]:
        """The kubeconfig files' identity: a default backend is rebuilt when they change."""
        return kubeconfig_identity()

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """``method(...)`` without preloading; the answer's JSON (or text), client errors as :class:`ApiFailure`."""
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            response = method(*args, _preload_content=False, **kwargs)
            data = response.data
        except self._errors as error:
            raise _failure(error) from None
        return data

    def _workflows(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        return json.loads(self._call(method, GROUP, VERSION, self.namespace, PLURAL, *args, **kwargs))

    # --- the transport ------------------------------------------------------------------------------------------

    def _create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        manifest = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", **manifest}
        return self._workflows(self.objects.create_namespaced_custom_object, manifest)

    def _read(self, name: str) -> dict[str, Any]:
        return self._workflows(self.objects.get_namespaced_custom_object, name)

    def _list(self, limit: int | None, continue_token: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None) -> Page:
        options = {"limit": limit, "_continue": continue_token, "label_selector": label_selector,
                   "field_selector": field_selector}
        page = self._workflows(self.objects.list_namespaced_custom_object,
                               **{key: value for key, value in options.items() if value})
        metadata = page.get("metadata") or {}
        return Page(list(page.get("items") or []), metadata.get("continue"), metadata.get("resourceVersion"))

    def _remove(self, name: str) -> None:
        self._workflows(self.objects.delete_namespaced_custom_object, name)

    def _shutdown(self, name: str) -> None:
        self._workflows(self.objects.patch_namespaced_custom_object, name, {"spec": {"shutdown": "Stop"}},
                        _content_type="application/merge-patch+json")

    def _events(self, name: str, version: str | None, timeout: float) -> Iterator[tuple[str, dict[str, Any]]]:
        options: dict[str, Any] = {"watch": True, "field_selector": f"metadata.name={name}",
                                   "allow_watch_bookmarks": True, "timeout_seconds": max(1, math.ceil(timeout))}
        if version:
            options["resource_version"] = version
        try:
            response = self.objects.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, _preload_content=False,
                _request_timeout=(REQUEST_TIMEOUT[0], timeout + 1), **options)
        except self._errors as error:
            raise _failure(error) from None
        try:
            for event in json_lines(response.stream(amt=None, decode_content=True)):
                yield event.get("type", ""), event.get("object") or {}
        except self._errors as error:
            raise _failure(error) from None
        except ValueError as error:
            raise ApiFailure(None, f"the watch stream was cut inside an event: {error}") from None
        finally:
            response.release_conn()

    def _pod_logs(self, workflow: dict[str, Any]) -> dict[str, str]:
        name = workflow["metadata"]["name"]
        nodes = pod_nodes(workflow)
        pods = json.loads(self._call(self.core.list_namespaced_pod, self.namespace,
                                     label_selector=f"{WORKFLOW_LABEL}={name}"))
        logs = {}
        for pod in pods.get("items") or []:
            metadata = pod["metadata"]
            node_id = ((metadata.get("annotations") or {}).get(NODE_ID_ANNOTATION)
                       or nodes.get(metadata["name"], metadata["name"]))
            try:
                text = self._call(self.core.read_namespaced_pod_log, metadata["name"], self.namespace,
                                  container=MAIN_CONTAINER)
            except ApiFailure as failure:
                if failure.status == 400:  # the container has not started: no log yet
                    continue
                raise
            logs[node_id] = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return logs
