"""The runner's zygote (:mod:`workflows.engine.pod.zygote`), which forks every sandboxed pod's leader, and its
standby leader, forked and built before its pod is known. Each pod still gets a tree, ``/tmp`` and hostname of
its own; pods whose standby leader died run on leaders forked anew; when the zygote itself dies, its pod ends
in error and the next pods run on a new zygote."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from processes import alive, command, descendants, kill, parent, runner_pid, start_time
from workflows import argo
from workflows.engine.pod import messages
from workflows.engine.pod.process import KILL_WAIT_SECONDS, PodProcess, PodRun, run_pod
from workflows.engine.pod.sandbox import SandboxPlan
from workflows.engine.pod import zygote as zygote_module
from workflows.engine.pod.identity import pod_userns
from workflows.engine.pod.sandbox import host_mount_points
from workflows.engine.pod.zygote import (ANSWER, MAX_IN_FLIGHT, STANDBY_FOLDER, STANDBY_LEADERS, Zygote, _Request,
                                         start_zygote_early, zygote)
from workflows.engine.runner import _may_run_pods
from workflows.errors import ZygoteError
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask, CommandBasedTask, PythonTask
from workflows.vocabulary import COMPLETED_PHASES

WAIT = 120

def test_each_pod_of_a_pipeline_gets_a_tree_of_its_own(workflows_home):
    tasks = [BashTask(f"p{index}", f"touch /tmp/mark-{index} /mark-{index}; "
                                   "echo $(ls /tmp | grep mark) $(ls / | grep mark) $(hostname)")
             for index in range(3)]
    workflow = PipelineOperation("trees", tasks).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    for index in range(3):
        node = pods[f"p{index}"]
        assert node["outputs"]["result"] == f"mark-{index} mark-{index} {node['id'][:63]}"


def _leads_a_pid_namespace(pid: int) -> bool:
    """Whether ``pid`` is the first process of its PID namespace (its pid there, the last of ``NSpid``, is 1)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return any(line.startswith("NSpid:") and line.split()[-1] == "1" for line in status.splitlines())


def test_a_workflows_first_standby_leader_is_built_before_its_first_pod(workflows_home):
    """As a workflow that may run pods begins, its runner gets the pods' zygote ready with its first standby
    leader: while the first step (a 3 s suspend) waits, before any pod, a standby leads a PID namespace under
    the zygote (before, it was forked when the first pod came)."""
    spec = PipelineOperation("standby-", [CommandBasedTask("t", ["true"])]).to_workflow()
    spec["spec"]["templates"][0]["steps"].insert(0, [{"name": "wait", "template": "wait"}])
    spec["spec"]["templates"].append({"name": "wait", "suspend": {"duration": "3"}})
    workflow = argo.submit_workflow(spec)
    runner = runner_pid(workflows_home, workflow.name, WAIT)
    deadline = time.monotonic() + 2.0
    while len([pid for pid in descendants(runner) if _leads_a_pid_namespace(pid)]) < 2:  # the zygote, a standby
        assert time.monotonic() < deadline, "no standby leader in the 2 s before the first pod"
        time.sleep(0.02)
    assert not [node for node in argo.get_workflow(workflow.name).nodes.values() if node["type"] == "Pod"]
    assert workflow.wait(WAIT).succeeded()


def _standby_leaders(zygote: int) -> dict[int, str]:
    """The zygote's standby leaders, once forked: its children that lead a PID namespace (a pod's; not an
    outputs' collector) and still run the zygote's interpreter, its command line (a pod's leader has become
    its pod's command, ``sh`` here)."""
    deadline = time.monotonic() + WAIT
    zygote_command = command(zygote)
    while True:
        idle = {pid: start for pid, start in descendants(zygote).items()
                if parent(pid) == zygote and command(pid) == zygote_command and _leads_a_pid_namespace(pid)}
        if len(idle) == STANDBY_LEADERS:
            return idle
        assert time.monotonic() < deadline, f"no standby leaders under the zygote {zygote} after {WAIT} s"
        time.sleep(0.02)


