"""Run one Bash task (or PythonTask) on the local engine; report which processes it left behind, from this
process's own tree.

``python orphan_probe.py [--python] SCRIPT ARGUMENT...`` (run by ``tests/test_sandbox.py`` as a process of its
own, with the test's ``WORKFLOWS_*`` settings): this process becomes a child subreaper, runs ``SCRIPT`` (Bash, or
with ``--python`` Python, which a PythonTask runs) as a one-task workflow and waits for it, then prints, as
JSON, the pod node's ``phase``, ``message`` and ``result`` and ``left``: the pids of its live descendants whose
command line is exactly ``ARGUMENT...``. Those are then killed, and reaped when adopted here (they are this
process's descendants: nothing else is touched).

Why the tree sees every escape: the workflow's runner is this process's child, and everything the engine starts
descends from it. A process whose parent dies is re-parented to the nearest child subreaper among its ancestors
in its PID namespace (the engine's zygote, or this process, which is one), never to init while one of them
lives; a process in a pod's own PID namespace goes to the pod's init, and is killed by the kernel when that
init ends. So a process of the pod that outlives it stays in this tree, whatever it does with sessions
(``setsid``), process groups or double forks, until this process exits. What the tree cannot see is a process
that some daemon outside it starts on the pod's request (through a socket): not the pod's process, and not one
the engine could have killed either.
"""

from __future__ import annotations

import json
import os
import sys

from processes import arguments, descendants, kill

from workflows.engine.pod.syscalls import set_child_subreaper
from workflows.operations import SingleTaskOperation
from workflows.tasks import BashTask, PythonTask

WAIT = 120


def run_probe_script() -> None:
    """The PythonTask's body: the Python script given to the probe (in its environment)."""
    import os

    exec(os.environ["probe_script"], {"__name__": "__main__"})


def main(script: str, leftover: list[str], python: bool = False) -> dict:
    """Run ``script`` (Bash, or Python when ``python``); return the pod node's phase, message and result, and the
    pids left running ``leftover``."""
    set_child_subreaper()
    task = PythonTask("escape", run_probe_script, probe_script=script) if python else BashTask("escape", script)
    workflow = SingleTaskOperation("escape", task).execute().wait(WAIT)
    node = workflow.nodes[workflow.name]
    left = {pid: start for pid, start in descendants(os.getpid()).items() if arguments(pid) == leftover}
    kill(left)
    for pid in left:  # reap those adopted here (the others are reaped by their parent in this tree)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            continue
    return {"phase": node["phase"], "message": node.get("message"),
            "result": (node.get("outputs") or {}).get("result"), "left": sorted(left)}


if __name__ == "__main__":
    if sys.argv[1] == "--python":
        print(json.dumps(main(sys.argv[2], sys.argv[3:], python=True)))
    else:
        print(json.dumps(main(sys.argv[1], sys.argv[2:])))
