"""The local backend end to end: real runner processes, real pods (subprocesses), real SQLite."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from child_output import read_line, read_rest
from processes import alive, command, descendants, runner_pid, stat

from workflows import argo
from workflows.engine.support import UnsupportedWorkflow
from workflows.events import EventClient
from workflows.operations import (
    DistributedSyncOperation,
    DistributedSyncOperationWithResults,
    ParallelOperation,
    PipelineOperation,
    SingleTaskOperation,
)
from workflows.tasks import BashTask, CommandBasedTask, PythonTask

WAIT = 60


@pytest.fixture(autouse=True)
def local_backend(local_engine):
    """The local backend for every test (conftest's ``local_engine``): its state folder."""
    return local_engine


def nodes_by_display(workflow: argo.Workflow) -> dict[str, dict]:
    return {node["displayName"]: node for node in workflow.nodes.values()}


def write_greeting():
    import os

    with open(os.path.join(os.environ["shared_directory"], "greeting.txt"), "w") as out:
        out.write("hello")


def test_pipeline_shares_a_directory_without_touching_the_real_path(local_backend):
    op = PipelineOperation("share", [
        PythonTask("write", write_greeting),
        BashTask("shout", 'tr a-z A-Z < /mnt/shared/greeting.txt > "$shared_directory/shout.txt"; '
                          'cat /mnt/shared/shout.txt'),
    ], shared_directory=True)
    workflow = op.execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert not Path("/mnt/shared/greeting.txt").exists()
    volume = local_backend / "workflows" / workflow.name / "volumes" / "mnt-shared"
    assert (volume / "shout.txt").read_text() == "HELLO"
    assert nodes_by_display(workflow)["shout"]["outputs"]["result"] == "HELLO"
    assert "HELLO" in argo.get_workflow_logs(workflow.name)
    assert workflow.raw["status"]["nodes"][workflow.name]["type"] == "Steps"


def test_a_silent_pod_makes_no_log_file_and_logs_as_empty(local_backend):
    """A pod's log file is made on its first output: a pod that prints nothing leaves none, and its log reads
    as empty, as Argo's of a silent container."""
    from workflows.backends import get_backend

    workflow = PipelineOperation("quiet", [CommandBasedTask("silent", ["true"]),
                                           BashTask("talks", "echo said")]).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    nodes = nodes_by_display(workflow)
    logs = local_backend / "workflows" / workflow.name / "logs"
    assert not (logs / f"{nodes['silent']['id']}.log").exists()
    assert (logs / f"{nodes['talks']['id']}.log").read_text() == "said\n"
    assert get_backend().node_logs(workflow.name) == {nodes["silent"]["id"]: "", nodes["talks"]["id"]: "said\n"}


def test_a_pod_that_prints_without_end_cannot_fill_the_disk(local_backend):
    """A pod's log keeps its first 50 MiB (the kubelet's budget for a container's log), then says how much more
    was left out; the pod itself runs to its end."""
    from workflows.engine.pod.podlog import MAX_LOG_BYTES

    total = MAX_LOG_BYTES + 3 * 1024 * 1024
    workflow = SingleTaskOperation("loud", BashTask("loud", f"head -c {total} /dev/zero | tr '\\0' a; echo; "
                                                             "echo ended")).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    node = workflow.nodes[workflow.name]
    log = local_backend / "workflows" / workflow.name / "logs" / f"{node['id']}.log"
    printed = total + len(b"\nended\n")
    marker = (f"\n[harness-workflows: {printed - MAX_LOG_BYTES} more bytes of output left out: "
              f"a pod's log keeps its first {MAX_LOG_BYTES} bytes]\n").encode()
    assert log.stat().st_size == MAX_LOG_BYTES + len(marker)
    with open(log, "rb") as text:
        assert text.read(1024) == b"a" * 1024
        text.seek(MAX_LOG_BYTES)
        assert text.read() == marker
    assert len(node["outputs"]["result"]) == 256 * 1024  # outputs.result: the first 256 KiB of stdout, as Argo


def test_failure_sets_phases_and_message():
    workflow = PipelineOperation("fail", [BashTask("ok", "echo fine"), BashTask("bad", "echo oops >&2; exit 3"),
                                          BashTask("never", "echo no")]).execute().wait(WAIT)
    assert workflow.failed() and workflow.status == "Failed"
    nodes = nodes_by_display(workflow)
    assert nodes["ok"]["phase"] == "Succeeded"
    assert nodes["bad"]["phase"] == "Failed" and nodes["bad"]["message"] == "Error (exit code 3)"
    assert "never" not in nodes
    assert "oops" in argo.get_workflow_logs(workflow.name)


def test_retries_until_success(local_backend):
    script = 'n=$(cat "$shared_directory/n" 2>/dev/null || echo 0); echo $((n+1)) > "$shared_directory/n"; [ $n -ge 2 ]'
    workflow = SingleTaskOperation("retry", BashTask("flaky", script, retry_limit=3),
                                   shared_directory=True).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    nodes = nodes_by_display(workflow)  # a single task is the root node, named after the workflow
    assert nodes[workflow.name]["type"] == "Retry" and nodes[workflow.name]["templateName"] == "flaky"
    assert [nodes[f"{workflow.name}({i})"]["phase"] for i in range(3)] == ["Failed", "Failed", "Succeeded"]


def test_template_timeout_kills_the_pod(local_backend):
    task = BashTask("slow", "sleep 30", template_overrides={"activeDeadlineSeconds": "1"})
    workflow = SingleTaskOperation("deadline", task).execute()
    pod = _pod_processes(local_backend, workflow.name, "sleep 30")
    workflow = workflow.wait(WAIT)
    assert workflow.failed()  # within 1 s of deadline, long before the 30 s sleep could succeed
    message = nodes_by_display(workflow)[workflow.name]["message"]
    assert "deadline" in message, message
    assert alive(pod) == []  # the pod's whole process group was killed


def test_workflow_deadline_and_exit_handler_on_failure():
    op = PipelineOperation("late", [BashTask("slow", "sleep 30")], active_deadline_seconds=1,
                           on_exit_notify={"queue": "late-events", "payload": {"id": 7}})
    workflow = op.execute().wait(WAIT)
    assert workflow.status == "Failed" and workflow.get_status_message() == "Max duration limit exceeded"
    assert nodes_by_display(workflow)[f"{workflow.name}.onExit"]["phase"] == "Succeeded"
    messages = EventClient("late-events").consume_all(timeout=5)
    assert messages == [{"workflow": workflow.name, "status": "Failed", "payload": {"id": 7}}]


def test_exit_handler_reports_success():
    workflow = SingleTaskOperation("notify", BashTask("a", "true"), on_exit_notify={}).execute().wait(WAIT)
    assert workflow.succeeded()
    assert EventClient(workflow.name).consume_all(timeout=5) == [
        {"workflow": workflow.name, "status": "Succeeded", "payload": None}]


def test_submit_returns_at_once_and_the_run_outlives_the_submitter(tmp_path):
    ops = tmp_path / "ops.py"
    ops.write_text("from workflows import operations, tasks\n"
                   "op = operations.SingleTaskOperation('detached', tasks.BashTask('a', 'sleep 1; echo done'))\n")
    result = subprocess.run([sys.executable, "-m", "workflows", "run", str(ops), "--no-wait"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    assert argo.get_workflow(name).status in ("Pending", "Running")
    assert argo.wait_workflow(name, WAIT).succeeded()
    assert argo.get_workflow_logs(name).strip() == "done"


def test_runner_killed_with_sigkill_marks_the_workflow_error(local_backend):
    workflow = SingleTaskOperation("doomed", BashTask("sleeper", "sleep 60")).execute()
    deadline = time.monotonic() + WAIT
    while workflow.refresh().nodes.get(workflow.name, {}).get("phase") != "Running":  # its node is recorded
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pod = _pod_processes(local_backend, workflow.name, "sleep 60")
    os.kill(runner_pid(local_backend, workflow.name, WAIT), signal.SIGKILL)
    # The runner's watchdog kills the pods at once, before anyone reads the workflow.
    deadline = time.monotonic() + WAIT
    while alive(pod):
        assert time.monotonic() < deadline, f"the pod outlived its runner: {alive(pod)}"
        time.sleep(0.05)
    final = argo.wait_workflow(workflow.name, WAIT)
    assert final.status == "Error" and "runner" in final.get_status_message()
    assert final.nodes[workflow.name]["phase"] == "Error"
    assert alive(pod) == []


def test_a_runner_that_fails_ends_its_workflow_saying_why(local_backend):
    """A runner that fails on an error of its own records it before it exits: its watchdog ends the workflow
    ``Error`` quoting it (a runner killed records nothing: the message is then the plain one)."""
    from workflows.engine.runner import spawn_runner
    from workflows.engine.store import Store
    from workflows.engine.submission import submit
    from workflows.engine.watchdog import RUNNER_DIED

    store = Store(local_backend)
    spec = SingleTaskOperation("fails", BashTask("a", "true")).to_workflow()
    stored = submit(store, spec, lambda _store, _manifest: None)  # stored, its runner not started yet
    name = stored["metadata"]["name"]
    (store.workflow_dir(name) / "logs").write_text("not a folder")  # where the runner keeps its pods' logs
    spawn_runner(store, stored)
    final = argo.wait_workflow(name, WAIT)
    assert final.status == "Error"
    assert final.get_status_message().startswith(f"{RUNNER_DIED}: FileExistsError: ")
    assert "logs" in final.get_status_message()
    store.close()


# -- this test's own processes, found from the workflow's runner (never by scanning the machine) -----


def _pod_processes(home: Path, name: str, running: str) -> dict[int, str]:
    """The pod of workflow ``name`` whose command line is ``running``: the processes of its group, under the
    runner (waits up to ``WAIT`` s for it to start)."""
    runner = runner_pid(home, name, WAIT)
    deadline = time.monotonic() + WAIT
    while True:
        processes = descendants(runner)
        groups = {(stat(pid) or [None] * 3)[2] for pid in processes if command(pid) == running}
        groups.discard(None)
        if groups:
            return {pid: start for pid, start in processes.items() if (stat(pid) or [None] * 3)[2] in groups}
        assert time.monotonic() < deadline, f"no {running!r} under runner {runner} after {WAIT} s"
        time.sleep(0.02)


def test_concurrent_submitters(tmp_path):
    script = tmp_path / "submit.py"
    script.write_text(textwrap.dedent("""
        from workflows import operations, tasks
        for i in range(3):
            operations.SingleTaskOperation("many", tasks.CommandBasedTask("t", ["true"])).execute()
    """))
    processes = [subprocess.Popen([sys.executable, str(script)]) for _ in range(4)]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0, 0]
    names = [workflow.name for workflow in argo.get_workflows(limit=100).items]
    assert len(names) == 12 and len(set(names)) == 12
    assert all(argo.wait_workflow(name, WAIT).succeeded() for name in names)


def test_stop_runs_the_exit_handler(local_backend):
    workflow = SingleTaskOperation("stopme", BashTask("sleeper", "sleep 60"), on_exit_notify={}).execute()
    _pod_processes(local_backend, workflow.name, "sleep 60")  # stopped while its pod runs
    workflow.stop()
    final = workflow.wait(WAIT)
    assert final.status == "Failed" and final.get_status_message() == "Stopped with strategy 'Stop'"
    assert EventClient(workflow.name).consume_all(timeout=5)[0]["status"] == "Failed"


def test_delete_terminates_and_removes_everything(local_backend):
    workflow = SingleTaskOperation("gone", BashTask("sleeper", "sleep 60")).execute()
    pod = _pod_processes(local_backend, workflow.name, "sleep 60")
    argo.delete_workflow(workflow.name)
    with pytest.raises(argo.WorkflowNotFound):
        argo.get_workflow(workflow.name)
    assert not (local_backend / "workflows" / workflow.name).exists()
    assert alive(pod) == []


def test_ttl_removes_finished_workflows(local_backend):
    workflow = SingleTaskOperation("short", BashTask("a", "true"), shared_directory=True,
                                   ttl_strategy={"secondsAfterCompletion": 0}).execute().wait(WAIT)
    assert (local_backend / "workflows" / workflow.name).exists()
    assert workflow.name not in [w.name for w in argo.get_workflows().items]
    assert not (local_backend / "workflows" / workflow.name).exists()


def test_read_only_mounts_refuse_writes(local_backend):
    claim = local_backend / "claims" / "data"
    claim.mkdir(parents=True)
    (claim / "in.txt").write_text("kept")
    task = BashTask("writer", "cat /data/in.txt; echo changed > /data/in.txt")
    workflow = SingleTaskOperation("ro", task, shared_directory="data:/data:ro").execute().wait(WAIT)
    assert workflow.failed()
    assert (claim / "in.txt").read_text() == "kept"
    assert "Read-only file system" in argo.get_workflow_logs(workflow.name)


def compute():
    import os

    directory = os.environ["shared_directory"]
    with open(os.path.join(directory, "answer.txt"), "w") as out:
        out.write("42")
    with open(os.path.join(directory, "note.txt"), "w") as out:
        out.write("done")


def test_sync_operation_with_results():
    assert DistributedSyncOperationWithResults("results", PythonTask("compute", compute)).execute(WAIT) == [
        {"answer.txt": "42"}, {"note.txt": "done"}]


def test_sync_operation_waits_and_times_out():
    workflow = DistributedSyncOperation("sync", CommandBasedTask("t", ["true"])).execute(WAIT)
    assert workflow.succeeded() and workflow.is_finished()
    with pytest.raises(TimeoutError, match="sync-") as error:
        DistributedSyncOperation("sync", BashTask("slow", "sleep 30")).execute(timeout=0.5)
    name = str(error.value).split("'")[1]
    assert argo.get_workflow(name).status == "Running"
    argo.delete_workflow(name)


def test_unsupported_templates_are_refused_at_submit():
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "k8s-"},
            "spec": {"entrypoint": "make", "templates": [
                {"name": "make", "resource": {"action": "create", "manifest": "kind: ConfigMap"}}]}}
    with pytest.raises(UnsupportedWorkflow, match="template 'make': resource templates"):
        argo.submit_workflow(spec)
    assert argo.get_workflows().items == ()