def _first_pod_at_its_gate(home, workflow) -> tuple[int, object]:
    """Wait until the workflow's first pod made its gate (a FIFO on the shared volume, where it blocks until
    the test opens it); return the workflow's zygote and the gate's path."""
    runner = runner_pid(home, workflow.name, WAIT)
    deadline = time.monotonic() + WAIT
    gate = None
    while gate is None:
        fifos = [path for path in (home / "workflows" / workflow.name / "volumes").rglob("gate")
                 if stat.S_ISFIFO(path.lstat().st_mode)]
        gate = fifos[0] if fifos else None
        assert gate is not None or time.monotonic() < deadline, "the first pod never made its gate"
        time.sleep(0.02)
    # the zygote: the first process of the pods' PID namespaces, the only child of the runner's child that
    # launched it
    processes = descendants(runner)
    children = [pid for pid in processes if parent(pid) == runner]
    zygotes = [pid for pid in processes if parent(pid) in children and _leads_a_pid_namespace(pid)]
    assert len(zygotes) == 1, zygotes
    return zygotes[0], gate


#: A first pod that blocks at its gate, until the test opens it.
GATE_SCRIPT = "mkfifo /mnt/shared/gate && read line < /mnt/shared/gate && echo $line"


@contextmanager
def _first_pod_held(home, workflow) -> Iterator[tuple[int, object]]:
    """:func:`_first_pod_at_its_gate`, and on the way out a workflow still unfinished deleted: a failed check
    must not leave the first pod waiting at its gate for ever."""
    try:
        yield _first_pod_at_its_gate(home, workflow)
    finally:
        if workflow.refresh().status not in COMPLETED_PHASES:
            argo.delete_workflow(workflow.name)


def _open(gate) -> None:
    """Let the first pod through its gate (it prints what it reads there)."""
    with open(gate, "w") as opened:
        opened.write("opened\n")


def test_the_runner_forks_its_zygote_instead_of_starting_a_python_for_it(workflows_home):
    """The runner forks the zygote's launcher first thing (``start_zygote_early``): the zygote runs the runner's
    command line, not an interpreter started for it."""
    workflow = PipelineOperation("forked", [BashTask("first", GATE_SCRIPT)], shared_directory=True).execute()
    with _first_pod_held(workflows_home, workflow) as (zygote, gate):
        runner = runner_pid(workflows_home, workflow.name, WAIT)
        assert command(zygote) == command(runner)
        assert "from workflows.engine.runner import" in command(zygote)  # main, or spare_main (started ahead)
        _open(gate)
        workflow.wait(WAIT)
        assert workflow.succeeded(), workflow.get_status_message()


def burn_cpu():
    """A PythonTask's body: 0.3 s of CPU."""
    import time

    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass


def test_a_runner_reaps_its_pods_processes_before_it_ends(workflows_home):
    """At its end, the runner closes its zygote's socket and waits: the zygote ends (its PID namespace with it),
    its launcher reaps it, the runner its launcher. No process of the pods is left for the system to reap, and
    the CPU time the pods used adds up in the runner's own children's: here, whoever reaps the runner sees the
    two pods' 0.6 s (a zygote killed unreaped, as the runner's watchdog once kept its socket open, loses it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    workflow = PipelineOperation("burn", [PythonTask("a", burn_cpu), PythonTask("b", burn_cpu)]).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    runner = runner_pid(workflows_home, workflow.name, WAIT)
    started = time.monotonic()
    os.waitpid(runner, 0)  # the runner is this process's child (the submitter's)
    assert time.monotonic() - started < zygote_module.END_SECONDS  # the zygote ended, it was not killed
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    assert children >= 0.6, f"the pods' CPU did not reach the runner's children's: {children:.3f} s"


LEFT_TO_REAP_PROBE = """
import json, os, sys
from workflows import argo
from workflows.engine.pod.syscalls import set_child_subreaper

set_child_subreaper()  # whatever the runner leaves unreaped comes here
workflow = argo.submit_workflow(json.loads(sys.argv[1])).wait(120)
runner = int(open(os.path.join(os.environ["WORKFLOWS_HOME"], "workflows", workflow.name, "runner.pid")).read())
os.waitpid(runner, 0)
left = []
while True:
    try:
        left.append(os.waitpid(-1, 0)[0])
    except ChildProcessError:
        break
