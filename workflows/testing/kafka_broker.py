"""A small Kafka broker for tests: the Kafka wire protocol over TCP on 127.0.0.1, one node, logs on disk.

:class:`KafkaTestBroker` answers what ``kafka-python`` (3.x) sends to a
Kafka 2.1 broker — it announces those API versions, none of them "flexible":

=====================  =========  ==================================================================
API                    versions   behaviour
=====================  =========  ==================================================================
ApiVersions            0-2        the table of this module (:data:`SUPPORTED_APIS`)
Metadata               0-7        this node as the leader of every partition; an unknown topic is
                                  created (1 partition) when the request allows it and
                                  ``auto_create_topics`` is on, like Kafka's default
CreateTopics           0-3        ``TOPIC_ALREADY_EXISTS``, ``INVALID_TOPIC_EXCEPTION`` as Kafka
DeleteTopics           0-3        removes the log and the consumer groups' offsets of the topic
InitProducerId         0-1        a fresh producer id (idempotent producers)
Produce                3-7        record batches of format v2, checked (CRC-32C) and appended; with
                                  ``acks`` != 0 the batch is on disk (``fsync``) before the answer;
                                  an idempotent producer's retried batch is not appended twice
Fetch                  4-10       batches from the requested offset; with nothing to return, waits
                                  up to ``max_wait_ms`` on a condition variable rung by Produce
ListOffsets            1-4        earliest (-2), latest (-1), or the first batch at a timestamp
FindCoordinator        0-2        this node
JoinGroup/SyncGroup    0-3/0-2    group membership with rebalances: joiners wait until every
Heartbeat/LeaveGroup   0-2/0-2    member has rejoined (or its rebalance timeout passed); members
                                  silent for their session timeout are removed
OffsetCommit/Fetch     2-6/1-5    committed offsets, kept on disk
=====================  =========  ==================================================================

Storage, under ``folder``: ``topics/<topic>/<partition>.log`` — the record
batches as Kafka stores them, offsets assigned — and
``groups/<group>.json`` — committed offsets. :meth:`KafkaTestBroker.stop` and
:meth:`~KafkaTestBroker.start` on the same folder and port (a restart) keep
every acknowledged message and committed offset; group membership is
in memory, so consumers rejoin after a restart as after a coordinator change.

Each connection is served by one thread, one request at a time, in order (as
Kafka does). Blocking requests (JoinGroup, SyncGroup, Fetch) wait on the
broker's condition variable; nothing polls.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from kafka.protocol.admin import CreateTopicsRequest, DeleteTopicsRequest
from kafka.protocol.consumer import (
    FetchRequest,
    HeartbeatRequest,
    JoinGroupRequest,
    LeaveGroupRequest,
    ListOffsetsRequest,
    OffsetCommitRequest,
    OffsetFetchRequest,
    SyncGroupRequest,
)
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, FindCoordinatorRequest, MetadataRequest
from kafka.protocol.producer import ProduceRequest
from kafka.protocol.producer.transaction import InitProducerIdRequest
from kafka.record.util import calc_crc32c

from ..errors import BrokerError

log = logging.getLogger("workflows.testing.kafka_broker")

NODE_ID = 0
CLUSTER_ID = "harness-workflows-test"

# Kafka's error codes used here.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
REBALANCE_IN_PROGRESS = 27
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
UNSUPPORTED_FOR_MESSAGE_FORMAT = 43

#: Request class and (min, max) version of every API this broker serves (those of Kafka 2.1).
SUPPORTED_APIS: dict[int, tuple[type, int, int]] = {
    request.API_KEY: (request, low, high)
    for request, low, high in (
        (ProduceRequest, 3, 7),
        (FetchRequest, 4, 10),
        (ListOffsetsRequest, 1, 4),
        (MetadataRequest, 0, 7),
        (OffsetCommitRequest, 2, 6),
        (OffsetFetchRequest, 1, 5),
        (FindCoordinatorRequest, 0, 2),
        (JoinGroupRequest, 0, 3),
        (HeartbeatRequest, 0, 2),
        (LeaveGroupRequest, 0, 2),
        (SyncGroupRequest, 0, 2),
        (ApiVersionsRequest, 0, 2),
        (CreateTopicsRequest, 0, 3),
        (DeleteTopicsRequest, 0, 3),
        (InitProducerIdRequest, 0, 1),
    )
}

TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}\Z")
#: Bytes of a v2 record batch header; offsets of its fields.
BATCH_HEADER = 61
MAX_FRAME = 100 * 2**20


# -- the log -----------------------------------------------------------------------------------


@dataclass
class Batch:
    """One stored record batch: its offsets, newest timestamp, producer and bytes (base offset assigned)."""

    base_offset: int
    last_offset: int
    max_timestamp: int
    producer_id: int
    base_sequence: int
    data: bytes


def split_batches(records: bytes) -> Iterator[tuple[bytes, bool]]:
    """The v2 record batches of ``records``, each with whether it is complete (a cut tail is not)."""
    position = 0
    while position < len(records):
        if len(records) - position < 12:
            yield records[position:], False
            return
        length = struct.unpack_from(">i", records, position + 8)[0] + 12
        yield records[position:position + length], len(records) - position >= length
        position += length


def check_batch(data: bytes) -> int:
    """Kafka's error code for a produced batch: format v2, complete, CRC-32C right; ``NONE`` when valid."""
    if len(data) < BATCH_HEADER:
        return CORRUPT_MESSAGE
    if data[16] != 2:
        return UNSUPPORTED_FOR_MESSAGE_FORMAT
    (crc,) = struct.unpack_from(">I", data, 17)
    return NONE if calc_crc32c(data[21:]) == crc else CORRUPT_MESSAGE


