"""The local node's capacity (``workflows.engine.capacity``): how many pods a runner runs at once, within the files
it may open, and how the others wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from workflows import argo
from workflows.engine.capacity import (DEFAULT_MAX_PODS, FILES_PER_POD, RESERVED_FILES, UNSCHEDULABLE_MESSAGE,
                                       max_pods)
from workflows.errors import EngineConfigurationError
from workflows.operations import ParallelOperation
from workflows.tasks import BashTask

WAIT = 60
pytestmark = pytest.mark.usefixtures("local_engine")


def pod_nodes(workflow: dict) -> list[dict]:
    return [node for node in (workflow["status"].get("nodes") or {}).values() if node["type"] == "Pod"]


def test_max_pods_is_the_kubelets_default_within_what_open_files_allow(monkeypatch):
    assert max_pods(1 << 20) == DEFAULT_MAX_PODS == 110
    assert max_pods(1024) == (1024 - RESERVED_FILES) // FILES_PER_POD == 96
    assert max_pods(RESERVED_FILES) == 1  # never none
    monkeypatch.setenv("WORKFLOWS_MAX_PODS", "500")
    assert max_pods(1 << 20) == 500
    assert max_pods(1024) == 96
    monkeypatch.setenv("WORKFLOWS_MAX_PODS", " 3 ")
    assert max_pods(1 << 20) == 3


@pytest.mark.parametrize("value", ["0", "-2", "many", "2.5"])
def test_a_bad_max_pods_is_refused_at_submit_naming_the_variable_and_value(monkeypatch, value):
    monkeypatch.setenv("WORKFLOWS_MAX_PODS", value)
    with pytest.raises(EngineConfigurationError) as raised:
        ParallelOperation("refused", [BashTask("a", "true")]).execute()
    assert f"WORKFLOWS_MAX_PODS={value!r}" in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert not argo.get_workflows().items  # nothing stored, no runner started


def test_more_parallel_pods_than_the_runners_open_files_allow_all_run(workflows_home, tmp_path):
    """A runner whose soft and hard ``RLIMIT_NOFILE`` are 512 holds 3–4 files per running pod, and its zygote as
    many: 150 pods at once would fail with ``EMFILE`` and kill the runner (they did). It runs 32 at a time; the
    ``WORKFLOWS_MAX_PODS`` it cannot honour is reduced, and its log says so."""
    script = tmp_path / "many.py"
    script.write_text(textwrap.dedent("""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))
        from workflows.operations import ParallelOperation
        from workflows.tasks import CommandBasedTask
        operation = ParallelOperation("many", [CommandBasedTask(f"t{i}", ["true"]) for i in range(150)],
                                      ttl_strategy=None, pod_gc=None)
        workflow = operation.execute().wait(60)
        print(json.dumps([workflow.name, workflow.status, workflow.get_status_message()]))
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "WORKFLOWS_MAX_PODS": "1000"})
    assert result.returncode == 0, result.stderr
    name, status, message = json.loads(result.stdout)
    assert (status, message) == ("Succeeded", None)
    workflow = argo.get_workflow(name).raw
    assert len(pod_nodes(workflow)) == 150
    assert {node["phase"] for node in pod_nodes(workflow)} == {"Succeeded"}
    assert all("message" not in node for node in pod_nodes(workflow))
    runner_log = (workflows_home / "workflows" / name / "runner.log").read_text()
    assert "WORKFLOWS_MAX_PODS=1000: this runner may open only 512 files, enough for 32 pods at once" in runner_log


def test_pods_past_the_runners_room_wait_pending_with_the_schedulers_reason(monkeypatch):
    """``WORKFLOWS_MAX_PODS=2``: of four parallel pods, two run and two wait ``Pending``, with the message Argo
    shows for a pod no node has room for; never more than two run at once, and all four succeed."""
    monkeypatch.setenv("WORKFLOWS_MAX_PODS", "2")
    submitted = ParallelOperation("room", [BashTask(f"t{i}", "sleep 1.5") for i in range(4)]).execute()
    most_running, told_why = 0, set()  # the pods seen waiting with the scheduler's reason, whichever snapshot
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        workflow = argo.get_workflow(submitted.name).raw
        nodes = pod_nodes(workflow)
        most_running = max(most_running, sum(node["phase"] == "Running" for node in nodes))
        told_why |= {node["id"] for node in nodes
                     if node["phase"] == "Pending" and node.get("message") == UNSCHEDULABLE_MESSAGE}
        if workflow["status"]["phase"] not in ("Pending", "Running"):
            break
        time.sleep(0.02)
    assert workflow["status"]["phase"] == "Succeeded"
    assert most_running == 2
    assert len(told_why) == 2
    assert [node["phase"] for node in pod_nodes(workflow)] == ["Succeeded"] * 4
    assert all("message" not in node for node in pod_nodes(workflow))


def test_pods_get_the_raised_open_files_limit_as_containers_get_their_runtimes(tmp_path):
    """The runner raises its soft ``RLIMIT_NOFILE`` to the hard one; its pods inherit it, as containers get the
    container runtime's limit rather than their caller's shell's."""
    script = tmp_path / "limit.py"
    script.write_text(textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (300, 4096))
        from workflows.operations import SingleTaskOperation
        from workflows.tasks import BashTask
        workflow = SingleTaskOperation("limit", BashTask("a", "ulimit -Sn")).execute().wait(60)
        print(workflow.name, workflow.status)
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    name, status = result.stdout.split()
    assert status == "Succeeded"
    assert argo.get_workflow_logs(name).strip() == "4096"