print(json.dumps({"status": workflow.status, "left": left}))
"""


@pytest.mark.parametrize("when", ["true", "false"])
def test_a_runner_leaves_nothing_for_the_system_to_reap(tmp_path, when):
    """Whether its zygote ran a pod (``when: true``) or was started early and never used (``false``: the
    workflow may run pods, its only pod is skipped), the runner reaps it before it exits, and its watchdog
    too: a child subreaper that reaps the runner is left nothing to reap (what the runner left would be
    adopted there)."""
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "reap-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": [[{"name": "pod", "template": "pod", "when": when}]]},
                {"name": "pod", "container": {"image": "alpine:3.20", "command": ["true"]}}]}}
    probe = tmp_path / "probe.py"
    probe.write_text(LEFT_TO_REAP_PROBE)
    done = subprocess.run([sys.executable, str(probe), json.dumps(spec)], capture_output=True, text=True,
                          timeout=4 * WAIT, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "Succeeded", "left": []}


def test_a_zygote_ended_once_its_runners_loop_closed_drops_its_unanswered_questions(tmp_path):
    """At the runner's end (``end_zygote``) its event loop is closed: a question still unanswered (a cancelled
    pod's, whose leader ends with the zygote) is dropped, not failed through the closed loop, which would raise."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    handle = Zygote(stand_in, ours, [], 1, tmp_path)
    loop = asyncio.new_event_loop()
    answer = loop.create_future()
    answer.add_done_callback(lambda _: None)  # as a cancelled pod's question has (_kill_named_leader)
    handle.loop = loop
    handle.answers.append(answer)
    loop.close()
    try:
        handle.close("the runner ended")
    finally:
        theirs.close()
        stand_in.stdin.close()
    assert not answer.done()
    assert stand_in.poll() is not None


def test_pods_run_when_their_standby_leaders_died(workflows_home):
    later = [BashTask(f"later{index}", f"echo later {index} $(hostname)") for index in range(2)]
    workflow = PipelineOperation("orphaned", [BashTask("first", GATE_SCRIPT), *later],
                                 shared_directory=True).execute()
    with _first_pod_held(workflows_home, workflow) as (zygote, gate):
        standbys = _standby_leaders(zygote)
        kill(standbys)
        deadline = time.monotonic() + WAIT
        while alive(standbys):  # dead, its socket closed, before the next pod asks for it
            assert time.monotonic() < deadline, f"the standby leaders {standbys} outlived SIGKILL"
            time.sleep(0.02)
        _open(gate)  # lets the first pod end; the next pods find no standby leader
        workflow.wait(WAIT)
        assert workflow.succeeded(), workflow.get_status_message()
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    assert pods["first"]["outputs"]["result"] == "opened"
    for index in range(2):
        node = pods[f"later{index}"]
        assert node["outputs"]["result"] == f"later {index} {node['id'][:63]}"


def test_a_dead_zygote_errs_its_pod_and_a_new_one_runs_the_next(workflows_home):
    spec = PipelineOperation("zygote-dies", [BashTask("first", GATE_SCRIPT), BashTask("next", "echo next")],
                             shared_directory=True).to_workflow()
    steps = next(template for template in spec["spec"]["templates"] if "steps" in template)
    steps["steps"][0][0]["continueOn"] = {"error": True, "failed": True}  # the next step runs all the same
    workflow = argo.submit_workflow(spec)
    with _first_pod_held(workflows_home, workflow) as (zygote, _):
        kill({zygote: start_time(zygote)})
        workflow.wait(WAIT)
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    assert pods["first"]["phase"] == "Error"
    assert "zygote" in pods["first"]["message"], pods["first"]["message"]
    assert pods["next"]["phase"] == "Succeeded", pods["next"].get("message")
    assert pods["next"]["outputs"]["result"] == "next"


def test_a_zygote_that_cannot_start_says_why(tmp_path):
    """Handed something that is no user namespace, the zygote's launcher cannot enter it: the runner hears
    why (and fails the pod with it), rather than a bare end of file."""
    not_a_namespace = os.open(os.devnull, os.O_RDONLY)
    try:
        with pytest.raises(ZygoteError) as raised:
            zygote(not_a_namespace, tmp_path, [], 1 << 20)
    finally:
        os.close(not_a_namespace)
    assert "cannot start the pods' zygote" in str(raised.value) and "setns" in str(raised.value)


