"""The local engine's store (``workflows.engine.store``) and the embedded events backend's database: SQLite in WAL
mode shared by every process and thread (``workflows.sqlite_wal``)."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time

import pytest

from workflows.engine.store import Store
from workflows.sqlite_wal import use_wal


def test_wal_mode_is_asked_again_when_sqlite_answers_locked_at_once(tmp_path):
    """SQLite answers "database is locked" without waiting when waiting could deadlock (processes opening a new
    database together): WAL mode is asked for again until the lock is gone."""
    path = tmp_path / "events.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    asking = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        asking.execute("PRAGMA journal_mode = WAL")  # what a first user met, once: no wait, no retry
    release = threading.Timer(0.2, holder.execute, ("COMMIT",))
    release.start()
    started = time.monotonic()
    try:
        assert use_wal(asking, 30).lower() == "wal"
    finally:
        release.join()
        holder.close()
        asking.close()
    assert time.monotonic() - started >= 0.15  # it waited for the lock rather than failing


def test_threads_that_open_a_new_store_together_all_get_it(tmp_path):
    """Switching a new database to WAL takes a lock SQLite does not wait for: of four threads opening a new store
    together, one failed with ``database is locked`` in about one trial in twenty (the fake cluster's controller
    did so, starting three workflows at once). Each trial has a new folder."""
    for trial in range(100):
        root = tmp_path / str(trial)
        errors: list[BaseException] = []

        def open_store() -> None:
            try:
                Store(root).close()
            except Exception as error:  # noqa: BLE001 - collected, then asserted on in the test's thread
                errors.append(error)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"trial {trial}: {errors}"
    store = Store(tmp_path / "0")
    try:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()
    assert stat.S_IMODE((tmp_path / "0" / "engine.sqlite").stat().st_mode) == 0o600
