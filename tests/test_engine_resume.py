"""Suspend templates without duration wait for ``workflows resume``, as Argo's wait for ``argo resume``."""

from __future__ import annotations

import pytest

from workflows import argo
from workflows.argo import WorkflowException
from workflows.backends import get_backend
from workflows.cli import main

WAIT = 120


def suspended_workflow(outputs: dict | None = None, duration: str | None = None) -> dict:
    approval = {"name": "approval", "suspend": {"duration": duration} if duration else {},
                "inputs": {"parameters": [{"name": "approve", "default": "NO", "enum": ["YES", "NO"]}]}}
    if outputs:
        approval["outputs"] = outputs
    main_template = {"name": "main", "steps": [
        [{"name": "approval", "template": "approval"}],
        [{"name": "said", "template": "say",
          "arguments": {"parameters": [{"name": "m", "value": "{{steps.approval.outputs.parameters.approve}}"}]}}]]}
    say = {"name": "say", "inputs": {"parameters": [{"name": "m"}]},
           "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.m}}"]}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "suspend-"},
            "spec": {"entrypoint": "main", "templates": [main_template, approval, say]}}


SUPPLIED = {"parameters": [{"name": "approve", "valueFrom": {"supplied": {}}}]}


def wait_until_suspended(name: str) -> None:
    for workflow in get_backend().watch(name, WAIT):
        if any(node["type"] == "Suspend" and node["phase"] == "Running"
               for node in (workflow["status"].get("nodes") or {}).values()):
            return
    raise AssertionError(f"{name} ended without suspending")


def test_resume_ends_the_suspend_and_supplied_outputs_take_the_input_default(capsys):
    workflow = argo.submit_workflow(suspended_workflow(SUPPLIED))
    wait_until_suspended(workflow.name)
    assert main(["resume", workflow.name]) == 0
    assert capsys.readouterr().out == f"{workflow.name}: resumed\n"
    done = workflow.wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    nodes = {node["displayName"]: node for node in done.raw["status"]["nodes"].values()}
    assert nodes["approval"]["outputs"]["parameters"] == [{"name": "approve", "value": "NO"}]
    assert nodes["said"]["outputs"]["result"] == "NO"
    with pytest.raises(WorkflowException, match="is Succeeded: nothing to resume"):
        get_backend().resume(workflow.name)


def test_a_supplied_output_without_any_default_cannot_be_resumed():
    manifest = suspended_workflow(SUPPLIED)
    del manifest["spec"]["templates"][1]["inputs"]  # no input default to fall back on
    workflow = argo.submit_workflow(manifest)
    wait_until_suspended(workflow.name)
    with pytest.raises(WorkflowException, match="raw output parameter 'approve' has not been set"):
        get_backend().resume(workflow.name)
    get_backend().stop(workflow.name)
    assert workflow.wait(WAIT).status == "Failed"


def test_resume_ends_a_suspend_with_a_duration_early():
    workflow = argo.submit_workflow(suspended_workflow(SUPPLIED, duration="1h"))
    wait_until_suspended(workflow.name)
    get_backend().resume(workflow.name)
    assert workflow.wait(WAIT).status == "Succeeded"