def test_questions_waiting_on_an_ended_zygote_fail_at_once(tmp_path):
    """A zygote found dead (its answers never to come) fails the pods waiting on it with ZygoteError, at once
    rather than after ANSWER_SECONDS; ending it twice is harmless."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    handle = Zygote(stand_in, ours, [], 0, tmp_path)

    async def ask_then_end() -> BaseException:
        waiting = asyncio.ensure_future(handle._ask(_Request(None, [])))
        await asyncio.sleep(0)  # the question is sent and waits for its answer
        assert theirs.recv(1 << 16)  # the other end got it
        handle.close("it died")
        handle.close("again")
        with pytest.raises(ZygoteError) as raised:
            await waiting
        return raised.value

    error = asyncio.run(asyncio.wait_for(ask_then_end(), WAIT))
    assert "it died" in str(error)
    assert stand_in.poll() is not None
    theirs.close()


def test_a_zygote_whose_socket_hung_up_is_not_alive(tmp_path):
    """Its process may not be reaped yet when the next pod comes: a hung-up socket already tells."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    handle = Zygote(stand_in, ours, [], 0, tmp_path)
    try:
        assert handle.alive()
        theirs.close()
        assert not handle.alive() and stand_in.poll() is None
    finally:
        handle.close()


def open_descriptors():
    """A PythonTask's body: the descriptors its process holds (the one listing them aside)."""
    import os

    listed = [int(name) for name in os.listdir("/proc/self/fd")]
    print(sorted(fd for fd in listed if os.path.exists(f"/proc/self/fd/{fd}")))


def test_a_pods_processes_hold_no_descriptor_of_the_engine(workflows_home):
    """A PythonTask runs in the pod's leader without ``exec``, so close-on-exec protects nothing: its sockets to
    the zygote and the runner, the ``done`` pipe, the tree's descriptors and ``/dev/null`` must be closed before
    (first pod on the zygote's first standby leader, the next on a standby forked while the first ran)."""
    tasks = [PythonTask(f"fds{index}", open_descriptors) for index in range(2)]
    workflow = PipelineOperation("descriptors", tasks).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    results = [node["outputs"]["result"] for node in workflow.nodes.values() if node["type"] == "Pod"]
    assert results == ["[0, 1, 2]", "[0, 1, 2]"]


def test_the_runner_leaves_at_most_a_few_questions_unanswered(tmp_path):
    """A burst of pods (a parallel operation) must not fill both sockets' buffers: at most MAX_IN_FLIGHT
    questions wait for their answers, which come back to each pod in order."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    handle = Zygote(stand_in, ours, [], 1, tmp_path)  # no pod below fits a standby leader: no kit to make
    (tmp_path / "pod").mkdir()
    run = PodRun(PodProcess({}, "/", tmp_path / "log"), tmp_path, SandboxPlan(disk_bytes=0))
    seen: list[int] = []

    def zygote_side() -> None:  # answers each question with its rank, noting how many waited unanswered
        for rank in range(10):
            received = messages.receive(theirs)
            assert received is not None
            for fd in received[1]:
                os.close(fd)
            seen.append(len(handle.answers))
            theirs.sendall(ANSWER.pack(1000 + rank, 0))

    async def burst() -> list[int]:
        pipes = [os.pipe() for _ in range(3)]
        answering = asyncio.get_running_loop().run_in_executor(None, zygote_side)
        pids = await asyncio.gather(*(handle.fork_leader(run, pipes[0][1], pipes[1][1], pipes[2][1])
                                      for _ in range(10)))
        await answering
        for read, write in pipes:
            os.close(read)
            os.close(write)
        return pids

    try:
        assert asyncio.run(asyncio.wait_for(burst(), WAIT)) == [1000 + rank for rank in range(10)]
    finally:
        handle.close()
        theirs.close()
    assert len(seen) == 10 and max(seen) <= MAX_IN_FLIGHT


def heavy_modules_loaded():
    """A PythonTask's body: which modules the zygote should not carry are loaded in the pod's process."""
    import sys

    print(sorted(name for name in ("logging", "typing", "subprocess", "traceback", "platform", "threading",
                                   "dataclasses", "inspect") if name in sys.modules))


def test_the_zygote_carries_no_module_its_pods_do_not_need(workflows_home):
    """Each pod's leader is a fork of the zygote, whose heap is copied and torn down for every pod: a PythonTask,
    which runs in that fork, finds none of the modules the zygote leaves to the runner's side."""
    workflow = PipelineOperation("lean", [PythonTask("modules", heavy_modules_loaded)]).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert [node["outputs"]["result"] for node in workflow.nodes.values() if node["type"] == "Pod"] == ["[]"]


