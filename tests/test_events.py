"""workflows.events: the EventClient API over the embedded (SQLite) backend, with real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from child_output import read_line

from workflows import doorbell
from workflows.config import state_home
from workflows.events import (
    EventClient,
    EventsConfigurationError,
    InvalidTopicName,
    MessageNotSerializable,
    ResultMissing,
    ResultQueue,
    ResultTimeout,
    cloudharness_bootstrap,
    get_event_backend,
    notify_queue,
)

ROOT = Path(__file__).resolve().parents[1]


class WaitSpy:
    """Records what every :meth:`workflows.doorbell.Waiter.wait` of this process returned (``True``: rung).

    ``before_first_wait`` runs once, when a consumer is about to block for the first time: its waiter is
    registered by then, so a message produced from that moment on must wake it.
    """

    def __init__(self) -> None:
        self.results: list[bool] = []
        self.before_first_wait = lambda: None

    def woken_by_a_ring(self) -> bool:
        """Whether the consumer blocked and a ring (not a timeout) ended its wait."""
        return bool(self.results) and self.results[-1] is True


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> WaitSpy:
    spy = WaitSpy()
    wait = doorbell.Waiter.wait

    def spying_wait(self, timeout=None):
        if not spy.results:
            spy.before_first_wait()
        result = wait(self, timeout)
        spy.results.append(result)
        return result

    monkeypatch.setattr(doorbell.Waiter, "wait", spying_wait)
    return spy


#: For consumer processes: print ``waiting`` when about to block, and the results of their waits at the end.
SPY_IN_CHILD = """
import atexit, sys
from workflows import doorbell
_wait, _results = doorbell.Waiter.wait, []
def _spy(self, timeout=None):
    if not _results:
        print('waiting', flush=True)
    _results.append(_wait(self, timeout))
    return _results[-1]
doorbell.Waiter.wait = _spy
atexit.register(lambda: print('waits', _results, flush=True))
"""


def spawn(code: str, *args: str, **kwargs) -> subprocess.Popen:
    """A Python process running ``code`` with this checkout importable and the test's environment."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)


# -- the API ---------------------------------------------------------------------------------------


def test_produce_consume_round_trip(workflows_home):
    client = EventClient("round-trip")
    assert client.produce({"a": 1, "nested": {"list": [1, "x", None]}}) == 0
    assert client.produce({"b": "é"}) == 1
    assert client.consume_all(timeout=0) == [{"a": 1, "nested": {"list": [1, "x", None]}}, {"b": "é"}]
    assert (workflows_home / "events" / "events.sqlite").is_file()


def test_consume_all_returns_only_unconsumed_messages():
    client = EventClient("unconsumed")
    client.produce({"n": 1})
    assert client.consume_all(timeout=0) == [{"n": 1}]
    assert client.consume_all(timeout=0) == []
    client.produce({"n": 2})
    client.produce({"n": 3})
    assert EventClient("unconsumed").consume_all(timeout=0) == [{"n": 2}, {"n": 3}]


def test_consumer_groups_are_independent():
    client = EventClient("groups")
    client.produce({"n": 1})
    assert client.consume_all(timeout=0, group_id="g1") == [{"n": 1}]
    client.produce({"n": 2})
    assert client.consume_all(timeout=0, group_id="g2") == [{"n": 1}, {"n": 2}]
    assert client.consume_all(timeout=0, group_id="g1") == [{"n": 2}]
    assert client.consume_all(timeout=0) == [{"n": 1}, {"n": 2}]  # the "default" group


def test_topics_are_independent():
    EventClient("one").produce({"topic": "one"})
    EventClient("two").produce({"topic": "two"})
    assert EventClient("two").consume_all(timeout=0) == [{"topic": "two"}]
    assert EventClient("one").consume_all(timeout=0) == [{"topic": "one"}]


def test_create_and_delete_topic():
    client = EventClient("lifecycle")
    assert client.create_topic() is True
    assert client.create_topic() is False
    client.produce({"n": 1})
    client.produce({"n": 2})
    assert client.consume_all(timeout=0, group_id="g") == [{"n": 1}, {"n": 2}]
    assert client.delete_topic() is True
    assert client.delete_topic() is False
    assert client.consume_all(timeout=0) == []
    # A deleted topic starts over: offsets from 0, consumer groups from the beginning.
    assert client.produce({"n": 3}) == 0
    assert client.consume_all(timeout=0, group_id="g") == [{"n": 3}]


