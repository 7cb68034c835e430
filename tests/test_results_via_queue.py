"""``results_via="queue"`` of DistributedSyncOperationWithResults, and topics created before submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.errors import BadOperationConfiguration, WorkflowResultsMissing
from workflows.events import EventClient
from workflows.events.kafka_backend import KafkaBackend
from workflows.operations import DistributedSyncOperationWithResults, SingleTaskOperation
from workflows.tasks import BashTask, CommandBasedTask, PythonTask
from workflows.testing import FakeCluster, MemoryBackend
from workflows.testing.kafka_broker import KafkaTestBroker

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60


@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Beyond conftest's isolation: a home of the test's own, short Kafka timeouts, no CloudHarness values;
    Kafka clients closed afterwards."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", "5")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("CH_VALUES_PATH", str(tmp_path / "no-values.yaml"))
    yield
    KafkaBackend.close_all()


@pytest.fixture
def broker(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A test broker that creates no topic on its own, selected as the events backend (pods inherit it)."""
    with KafkaTestBroker(tmp_path / "broker", auto_create_topics=False) as running:
        monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", running.bootstrap)
        monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "kafka")
        yield running
        KafkaBackend.close_all()


@pytest.fixture
def cluster(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A FakeCluster reached through the Kubernetes API."""
    running = FakeCluster(tmp_path / "cluster").start()
    monkeypatch.setenv("KUBECONFIG", str(running.write_kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("WORKFLOWS_BACKEND", "kubernetes")
    yield running
    running.stop()


SETUPS = ["local-embedded", "local-kafka", "cluster-kafka", "cluster-embedded", "argo-kafka"]


@pytest.fixture(params=SETUPS)
def setup(request, monkeypatch: pytest.MonkeyPatch):
    """The backend and events backend of a test; the broker when there is one (else ``None``)."""
    where, events = request.param.split("-")
    if where == "local":
        monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    elif where == "cluster":
        request.getfixturevalue("cluster")
    else:  # the same FakeCluster through Argo Server's API
        for variable, value in request.getfixturevalue("cluster").argo_env().items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv("WORKFLOWS_BACKEND", "argo-server")
    return request.getfixturevalue("broker") if events == "kafka" else None


def compute():
    import os

    directory = os.environ["shared_directory"]
    with open(os.path.join(directory, "answer.txt"), "w") as out:
        out.write("42")
    with open(os.path.join(directory, "note.txt"), "w") as out:
        out.write('a "quoted"\nline')


def fail():
    raise SystemExit(3)


def topic_exists(topic: str) -> bool:
    """Whether ``topic`` exists on the events backend in use (creating it to find out, then removing it again)."""
    created = EventClient(topic).create_topic()
    if created:
        EventClient(topic).delete_topic()
    return not created


def test_queue_returns_what_the_workflow_path_returns_and_deletes_its_topic(setup):
    expected = [{"answer.txt": "42"}, {"note.txt": 'a "quoted"\nline'}]
    by_workflow = DistributedSyncOperationWithResults("by-workflow", PythonTask("compute", compute))
    assert by_workflow.results_via == "workflow"
    assert by_workflow.execute(WAIT) == expected
    op = DistributedSyncOperationWithResults("by-queue", PythonTask("compute", compute), results_via="queue")
    assert op.execute(WAIT) == expected
    name = op.persisted.name
    assert name.startswith("by-queue-") and len(name) == len("by-queue-") + 5
    assert not topic_exists(name)
    if setup is not None:
        assert name not in setup.topics()


def test_queue_topic_is_deleted_after_a_failing_task(setup):
    op = DistributedSyncOperationWithResults("failing", PythonTask("fail", fail), results_via="queue")
    with pytest.raises(WorkflowResultsMissing, match="ended Failed"):
        op.execute(WAIT)
    assert not topic_exists(op.persisted.name)
    if setup is not None:
        assert op.persisted.name not in setup.topics()


def test_queue_topic_is_deleted_after_a_timeout(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    op = DistributedSyncOperationWithResults("slow", BashTask("slow", "sleep 30"), results_via="queue")
    with pytest.raises(TimeoutError):
        op.execute(0.2)
    assert op.persisted is not None and not topic_exists(op.persisted.name)
    op.persisted.stop()


def test_queue_topic_exists_while_the_workflow_runs(tmp_path, broker, monkeypatch):
    """Created before submission: a held workflow (nothing runs) already has its result topic."""
    held = FakeCluster(tmp_path / "held", hold=True).start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(held.write_kubeconfig(tmp_path / "held-kubeconfig")))
        monkeypatch.setenv("WORKFLOWS_BACKEND", "kubernetes")
        op = SingleTaskOperation("notified", CommandBasedTask("t", ["true"]), on_exit_notify={"queue": "outcomes"})
        op.submit()
        assert "outcomes" in broker.topics()
        none = SingleTaskOperation("unnamed", CommandBasedTask("t", ["true"]), on_exit_notify={"queue": "None"})
        none.submit()
        assert "None" not in broker.topics()
    finally:
        held.stop()


def test_unknown_results_via_is_named():
    with pytest.raises(BadOperationConfiguration, match="results_via='kafka'"):
        DistributedSyncOperationWithResults("bad", PythonTask("compute", compute), results_via="kafka")


def test_results_via_defaults_to_queue_inside_cloudharness(monkeypatch):
    op = DistributedSyncOperationWithResults("default", PythonTask("compute", compute))
    assert op.results_via == "workflow"
    monkeypatch.setenv("WORKFLOWS_CLOUDHARNESS", "1")
    assert op.results_via == "queue"
    assert DistributedSyncOperationWithResults("given", PythonTask("compute", compute),
                                               results_via="workflow").results_via == "workflow"


def test_a_task_that_writes_nothing_is_named_and_its_topic_deleted(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    op = DistributedSyncOperationWithResults("empty", CommandBasedTask("t", ["true"]), results_via="queue")
    with pytest.raises(WorkflowResultsMissing, match="put no result in the queue"):
        op.execute(WAIT)
    assert not topic_exists(op.persisted.name)


def test_the_memory_backend_keeps_the_chosen_name():
    backend = MemoryBackend(phase="Succeeded")
    op = DistributedSyncOperationWithResults("memory", CommandBasedTask("t", ["true"]), results_via="queue")
    with pytest.raises(WorkflowResultsMissing, match="put no result"):  # it runs nothing: nothing is published
        op.execute(WAIT, backend=backend)
    assert backend.submitted[0]["metadata"]["name"] == op.persisted.name
    assert "generateName" not in backend.submitted[0]["metadata"]
    assert not topic_exists(op.persisted.name)
