"""The Kafka events backend and the test broker, with the real kafka-python client over TCP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from workflows import argo
from workflows.events import (
    EventClient,
    EventsUnavailable,
    InvalidTopicName,
    ResultMissing,
    ResultQueue,
    ResultTimeout,
    get_event_backend,
)
from workflows.events.kafka_backend import KafkaBackend
from workflows.operations import SingleTaskOperation
from workflows.tasks import BashTask
from workflows.testing.kafka_broker import KafkaTestBroker

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 20  # WORKFLOWS_KAFKA_TIMEOUT of these tests (generous: the machine may be loaded)
WAIT = 60  # seconds a test waits for something that should come


@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """An isolated WORKFLOWS_HOME, no inherited Kafka/events settings; Kafka clients closed after the test."""
    for variable in list(os.environ):
        if variable.startswith(("WORKFLOWS_", "KAFKA_", "ARGO_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", str(TIMEOUT))
    yield
    KafkaBackend.close_all()


@pytest.fixture
def broker(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A running test broker (logs in tmp_path), selected as the events backend."""
    with KafkaTestBroker(tmp_path / "broker") as running:
        monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", running.bootstrap)
        yield running
        KafkaBackend.close_all()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the broker, with kafka-python's own clients -----------------------------------------------------


def test_kafka_python_produces_and_consumes_through_the_broker(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=TIMEOUT * 1000)
    try:
        admin.create_topics({"raw": {"num_partitions": 2, "replication_factor": 1}})
        assert "raw" in admin.list_topics()
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, request_timeout_ms=TIMEOUT * 1000)
    try:
        sent = [producer.send("raw", value=f"m{i}".encode(), partition=i % 2).get(timeout=TIMEOUT) for i in range(6)]
    finally:
        producer.close()
    assert [(m.partition, m.offset) for m in sent] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]

    consumer = KafkaConsumer("raw", bootstrap_servers=broker.bootstrap, group_id="g", auto_offset_reset="earliest",
                             enable_auto_commit=False)
    try:
        received: dict[int, list[bytes]] = {0: [], 1: []}
        deadline = time.monotonic() + WAIT
        while sum(map(len, received.values())) < 6:
            assert time.monotonic() < deadline
            for partition, records in consumer.poll(timeout_ms=1000).items():
                received[partition.partition] += [record.value for record in records]
        consumer.commit()
    finally:
        consumer.close()
    assert received == {0: [b"m0", b"m2", b"m4"], 1: [b"m1", b"m3", b"m5"]}


def test_fetch_waits_for_a_message_instead_of_answering_empty(broker):
    """A consumer blocked in poll gets a message produced meanwhile, before its poll timeout."""
    EventClient("waiting").create_topic()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="w", auto_offset_reset="earliest")
    consumer.partitions_for_topic("waiting")  # as the backend does: the first join then assigns the partition
    consumer.subscribe(["waiting"])
    try:
        deadline = time.monotonic() + WAIT
        while not consumer.assignment():
            assert time.monotonic() < deadline, "the consumer never got its partition"
            consumer.poll(timeout_ms=100)
        threading.Timer(0.3, lambda: EventClient("waiting").produce({"late": True})).start()
        start = time.monotonic()
        records = consumer.poll(timeout_ms=WAIT * 1000)
        assert time.monotonic() - start < WAIT
        assert [json.loads(r.value) for batch in records.values() for r in batch] == [{"late": True}]
    finally:
        consumer.close()


# -- EventClient on Kafka ---------------------------------------------------------------------------


def test_event_client_round_trip_groups_and_topics(broker):
    client = EventClient("orders")
    assert client.create_topic() is True
    assert client.create_topic() is False
    assert client.produce({"n": 1}) == 0
    assert client.produce({"n": 2}) == 1
    assert client.consume_all(timeout=0) == [{"n": 1}, {"n": 2}]
    assert client.consume_all(timeout=0) == []  # the group's offset was committed
    assert client.consume_all(timeout=0, group_id="other") == [{"n": 1}, {"n": 2}]
    client.produce({"n": 3})
    assert client.consume_all(timeout=0) == [{"n": 3}]
    assert client.delete_topic() is True
    assert client.delete_topic() is False
    assert "orders" not in broker.topics()
    assert client.create_topic() is True  # a new topic: nothing of the old one left
    assert client.consume_all(timeout=0) == []


