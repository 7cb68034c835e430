"""The embedded events backend: one SQLite database shared by every process of the machine.

Storage, under the state directory ``$WORKFLOWS_HOME``:

- ``events/events.sqlite`` (WAL mode, busy timeout), tables ``topics`` (name, next
  offset), ``messages`` (topic, offset, JSON value, time) and
  ``group_offsets`` (topic, consumer group, next offset to read);
- ``events/waiters/<topic>/``: the :class:`~workflows.doorbell.Doorbell`
  of each topic, where blocked consumers wait.

Every change is one ``BEGIN IMMEDIATE`` transaction, so concurrent producers
get distinct, gap-free offsets and concurrent consumers of one group never
take the same message. Producers ring the topic's doorbell after committing;
a waiting consumer re-reads the database only when rung (no polling).

Retention: messages are kept, consumed or not, until their topic is deleted.
A deleted topic that is produced to again starts over at offset 0.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..doorbell import Doorbell
from .backend import EventBackend
from ..errors import EventsError
from ..sqlite_wal import use_wal

#: The folder of ``$WORKFLOWS_HOME`` that holds the events: every local pod may reach it (its "network").
FOLDER = "events"
DATABASE = (FOLDER, "events.sqlite")
WAITERS = (FOLDER, "waiters")
#: How many state directories' backends a process keeps open (see :meth:`EmbeddedBackend.at`).
KEPT_INSTANCES = 4
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    next_offset INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL,
    message_offset INTEGER NOT NULL,
    value TEXT NOT NULL,
    produced REAL NOT NULL,
    PRIMARY KEY (topic, message_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    topic TEXT NOT NULL,
    group_id TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, group_id)
) WITHOUT ROWID;
"""


def _topic_directory(topic: str) -> str:
    """A short directory name for a topic's doorbell (topics may be 249 characters long)."""
    if len(topic) <= 48:
        return topic
    import hashlib  # noqa: PLC0415 - OpenSSL, 2 ms: only for long topic names

    return f"{topic[:32]}-{hashlib.sha256(topic.encode()).hexdigest()[:16]}"


