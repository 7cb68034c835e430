"""Per-task overhead of the local engine, against spawning the same work directly, in one run.

- 1,000 no-op tasks (``true``) as a parallel operation and as a pipeline, each in its own sandbox: wall
  time per task from submission to the end, against ``subprocess.run(["true"])`` per task (target:
  within 5 ms of it); the pipeline again with ``WORKFLOWS_ISOLATION=none``, to show what the sandbox costs;
- 200 PythonTasks as a pipeline, in their sandboxes, against a fresh ``python -c pass`` per task
  (target: at least 3× faster than that floor, while each task still gets its own process); and a one-PythonTask
  workflow (median of 3), to tell a pipeline step's own cost from the workflow's start and end. Each three
  ways (see ``workflows.engine.spares``): as a process's first workflow (in a new interpreter, whose
  submission starts the runner as it begins, then imports the backend and checks the spec); the same with
  ``WORKFLOWS_SPARE_RUNNER=0`` (the runner started once the workflow is stored); and as a later workflow,
  handed to a spare runner.

Each row also gives the CPU time per task: of the engine's processes (the runner and all it started, each
reaped by its parent up to the runner, which the submitting process reaps: see
``workflows.engine.pod.zygote.end_zygote``), and of each direct spawn's process. On a machine whose speed
drifts, CPU is the steadier measure; on 2 cores it also bounds what a pipeline can do.

State goes to a temporary ``WORKFLOWS_HOME``, removed at the end. The package's bytecode is brought up to
date first (see ``up_to_date_bytecode.py``): runners and zygotes start from it, as on users' machines.

    python bench/engine.py [--tasks 1000] [--python-tasks 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from up_to_date_bytecode import fresh_bytecode  # bench/ is on sys.path: this script's own folder


def noop() -> None:
    """The PythonTask body: next to nothing, so the overhead is what is measured."""
    total = sum(range(100))
    assert total == 4950


def children_cpu() -> float:
    """CPU seconds of this process's reaped children (and of theirs, reaped in turn)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def direct(argv: list[str], count: int) -> tuple[float, float]:
    """Seconds per spawn of ``argv``, run ``count`` times one after the other, and the CPU seconds of each."""
    cpu = children_cpu()
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(argv, check=True)
    return (time.perf_counter() - start) / count, (children_cpu() - cpu) / count


def reap_runner(workflow) -> None:
    """Wait for the runner of ``workflow``, a child of this process (it ends just after recording its workflow's
    end, once it reaped what it started), so that its CPU time counts in this process's children's."""
    pid_file = os.path.join(os.environ["WORKFLOWS_HOME"], "workflows", workflow.name, "runner.pid")
    with open(pid_file) as pid:
        try:
            os.waitpid(int(pid.read()), 0)
        except ChildProcessError:  # reaped already (by the package's own bookkeeping of its runners)
            pass


def engine(operation) -> tuple[float, float]:
    """Seconds per task of ``operation`` on the local backend, submission to end, and the CPU seconds per task of
    the engine's processes."""
    cpu = children_cpu()
    start = time.perf_counter()
    workflow = operation.execute() if hasattr(operation, "wait") else operation.submit().wait()
    elapsed = time.perf_counter() - start
    assert workflow.succeeded(), workflow.get_status_message()
    reap_runner(workflow)
    tasks = len(operation.task_list())
    return elapsed / tasks, (children_cpu() - cpu) / tasks


