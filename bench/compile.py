"""Compile time of large DAG operations, against ``json.dumps`` of the result (and Hera, when installed).

For N container tasks in groups of 10, each task depending on one task of the
previous group, with env and resources set: the time to build the tasks and
the ``DagOperation`` and call ``to_workflow()``, and in the same run the time
of ``json.dumps`` of the result and of ``lint_spec`` (the check run before
submission). Each figure is the best of ``--repeat`` runs.

    python bench/compile.py [--sizes 1000 5000 10000] [--repeat 5] [--hera] [--gc]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable

from workflows.operations import DagOperation
from workflows.tasks import CustomTask
from workflows.validation import lint_spec

GROUP = 10
RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}


def build_and_compile(size: int) -> dict:
    """Build ``size`` tasks and their DAG operation, and compile it."""
    tasks = [
        CustomTask(f"task-{i}", "registry.example.com/worker:1.0", command=["work"], resources=RESOURCES,
                   INDEX=i, MODE="fast")
        for i in range(size)
    ]
    dependencies = {f"task-{i}": [f"task-{i - GROUP}"] for i in range(GROUP, size)}
    return DagOperation("bench", tasks, dependencies).to_workflow()


def hera_build_and_compile(size: int) -> dict:
    """The same workflow written with Hera, and its ``to_dict()``."""
    from hera.workflows import DAG, Container, Env, Resources, Workflow

    with Workflow(generate_name="bench-", entrypoint="bench-dag") as workflow:
        templates = [
            Container(name=f"task-{i}", image="registry.example.com/worker:1.0", command=["work"],
                      env=[Env(name="INDEX", value=str(i)), Env(name="MODE", value="fast")],
                      resources=Resources(cpu_request="100m", memory_request="64Mi", cpu_limit="1",
                                          memory_limit="256Mi"))
            for i in range(size)
        ]
        with DAG(name="bench-dag"):
            steps = [template() for template in templates]
            for i in range(GROUP, size):
                steps[i - GROUP] >> steps[i]
    return workflow.to_dict()


def best_of(repeat: int, function: Callable[[], object], collector: bool = False,
            clock: Callable[[], float] = time.perf_counter) -> tuple[float, object]:
    """The shortest time of ``repeat`` calls on ``clock``, and the last result.

    The garbage collector is off while timing unless ``collector`` is true (as users run: then it runs
    whenever its thresholds say so, as in any program).
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None  # the previous result is garbage before the next run, as in a program compiling twice
        gc.collect()
        if not collector:
            gc.disable()
        start = clock()
        result = function()
        best = min(best, clock() - start)
        gc.enable()
    return best, result


def collector_on(sizes: list[int], repeat: int) -> None:
    """Compile and ``json.dumps`` timed with the collector on, next to compile with it off, in one run.

    Timed in CPU time of this process (``time.process_time``): the collector's work is CPU work, and other
    processes of a busy machine then do not blur the ratios.
    """
    print("| tasks | compile, GC on (CPU ms) | µs per task | compile, GC off (CPU ms) | GC on / off |"
          " json.dumps, GC on (CPU ms) | compile / dumps (GC on) |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        cpu = time.process_time
        on_time, workflow = best_of(repeat, lambda size=size: build_and_compile(size), collector=True, clock=cpu)
        off_time, _ = best_of(repeat, lambda size=size: build_and_compile(size), clock=cpu)
        dumps_time, _ = best_of(repeat, lambda workflow=workflow: json.dumps(workflow), collector=True, clock=cpu)
        print(f"| {size:,} | {on_time * 1e3:.1f} | {on_time / size * 1e6:.1f} | {off_time * 1e3:.1f} | "
              f"{on_time / off_time:.2f} | {dumps_time * 1e3:.1f} | {on_time / dumps_time:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hera", action="store_true", help="also time Hera (pip install hera)")
    parser.add_argument("--gc", action="store_true",
                        help="CPU time of compile and json.dumps with the garbage collector on (lint and Hera skipped)")
    args = parser.parse_args()
    if args.gc:
        collector_on(args.sizes, args.repeat)
        return
    header = "| tasks | compile (ms) | json.dumps (ms) | compile / dumps | µs per task | spec (MB) | lint_spec (ms) |"
    if args.hera:
        header += " Hera (ms) | Hera / compile |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for size in args.sizes:
        compile_time, workflow = best_of(args.repeat, lambda size=size: build_and_compile(size))
        dumps_time, text = best_of(args.repeat, lambda workflow=workflow: json.dumps(workflow))
        lint_time, problems = best_of(max(1, args.repeat // 2), lambda workflow=workflow: lint_spec(workflow))
        assert all(problem.field == "document" for problem in problems), problems  # only the size limit
        row = (f"| {size:,} | {compile_time * 1e3:.1f} | {dumps_time * 1e3:.1f} | {compile_time / dumps_time:.2f} | "
               f"{compile_time / size * 1e6:.1f} | {len(text) / 1e6:.1f} | {lint_time * 1e3:.0f} |")
        if args.hera:
            hera_time, _ = best_of(max(1, args.repeat // 2), lambda size=size: hera_build_and_compile(size))
            row += f" {hera_time * 1e3:.0f} | {hera_time / compile_time:.1f} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
