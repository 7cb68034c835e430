"""The ``argo-server`` backend: Argo Server's REST API through the official ``argo-workflows`` SDK, imported
only when this backend is used.

The SDK's typed models drop or rename fields they do not know, so every request goes through
``ApiClient.call_api`` with a plain dict body and the raw JSON answer read back (``_preload_content=False``),
through the SDK's own configured connection pool and bearer-token auth; that includes the event stream
(``/api/v1/workflow-events/{namespace}``), which the SDK cannot consume itself. The paths and bodies used
are the same in Argo 3.7 and 4.1.

Configured like the Argo CLI (read when the backend is built):

==============================  ========================================================  =============
variable                        meaning                                                   default
==============================  ========================================================  =============
``ARGO_SERVER``                 ``host:port`` of Argo Server (required)
``ARGO_SECURE``                 HTTPS (``true``) or plain HTTP (``false``)                ``true``
``ARGO_INSECURE_SKIP_VERIFY``   do not verify the server's TLS certificate                ``false``
``ARGO_TOKEN``                  bearer token (``Bearer `` prefix optional)                none
``ARGO_NAMESPACE``              namespace of the workflows                                ``default``
``ARGO_BASE_HREF``              path prefix of the server (behind an ingress)             none
``ARGO_HTTP1``                  accepted as in the CLI; the REST API always uses HTTP/1.1 ``false``
``WORKFLOWS_NAMESPACE``         overrides ``ARGO_NAMESPACE``
==============================  ========================================================  =============
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import BackendUnavailable
from .cluster import MAIN_CONTAINER, REQUEST_TIMEOUT, ApiFailure, ClusterBackend, Page, json_lines, pod_nodes
from .kubeconfig import DEFAULT_NAMESPACE
from .retry import RetryPolicy, retry_after_seconds

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")
#: Messages by which the Kubernetes API says a watch's resourceVersion has expired.
_EXPIRED = re.compile(r"too old resource version|resourceVersion.*expired|\bGone\b", re.IGNORECASE)


def _flag(variable: str, default: bool) -> bool:
    value = os.environ.get(variable)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise BackendUnavailable(f"backend 'argo-server': {variable}={value!r}: expected true or false")


@dataclass(frozen=True)
class ArgoServerSettings:
    """Where and how to reach Argo Server; :meth:`from_environment` reads the Argo CLI's variables."""

    server: str
    """``host:port``."""
    namespace: str = DEFAULT_NAMESPACE
    secure: bool = True
    insecure_skip_verify: bool = False
    token: str | None = None
    base_href: str = ""

    @classmethod
    def from_environment(cls) -> ArgoServerSettings:
        """The settings the ``ARGO_*`` variables (and ``WORKFLOWS_NAMESPACE``) give."""
        server = os.environ.get("ARGO_SERVER")
        if not server:
            raise BackendUnavailable("backend 'argo-server': ARGO_SERVER is not set (host:port of Argo Server)")
        _flag("ARGO_HTTP1", False)  # checked like the CLI does; this REST client always speaks HTTP/1.1
        return cls(
            server=server,
            namespace=os.environ.get("WORKFLOWS_NAMESPACE") or os.environ.get("ARGO_NAMESPACE") or DEFAULT_NAMESPACE,
            secure=_flag("ARGO_SECURE", True),
            insecure_skip_verify=_flag("ARGO_INSECURE_SKIP_VERIFY", False),
            token=os.environ.get("ARGO_TOKEN") or None,
            base_href=os.environ.get("ARGO_BASE_HREF") or "",
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        server = re.sub(r"^https?://", "", self.server).rstrip("/")
        prefix = "/" + self.base_href.strip("/") if self.base_href.strip("/") else ""
        return f"{'https' if self.secure else 'http'}://{server}{prefix}"

    def __repr__(self) -> str:  # never show the token
        return (f"ArgoServerSettings(url={self.url!r}, namespace={self.namespace!r}, "
                f"insecure_skip_verify={self.insecure_skip_verify}, token={'set' if self.token else 'unset'})")


def _failure(error: Exception) -> ApiFailure:
    """An :class:`ApiFailure` for what the SDK raised: grpc-gateway's ``{"code", "message"}`` of an error answer,
    or the reason there was no answer."""
    from argo_workflows.exceptions import ApiException

    if isinstance(error, ApiException) and error.status:
        body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else error.body or ""
        try:
            status = json.loads(body) if body else {}
        except ValueError:
            status = {}
        if isinstance(status, dict) and isinstance(status.get("error"), dict):  # a stream's error, as the answer
            status = status["error"]
        message = (status.get("message") if isinstance(status, dict) else None) or body.strip() or error.reason or ""
        headers = error.headers or {}
        code = 410 if _EXPIRED.search(message) else error.status  # Argo answers an expired version with 400 or 500
        return ApiFailure(code, message, "", retry_after_seconds(dict(headers).get("Retry-After")))
    if isinstance(error, ApiException):  # status 0: the SDK's wrapping of a TLS failure
        return ApiFailure(None, str(error.reason or "TLS error").strip())
    return ApiFailure(None, f"{type(error).__name__}: {error}")


def _is_end(message: str) -> bool:
    """Whether an event stream's error is Argo Server's way to end it: the watch under it closed (``io.EOF``,
    sent with code ResourceExhausted), at ``listOptions.timeoutSeconds`` say."""
    return message.strip() == "EOF"


def _stream_error(error: dict[str, Any]) -> dict[str, Any]:
    """grpc-gateway's in-stream ``error`` as a Kubernetes ``Status`` (410 when the resourceVersion expired, whatever
    code Argo gave it)."""
    message = str(error.get("message") or error)
    code = 410 if _EXPIRED.search(message) else error.get("http_code") or 500
    return {"code": int(code), "message": message}


class ArgoServerBackend(ClusterBackend):
    """Workflows through Argo Server's REST API, in one namespace."""

    name = "argo-server"

    def __init__(self, settings: ArgoServerSettings | None = None, namespace: str | None = None,
                 retry: RetryPolicy | None = None) -> None:
        """Connect with ``settings`` (default: from the environment); ``namespace`` overrides theirs."""
        try:
            import argo_workflows
        except ImportError:
            raise BackendUnavailable("backend 'argo-server' needs the argo-workflows SDK: "
                                     "pip install 'argo-workflows>=6.7.18'") from None
        import urllib3

        settings = settings or ArgoServerSettings.from_environment()
        if namespace:
            settings = dataclasses.replace(settings, namespace=namespace)
        super().__init__(settings.namespace, retry)
        self.settings = settings
        configuration = argo_workflows.Configuration(host=settings.url)
        configuration.verify_ssl = not settings.insecure_skip_verify
        configuration.retries = False  # the backend retries, knowing which requests are safe to send again
        if settings.token:
            token = settings.token.strip()
            configuration.api_key["BearerToken"] = token if token.lower().startswith("bearer ") else f"Bearer {token}"
        self.api_client = argo_workflows.ApiClient(configuration)
        """The SDK's client: its pool carries every request."""
        self._errors = (argo_workflows.exceptions.ApiException, urllib3.exceptions.HTTPError,
                        http.client.HTTPException, OSError)

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None,
              query: list[tuple[str, Any]] | None = None, timeout: Any = REQUEST_TIMEOUT, **path_params: str) -> Any:
        """The raw response of one request through the SDK's pool, errors as :class:`ApiFailure`."""
        try:
            return self.api_client.call_api(
                path, method, path_params={"namespace": self.namespace, **path_params}, query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": "application/json"}, body=body,
                auth_settings=["BearerToken"], _preload_content=False, _request_timeout=timeout)
        except self._errors as error:
            raise _failure(error) from None

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None,
              query: list[tuple[str, Any]] | None = None, **path_params: str) -> Any:
        response = self._send(method, path, body, query, **path_params)
        try:
            data = response.data
        except self._errors as error:
            raise _failure(error) from None
        return json.loads(data) if data else {}

    # --- the transport ------------------------------------------------------------------------------------------

    def _create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", **manifest}
        return self._json("POST", "/api/v1/workflows/{namespace}",
                          {"namespace": self.namespace, "workflow": manifest})

    def _read(self, name: str) -> dict[str, Any]:
        return self._json("GET", "/api/v1/workflows/{namespace}/{name}", name=name)

    def _list(self, limit: int | None, continue_token: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None) -> Page:
        options = {"limit": limit and str(limit), "continue": continue_token, "labelSelector": label_selector,
                   "fieldSelector": field_selector}
        page = self._json("GET", "/api/v1/workflows/{namespace}",
                          query=[(f"listOptions.{key}", value) for key, value in options.items() if value])
        metadata = page.get("metadata") or {}
        return Page(list(page.get("items") or []), metadata.get("continue"), metadata.get("resourceVersion"))

    def _remove(self, name: str) -> None:
        self._json("DELETE", "/api/v1/workflows/{namespace}/{name}", name=name)

    def _shutdown(self, name: str) -> None:
        self._json("PUT", "/api/v1/workflows/{namespace}/{name}/stop",
                   {"name": name, "namespace": self.namespace}, name=name)

    def _events(self, name: str, version: str | None, timeout: float) -> Iterator[tuple[str, dict[str, Any]]]:
        query: list[tuple[str, Any]] = [("listOptions.fieldSelector", f"metadata.name={name}"),
                                        ("listOptions.timeoutSeconds", str(max(1, int(timeout + 0.999))))]
        if version:
            query.append(("listOptions.resourceVersion", version))
        try:
            response = self._send("GET", "/api/v1/workflow-events/{namespace}", query=query,
                                  timeout=(REQUEST_TIMEOUT[0], timeout + 1))
        except ApiFailure as failure:
            if _is_end(failure.message):
                return
            raise
        try:
            for line in json_lines(response.stream(amt=None, decode_content=True)):
                if "error" in line:
                    if not _is_end(str(line["error"].get("message"))):
                        yield "ERROR", _stream_error(line["error"])
                    return
                event = line.get("result") or {}
                yield event.get("type", ""), event.get("object") or {}
        except self._errors as error:
            raise _failure(error) from None
        except ValueError as error:
            raise ApiFailure(None, f"the event stream was cut inside an event: {error}") from None
        finally:
            response.release_conn()

    def _pod_logs(self, workflow: dict[str, Any]) -> dict[str, str]:
        nodes = pod_nodes(workflow)
        response = self._send("GET", "/api/v1/workflows/{namespace}/{name}/log",
                              query=[("logOptions.container", MAIN_CONTAINER)], name=workflow["metadata"]["name"])
        logs: dict[str, str] = {}
        try:
            for line in json_lines(response.stream(amt=None, decode_content=True)):
                if "error" in line:
                    raise ApiFailure(_stream_error(line["error"])["code"], str(line["error"].get("message")))
                entry = line.get("result") or {}
                node_id = nodes.get(entry.get("podName") or "", entry.get("podName") or "")
                logs[node_id] = logs.get(node_id, "") + (entry.get("content") or "") + "\n"
        except self._errors as error:
            raise _failure(error) from None
        finally:
            response.release_conn()
        return logs
