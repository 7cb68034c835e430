"""Runners started ahead (``workflows.engine.spares``): a submission's runner starts as the submission begins, a
process that submits again has its next workflow run by a spare, under the same circumstances only, and a
runner started ahead never outlives the process or takes what was not meant for its workflow.

Each scenario runs in a process of its own (a probe, a real interpreter submitting real workflows), whose
children the test finds from its pid (never by scanning the machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import alive
from workflows import argo
from workflows.engine.pod.isolation import UNISOLATED_WARNING
from workflows.engine.runner import SPARE_QUIET_SECONDS
from workflows.engine.watchdog import RUNNER_DIED
from workflows.errors import EngineConfigurationError
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask

WAIT = 60.0

PROBE_HEAD = """
import json, os, signal, sys, time
from pathlib import Path
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask

home = Path(os.environ["WORKFLOWS_HOME"])

def runner(workflow):
    return int((home / "workflows" / workflow.name / "runner.pid").read_text())

def run(name, script="true"):
    workflow = PipelineOperation(name, [BashTask("a", script)]).execute().wait(60)
    assert workflow.succeeded(), workflow.get_status_message()
    return workflow

def children(pid="self"):
    found = set()
    for listed in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(int(child) for child in listed.read_text().split())
    return found

def descendants(pid):
    found, pending = {}, [pid]
    while pending:
        for child in children(pending.pop()):
            try:
                found[child] = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[19]
            except OSError:
                continue
            pending.append(child)
    return found

def spares():
    # this process's children started as spare runners and not yet given a workflow
    given = {int(path.read_text()) for path in home.glob("workflows/*/runner.pid")}
    found = []
    for pid in children() - given:
        try:
            if "spare_main" in Path(f"/proc/{pid}/cmdline").read_text():
                found.append(pid)
        except OSError:
            pass
    return found

def until_spare():
    deadline = time.monotonic() + 60
    while not spares():
        assert time.monotonic() < deadline, "no spare runner"
        time.sleep(0.02)
    return spares()[0]

report = {}
"""


def probe(local_engine: Path, body: str, env: dict[str, str] | None = None) -> dict:
    """Run ``body`` after :data:`PROBE_HEAD` in a new interpreter on the test's state folder; the ``report``
    it filled."""
    script = PROBE_HEAD + body + "\nprint(json.dumps(report))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                          env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_process_that_submits_again_has_its_next_workflow_run_by_a_spare(local_engine):
    """A process that submitted once has no spare (a one-shot command never starts one); its second workflow
    leaves a spare ready, which takes the third; the third leaves the next spare. Each runs to its end."""
    report = probe(local_engine, """
first = run("first")
time.sleep(0.5)
after_first = spares()
second = run("second")
spare = until_spare()
third = run("third")
report.update(runners=[runner(first), runner(second), runner(third)], spare=spare, next=until_spare(),
              after_first=after_first)
""")
    assert report["after_first"] == []
    assert report["runners"][2] == report["spare"]  # the spare, started before the third's submission, ran it
    assert report["spare"] not in report["runners"][:2] and report["next"] not in report["runners"]
    for name in ("first", "second", "third"):
        (workflow,) = [w for w in argo.get_workflows().items if w.name.startswith(name)]
        assert workflow.succeeded(), workflow.get_status_message()


def test_a_process_s_first_workflow_is_run_by_the_runner_started_as_its_submission_began(local_engine):
    """The first submission of a process starts its runner before it checks and stores the spec (a runner started
    ahead, ``spare_main``, handed the workflow once stored), and leaves no spare behind."""
    report = probe(local_engine, """
from workflows import argo
first = PipelineOperation("first", [BashTask("a", "sleep 1")]).execute()
command = Path(f"/proc/{runner(first)}/cmdline").read_text()
first.wait(60)
time.sleep(0.5)
report.update(command=command, spares=spares(), status=argo.get_workflow(first.name).status)
""")
    assert "spare_main" in report["command"]
    assert report["spares"] == [] and report["status"] == "Succeeded"


def test_a_submission_that_fails_ends_the_runner_started_for_it(local_engine):
    """A spec refused at validation: the runner started for its submission is killed and reaped (the process is
    left with no child), and nothing is stored; the next submission runs as usual."""
    report = probe(local_engine, """
from workflows import argo
from workflows.errors import InvalidWorkflowSpec
bad = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "bad-"},
       "spec": {"entrypoint": "missing", "templates": [{"name": "main", "container": {"image": "busybox"}}]}}
