"""Container-set templates on the local engine: dependencies, a shared workspace, outputs from ``main``."""

from __future__ import annotations

import pytest

from workflows import argo
from workflows.engine.containerset import containerset_problems, on_set_volume
from workflows.engine.support import UnsupportedWorkflow

WAIT = 120


def container(name: str, script: str, dependencies: list[str] | None = None) -> dict:
    body = {"name": name, "image": "busybox", "command": ["sh", "-c", script]}
    if dependencies:
        body["dependencies"] = dependencies
    return body


def container_set(containers: list[dict], **extra) -> dict:
    template = {"name": "main", "volumes": [{"name": "workspace", "emptyDir": {}}],
                "containerSet": {"volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                                 "containers": containers}, **extra}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "set-"},
            "spec": {"entrypoint": "main", "templates": [template]}}


def nodes(workflow) -> dict[str, dict]:
    return {node["displayName"]: node for node in workflow.raw["status"]["nodes"].values()}


def test_containers_run_after_their_dependencies_and_share_the_workspace():
    manifest = container_set([
        container("main", "cat /workspace/log; echo main >> /workspace/log", ["b", "c"]),
        container("b", "sleep 0.2; echo b >> /workspace/log", ["a"]),
        container("c", "echo c >> /workspace/c", ["a"]),
        container("a", "echo a > /workspace/log"),
    ], outputs={"parameters": [{"name": "log", "valueFrom": {"path": "/workspace/log"}}]})
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    pod = nodes(done)[done.name]
    assert pod["type"] == "Pod"
    assert pod["outputs"]["result"] == "a\nb"  # main's standard output
    assert pod["outputs"]["parameters"][0]["value"] == "a\nb\nmain"
    assert {nodes(done)[name]["type"] for name in "abc"} == {"Container"}


def test_outputs_on_the_set_volumes_are_read_once_every_container_ended():
    # Argo's wait container reads them after all the set's containers; ``main`` is done long before ``slow``
    slow = "sleep 0.5; echo from-slow > /workspace/out; mkdir /workspace/dir; echo x > /workspace/dir/f"
    manifest = container_set([
        container("slow", slow),
        container("main", "echo own > /tmp/own; echo main"),
    ], outputs={"parameters": [{"name": "shared", "valueFrom": {"path": "/workspace/out"}, "globalName": "g"},
                               {"name": "own", "valueFrom": {"path": "/tmp/own"}}],
                "artifacts": [{"name": "dir", "path": "/workspace/dir"}, {"name": "own", "path": "/tmp/own"}]})
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    outputs = nodes(done)[done.name]["outputs"]
    assert outputs["result"] == "main"
    assert outputs["exitCode"] == "0"
    assert [(parameter["name"], parameter["value"]) for parameter in outputs["parameters"]] == [
        ("shared", "from-slow"), ("own", "own")]
    assert [artifact["name"] for artifact in outputs["artifacts"]] == ["dir", "own"]
    assert done.raw["status"]["outputs"]["parameters"] == [{"name": "g", "value": "from-slow"}]


def test_an_output_on_the_set_volumes_that_no_container_wrote_errors_the_pod():
    manifest = container_set([container("main", "true")],
                             outputs={"parameters": [{"name": "out", "valueFrom": {"path": "/workspace/out"}}]})
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Error"
    assert done.get_status_message() == "output parameter 'out': '/workspace/out' was not written"
    assert nodes(done)["main"]["phase"] == "Succeeded"


@pytest.mark.parametrize(("path", "expected"), [
    ("/workspace", True), ("/workspace/out", True), ("/workspace/a/b", True), ("/workspace2/out", False),
    ("/tmp/out", False), ("/", False)])
def test_which_output_paths_are_on_the_set_volumes(path, expected):
    template = {"containerSet": {"volumeMounts": [{"name": "w", "mountPath": "/workspace/"}], "containers": []}}
    assert on_set_volume(template, path) is expected


def test_a_failing_container_fails_the_pod_and_its_dependents_do_not_run():
    manifest = container_set([container("a", "exit 3"), container("main", "echo never", ["a"]),
                              container("other", "true")])
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Failed"
    assert done.get_status_message() == "container a: Error (exit code 3)"
    assert nodes(done)["main"]["phase"] == "Omitted"
    assert nodes(done)["other"]["phase"] == "Succeeded"


def test_what_the_engine_cannot_run_is_refused():
    template = container_set([container("a", "true", ["ghost"]), container("b", "true", ["c"]),
                              container("c", "true", ["b"])], retryStrategy={})["spec"]["templates"][0]
    template["containerSet"]["retryStrategy"] = {"retries": 2}
    problems = containerset_problems("t", template)
    assert problems[0] == "t: containerSet.retryStrategy is not supported by the local engine"
    assert "t: container 'a' depends on 'ghost', which is not in the set" in problems
    assert any("form a cycle" in problem for problem in problems)
    secret = container("a", "true")
    secret["env"] = [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    with pytest.raises(UnsupportedWorkflow, match="container 'a': env 'S': valueFrom.secretKeyRef"):
        argo.submit_workflow(container_set([secret]))


def test_sidecars_run_beside_the_main_container_and_are_killed_after_it():
    main = {"name": "main", "container": {
        "image": "busybox", "command": ["sh", "-c"],
        "args": ["while [ ! -e /shared/ready ]; do sleep 0.05; done; cat /shared/ready"],
        "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]},
        "sidecars": [{"name": "writer", "image": "busybox", "mirrorVolumeMounts": True,
                      "command": ["sh", "-c", "echo from-sidecar > /shared/ready; sleep 86400"]}]}
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "side-"},
                "spec": {"entrypoint": "main", "templates": [main],
                         "volumes": [{"name": "shared", "emptyDir": {}}]}}
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    assert nodes(done)[done.name]["outputs"]["result"] == "from-sidecar"


def test_a_sidecar_that_cannot_start_errors_the_pod(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", "none")
    main = {"name": "main", "container": {"image": "busybox", "command": ["sleep", "1"]},
            "sidecars": [{"name": "db", "image": "no-such-registry.invalid/db:1"}]}
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "side-"},
                "spec": {"entrypoint": "main", "templates": [main]}}
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Error"
    assert done.get_status_message().startswith("sidecar: image 'no-such-registry.invalid/db:1'")


def init_workflow(init_script: str) -> dict:
    main = {"name": "main", "container": {"image": "busybox", "command": ["cat", "/work/prepared"],
                                          "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
            "initContainers": [{"name": "prepare", "image": "busybox", "mirrorVolumeMounts": True,
                                "command": ["sh", "-c", init_script]}]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "init-"},
            "spec": {"entrypoint": "main", "templates": [main], "volumes": [{"name": "work", "emptyDir": {}}]}}


def test_init_containers_prepare_the_pod_before_its_main_container():
    done = argo.submit_workflow(init_workflow("echo ready > /work/prepared")).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    assert nodes(done)[done.name]["outputs"]["result"] == "ready"
    failed = argo.submit_workflow(init_workflow("exit 4")).wait(WAIT)
    assert failed.status == "Failed"
    assert failed.get_status_message() == "init container 'prepare': Error (exit code 4)"