def median_of_three(run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """The median of three ``run()`` (seconds and CPU seconds), each after 0.5 s of rest (in which a spare
    runner started by the run before gets ready)."""
    runs = []
    for _ in range(3):
        time.sleep(0.5)
        runs.append(run())
    return sorted(runs)[1]


def one_pod(options: dict, name: str) -> tuple[float, float]:
    """A one-PythonTask workflow of this process, submission to end, and its CPU (median of three)."""
    from workflows.operations import PipelineOperation
    from workflows.tasks import PythonTask

    return median_of_three(lambda: engine(PipelineOperation(name, [PythonTask("p", noop)], **options)))


def first_workflow(tasks: int, env: dict[str, str]) -> tuple[float, float]:
    """A pipeline of ``tasks`` PythonTasks as the first workflow of a new interpreter run with ``env`` (this
    script's ``--first``): seconds and CPU seconds per task, as :func:`engine` measures them."""
    done = subprocess.run([sys.executable, __file__, "--first", str(tasks)], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)
    elapsed, cpu = done.stdout.split()
    return float(elapsed), float(cpu)


def first_workflows(tasks: int, env: dict[str, str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """As a process's first workflow: the pipeline of ``tasks`` PythonTasks, and a one-PythonTask workflow
    (median of three), each in a new interpreter."""
    return first_workflow(tasks, env), median_of_three(lambda: first_workflow(1, env))


def run_first(tasks: int) -> None:
    """``--first``: run ``tasks`` PythonTasks as this process's first workflow; print seconds and CPU seconds per
    task."""
    from workflows.operations import PipelineOperation
    from workflows.tasks import PythonTask

    operation = PipelineOperation("first", [PythonTask(f"p{i}", noop) for i in range(tasks)], ttl_strategy=None,
                                  pod_gc=None)
    print(*engine(operation))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--python-tasks", type=int, default=200)
    parser.add_argument("--first", type=int, metavar="N", help=argparse.SUPPRESS)  # see run_first()
    args = parser.parse_args()
    if args.first:
        run_first(args.first)
        return
    fresh_bytecode()
    home = tempfile.mkdtemp(prefix="bench-engine-")
    os.environ["WORKFLOWS_HOME"] = home
    try:
        measure(args.tasks, args.python_tasks)
    finally:
        shutil.rmtree(home)


def measure(tasks: int, python_tasks: int) -> None:
    """Run every measure (``tasks`` no-ops, ``python_tasks`` PythonTasks) and print the tables."""
    os.environ["WORKFLOWS_BACKEND"] = "local"
    os.environ.pop("WORKFLOWS_ISOLATION", None)
    os.environ.pop("WORKFLOWS_SPARE_RUNNER", None)
    from workflows.operations import ParallelOperation, PipelineOperation
    from workflows.tasks import CommandBasedTask, PythonTask

    no_ops = [CommandBasedTask(f"t{i}", ["true"]) for i in range(tasks)]
    pythons = [PythonTask(f"p{i}", noop) for i in range(python_tasks)]
    options = {"ttl_strategy": None, "pod_gc": None}
    load_before = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    floor_true = direct(["true"], tasks)
    floor_python = direct([sys.executable, "-c", "pass"], python_tasks)
    # Untimed: brings the engine's files into the page cache, as the floor's spawns did the interpreter's (on the
    # project's machine, pages unused for a minute are paged out: see bench/README.md, round 12).
    first_workflow(1, {})
    first, first_pod = first_workflows(python_tasks, {})
    not_ahead, not_ahead_pod = first_workflows(python_tasks, {"WORKFLOWS_SPARE_RUNNER": "0"})
    # This process's environment changes before it has a spare runner to throw away (the spares'
    # circumstances, see workflows.engine.spares): the unisolated row first.
    os.environ["WORKFLOWS_ISOLATION"] = "none"
    unisolated = engine(PipelineOperation("pipe-none", no_ops, **options))
    del os.environ["WORKFLOWS_ISOLATION"]
    rows = [
        (f"{tasks:,} × `true`, parallel", engine(ParallelOperation("par", no_ops, **options)), floor_true),
        (f"{tasks:,} × `true`, pipeline", engine(PipelineOperation("pipe", no_ops, **options)), floor_true),
        (f"{python_tasks:,} × PythonTask, pipeline, a later workflow (spare runner)",
         engine(PipelineOperation("py", pythons, **options)), floor_python),
        (f"{python_tasks:,} × PythonTask, pipeline, a process's first workflow", first, floor_python),
        (f"{python_tasks:,} × PythonTask, pipeline, first workflow, `WORKFLOWS_SPARE_RUNNER=0`", not_ahead,
         floor_python),
        (f"{tasks:,} × `true`, pipeline, unisolated", unisolated, floor_true),
    ]
    warm_pod = one_pod(options, "warm")
    print("| workload | engine (ms/task) | direct spawn (ms/task) | difference (ms) | engine / direct "
          "| engine CPU (ms/task) | direct spawn's CPU (ms) |")
    print("|---|---|---|---|---|---|---|")
    for label, (per_task, cpu), (floor, floor_cpu) in rows:
        print(f"| {label} | {per_task * 1e3:.2f} | {floor * 1e3:.2f} | {(per_task - floor) * 1e3:+.2f} | "
              f"{per_task / floor:.2f} | {cpu * 1e3:.2f} | {floor_cpu * 1e3:.2f} |")
    python = floor_python[0]
    print()
    for label, (pipeline, pipeline_cpu), pod in (
            ("as a later workflow (spare runner)", rows[2][1], warm_pod),
            ("as a process's first workflow", first, first_pod),
            ("as a process's first workflow, WORKFLOWS_SPARE_RUNNER=0", not_ahead, not_ahead_pod)):
        step = (pipeline * python_tasks - pod[0]) / (python_tasks - 1)
        step_cpu = (pipeline_cpu * python_tasks - pod[1]) / (python_tasks - 1)
        print(f"PythonTask, {label}: {python / pipeline:.2f}× faster than `python -c pass`; a one-PythonTask "
              f"workflow takes {pod[0] * 1e3:.0f} ms, submission to end ({pod[1] * 1e3:.0f} ms of CPU), and each "
              f"further pipeline step {step * 1e3:.2f} ms ({step_cpu * 1e3:.2f} ms of CPU; {python / step:.2f}× "
              f"faster than `python -c pass`)")
    print(f"Load average {load_before} before, {' / '.join(f'{value:.1f}' for value in os.getloadavg())} after")


if __name__ == "__main__":
    main()
