"""The local engine's state: workflows and their nodes in SQLite, files in per-workflow folders.

Layout under the state folder (``$WORKFLOWS_HOME``)::

    engine.sqlite                 workflows and nodes (WAL: many readers, one writer at a time)
    workflows/<name>/             everything a workflow owns, deleted with it
        logs/<node id>.log        what each pod printed
        nodes/<node id>/          a pod's scratch folder (script, output files)
        volumes/<volume>/         its ephemeral (volumeClaimTemplates) volumes
        artifacts/<node id>/      output artifacts
        runner.lock               held by the runner while it lives
        runner.pid                the runner's process id
        runner.log                the runner's own log
    claims/<claim>/               persistent volume claims, shared by all workflows
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import config
from ..sqlite_wal import use_wal
from ..timestamps import timestamp
from ..vocabulary import COMPLETED_PHASES
from .processgroups import ProcessGroup

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL,
    manifest TEXT NOT NULL,
    phase TEXT NOT NULL,
    message TEXT,
    started_at TEXT,
    finished_at TEXT,
    expires REAL,
    outputs TEXT,
    stop TEXT
);
CREATE INDEX IF NOT EXISTS workflows_by_age ON workflows (created DESC, name DESC);
CREATE TABLE IF NOT EXISTS nodes (
    workflow TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    pgid INTEGER,
    pgid_start TEXT,
    PRIMARY KEY (workflow, id)
);
"""
# Kubernetes' alphabet for generated name suffixes (no vowels, no look-alike characters).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def private_file(path: Path) -> None:
    """Create ``path`` readable and writable by its owner only (0600), unless it exists.

    An existing file is never opened: closing a descriptor of an SQLite database would drop the
    POSIX locks that this process's connections hold on it.
    """
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


#: How long a connection waits for another's lock on the database.
BUSY_SECONDS = 30.0