try:
    argo.submit_workflow(bad)
except InvalidWorkflowSpec as error:
    refused = str(error)
left = sorted(children())
workflow = run("after")
report.update(refused=refused, left=left, stored=[w.name for w in argo.get_workflows().items])
""")
    assert "missing" in report["refused"]
    assert report["left"] == []
    assert [name for name in report["stored"] if name.startswith("bad-")] == []


def test_a_stop_sent_before_the_runner_read_its_workflow_stops_it(local_engine):
    """The hand-off does not wait for the runner to load: a ``stop()`` right after submission may signal a
    runner that has not read its workflow yet (here held stopped until then), which takes that signal for a
    stray one. The stop is in the store too, and the run finds it there: the workflow stops at once."""
    report = probe(local_engine, """
from workflows import config
from workflows.engine import spares as engine_spares
engine_spares.ahead(engine_spares.Circumstances(config.state_dir()))  # the runner the next submission gets
pending = until_spare()
os.kill(pending, signal.SIGSTOP)
workflow = PipelineOperation("late", [BashTask("a", "sleep 60")]).submit()
workflow.stop()
os.kill(pending, signal.SIGCONT)
started = time.monotonic()
final = workflow.wait(60)
report.update(runner=runner(workflow), pending=pending, status=final.status, message=final.get_status_message(),
              seconds=time.monotonic() - started)
""")
    assert report["runner"] == report["pending"]
    assert report["status"] == "Failed" and report["message"] == "Stopped with strategy 'Stop'", report
    assert report["seconds"] < 30


def test_a_runner_that_dies_before_reading_its_workflow_leaves_it_ended_error(local_engine):
    """A runner killed with its workflow still in its socket: the workflow's lock, sent with it, closes with the
    socket, and the workflow ends ``Error`` as for any runner that dies, instead of waiting for ever."""
    report = probe(local_engine, """
from workflows import config
from workflows.engine import spares as engine_spares
engine_spares.ahead(engine_spares.Circumstances(config.state_dir()))
pending = until_spare()
os.kill(pending, signal.SIGSTOP)
workflow = PipelineOperation("orphan", [BashTask("a", "true")]).submit()
os.kill(pending, signal.SIGKILL)
final = workflow.wait(60)
report.update(status=final.status, message=final.get_status_message())
""")
    assert report["status"] == "Error"
    assert report["message"].startswith(RUNNER_DIED), report


def test_what_a_runner_started_ahead_says_before_its_workflow_goes_to_the_state_folder(local_engine):
    """A runner started ahead has no workflow log yet: what it prints until it has one (here the traceback of a
    message it cannot read) goes to ``spares.log`` in the state folder, readable by its user only."""
    report = probe(local_engine, """
from workflows import config
from workflows.engine import spares as engine_spares
started = engine_spares.ahead(engine_spares.Circumstances(config.state_dir()))
started.sock.sendall(bytes(8))  # a message of no bytes, which does not unpickle
code = started.process.wait(60)
log = home / engine_spares.LOG
report.update(code=code, text=log.read_text(), mode=log.stat().st_mode & 0o777)
""")
    assert report["code"] != 0
    assert "Traceback" in report["text"] and "EOFError" in report["text"], report["text"]
    assert report["mode"] == 0o600


def test_a_spare_loads_once_the_runner_before_it_ended_but_takes_a_workflow_at_once(local_engine):
    """A spare started while a workflow runs waits for its runner to end before it loads (no zygote forked
    yet: its start takes no CPU from that workflow), but a workflow submitted meanwhile is taken at once: it
    ends while the one before still runs."""
    report = probe(local_engine, """
from workflows import argo
run("first")
second = PipelineOperation("second", [BashTask("a", "sleep 3")]).execute()
spare = until_spare()
time.sleep(0.5)
quiet = descendants(spare)
third = run("third")
report.update(quiet=quiet, spare=spare, third=runner(third), second=argo.get_workflow(second.name).status)
""")
    assert report["quiet"] == {}
    assert report["third"] == report["spare"]
    assert report["second"] == "Running"


def test_a_spare_whose_socket_is_numbered_past_fd_setsize_waits_on_it_all_the_same(local_engine):
    """A process holding over 1,024 descriptors (a service with many connections) passes its spare a socket
    numbered past ``FD_SETSIZE``, which ``select()`` refuses: the spare waits on it all the same, while the
    runner before it runs, and takes the next workflow."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the open files' hard limit ({hard}) leaves no room past FD_SETSIZE")
    report = probe(local_engine, """
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (2048, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
run("first")
second = PipelineOperation("second", [BashTask("a", "sleep 3")]).execute()
spare = until_spare()
numbers = [int(fd) for fd in os.listdir(f"/proc/{spare}/fd")]
time.sleep(0.2)  # waiting for the second's runner to end
third = run("third")
report.update(spare=spare, third=runner(third), highest=max(numbers))
""")
    assert report["highest"] > 1024
    assert report["third"] == report["spare"]


