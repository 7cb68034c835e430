"""The ``kubernetes`` and ``argo-server`` backends with their real clients, over real HTTP, against FakeCluster."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from workflows import argo
from workflows.argo import WorkflowException, WorkflowNotFound
from workflows.backends.retry import RetryPolicy
from workflows.operations import (
    DagOperation,
    DistributedSyncOperation,
    DistributedSyncOperationWithResults,
    ParallelOperation,
    PipelineOperation,
    SimpleDagOperation,
    SingleTaskOperation,
)
from workflows.tasks import BashTask, CommandBasedTask, PythonTask

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60
TOKEN = "t0ken-that-must-not-leak"
FAST = RetryPolicy(attempts=5, base=0.01, cap=0.05)
KINDS = ("kubernetes", "argo-server")
@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch):
    """Beyond conftest's isolation: a home of the test's own (no ``~/.kube/config``), this checkout for the
    subprocesses."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def start_cluster(tmp_path, **options):
    from workflows.testing import FakeCluster

    return FakeCluster(tmp_path / "cluster", token=TOKEN, **options).start()


@pytest.fixture
def cluster(tmp_path):
    cluster = start_cluster(tmp_path)
    yield cluster
    cluster.stop()


@pytest.fixture
def held(tmp_path):
    """A cluster whose workflows stay Pending until finished by the test."""
    cluster = start_cluster(tmp_path, hold=True)
    yield cluster
    cluster.stop()


def connect(kind: str, cluster, tmp_path, monkeypatch, token: str | None = None):
    """The backend of ``kind`` on ``cluster``, configured through the environment as a user would."""
    from workflows.backends.argo_server import ArgoServerBackend
    from workflows.backends.kubernetes import KubernetesBackend

    monkeypatch.setenv("WORKFLOWS_BACKEND", kind)
    if kind == "kubernetes":
        path = cluster.write_kubeconfig(tmp_path / f"kubeconfig-{token or 'good'}")
        if token:
            path.write_text(path.read_text().replace(TOKEN, token))
        monkeypatch.setenv("KUBECONFIG", str(path))
        return KubernetesBackend(retry=FAST)
    for variable, value in cluster.argo_env().items():
        monkeypatch.setenv(variable, value)
    if token:
        monkeypatch.setenv("ARGO_TOKEN", token)
    return ArgoServerBackend(retry=FAST)


@pytest.fixture(params=KINDS)
def backend(request, cluster, tmp_path, monkeypatch):
    return connect(request.param, cluster, tmp_path, monkeypatch)


@pytest.fixture(params=KINDS)
def held_backend(request, held, tmp_path, monkeypatch):
    return connect(request.param, held, tmp_path, monkeypatch)


def compute():
    import os

    with open(os.path.join(os.environ["shared_directory"], "answer.txt"), "w") as out:
        out.write("42")


def wait_until(predicate, what: str, timeout: float = WAIT):
    """Block until ``predicate()`` about the requests the cluster received is true (checked every 5 ms: requests
    ring no bell; ``FakeCluster.wait_for`` serves conditions on the cluster's objects)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def is_watch(request, name: str) -> bool:
    selector = request.query.get("fieldSelector") or request.query.get("listOptions.fieldSelector")
    return selector == f"metadata.name={name}" and (request.query.get("watch") == "true"
                                                     or request.path.startswith("/api/v1/workflow-events/"))


def watches(cluster, name: str) -> int:
    return sum(1 for request in list(cluster.requests) if is_watch(request, name))


def in_background(call):
    """Run ``call`` in a thread; return a function that joins it and returns (or raises) its outcome."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result():
        thread.join(WAIT)
        assert not thread.is_alive(), "the call did not return"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return result


def only_workflow(cluster) -> str:
    cluster.wait_for(lambda: len(cluster.workflows()) == 1)
    (workflow,) = cluster.workflows()
    return workflow["metadata"]["name"]


# --- operations -----------------------------------------------------------------------------------------------------

def test_every_operation_type_runs(backend, cluster):
    a, b, c = (BashTask(name, f"echo {name}") for name in "abc")
    for op in (SingleTaskOperation("single", a), PipelineOperation("pipe", [a, b, c]),
               ParallelOperation("fan", [a, b, c]), SimpleDagOperation("groups", a, [b, c]),
               DagOperation("dag", [a, b, c], {"b": ["a"], "c": "b.Succeeded"})):
        workflow = op.execute(backend=backend).wait(WAIT)
        assert workflow.succeeded(), workflow.get_status_message()
        assert workflow.backend is backend
        logs = argo.get_workflow_logs_list(workflow.name, backend=backend)
        assert sorted(text.strip() for text in logs) == [task.name for task in op.task_list()]
    sync = DistributedSyncOperation("sync", CommandBasedTask("t", ["true"])).execute(WAIT, backend=backend)
    assert sync.succeeded() and sync.is_finished()
    results = DistributedSyncOperationWithResults("results", PythonTask("compute", compute))
    assert results.execute(WAIT, backend=backend) == [{"answer.txt": "42"}]
    assert len(cluster.workflows()) == 7