def test_paging_and_status_filter():
    names = [SingleTaskOperation("page", CommandBasedTask("t", ["true"])).execute().wait(WAIT).name
             for _ in range(3)]
    failed = SingleTaskOperation("page", CommandBasedTask("t", ["false"])).execute().wait(WAIT).name
    first = argo.get_workflows(limit=2)
    second = argo.get_workflows(limit=2, continue_token=first.continue_token)
    assert [w.name for w in first.items + second.items] == [failed, *reversed(names)]
    assert second.continue_token is None
    assert [w.name for w in argo.get_workflows(status="Failed").items] == [failed]


def test_parallel_operation_with_workflow_parallelism():
    tasks = [BashTask(f"t{i}", f"echo {i}") for i in range(6)]
    workflow = ParallelOperation("par", tasks, parallelism=2).execute().wait(WAIT)
    assert workflow.succeeded()
    assert sorted(node["outputs"]["result"] for node in workflow.nodes.values() if node["type"] == "Pod") == [
        str(i) for i in range(6)]


def run_yaml(text: str) -> argo.Workflow:
    import yaml

    return argo.submit_workflow(yaml.safe_load(textwrap.dedent(text))).wait(WAIT)


def test_steps_when_loops_outputs_and_continue_on():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: semantics-}
        spec:
          entrypoint: main
          arguments: {parameters: [{name: who, value: world}]}
          templates:
          - name: main
            steps:
            - - {name: hello, template: say, arguments: {parameters: [{name: text, value: "hi {{workflow.parameters.who}}"}]}}
            - - {name: gen, template: gen}
            - - {name: each, template: say, withParam: "{{steps.gen.outputs.result}}",
                 arguments: {parameters: [{name: text, value: "{{item.n}}"}]}}
              - {name: seq, template: say, withSequence: {count: "2"}, arguments: {parameters: [{name: text, value: "s{{item}}"}]}}
              - {name: skipped, template: say, when: "'{{steps.hello.outputs.result}}' == nope",
                 arguments: {parameters: [{name: text, value: x}]}}
              - {name: broken, template: fail, continueOn: {failed: true}}
            - - {name: last, template: say, arguments: {parameters: [{name: text, value: "{{steps.each.outputs.result}}"}]}}
          - name: say
            inputs: {parameters: [{name: text}]}
            container: {image: busybox, command: [echo, "{{inputs.parameters.text}}"]}
          - name: gen
            script: {image: python:alpine, command: [python], source: 'import json; print(json.dumps([{"n": 1}, {"n": 2}]))'}
          - name: fail
            container: {image: alpine, command: [sh, -c, "exit 1"]}
    """)
    assert workflow.succeeded(), workflow.get_status_message()
    nodes = nodes_by_display(workflow)
    assert nodes["hello"]["outputs"]["result"] == "hi world"
    assert [nodes[name]["outputs"]["result"] for name in sorted(nodes) if name.startswith("each(")] == ["1", "2"]
    assert [nodes[name]["outputs"]["result"] for name in sorted(nodes) if name.startswith("seq(")] == ["s0", "s1"]
    assert nodes["skipped"]["phase"] == "Skipped"
    assert nodes["broken"]["phase"] == "Failed"
    assert json.loads(nodes["last"]["outputs"]["result"]) == [1, 2]


def test_dag_depends_and_artifacts():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: dag-}
        spec:
          entrypoint: main
          templates:
          - name: main
            dag:
              tasks:
              - {name: make, template: make}
              - {name: flaky, template: fail}
              - {name: use, template: use, depends: "make && flaky.Failed",
                 arguments: {artifacts: [{name: data, from: "{{tasks.make.outputs.artifacts.data}}"}]}}
              - {name: omitted, template: make, depends: "flaky.Succeeded"}
          - name: make
            container: {image: busybox, command: [sh, -c, "echo payload > /tmp/data.txt"]}
            outputs: {artifacts: [{name: data, path: /tmp/data.txt}]}
          - name: use
            inputs: {artifacts: [{name: data, path: /in/data.txt}]}
            container: {image: busybox, command: [cat, /in/data.txt]}
          - name: fail
            container: {image: busybox, command: [sh, -c, "exit 2"]}
    """)
    nodes = nodes_by_display(workflow)
    assert nodes["use"]["outputs"]["result"] == "payload"
    assert nodes["omitted"]["phase"] == "Omitted"
    # the omitted leaf inherits its parent's failure, as in Argo's assessDAGPhase
    assert workflow.status == "Failed"


