"""How fast a caller learns that its workflow finished, and how many submissions per second go through.

Against ``workflows.testing.FakeCluster`` (a real HTTP server on 127.0.0.1), in one run:

- **wait latency**: from the moment a held workflow's status turns ``Succeeded`` in the API
  (``FakeCluster.finish``) to the moment ``DistributedSyncOperation.execute()`` returns — median and p95 over
  ``--runs`` runs, through the ``kubernetes`` and ``argo-server`` backends (a watch on the one workflow),
  next to the polling loops of CloudHarness (``get`` every 1 s) and Hera (every 5 s) measured in the same run
  (those run concurrently, one thread per workflow, each finished at a random moment);
- **submissions per second**: ``op.submit(backend=...)`` one after the other (held workflows, nothing runs),
  through each cluster backend, and ``backend.submit(spec)`` of specs compiled beforehand.

    python bench/wait.py [--runs 50] [--submissions 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def operation(index: int):
    """A one-task operation that is waited for; the fake cluster holds it, so no task runs."""
    from workflows.operations import DistributedSyncOperation
    from workflows.tasks import CommandBasedTask

    return DistributedSyncOperation(f"bench-{index}", CommandBasedTask("noop", ["true"]), ttl_strategy=None,
                                    pod_gc=None)


def appeared(cluster, known: set[str]) -> str:
    """The name of the workflow that appears in ``cluster`` besides ``known`` (checked every millisecond)."""
    while True:
        names = {workflow["metadata"]["name"] for workflow in cluster.workflows()} - known
        if names:
            (name,) = names
            return name
        time.sleep(0.001)


def watch_latency(cluster, backend, runs: int) -> list[float]:
    """Seconds from ``finish`` to ``execute()`` returning, one workflow at a time."""
    latencies = []
    known = {workflow["metadata"]["name"] for workflow in cluster.workflows()}
    for index in range(runs):
        returned: list[float] = []
        op = operation(index)
        thread = threading.Thread(target=lambda: (op.execute(timeout=60, backend=backend),
                                                  returned.append(time.perf_counter())))
        thread.start()
        name = appeared(cluster, known)
        known.add(name)
        time.sleep(0.05)  # the watch is open by now
        finished = time.perf_counter()
        cluster.finish(name, "Succeeded")
        thread.join(60)
        latencies.append(returned[0] - finished)
    return latencies


def polling_latency(cluster, backend, interval: float, runs: int) -> list[float]:
    """Seconds from ``finish`` to a ``get``-every-``interval`` loop noticing, ``runs`` loops at once."""
    workflows = [backend.submit(operation(index).to_workflow())["metadata"]["name"] for index in range(runs)]
    noticed: dict[str, float] = {}

    def poll(name: str) -> None:
        time.sleep(random.uniform(0, interval))  # loops started at any moment
        while (backend.get(name).get("status") or {}).get("phase") not in ("Succeeded", "Failed", "Error"):
            time.sleep(interval)
        noticed[name] = time.perf_counter()

    threads = [threading.Thread(target=poll, args=(name,)) for name in workflows]
    for thread in threads:
        thread.start()
    finished = {}
    for name in random.sample(workflows, len(workflows)):
        time.sleep(2 * interval / runs)
        finished[name] = time.perf_counter()
        cluster.finish(name, "Succeeded")
    for thread in threads:
        thread.join(4 * interval + 60)
    return [noticed[name] - finished[name] for name in workflows]


def submissions_per_second(backend, count: int) -> tuple[float, float]:
    """Submissions per second, one after the other: ``op.submit(backend=...)`` (compile, validate, create), and
    ``backend.submit(spec)`` of specs compiled beforehand (the create alone: name, retry-safe POST)."""
    operations = [operation(index) for index in range(count)]
    start = time.perf_counter()
    for op in operations:
        op.submit(backend)
    whole = count / (time.perf_counter() - start)
    specs = [op.to_workflow() for op in operations]
    start = time.perf_counter()
    for spec in specs:
        backend.submit(spec)
    return whole, count / (time.perf_counter() - start)


def row(label: str, values: list[float]) -> str:
    return (f"| {label} | {statistics.median(values) * 1000:.1f} | {percentile(values, 0.95) * 1000:.1f} | "
            f"{len(values)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="bench-wait-")
    os.environ["WORKFLOWS_HOME"] = os.path.join(state, "home")
    from workflows.backends.argo_server import ArgoServerBackend, ArgoServerSettings
    from workflows.backends.kubernetes import KubernetesBackend
    from workflows.testing import FakeCluster

    with FakeCluster(os.path.join(state, "cluster"), hold=True) as cluster:
        os.environ["KUBECONFIG"] = str(cluster.write_kubeconfig(os.path.join(state, "kubeconfig")))
        backends = {"kubernetes": KubernetesBackend(),
                    "argo-server": ArgoServerBackend(ArgoServerSettings(server=cluster.address, secure=False))}
        print("| wait (finished in the API → execute() returns) | median (ms) | p95 (ms) | runs |")
        print("|---|---|---|---|")
        for name, backend in backends.items():
            print(row(f"`{name}` backend, watch", watch_latency(cluster, backend, args.runs)), flush=True)
        print(row("polling every 1 s (CloudHarness)", polling_latency(cluster, backends["kubernetes"], 1.0,
                                                                       args.runs)), flush=True)
        print(row("polling every 5 s (Hera)", polling_latency(cluster, backends["kubernetes"], 5.0, args.runs)),
              flush=True)
        print("\n| backend | `op.submit()` per s | `backend.submit(spec)` per s |\n|---|---|---|")
        for name, backend in backends.items():
            whole, create = submissions_per_second(backend, args.submissions)
            print(f"| `{name}` | {whole:.0f} | {create:.0f} |", flush=True)


if __name__ == "__main__":
    main()