def parse_batch(data: bytes) -> Batch:
    """A stored batch's fields read from its header."""
    base_offset = struct.unpack_from(">q", data, 0)[0]
    last_delta = struct.unpack_from(">i", data, 23)[0]
    max_timestamp = struct.unpack_from(">q", data, 35)[0]
    producer_id = struct.unpack_from(">q", data, 43)[0]
    base_sequence = struct.unpack_from(">i", data, 53)[0]
    return Batch(base_offset, base_offset + last_delta, max_timestamp, producer_id, base_sequence, data)


class PartitionLog:
    """The record batches of one partition, in memory and appended to ``path`` (fsync'd on request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches: list[Batch] = []
        self.producers: dict[int, Batch] = {}
        if path.exists():
            self._load()
        else:
            path.touch()
        self._file = open(path, "ab")

    def _load(self) -> None:
        data = self.path.read_bytes()
        kept = 0
        for chunk, complete in split_batches(data):
            if not complete or check_batch(chunk) != NONE:
                log.warning("%s: dropping %d bytes of an incomplete batch at its end", self.path, len(data) - kept)
                break
            self._remember(parse_batch(chunk))
            kept += len(chunk)
        if kept != len(data):
            with open(self.path, "r+b") as file:
                file.truncate(kept)

    def _remember(self, batch: Batch) -> None:
        self.batches.append(batch)
        if batch.producer_id >= 0:
            self.producers[batch.producer_id] = batch

    @property
    def end_offset(self) -> int:
        """The offset the next batch gets (Kafka's high watermark, with one replica)."""
        return self.batches[-1].last_offset + 1 if self.batches else 0

    def append(self, data: bytes, sync: bool) -> int:
        """Append one checked batch; return its base offset (an idempotent retry returns the first one's)."""
        batch = parse_batch(data)
        previous = self.producers.get(batch.producer_id) if batch.producer_id >= 0 else None
        if previous is not None and previous.base_sequence == batch.base_sequence >= 0:
            return previous.base_offset
        base = self.end_offset
        stored = struct.pack(">q", base) + data[8:]
        self._file.write(stored)
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())
        self._remember(parse_batch(stored))
        return base

    def read(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches holding ``offset`` and after, at least one, then up to ``max_bytes`` in all."""
        out: list[bytes] = []
        size = 0
        for batch in self.batches:
            if batch.last_offset < offset:
                continue
            if out and size + len(batch.data) > max_bytes:
                break
            out.append(batch.data)
            size += len(batch.data)
        return b"".join(out)

    def offset_for_time(self, timestamp: int) -> tuple[int, int]:
        """(offset, timestamp) of the first batch whose newest record is at or after ``timestamp``; (-1, -1) if none."""
        for batch in self.batches:
            if batch.max_timestamp >= timestamp:
                return batch.base_offset, batch.max_timestamp
        return -1, -1

    def close(self) -> None:
        """Close the file."""
        self._file.close()


# -- consumer groups --------------------------------------------------------------------------


@dataclass
class Member:
    """A member of a consumer group."""

    member_id: str
    protocols: list[tuple[str, bytes]]
    session_timeout: float
    rebalance_timeout: float
    last_seen: float = field(default_factory=time.monotonic)
    joined: bool = False


@dataclass
class Group:
    """A consumer group's membership (in memory) and committed offsets (on disk)."""

    group_id: str
    offsets: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    generation: int = 0
    state: str = "Empty"  # Empty, PreparingRebalance, CompletingRebalance, Stable
    leader: str = ""
    protocol: str = ""
    protocol_type: str = ""
    rebalance_deadline: float = 0.0
    assignments: dict[str, bytes] | None = None


# -- the broker --------------------------------------------------------------------------------


class KafkaTestBroker:
    """A one-node Kafka broker on ``127.0.0.1``, storing its logs and offsets in ``folder``.

    ``port=0`` picks a free port at the first :meth:`start`; later starts reuse
    it, so clients reconnect to a restarted broker. Use as a context manager,
    or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, folder: str | os.PathLike[str], port: int = 0, auto_create_topics: bool = True) -> None:
        self.folder = Path(folder)
        self.port = port
        self.auto_create_topics = auto_create_topics
        self._lock = threading.Condition()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._running = False
        self._logs: dict[str, list[PartitionLog]] = {}
        self._groups: dict[str, Group] = {}

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:<port>``, the value of ``bootstrap_servers``."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> KafkaTestBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> KafkaTestBroker:
        """Load the folder and listen; return ``self``."""
        if self._running:
            raise BrokerError(f"the broker at {self.bootstrap} is already running")
        self._load()
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind(("127.0.0.1", self.port))
        except OSError as error:
            server.close()
            raise BrokerError(f"cannot listen on 127.0.0.1:{self.port}: {error}") from error
        server.listen(64)
        self.port = server.getsockname()[1]
        self._server = server
        self._running = True
        self._spawn(self._accept, "kafka-test-broker-accept")
        log.info("test broker listening on %s, folder %s", self.bootstrap, self.folder)
        return self

    def stop(self) -> None:
        """Close the listening socket and every connection, wake every waiting request, join the threads."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._lock.notify_all()
        assert self._server is not None
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass  # not connected: nothing to wake on this platform
        self._server.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        for logs in self._logs.values():
            for partition in logs:
                partition.close()
        self._logs = {}
        self._groups = {}

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _load(self) -> None:
        topics = self.folder / "topics"
        groups = self.folder / "groups"
        topics.mkdir(parents=True, exist_ok=True)
        groups.mkdir(parents=True, exist_ok=True)
        for directory in sorted(topics.iterdir()):
            count = len(list(directory.glob("*.log")))
            self._logs[directory.name] = [PartitionLog(directory / f"{index}.log") for index in range(count)]
        for path in sorted(groups.glob("*.json")):
            try:
                saved = json.loads(path.read_text())
                group = Group(saved["group_id"])
                group.offsets = {(topic, int(partition)): (offset, metadata)
                                 for topic, partition, offset, metadata in saved["offsets"]}
            except (ValueError, KeyError, TypeError) as error:
                raise BrokerError(f"{path}: not a committed-offsets file of this broker ({error})") from error
            self._groups[group.group_id] = group

    # -- connections ------------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                if not self._running:
                    connection.close()
                    return
                self._connections.add(connection)
                self._threads = [thread for thread in self._threads if thread.is_alive()]
                self._spawn(self._serve, "kafka-test-broker-connection", connection)

    def _serve(self, connection: socket.socket) -> None:
        try:
            while True:
                frame = _read_frame(connection)
                if frame is None:
                    return
                response = self._handle(frame)
                if response is not None:
                    connection.sendall(response)
        except OSError as error:
            log.debug("connection closed: %s", error)
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _handle(self, frame: bytes) -> bytes | None:
        api_key, version = struct.unpack_from(">hh", frame, 0)
        supported = SUPPORTED_APIS.get(api_key)
        if api_key == ApiVersionsRequest.API_KEY and version > supported[2]:
            # Kafka's answer to a newer ApiVersions: version 0, UNSUPPORTED_VERSION and the table.
            (correlation_id,) = struct.unpack_from(">i", frame, 4)
            return self._encode(ApiVersionsResponse(version=0, error_code=UNSUPPORTED_VERSION,
                                                    api_keys=self._api_table()), correlation_id)
        if supported is None or not supported[1] <= version <= supported[2]:
            log.warning("unsupported request: api key %d version %d; closing the connection", api_key, version)
            raise OSError(f"unsupported api key {api_key} version {version}")
        request = supported[0].decode(frame, version=version, header=True)
        handler = getattr(self, f"_on_{type(request).__name__.split('_v')[0]}")
        log.debug("request %r", request)
        response = handler(request)
        log.debug("response %r", response)
        if response is None:
            return None
        return self._encode(response, request.header.correlation_id)

    @staticmethod
    def _encode(response: Any, correlation_id: int) -> bytes:
        response.with_header(correlation_id=correlation_id)
        return response.encode(header=True, framed=True)

    def _api_table(self) -> list[Any]:
        entry = ApiVersionsResponse.fields["api_keys"].data_class
        return [entry(api_key=key, min_version=low, max_version=high) for key, (_, low, high) in SUPPORTED_APIS.items()]

    # -- topics -----------------------------------------------------------------------------------

    def _create_topic(self, name: str, partitions: int) -> int:
        """Create a topic (lock held); Kafka's error code."""
        if not TOPIC_NAME.match(name) or name in (".", ".."):
            return INVALID_TOPIC_EXCEPTION
        if name in self._logs:
            return TOPIC_ALREADY_EXISTS
        if partitions < 1:
            return INVALID_PARTITIONS
        directory = self.folder / "topics" / name
        directory.mkdir(parents=True)
        self._logs[name] = [PartitionLog(directory / f"{index}.log") for index in range(partitions)]
        _fsync_directory(directory)
        _fsync_directory(directory.parent)
        log.debug("created topic %s (%d partitions)", name, partitions)
        return NONE

    def _delete_topic(self, name: str) -> int:
        """Delete a topic, its log and its committed offsets (lock held); Kafka's error code."""
        logs = self._logs.pop(name, None)
        if logs is None:
            return UNKNOWN_TOPIC_OR_PARTITION
        directory = self.folder / "topics" / name
        for index, partition in enumerate(logs):
            partition.close()
            (directory / f"{index}.log").unlink()
        directory.rmdir()
        _fsync_directory(directory.parent)
        for group in self._groups.values():
            if any(topic == name for topic, _ in group.offsets):
                group.offsets = {key: value for key, value in group.offsets.items() if key[0] != name}
                self._save_offsets(group)
        log.debug("deleted topic %s", name)
        return NONE

    def _partition(self, topic: str, partition: int) -> PartitionLog | None:
        logs = self._logs.get(topic)
        return logs[partition] if logs is not None and 0 <= partition < len(logs) else None

    # -- request handlers (each named after its request class) ----------------------------------

    def _on_ApiVersionsRequest(self, request: Any) -> Any:
        return _response_class(request)(version=request.API_VERSION, error_code=NONE, api_keys=self._api_table())

    def _on_MetadataRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        with self._lock:
            if request.topics is None or (request.API_VERSION == 0 and not request.topics):
                names = sorted(self._logs)  # all topics (version 0 says so with an empty list)
            else:
                names = [topic.name for topic in request.topics]
            allow = request.API_VERSION < 4 or request.allow_auto_topic_creation
            topics = []
            for name in names:
                error = NONE
                if name not in self._logs:
                    error = self._create_topic(name, 1) if (allow and self.auto_create_topics) else UNKNOWN_TOPIC_OR_PARTITION
                partitions = [
                    reply.MetadataResponseTopic.fields["partitions"].data_class(
                        error_code=NONE, partition_index=index, leader_id=NODE_ID, leader_epoch=0,
                        replica_nodes=[NODE_ID], isr_nodes=[NODE_ID], offline_replicas=[])
                    for index in range(len(self._logs.get(name, [])))
                ]
                topics.append(reply.MetadataResponseTopic(error_code=error, name=name, is_internal=False,
                                                          partitions=partitions))
        broker = reply.MetadataResponseBroker(node_id=NODE_ID, host="127.0.0.1", port=self.port, rack=None)
        return reply(version=request.API_VERSION, throttle_time_ms=0, brokers=[broker], cluster_id=CLUSTER_ID,
                     controller_id=NODE_ID, topics=topics)

    def _on_CreateTopicsRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        results = []
        with self._lock:
            for topic in request.topics:
                partitions = topic.num_partitions if topic.num_partitions > 0 else 1
                if request.validate_only:
                    error = (TOPIC_ALREADY_EXISTS if topic.name in self._logs
                             else NONE if TOPIC_NAME.match(topic.name) else INVALID_TOPIC_EXCEPTION)
                else:
                    error = self._create_topic(topic.name, partitions)
                results.append(reply.CreatableTopicResult(name=topic.name, error_code=error,
                                                          error_message=None if error == NONE else _message(error)))
        return reply(version=request.API_VERSION, throttle_time_ms=0, topics=results)

    def _on_DeleteTopicsRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        with self._lock:
            results = [reply.DeletableTopicResult(name=name, error_code=self._delete_topic(name))
                       for name in request.topic_names]
        return reply(version=request.API_VERSION, throttle_time_ms=0, responses=results)

    def _on_InitProducerIdRequest(self, request: Any) -> Any:
        producer_id = int.from_bytes(os.urandom(6), "big")
        return _response_class(request)(version=request.API_VERSION, throttle_time_ms=0, error_code=NONE,
                                        producer_id=producer_id, producer_epoch=0)

    def _on_ProduceRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        partition_reply = reply.TopicProduceResponse.fields["partition_responses"].data_class
        responses = []
        with self._lock:
            for topic in request.topic_data:
                answers = []
                for data in topic.partition_data:
                    error, base = self._append(topic.name, data.index, bytes(data.records or b""), request.acks != 0)
                    answers.append(partition_reply(index=data.index, error_code=error, base_offset=base,
                                                   log_append_time_ms=-1, log_start_offset=0))
                responses.append(reply.TopicProduceResponse(name=topic.name, partition_responses=answers))
            self._lock.notify_all()
        if request.acks == 0:
            return None
        return reply(version=request.API_VERSION, responses=responses, throttle_time_ms=0)

    def _append(self, topic: str, partition: int, records: bytes, sync: bool) -> tuple[int, int]:
        log_ = self._partition(topic, partition)
        if log_ is None:
            return UNKNOWN_TOPIC_OR_PARTITION, -1
        batches = list(split_batches(records))
        for chunk, complete in batches:
            error = check_batch(chunk) if complete else CORRUPT_MESSAGE
            if error != NONE:
                return error, -1
        offsets = [log_.append(chunk, sync) for chunk, _ in batches]
        return NONE, offsets[0] if offsets else log_.end_offset

    def _on_FetchRequest(self, request: Any) -> Any:
        deadline = time.monotonic() + max(0, request.max_wait_ms) / 1000
        with self._lock:
            while True:
                responses, size = self._fetch(request)
                remaining = deadline - time.monotonic()
                if size >= max(1, request.min_bytes) or remaining <= 0 or not self._running:
                    break
                self._lock.wait(remaining)
        return _response_class(request)(version=request.API_VERSION, throttle_time_ms=0, error_code=NONE,
                                        session_id=0, responses=responses)

    def _fetch(self, request: Any) -> tuple[list[Any], int]:
        reply = _response_class(request)
        partition_reply = reply.FetchableTopicResponse.fields["partitions"].data_class
        responses = []
        size = 0
        budget = request.max_bytes if request.max_bytes > 0 else MAX_FRAME
        for topic in request.topics:
            partitions = []
            for wanted in topic.partitions:
                log_ = self._partition(topic.topic, wanted.partition)
                error, records, end = NONE, b"", -1
                if log_ is None:
                    error = UNKNOWN_TOPIC_OR_PARTITION
                else:
                    end = log_.end_offset
                    if not 0 <= wanted.fetch_offset <= end:
                        error = OFFSET_OUT_OF_RANGE
                    elif wanted.fetch_offset < end:
                        records = log_.read(wanted.fetch_offset, min(wanted.partition_max_bytes, max(1, budget - size)))
                size += len(records)
                partitions.append(partition_reply(partition_index=wanted.partition, error_code=error,
                                                  high_watermark=end, last_stable_offset=end, log_start_offset=0,
                                                  aborted_transactions=None, preferred_read_replica=-1,
                                                  records=records))
            responses.append(reply.FetchableTopicResponse(topic=topic.topic, partitions=partitions))
        if any(p.error_code != NONE for r in responses for p in r.partitions):
            size = max(size, 1)  # an error is an answer: do not wait
        return responses, size

    def _on_ListOffsetsRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        partition_reply = reply.ListOffsetsTopicResponse.fields["partitions"].data_class
        topics = []
        with self._lock:
            for topic in request.topics:
                answers = []
                for wanted in topic.partitions:
                    log_ = self._partition(topic.name, wanted.partition_index)
                    error, offset, timestamp = NONE, -1, -1
                    if log_ is None:
                        error = UNKNOWN_TOPIC_OR_PARTITION
                    elif wanted.timestamp == -2:
                        offset = 0
                    elif wanted.timestamp == -1:
                        offset = log_.end_offset
                    else:
                        offset, timestamp = log_.offset_for_time(wanted.timestamp)
                    answers.append(partition_reply(partition_index=wanted.partition_index, error_code=error,
                                                   timestamp=timestamp, offset=offset, leader_epoch=0))
                topics.append(reply.ListOffsetsTopicResponse(name=topic.name, partitions=answers))
        return reply(version=request.API_VERSION, throttle_time_ms=0, topics=topics)

    def _on_FindCoordinatorRequest(self, request: Any) -> Any:
        return _response_class(request)(version=request.API_VERSION, throttle_time_ms=0, error_code=NONE,
                                        error_message=None, node_id=NODE_ID, host="127.0.0.1", port=self.port)

    # -- groups -----------------------------------------------------------------------------------

    def _group(self, group_id: str) -> Group:
        group = self._groups.get(group_id)
        if group is None:
            group = self._groups[group_id] = Group(group_id)
        return group

    def _expire(self, group: Group) -> float:
        """Remove members silent for longer than their session timeout (lock held); seconds until the next expiry.

        A member waiting in JoinGroup is alive (its request is the sign of life).
        """
        now = time.monotonic()
        waiting = group.state == "PreparingRebalance"
        expired = [member for member in group.members.values()
                   if not (waiting and member.joined) and now - member.last_seen > member.session_timeout]
        for member in expired:
            log.debug("group %s: member %s expired", group.group_id, member.member_id)
            del group.members[member.member_id]
            if group.leader == member.member_id:
                group.leader = ""
        if expired and group.state != "PreparingRebalance":
            self._begin_rebalance(group)
        elif expired:
            self._lock.notify_all()
        pending = [member.last_seen + member.session_timeout - now for member in group.members.values()
                   if not (waiting and member.joined)]
        return max(0.01, min(pending)) if pending else float("inf")

    def _begin_rebalance(self, group: Group) -> None:
        if not group.members:
            group.state, group.assignments, group.leader = "Empty", None, ""
            self._lock.notify_all()
            return
        if group.state != "PreparingRebalance":
            group.state = "PreparingRebalance"
            group.assignments = None
            for member in group.members.values():
                member.joined = False
            group.rebalance_deadline = time.monotonic() + max(m.rebalance_timeout for m in group.members.values())
        self._lock.notify_all()

    def _complete_join(self, group: Group) -> None:
        """End the join phase: drop members that did not rejoin, start a new generation (lock held)."""
        for member_id in [m.member_id for m in group.members.values() if not m.joined]:
            del group.members[member_id]
        if not group.members:
            group.state = "Empty"
            return
        group.generation += 1
        if group.leader not in group.members:
            group.leader = next(iter(group.members))
        common = [name for name, _ in group.members[group.leader].protocols
                  if all(name in dict(m.protocols) for m in group.members.values())]
        group.protocol = common[0] if common else ""
        group.state = "CompletingRebalance"
        group.assignments = None
        self._lock.notify_all()

    def _on_JoinGroupRequest(self, request: Any) -> Any:
        reply = _response_class(request)

        def answer(error: int, member_id: str = "", generation: int = -1, leader: str = "", protocol: str = "",
                   members: list[Any] | None = None) -> Any:
            return reply(version=request.API_VERSION, throttle_time_ms=0, error_code=error, generation_id=generation,
                         protocol_name=protocol, leader=leader, member_id=member_id, members=members or [])

        protocols = [(protocol.name, bytes(protocol.metadata)) for protocol in request.protocols]
        with self._lock:
            group = self._group(request.group_id)
            self._expire(group)
            if group.members and group.protocol_type and request.protocol_type != group.protocol_type:
                return answer(INCONSISTENT_GROUP_PROTOCOL)
            member_id = request.member_id
            if member_id and member_id not in group.members:
                return answer(UNKNOWN_MEMBER_ID, member_id)
            if not member_id:
                member_id = f"{request.header.client_id or 'member'}-{uuid.uuid4()}"
            rebalance_timeout = request.rebalance_timeout_ms if request.API_VERSION >= 1 else request.session_timeout_ms
            member = group.members.get(member_id)
            if member is None:
                member = group.members[member_id] = Member(member_id, protocols, request.session_timeout_ms / 1000,
                                                           rebalance_timeout / 1000)
            elif (group.state in ("Stable", "CompletingRebalance") and member.protocols == protocols
                  and member_id != group.leader):
                # Kafka's rule: a follower rejoining unchanged gets the current generation, no rebalance.
                member.last_seen = time.monotonic()
                return answer(NONE, member_id, group.generation, group.leader, group.protocol)
            member.protocols = protocols
            member.last_seen = time.monotonic()
            group.protocol_type = request.protocol_type
            if group.state != "PreparingRebalance":
                self._begin_rebalance(group)
            member.joined = True
            generation = group.generation
            while group.generation == generation and self._running and member_id in group.members:
                next_expiry = self._expire(group)
                if all(m.joined for m in group.members.values()) or time.monotonic() >= group.rebalance_deadline:
                    self._complete_join(group)
                    break
                self._lock.wait(min(next_expiry, max(0.0, group.rebalance_deadline - time.monotonic())))
            if not self._running:
                raise OSError("broker stopping")
            if member_id not in group.members:
                return answer(UNKNOWN_MEMBER_ID, member_id)
            members = []
            if member_id == group.leader:
                members = [reply.JoinGroupResponseMember(member_id=m.member_id, metadata=dict(m.protocols)[group.protocol])
                           for m in group.members.values()]
            return answer(NONE, member_id, group.generation, group.leader, group.protocol, members)

    def _on_SyncGroupRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        with self._lock:
            group = self._group(request.group_id)
            member = group.members.get(request.member_id)
            if member is None:
                return reply(version=request.API_VERSION, error_code=UNKNOWN_MEMBER_ID, assignment=b"")
            if request.generation_id != group.generation:
                return reply(version=request.API_VERSION, error_code=ILLEGAL_GENERATION, assignment=b"")
            member.last_seen = time.monotonic()
            if request.member_id == group.leader and group.state == "CompletingRebalance":
                group.assignments = {entry.member_id: bytes(entry.assignment) for entry in request.assignments}
                group.state = "Stable"
                self._lock.notify_all()
            generation = group.generation
            while (group.generation == generation and group.state == "CompletingRebalance" and self._running
                   and request.member_id in group.members):
                self._lock.wait()
            if not self._running:
                raise OSError("broker stopping")
            if group.generation != generation or group.state != "Stable" or group.assignments is None:
                return reply(version=request.API_VERSION, error_code=REBALANCE_IN_PROGRESS, assignment=b"")
            return reply(version=request.API_VERSION, throttle_time_ms=0, error_code=NONE,
                         assignment=group.assignments.get(request.member_id, b""))

    def _on_HeartbeatRequest(self, request: Any) -> Any:
        with self._lock:
            group = self._group(request.group_id)
            self._expire(group)
            member = group.members.get(request.member_id)
            if member is None:
                error = UNKNOWN_MEMBER_ID
            elif request.generation_id != group.generation:
                error = ILLEGAL_GENERATION
            else:
                member.last_seen = time.monotonic()
                error = REBALANCE_IN_PROGRESS if group.state == "PreparingRebalance" else NONE
        return _response_class(request)(version=request.API_VERSION, throttle_time_ms=0, error_code=error)

    def _on_LeaveGroupRequest(self, request: Any) -> Any:
        with self._lock:
            group = self._group(request.group_id)
            if request.member_id in group.members:
                del group.members[request.member_id]
                error = NONE
                if group.leader == request.member_id:
                    group.leader = ""
                self._begin_rebalance(group)
            else:
                error = UNKNOWN_MEMBER_ID
        return _response_class(request)(version=request.API_VERSION, throttle_time_ms=0, error_code=error)

    def _on_OffsetCommitRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        partition_reply = reply.OffsetCommitResponseTopic.fields["partitions"].data_class
        with self._lock:
            group = self._group(request.group_id)
            error = NONE
            if request.generation_id_or_member_epoch >= 0:
                if request.member_id not in group.members:
                    error = UNKNOWN_MEMBER_ID
                elif request.generation_id_or_member_epoch != group.generation:
                    error = ILLEGAL_GENERATION
                elif group.state == "CompletingRebalance":
                    error = REBALANCE_IN_PROGRESS  # Kafka accepts commits while preparing a rebalance
            topics = []
            for topic in request.topics:
                answers = []
                for entry in topic.partitions:
                    code = error
                    if code == NONE and self._partition(topic.name, entry.partition_index) is None:
                        code = UNKNOWN_TOPIC_OR_PARTITION
                    if code == NONE:
                        group.offsets[(topic.name, entry.partition_index)] = (entry.committed_offset,
                                                                              entry.committed_metadata or "")
                    answers.append(partition_reply(partition_index=entry.partition_index, error_code=code))
                topics.append(reply.OffsetCommitResponseTopic(name=topic.name, partitions=answers))
            self._save_offsets(group)
        return reply(version=request.API_VERSION, throttle_time_ms=0, topics=topics)

    def _save_offsets(self, group: Group) -> None:
        path = self.folder / "groups" / f"{_safe_name(group.group_id)}.json"
        temporary = path.with_suffix(".tmp")
        with open(temporary, "w") as file:
            json.dump({"group_id": group.group_id,
                       "offsets": [[topic, partition, offset, metadata]
                                   for (topic, partition), (offset, metadata) in sorted(group.offsets.items())]},
                      file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)

    def _on_OffsetFetchRequest(self, request: Any) -> Any:
        reply = _response_class(request)
        partition_reply = reply.OffsetFetchResponseTopic.fields["partitions"].data_class
        with self._lock:
            group = self._group(request.group_id)
            wanted = ([(topic.name, list(topic.partition_indexes)) for topic in request.topics]
                      if request.topics is not None else self._committed_topics(group))
            topics = []
            for name, partitions in wanted:
                answers = []
                for index in partitions:
                    offset, metadata = group.offsets.get((name, index), (-1, ""))
                    answers.append(partition_reply(partition_index=index, committed_offset=offset,
                                                   committed_leader_epoch=-1, metadata=metadata, error_code=NONE))
                topics.append(reply.OffsetFetchResponseTopic(name=name, partitions=answers))
        return reply(version=request.API_VERSION, throttle_time_ms=0, topics=topics, error_code=NONE)

    @staticmethod
    def _committed_topics(group: Group) -> list[tuple[str, list[int]]]:
        topics: dict[str, list[int]] = {}
        for topic, partition in sorted(group.offsets):
            topics.setdefault(topic, []).append(partition)
        return list(topics.items())

    # -- inspection (for tests) -------------------------------------------------------------------

    def topics(self) -> list[str]:
        """The names of the topics that exist now."""
        with self._lock:
            return sorted(self._logs)


def _response_class(request: Any) -> Any:
    """The response class of a decoded request."""
    return request.header.get_response_class()[None]


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = connection.recv(min(size, 2**20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame(connection: socket.socket) -> bytes | None:
    """One size-prefixed request, or ``None`` when the client closed the connection."""
    head = _read_exactly(connection, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">i", head)
    if not 8 <= size <= MAX_FRAME:
        raise OSError(f"request of {size} bytes refused")
    return _read_exactly(connection, size)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _safe_name(group_id: str) -> str:
    """A file name for a group id (any string): readable characters kept, the rest hex-escaped."""
    return "".join(c if c.isalnum() or c in "._-" else f"%{ord(c):02x}" for c in group_id) or "%"


def _message(error: int) -> str:
    return {TOPIC_ALREADY_EXISTS: "Topic already exists.", INVALID_TOPIC_EXCEPTION: "Invalid topic name.",
            INVALID_PARTITIONS: "Number of partitions must be positive."}.get(error, f"error {error}")