def test_a_lazy_logger_logs_through_logging_once_used(caplog):
    from workflows.engine.pod.lazy_logging import LazyLogger

    log = LazyLogger("workflows.engine.pod.test")
    with caplog.at_level("WARNING", logger="workflows.engine.pod.test"):
        log.warning("the zygote says %s", "hello")
    assert [(record.name, record.getMessage()) for record in caplog.records] == [
        ("workflows.engine.pod.test", "the zygote says hello")]


LATE_NEWS_SITECUSTOMIZE = '''
import os
import signal
import time

from workflows.engine.pod import zygote

_send = zygote.Zygote._send


def _reaped(pidfd, seconds):
    """Whether the process of ``pidfd`` is reaped within ``seconds`` (a zombie still takes signal 0)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            signal.pidfd_send_signal(pidfd, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.001)
    return False


def _late(self, request):
    """Tell the zygote of a handed pod only once that pod's leader ended and the zygote reaped it (or after 20
    s); say which."""
    if request.given:
        with open(os.environ["LATE_NEWS_FILE"], "a") as record:
            record.write("reaped first\\n" if _reaped(os.pidfd_open(request.given), 20) else "still there\\n")
    _send(self, request)


zygote.Zygote._send = _late
'''


def test_a_pod_that_ends_before_the_zygote_hears_of_it_still_reports_its_end(tmp_path, monkeypatch,
                                                                                workflows_home):
    """The runner hands a plain pod to its standby leader first and tells the zygote after: a quick pod may be
    over (reaped by the zygote as a standby it knew nothing more of) when that news comes. Its status and its
    outputs must still reach the runner. The runner here (a real subprocess) sends the news only once the
    pod's leader ended and the zygote reaped it."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LATE_NEWS_SITECUSTOMIZE)
    record = tmp_path / "late-news.txt"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(Path(__file__).resolve().parents[1])]))
    monkeypatch.setenv("LATE_NEWS_FILE", str(record))
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "quick-"},
            "spec": {"entrypoint": "main", "templates": [{
                "name": "main",
                "container": {"image": "alpine:3.20", "command": ["sh", "-c"], "args": ["echo done > /tmp/said"]},
                "outputs": {"parameters": [{"name": "said", "valueFrom": {"path": "/tmp/said"}}]}}]}}
    workflow = argo.submit_workflow(spec).wait(WAIT)
    node = workflow.nodes[workflow.name]
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["parameters"][0]["value"] == "done"
    assert record.read_text() == "reaped first\n"


@pytest.fixture
def fresh_zygote_state(monkeypatch):
    """This test process as a runner with no zygote yet; whatever zygote the test starts is ended after it."""
    monkeypatch.setattr(zygote_module, "_zygote", None)
    monkeypatch.setattr(zygote_module, "_early", None)
    yield
    if zygote_module._early is not None:
        zygote_module._early.sock.close()
        zygote_module._early.process.kill()
        zygote_module._early.process.wait()
    if zygote_module._zygote is not None and zygote_module._owner == os.getpid():
        zygote_module._zygote.close()


def _zygote_in_a_loop(folder: Path, mounts: list[str]) -> Zygote:
    """:func:`zygote` as a runner's first pod calls it, in the runner's event loop (which reads its answers)."""
    async def first_pod() -> Zygote:
        return zygote(pod_userns(), folder, mounts, 1 << 20)

    return asyncio.run(first_pod())


def test_a_zygote_started_early_is_the_one_the_first_pod_gets(tmp_path, fresh_zygote_state):
    """A runner starts its zygote before loading its engine (``start_zygote_early``): the first pod adopts that
    process, ready, with its standby leaders, rather than starting another."""
    start_zygote_early(tmp_path)
    early = zygote_module._early
    assert early is not None and early.process.poll() is None
    handle = _zygote_in_a_loop(tmp_path, host_mount_points())
    assert handle.process is early.process and handle.alive()
    assert zygote_module._early is None and len(handle.standbys) == STANDBY_LEADERS


def test_a_zygote_started_early_for_another_folder_is_ended(tmp_path, fresh_zygote_state):
    """The early zygote works from its folder: a first pod of another folder ends it and gets a new one."""
    start_zygote_early(tmp_path / "one")
    early = zygote_module._early
    assert early is not None
    handle = _zygote_in_a_loop(tmp_path / "other", host_mounts := host_mount_points())
    assert handle.process is not early.process and early.process.poll() is not None
    assert handle.folder == tmp_path / "other" / STANDBY_FOLDER and host_mounts == handle.mounts


def test_no_zygote_is_started_early_for_unisolated_pods(tmp_path, fresh_zygote_state, monkeypatch):
    """``WORKFLOWS_ISOLATION=none`` (or a value that is not understood, which the pods then report): nothing."""
    for value in ("none", "nonsense"):
        monkeypatch.setenv("WORKFLOWS_ISOLATION", value)
        start_zygote_early(tmp_path)
        assert zygote_module._early is None


@pytest.mark.parametrize(("templates", "expected"), [
    ([{"name": "main", "suspend": {}}], False),
    ([{"name": "main", "steps": [[{"name": "wait", "template": "pause"}]]}, {"name": "pause", "suspend": {}}], False),
    ([{"name": "main", "script": {"image": "python:3.12", "source": "pass"}}], True),
    ([{"name": "main", "container": {"image": "alpine"}}], True),
    ([{"name": "main", "containerSet": {"containers": [{"name": "a", "image": "alpine"}]}}], True),
    ([{"name": "main", "http": {"url": "http://localhost"}}, {"name": "r", "resource": {"action": "get"}}], False),
])
def test_a_runner_starts_a_zygote_early_only_for_workflows_that_may_run_pods(templates, expected):
    """Decided on the stored manifest, whose WorkflowTemplate references are resolved (their pods inlined)."""
    assert _may_run_pods({"spec": {"entrypoint": "main", "templates": templates}}) is expected


def test_a_cancelled_pod_awaits_its_end_without_holding_up_the_runner(tmp_path):
    """A cancelled pod is killed and its end awaited (the zygote reports it once it reaped the leader), for at
    most KILL_WAIT_SECONDS: the runner's event loop, and its other pods, go on meanwhile."""
    started: list[subprocess.Popen] = []

    async def fork_leader(run, stdout_fd, stderr_fd, done_fd) -> int:
        started.append(subprocess.Popen(["sleep", "60"], start_new_session=True))  # the leader: killed
        # the zygote's stand-in, slow to report: holds the done pipe for 0.8 s
        started.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.8)"], pass_fds=(done_fd,)))
        return started[0].pid

    run = PodRun(PodProcess({}, "/", tmp_path / "log"), tmp_path, SandboxPlan(disk_bytes=0))

    async def cancel_while_ticking() -> tuple[float, int]:
        pod = asyncio.ensure_future(run_pod(run, fork_leader=fork_leader))
        await asyncio.sleep(0.2)
        pod.cancel()
        begun, ticks = time.monotonic(), 0
        while not pod.done():
            await asyncio.sleep(0.01)
            ticks += 1
        with pytest.raises(asyncio.CancelledError):
            pod.result()
        return time.monotonic() - begun, ticks

    try:
        waited, ticks = asyncio.run(asyncio.wait_for(cancel_while_ticking(), WAIT))
    finally:
        for process in started:
            process.kill()
            process.wait()
    assert started[0].returncode == -9  # the leader was killed at once
    assert 0.3 < waited < KILL_WAIT_SECONDS and ticks >= 10  # its end was awaited, and the loop went on


@contextmanager
def _sleeping_child() -> Iterator[int]:
    """A child of this process that waits until the block ends: its pid."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write)
        os.read(read, 1)
        os._exit(0)
    os.close(read)
    try:
        yield pid
    finally:
        os.close(write)
        os.waitpid(pid, 0)


def test_a_new_childs_host_pid_is_the_one_child_the_zygote_does_not_know():
    """Here (the host's PID namespace) a child's pid is its host pid: what the zygote's bookkeeping finds is
    checked against it, through the list of children and, when the list is ambiguous, through the pidfd."""
    server = object.__new__(zygote_module._Zygote)
    server.host_pids = {}
    with _sleeping_child() as first:
        assert first in zygote_module._listed_children()
        assert server._host_pid(first) == first
        with _sleeping_child() as second:
            assert server._host_pid(second) == second  # the first is known: the second is the one left
        with _sleeping_child() as stranger, _sleeping_child() as third:
            # a child the zygote did not fork (an orphan it adopted): two unknown children, the pidfd decides
            assert server._host_pid(third) == third
            assert stranger not in server.host_pids.values()
