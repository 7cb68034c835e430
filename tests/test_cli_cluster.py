"""``workflows run/list/get/logs/wait/stop/delete`` against FakeCluster through both cluster backends, as a user
runs them (real subprocesses, configured by the environment or by --backend/--namespace)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from test_backend_cluster import KINDS, ROOT, cluster, connect, environment  # noqa: F401, F811 (fixtures)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.fixture
def ops(tmp_path):
    path = tmp_path / "ops.py"
    path.write_text(textwrap.dedent('''
        from workflows import operations, tasks

        def hello():
            return operations.PipelineOperation(
                "hello", [tasks.BashTask("first", "echo one"), tasks.BashTask("second", "echo two")])

        def slow():
            return operations.SingleTaskOperation("slow", tasks.BashTask("nap", "sleep 30"))
    '''))
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_against_the_cluster(kind, cluster, ops, tmp_path, monkeypatch):
    connect(kind, cluster, tmp_path, monkeypatch)
    monkeypatch.delenv("WORKFLOWS_BACKEND")  # chosen on the command line
    run = cli("run", f"{ops}:hello", "--backend", kind)
    assert run.returncode == 0, run.stderr
    name = run.stderr.splitlines()[0]
    assert name.startswith("hello-") and f"{name}: Succeeded" in run.stdout
    assert [item["metadata"]["name"] for item in cluster.workflows()] == [name]
    listed = cli("list", "--backend", kind, "--status", "Succeeded")
    assert listed.returncode == 0 and name in listed.stdout, listed.stderr
    got = cli("get", name, "--backend", kind)
    assert got.returncode == 0 and "Status:   Succeeded" in got.stdout and "first" in got.stdout
    logs = cli("logs", name, "--backend", kind)
    assert logs.returncode == 0 and logs.stdout.splitlines() == ["first: one", "second: two"], logs.stderr
    followed = cli("logs", name, "--backend", kind, "--follow", "--node", "second")
    assert followed.returncode == 0 and followed.stdout.splitlines() == ["second: two"], followed.stderr
    waited = cli("wait", name, "--backend", kind, "--timeout", "60")
    assert waited.returncode == 0 and f"{name}: Succeeded" in waited.stdout
    started = cli("run", f"{ops}:slow", "--backend", kind, "--no-wait")
    slow = started.stdout.strip()
    assert started.returncode == 0 and slow.startswith("slow-"), started.stderr
    assert cli("stop", slow, "--backend", kind).returncode == 0
    stopped = cli("wait", slow, "--backend", kind, "--timeout", "60")
    assert stopped.returncode == 1 and f"{slow}: Failed" in stopped.stdout
    assert cli("delete", name, "--backend", kind).returncode == 0
    missing = cli("get", name, "--backend", kind)
    assert missing.returncode == 2 and f"workflow {name!r} not found" in missing.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_namespace_option_and_variables(kind, cluster, ops, tmp_path, monkeypatch):
    connect(kind, cluster, tmp_path, monkeypatch)  # WORKFLOWS_BACKEND=kind
    run = cli("run", f"{ops}:hello", "--namespace", "team-x", "--no-wait")
    assert run.returncode == 0, run.stderr
    name = run.stdout.strip()
    assert [item["metadata"]["name"] for item in cluster.workflows("team-x")] == [name]
    assert cli("wait", name, "--namespace", "team-x", "--timeout", "60").returncode == 0
    assert name not in cli("list").stdout  # the configured namespace is another one
    monkeypatch.setenv("WORKFLOWS_NAMESPACE", "team-x")
    assert name in cli("list").stdout
    local = cli("list", "--backend", "local", "--namespace", "team-x")
    assert local.returncode == 2 and "local backend has no namespaces" in local.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_token_is_a_clear_cli_error(kind, cluster, tmp_path, monkeypatch):
    connect(kind, cluster, tmp_path, monkeypatch, token="wrong-token-value")
    result = cli("list")
    assert result.returncode == 2 and "credentials were refused (401)" in result.stderr
    assert "wrong-token-value" not in result.stderr + result.stdout
