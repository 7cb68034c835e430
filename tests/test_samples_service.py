"""The samples application's service, over HTTP, running its operations on the local engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("flask")

REPO = Path(__file__).resolve().parents[1]
SERVE = REPO / "applications" / "samples" / "backend" / "serve.py"
TIMEOUT = 120


class Service:
    """The service started as ``serve.py --port 0`` in its own process; requests over real HTTP."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, str(SERVE), "--port", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = _read_line(self.process, TIMEOUT)
        self.url = line.rsplit(" ", 1)[-1].strip()

    def request(self, method: str, path: str) -> tuple[int, str]:
        """Status and body of ``method path``."""
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def json(self, method: str, path: str) -> tuple[int, dict]:
        status, body = self.request(method, path)
        return status, json.loads(body)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)
        self.process.stdout.close()


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line the process prints, or fail after ``timeout`` seconds."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail(f"{SERVE} printed nothing in {timeout} s")
    line = process.stdout.readline()
    if not line:
        pytest.fail(f"{SERVE} exited with {process.wait(timeout=timeout)} before serving")
    return line


@pytest.fixture
def service(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WORKFLOWS_", "ARGO_", "KAFKA_", "CH_"))}
    env.update(WORKFLOWS_HOME=str(tmp_path / "home"), WORKFLOWS_BACKEND="local")
    started = Service(env)
    yield started
    started.close()


def test_sync_with_results_returns_the_sum(service):
    assert service.json("GET", "/operations/sync-results?a=1&b=2") == (200, {"result": 3.0})
    assert service.json("GET", "/operations/sync-results?a=0.5&b=-2") == (200, {"result": -1.5})


@pytest.mark.parametrize("query, named", [("?a=1", "'b'"), ("?b=1", "'a'"), ("?a=one&b=2", "a='one'"),
                                          ("?a=1&b=nan", "b='nan'")])
def test_sync_with_results_refuses_what_is_not_a_number(service, query, named):
    status, body = service.json("GET", "/operations/sync-results" + query)
    assert status == 400
    assert named in body["error"]


def test_sync_waits_for_the_workflow_and_reports_a_failure(service):
    status, body = service.json("GET", "/operations/sync?a=2&b=3")
    assert (status, body["phase"]) == (200, "Succeeded"), body
    assert body["name"].startswith("test-sync-op-")
    assert "2.0 + 3.0 = 5.0" in service.request("GET", f"/operations/{body['name']}/logs")[1]

    status, failed = service.json("GET", "/operations/sync?a=oops")
    assert status == 500
    assert failed["phase"] == "Failed" and failed["error"]


def test_async_returns_at_once_and_the_workflow_can_be_followed(service, monkeypatch):
    status, body = service.json("POST", "/operations/async")
    assert status == 202
    name = body["name"]
    assert name.startswith("test-custom-connected-op-") and body["href"]

    # The service and this test share the backend: wait for the workflow there, without polling the service.
    from workflows import argo

    monkeypatch.setenv("WORKFLOWS_HOME", service.env["WORKFLOWS_HOME"])
    monkeypatch.setenv("WORKFLOWS_BACKEND", service.env["WORKFLOWS_BACKEND"])
    assert argo.wait_workflow(name, timeout=TIMEOUT).status == "Succeeded"
    assert service.json("GET", f"/operations/{name}") == (200, {"name": name, "phase": "Succeeded"})
    status, logs = service.request("GET", f"/operations/{name}/logs")
    assert status == 200 and "3.0" in logs.splitlines()


def test_unknown_operations_are_404(service):
    assert service.json("GET", "/operations/no-such-workflow")[0] == 404
    assert service.json("GET", "/operations/no-such-workflow/logs")[0] == 404