def test_application_image_runs_from_its_build_context(tmp_path, monkeypatch):
    from conftest import add_application_task

    applications = tmp_path / "applications"
    add_application_task(applications, "myapp", "greet")
    context = applications / "myapp" / "tasks" / "greet"
    (context / "Dockerfile").write_text(
        "FROM python:3.12-slim\nENV GREETING=hello\nWORKDIR /app\nCOPY . /app\nRUN pip install harness-workflows\n"
        'RUN echo "$GREETING" > /app/built.txt\nCMD ["python", "/app/main.py"]\n')
    (context / "main.py").write_text("import os\nprint(open('built.txt').read().strip(), os.environ['WHO'], "
                                     "os.getcwd())\n")
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(applications))
    from workflows.tasks import CustomTask

    workflow = SingleTaskOperation("app", CustomTask("greet", "myapp-greet", WHO="world")).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert workflow.nodes[workflow.name]["outputs"]["result"] == "hello world /app"  # the image's WORKDIR
    # The RUN lines were replayed once, into a layer of the image (pip install of this library: skipped).
    layers = [path for path in (Path(os.environ["WORKFLOWS_HOME"]) / "images").iterdir() if path.is_dir()]
    assert len(layers) == 1


def test_an_image_that_cannot_run_here_fails_with_what_to_do(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", "none")
    from workflows.tasks import CustomTask

    workflow = SingleTaskOperation("far", CustomTask("x", "ghcr.io/org/tool:1", command=["tool"])).execute().wait(WAIT)
    assert workflow.status == "Error"
    assert "WORKFLOWS_HOST_IMAGES" in workflow.nodes[workflow.name]["message"]


def test_exit_handler_sees_workflow_failures_and_pod_name_env():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: failures-}
        spec:
          entrypoint: main
          onExit: report
          templates:
          - name: main
            steps:
            - - {name: pause, template: pause}
            - - {name: boom, template: boom}
          - name: pause
            suspend: {duration: "1"}
          - name: boom
            container:
              image: alpine
              command: [sh, -c, 'echo "pod=$POD"; exit 4']
              env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
          - name: report
            container:
              image: alpine
              command: [sh, -c, "echo '{{workflow.status}} {{workflow.failures}}'"]
    """)
    assert workflow.status == "Failed"
    nodes = nodes_by_display(workflow)
    assert nodes["pause"]["type"] == "Suspend" and nodes["pause"]["phase"] == "Succeeded"
    boom = nodes["boom"]
    assert boom["outputs"]["result"] == f"pod={boom['id']}"
    report = nodes[f"{workflow.name}.onExit"]["outputs"]["result"]
    status, failures = report.split(" ", 1)
    assert status == "Failed"
    assert [(f["displayName"], f["phase"], f["message"]) for f in json.loads(failures)] == [
        ("boom", "Failed", "Error (exit code 4)")]


def test_template_parallelism_and_fail_fast():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: limits-}
        spec:
          entrypoint: main
          templates:
          - name: main
            parallelism: 1
            failFast: true
            steps:
            - - {name: item, template: run, withItems: ["0", "3", "0"], arguments: {parameters: [{name: code, value: "{{item}}"}]}}
          - name: run
            inputs: {parameters: [{name: code}]}
            container: {image: alpine, command: [sh, -c, "exit {{inputs.parameters.code}}"]}
    """)
    assert workflow.status == "Failed"
    items = sorted(name for name in nodes_by_display(workflow) if name.startswith("item("))
    assert items == ["item(0:0)", "item(1:3)"]  # one at a time; the third never starts


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", *args], capture_output=True, text=True, timeout=120)