def test_threads_submitting_together_each_get_a_runner_of_their_own(local_engine):
    """Six threads each submitting three workflows at once: a spare goes to one submission only, every
    workflow has a runner of its own, and all run to their ends."""
    report = probe(local_engine, """
import threading
done = []
def submit(thread):
    for turn in range(3):
        done.append(run(f"t{thread}-{turn}-"))
threads = [threading.Thread(target=submit, args=(thread,)) for thread in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
report.update(runners=[runner(workflow) for workflow in done])
""")
    assert len(report["runners"]) == 18
    assert len(set(report["runners"])) == 18


def test_a_forked_child_does_not_take_its_parents_spare(local_engine):
    """A process forked after its parent started a spare (a multiprocessing worker, say) runs its workflows
    with runners of its own; the parent's spare still serves the parent."""
    report = probe(local_engine, """
run("first"), run("second")
spare = until_spare()
reading, writing = os.pipe()
child = os.fork()
if child == 0:
    os.close(reading)
    workflow = run("child")
    os.write(writing, str(runner(workflow)).encode())
    os._exit(0)
os.close(writing)
_, status = os.waitpid(child, 0)
child_runner = int(os.read(reading, 100))
third = run("third")
report.update(spare=spare, child_status=status, child_runner=child_runner, third=runner(third))
""")
    assert report["child_status"] == 0
    assert report["child_runner"] != report["spare"]
    assert report["third"] == report["spare"]


def test_a_spare_ends_with_the_process_that_started_it(local_engine):
    """A spare waits on a socket only the process that started it holds: that process's exit ends it, and the
    zygote it forked with it."""
    report = probe(local_engine, """
run("first"), run("second")
spare = until_spare()
deadline = time.monotonic() + 60
while len(descendants(spare)) < 2:  # its zygote's launcher and the zygote
    assert time.monotonic() < deadline, "the spare forked no zygote"
    time.sleep(0.02)
report.update(spare={spare: open(f"/proc/{spare}/stat").read().rsplit(")", 1)[1].split()[19],
                     **descendants(spare)})
""")
    spare = {int(pid): start for pid, start in report["spare"].items()}
    assert len(spare) >= 3
    deadline = time.monotonic() + WAIT
    while alive(spare):
        assert time.monotonic() < deadline, "the spare runner outlived its process"
        time.sleep(0.05)


def test_a_spare_that_waits_to_load_ends_with_its_process_at_once(local_engine):
    """A spare still waiting for the runner before it to end (so before it loaded anything) ends as soon as
    the process that started it exits: while that workflow still runs, and well before the 2 s after which a
    spare that did not watch its socket would have loaded, then ended."""
    report = probe(local_engine, """
run("first")
second = PipelineOperation("second", [BashTask("a", "sleep 5")]).execute()
spare = until_spare()
report.update(second=second.name,
              spare={spare: open(f"/proc/{spare}/stat").read().rsplit(")", 1)[1].split()[19]})
""")
    spare = {int(pid): start for pid, start in report["spare"].items()}
    exited = time.monotonic()
    while alive(spare):
        assert time.monotonic() - exited < SPARE_QUIET_SECONDS - 0.5, "the spare did not end while it waited"
        time.sleep(0.02)
    assert argo.get_workflow(report["second"]).status in ("Pending", "Running")  # not finished


def test_a_spare_is_not_used_once_the_environment_changed(local_engine):
    """A spare carries the environment of its start: after a change (here ``WORKFLOWS_ISOLATION=none``), the
    next workflow gets a runner started for it, which runs it as the environment now says (unisolated, its
    runner's log warns), and the spare is ended."""
    report = probe(local_engine, """
run("first"), run("second")
spare = until_spare()
os.environ["WORKFLOWS_ISOLATION"] = "none"
third = run("third")
report.update(spare=spare, third=runner(third),
              log=(home / "workflows" / third.name / "runner.log").read_text(), left=spare in spares())
""")
    assert report["third"] != report["spare"]
    assert UNISOLATED_WARNING in report["log"], report["log"]
    assert not report["left"]


