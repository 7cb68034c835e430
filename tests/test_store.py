"""The local engine's store (``workflows.engine.store``): its SQLite database shared by every process and thread."""

from __future__ import annotations

import stat
import threading

from workflows.engine.store import Store


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
