"""``workflows.argo`` over a backend: names, validation before submit, paging, not-found errors."""

from __future__ import annotations

import itertools

import pytest

from workflows import argo
from workflows.backends import Backend, register_backend
from workflows.errors import InvalidWorkflowSpec
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask


class MemoryBackend(Backend):
    """A backend that keeps workflows in a dict: enough to exercise the query API's contract."""

    def __init__(self) -> None:
        self.workflows: dict[str, dict] = {}
        self.counter = itertools.count()

    def submit(self, spec):
        name = spec["metadata"]["generateName"] + f"{next(self.counter):05d}"
        stored = {**spec, "metadata": {**spec["metadata"], "name": name}, "status": {"phase": "Pending"}}
        self.workflows[name] = stored
        return stored

    def get(self, name):
        if name not in self.workflows:
            raise argo.WorkflowNotFound(name)
        return self.workflows[name]

    def list(self, phase, limit, continue_token):
        names = [n for n in sorted(self.workflows, reverse=True)
                 if phase is None or self.workflows[n]["status"]["phase"] == phase]
        start = int(continue_token or 0)
        page = names[start:start + limit]
        return [self.workflows[n] for n in page], (str(start + limit) if start + limit < len(names) else None)

    def delete(self, name):
        self.get(name)
        del self.workflows[name]

    def watch(self, name, timeout):
        workflow = self.get(name)
        yield workflow
        if workflow["status"]["phase"] not in argo.Phase.FINISHED:
            raise TimeoutError(f"workflow {name!r}: nothing runs in the memory backend")

    def stop(self, name):
        self.get(name)["status"]["phase"] = "Failed"

    def node_logs(self, name):
        return {template["name"]: f"{template['name']}: done" for template in self.get(name)["spec"]["templates"]}


@pytest.fixture
def backend(monkeypatch):
    instance = MemoryBackend()
    register_backend("memory", lambda: instance)
    monkeypatch.setenv("WORKFLOWS_BACKEND", "memory")
    return instance


def test_submit_get_list_delete(backend):
    op = PipelineOperation("p", [BashTask("a", "echo")])
    handles = [op.submit() for _ in range(3)]
    assert op.persisted is handles[-1]
    assert argo.get_workflow(handles[0].name).status == argo.Phase.Pending
    first = argo.get_workflows(limit=2)
    assert [w.name for w in first.items] == ["p-00002", "p-00001"] and first.continue_token
    second = argo.get_workflows(limit=2, continue_token=first.continue_token)
    assert [w.name for w in second.items] == ["p-00000"] and second.continue_token is None
    backend.workflows["p-00001"]["status"]["phase"] = "Succeeded"
    assert [w.name for w in argo.get_workflows(status="Succeeded").items] == ["p-00001"]
    assert handles[1].refresh().succeeded()
    argo.delete_workflow("p-00001")
    with pytest.raises(argo.WorkflowNotFound, match="p-00001"):
        argo.get_workflow("p-00001")
    with pytest.raises(argo.WorkflowNotFound):
        argo.delete_workflow("p-00001")


def test_query_arguments_are_checked(backend):
    with pytest.raises(argo.WorkflowException, match="status='Done'"):
        argo.get_workflows(status="Done")
    with pytest.raises(argo.WorkflowException, match="limit=0"):
        argo.get_workflows(limit=0)


def test_invalid_raw_specs_never_reach_the_backend(backend):
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "x-"},
            "spec": {"entrypoint": "missing", "templates": [{"name": "main", "container": {"image": "busybox"}}]}}
    with pytest.raises(InvalidWorkflowSpec, match="missing"):
        argo.submit_workflow(spec)
    assert backend.workflows == {}


def test_wait_and_stop_go_through_the_backend(backend):
    workflow = PipelineOperation("p", [BashTask("a", "echo")]).submit()
    with pytest.raises(TimeoutError, match=workflow.name):
        workflow.wait(timeout=1)
    workflow.stop()
    assert workflow.wait().failed() and argo.wait_workflow(workflow.name).status == "Failed"


def test_logs(backend):
    name = PipelineOperation("p", [BashTask("a", "echo")]).submit().name
    assert argo.get_workflow_logs_list(name) == ["p-pipeline: done", "a: done"]
    assert argo.get_workflow_logs(name) == "p-pipeline: done\na: done"