def test_a_stop_reaches_a_workflow_run_by_a_spare_and_one_sent_before_does_not(local_engine):
    """A ``SIGTERM`` sent to the spare before it had a workflow is not a stop of the workflow it then takes;
    ``stop()`` of that workflow stops it as it stops any."""
    report = probe(local_engine, """
from workflows import argo
from workflows.engine.pod.isolation import UNISOLATED_WARNING
from workflows.engine.runner import SPARE_QUIET_SECONDS
from workflows.engine.watchdog import RUNNER_DIED
run("first"), run("second")
spare = until_spare()
os.kill(spare, signal.SIGTERM)  # a stray signal, before the spare has a workflow
third = run("third")  # taken by that spare: it must run to its end
spare = until_spare()
fourth = PipelineOperation("fourth", [BashTask("a", "sleep 60")]).submit()
deadline = time.monotonic() + 60
while argo.get_workflow(fourth.name).status != "Running":
    assert time.monotonic() < deadline, "the fourth workflow never ran"
    time.sleep(0.05)
started = time.monotonic()
fourth.stop()
final = fourth.wait(60)
report.update(third=runner(third), fourth=runner(fourth), spare=spare, status=final.status,
              message=final.get_status_message(), seconds=time.monotonic() - started)
""")
    assert report["fourth"] == report["spare"]
    assert report["status"] == "Failed" and report["seconds"] < 30, report


def test_a_spare_runs_a_workflow_without_pods_and_ends_its_zygote(local_engine):
    """A workflow that runs no pod (a ``suspend`` of no duration) taken by a spare: the zygote the spare
    started for pods yet unknown ends at once, and the workflow runs to its end."""
    report = probe(local_engine, """
from workflows import argo
run("first"), run("second")
spare = until_spare()
spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "nopods-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "steps": [[{"name": "wait", "template": "wait"}]]},
            {"name": "wait", "suspend": {"duration": "2"}}]}}
workflow = argo.submit_workflow(spec)
deadline = time.monotonic() + 60
while argo.get_workflow(workflow.name).status != "Running":
    assert time.monotonic() < deadline, "the workflow never ran"
    time.sleep(0.02)
time.sleep(0.5)
running = descendants(spare)
final = workflow.wait(60)
report.update(spare=spare, runner=runner(final), status=final.status, running=len(running))
""")
    assert report["runner"] == report["spare"]
    assert report["status"] == "Succeeded"
    assert report["running"] == 1, report  # its watchdog alone: no zygote, no launcher


def test_a_spare_that_died_gives_way_to_a_runner_started_as_usual(local_engine):
    """A spare killed while it waited: the next workflow is run by a runner started for it."""
    report = probe(local_engine, """
run("first"), run("second")
spare = until_spare()
os.kill(spare, signal.SIGKILL)
os.waitpid(spare, 0)
third = run("third")
report.update(spare=spare, third=runner(third))
""")
    assert report["third"] != report["spare"]


def test_spares_can_be_turned_off_and_a_bad_setting_is_refused_before_anything_is_stored(local_engine,
                                                                                          monkeypatch):
    """``WORKFLOWS_SPARE_RUNNER=0``: no runner started ahead, whatever the process submits; a value other than 0 or 1 is the
    caller's error at submission, naming the variable and the value, with nothing stored."""
    report = probe(local_engine, """
first = PipelineOperation("first", [BashTask("a", "sleep 1")]).execute()
command = Path(f"/proc/{runner(first)}/cmdline").read_text()
first.wait(60)
run("second"), run("third")
time.sleep(0.5)
report.update(spares=spares(), command=command)
""", env={"WORKFLOWS_SPARE_RUNNER": "0"})
    assert report["spares"] == []
    assert "spare_main" not in report["command"]  # started once the workflow was stored, as before
    monkeypatch.setenv("WORKFLOWS_SPARE_RUNNER", "yes")
    with pytest.raises(EngineConfigurationError, match="WORKFLOWS_SPARE_RUNNER='yes'"):
        PipelineOperation("refused", [BashTask("a", "true")]).execute()
    assert [w.name for w in argo.get_workflows().items if w.name.startswith("refused")] == []