def test_producer_is_reused_across_messages(broker):
    backend = get_event_backend()
    for n in range(3):
        EventClient("reuse").produce({"n": n})
    producer = backend.producer()
    EventClient("reuse").produce({"n": 3})
    assert backend.producer() is producer
    assert EventClient("reuse").consume_all(timeout=0) == [{"n": n} for n in range(4)]


@pytest.mark.parametrize("payload", [
    "two words", 'a "quoted" \'thing\'', "line 1\nline 2\r\n\ttab", "ünïcödé ✓ 😀", "{not json", "",
    "x" * 200_000,
])
def test_payloads_arrive_intact(broker, payload):
    message = {"workflow": "wf", "status": "Succeeded", "payload": payload}
    EventClient("intact").produce(message)
    assert EventClient("intact").consume_all(timeout=WAIT) == [message]


def test_consume_waits_for_the_first_message_then_returns(broker):
    EventClient("later").create_topic()
    threading.Timer(0.5, lambda: EventClient("later").produce({"x": 1})).start()
    assert EventClient("later").consume_all(timeout=WAIT) == [{"x": 1}]


def test_consume_times_out_with_nothing(broker):
    EventClient("quiet").create_topic()
    start = time.monotonic()
    assert EventClient("quiet").consume_all(timeout=0.5) == []
    assert time.monotonic() - start >= 0.5


def test_producing_to_a_topic_the_broker_does_not_create_creates_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", "1")
    with KafkaTestBroker(tmp_path / "strict", auto_create_topics=False) as strict:
        monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", strict.bootstrap)
        assert EventClient("made-on-demand").produce({"ok": True}) == 0
        assert "made-on-demand" in strict.topics()
        assert EventClient("made-on-demand").consume_all(timeout=0) == [{"ok": True}]
        KafkaBackend.close_all()