def test_a_workflow_goes_back_to_its_backend(backend, cluster, monkeypatch):
    workflow = SingleTaskOperation("home", CommandBasedTask("t", ["true"])).submit(backend)
    monkeypatch.setenv("WORKFLOWS_BACKEND", "nowhere")
    assert workflow.wait(WAIT).succeeded()
    assert workflow.refresh().succeeded()


# --- the query API --------------------------------------------------------------------------------------------------

def test_query_api(backend, cluster):
    names = [PipelineOperation("query", [BashTask(step, f"echo {step}-line") for step in ("one", "two", "three")])
             .execute(backend=backend).wait(WAIT).name for _ in range(3)]
    failed = SingleTaskOperation("broken", BashTask("bad", "exit 3")).execute(backend=backend).wait(WAIT)
    assert failed.failed()
    assert [item.name for item in argo.get_workflows(status="Failed", backend=backend).items] == [failed.name]
    seen, token = [], None
    while True:
        page = argo.get_workflows(status="Succeeded", limit=2, continue_token=token, backend=backend)
        assert len(page.items) <= 2
        seen += [item.name for item in page.items]
        token = page.continue_token
        if token is None:
            break
    assert sorted(seen) == sorted(names)
    workflow = argo.get_workflow(names[0], backend=backend)
    assert workflow.succeeded() and workflow.backend is backend
    assert argo.get_workflow_logs_list(names[0], backend=backend) == ["one-line\n", "two-line\n", "three-line\n"]
    assert argo.get_workflow_logs(names[0], backend=backend) == "one-line\n\ntwo-line\n\nthree-line\n"
    argo.delete_workflow(names[0], backend=backend)
    with pytest.raises(WorkflowNotFound, match=names[0]):
        argo.get_workflow(names[0], backend=backend)
    with pytest.raises(WorkflowNotFound):
        argo.delete_workflow(names[0], backend=backend)
    with pytest.raises(WorkflowNotFound):
        argo.wait_workflow(names[0], backend=backend)


def test_submit_validates_first(backend, cluster):
    from workflows.errors import InvalidWorkflowSpec

    spec = SingleTaskOperation("bad", CommandBasedTask("t", ["true"])).to_workflow()
    spec["spec"]["entrypoint"] = "missing"
    with pytest.raises(InvalidWorkflowSpec, match="missing"):
        argo.submit_workflow(spec, backend=backend)
    assert cluster.workflows() == []


def test_stop_ends_the_workflow_failed(backend, cluster):
    workflow = SingleTaskOperation("stop", BashTask("slow", "sleep 30")).execute(backend=backend)
    workflow.stop()
    assert workflow.wait(WAIT).failed()


# --- waiting --------------------------------------------------------------------------------------------------------

def test_pending_is_not_finished_and_the_timeout_names_the_workflow(held_backend, held):
    op = DistributedSyncOperation("held", CommandBasedTask("t", ["true"]))
    with pytest.raises(TimeoutError, match=r"workflow 'held-\w{5}' did not finish within 0.3 s.*Pending"):
        op.execute(timeout=0.3, backend=held_backend)
    assert held.workflow(op.persisted.name)["metadata"]["name"] == op.persisted.name


def test_an_empty_phase_is_not_finished(tmp_path, monkeypatch):
    cluster = start_cluster(tmp_path, controller=False)
    try:
        for kind in KINDS:
            backend = connect(kind, cluster, tmp_path, monkeypatch)
            with pytest.raises(TimeoutError, match="has not given it a phase yet"):
                DistributedSyncOperation("empty", CommandBasedTask("t", ["true"])).execute(0.2, backend=backend)
    finally:
        cluster.stop()


