"""``workflows.argo``'s contract over real backends: names, validation before submit, paging, not-found errors,
waiting, stopping and logs.

Every test runs on the local backend (real engine, real SQLite, the test's own ``WORKFLOWS_HOME``) and on a
:class:`~workflows.testing.FakeCluster` through the Kubernetes API and through Argo Server's (the
``fake_cluster`` and ``fake_argo_server`` fixtures of the library's pytest plugin). The tasks are tiny Bash
scripts written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import argo
from workflows.errors import InvalidWorkflowSpec
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask

WAIT = 60
#: The backends, and the fixture of the library's pytest plugin that starts a FakeCluster for each (none: local).
BACKENDS = {"local": None, "kubernetes": "fake_cluster", "argo-server": "fake_argo_server"}


@pytest.fixture(params=list(BACKENDS))
def cluster(request, monkeypatch: pytest.MonkeyPatch):
    """The backend of the test, selected as a user selects it: the running FakeCluster, or ``None`` (local)."""
    if BACKENDS[request.param] is None:
        monkeypatch.setenv("WORKFLOWS_BACKEND", request.param)
        return None
    return request.getfixturevalue(BACKENDS[request.param])


def stored_names(cluster, home: Path) -> list[str]:
    """The workflows the backend's own store holds, read past ``workflows.argo``: the cluster's objects, or the
    local engine's SQLite database in ``home``."""
    if cluster is not None:
        return [workflow["metadata"]["name"] for workflow in cluster.workflows()]
    if not (home / "engine.sqlite").exists():
        return []
    from workflows.engine.store import Store

    store = Store(home)
    try:
        return [workflow["metadata"]["name"] for _, workflow in store.page(None, 1000, None)]
    finally:
        store.close()


def test_submit_get_list_delete(cluster):
    succeeds = PipelineOperation("p", [BashTask("a", "true")])
    fails = PipelineOperation("f", [BashTask("a", "exit 3")])
    handles = [succeeds.submit(), fails.submit(), succeeds.submit()]
    assert succeeds.persisted is handles[2] and fails.persisted is handles[1]
    names = [handle.name for handle in handles]
    assert len(set(names)) == 3 and names[0].startswith("p-") and names[1].startswith("f-")
    assert argo.get_workflow(names[0]).name == names[0]
    assert [argo.wait_workflow(name, WAIT).status for name in names] == ["Succeeded", "Failed", "Succeeded"]
    assert handles[0].refresh().succeeded() and handles[1].refresh().failed()

    first = argo.get_workflows(limit=2)
    assert len(first.items) == 2 and first.continue_token
    second = argo.get_workflows(limit=2, continue_token=first.continue_token)
    assert len(second.items) == 1 and second.continue_token is None
    assert sorted(workflow.name for workflow in first.items + second.items) == sorted(names)
    for page in (first, second):  # newest first
        created = [workflow.raw["metadata"]["creationTimestamp"] for workflow in page.items]
        assert created == sorted(created, reverse=True)
    assert [workflow.name for workflow in argo.get_workflows(status="Failed").items] == [names[1]]
    assert sorted(workflow.name for workflow in argo.get_workflows(status="Succeeded").items) == sorted(
        [names[0], names[2]])

    argo.delete_workflow(names[1])
    with pytest.raises(argo.WorkflowNotFound, match=names[1]):
        argo.get_workflow(names[1])
    with pytest.raises(argo.WorkflowNotFound, match=names[1]):
        argo.delete_workflow(names[1])
    assert sorted(workflow.name for workflow in argo.get_workflows().items) == sorted([names[0], names[2]])


def test_query_arguments_are_checked():
    with pytest.raises(argo.WorkflowException, match="status='Done'"):
        argo.get_workflows(status="Done")
    with pytest.raises(argo.WorkflowException, match="limit=0"):
        argo.get_workflows(limit=0)


def test_invalid_raw_specs_never_reach_the_backend(cluster, workflows_home):
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "x-"},
            "spec": {"entrypoint": "missing", "templates": [{"name": "main", "script": {
                "image": "python:3.12-slim", "command": ["bash"], "source": "true"}}]}}
    with pytest.raises(InvalidWorkflowSpec, match="missing"):
        argo.submit_workflow(spec)
    assert stored_names(cluster, workflows_home) == []
    assert argo.get_workflows().items == ()
    spec["spec"]["entrypoint"] = "main"  # the same spec, repaired, does reach the backend's store
    name = argo.submit_workflow(spec).name
    assert stored_names(cluster, workflows_home) == [name]
    assert argo.wait_workflow(name, WAIT).succeeded()


def test_wait_and_stop_go_through_the_backend(cluster):
    workflow = PipelineOperation("p", [BashTask("a", "sleep 600")]).submit()
    with pytest.raises(TimeoutError, match=workflow.name):
        workflow.wait(timeout=0.2)  # the task sleeps until stopped: it cannot end first
    workflow.stop()
    assert workflow.wait(WAIT).failed()
    assert argo.wait_workflow(workflow.name, WAIT).status == "Failed"


def test_logs(cluster):
    name = PipelineOperation("p", [BashTask("a", "echo a-line"), BashTask("b", "echo b-line")]).submit().name
    assert argo.wait_workflow(name, WAIT).succeeded()
    assert argo.get_workflow_logs_list(name) == ["a-line\n", "b-line\n"]
    assert argo.get_workflow_logs(name) == "a-line\n\nb-line\n"
