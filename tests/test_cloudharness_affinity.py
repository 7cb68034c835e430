"""Where the scheduler can place the pods of compiled workflows, next to CloudHarness application pods.

``Cluster`` applies kube-scheduler's InterPodAffinity rules to the affinity each
pod really gets (a template's own ``affinity``, else the workflow's — Argo's
rule): required terms are met on a node where one existing pod matches all of
them together; when no pod anywhere matches them all, the incoming pod may go
anywhere, but only if it matches them all itself; otherwise it stays Pending.
Among feasible nodes, preferred terms score each node (weight per term that some
pod on the node matches) and the best one wins (ties: the first node).

Application pods are modelled on CloudHarness's ``auto-deployments.yaml``: label
``usesvolume=<volume>-<namespace>``, required affinity to ``usesvolume`` in
``[<volume>-<namespace>, <volume>]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from ch_support import by_name, isolate, use_cloudharness_values

from workflows import operations, tasks

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
NODES = ("node-a", "node-b", "node-c")
WORKFLOW_NAME = "wf-abcde"
NAMESPACE = "ch"


def selector_matches(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions In/NotIn/Exists/DoesNotExist) against labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", ()):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        ok = {"In": present and labels.get(key) in values, "NotIn": not present or labels[key] not in values,
              "Exists": present, "DoesNotExist": not present}[operator]
        if not ok:
            return False
    return True


@dataclass
class Pod:
    name: str
    labels: dict[str, str]
    affinity: dict = field(default_factory=dict)

    def terms(self, section: str) -> list:
        return self.affinity.get("podAffinity", {}).get(section, [])


@dataclass
class Cluster:
    placed: list[tuple[str, Pod]] = field(default_factory=list)

    def feasible(self, pod: Pod) -> list[str]:
        """The nodes the scheduler's InterPodAffinity filter lets ``pod`` onto."""
        required = pod.terms(REQUIRED)
        assert all(term["topologyKey"] == "kubernetes.io/hostname" for term in required)
        if not required:
            return list(NODES)
        matching = {node for node, other in self.placed
                    if all(selector_matches(term["labelSelector"], other.labels) for term in required)}
        if matching:
            return [node for node in NODES if node in matching]
        if all(selector_matches(term["labelSelector"], pod.labels) for term in required):
            return list(NODES)
        return []

    def score(self, pod: Pod, node: str) -> int:
        return sum(term["weight"] for term in pod.terms(PREFERRED)
                   if any(selector_matches(term["podAffinityTerm"]["labelSelector"], other.labels)
                          for where, other in self.placed if where == node))

    def schedule(self, pod: Pod) -> str | None:
        """Place ``pod`` as the scheduler would; ``None`` when it stays Pending."""
        nodes = self.feasible(pod)
        if not nodes:
            return None
        best = max(nodes, key=lambda node: (self.score(pod, node), -NODES.index(node)))
        self.placed.append((best, pod))
        return best

    def run_application(self, volume: str, node: str) -> None:
        """A CloudHarness application pod mounting ``volume``, already running on ``node``."""
        label = f"{volume}-{NAMESPACE}"
        pod = Pod(f"app-{volume}", {"usesvolume": label}, {"podAffinity": {REQUIRED: [
            {"labelSelector": {"matchExpressions": [{"key": "usesvolume", "operator": "In",
                                                      "values": [label, volume]}]},
             "topologyKey": "kubernetes.io/hostname"}]}})
        assert node in self.feasible(pod)
        self.placed.append((node, pod))


def substitute(value, name: str = WORKFLOW_NAME):
    if isinstance(value, dict):
        return {key: substitute(item, name) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, name) for item in value]
    return value.replace("{{workflow.name}}", name) if isinstance(value, str) else value


def pods_of(workflow: dict, name: str = WORKFLOW_NAME) -> dict[str, Pod]:
    """The pod each pod-making template of ``workflow`` gets: its labels and the affinity Argo gives it."""
    spec = workflow["spec"]
    pods = {}
    for template in spec["templates"]:
        if "container" not in template and "script" not in template:
            continue
        affinity = template["affinity"] if "affinity" in template else spec.get("affinity", {})
        labels = {**template.get("metadata", {}).get("labels", {}), "workflows.argoproj.io/workflow": name}
        pods[template["name"]] = Pod(template["name"], substitute(labels, name), substitute(affinity, name))
    return pods


@pytest.fixture(autouse=True)
def inside_cloudharness(tmp_path, monkeypatch):
    isolate(tmp_path, monkeypatch)
    use_cloudharness_values(tmp_path, monkeypatch)  # namespace "ch": the application pods' label is known


def bash(name: str, **options) -> tasks.BashTask:
    return tasks.BashTask(name, "ls", **options)


def test_the_checker_refuses_what_cloudharness_emits_for_two_claims():
    # CloudHarness: labels usesvolume=c1 (one value only) and two required terms usesvolume=c1, usesvolume=c2.
    def term(value):
        return {"labelSelector": {"matchExpressions": [{"key": "usesvolume", "operator": "In", "values": [value]}]},
                "topologyKey": "kubernetes.io/hostname"}

    pod = Pod("ch", {"usesvolume": "c1"}, {"podAffinity": {REQUIRED: [term("c1"), term("c2")]}})
    assert Cluster().schedule(pod) is None
    cluster = Cluster()
    cluster.run_application("c1", "node-b")
    assert cluster.schedule(pod) is None  # next to an application pod too


