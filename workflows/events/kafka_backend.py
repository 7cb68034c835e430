"""The Kafka events backend, on ``kafka-python``.

One :class:`KafkaBackend` per bootstrap address, timeout and process
(:meth:`KafkaBackend.at`): its producer and admin client are created at first
use and reused for every message, and closed at exit (the producer flushes).
Consumers are created per ``consume`` call, as CloudHarness does, and per
subscription (``async_consume``).

Kafka semantics kept by the :class:`~workflows.events.backend.EventBackend`
contract:

- topics have one partition (replication factor 1 unless the broker says
  otherwise), so a topic's messages keep their order;
- a message is acknowledged by every in-sync replica (``acks=all``) by an
  idempotent producer before ``produce`` returns its offset: retries inside the
  timeout cannot duplicate it, and a broker restart does not lose it;
- a consumer group that never committed reads from the earliest message;
  ``consume`` commits what it returns before returning it;
- producing to a missing topic creates it (when the broker does not create
  topics by itself, the backend creates it and publishes again);
- consuming a missing topic creates it too (Kafka's default,
  ``allow.auto.create.topics``), unlike the embedded backend.

Every network call is bounded by the timeout (``WORKFLOWS_KAFKA_TIMEOUT``,
10 s by default): an unreachable broker is an :class:`EventsUnavailable`
naming the address, raised within it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

from .backend import EventBackend, Subscription
from ..errors import EventsError, EventsUnavailable

log = logging.getLogger("workflows.events.kafka")
logging.getLogger("kafka").setLevel(logging.ERROR)  # kafka-python logs every reconnection attempt at WARNING

#: Kafka's error codes the admin answers are checked against.
TOPIC_ALREADY_EXISTS = 36
UNKNOWN_TOPIC_OR_PARTITION = 3
#: Longest pause between reconnection attempts (kafka-python's default, 30 s, would outlast a broker restart).
RECONNECT_BACKOFF_MAX_MS = 1000
#: How often consumers refresh topic metadata (so a new topic's partitions are assigned within a second).
METADATA_MAX_AGE_MS = 1000
#: Bounds of a consumer's session timeout, in seconds (Kafka's group.min/max.session.timeout.ms defaults: 6-30 s;
#: a group keeps waiting this long for a member that vanished without leaving).
SESSION_TIMEOUT_RANGE = (6.0, 30.0)


class KafkaBackend(EventBackend):
    """Events on the Kafka cluster at ``bootstrap`` (``host:port[,host:port...]``)."""

    name = "kafka"
    _instances: dict[tuple[int, str, float], KafkaBackend] = {}
    _instances_lock = threading.Lock()

    def __init__(self, bootstrap: str, timeout: float) -> None:
        self.bootstrap = bootstrap
        self.timeout = timeout
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._admin: KafkaAdminClient | None = None

    @classmethod
    def at(cls, bootstrap: str, timeout: float) -> KafkaBackend:
        """The backend of this process for ``bootstrap`` and ``timeout`` (a forked child gets its own)."""
        key = (os.getpid(), bootstrap, timeout)
        with cls._instances_lock:
            backend = cls._instances.get(key)
            if backend is None:
                backend = cls._instances[key] = cls(bootstrap, timeout)
                atexit.register(backend.close)
            return backend

    @classmethod
    def close_all(cls) -> None:
        """Close and forget every backend of this process (their clients reconnect no more)."""
        with cls._instances_lock:
            backends = list(cls._instances.values())
            cls._instances.clear()
        for backend in backends:
            backend.close()

    def __repr__(self) -> str:
        return f"KafkaBackend({self.bootstrap!r}, timeout={self.timeout})"

    # -- clients ---------------------------------------------------------------------------------

    def _common(self) -> dict[str, Any]:
        milliseconds = int(self.timeout * 1000)
        return {
            "bootstrap_servers": self.bootstrap.split(","),
            "client_id": f"harness-workflows-{os.getpid()}",
            "request_timeout_ms": milliseconds,
            "bootstrap_timeout_ms": milliseconds,
            "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        }

    def _unavailable(self, action: str, error: BaseException) -> EventsUnavailable:
        if isinstance(error, (KafkaTimeoutError, KafkaConnectionError)):
            reason = f"no answer from the broker at {self.bootstrap} within {self.timeout:g} s ({error})"
        else:
            reason = f"the broker at {self.bootstrap} answered {type(error).__name__}: {error}"
        return EventsUnavailable(
            f"Kafka: cannot {action}: {reason} (WORKFLOWS_KAFKA_BOOTSTRAP/KAFKA_BOOTSTRAP_SERVERS name the "
            "broker, WORKFLOWS_KAFKA_TIMEOUT the seconds allowed)"
        )

    def producer(self) -> KafkaProducer:
        """The producer of this backend, created at first use (idempotent, ``acks=all``)."""
        with self._lock:
            if self._producer is None:
                milliseconds = int(self.timeout * 1000)
                try:
                    self._producer = KafkaProducer(
                        **self._common(),
                        acks="all",
                        enable_idempotence=True,
                        linger_ms=0,
                        max_block_ms=milliseconds,
                        delivery_timeout_ms=milliseconds,
                    )
                except KafkaError as error:
                    raise self._unavailable("connect a producer", error) from error
            return self._producer

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            try:
                self._admin = KafkaAdminClient(**self._common())
            except KafkaError as error:
                raise self._unavailable("connect an admin client", error) from error
        return self._admin

    def close(self) -> None:
        """Flush and close the producer, close the admin client (both are recreated if used again)."""
        with self._lock:
            producer, self._producer = self._producer, None
            admin, self._admin = self._admin, None
        if producer is not None:
            producer.close(timeout=self.timeout)
        if admin is not None:
            admin.close()

    # -- topics ----------------------------------------------------------------------------------

    def create_topic(self, topic: str) -> bool:
        with self._lock:
            try:
                answer = self._admin_client().create_topics(
                    {topic: {"num_partitions": 1, "replication_factor": 1}},
                    timeout_ms=int(self.timeout * 1000), raise_errors=False,
                )
            except KafkaError as error:
                raise self._unavailable(f"create topic {topic!r}", error) from error
        code, message = _topic_error(answer["topics"], topic)
        if code == TOPIC_ALREADY_EXISTS:
            return False
        if code:
            raise EventsError(f"Kafka at {self.bootstrap} refused to create topic {topic!r}: error {code} {message or ''}")
        return True

    def delete_topic(self, topic: str) -> bool:
        with self._lock:
            try:
                answer = self._admin_client().delete_topics([topic], timeout_ms=int(self.timeout * 1000),
                                                            raise_errors=False)
            except KafkaError as error:
                raise self._unavailable(f"delete topic {topic!r}", error) from error
        code, message = _topic_error(answer.get("topics") or answer.get("responses") or [], topic)
        if code == UNKNOWN_TOPIC_OR_PARTITION:
            return False
        if code:
            raise EventsError(f"Kafka at {self.bootstrap} refused to delete topic {topic!r}: error {code} {message or ''}")
        return True

    # -- messages --------------------------------------------------------------------------------

    def produce(self, topic: str, value: str) -> int:
        data = value.encode("utf-8")
        try:
            return self._send(topic, data)
        except KafkaTimeoutError:
            # The broker may not create topics on demand: create it, then publish once more.
            log.info("topic %s did not appear in time; creating it and publishing again", topic)
            self.create_topic(topic)
            try:
                return self._send(topic, data)
            except KafkaError as error:
                raise self._unavailable(f"publish on topic {topic!r}", error) from error
        except KafkaError as error:
            raise self._unavailable(f"publish on topic {topic!r}", error) from error

    def _send(self, topic: str, data: bytes) -> int:
        metadata = self.producer().send(topic, value=data).get(timeout=self.timeout)
        return metadata.offset

    def _consumer(self, group_id: str) -> KafkaConsumer:
        try:
            return KafkaConsumer(
                **self._common(),
                group_id=group_id,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                fetch_max_wait_ms=min(500, int(self.timeout * 1000)),
                session_timeout_ms=int(self._session_timeout() * 1000),
                heartbeat_interval_ms=1000,
                # A group joined before the topic's metadata arrived gets no partition until the next metadata
                # refresh (kafka-python's default: 5 minutes): refresh every second.
                metadata_max_age_ms=METADATA_MAX_AGE_MS,
            )
        except KafkaError as error:
            raise self._unavailable(f"connect a consumer of group {group_id!r}", error) from error

    def _session_timeout(self) -> float:
        """Seconds a consumer may stay silent before the group drops it: the timeout, within Kafka's 6-30 s."""
        return min(max(self.timeout, SESSION_TIMEOUT_RANGE[0]), SESSION_TIMEOUT_RANGE[1])

    def consume(self, topic: str, group_id: str, timeout: float | None) -> list[str]:
        consumer = self._consumer(group_id)
        try:
            _subscribe(consumer, topic)
            values = self._take(consumer, topic, timeout)
            if values:
                self._commit_positions(consumer)
            return values
        except KafkaError as error:
            raise self._unavailable(f"consume topic {topic!r} as group {group_id!r}", error) from error
        finally:
            _close_consumer(consumer, self.timeout)

    def _commit_positions(self, consumer: KafkaConsumer) -> None:
        """Commit what ``consumer`` has read, waiting out a rebalance of its group (another member joining or
        leaving): its partitions paused meanwhile, so the polls that complete the rebalance fetch nothing."""
        offsets = {partition: OffsetAndMetadata(consumer.position(partition), "", -1)
                   for partition in consumer.assignment()}
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                consumer.commit(offsets=offsets, timeout_ms=int(self.timeout * 1000))
                return
            except RebalanceInProgressError:
                if time.monotonic() >= deadline:
                    raise
                consumer.pause(*consumer.assignment())
                consumer.poll(timeout_ms=100)

    def _take(self, consumer: KafkaConsumer, topic: str, timeout: float | None) -> list[str]:
        """Join the group, then read what is available now; if nothing, wait up to ``timeout`` for the first values."""
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        values: list[str] = []
        # Joining the group is network work, allowed even when the caller waits less: the timeout, plus the
        # session timeout after which the broker drops a member that left without saying so.
        allowance = start + self.timeout + self._session_timeout()
        join_deadline = allowance if deadline is None else max(allowance, deadline)
        while not consumer.assignment():
            values += _values(consumer.poll(timeout_ms=100))
            if time.monotonic() >= join_deadline and deadline is not None:
                if consumer.partitions_for_topic(topic) is None:
                    return values  # the topic does not exist (and the broker does not create it)
                raise EventsUnavailable(f"Kafka at {self.bootstrap}: could not join a consumer group of topic "
                                        f"{topic!r} within {allowance - start:g} s")
        partitions = list(consumer.assignment())
        ends = consumer.end_offsets(partitions, timeout_ms=int(self.timeout * 1000))
        while True:
            behind = [p for p in partitions if consumer.position(p, timeout_ms=int(self.timeout * 1000)) < ends[p]]
            if behind:
                batch = _values(consumer.poll(timeout_ms=int(self.timeout * 1000)))
                if not batch:
                    raise EventsUnavailable(f"Kafka at {self.bootstrap}: no messages of topic {topic!r} arrived "
                                            f"within {self.timeout:g} s although the broker holds some")
                values += batch
                continue
            if values:
                return values
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return values
            # Nothing available: block until the first message comes (poll returns as soon as it does).
            wait = self.timeout if remaining is None else min(remaining, self.timeout)
            values += _values(consumer.poll(timeout_ms=max(1, int(wait * 1000))))
            if values:
                ends = consumer.end_offsets(partitions, timeout_ms=int(self.timeout * 1000))

    def subscribe(self, topic: str, group_id: str) -> Subscription:
        return KafkaSubscription(self, topic, group_id)