def test_wait_returns_when_the_status_turns_finished(held_backend, held):
    result = in_background(lambda: DistributedSyncOperation("w", CommandBasedTask("t", ["true"])).execute(
        WAIT, backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 1, "the watch")
    held.finish(name, "Failed", "told to")
    workflow = result()
    assert workflow.failed() and workflow.get_status_message() == "told to"


def test_wait_survives_dropped_streams(held_backend, held):
    held.drop_next_watches(count=2)
    result = in_background(lambda: DistributedSyncOperation("drop", CommandBasedTask("t", ["true"])).execute(
        WAIT, backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 3, "the third watch")
    held.finish(name, "Succeeded")
    assert result().succeeded()


def test_wait_survives_a_stream_dropped_after_events(held_backend, held):
    held.drop_next_watches(count=1, after_events=1)
    result = in_background(lambda: DistributedSyncOperation("late", CommandBasedTask("t", ["true"])).execute(
        WAIT, backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 1, "the watch")
    held.release(name)  # an event (Running), then the stream drops
    wait_until(lambda: watches(held, name) >= 2, "the resumed watch")
    held.finish(name, "Succeeded")
    assert result().succeeded()


def test_wait_survives_an_expired_resource_version(held_backend, held):
    result = in_background(lambda: DistributedSyncOperation("gone", CommandBasedTask("t", ["true"])).execute(
        WAIT, backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 1, "the watch")
    SingleTaskOperation("other", CommandBasedTask("t", ["true"])).submit(held_backend)  # history moves on
    held.compact()  # the version the client watches from is expired now
    held.drop_watches()  # resuming from it gets a 410 in the stream: the client reads the workflow again
    wait_until(lambda: watches(held, name) >= 3, "a watch after the 410")
    held.finish(name, "Succeeded")
    assert result().succeeded()


# --- faults ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["500", "503", "429", "reset", "lost"])
def test_exactly_one_workflow_per_submit_under_faults(fault, held_backend, held):
    if fault == "reset":
        held.reset_next(2, method="POST")
    elif fault == "lost":
        held.lose_response_next(1, method="POST")
    else:
        held.fail_next(2, int(fault), method="POST", retry_after=0.01 if fault == "429" else None)
    workflow = SingleTaskOperation("flaky", CommandBasedTask("t", ["true"])).submit(held_backend)
    assert [item["metadata"]["name"] for item in held.workflows()] == [workflow.name]
    assert sum(1 for request in held.requests if request.method == "POST") == (2 if fault == "lost" else 3)


def test_a_real_name_collision_gets_a_new_name(held_backend, held, monkeypatch):
    from workflows.backends import cluster as cluster_module

    first = SingleTaskOperation("same", CommandBasedTask("t", ["true"])).submit(held_backend).name
    names = iter([first, "same-bcdfg"])
    monkeypatch.setattr(cluster_module, "generate_name", lambda prefix: next(names))
    second = SingleTaskOperation("same", CommandBasedTask("t", ["true"])).submit(held_backend).name
    assert second == "same-bcdfg"
    assert sorted(item["metadata"]["name"] for item in held.workflows()) == sorted([first, second])


def test_reads_are_retried_and_persistent_failures_are_clear(backend, cluster):
    name = SingleTaskOperation("reads", CommandBasedTask("t", ["true"])).execute(backend=backend).name
    cluster.reset_next(1, method="GET")
    cluster.fail_next(1, 503, method="GET")
    assert argo.get_workflow(name, backend=backend).name == name
    cluster.fail_next(FAST.attempts, 500, method="GET")
    with pytest.raises(WorkflowException, match="500: fault injected") as raised:
        argo.get_workflow(name, backend=backend)
    assert raised.value.status == 500
    cluster.lose_response_next(1, method="DELETE")
    argo.delete_workflow(name, backend=backend)
    assert cluster.workflow(name) is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_token_is_a_clear_error_and_no_secret_leaks(kind, cluster, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    good = connect(kind, cluster, tmp_path, monkeypatch)
    name = SingleTaskOperation("secret", CommandBasedTask("t", ["true"])).execute(backend=good).name
    cluster.fail_next(2, 503, method="GET")
    assert argo.get_workflow(name, backend=good).name == name
    bad = connect(kind, cluster, tmp_path, monkeypatch, token="wrong-token-value")
    with pytest.raises(WorkflowException, match="credentials were refused") as raised:
        argo.get_workflow(name, backend=bad)
    assert raised.value.status == 401
    for text in [str(raised.value), repr(raised.value), caplog.text]:
        assert TOKEN not in text and "wrong-token-value" not in text


def test_a_deleted_workflow_ends_the_wait(held_backend, held):
    result = in_background(lambda: DistributedSyncOperation("del", CommandBasedTask("t", ["true"])).execute(
        WAIT, backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 1, "the watch")
    argo.delete_workflow(name, backend=held_backend)
    with pytest.raises(WorkflowNotFound, match=name):
        result()


def write_big():
    import os

    for index in range(3):
        with open(os.path.join(os.environ["shared_directory"], f"part{index}.txt"), "w") as out:
            out.write("x" * 100_000)


def test_a_result_too_large_for_the_workflow_names_the_limit(backend, cluster):
    from workflows.backends.results import ResultTooLarge

    with pytest.raises(ResultTooLarge, match=r"big-\w{5}.*300\d\d\d bytes.*256 KiB"):
        DistributedSyncOperationWithResults("big", PythonTask("big", write_big)).execute(WAIT, backend=backend)


def test_a_wait_without_deadline_renews_its_watch(held_backend, held, monkeypatch):
    from workflows.backends import cluster as cluster_module

    monkeypatch.setattr(cluster_module, "WATCH_RENEWAL", 1)  # the server ends each watch after 1 s
    result = in_background(lambda: DistributedSyncOperation("renew", CommandBasedTask("t", ["true"])).execute(
        backend=held_backend))
    name = only_workflow(held)
    wait_until(lambda: watches(held, name) >= 3, "two renewals of the watch")
    held.finish(name, "Succeeded")
    assert result().succeeded()