def test_producing_creates_the_topic():
    client = EventClient("auto-created")
    client.produce({"n": 1})
    assert client.create_topic() is False


def test_consuming_a_missing_topic_returns_nothing_and_creates_nothing():
    client = EventClient("never-produced")
    assert client.consume_all(timeout=0) == []
    assert client.create_topic() is True


def test_messages_may_be_any_json_value():
    client = EventClient("values")
    for message in ([1, 2], "text", 3, None, {"k": True}):
        client.produce(message)
    assert client.consume_all(timeout=0) == [[1, 2], "text", 3, None, {"k": True}]


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "x" * 250, ".", "..", "é", "tab\t", None, 3])
def test_bad_topic_names_are_rejected_naming_the_value(name):
    with pytest.raises(InvalidTopicName) as raised:
        EventClient(name)
    assert repr(name) in str(raised.value)
    with pytest.raises(InvalidTopicName):
        notify_queue(name, {})


@pytest.mark.parametrize("name", ["a", "A.b_c-1", "x" * 249, "..."])
def test_kafka_topic_names_are_accepted(name):
    client = EventClient(name)
    client.produce({"name": name})
    assert client.consume_all(timeout=0) == [{"name": name}]
    assert client.topic_id == name


def test_unserialisable_message_is_an_error_naming_the_topic():
    client = EventClient("strict")
    with pytest.raises(MessageNotSerializable, match="'strict'"):
        client.produce({"when": object()})
    assert client.consume_all(timeout=0) == []


def test_bad_consume_arguments():
    client = EventClient("arguments")
    with pytest.raises(TypeError, match="group_id='my-group'"):
        client.consume_all("my-group")  # CloudHarness's positional group
    with pytest.raises(ValueError, match="timeout=-1"):
        client.consume_all(timeout=-1)
    with pytest.raises(ValueError, match="group_id=''"):
        client.consume_all(timeout=0, group_id="")


def test_notify_queue_publishes_one_message():
    notify_queue("notified", {"status": "Succeeded"})
    assert EventClient("notified").consume_all(timeout=0) == [{"status": "Succeeded"}]


# -- configuration ---------------------------------------------------------------------------------


def test_state_directory_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKFLOWS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert state_home() == tmp_path / "user" / ".local" / "share" / "harness-workflows"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert state_home() == tmp_path / "user" / ".local" / "share" / "harness-workflows"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert state_home() == tmp_path / "data" / "harness-workflows"
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "explicit"))
    assert state_home() == tmp_path / "explicit"


def test_state_directory_is_read_at_use(monkeypatch, tmp_path):
    EventClient("moving").produce({"where": "first"})
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "second"))
    assert EventClient("moving").consume_all(timeout=0) == []
    assert (tmp_path / "second" / "events" / "events.sqlite").is_file()


@pytest.mark.parametrize("variable", ["WORKFLOWS_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS"])
def test_a_configured_bootstrap_selects_kafka_without_connecting(monkeypatch, variable):
    monkeypatch.setenv(variable, "kafka.example:9092")
    backend = get_event_backend()
    assert backend.name == "kafka" and backend.bootstrap == "kafka.example:9092" and backend.timeout == 10.0
    assert get_event_backend() is backend  # one backend (one producer) per address in a process
    monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "embedded")
    assert get_event_backend().name == "embedded"


def test_kafka_selected_without_a_bootstrap_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "kafka")
    with pytest.raises(EventsConfigurationError, match="WORKFLOWS_EVENTS_BACKEND=kafka, but no broker"):
        EventClient("t").produce({})


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf"])
def test_bad_kafka_timeout_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("WORKFLOWS_KAFKA_TIMEOUT", raw)
    with pytest.raises(EventsConfigurationError, match=f"WORKFLOWS_KAFKA_TIMEOUT={raw!r}"):
        get_event_backend()


