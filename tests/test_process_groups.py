"""Recorded process groups (``workflows.engine.processgroups``): a dead runner's pods are killed from their
records, but an id the system has since given to another process is never signalled.

The processes signalled here are the test's own, each in a session of its own; a record that stands for an
id reused since differs from the live process's in its start (another boot, another start time), as the
kernel's would.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from workflows.engine.processgroups import ProcessGroup, kill_recorded_group, process_group
from workflows.engine.store import Store
from workflows.engine.watchdog import RUNNER_DIED, bury


@pytest.fixture
def own_group():
    """A process of the test's own leading a process group (as a pod's leader does); killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def ended(process: subprocess.Popen, seconds: float = 10) -> bool:
    """Whether ``process`` ends within ``seconds``."""
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def another_start(group: ProcessGroup) -> ProcessGroup:
    """The record of a group whose leader had the same id but started one clock tick earlier."""
    boot, ticks = group.start.split("/")
    return ProcessGroup(group.pgid, f"{boot}/{int(ticks) - 1}")


def test_a_record_names_the_group_and_when_its_leader_started(own_group):
    group = process_group(own_group.pid)
    assert group is not None and group.pgid == own_group.pid
    boot, ticks = group.start.split("/")
    assert len(boot) == 36 and int(ticks) > 0
    assert process_group(own_group.pid) == group  # the same process, the same record


def test_the_recorded_group_is_killed(own_group):
    kill_recorded_group(process_group(own_group.pid))
    assert ended(own_group)


@pytest.mark.parametrize("stale", ["another start", "another boot"])
def test_an_id_given_to_another_process_since_is_never_signalled(own_group, stale):
    group = process_group(own_group.pid)
    record = another_start(group) if stale == "another start" else ProcessGroup(group.pgid, "0" * 36 + "/1")
    kill_recorded_group(record)
    assert not ended(own_group, 0.5)


def test_bury_kills_only_what_its_records_still_name(tmp_path, own_group):
    """A runner gone without recording its end: the first reader buries the workflow (``Error``), killing its
    pods from their records, and leaves alone a process that only shares a recorded id."""
    store = Store(tmp_path / "state")
    name = store.create({"metadata": {"name": "gone"}, "spec": {}})["metadata"]["name"]
    store.set_phase(name, "Running")
    live = process_group(own_group.pid)
    store.write_nodes(name, {"stale": (0, {"id": "stale", "phase": "Running"}, another_start(live))})
    assert bury(store, name)
    assert not ended(own_group, 0.5)
    assert store.phase(name) == "Error" and store.read(name)["status"]["message"] == RUNNER_DIED
    assert store.running_process_groups(name) == []  # the buried nodes' records are cleared

    store.set_phase(name, "Running")
    store.write_nodes(name, {"live": (1, {"id": "live", "phase": "Running"}, live)})
    assert bury(store, name)
    assert ended(own_group)
    store.close()


def test_a_record_from_before_leaders_starts_were_kept_is_left_out(tmp_path):
    """A database of an older version holds bare ids: they cannot be told from ids given away since."""
    store = Store(tmp_path / "state")
    name = store.create({"metadata": {"name": "old"}, "spec": {}})["metadata"]["name"]
    with store.transaction() as db:
        db.execute("INSERT INTO nodes (workflow, id, seq, data, pgid) VALUES (?, 'n', 0, '{}', 4242)", (name,))
    assert store.running_process_groups(name) == []
    store.close()


def test_a_database_of_an_older_version_gets_the_new_column(tmp_path):
    """State made before leaders' starts were recorded: opening it adds the column, its workflows stay."""
    import sqlite3

    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    old = sqlite3.connect(state / "engine.sqlite")
    old.executescript("""
        CREATE TABLE workflows (name TEXT PRIMARY KEY, created REAL NOT NULL, manifest TEXT NOT NULL,
            phase TEXT NOT NULL, message TEXT, started_at TEXT, finished_at TEXT, expires REAL, outputs TEXT,
            stop TEXT);
        CREATE TABLE nodes (workflow TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
            pgid INTEGER, PRIMARY KEY (workflow, id));
        INSERT INTO workflows (name, created, manifest, phase) VALUES ('kept', 0, '{"metadata": {"name": "kept"}}',
            'Succeeded');
    """)
    old.commit()
    old.close()
    store = Store(state)
    store.write_nodes("kept", {"n": (0, {"id": "n", "phase": "Running"}, ProcessGroup(4242, "boot/1"))})
    assert store.running_process_groups("kept") == [ProcessGroup(4242, "boot/1")]
    assert store.phase("kept") == "Succeeded"
    store.close()
