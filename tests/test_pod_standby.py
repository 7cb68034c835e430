"""The zygote's standby leader (:mod:`workflows.engine.pod.zygote`): a plain pod goes to a leader forked and
built before the pod was known. Each pod still gets a tree, ``/tmp`` and hostname of its own, and pods whose
standby leaders died still run, on leaders forked anew."""

from __future__ import annotations

import stat
import time

from processes import command, descendants, kill, parent, runner_pid
from workflows import argo
from workflows.engine.pod.zygote import STANDBY_LEADERS
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask
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


def _standby_leaders(zygote: int) -> dict[int, str]:
    """The zygote's standby leaders, once forked: its children that have no children of their own (a pod's
    leader has its pod's init)."""
    deadline = time.monotonic() + WAIT
    while True:
        children = {pid: start for pid, start in descendants(zygote).items() if parent(pid) == zygote}
        idle = {pid: start for pid, start in children.items() if not descendants(pid)}
        if len(idle) == STANDBY_LEADERS:
            return idle
        assert time.monotonic() < deadline, f"no standby leaders under the zygote {zygote} after {WAIT} s"
        time.sleep(0.02)


def test_pods_run_when_their_standby_leaders_died(workflows_home):
    first = BashTask("first", "mkfifo /mnt/shared/gate && read line < /mnt/shared/gate && echo $line")
    later = [BashTask(f"later{index}", f"echo later {index} $(hostname)") for index in range(2)]
    workflow = PipelineOperation("orphaned", [first, *later], shared_directory=True).execute()
    try:
        runner = runner_pid(workflows_home, workflow.name, WAIT)
        deadline = time.monotonic() + WAIT
        gate = None
        while gate is None:  # the first pod made its gate: it runs, and blocks until the test opens it
            fifos = [path for path in (workflows_home / "workflows" / workflow.name / "volumes").rglob("gate")
                     if stat.S_ISFIFO(path.lstat().st_mode)]
            gate = fifos[0] if fifos else None
            assert gate is not None or time.monotonic() < deadline, "the first pod never made its gate"
            time.sleep(0.02)
        zygotes = [pid for pid in descendants(runner)  # its forks (leaders, standbys) share its command line
                   if "zygote import serve" in command(pid) and parent(pid) == runner]
        assert len(zygotes) == 1, zygotes
        kill(_standby_leaders(zygotes[0]))
        with open(gate, "w") as opened:  # lets the first pod end; the next pods find no standby leader
            opened.write("opened\n")
        workflow.wait(WAIT)
        assert workflow.succeeded(), workflow.get_status_message()
    finally:  # a failed check must not leave the first pod waiting at its gate for ever
        if workflow.refresh().status not in COMPLETED_PHASES:
            argo.delete_workflow(workflow.name)
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    assert pods["first"]["outputs"]["result"] == "opened"
    for index in range(2):
        node = pods[f"later{index}"]
        assert node["outputs"]["result"] == f"later {index} {node['id'][:63]}"
