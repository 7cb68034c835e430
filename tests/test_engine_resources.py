"""Resource templates on Argo Workflows: the local engine creates, applies and gets them, and waits on conditions."""

from __future__ import annotations

import pytest

from workflows import argo
from workflows.engine.resources import kubectl_jsonpath, parse_selector, resource_problem
from workflows.engine.support import UnsupportedWorkflow
from workflows.errors import BadOperationConfiguration

WAIT = 120


def child(command: str, name_field: str = "generateName: child-") -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  {name_field}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: busybox
      command: [sh, -c, "{command}"]
"""


def workflow(templates: list[dict]) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "parent-"},
            "spec": {"entrypoint": "main", "templates": templates}}


CONDITIONS = {"successCondition": "status.phase == Succeeded", "failureCondition": "status.phase in (Failed, Error)"}


def test_conditions_follow_kubernetes_selectors():
    document = {"status": {"phase": "Failed", "progress": "1/1"}, "metadata": {"labels": {"a": "b"}}}
    assert all(r.matches(document) for r in parse_selector("status.phase in (Failed, Error), metadata.labels.a=b"))
    assert not parse_selector("status.phase notin (Failed)")[0].matches(document)
    assert parse_selector("status.phase != Running")[0].matches(document)
    assert parse_selector("status.missing != x")[0].matches(document)  # Kubernetes: a missing field is not x
    assert parse_selector("status.phase")[0].matches(document) and parse_selector("!status.nope")[0].matches(document)
    with pytest.raises(BadOperationConfiguration, match="go in parentheses"):
        parse_selector("status.phase in Failed")


def test_kubectl_jsonpath_of_simple_templates():
    document = {"metadata": {"name": "w"}, "items": [{"x": 1}]}
    assert kubectl_jsonpath(document, "{.metadata.name}") == "w"
    assert kubectl_jsonpath(document, "name={.metadata.name} x={.items[0].x}") == "name=w x=1"


def test_only_workflows_and_local_actions_are_accepted():
    assert resource_problem("t", {"action": "create", "manifest": "apiVersion: v1\nkind: ConfigMap\n"}) == \
        "t: resource templates run locally only on Argo Workflows (this one is a ConfigMap)"
    assert "action 'patch'" in resource_problem("t", {"action": "patch", "manifest": child("true")})
    assert "flags" in resource_problem("t", {"action": "create", "flags": ["--x"], "manifest": child("true")})
    assert resource_problem("t", {"action": "create", "manifest": child("true")}) is None
    with pytest.raises(UnsupportedWorkflow, match="this one is a ConfigMap"):
        argo.submit_workflow(workflow([{"name": "main", "resource": {
            "action": "create", "manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}}]))


def test_create_then_get_waits_for_the_child():
    templates = [
        {"name": "main", "steps": [
            [{"name": "create", "template": "create"}],
            [{"name": "wait", "template": "wait",
              "arguments": {"parameters": [{"name": "n", "value": "{{steps.create.outputs.parameters.name}}"}]}}]]},
        {"name": "create", "resource": {"action": "create", "setOwnerReference": True, "manifest": child("sleep 1")},
         "outputs": {"parameters": [{"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}}]}},
        {"name": "wait", "inputs": {"parameters": [{"name": "n"}]},
         "resource": {"action": "get", **CONDITIONS, "manifest": child("true", "name: {{inputs.parameters.n}}")},
         "outputs": {"parameters": [{"name": "phase", "valueFrom": {"jsonPath": "{.status.phase}"}}]}}]
    done = argo.submit_workflow(workflow(templates)).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    nodes = {node["displayName"]: node for node in done.raw["status"]["nodes"].values()}
    created = nodes["create"]["outputs"]["parameters"][0]["value"]
    assert created.startswith("child-")
    assert nodes["wait"]["outputs"]["parameters"] == [{"name": "phase", "value": "Succeeded"}]
    owners = argo.get_workflow(created).raw["metadata"]["ownerReferences"]
    assert [owner["name"] for owner in owners] == [done.name]


def test_a_failure_condition_fails_the_node_and_apply_reuses_an_existing_workflow():
    failing = {"name": "main", "resource": {"action": "create", **CONDITIONS, "manifest": child("exit 3")}}
    done = argo.submit_workflow(workflow([failing])).wait(WAIT)
    assert done.status == "Failed"
    assert done.get_status_message() == "failure condition 'status.phase in (Error,Failed)' evaluated true"
    applied = {"name": "main", "steps": [[{"name": "one", "template": "apply"}],
                                         [{"name": "two", "template": "apply"}]]}
    apply = {"name": "apply", "resource": {"action": "apply", **CONDITIONS,
                                           "manifest": child("echo once", "name: applied-once")}}
    assert argo.submit_workflow(workflow([applied, apply])).wait(WAIT).status == "Succeeded"
    assert [w.name for w in argo.get_workflows().items if w.name.startswith("applied")] == ["applied-once"]
