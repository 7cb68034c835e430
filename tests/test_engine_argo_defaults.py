"""Argo's defaults the local engine follows: retries (``retryStrategy: {}``, ``spec.retryStrategy``), what is
refused at submission (env from Secrets, ``envFrom``) and ``{{inputs.parameters}}`` as Argo validates it."""

from __future__ import annotations

import re

import pytest

from workflows import argo
from workflows.engine.support import UnsupportedWorkflow
from workflows.validation import lint_spec

WAIT = 120
#: Fails until its third run: the count lives on a claim shared by the attempts.
THIRD_TIME_LUCKY = "n=$(cat /data/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/count; [ $n -ge 3 ]"


def counting_workflow(claim: str, template_extra: dict, spec_extra: dict) -> dict:
    template = {"name": "main", "container": {"image": "busybox", "command": ["sh", "-c", THIRD_TIME_LUCKY],
                                              "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                **template_extra}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "retry-"},
            "spec": {"entrypoint": "main", "templates": [template],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}], **spec_extra}}


def attempts(workflow) -> int:
    return sum(1 for node in workflow.raw["status"]["nodes"].values() if node["type"] == "Pod")


def test_an_empty_retry_strategy_retries_without_limit(workflows_home):
    done = argo.submit_workflow(counting_workflow("empty", {"retryStrategy": {}}, {})).wait(WAIT)
    assert done.status == "Succeeded"
    assert attempts(done) == 3


def test_the_workflows_retry_strategy_is_every_templates_default(workflows_home):
    done = argo.submit_workflow(counting_workflow("default", {}, {"retryStrategy": {"limit": 5}})).wait(WAIT)
    assert done.status == "Succeeded"
    assert attempts(done) == 3
    own = argo.submit_workflow(counting_workflow("own", {"retryStrategy": {"limit": 1}},
                                                 {"retryStrategy": {"limit": 5}})).wait(WAIT)
    assert own.status == "Failed"
    assert attempts(own) == 2


def test_without_any_retry_strategy_a_failure_is_final(workflows_home):
    done = argo.submit_workflow(counting_workflow("none", {}, {})).wait(WAIT)
    assert done.status == "Failed"
    assert attempts(done) == 1


def env_workflow(body_extra: dict) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "env-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "busybox", "command": ["env"], **body_extra}}]}}


@pytest.mark.parametrize("body, message", [
    ({"env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
     "template 'main': env 'PASSWORD': valueFrom.secretKeyRef is not supported locally"),
    ({"env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]},
     "env 'NODE': valueFrom.fieldRef is not supported locally"),
    ({"envFrom": [{"configMapRef": {"name": "settings"}}]},
     "template 'main': envFrom[0]: configMapRef is not supported locally"),
])
def test_environment_the_engine_cannot_honour_is_refused_at_submission(workflows_home, body, message):
    with pytest.raises(UnsupportedWorkflow, match=re.escape(message)):
        argo.submit_workflow(env_workflow(body))


def test_the_pods_own_name_from_field_ref_still_runs(workflows_home):
    body = {"env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
    assert argo.submit_workflow(env_workflow(body)).wait(WAIT).status == "Succeeded"


def test_inputs_parameters_needs_declared_inputs_as_in_argos_validation():
    """Argo's ``validateInputs`` puts ``inputs.parameters`` in scope only when the template has input parameters."""
    script = {"image": "python", "command": ["python"], "source": "print('{{inputs.parameters}}')"}
    document = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "p-"},
                "spec": {"entrypoint": "main", "templates": [{"name": "main", "script": script}]}}
    assert [problem.reason for problem in lint_spec(document)] == ["cannot resolve {{inputs.parameters}}"]
    document["spec"]["templates"][0]["inputs"] = {"parameters": [{"name": "a", "value": "1"}]}
    assert lint_spec(document) == []


def run_main(template: dict, arguments: dict | None = None) -> argo.Workflow:
    spec = {"entrypoint": "main", "templates": [{"name": "main", **template}]}
    if arguments:
        spec["arguments"] = arguments
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "d-"},
                "spec": spec}
    return argo.submit_workflow(manifest).wait(WAIT)


def test_workflow_parameters_json_and_inputs_that_use_other_inputs(workflows_home):
    template = {"inputs": {"parameters": [
        {"name": "test", "value": "yes"},
        {"name": "list", "value": "{{= concat(['a'], inputs.parameters.test == 'yes' ? ['b'] : []) | toJSON() }}"},
        {"name": "first", "value": "{{=jsonpath(workflow.parameters.json, '$[0].value')}}"}]},
        "container": {"image": "busybox",
                      "command": ["echo", "{{inputs.parameters.list}} {{inputs.parameters.first}}"]}}
    done = run_main(template, {"parameters": [{"name": "p", "value": "v"}]})
    assert done.status == "Succeeded", done.get_status_message()
    # expr-lang's toJSON indents with two blanks
    assert done.raw["status"]["nodes"][done.name]["outputs"]["result"] == '[\n  "a",\n  "b"\n] v'


def test_a_script_without_source_runs_as_a_container(workflows_home):
    done = run_main({"script": {"image": "busybox", "command": ["echo"], "args": ["[]"]}})
    assert done.status == "Succeeded", done.get_status_message()
    assert done.raw["status"]["nodes"][done.name]["outputs"]["result"] == "[]"