def test_cloudharness_values_name_the_broker():
    values = {"namespace": "ch", "apps": {"events": {"kafka": {"name": "bootstrap", "port": 9092}}}}
    assert cloudharness_bootstrap(values) == "bootstrap.ch.svc.cluster.local:9092"
    assert cloudharness_bootstrap({"namespace": "prod", "apps": {"events": {}}}) == \
        "bootstrap.prod.svc.cluster.local:9092"
    assert cloudharness_bootstrap({"namespace": "ch", "apps": {"samples": {}}}) is None
    assert cloudharness_bootstrap({}) is None
    with pytest.raises(EventsConfigurationError, match="namespace=None"):
        cloudharness_bootstrap({"apps": {"events": {"kafka": {"name": "bootstrap"}}}})


def test_unknown_events_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "rabbit")
    with pytest.raises(EventsConfigurationError, match="WORKFLOWS_EVENTS_BACKEND='rabbit'"):
        EventClient("t").produce({})


def test_import_does_not_load_kafka():
    code = ("import sys, workflows.events\n"
            "from workflows.events import EventClient\n"
            "EventClient('imports').produce({}); EventClient('imports').consume_all(timeout=0)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kafka'))\n")
    process = spawn(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.strip() == "[]"


# -- waiting ---------------------------------------------------------------------------------------


def test_waiting_consumer_wakes_as_soon_as_another_process_produces(waits):
    producer = spawn("import sys\n"
                     "from workflows.events import EventClient\n"
                     "print('ready', flush=True)\n"
                     "sys.stdin.readline()\n"  # produce once the consumer blocks
                     "EventClient('wake-up').produce({'from': 'producer'})\n",
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert read_line(producer.stdout).strip() == "ready"
        waits.before_first_wait = lambda: (producer.stdin.write("go\n"), producer.stdin.flush())
        messages = EventClient("wake-up").consume_all(timeout=60)
    finally:
        producer.stdin.close()
        producer.wait(timeout=60)
    assert messages == [{"from": "producer"}]
    assert waits.woken_by_a_ring()  # not a timeout, not a poll


def test_every_waiting_process_wakes_on_one_message():
    consumer = (SPY_IN_CHILD + "from workflows.events import EventClient\n"
                "print(EventClient('broadcast').consume_all(timeout=60, group_id=sys.argv[1]), flush=True)\n")
    consumers = [spawn(consumer, f"group-{n}", stdout=subprocess.PIPE) for n in range(3)]
    try:
        for process in consumers:
            assert read_line(process.stdout).strip() == "waiting"  # each one registered and blocked
        EventClient("broadcast").produce({"n": 1})
        outputs = [process.communicate(timeout=60)[0].strip() for process in consumers]
    finally:
        for process in consumers:
            process.kill() if process.poll() is None else None
    # each consumer got the message, woken by its one wait's ring (a timeout would print False)
    assert outputs == ["[{'n': 1}]\nwaits [True]"] * 3


def test_consume_all_returns_empty_after_timeout_without_polling(monkeypatch):
    backend = get_event_backend()
    reads = []
    take = backend._take
    monkeypatch.setattr(backend, "_take", lambda *args: reads.append(args) or take(*args))
    start = time.monotonic()
    assert EventClient("silent").consume_all(timeout=0.5) == []
    assert time.monotonic() - start >= 0.5  # it waited the whole timeout
    assert len(reads) == 2  # before registering, and once after: no sleep loop on the database


def test_consumer_in_the_same_process_wakes_on_produce(waits):
    import threading

    producer = threading.Thread(target=lambda: EventClient("threads").produce({"n": 1}))
    waits.before_first_wait = producer.start
    assert EventClient("threads").consume_all(timeout=60) == [{"n": 1}]
    producer.join(timeout=60)
    assert waits.woken_by_a_ring()


def test_consume_all_without_timeout_waits_for_the_first_message():
    import threading

    timer = threading.Timer(0.1, lambda: EventClient("patient").produce({"n": 1}))
    timer.start()
    assert EventClient("patient").consume_all(timeout=None) == [{"n": 1}]
    timer.join()


def test_deleting_a_topic_removes_its_doorbell(workflows_home):
    client = EventClient("doorbell-dir")
    assert client.consume_all(timeout=0.01) == []
    assert (workflows_home / "events" / "waiters" / "doorbell-dir").is_dir()
    client.delete_topic()
    assert not (workflows_home / "events" / "waiters" / "doorbell-dir").exists()


def test_other_topics_do_not_end_the_wait():
    import threading

    timer = threading.Timer(0.1, lambda: EventClient("elsewhere").produce({"n": 1}))
    timer.start()
    start = time.monotonic()
    assert EventClient("here").consume_all(timeout=0.4) == []
    assert time.monotonic() - start >= 0.4
    timer.join()


# -- concurrency -----------------------------------------------------------------------------------

PRODUCER = """
import json, sys, time
from workflows.events import EventClient
producer, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))
client = EventClient('busy')
print(json.dumps([client.produce({'producer': producer, 'n': n}) for n in range(count)]))
"""

CONSUMER = """
import json, os, sys
from workflows.events import EventClient
client, got = EventClient('busy'), []
while True:
    batch = client.consume_all(timeout=0.2, group_id='workers')
    got.extend(batch)
    if not batch and os.path.exists(sys.argv[1]):
        break
print(json.dumps(got))
"""


def test_concurrent_producers_and_consumers_deliver_each_message_once_per_group(tmp_path):
    producers_count, per_producer = 4, 50
    done = tmp_path / "producers-done"
    start_at = str(time.time() + 0.4)  # every producer starts at once, on a database that does not exist yet
    consumers = [spawn(CONSUMER, str(done), stdout=subprocess.PIPE) for _ in range(2)]
    producers = [spawn(PRODUCER, f"p{n}", str(per_producer), start_at, stdout=subprocess.PIPE)
                 for n in range(producers_count)]
    offsets = []
    for process in producers:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        offsets += json.loads(out)
    done.touch()
    consumed = []
    for process in consumers:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        consumed += json.loads(out)

    total = producers_count * per_producer
    assert sorted(offsets) == list(range(total))  # no lost or duplicated offset
    keys = [(message["producer"], message["n"]) for message in consumed]
    assert len(keys) == total and len(set(keys)) == total  # each message once in the group
    in_order = EventClient("busy").consume_all(timeout=0, group_id="audit")
    assert len(in_order) == total
    for producer in range(producers_count):
        sequence = [message["n"] for message in in_order if message["producer"] == f"p{producer}"]
        assert sequence == list(range(per_producer))  # each producer's messages in its order


# -- results ---------------------------------------------------------------------------------------


def test_a_result_queue_returns_the_results_and_deletes_the_topic():
    client = EventClient("wf-result")
    with ResultQueue("wf-result") as queue:
        client.produce({"a.txt": "1"})
        client.produce({"out.txt": "42"})
        client.produce({"workflow": "wf-result", "status": "Succeeded", "payload": None})  # on-exit, same topic
        assert queue.wait(2, timeout=1) == [{"a.txt": "1"}, {"out.txt": "42"}]
    assert client.create_topic() is True  # deleted


def test_a_result_queue_waits_for_a_producer_process(waits):
    producer = spawn("import sys\n"
                     "from workflows.events import notify_queue\n"
                     "sys.stdin.readline()\n"  # produce once the waiter blocks
                     "notify_queue('wf-later', {'a.txt': 'done'})\n", stdin=subprocess.PIPE)
    waits.before_first_wait = lambda: (producer.stdin.write("go\n"), producer.stdin.flush())
    try:
        assert ResultQueue("wf-later").wait(1, timeout=60) == [{"a.txt": "done"}]
    finally:
        producer.stdin.close()
        producer.wait(timeout=60)
    assert waits.woken_by_a_ring()
    assert EventClient("wf-later").create_topic() is False  # kept


def test_a_result_queue_fails_at_once_when_only_the_exit_notification_came():
    """The workflow ended without a result: no point waiting for the timeout."""
    EventClient("wf-failed").produce({"workflow": "wf-failed", "status": "Failed", "payload": None})
    with pytest.raises(ResultMissing, match="'wf-failed' ended Failed after publishing 0 of 1") as raised:
        ResultQueue("wf-failed").wait(1, timeout=None)
    assert isinstance(raised.value, ResultTimeout)


def test_a_result_queue_times_out_when_nothing_came():
    EventClient("wf-silent").create_topic()
    start = time.monotonic()
    with pytest.raises(ResultTimeout, match="0 of 1 result message.*'wf-silent'"):
        ResultQueue("wf-silent").wait(1, timeout=0.3)
    assert time.monotonic() - start >= 0.3
