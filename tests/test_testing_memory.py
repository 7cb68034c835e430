"""MemoryBackend: records what is submitted, answers in Argo's shape, wakes waiters without polling."""

from __future__ import annotations

import contextlib
import re
import threading

import pytest

from workflows import argo
from workflows.argo import WorkflowException, WorkflowNotFound
from workflows.backends import Backend
from workflows.errors import InvalidWorkflowSpec
from workflows.operations import DistributedSyncOperation, DistributedSyncOperationWithResults, PipelineOperation
from workflows.tasks import BashTask
from workflows.testing import MemoryBackend
from workflows.testing.resources import NAME_SUFFIX_ALPHABET


def test_records_specs_and_answers_like_argo():
    backend = MemoryBackend()
    assert isinstance(backend, Backend) and backend.name == "memory"
    operation = PipelineOperation("pipe", [BashTask("a", "echo a"), BashTask("b", "echo b")])
    workflow = operation.execute(backend=backend)
    assert backend.submitted == [operation.to_workflow()]
    assert re.fullmatch(rf"pipe-[{NAME_SUFFIX_ALPHABET}]{{5}}", workflow.name)
    raw = backend.get(workflow.name)
    assert raw["metadata"]["namespace"] == "default" and raw["metadata"]["uid"]
    assert raw["status"]["phase"] == "Succeeded" and raw["status"]["finishedAt"]
    assert raw["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Succeeded"
    assert workflow.refresh().succeeded()
    backend.submitted[0]["metadata"]["generateName"] = "changed-"
    assert backend.get(workflow.name)["metadata"]["generateName"] == "pipe-"


def test_list_pages_newest_first_by_phase():
    backend = MemoryBackend(phase="Running")
    names = [backend.submit({"metadata": {"generateName": "w-"}, "spec": {}})["metadata"]["name"] for _ in range(3)]
    backend.set_phase(names[1], "Failed")
    page = argo.get_workflows(limit=2, backend=backend)
    assert [item.name for item in page.items] == [names[2], names[1]]
    rest = argo.get_workflows(limit=2, continue_token=page.continue_token, backend=backend)
    assert [item.name for item in rest.items] == [names[0]] and rest.continue_token is None
    assert [item.name for item in argo.get_workflows("Failed", backend=backend).items] == [names[1]]
    with pytest.raises(WorkflowException, match="continue_token='x'"):
        backend.list(None, 2, "x")


def test_wait_wakes_on_set_phase_and_times_out():
    backend = MemoryBackend(phase=None)
    name = backend.submit({"metadata": {"name": "held"}, "spec": {}})["metadata"]["name"]
    assert "status" not in backend.get(name)
    with pytest.raises(TimeoutError, match="'held'"):
        backend.wait(name, 0.05)
    seen = []
    waiter = threading.Thread(target=lambda: seen.append(backend.wait(name, None)))
    waiter.start()
    backend.set_phase(name, "Running")
    backend.set_phase(name, "Error", "broken")
    waiter.join(60)
    assert seen[0]["status"]["phase"] == "Error" and seen[0]["status"]["message"] == "broken"


def test_stop_delete_logs_and_results():
    backend = MemoryBackend(phase="Running")
    name = backend.submit({"metadata": {"generateName": "w-"}, "spec": {}})["metadata"]["name"]
    backend.set_logs(name, {f"{name}-1": "one\n", f"{name}-2": "two\n"})
    assert argo.get_workflow_logs_list(name, backend=backend) == ["one\n", "two\n"]
    backend.stop(name)
    stopped = backend.get(name)
    assert stopped["status"]["phase"] == "Failed" and stopped["spec"]["shutdown"] == "Stop"
    argo.delete_workflow(name, backend=backend)
    with pytest.raises(WorkflowNotFound):
        backend.get(name)
    with pytest.raises(WorkflowException, match="already exists"):
        backend.submit({"metadata": {"name": "x"}})
        backend.submit({"metadata": {"name": "x"}})


def test_sync_operations_on_the_memory_backend():
    backend = MemoryBackend()
    assert DistributedSyncOperation("sync", BashTask("t", "true")).execute(timeout=5, backend=backend).succeeded()
    operation = DistributedSyncOperationWithResults("results", BashTask("t", "true"))
    with pytest.raises(WorkflowException, match="set_result"):
        operation.execute(timeout=5, backend=backend)
    name = backend.list(None, 1, None)[0][0]["metadata"]["name"]
    backend.set_result(name, [{"out.txt": "42"}])
    assert backend.results(argo.get_workflow(name, backend=backend)) == [{"out.txt": "42"}]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="phase='Done'"):
        MemoryBackend(phase="Done")
    backend = MemoryBackend()
    with pytest.raises(WorkflowException, match="generateName is required"):
        backend.submit({"metadata": {}})
    with pytest.raises(WorkflowNotFound):
        backend.set_phase("missing", "Failed")


def test_a_submission_runs_within_the_backend_s_submitting_context_validation_included():
    """``Backend.submitting()`` surrounds a whole submission, the spec's validation first: the local backend starts
    the workflow's runner there. A spec refused by validation leaves the context with the error, before the
    backend's ``submit``."""
    events = []

    class Recording(MemoryBackend):
        @contextlib.contextmanager
        def submitting(self):
            events.append("enter")
            try:
                yield
            except InvalidWorkflowSpec as error:
                events.append(f"refused: {type(error).__name__}")
                raise
            events.append("exit")

        def submit(self, spec):
            events.append("submit")
            return super().submit(spec)

    backend = Recording()
    PipelineOperation("pipe", [BashTask("a", "echo a")]).execute(backend=backend)
    assert events == ["enter", "submit", "exit"]
    events.clear()
    bad = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "bad-"},
           "spec": {"entrypoint": "missing", "templates": [{"name": "main", "container": {"image": "busybox"}}]}}
    with pytest.raises(InvalidWorkflowSpec):
        argo.submit_workflow(bad, backend=backend)
    assert events == ["enter", "refused: InvalidWorkflowSpec"] and backend.submitted == [
        PipelineOperation("pipe", [BashTask("a", "echo a")]).to_workflow()]