class EmbeddedBackend(EventBackend):
    """Events in ``<home>/events/events.sqlite``; one instance per state directory and process."""

    name = "embedded"
    _instances: dict[Path, EmbeddedBackend] = {}
    _instances_lock = threading.Lock()

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.database = self.home.joinpath(*DATABASE)
        self._local = threading.local()

    @classmethod
    def at(cls, home: Path) -> EmbeddedBackend:
        """The backend of state directory ``home`` (shared by the threads of this process).

        The :data:`KEPT_INSTANCES` most recently used are kept: a process that goes through many state
        directories (a test suite) does not keep a database open for each.
        """
        with cls._instances_lock:
            backend = cls._instances.pop(home, None) or cls(home)
            cls._instances[home] = backend  # the most recently used last
            while len(cls._instances) > KEPT_INSTANCES:
                del cls._instances[next(iter(cls._instances))]
            return backend

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a forked child opens its own)."""
        cached = getattr(self._local, "connection", None)
        if cached is not None and cached[0] == os.getpid() and self.database.exists():
            return cached[1]
        self.database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # private; -wal and -shm follow it. Never open an existing one: closing would drop SQLite's locks
            os.close(os.open(self.database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        connection = sqlite3.connect(str(self.database), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            if use_wal(connection, BUSY_TIMEOUT_SECONDS).lower() != "wal":
                raise EventsError(f"cannot put the events database {self.database} in WAL mode")
            connection.execute("PRAGMA synchronous = NORMAL")
            with self._transaction(connection):
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise EventsError(
                        f"the events database {self.database} has schema version {version}, newer than this "
                        f"library's ({SCHEMA_VERSION}); upgrade harness-workflows"
                    )
                if version < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.close()
            raise
        if cached is not None and cached[0] == os.getpid():
            cached[1].close()
        self._local.connection = (os.getpid(), connection)
        return connection

    @staticmethod
    @contextmanager
    def _transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front, so reads and writes are atomic."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def doorbell(self, topic: str) -> Doorbell:
        """The doorbell rung when ``topic`` receives messages."""
        return Doorbell(self.home.joinpath(*WAITERS, _topic_directory(topic)))

    # -- EventBackend --------------------------------------------------------------------------

    def create_topic(self, topic: str) -> bool:
        with self._transaction(self._connection()) as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO topics (name, next_offset, created) VALUES (?, 0, ?)", (topic, time.time())
            )
            return cursor.rowcount == 1

    def delete_topic(self, topic: str) -> bool:
        with self._transaction(self._connection()) as connection:
            connection.execute("DELETE FROM messages WHERE topic = ?", (topic,))
            connection.execute("DELETE FROM group_offsets WHERE topic = ?", (topic,))
            deleted = connection.execute("DELETE FROM topics WHERE name = ?", (topic,)).rowcount == 1
        self.doorbell(topic).prune()  # kept while consumers still wait on the topic
        return deleted

    def produce(self, topic: str, value: str) -> int:
        now = time.time()
        with self._transaction(self._connection()) as connection:
            row = connection.execute("SELECT next_offset FROM topics WHERE name = ?", (topic,)).fetchone()
            if row is None:
                offset = 0
                connection.execute("INSERT INTO topics (name, next_offset, created) VALUES (?, 1, ?)", (topic, now))
            else:
                offset = row[0]
                connection.execute("UPDATE topics SET next_offset = ? WHERE name = ?", (offset + 1, topic))
            connection.execute(
                "INSERT INTO messages (topic, message_offset, value, produced) VALUES (?, ?, ?, ?)",
                (topic, offset, value, now),
            )
        self.doorbell(topic).ring()
        return offset

    def consume(self, topic: str, group_id: str, timeout: float | None) -> list[str]:
        values = self._take(topic, group_id)
        if values or (timeout is not None and timeout <= 0):
            return values
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.doorbell(topic).waiter() as waiter:
            while True:
                # Registered before this check: a message committed from now on rings the waiter.
                values = self._take(topic, group_id)
                if values:
                    return values
                remaining = None if deadline is None else deadline - time.monotonic()
                if not waiter.wait(remaining):
                    return []  # timed out: a message committed in time would have rung

    def _take(self, topic: str, group_id: str) -> list[str]:
        """Read and commit the unconsumed messages of ``group_id``; cheap (no write lock) when there are none."""
        connection = self._connection()
        if not self._has_unconsumed(connection, topic, group_id):
            return []
        with self._transaction(connection):
            start = self._committed(connection, topic, group_id)
            rows = connection.execute(
                "SELECT message_offset, value FROM messages WHERE topic = ? AND message_offset >= ? "
                "ORDER BY message_offset",
                (topic, start),
            ).fetchall()
            if rows:
                connection.execute(
                    "INSERT OR REPLACE INTO group_offsets (topic, group_id, next_offset) VALUES (?, ?, ?)",
                    (topic, group_id, rows[-1][0] + 1),
                )
        return [value for _, value in rows]

    @staticmethod
    def _has_unconsumed(connection: sqlite3.Connection, topic: str, group_id: str) -> bool:
        row = connection.execute(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE topic = ? AND message_offset >= COALESCE("
            "(SELECT next_offset FROM group_offsets WHERE topic = ? AND group_id = ?), 0))",
            (topic, topic, group_id),
        ).fetchone()
        return bool(row[0])

    @staticmethod
    def _committed(connection: sqlite3.Connection, topic: str, group_id: str) -> int:
        row = connection.execute(
            "SELECT next_offset FROM group_offsets WHERE topic = ? AND group_id = ?", (topic, group_id)
        ).fetchone()
        return 0 if row is None else row[0]
