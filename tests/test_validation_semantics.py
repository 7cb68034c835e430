"""Semantic checks of Argo documents (what ``argo lint`` rejects), documents, size and the public API."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from workflows.errors import BadOperationConfiguration, InvalidWorkflowSpec
from workflows.validation import (
    MAX_SPEC_BYTES,
    Problem,
    lint_spec,
    load_documents,
    spec_size,
    validate_spec,
)
from workflows.validation.cron import schedule_error

IMAGE = "alpine:3.19"


def leaf(name: str = "main", *parameters: str, **fields: object) -> dict:
    """A container template with input parameters ``parameters``."""
    template = {"name": name, "container": {"image": IMAGE, "command": ["echo"], **fields}}
    if parameters:
        template["inputs"] = {"parameters": [{"name": parameter} for parameter in parameters]}
    return template


def workflow(*templates: dict, kind: str = "Workflow", **spec: object) -> dict:
    templates = templates or (leaf(),)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "demo"},
        "spec": {"entrypoint": templates[0]["name"], "templates": list(templates), **spec},
    }


def dag(*tasks: dict, name: str = "main") -> dict:
    return {"name": name, "dag": {"tasks": list(tasks)}}


def task(name: str, template: str = "echo", **fields: object) -> dict:
    return {"name": name, "template": template, **fields}


def steps(*groups: list[dict], name: str = "main") -> dict:
    return {"name": name, "steps": [list(group) for group in groups]}


def argument(name: str, value: str) -> dict:
    return {"parameters": [{"name": name, "value": value}]}


def lint(document: dict) -> list[str]:
    return [str(problem) for problem in lint_spec(document)]


def test_a_valid_workflow_has_no_problem() -> None:
    assert lint(workflow()) == []
    validate_spec(workflow())


def test_validate_spec_raises_with_every_problem() -> None:
    document = workflow(leaf(imagee="x"), entrypoint="mian")
    with pytest.raises(InvalidWorkflowSpec) as raised:
        validate_spec(document)
    assert [str(problem) for problem in raised.value.problems] == lint(document)
    assert len(raised.value.problems) == 2
    assert "spec.entrypoint: template 'mian' is not defined (did you mean 'main'?)" in str(raised.value)


def test_problems_are_frozen_and_print_as_field_and_reason() -> None:
    problem = Problem("spec.entrypoint", "required field is missing")
    assert str(problem) == "spec.entrypoint: required field is missing"
    with pytest.raises(AttributeError):
        problem.field = "x"  # type: ignore[misc]


def test_problems_are_sorted_in_document_order() -> None:
    templates = [leaf(f"t{index}", imagee="x") for index in range(12)]
    fields = [problem.field for problem in lint_spec(workflow(*templates))]
    assert fields == [f"spec.templates[{index}].container.imagee" for index in range(12)]


# --- documents that are not Argo workflows ------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"apiVersion": "v1", "kind": "ConfigMap"},
            "apiVersion: not an Argo resource: apiVersion 'v1', expected 'argoproj.io/v1alpha1'",
        ),
        ({"kind": "Workflow"}, "apiVersion: not an Argo resource: apiVersion None, expected 'argoproj.io/v1alpha1'"),
        (
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowEventBinding"},
            "kind: unknown kind 'WorkflowEventBinding', expected one of Workflow, WorkflowTemplate, "
            "ClusterWorkflowTemplate, CronWorkflow",
        ),
        (["not", "a", "map"], "document: expected a map (an Argo resource), got list ['not', 'a', 'map']"),
    ],
)
def test_non_workflow_documents_are_one_problem(document: object, problem: str) -> None:
    assert lint(document) == [problem]  # type: ignore[arg-type]


def test_unknown_api_version_of_argo() -> None:
    document = workflow()
    document["apiVersion"] = "argoproj.io/v2"
    assert lint(document) == ["apiVersion: unknown version 'argoproj.io/v2', expected 'argoproj.io/v1alpha1'"]


# --- metadata ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "metadata", "problem"),
    [
        ("Workflow", {"name": "x" * 64}, f"metadata.name: '{'x' * 64}' is 64 characters long, Argo allows at most 63"),
        (
            "CronWorkflow",
            {"name": "x" * 53},
            f"metadata.name: '{'x' * 53}' is 53 characters long, Argo allows at most 52",
        ),
        ("Workflow", {"name": "Hello_World"}, "metadata.name: invalid name 'Hello_World': use lower-case letters"),
        ("Workflow", {"generateName": "Hello-"}, "metadata.generateName: invalid prefix 'Hello-': use lower-case"),
        ("Workflow", {}, "metadata.name: set metadata.name or metadata.generateName"),
    ],
)
def test_metadata_names(kind: str, metadata: dict, problem: str) -> None:
    document = workflow()
    document["metadata"] = metadata
    if kind == "CronWorkflow":
        document = {**document, "kind": kind, "spec": {"schedules": ["* * * * *"], "workflowSpec": document["spec"]}}
    assert any(line.startswith(problem) for line in lint(document)), lint(document)


@pytest.mark.parametrize("metadata", [{"name": "x" * 63}, {"name": "a.b-c"}, {"generateName": "x" * 70 + "-"}])
def test_valid_metadata_names(metadata: dict) -> None:
    # Kubernetes truncates a long generateName to 58 characters before adding its 5-character suffix.
    document = workflow()
    document["metadata"] = metadata
    assert lint(document) == []


# --- spec-level references -----------------------------------------------------------------------


def test_entrypoint_is_required_and_must_exist() -> None:
    document = workflow()
    del document["spec"]["entrypoint"]
    assert lint(document) == ["spec.entrypoint: required field is missing"]
    assert lint(workflow(entrypoint="mian")) == [
        "spec.entrypoint: template 'mian' is not defined (did you mean 'main'?)"
    ]


def test_templates_may_omit_the_entrypoint() -> None:
    for kind in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
        document = workflow(kind=kind)
        del document["spec"]["entrypoint"]
        assert lint(document) == []


def test_workflow_template_ref_replaces_templates() -> None:
    document = workflow(workflowTemplateRef={"name": "library"})
    del document["spec"]["entrypoint"]
    assert lint(document) == ["spec.templates: must be empty when workflowTemplateRef is set"]
    del document["spec"]["templates"]
    assert lint(document) == []


def test_exit_handler_and_hooks_name_existing_templates() -> None:
    document = workflow(
        leaf(),
        onExit="cleanup",
        hooks={"exit": {"template": "main"}, "running": {"template": "mainn"}},
    )
    assert lint(document) == [
        "spec.hooks.running.expression: hook 'running' needs an expression (only 'exit' hooks run without one)",
        "spec.hooks.running.template: template 'mainn' is not defined (did you mean 'main'?)",
        "spec.onExit: template 'cleanup' is not defined",
    ]


def test_entrypoint_inputs_must_be_given_by_the_workflow_arguments() -> None:
    assert lint(workflow(leaf("main", "message"))) == [
        "spec.arguments: input parameter 'message' of template 'main' is not supplied and has no default"
    ]
    # Declared without a value: given at submission (argo submit -p message=...).
    assert lint(workflow(leaf("main", "message"), arguments={"parameters": [{"name": "message"}]})) == []
    assert lint(workflow(leaf("main", "message"), kind="WorkflowTemplate")) == []


def test_workflow_arguments() -> None:
    arguments = {
        "parameters": [
            {"name": "a", "value": "x", "enum": ["y", "z"]},
            {"name": "a", "value": "1"},
            {"name": "bad name", "value": "1"},
            {"name": "c", "valueFrom": {"path": "/tmp/x"}},
            {"name": "d", "value": 2, "enum": ["1", "2"]},
            {"name": "e", "enum": []},
        ],
        "artifacts": [{"name": "art"}, {"name": "ok", "raw": {"data": "x"}}],
    }
    assert lint(workflow(arguments=arguments)) == [
        "spec.arguments.artifacts[0]: an argument artifact needs 'from' or a location (s3, http, git, raw...)",
        "spec.arguments.parameters[0].value: 'x' is not one of the enum values ['y', 'z']",
        "spec.arguments.parameters[1].name: duplicate name 'a', already used by spec.arguments.parameters[0]",
        "spec.arguments.parameters[2].name: invalid name 'bad name': use letters, digits, '_' and '-'",
        "spec.arguments.parameters[3].valueFrom: in arguments, valueFrom only allows configMapKeyRef, event, "
        "supplied and default",
        "spec.arguments.parameters[5].enum: an enum needs at least one value",
    ]


def test_pod_gc_strategy() -> None:
    assert lint(workflow(podGC={"strategy": "OnPodSuccess"})) == []
    assert lint(workflow(podGC={"strategy": "Always"})) == [
        "spec.podGC.strategy: unknown strategy 'Always', expected one of OnPodCompletion, OnPodSuccess, "
        "OnWorkflowCompletion, OnWorkflowSuccess"
    ]


# --- templates -----------------------------------------------------------------------------------


def test_template_names_are_valid_and_unique() -> None:
    document = workflow(leaf(), leaf("main"), leaf("under_score"), leaf("x" * 129), {"container": {"image": IMAGE}})
    assert lint(document) == [
        "spec.templates[1].name: duplicate name 'main', already used by spec.templates[0]",
        "spec.templates[2].name: invalid name 'under_score': use letters, digits and '-', starting with a letter or digit",
        f"spec.templates[3].name: name '{'x' * 129}' is 129 characters long, Argo allows at most 128",
        "spec.templates[4].name: required field is missing",
    ]


def test_exactly_one_template_type() -> None:
    document = workflow({"name": "main"}, {"name": "two", "suspend": {}, "container": {"image": IMAGE}})
    assert lint(document) == [
        "spec.templates[0]: template type unspecified: set one of container, containerSet, steps, dag, script, "
        "resource, data, suspend, http, plugin",
        "spec.templates[1]: several template types (container, suspend): set exactly one",
    ]


def test_images_may_come_from_template_defaults() -> None:
    document = workflow({"name": "main", "container": {"command": ["true"]}})
    assert lint(document) == [
        "spec.templates[0].container.image: an image is required (here or in spec.templateDefaults)"
    ]
    document["spec"]["templateDefaults"] = {"container": {"image": IMAGE}}
    assert lint(document) == []


def test_leaf_and_orchestration_fields() -> None:
    document = workflow(
        dag(task("a", "echo"), name="main") | {"activeDeadlineSeconds": 10, "timeout": "1m"},
        leaf("echo") | {"parallelism": 2, "activeDeadlineSeconds": "ten", "timeout": "30"},
    )
    assert lint(document) == [
        "spec.templates[0].activeDeadlineSeconds: activeDeadlineSeconds is only valid for templates that run a pod",
        "spec.templates[0].timeout: timeout is not supported by dag templates",
        "spec.templates[1].activeDeadlineSeconds: must be a positive integer or a {{variable}}, got 'ten'",
        "spec.templates[1].parallelism: parallelism is only valid for steps and dag templates",
        "spec.templates[1].timeout: invalid duration '30': add a unit, e.g. '30s'",
    ]


def test_inputs_and_outputs() -> None:
    template = leaf()
    template["inputs"] = {"artifacts": [{"name": "in", "from": "{{x}}"}]}
    template["outputs"] = {
        "parameters": [
            {"name": "both", "value": "1", "valueFrom": {"path": "/x"}},
            {"name": "none"},
            {"name": "two", "valueFrom": {"path": "/x", "jsonPath": "{.a}"}},
            {"name": "wrong", "valueFrom": {"jqFilter": "."}},
            {"name": "global", "value": "1", "globalName": "not ok"},
        ],
        "artifacts": [{"name": "out"}],
    }
    document = workflow(template, steps([task("s", "main")], name="outer"))
    document["spec"]["templates"][1]["outputs"] = {"artifacts": [{"name": "a", "path": "/tmp/a"}]}
    assert lint(document) == [
        "spec.arguments: input artifact 'in' of template 'main' is not supplied",
        "spec.templates[0].inputs.artifacts[0].from: 'from' is not valid in inputs (it belongs in arguments)",
        "spec.templates[0].inputs.artifacts[0].path: artifact 'in' needs a path in this template",
        "spec.templates[0].outputs.artifacts[0].path: artifact 'out' needs a path in this template",
        "spec.templates[0].outputs.parameters[0]: set either value or valueFrom, not both",
        "spec.templates[0].outputs.parameters[1]: an output parameter needs a value or a valueFrom",
        "spec.templates[0].outputs.parameters[2].valueFrom: set exactly one of path, jqFilter, jsonPath, parameter, "
        "expression, supplied (found path, jsonPath)",
        "spec.templates[0].outputs.parameters[3].valueFrom: container templates take output parameters from path, "
        "not from jqFilter",
        "spec.templates[0].outputs.parameters[4].globalName: invalid global name 'not ok': use letters, digits, '_' and '-'",
        "spec.templates[1].outputs.artifacts[0].path: path is only valid in templates that run a container "
        "(container, script...)",
        "spec.templates[1].steps[0][0].arguments: input artifact 'in' of template 'main' is not supplied",
    ]


def test_volume_mounts_do_not_collide() -> None:
    template = leaf(volumeMounts=[{"name": "a", "mountPath": "/data"}, {"name": "b", "mountPath": "/data"}])
    template["inputs"] = {"artifacts": [{"name": "x", "path": "/data", "raw": {"data": "1"}}]}
    document = workflow(template, volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}])
    assert lint(document) == [
        "spec.templates[0].container.volumeMounts[1].mountPath: '/data' is already mounted by "
        "spec.templates[0].container.volumeMounts[0]",
        "spec.templates[0].inputs.artifacts[0].path: '/data' is already mounted by spec.templates[0].container.volumeMounts[0]",
    ]


def test_container_sets() -> None:
    template = {
        "name": "main",
        "containerSet": {
            "containers": [
                {"name": "a", "image": IMAGE, "dependencies": ["b"]},
                {"name": "b", "image": IMAGE, "dependencies": ["a", "c"]},
            ]
        },
        "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/p"}}]},
    }
    assert lint(workflow(template)) == [
        "spec.templates[0].containerSet.containers: a containerSet with input artifacts or outputs needs a container "
        "named 'main'",
        "spec.templates[0].containerSet.containers[0].dependencies: dependency cycle: a -> b -> a",
        "spec.templates[0].containerSet.containers[1].dependencies[1]: dependency 'c' is not a container of this "
        "containerSet",
    ]


def test_resource_templates() -> None:
    templates = [
        {"name": "main", "resource": {"action": "apply"}},
        {"name": "b", "resource": {"action": "explode", "manifest": "kind: [unclosed"}},
        {"name": "c", "resource": {"action": "get", "manifest": "kind: Pod\nname: {{inputs.parameters.x}}"}},
        {"name": "d", "resource": {"action": "create", "manifestFrom": {"artifact": {"name": "m"}}}},
    ]
    problems = lint(workflow(*templates))
    assert problems[:2] == [
        "spec.templates[0].resource: set manifest or manifestFrom",
        "spec.templates[1].resource.action: unknown action 'explode', expected one of get, create, apply, delete, "
        "replace, patch",
    ]
    assert problems[2].startswith("spec.templates[1].resource.manifest: not valid YAML:")
    assert problems[3:] == [
        "spec.templates[2].resource.manifest: cannot resolve {{inputs.parameters.x}}: template 'c' has no input parameter 'x'",
        "spec.templates[3].resource.manifestFrom.artifact.name: 'm' is not an input artifact of this template",
    ]


def test_retry_policy_and_metrics() -> None:
    template = leaf()
    template["retryStrategy"] = {"retryPolicy": "Sometimes"}
    template["metrics"] = {
        "prometheus": [
            {"name": "bad-name", "help": "h", "labels": [{"key": "bad:key", "value": "v"}], "counter": {"value": "1"}}
        ]
    }
    assert lint(workflow(template)) == [
        "spec.templates[0].metrics.prometheus[0].labels[0].key: invalid metric label 'bad:key': use letters, digits and '_'",
        "spec.templates[0].metrics.prometheus[0].name: invalid metric name 'bad-name': use letters, digits and '_'",
        "spec.templates[0].retryStrategy.retryPolicy: unknown retry policy 'Sometimes', expected one of Always, "
        "OnError, OnFailure, OnTransientError",
    ]


def test_pod_level_resources_of_argo_4() -> None:
    template = leaf()
    template["podResources"] = {"limits": {"cpu": "1", "nvidia.com/gpu": "1"}}
    assert lint(workflow(template)) == [
        "spec.templates[0].podResources.limits[\"nvidia.com/gpu\"]: 'nvidia.com/gpu' is not a pod-level resource: "
        "only cpu, memory and hugepages-* are supported"
    ]


# --- steps ---------------------------------------------------------------------------------------


def test_steps_reference_existing_templates_with_valid_unique_names() -> None:
    document = workflow(
        steps(
            [task("a"), task("a"), task("b_c"), {"template": "echo"}],
            [task("d", "ecoh"), {"name": "e", "template": "echo", "templateRef": {"name": "lib"}}, {"name": "f"}],
        ),
        leaf("echo"),
    )
    assert lint(document) == [
        "spec.templates[0].steps[0][1].name: duplicate name 'a', already used by spec.templates[0].steps[0][0]",
        "spec.templates[0].steps[0][2].name: invalid name 'b_c': use letters, digits and '-', starting with a letter or digit",
        "spec.templates[0].steps[0][3].name: required field is missing",
        "spec.templates[0].steps[1][0].template: template 'ecoh' is not defined (did you mean 'echo'?)",
        "spec.templates[0].steps[1][1]: set only one of template, templateRef and inline (found template, templateRef)",
        "spec.templates[0].steps[1][1].templateRef.template: required field is missing",
        "spec.templates[0].steps[1][2]: set one of template, templateRef and inline",
    ]


def test_steps_see_outputs_of_earlier_groups_only() -> None:
    producer = leaf("produce") | {"outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/p"}}]}}
    document = workflow(
        steps(
            [task("a", "produce"), task("b", "echo", arguments=argument("m", "{{steps.a.outputs.result}}"))],
            [
                task("c", "echo", arguments=argument("m", "{{steps.a.outputs.parameters.p}} {{steps.b.status}}")),
                task("d", "echo", arguments=argument("m", "{{steps.a.outputs.parameters.q}} {{steps.zz.id}}")),
                task("e", "echo", arguments=argument("m", "{{steps.e.outputs.result}} {{steps.e.status}}")),
            ],
        ),
        producer,
        leaf("echo", "m"),
    )
    assert lint(document) == [
        "spec.templates[0].steps[0][1].arguments.parameters[0].value: cannot resolve {{steps.a.outputs.result}}: "
        "only the steps of earlier step groups can be referenced (this one runs in the same or a later group)",
        "spec.templates[0].steps[1][1].arguments.parameters[0].value: cannot resolve {{steps.a.outputs.parameters.q}}: "
        "step 'a' (template 'produce') has no 'outputs.parameters.q'",
        "spec.templates[0].steps[1][1].arguments.parameters[0].value: cannot resolve {{steps.zz.id}}: "
        "no step named 'zz' in template 'main'",
        "spec.templates[0].steps[1][2].arguments.parameters[0].value: cannot resolve {{steps.e.outputs.result}}: "
        "a step can only reference its own status (from hooks) and outputs (from an exit hook)",
    ]


def test_step_results_need_a_template_that_runs_a_container() -> None:
    document = workflow(
        steps(
            [task("inner", "nested")], [task("b", "echo", arguments=argument("m", "{{steps.inner.outputs.result}}"))]
        ),
        steps([task("x", "echo", arguments=argument("m", "1"))], name="nested"),
        leaf("echo", "m"),
    )
    assert lint(document) == [
        "spec.templates[0].steps[1][0].arguments.parameters[0].value: cannot resolve {{steps.inner.outputs.result}}: "
        "step 'inner' (template 'nested') has no 'outputs.result'"
    ]


def test_loops_set_item() -> None:
    document = workflow(
        steps(
            [
                task("a", "echo", withItems=[{"x": 1}], arguments=argument("m", "{{item.x}} {{item.y}}")),
                task("b", "echo", withParam="[1]", arguments=argument("m", "{{item.anything}}")),
                task("c", "echo", withSequence={"count": "2"}, arguments=argument("m", "{{item}} {{item.x}}")),
                task("d", "echo", arguments=argument("m", "{{item.x}}")),
                task("e", "echo", withItems=[1], withParam="[]", arguments=argument("m", "{{item}}")),
            ]
        ),
        leaf("echo", "m"),
    )
    assert lint(document) == [
        "spec.templates[0].steps[0][0].arguments.parameters[0].value: cannot resolve {{item.y}}: withItems entries "
        "have no such key",
        "spec.templates[0].steps[0][2].arguments.parameters[0].value: cannot resolve {{item.x}}: withSequence items "
        "are numbers, use {{item}}",
        "spec.templates[0].steps[0][3].arguments.parameters[0].value: cannot resolve {{item.x}}: {{item}} is only set "
        "by withItems, withParam and withSequence",
        "spec.templates[0].steps[0][4]: set only one of withItems, withParam and withSequence (found withItems, withParam)",
    ]


def test_step_arguments_must_feed_the_template_inputs() -> None:
    document = workflow(
        steps([task("a", "echo"), task("b", "echo", arguments={"parameters": [{"name": "m"}]})]),
        leaf("echo", "m"),
    )
    assert lint(document) == [
        "spec.templates[0].steps[0][0].arguments: input parameter 'm' of template 'echo' is not supplied and has no default",
        "spec.templates[0].steps[0][1].arguments.parameters[0]: a value or valueFrom is required",
    ]


def test_inline_templates_are_checked_in_their_own_scope() -> None:
    inline = {
        "inputs": {"parameters": [{"name": "m"}]},
        "container": {"image": IMAGE, "args": ["{{inputs.parameters.m}}", "{{inputs.parameters.n}}"]},
    }
    document = workflow(steps([task("a", None, inline=inline, arguments=argument("m", "1"))]))
    del document["spec"]["templates"][0]["steps"][0][0]["template"]
    assert lint(document) == [
        "spec.templates[0].steps[0][0].inline.container.args[1]: cannot resolve {{inputs.parameters.n}}: "
        "template 'spec.templates[0].steps[0][0].inline' has no input parameter 'n'"
    ]


# --- DAGs ----------------------------------------------------------------------------------------


def test_dag_dependencies_must_exist_and_not_loop() -> None:
    document = workflow(
        dag(
            task("a", dependencies=["c"]),
            task("b", dependencies=["a", "zz"]),
            task("c", dependencies=["b"]),
            task("d", dependencies=["d"]),
        ),
        leaf("echo"),
    )
    assert lint(document) == [
        "spec.templates[0].dag.tasks[0].dependencies: dependency cycle: a -> c -> b -> a",
        "spec.templates[0].dag.tasks[1].dependencies[1]: depends on 'zz', which is not a task of this DAG",
    ]


def test_a_self_dependency_is_a_cycle() -> None:
    document = workflow(dag(task("a"), task("b", depends="b.Succeeded || a")), leaf("echo"))
    assert lint(document) == ["spec.templates[0].dag.tasks[1].depends: dependency cycle: b -> b"]


def test_depends_expressions() -> None:
    document = workflow(
        dag(
            task("a"),
            task("b", depends="a && (c"),
            task("c", depends="a.Succeded"),
            task("d", depends="a.AnySucceeded || zz"),
            task("e", depends="a", dependencies=["a"]),
            task("f", depends="a", continueOn={"failed": True}),
            task("1g", depends="a"),
        ),
        leaf("echo"),
    )
    assert lint(document) == [
        "spec.templates[0].dag.tasks[1].depends: invalid depends expression 'a && (c' (at position 5): '(' is never closed",
        "spec.templates[0].dag.tasks[2].depends: invalid depends expression 'a.Succeded' (at position 2): unknown task "
        "result 'Succeded' for task 'a': expected one of Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, "
        "AnySucceeded, AllFailed",
        "spec.templates[0].dag.tasks[3].depends: 'a' is tested with .AnySucceeded/.AllFailed but does not loop "
        "(withItems, withParam or withSequence)",
        "spec.templates[0].dag.tasks[3].depends: depends on 'zz', which is not a task of this DAG",
        "spec.templates[0].dag.tasks[4].dependencies: a DAG cannot mix 'dependencies' and 'depends': write this one as depends",
        "spec.templates[0].dag.tasks[5].continueOn: continueOn cannot be used in a DAG with 'depends': use 'task.Failed' "
        "or 'task.Errored' in depends",
        "spec.templates[0].dag.tasks[6].name: task name '1g' cannot start with a digit in a DAG with depends or dependencies",
    ]


def test_dag_tasks_see_the_outputs_of_their_ancestors_only() -> None:
    document = workflow(
        dag(
            task("a", "produce"),
            task("b", "echo", depends="a", arguments=argument("m", "{{tasks.a.outputs.result}}")),
            task("c", "echo", depends="b", arguments=argument("m", "{{tasks.a.outputs.result}} {{tasks.a.status}}")),
            task("d", "echo", arguments=argument("m", "{{tasks.a.outputs.result}}")),
            task("e", "echo", depends="a", arguments=argument("m", "{{tasks.b.outputs.result}}")),
            task("f", "echo", depends="a.Failed", arguments=argument("m", "{{tasks.a.outputs.parameters.nope}}")),
        ),
        leaf("produce"),
        leaf("echo", "m"),
    )
    assert lint(document) == [
        "spec.templates[0].dag.tasks[3].arguments.parameters[0].value: cannot resolve {{tasks.a.outputs.result}}: "
        "task 'd' does not depend on it (add it to depends or dependencies)",
        "spec.templates[0].dag.tasks[4].arguments.parameters[0].value: cannot resolve {{tasks.b.outputs.result}}: "
        "task 'e' does not depend on it (add it to depends or dependencies)",
        "spec.templates[0].dag.tasks[5].arguments.parameters[0].value: cannot resolve {{tasks.a.outputs.parameters.nope}}: "
        "task 'a' (template 'produce') has no 'outputs.parameters.nope'",
    ]


def test_dag_targets_and_emptiness() -> None:
    document = workflow(
        dag(task("a"), task("b")) | {"dag": {"tasks": [task("a")], "target": "a zz {{workflow.parameters.t}}"}},
        leaf("echo"),
        arguments={"parameters": [{"name": "t", "value": "a"}]},
    )
    assert lint(document) == ["spec.templates[0].dag.target: target 'zz' is not a task of this DAG"]
    assert lint(workflow(dag())) == ["spec.templates[0].dag.tasks: a DAG needs at least one task"]


def test_template_outputs_see_every_child() -> None:
    producer = leaf("produce") | {"outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/p"}}]}}
    outputs = {
        "parameters": [{"name": "o", "valueFrom": {"parameter": "{{tasks.b.outputs.parameters.p}} {{tasks.c.id}}"}}]
    }
    document = workflow(dag(task("a", "produce"), task("b", "produce")) | {"outputs": outputs}, producer)
    assert lint(document) == [
        "spec.templates[0].outputs.parameters[0].valueFrom.parameter: cannot resolve {{tasks.c.id}}: "
        "no task named 'c' in template 'main'"
    ]


# --- global and template variables ---------------------------------------------------------------


def test_global_variables() -> None:
    document = workflow(
        leaf(
            "main",
            args=[
                "{{workflow.name}} {{workflow.namespace}} {{workflow.uid}} {{workflow.serviceAccountName}}",
                "{{workflow.parameters.p}} {{workflow.parameters}} {{workflow.parameters.json}} {{workflow.status}}",
                "{{workflow.labels.team}} {{workflow.annotations.note}} {{workflow.creationTimestamp.Y}}",
                "{{workflow.duration}} {{workflow.scheduledTime}} {{workflow.mainEntrypoint}} {{=workflow.whatever}}",
                "{{workflow.outputs.parameters.g}} {{ workflow.name }} {{node.name}} {{retries}} {{item}} {{custom}}",
            ],
        ),
        arguments={"parameters": [{"name": "p", "value": "1"}]},
        workflowMetadata={"labels": {"team": "a"}, "annotations": {"note": "b"}},
    )
    document["spec"]["templates"][0]["outputs"] = {"parameters": [{"name": "x", "value": "1", "globalName": "g"}]}
    assert lint(document) == []


def test_unresolvable_global_variables() -> None:
    document = workflow(
        leaf(
            "main",
            args=[
                "{{workflow.parameters.q}}",
                "{{workflow.failures}} {{workflow.priority}}",
                "{{workflow.labels.team}} {{workflow.outputs.parameters.g}} {{workflow.nope}}",
            ],
        ),
    )
    assert lint(document) == [
        "spec.templates[0].container.args[0]: cannot resolve {{workflow.parameters.q}}: spec.arguments.parameters "
        "declares no parameter 'q'",
        "spec.templates[0].container.args[1]: cannot resolve {{workflow.failures}}: only set for workflows with an "
        "exit handler (spec.onExit)",
        "spec.templates[0].container.args[1]: cannot resolve {{workflow.priority}}: spec.priority is not set",
        "spec.templates[0].container.args[2]: cannot resolve {{workflow.labels.team}}: no label 'team' in "
        "metadata.labels or spec.workflowMetadata",
        "spec.templates[0].container.args[2]: cannot resolve {{workflow.nope}}",
        "spec.templates[0].container.args[2]: cannot resolve {{workflow.outputs.parameters.g}}: no output parameter "
        "has the globalName 'g'",
    ]
    document["spec"].update(onExit="main", priority=1)
    assert len(lint(document)) == 4


def test_workflow_templates_accept_any_workflow_parameter() -> None:
    document = workflow(leaf("main", args=["{{workflow.parameters.given-later}}"]), kind="WorkflowTemplate")
    assert lint(document) == []


def test_template_variables() -> None:
    template = leaf(
        "main",
        "p",
        args=[
            "{{inputs.parameters.p}} {{inputs.parameters}} {{pod.name}} {{outputs.parameters.x.path}}",
            "{{inputs.parameters.q}}",
        ],
    )
    template["inputs"]["artifacts"] = [{"name": "a", "path": "/a", "raw": {"data": "x"}}]
    template["container"]["command"] = ["cat", "{{inputs.artifacts.a.path}}", "{{inputs.artifacts.b.path}}"]
    document = workflow(template, steps([task("s", "main", arguments=argument("p", "{{pod.name}}"))], name="outer"))
    document["spec"]["arguments"] = {"parameters": [{"name": "p"}]}
    assert lint(document) == [
        "spec.templates[0].container.args[1]: cannot resolve {{inputs.parameters.q}}: template 'main' has no input parameter 'q'",
        "spec.templates[0].container.command[2]: cannot resolve {{inputs.artifacts.b.path}}: template 'main' has no "
        "input artifact 'b'",
        "spec.templates[1].steps[0][0].arguments.parameters[0].value: cannot resolve {{pod.name}}: steps templates do "
        "not run a pod",
    ]


def test_cron_workflows() -> None:
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 1 * * *",
            "schedules": ["61 * * * *"],
            "timezone": "Mars/Olympus",
            "concurrencyPolicy": "Sometimes",
            "startingDeadlineSeconds": -1,
            "workflowSpec": workflow(
                leaf(args=["{{workflow.labels.workflows.argoproj.io/cron-workflow}}"]),
                arguments={"parameters": [{"name": "p"}]},
            )["spec"],
        },
    }
    assert lint(document) == [
        "spec: set either schedule or schedules, not both",
        "spec.concurrencyPolicy: unknown policy 'Sometimes', expected one of Allow, Forbid, Replace",
        "spec.schedules[0]: invalid cron schedule '61 * * * *': minute field '61': '61' is outside 0-59",
        "spec.startingDeadlineSeconds: must not be negative, got -1",
        "spec.timezone: unknown time zone 'Mars/Olympus'",
        "spec.workflowSpec.arguments.parameters[0]: a value or valueFrom is required",
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/5 0-23/2 1,15 JAN-jun ?",
        "0 0 * * MON-FRI",
        "@daily",
        "@every 1h30m",
        "CRON_TZ=UTC 0 3 * * *",
        "30 2 * * 0,6",
    ],
)
def test_valid_cron_schedules(schedule: str) -> None:
    assert schedule_error(schedule) is None


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("", "empty schedule"),
        ("* * * *", "expected exactly 5 fields"),
        ("* * * * * *", "found 6"),
        ("*/0 * * * *", "invalid step '0'"),
        ("5-1 * * * *", "range '5-1' starts after its end"),
        ("* 24 * * *", "'24' is outside 0-23"),
        ("* * 0 * *", "'0' is outside 1-31"),
        ("* * * foo *", "invalid value 'foo'"),
        ("* * * * 7", "'7' is outside 0-6"),
        ("@fortnightly", "unknown descriptor '@fortnightly'"),
        ("@every soon", "invalid duration 'soon'"),
    ],
)
def test_invalid_cron_schedules(schedule: str, error: str) -> None:
    assert error in (schedule_error(schedule) or "")


# --- size ----------------------------------------------------------------------------------------


def test_spec_size_is_compact_utf8_json() -> None:
    document = workflow(leaf(args=["héllo"]))
    assert spec_size(document) == len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def test_specs_over_one_mebibyte_are_rejected() -> None:
    document = workflow(leaf(args=["x" * MAX_SPEC_BYTES]))
    size = spec_size(document)
    assert lint(document) == [
        f"document: spec is {size} bytes, Kubernetes objects are limited to 1 MiB (1048576 bytes)"
    ]


# --- loading documents ---------------------------------------------------------------------------


def test_load_yaml_documents(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("kind: Workflow\nmetadata: {creationTimestamp: 2024-01-01}\n---\n---\nkind: WorkflowTemplate\n")
    assert load_documents(path) == [
        {"kind": "Workflow", "metadata": {"creationTimestamp": "2024-01-01"}},
        {"kind": "WorkflowTemplate"},
    ]


def test_load_json_documents(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"kind": "Workflow"}')
    assert load_documents(path) == [{"kind": "Workflow"}]
    path.write_text('[{"kind": "Workflow"}, {"kind": "CronWorkflow"}]')
    assert len(load_documents(path)) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", "kind: Workflow\nspec: [unclosed\n", r"bad\.yaml: invalid YAML at line 3, column 1"),
        ("bad.json", '{"kind": }', r"bad\.json: invalid JSON at line 1, column 10"),
        ("list.yaml", "- a\n- b\n", r"list\.yaml: document 1 is a list, expected a mapping"),
        ("missing.yaml", None, r"missing\.yaml: cannot read"),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(BadOperationConfiguration, match=message):
        load_documents(path)


# --- robustness ----------------------------------------------------------------------------------


def _paths(value: object, trail: tuple = ()):
    yield trail
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _paths(sub, (*trail, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _paths(sub, (*trail, index))


def test_wrong_types_anywhere_never_crash_the_checks() -> None:
    base = workflow(
        dag(
            task("a", "produce", withItems=[{"x": 1}]),
            task("b", "echo", depends="a", arguments=argument("m", "{{tasks.a.outputs.result}}")),
        ),
        leaf("produce") | {"outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/p"}}]}},
        leaf("echo", "m"),
        steps([task("s", "echo", arguments=argument("m", "1"), hooks={"exit": {"template": "echo"}})], name="st"),
        {"name": "set", "containerSet": {"containers": [{"name": "main", "image": IMAGE, "dependencies": []}]}},
        {"name": "res", "resource": {"action": "create", "manifest": "kind: Pod"}},
        onExit="echo",
        arguments={"parameters": [{"name": "m", "value": "1", "enum": ["1"]}]},
    )
    paths = [path for path in _paths(base) if path]
    randomness = random.Random(7)
    for path in randomness.sample(paths, min(len(paths), 150)):
        for replacement in (None, 7, "x", [1, [2]], {"k": {"v": 1}}, True):
            document = copy.deepcopy(base)
            target = document
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = replacement
            assert isinstance(lint_spec(document), list)
