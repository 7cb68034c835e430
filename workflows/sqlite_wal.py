"""SQLite's WAL mode for databases that several processes open at once: the local engine's store
(:mod:`workflows.engine.store`) and the embedded events backend (:mod:`workflows.events.embedded`)."""

from __future__ import annotations

import sqlite3
import time


def use_wal(connection: sqlite3.Connection, busy_seconds: float) -> str:
    """Ask for WAL mode (kept in the file: set by whichever connection comes first); the journal mode the database
    then has. Switching a new database takes a lock SQLite does not wait for: "database is locked" comes at once,
    without the busy handler, when several processes or threads open a new database together (10–18 in 200
    trials of four threads). Asked again, with growing pauses, within ``busy_seconds``."""
    deadline = time.monotonic() + busy_seconds
    pause = 0.001
    while True:
        try:
            return str(connection.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