def test_one_claim_joins_the_application_pod_and_the_workflow_follows():
    cluster = Cluster()
    cluster.run_application("data", "node-b")
    op = operations.PipelineOperation("p", [bash("a"), bash("b")], shared_directory="data:/data")
    pods = pods_of(op.to_workflow())
    assert cluster.schedule(pods["a"]) == "node-b" and cluster.schedule(pods["b"]) == "node-b"


def test_one_claim_first_user_anywhere_then_the_application_joins_it():
    cluster = Cluster()
    pods = pods_of(operations.ParallelOperation("p", [bash("a"), bash("b")], shared_directory="data:/data")
                   .to_workflow())
    first = cluster.schedule(pods["a"])
    assert first is not None and cluster.schedule(pods["b"]) == first
    cluster.run_application("data", first)  # the application's own affinity accepts the workflow's pods
    assert Cluster().feasible(Pod("app", {"usesvolume": "data-ch"}, cluster.placed[-1][1].affinity)) == list(NODES)


def test_several_claims_never_pending_and_next_to_the_first_claim():
    op = operations.ParallelOperation("p", [bash("a"), bash("b")], shared_directory=["c1:/one", "c2:/two:ro"])
    # an application of the second claim only: no required match, so anywhere, and the preference picks its node
    cluster = Cluster()
    cluster.run_application("c2", "node-c")
    pods = pods_of(op.to_workflow())
    assert cluster.schedule(pods["a"]) == "node-c" and cluster.schedule(pods["b"]) == "node-c"
    # an application of the first claim: required
    cluster = Cluster()
    cluster.run_application("c2", "node-c")
    cluster.run_application("c1", "node-b")
    assert cluster.schedule(pods_of(op.to_workflow())["a"]) == "node-b"
    # nothing running: schedulable, and the second pod follows the first
    cluster = Cluster()
    assert cluster.schedule(pods["a"]) == "node-a" and cluster.schedule(pods["b"]) == "node-a"


def test_task_claims_with_shared_claims_join_the_siblings():
    op = operations.PipelineOperation("p", [bash("a"), bash("b", volume_mounts=["own:/own"])],
                                      shared_directory="data:/data")
    pods = pods_of(op.to_workflow())
    cluster = Cluster()
    cluster.placed.append(("node-c", pods["a"]))  # the first step runs on node-c
    assert cluster.schedule(pods["b"]) == "node-c"  # its own claim is unused: it prefers its siblings' node
    cluster = Cluster()
    cluster.run_application("own", "node-b")
    cluster.placed.append(("node-c", pods["a"]))
    assert cluster.schedule(pods["b"]) == "node-b"  # its own claim is in use: required there


def test_claims_with_pod_execution_contexts():
    contexts = [operations.PodExecutionContext("app", "api", required=True), operations.PodExecutionContext("z", "1")]
    op = operations.ParallelOperation("p", [bash("a"), bash("b", volume_mounts=["own:/own"])],
                                      shared_directory="data:/data", pod_context=contexts)
    pods = pods_of(op.to_workflow())
    # an api pod alone on node-a and the data application on node-b: no pod matches app=api and usesvolume
    # together, so the first pod may go anywhere (documented limit) — never Pending
    cluster = Cluster()
    cluster.placed.append(("node-a", Pod("api", {"app": "api"})))
    cluster.run_application("data", "node-b")
    first = cluster.schedule(pods["a"])
    assert first is not None
    # a pod carrying both (a sibling) pulls the next one
    assert cluster.schedule(Pod("again", pods["a"].labels, pods["a"].affinity)) == first
    assert cluster.schedule(pods["b"]) is not None


@pytest.mark.parametrize("contexts", [[], [operations.PodExecutionContext("k", "v")],
                                      [operations.PodExecutionContext("k", "v", True),
                                       operations.PodExecutionContext("j", "w", True)]])
@pytest.mark.parametrize("shared", [None, True, "c1:/s", ["c1:/s", "c2:/t"], ["c1:/s:rwx", "/e"], ["/e", "c2:/t:ro"]])
@pytest.mark.parametrize("own", [None, ["o1:/o"], ["o1:/o", "o2:/p", "/scratch"], ["c1:/o"]])
def test_every_pod_can_be_placed_on_an_empty_cluster(contexts, shared, own):
    if shared is not None and own is not None and "c1:/o" in own and "c1:/s" in str(shared):
        pytest.skip("the same claim at two paths in one pod")
    op = operations.PipelineOperation("p", [bash("a", volume_mounts=own), bash("b")], shared_directory=shared,
                                      pod_context=contexts, on_exit_notify={"queue": "q"})
    workflow = op.to_workflow()
    cluster = Cluster()
    for name, pod in pods_of(workflow).items():
        assert cluster.schedule(pod) is not None, (name, pod)
        # with required terms, it would be placed again next to itself (a retry)
        if pod.terms(REQUIRED):
            assert Cluster(placed=[("node-b", pod)]).schedule(Pod("retry", pod.labels, pod.affinity)) == "node-b"
    assert set(by_name(workflow)) >= {"a", "b", "exit-handler"}
