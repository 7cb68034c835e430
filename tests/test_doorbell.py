"""workflows.doorbell: waiting for another process without polling."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from workflows.doorbell import Doorbell

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def short_dir():
    """A directory whose socket paths fit ``sun_path`` (pytest's tmp_path may not)."""
    path = Path(tempfile.mkdtemp(prefix="bell-test-", dir="/tmp" if os.path.isdir("/tmp") else None))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_ringing_nobody(tmp_path):
    assert Doorbell(tmp_path / "missing").ring() == 0
    (tmp_path / "empty").mkdir()
    assert Doorbell(tmp_path / "empty").ring() == 0


def test_wait_times_out_without_a_ring(short_dir):
    with Doorbell(short_dir / "bell").waiter() as waiter:
        start = time.monotonic()
        assert waiter.wait(0.2) is False
        assert time.monotonic() - start >= 0.2  # it waited the whole timeout
        assert waiter.wait(0) is False


def test_ring_before_wait_is_not_lost(short_dir):
    bell = Doorbell(short_dir / "bell")
    with bell.waiter() as waiter:
        assert bell.ring() == 1
        assert bell.ring() == 1
        assert waiter.wait(0) is True  # queued: no waiting needed
        assert waiter.wait(0) is False  # both rings consumed by the first wait
    assert list((short_dir / "bell").iterdir()) == []  # the waiter removed its socket


def test_every_waiter_is_rung(short_dir):
    bell = Doorbell(short_dir / "bell")
    with bell.waiter() as first, bell.waiter() as second:
        assert bell.ring() == 2
        assert first.wait(1) and second.wait(1)


@pytest.mark.parametrize("long_path", [False, True])
def test_another_process_rings(short_dir, tmp_path, long_path):
    directory = (tmp_path / ("d" * 120)) if long_path else short_dir / "bell"
    bell = Doorbell(directory)
    with bell.waiter() as waiter:
        entries = list(directory.iterdir())
        assert len(entries) == 1 and entries[0].is_symlink() == long_path
        socket_path = os.readlink(entries[0]) if long_path else str(entries[0])
        assert waiter.wait(0) is False  # nothing queued: what follows is a wake-up from the other process
        ringer = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time\nfrom workflows.doorbell import Doorbell\n"
             "time.sleep(0.2)\nprint(Doorbell(sys.argv[1]).ring())\n", str(directory)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
        rung = waiter.wait(60)  # True only when rung: a timeout returns False
        out, _ = ringer.communicate(timeout=60)
    assert rung is True and out.strip() == "1"
    assert list(directory.iterdir()) == []
    assert not os.path.exists(socket_path)
    if long_path:
        assert not os.path.exists(os.path.dirname(socket_path))  # the private short directory too


def test_stale_sockets_are_removed(short_dir):
    directory = short_dir / "bell"
    directory.mkdir()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(directory / "123-dead"))
    dead.close()  # its owner is gone, the file stays
    os.symlink(str(short_dir / "wf-bell-gone" / "s"), directory / "456-gone")
    (directory / "not-a-socket").write_text("left alone")
    bell = Doorbell(directory)
    with bell.waiter() as waiter:
        assert bell.ring() == 1
        assert waiter.wait(1)
    assert sorted(path.name for path in directory.iterdir()) == ["not-a-socket"]


def test_prune_removes_only_an_unused_doorbell(short_dir):
    bell = Doorbell(short_dir / "bell")
    assert bell.prune() is True  # never used
    with bell.waiter():
        assert bell.prune() is False
    assert bell.prune() is True
    assert not (short_dir / "bell").exists()
    with bell.waiter() as waiter:  # usable again after pruning
        assert bell.ring() == 1 and waiter.wait(1)
