"""A PythonTask's end told from ``/proc`` as its leader exits (:mod:`workflows.engine.pod.exits`): the check on
real processes, and pods whose end must not be told before all of them ended."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import runner_log_at_end
from workflows.engine.pod.exits import ended_alone, open_process
from workflows.operations import PipelineOperation
from workflows.tasks import PythonTask

WAIT = 120


def waiting_child(then: str) -> subprocess.Popen:
    """A Python child that says it is ready, then runs ``then`` once it reads a line."""
    child = subprocess.Popen([sys.executable, "-c", f"import sys; print(flush=True); sys.stdin.readline(); {then}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.readline()
    return child


def test_a_running_process_has_not_ended():
    """A process that runs has memory: nothing to tell yet."""
    child = waiting_child("pass")
    try:
        process = open_process(child.pid)
        try:
            assert ended_alone(process) is None
        finally:
            os.close(process)
    finally:
        child.kill()
        child.communicate()


@pytest.mark.parametrize(("then", "sig", "code"), [
    ("sys.exit(3)", None, 3),
    ("pass", None, 0),
    ("import time; time.sleep(60)", signal.SIGTERM, -signal.SIGTERM),
])
def test_an_ended_process_not_reaped_yet_tells_its_exit_status(then, sig, code):
    """Opened while it runs (as the runner opens a pod's leader), read once it ended: the kernel's status."""
    child = waiting_child(then)
    process = open_process(child.pid)
    try:
        assert child.stdin is not None
        child.stdin.write(b"\n")
        child.stdin.flush()
        if sig is not None:
            child.send_signal(sig)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        status = ended_alone(process)
        assert status is not None and os.waitstatus_to_exitcode(status) == code
        child.communicate()
        assert ended_alone(process) is None  # reaped: nothing to tell, whoever has its pid now
    finally:
        os.close(process)


def test_a_process_that_ended_cannot_be_opened():
    """Without its memory's layout, /proc cannot show whether it would show this process the exit status."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    try:
        with pytest.raises(PermissionError, match="shows no memory layout"):
            open_process(child.pid)
    finally:
        child.wait()


def test_close_files_closes_every_descriptor_its_streams_included():
    """What a PythonTask's leader does before it exits, so that its streams close for the runner then."""
    code = ("import os\nfrom workflows.engine.pod.process import close_files\nread, write = os.pipe()\n"
            "close_files()\nopen_fds = []\nfor fd in (0, 1, 2, read, write):\n    try:\n        os.fstat(fd)\n"
            "    except OSError:\n        continue\n    open_fds.append(fd)\nos._exit(len(open_fds))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def told_early(home: Path, name: str) -> int:
    """How many pods' ends the runner of ``name`` told from /proc, as it logged at its end."""
    log = runner_log_at_end(home, name, WAIT)
    found = re.search(r"(\d+) pods' ends were told as their leaders exited", log)
    assert found, log
    return int(found.group(1))


def fill_memory_then_end():
    """A PythonTask's body: 512 MB written and kept, which its leader's exit takes tens of milliseconds to let
    go (~50 ms here: the runner, however late it looks, finds it exiting), then success."""
    import sys

    sys.kept = b"x" * (512 << 20)


def fill_memory_then_exit_3():
    """As :func:`fill_memory_then_end`, then exit code 3."""
    import sys

    sys.kept = b"x" * (512 << 20)
    sys.exit(3)


def leave_a_process_holding_a_lock():
    """A PythonTask's body: as :func:`fill_memory_then_end`, and a process of its own, not holding the pod's
    streams, that locks a file of the shared volume until it is killed."""
    import os
    import subprocess
    import sys

    sys.kept = b"x" * (512 << 20)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\nlocked = open(sys.argv[1], 'w')\n"
         "fcntl.flock(locked, fcntl.LOCK_EX)\nprint(flush=True)\ntime.sleep(60)",
         os.path.join(os.environ["shared_directory"], "lock")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if holder.stdout.readline() != b"\n":  # else it holds the lock
        sys.exit("the lock's holder did not start")


def lock_state():
    """A PythonTask's body: whether a process still holds the lock that the step before left."""
    import fcntl
    import os

    with open(os.path.join(os.environ["shared_directory"], "lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("held")
        else:
            print("free")


def test_a_python_tasks_end_is_told_as_its_leader_exits(workflows_home):
    """Its exit status comes from /proc while its leader's memory is let go: success, and an exit code."""
    ok = PipelineOperation("early-ok", [PythonTask("fill", fill_memory_then_end)]).execute().wait(WAIT)
    assert ok.succeeded(), ok.get_status_message()
    assert told_early(workflows_home, ok.name) == 1
    failed = PipelineOperation("early-3", [PythonTask("fill", fill_memory_then_exit_3)]).execute().wait(WAIT)
    pods = [node for node in failed.nodes.values() if node["type"] == "Pod"]
    assert [(pod["phase"], pod["message"]) for pod in pods] == [("Failed", "Error (exit code 3)")]
    assert told_early(workflows_home, failed.name) == 1


def test_a_pod_is_not_told_ended_while_a_process_it_left_runs(workflows_home):
    """Its leader exits while a process it started runs on: the pod ends once the kernel killed that one too
    (the leader is its PID namespace's first process), not 60 s later, and not before. Told before, the next
    step would start during the leader's exit, its memory let go while that process still holds its lock."""
    started = time.monotonic()
    workflow = PipelineOperation("child", [PythonTask("leave", leave_a_process_holding_a_lock),
                                           PythonTask("check", lock_state)],
                                 shared_directory="data:/data").execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert time.monotonic() - started < 30
    results = [node["outputs"]["result"] for node in workflow.nodes.values()
               if node["type"] == "Pod" and node["displayName"] == "check"]
    assert results == ["free"]


def close_streams_then_write():
    """A PythonTask's body: its streams closed, it runs on, then leaves a file on the shared volume."""
    import os
    import time

    os.close(1)
    os.close(2)
    time.sleep(0.5)
    with open(os.path.join(os.environ["shared_directory"], "marker"), "w") as marker:
        marker.write("written after the streams closed")


def read_marker():
    """A PythonTask's body: what the step before left on the shared volume."""
    import os

    with open(os.path.join(os.environ["shared_directory"], "marker")) as marker:
        print(marker.read())


def test_a_pod_that_closes_its_streams_and_runs_on_is_not_told_ended(workflows_home):
    """Closed streams are only when the runner looks: a leader still running has not ended, and the next step
    starts once it did."""
    workflow = PipelineOperation("streams", [PythonTask("close", close_streams_then_write),
                                             PythonTask("read", read_marker)],
                                 shared_directory="data:/data").execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    results = [node["outputs"]["result"] for node in workflow.nodes.values()
               if node["type"] == "Pod" and node["displayName"] == "read"]
    assert results == ["written after the streams closed"]
