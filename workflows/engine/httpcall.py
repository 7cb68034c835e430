"""HTTP templates: the request Argo's agent makes, made from the runner, and Argo's verdict on the response.

As Argo's ``AgentExecutor.executeHTTPTemplate``: the node's ``outputs.result``
is the response body; without ``successCondition`` the node succeeds on a 2xx
status, otherwise the condition (an expr-lang expression over ``request`` and
``response``) decides. A request that cannot be made at all (no such host,
refused, timed out) is an ``Error``. Header values from Secrets are refused at
submission (:mod:`.support`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
from typing import TYPE_CHECKING, Any

from .lang.expr import evaluate_expression_bool
from .lang.errors import TemplateError
from .lang.templating import substitute
from .records import FrozenRecord
from .scope import Scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution


class HttpOutcome(FrozenRecord):
    """The node's phase, message and ``outputs.result`` (the body; ``None`` when no response came)."""

    phase: str
    message: str | None
    result: str | None

    def __init__(self, phase: str, message: str | None, result: str | None) -> None:
        self.phase = phase
        self.message = message
        self.result = result


def canonical_header(name: str) -> str:
    """Go's canonical form of a header name (``content-type`` → ``Content-Type``), as ``http.Header`` keys."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _header_map(pairs) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        headers.setdefault(canonical_header(name), []).append(value)
    return headers


def _body(http: dict[str, Any]) -> bytes:
    """``bodyFrom.bytes`` (base64, as Kubernetes encodes ``[]byte``) or ``body``."""
    body_from = http.get("bodyFrom")
    if body_from is not None:
        try:
            return base64.b64decode(body_from.get("bytes") or "", validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"http.bodyFrom.bytes: not base64: {error}") from error
    return str(http.get("body") or "").encode()


def call(http: dict[str, Any]) -> HttpOutcome:
    """Make the request of a resolved ``http`` template section and judge its response as Argo does."""
    import urllib.error  # noqa: PLC0415 - with http.client and email, 8 ms: only workflows with http templates
    import urllib.request  # noqa: PLC0415

    url = http.get("url")
    method = http.get("method") or "GET"
    try:
        data = _body(http)
    except ValueError as error:
        return HttpOutcome("Error", str(error), None)
    request = urllib.request.Request(str(url), data=data or None, method=method)
    header_pairs = [(str(header.get("name")), str(header.get("value", ""))) for header in http.get("headers") or []]
    for name, value in header_pairs:
        request.add_header(name, value)
    context = None
    if http.get("insecureSkipVerify"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    timeout = float(http["timeoutSeconds"]) if http.get("timeoutSeconds") is not None else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, headers, body = response.status, response.headers.items(), response.read()
    except urllib.error.HTTPError as error:  # a response with a status urllib calls an error: still a response
        status, headers, body = error.code, error.headers.items(), error.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return HttpOutcome("Error", f"{method} {url}: {reason}", None)
    text = body.decode("utf-8", "replace")
    condition = http.get("successCondition")
    if not condition:
        if 200 <= status < 300:
            return HttpOutcome("Succeeded", None, text)
        return HttpOutcome("Failed", f"received non-2xx response code: {status}", text)
    env = {
        "request": {"method": method, "url": url, "body": http.get("body") or "",
                    "bodyBytes": list(data), "headers": _header_map(header_pairs)},
        "response": {"statusCode": status, "body": text, "headers": _header_map(headers)},
    }
    try:
        success = evaluate_expression_bool(condition, env)
    except TemplateError as error:
        return HttpOutcome("Error", f"successCondition {condition!r}: {error}", text)
    if not success:
        return HttpOutcome("Failed", f"successCondition '{condition}' evaluated false", text)
    return HttpOutcome("Succeeded", None, text)


async def run_http_node(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str,
                        display: str, parent: str | None, boundary: str | None) -> dict[str, Any]:
    """An HTTP template's ``HTTP`` node: the request is made from the runner (:func:`call`), off the event loop."""
    nodes = execution.nodes
    node = nodes.create(name, display, "HTTP", template["name"], parent=parent, boundary=boundary)
    try:
        http = substitute(template["http"], scope, strict=False)
    except TemplateError as error:
        return nodes.update(node["id"], phase="Error", message=str(error))
    outcome = await asyncio.get_running_loop().run_in_executor(None, call, http)
    outputs = {"result": outcome.result} if outcome.result is not None else None
    return nodes.update(node["id"], phase=outcome.phase, message=outcome.message, outputs=outputs)