def test_cli_run_list_get_logs_wait_stop_delete(tmp_path):
    spec = tmp_path / "wf.yaml"
    spec.write_text(textwrap.dedent("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: cli-}
        spec:
          entrypoint: say
          arguments: {parameters: [{name: text, value: default}]}
          templates:
          - name: say
            container: {image: busybox, command: [echo, "{{workflow.parameters.text}}"]}
    """))
    run = cli("run", str(spec), "-p", "text=from-cli")
    assert run.returncode == 0, run.stderr
    name = run.stderr.splitlines()[0]
    assert f"{name}: Succeeded" in run.stdout
    assert "Succeeded" in run.stdout.splitlines()[0]  # a plain line per node outside a terminal
    assert cli("logs", name).stdout == f"{name}: from-cli\n"
    assert name in cli("list").stdout and name in cli("list", "--status", "Succeeded").stdout
    assert "Status:   Succeeded" in cli("get", name).stdout
    assert cli("wait", name).returncode == 0
    assert cli("run", str(spec), "-p", "nope=1").returncode == 2
    failing = tmp_path / "fail.py"
    failing.write_text("from workflows import operations, tasks\n"
                       "op = operations.SingleTaskOperation('clifail', tasks.BashTask('a', 'exit 5'))\n")
    failed = cli("run", str(failing))
    assert failed.returncode == 1 and "Failed" in failed.stdout
    slow = tmp_path / "slow.py"
    slow.write_text("from workflows import operations, tasks\n"
                    "op = operations.SingleTaskOperation('clislow', tasks.BashTask('a', 'echo started; sleep 60'))\n")
    started = cli("run", str(slow), "--no-wait")
    slow_name = started.stdout.strip()
    assert cli("wait", slow_name, "--timeout", "0.5").returncode == 1
    assert cli("stop", slow_name).returncode == 0
    assert cli("wait", slow_name).returncode == 1
    assert "Stopped with strategy 'Stop'" in cli("get", slow_name).stdout
    assert cli("delete", slow_name).returncode == 0
    assert cli("get", slow_name).returncode == 2


def test_cli_logs_follow_streams_while_running(tmp_path):
    ops = tmp_path / "ticks.py"
    ops.write_text("from workflows import operations, tasks\n"
                   "op = operations.SingleTaskOperation('ticks', tasks.BashTask('a', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done'))\n")
    name = cli("run", str(ops), "--no-wait").stdout.strip()
    follow = subprocess.Popen([sys.executable, "-m", "workflows", "logs", name, "--follow"], stdout=subprocess.PIPE,
                              text=True)
    try:
        first = read_line(follow.stdout)
        assert first == f"{name}: tick 1\n"
        assert argo.get_workflow(name).status == "Running"  # the first line came before the end
        rest = read_rest(follow.stdout)
    except BaseException:
        follow.kill()
        raise
    assert follow.wait(timeout=60) == 0
    assert rest == f"{name}: tick 2\n{name}: tick 3\n"


def test_live_progress_in_a_terminal(tmp_path):
    import pty

    ops = tmp_path / "steps.py"
    ops.write_text("from workflows import operations, tasks\n"
                   "op = operations.PipelineOperation('live', [tasks.BashTask('one', 'sleep 0.3'), "
                   "tasks.BashTask('two', 'sleep 0.3')])\n")
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "workflows", "run", str(ops)], stdout=secondary,
                               stderr=subprocess.DEVNULL)
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], WAIT)
        if not ready:
            process.kill()
            raise AssertionError(f"the command wrote nothing for {WAIT} s after {output!r}")
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    text = output.decode()
    assert "\x1b[" in text  # the table is redrawn in place
    assert "one" in text and "two" in text and "Succeeded" in text


def test_default_backend_follows_the_pod_environment(tmp_path, monkeypatch):
    from workflows import backends

    monkeypatch.delenv("WORKFLOWS_BACKEND")
    token = tmp_path / "token"
    monkeypatch.setattr(backends, "SERVICE_ACCOUNT_TOKEN", token)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert backends.default_backend_name() == "local"  # no service account token
    token.write_text("secret")
    assert backends.default_backend_name() == "kubernetes"
    with pytest.raises(backends.BackendUnavailable, match="'kubernetes'"):
        backends.get_backend()
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    from workflows.backends.local import LocalBackend

    assert isinstance(backends.get_backend(), LocalBackend)


def test_retries_without_limit_stop_at_the_backoff_max_duration():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: backoff-}
        spec:
          entrypoint: fail
          templates:
          - name: fail
            retryStrategy: {backoff: {duration: "1", factor: "2", maxDuration: "2"}}
            container: {image: alpine, command: [sh, -c, "exit 1"]}
    """)
    assert workflow.status == "Failed"
    attempts = [node for node in workflow.nodes.values() if node["type"] == "Pod"]
    assert len(attempts) == 2  # attempt, 1 s backoff, attempt; the next 2 s wait would pass maxDuration


def test_retry_policy_on_error_does_not_retry_failures():
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: policy-}
        spec:
          entrypoint: fail
          templates:
          - name: fail
            retryStrategy: {limit: "3", retryPolicy: OnError}
            container: {image: alpine, command: [sh, -c, "exit 1"]}
    """)
    assert workflow.status == "Failed"
    assert [node["displayName"] for node in workflow.nodes.values() if node["type"] == "Pod"] == [
        f"{workflow.name}(0)"]


def test_a_bad_continue_token_is_a_clear_error():
    with pytest.raises(argo.WorkflowException, match="continue_token='garbage'"):
        argo.get_workflows(continue_token="garbage")


def report_runtime():
    from workflows import runtime

    print(runtime.get_workflow_name(), runtime.get_shared_directory())


def test_task_code_reads_its_workflow_name_and_shared_directory():
    workflow = SingleTaskOperation("runtime", PythonTask("report", report_runtime),
                                   shared_directory="/mnt/data").execute().wait(WAIT)
    name, shared = workflow.nodes[workflow.name]["outputs"]["result"].split()
    assert name == workflow.name  # the workflow's name, not the pod's
    assert shared == "/mnt/data"  # the real mount path: the volume is mounted there in the pod's sandbox


def annotated_function_types():
    """A PythonTask's body: annotations are evaluated, as in a file run by python (no engine's ``__future__``)."""
    def scale(value: int, factor: float = 2.0) -> float:
        return value * factor

    print(scale.__annotations__ == {"value": int, "factor": float, "return": float})


def test_a_python_script_is_compiled_as_python_compiles_its_file():
    """The engine's modules postpone annotations (``from __future__ import annotations``); a script compiled by
    the engine must not inherit that: ``__annotations__`` hold types, not strings."""
    workflow = SingleTaskOperation("annotations", PythonTask("types", annotated_function_types)).execute()
    workflow = workflow.wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert [node["outputs"]["result"] for node in workflow.nodes.values() if node["type"] == "Pod"] == ["True"]


def test_the_runner_compiles_a_script_once_for_all_the_pods_running_it():
    """The pods of a loop, or of a pipeline of one function, run the same script: the runner compiles it once
    (as ``python`` compiles that file); a script that does not compile is left for its pod to report."""
    import marshal
    import secrets

    from workflows.engine.pod import process

    source = f"print({secrets.token_hex(8)!r})\n"  # new to the runner's cache
    first = process.PodProcess.python({}, "/", Path("log"), source, "/argo/staging/script")
    hits = process._compiled.cache_info().hits
    again = process.PodProcess.python({"OTHER": "pod"}, "/", Path("log"), source, "/argo/staging/script")
    assert process._compiled.cache_info().hits == hits + 1
    assert again.code == first.code
    assert marshal.loads(first.code).co_filename == "/argo/staging/script"
    assert process.PodProcess.python({}, "/", Path("log"), "def broken(:\n", "/argo/staging/script").code is None


def test_a_script_that_does_not_compile_fails_its_pod_as_python_does():
    """Source the runner cannot compile goes to the pod as it is: python's SyntaxError report, exit code 1."""
    workflow = run_yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: broken-script-}
        spec:
          entrypoint: main
          templates:
          - name: main
            script:
              image: python:3.12
              command: [python]
              source: |
                print("before")
                def broken(:
                    pass
    """)
    assert workflow.status == "Failed"
    pod = next(node for node in workflow.nodes.values() if node["type"] == "Pod")
    assert pod["message"] == "Error (exit code 1)"
    log = argo.get_workflow_logs(workflow.name)
    assert "SyntaxError" in log and "before" not in log and "line 2" in log


def test_a_workflows_folder_where_the_submitter_works_does_not_replace_the_library(tmp_path, workflows_home):
    """``python -m`` puts the working directory first on ``sys.path``: a user's own ``workflows`` folder there
    must not be imported by the runner in the library's stead (it would run that code, or fail)."""
    project = tmp_path / "project"
    (project / "workflows").mkdir(parents=True)
    imported = tmp_path / "decoy-imported"
    (project / "workflows" / "__init__.py").write_text(
        f"open({str(imported)!r}, 'w').close()\nraise SystemExit('the decoy package was imported')\n")
    submitter = tmp_path / "submit.py"  # its own folder first on sys.path: it imports the library
    submitter.write_text(textwrap.dedent("""
        from workflows.operations import SingleTaskOperation
        from workflows.tasks import BashTask

        workflow = SingleTaskOperation("cwd", BashTask("hello", "echo hi")).execute().wait(60)
        print(workflow.status, workflow.nodes[workflow.name]["outputs"]["result"])
    """))
    done = subprocess.run([sys.executable, str(submitter)], cwd=project, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Succeeded", "hi"]
    assert not imported.exists()