def test_no_topic_named_none(broker):
    with pytest.raises(InvalidTopicName):
        EventClient(None)  # type: ignore[arg-type]
    # CloudHarness's notify-queue image defaults queue_name to the text 'None': the workflow's topic is used.
    result = run_module("workflows.events.notify", workflow_result="Succeeded", queue_name="None",
                        WORKFLOW_NAME="wf-none", WORKFLOWS_KAFKA_BOOTSTRAP=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    assert EventClient("wf-none").consume_all(timeout=0) == [
        {"workflow": "wf-none", "status": "Succeeded", "payload": None}]
    assert "None" not in broker.topics()


# -- failures ---------------------------------------------------------------------------------------


def test_unreachable_broker_is_a_clear_error(monkeypatch):
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", address)
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", "1")
    for action in (lambda: EventClient("t").produce({}), lambda: EventClient("t").create_topic(),
                   lambda: EventClient("t").consume_all(timeout=0)):
        with pytest.raises(EventsUnavailable, match=f"{address}.*within 1 s") as raised:
            action()
        assert "WORKFLOWS_KAFKA_TIMEOUT" in str(raised.value)


def test_a_broker_that_never_answers_is_a_timeout(monkeypatch):
    """Every call is bounded: a listener that accepts and stays silent does not block forever."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", f"127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", "1")
    try:
        with pytest.raises(EventsUnavailable, match="within 1 s"):
            EventClient("t").produce({})
    finally:
        silent.close()


def test_broker_restart_loses_nothing_acknowledged(tmp_path, monkeypatch):
    folder = tmp_path / "durable"
    broker = KafkaTestBroker(folder).start()
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", broker.bootstrap)
    try:
        client = EventClient("durable")
        for n in range(20):
            client.produce({"n": n})
        assert client.consume_all(timeout=0, group_id="early") == [{"n": n} for n in range(20)]
        broker.stop()
        broker.start()  # same folder, same port
        # The backend's producer (created before the restart) reconnects; committed offsets are kept.
        client.produce({"n": 20})
        assert client.consume_all(timeout=0, group_id="early") == [{"n": 20}]
        assert client.consume_all(timeout=0, group_id="late") == [{"n": n} for n in range(21)]
    finally:
        KafkaBackend.close_all()
        broker.stop()
    # A fresh broker process on the folder sees the same log.
    with KafkaTestBroker(folder) as again:
        monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", again.bootstrap)
        assert EventClient("durable").consume_all(timeout=0, group_id="third") == [{"n": n} for n in range(21)]
        KafkaBackend.close_all()


def test_a_message_sent_while_the_broker_restarts_is_delivered(tmp_path, monkeypatch):
    broker = KafkaTestBroker(tmp_path / "restarting").start()
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", "20")
    try:
        EventClient("restarting").produce({"n": 0})
        broker.stop()
        threading.Timer(0.5, broker.start).start()
        assert EventClient("restarting").produce({"n": 1}) == 1  # retried by the producer until acknowledged
        assert EventClient("restarting").consume_all(timeout=0) == [{"n": 0}, {"n": 1}]
    finally:
        KafkaBackend.close_all()
        broker.stop()


# -- async_consume ----------------------------------------------------------------------------------


def test_async_consume_survives_a_failing_handler_and_stops_cleanly(broker):
    client = EventClient("jobs")
    client.create_topic()
    seen: queue.Queue = queue.Queue()

    def handler(event_client, app, message):
        seen.put((event_client, app, message))
        if message.get("boom"):
            raise RuntimeError("handler failure")

    consumption = client.async_consume(app="the-app", handler=handler, group_id="workers")
    for message in ({"n": 1}, {"n": 2, "boom": True}, {"n": 3}):
        client.produce(message)
    handled = [seen.get(timeout=WAIT) for _ in range(3)]
    assert [m for _, _, m in handled] == [{"n": 1}, {"n": 2, "boom": True}, {"n": 3}]
    assert all(c is client and a == "the-app" for c, a, _ in handled)
    client.produce({"n": 4})  # still consuming after the failure
    assert seen.get(timeout=WAIT)[2] == {"n": 4}
    assert consumption.failures == 1 and consumption.handled == 4
    client.close(timeout=WAIT)
    assert not consumption.running
    # Everything handled was committed: the group has nothing left.
    assert client.consume_all(timeout=0, group_id="workers") == []


def test_async_consume_resolves_a_flask_style_app_proxy(broker):
    class Proxy:
        def _get_current_object(self):
            return "real-app"

    apps: queue.Queue = queue.Queue()
    client = EventClient("proxied")
    client.produce({"x": 1})
    client.async_consume(app=Proxy(), handler=lambda event_client, app, message: apps.put(app))
    assert apps.get(timeout=WAIT) == "real-app"
    client.close(timeout=WAIT)


def test_async_consume_needs_a_handler():
    with pytest.raises(TypeError, match="handler=None"):
        EventClient("t").async_consume()


def test_async_consume_on_the_embedded_backend():
    seen: queue.Queue = queue.Queue()
    client = EventClient("local-jobs")
    client.async_consume(handler=lambda event_client, app, message: seen.put(message))
    client.produce({"n": 1})
    assert seen.get(timeout=WAIT) == {"n": 1}
    client.close(timeout=WAIT)


# -- results through a topic ------------------------------------------------------------------------


def test_result_queue_waits_for_n_results_with_its_own_group_and_cleans_up(broker):
    with ResultQueue("wf-results") as results:
        assert "wf-results" in broker.topics()
        assert results.group_id.startswith("wf-results-waiter-")
        assert ResultQueue("wf-results").group_id != results.group_id
        EventClient("wf-results").produce({"a.txt": "1"})
        EventClient("wf-results").consume_all(timeout=0)  # another consumer (default group) takes nothing away
        threading.Timer(0.3, lambda: EventClient("wf-results").produce({"b.txt": "2"})).start()
        assert results.wait(count=2, timeout=WAIT) == [{"a.txt": "1"}, {"b.txt": "2"}]
    assert "wf-results" not in broker.topics()


def test_result_queue_is_deleted_on_failure_too(broker):
    with pytest.raises(ResultMissing, match="'wf-bad' ended Failed after publishing 0 of 1"):
        with ResultQueue("wf-bad") as results:
            EventClient("wf-bad").produce({"workflow": "wf-bad", "status": "Failed", "payload": None})
            results.wait(count=1, timeout=WAIT)
    assert "wf-bad" not in broker.topics()
    with pytest.raises(ResultTimeout, match="0 of 2"):
        with ResultQueue("wf-slow") as results:
            results.wait(count=2, timeout=0.2)
    assert "wf-slow" not in broker.topics()


def test_a_result_queue_on_kafka_deletes_its_topic(broker):
    with ResultQueue("wf-one") as results:
        EventClient("wf-one").produce({"out.txt": "42"})
        assert results.wait(1, timeout=WAIT) == [{"out.txt": "42"}]
    assert "wf-one" not in broker.topics()


# -- the built-in task programs, and end to end ------------------------------------------------------


def run_module(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFLOWS_KAFKA", "KAFKA_"))}
    return subprocess.run([sys.executable, "-m", module], cwd=ROOT, capture_output=True, text=True, timeout=WAIT,
                          env={**clean, "PYTHONPATH": str(ROOT), **env})


def test_send_result_publishes_on_kafka(broker, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "sum.txt").write_text("3.0")
    (shared / "b.txt").write_text("b")
    result = run_module("workflows.events.send_result", WORKFLOW_NAME="wf-sum", shared_directory=str(shared),
                        WORKFLOWS_KAFKA_BOOTSTRAP=broker.bootstrap)
    assert result.returncode == 0, result.stderr
    with ResultQueue("wf-sum") as results:
        assert results.wait(2, timeout=WAIT) == [{"b.txt": "b"}, {"sum.txt": "3.0"}]


def test_notify_fails_clearly_when_the_broker_is_unreachable():
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-x", workflow_result="Succeeded",
                        WORKFLOWS_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}", WORKFLOWS_KAFKA_TIMEOUT="1")
    assert result.returncode == 1
    assert "cannot publish on wf-x" in result.stderr and "within 1 s" in result.stderr


@pytest.mark.parametrize("where", ["local", "kubernetes", "argo-server"])
@pytest.mark.parametrize("events", ["embedded", "kafka"])
@pytest.mark.parametrize("succeed", [True, False])
def test_on_exit_notify_reaches_a_consumer(where, events, succeed, tmp_path, monkeypatch, request):
    """A workflow's exit handler, on the local backend or on FakeCluster (through the Kubernetes API or Argo
    Server), publishes on the embedded backend or on the broker the pods are told of."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    if where == "local":
        monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    else:
        request.getfixturevalue("fake_cluster" if where == "kubernetes" else "fake_argo_server")
    if events == "kafka":
        broker = request.getfixturevalue("broker")  # sets WORKFLOWS_KAFKA_BOOTSTRAP, which pods inherit
        monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "kafka")
    queue_name = f"outcomes-{events}"
    EventClient(queue_name).create_topic()  # before submitting: the consumer's topic exists
    seen: queue.Queue = queue.Queue()
    client = EventClient(queue_name)
    client.async_consume(handler=lambda event_client, app, message: seen.put(message), group_id="service")
    task = BashTask("work", "true" if succeed else "exit 3")
    op = SingleTaskOperation(f"notified-{where}-{events}", task,
                             on_exit_notify={"queue": queue_name, "payload": {"id": 7, "note": 'a "b"\nc'}})
    workflow = op.execute().wait(WAIT)
    assert workflow.status == ("Succeeded" if succeed else "Failed")
    message = seen.get(timeout=WAIT)
    assert message == {"workflow": workflow.name, "status": workflow.status,
                       "payload": {"id": 7, "note": 'a "b"\nc'}}
    client.close(timeout=WAIT)
    if events == "kafka":
        assert queue_name in broker.topics() and "None" not in broker.topics()
        assert argo.get_workflow(workflow.name).status == workflow.status