class Store:
    """The SQLite database and folders of the local engine; one instance per process."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or config.state_dir()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in ("bells", "workflows", "claims"):  # parents=True below would make them world-readable
            (self.root / folder).mkdir(mode=0o700, exist_ok=True)
        private_file(self.root / "engine.sqlite")  # SQLite gives its -wal and -shm files the same mode
        self.db = sqlite3.connect(self.root / "engine.sqlite", timeout=BUSY_SECONDS, isolation_level=None)
        use_wal(self.db, BUSY_SECONDS)
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Bring a database made by an older version to the current schema (columns added since); a write
        lock is taken only then."""
        def missing() -> bool:
            return "pgid_start" not in {row[1] for row in self.db.execute("PRAGMA table_info(nodes)")}

        if missing():
            with self.transaction() as db:
                if missing():  # another process may have added it meanwhile
                    db.execute("ALTER TABLE nodes ADD COLUMN pgid_start TEXT")

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- folders -------------------------------------------------------------------------------------------------

    def workflow_dir(self, name: str) -> Path:
        """The folder of everything a workflow owns."""
        return self.root / "workflows" / name

    def runner_file(self, name: str, kind: str) -> Path:
        """The runner's ``lock``, ``pid``, ``log`` or ``error`` (why it failed, see :func:`.watchdog.bury`) file of a
        workflow."""
        return self.workflow_dir(name) / f"runner.{kind}"

    def claim_dir(self, claim: str) -> Path:
        """The folder standing for an existing PersistentVolumeClaim (created on first use, kept)."""
        path = self.root / "claims" / claim
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    # --- workflows -----------------------------------------------------------------------------------------------

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Store a new workflow (phase ``Pending``), naming it from ``generateName`` if needed; return the manifest."""
        import secrets  # noqa: PLC0415 - with hashlib (OpenSSL), 5 ms a runner, which never creates, does not pay

        metadata = manifest.setdefault("metadata", {})
        created = time.time()
        metadata.setdefault("namespace", "local")
        metadata["creationTimestamp"] = timestamp(created)
        metadata["uid"] = secrets.token_hex(16)
        for _ in range(100):
            if not metadata.get("name"):
                suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))
                metadata["name"] = f"{metadata['generateName']}{suffix}"
                generated = True
            else:
                generated = False
            try:
                with self.transaction() as db:
                    db.execute(
                        "INSERT INTO workflows (name, created, manifest, phase) VALUES (?, ?, ?, 'Pending')",
                        (metadata["name"], created, json.dumps(manifest)),
                    )
            except sqlite3.IntegrityError:
                if not generated:
                    raise
                del metadata["name"]
                continue
            self.workflow_dir(metadata["name"]).mkdir(mode=0o700, parents=True, exist_ok=True)
            return manifest
        raise RuntimeError(f"could not generate a free name from {metadata['generateName']!r}")

    def exists(self, name: str) -> bool:
        """Whether a workflow of that name is stored."""
        return self.db.execute("SELECT 1 FROM workflows WHERE name = ?", (name,)).fetchone() is not None

    def phase(self, name: str) -> str | None:
        """The workflow's phase, or ``None`` when there is no such workflow."""
        row = self.db.execute("SELECT phase FROM workflows WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def manifest(self, name: str) -> dict[str, Any] | None:
        """The workflow as submitted (metadata and spec), or ``None``."""
        row = self.db.execute("SELECT manifest FROM workflows WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def read(self, name: str) -> dict[str, Any] | None:
        """The workflow in Argo's shape (metadata, spec, status with nodes), or ``None``."""
        row = self.db.execute(
            "SELECT manifest, phase, message, started_at, finished_at, outputs FROM workflows WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return self._assemble(name, *row)

    def _assemble(self, name: str, manifest: str, phase: str, message: str | None, started: str | None,
                  finished: str | None, outputs: str | None) -> dict[str, Any]:
        workflow = json.loads(manifest)
        workflow["metadata"].setdefault("labels", {})["workflows.argoproj.io/phase"] = phase
        status: dict[str, Any] = {"phase": phase}
        if started:
            status["startedAt"] = started
        status["finishedAt"] = finished
        if message:
            status["message"] = message
        nodes = {
            node_id: json.loads(data)
            for node_id, data in self.db.execute("SELECT id, data FROM nodes WHERE workflow = ? ORDER BY seq", (name,))
        }
        if nodes:
            status["nodes"] = nodes
        if outputs:
            status["outputs"] = json.loads(outputs)
        workflow["status"] = status
        return workflow

    def page(self, phase: str | None, limit: int, after: tuple[float, str] | None) -> list[dict[str, Any]]:
        """Up to ``limit`` workflows, newest first, after the ``(created, name)`` position ``after``."""
        query = "SELECT name, created, manifest, phase, message, started_at, finished_at, outputs FROM workflows"
        clauses, values = [], []
        if phase is not None:
            clauses.append("phase = ?")
            values.append(phase)
        if after is not None:
            clauses.append("(created < ? OR (created = ? AND name < ?))")
            values += [after[0], after[0], after[1]]
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY created DESC, name DESC LIMIT ?"
        rows = self.db.execute(query, (*values, limit)).fetchall()
        return [(created, self._assemble(name, *rest)) for name, created, *rest in rows]

    def set_phase(self, name: str, phase: str, *, message: str | None = None, started_at: str | None = None,
                  finished_at: str | None = None, expires: float | None = None, outputs: dict | None = None) -> None:
        """Update the workflow row (fields left ``None`` keep their value)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE workflows SET phase = ?, message = COALESCE(?, message), started_at = COALESCE(?, started_at),"
                " finished_at = COALESCE(?, finished_at), expires = COALESCE(?, expires),"
                " outputs = COALESCE(?, outputs) WHERE name = ?",
                (phase, message, started_at, finished_at, expires, json.dumps(outputs) if outputs else None, name),
            )

    def write_nodes(self, name: str, nodes: dict[str, tuple[int, dict[str, Any], ProcessGroup | None]]) -> None:
        """Insert or replace nodes: id → ``(seq, node, the process group of its running pod)``."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO nodes (workflow, id, seq, data, pgid, pgid_start) VALUES (?, ?, ?, ?, ?, ?)",
                [(name, node_id, seq, json.dumps(node), group.pgid if group else None, group.start if group else None)
                 for node_id, (seq, node, group) in nodes.items()],
            )

    def running_process_groups(self, name: str) -> list[ProcessGroup]:
        """Process groups of the workflow's pods that may still run (a record without its leader's start, from
        an older version, cannot be told from an id given to another process since: it is left out)."""
        return [ProcessGroup(pgid, start) for pgid, start in self.db.execute(
            "SELECT pgid, pgid_start FROM nodes WHERE workflow = ? AND pgid IS NOT NULL AND pgid_start IS NOT NULL",
            (name,))]

    def request_stop(self, name: str, how: str) -> bool:
        """Ask the runner to stop (``stop``: run exit handlers) or terminate; False if not running."""
        with self.transaction() as db:
            changed = db.execute(
                f"UPDATE workflows SET stop = ? WHERE name = ? AND phase NOT IN ({', '.join('?' * len(COMPLETED_PHASES))})",
                (how, name, *COMPLETED_PHASES),
            ).rowcount
        return bool(changed)

    def stop_requested(self, name: str) -> str | None:
        """``stop`` or ``terminate`` when asked, else ``None``."""
        row = self.db.execute("SELECT stop FROM workflows WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def delete(self, name: str) -> None:
        """Remove the workflow's rows and folder."""
        with self.transaction() as db:
            db.execute("DELETE FROM nodes WHERE workflow = ?", (name,))
            db.execute("DELETE FROM workflows WHERE name = ?", (name,))
        shutil.rmtree(self.workflow_dir(name), ignore_errors=True)

    def expired(self, now: float) -> list[str]:
        """Finished workflows whose TTL has passed."""
        return [name for (name,) in self.db.execute(
            "SELECT name FROM workflows WHERE expires IS NOT NULL AND expires <= ?", (now,))]
