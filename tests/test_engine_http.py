"""HTTP templates on the local engine, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workflows import argo
from workflows.engine.httpcall import canonical_header
from workflows.engine.support import UnsupportedWorkflow

WAIT = 120


class Handler(BaseHTTPRequestHandler):
    """``/status/N`` answers N; the body is the request (method, path, body, X-Token header) as JSON."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        status = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/status/") else 200
        payload = json.dumps({"method": self.command, "path": self.path, "body": body,
                              "token": self.headers.get("X-Token")}).encode()
        self.send_response(status)
        self.send_header("x-served-by", "test")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def http_workflow(http: dict, after: list | None = None) -> dict:
    steps = [[{"name": "call", "template": "call"}]] + ([after] if after else [])
    templates = [{"name": "main", "steps": steps}, {"name": "call", "http": http},
                 {"name": "show", "inputs": {"parameters": [{"name": "text"}]},
                  "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.text}}"]}}]
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "http-"},
            "spec": {"entrypoint": "main", "templates": templates}}


def call_node(workflow) -> dict:
    return next(node for node in workflow.raw["status"]["nodes"].values() if node["displayName"] == "call")


def test_a_2xx_answer_succeeds_and_its_body_is_the_result(server):
    show = [{"name": "show", "template": "show",
             "arguments": {"parameters": [{"name": "text", "value": "{{steps.call.outputs.result}}"}]}}]
    done = argo.submit_workflow(http_workflow({"url": f"{server}/hello"}, show)).wait(WAIT)
    assert done.status == "Succeeded"
    node = call_node(done)
    assert node["type"] == "HTTP"
    assert json.loads(node["outputs"]["result"]) == {"method": "GET", "path": "/hello", "body": "", "token": None}


def test_without_a_condition_a_non_2xx_answer_fails(server):
    done = argo.submit_workflow(http_workflow({"url": f"{server}/status/404"})).wait(WAIT)
    assert done.status == "Failed"
    assert call_node(done)["message"] == "received non-2xx response code: 404"
    assert json.loads(call_node(done)["outputs"]["result"])["path"] == "/status/404"


def test_the_success_condition_sees_request_and_response(server):
    http = {"url": f"{server}/status/201", "method": "POST", "body": "payload",
            "headers": [{"name": "X-Token", "value": "abc"}], "timeoutSeconds": 30,
            "successCondition": 'response.statusCode == 201 && response.headers["X-Served-By"][0] == "test" '
                                '&& response.body contains "abc" && request.method == "POST"'}
    done = argo.submit_workflow(http_workflow(http)).wait(WAIT)
    assert done.status == "Succeeded", call_node(done).get("message")
    assert json.loads(call_node(done)["outputs"]["result"])["body"] == "payload"
    http["successCondition"] = "response.statusCode == 200"
    done = argo.submit_workflow(http_workflow(http)).wait(WAIT)
    assert done.status == "Failed"
    assert call_node(done)["message"] == "successCondition 'response.statusCode == 200' evaluated false"


def test_a_request_that_cannot_be_made_is_an_error():
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
        done = argo.submit_workflow(http_workflow({"url": url, "timeoutSeconds": 30})).wait(WAIT)
    assert done.status == "Failed"  # the steps roll an errored child up as Failed, as Argo's steps.go does
    assert call_node(done)["phase"] == "Error"
    assert call_node(done)["message"].startswith(f"GET {url}: ")


def test_header_values_from_secrets_are_refused_at_submission(server):
    secret = {"secretKeyRef": {"name": "s", "key": "k"}}
    http = {"url": server, "headers": [{"name": "Authorization", "valueFrom": secret}]}
    with pytest.raises(UnsupportedWorkflow, match="http header 'Authorization': valueFrom"):
        argo.submit_workflow(http_workflow(http))


def test_header_names_take_gos_canonical_form():
    assert canonical_header("x-served-by") == "X-Served-By"
    assert canonical_header("CONTENT-TYPE") == "Content-Type"