class KafkaSubscription(Subscription):
    """A long-lived Kafka consumer of one topic in one group; offsets committed after processing."""

    def __init__(self, backend: KafkaBackend, topic: str, group_id: str) -> None:
        super().__init__(backend, topic, group_id)
        self._backend = backend
        self._consumer = backend._consumer(group_id)
        try:
            _subscribe(self._consumer, topic)
        except KafkaError as error:
            _close_consumer(self._consumer, backend.timeout)
            raise backend._unavailable(f"subscribe to topic {topic!r}", error) from error

    def poll(self, timeout: float) -> list[str]:
        try:
            return _values(self._consumer.poll(timeout_ms=max(1, int(timeout * 1000))))
        except KafkaError as error:
            raise self._backend._unavailable(f"consume topic {self.topic!r} as group {self.group_id!r}", error) from error

    def commit(self) -> None:
        try:
            self._consumer.commit(timeout_ms=int(self._backend.timeout * 1000))
        except KafkaError as error:
            raise self._backend._unavailable(f"commit the offsets of group {self.group_id!r}", error) from error

    def close(self) -> None:
        _close_consumer(self._consumer, self._backend.timeout)


def _subscribe(consumer: KafkaConsumer, topic: str) -> None:
    """Subscribe after reading the topic's partitions, so the first group join already assigns them.

    (Joining before the metadata arrived assigns nothing and needs a second join; kafka-python 3.0.12
    sometimes stalls after that second join.)
    """
    consumer.partitions_for_topic(topic)
    consumer.subscribe([topic])


def _values(records: dict[Any, list[Any]]) -> list[str]:
    """The decoded values of a ``poll`` answer, in offset order per partition."""
    return [record.value.decode("utf-8") for partition in records.values() for record in partition]


def _close_consumer(consumer: KafkaConsumer, timeout: float) -> None:
    """Close without committing (commits are explicit), leaving the group; errors while closing are logged."""
    try:
        consumer.close(autocommit=False, timeout_ms=int(timeout * 1000))
    except KafkaError as error:
        log.warning("closing a Kafka consumer failed: %s", error)


def _topic_error(results: list[Any], topic: str) -> tuple[int, str | None]:
    """The error code and message of ``topic`` in an admin answer's list of topic results."""
    for result in results:
        entry = result if isinstance(result, dict) else result.to_dict()
        if entry.get("name") == topic:
            return int(entry.get("error_code") or 0), entry.get("error_message")
    raise EventsError(f"the Kafka admin answer does not mention topic {topic!r}: {results!r}")

