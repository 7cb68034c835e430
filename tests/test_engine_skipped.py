"""Outputs of skipped and omitted nodes (Argo v3.7), optional artifacts never produced, and how steps roll up."""

from __future__ import annotations

from workflows import argo
from workflows.engine.skipped import skipped_outputs_scope, without_absent_arguments

WAIT = 120


def echo(name: str, inputs: dict | None = None, outputs: dict | None = None, text: str = "x") -> dict:
    template = {"name": name, "container": {"image": "busybox", "command": ["sh", "-c", text]}}
    if inputs:
        template["inputs"] = inputs
    if outputs:
        template["outputs"] = outputs
    return template


def run(templates: list[dict], name: str = "skipped-") -> argo.Workflow:
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": name},
                "spec": {"entrypoint": "main", "templates": templates}}
    return argo.submit_workflow(manifest).wait(WAIT)


def nodes(workflow) -> dict[str, dict]:
    return {node["displayName"]: node for node in workflow.raw["status"]["nodes"].values()}


PRODUCE = echo("produce", outputs={"parameters": [
    {"name": "with-default", "valueFrom": {"path": "/tmp/a", "default": "producer-default"}},
    {"name": "without", "valueFrom": {"path": "/tmp/b"}}]}, text="echo real > /tmp/a; echo real > /tmp/b")
CONSUME = echo("consume", inputs={"parameters": [{"name": "a"}, {"name": "b", "default": "consumer-default"}]},
               text="echo {{inputs.parameters.a}} {{inputs.parameters.b}}")


def test_the_scope_of_a_skipped_node_holds_defaults_and_absent_optionals():
    node = {"phase": "Skipped", "id": "n"}
    scope = skipped_outputs_scope("tasks.p", node, {**PRODUCE, "outputs": {**PRODUCE["outputs"], "artifacts": [
        {"name": "art", "path": "/tmp/c"}]}}, include_artifacts=True)
    assert scope == {"tasks.p.outputs.parameters.with-default": "producer-default",
                     "tasks.p.outputs.parameters.without": None, "tasks.p.outputs.artifacts.art": ""}
    assert skipped_outputs_scope("tasks.p", {"phase": "Succeeded"}, PRODUCE, include_artifacts=False) == {}
    arguments = {"parameters": [{"name": "a", "value": "{{ tasks.p.outputs.parameters.without }}"},
                                {"name": "b", "value": "x-{{tasks.p.outputs.parameters.without}}"}]}
    assert without_absent_arguments(arguments, scope)["parameters"] == [arguments["parameters"][1]]


def test_skipped_producers_give_defaults_to_dag_consumers():
    main = {"name": "main", "dag": {"tasks": [
        {"name": "producer", "template": "produce", "when": "false"},
        {"name": "consumer", "template": "consume", "depends": "producer.Succeeded || producer.Skipped",
         "arguments": {"parameters": [{"name": "a", "value": "{{tasks.producer.outputs.parameters.with-default}}"},
                                      {"name": "b", "value": "{{tasks.producer.outputs.parameters.without}}"}]}},
        {"name": "fallback", "template": "consume", "depends": "producer.Skipped",
         "arguments": {"parameters": [
             {"name": "a", "value": "{{=tasks.producer.outputs.parameters.without ?? 'expr-fallback'}}"}]}}]}}
    done = run([main, PRODUCE, CONSUME])
    assert done.status == "Succeeded", done.get_status_message()
    assert nodes(done)["consumer"]["outputs"]["result"] == "producer-default consumer-default"
    assert nodes(done)["fallback"]["outputs"]["result"] == "expr-fallback consumer-default"


def test_an_absent_optional_without_any_default_errors_the_consumer():
    main = {"name": "main", "dag": {"tasks": [
        {"name": "first", "template": "produce"},
        {"name": "producer", "template": "produce", "depends": "first.Failed"},
        {"name": "consumer", "template": "consume", "depends": "first && (producer || producer.Omitted)",
         "arguments": {"parameters": [{"name": "a", "value": "{{tasks.producer.outputs.parameters.without}}"}]}}]}}
    done = run([main, PRODUCE, CONSUME])
    assert done.status == "Error"
    assert nodes(done)["producer"]["phase"] == "Omitted"
    assert nodes(done)["consumer"]["phase"] == "Error"


def test_steps_roll_an_errored_child_up_as_failed_and_skip_missing_optional_artifacts():
    main = {"name": "main", "steps": [
        [{"name": "producer", "template": "maybe-file"}],
        [{"name": "consumer", "template": "read",
          "arguments": {"artifacts": [{"name": "f", "from": "{{steps.producer.outputs.artifacts.f}}"}]}}],
        [{"name": "needs", "template": "read-required",
          "arguments": {"artifacts": [{"name": "f", "from": "{{steps.producer.outputs.artifacts.f}}"}]}}]]}
    maybe = echo("maybe-file", outputs={"artifacts": [{"name": "f", "path": "/tmp/never", "optional": True}]},
                 text="true")
    read = echo("read", inputs={"artifacts": [{"name": "f", "path": "/tmp/f", "optional": True}]},
                text="test ! -e /tmp/f && echo absent")
    required = {**read, "name": "read-required", "inputs": {"artifacts": [{"name": "f", "path": "/tmp/f"}]}}
    done = run([main, maybe, read, required])
    assert nodes(done)["consumer"]["outputs"]["result"] == "absent"
    assert nodes(done)["needs"]["phase"] == "Error"
    assert "could not be resolved" in nodes(done)["needs"]["message"]
    assert done.status == "Failed"
