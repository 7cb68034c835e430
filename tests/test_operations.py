"""Operations compiled to Argo Workflows: structure, options, volumes, affinity, exit handlers."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from workflows import operations
from workflows.operations import (
    BadOperationConfiguration,
    DagOperation,
    DistributedSyncOperation,
    DistributedSyncOperationWithResults,
    ParallelOperation,
    PipelineOperation,
    PodExecutionContext,
    SimpleDagOperation,
    SingleTaskOperation,
)
from workflows.tasks import BashTask, CommandBasedTask, CustomTask

PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def bash(name: str, **options) -> BashTask:
    return BashTask(name, f"echo {name}", **options)


def templates_by_name(workflow: dict) -> dict[str, dict]:
    return {template["name"]: template for template in workflow["spec"]["templates"]}


def env_of(template: dict) -> dict[str, str]:
    body = template.get("container") or template["script"]
    return {item["name"]: item.get("value") for item in body["env"]}


def pod_affinity_of(template: dict, workflow: dict | None = None) -> dict:
    """The affinity the template's pod gets: its own, else (Argo) the workflow's."""
    if "affinity" in template or workflow is None:
        return template.get("affinity", {})
    return workflow["spec"].get("affinity", {})


def required_terms(template: dict, workflow: dict | None = None) -> list[tuple[str, str]]:
    return [
        (term["labelSelector"]["matchExpressions"][0]["key"], term["labelSelector"]["matchExpressions"][0]["values"][0])
        for term in pod_affinity_of(template, workflow).get("podAffinity", {}).get(REQUIRED, [])
    ]


# --- structure --------------------------------------------------------------------------------------------------


def test_single_task_operation():
    workflow = SingleTaskOperation("my-op", bash("only")).to_workflow()
    assert workflow["apiVersion"] == "argoproj.io/v1alpha1" and workflow["kind"] == "Workflow"
    assert workflow["metadata"] == {"generateName": "my-op-"}
    assert workflow["spec"]["entrypoint"] == "only"
    assert [t["name"] for t in workflow["spec"]["templates"]] == ["only"]


def test_pipeline_parallel_and_simple_dag_steps():
    a, b, c = bash("a"), bash("b"), bash("c")
    pipeline = PipelineOperation("p", [a, b, c]).to_workflow()
    assert pipeline["spec"]["entrypoint"] == "p-pipeline"
    assert templates_by_name(pipeline)["p-pipeline"]["steps"] == [
        [{"name": "a", "template": "a"}], [{"name": "b", "template": "b"}], [{"name": "c", "template": "c"}]
    ]
    parallel = ParallelOperation("q", [a, b]).to_workflow()
    assert templates_by_name(parallel)["q-parallel"]["steps"] == [
        [{"name": "a", "template": "a"}, {"name": "b", "template": "b"}]
    ]
    simple = SimpleDagOperation("s", a, (b, c)).to_workflow()
    assert [[step["name"] for step in group] for group in templates_by_name(simple)["s-simpledag"]["steps"]] == [
        ["a"], ["b", "c"]
    ]


def test_dag_operation_with_dependencies_and_depends_expressions():
    op = DagOperation(
        "d",
        [bash("a"), bash("b"), bash("c"), bash("report")],
        dependencies={"b": ["a"], "c": ["a"], "report": "b.Failed || c.Succeeded"},
    )
    dag = templates_by_name(op.to_workflow())["d-dag"]["dag"]["tasks"]
    # Argo refuses a DAG mixing `dependencies` and `depends`: lists become their `&&` expression.
    assert dag == [
        {"name": "a", "template": "a"},
        {"name": "b", "template": "b", "depends": "a"},
        {"name": "c", "template": "c", "depends": "a"},
        {"name": "report", "template": "report", "depends": "b.Failed || c.Succeeded"},
    ]
    only_lists = DagOperation("d", [bash("a"), bash("b"), bash("c")], dependencies={"c": ["a", "b"]})
    assert templates_by_name(only_lists.to_workflow())["d-dag"]["dag"]["tasks"][2] == {
        "name": "c", "template": "c", "dependencies": ["a", "b"]}
    two = DagOperation("d", [bash("a"), bash("b"), bash("c")], dependencies={"b": "a.Failed", "c": ["a", "b"]})
    assert templates_by_name(two.to_workflow())["d-dag"]["dag"]["tasks"][2]["depends"] == "a && b"


@pytest.mark.parametrize(
    "dependencies, message",
    [
        ({"a": ["b"], "b": ["a"]}, "cycle a -> b -> a"),
        ({"a": ["a"]}, "cycle a -> a"),
        ({"a": ["nope"]}, "unknown task 'nope'"),
        ({"nope": ["a"]}, "no task is named 'nope'"),
        ({"b": "a.Succeeded &&"}, "dependencies\\['b'\\]"),
        ({"b": "a.Finished"}, "dependencies\\['b'\\]"),
        ({"b": "ghost.Failed"}, "unknown task 'ghost'"),
        ({"a": "b", "b": "a.Succeeded"}, "cycle"),
    ],
)
def test_bad_dag_dependencies(dependencies, message):
    with pytest.raises(BadOperationConfiguration, match=message):
        DagOperation("d", [bash("a"), bash("b")], dependencies=dependencies)


def test_empty_and_duplicate_and_reserved_names():
    with pytest.raises(BadOperationConfiguration, match="has no tasks"):
        PipelineOperation("p", [])
    with pytest.raises(BadOperationConfiguration, match="two tasks are named 'a'"):
        PipelineOperation("p", [bash("a"), bash("A")])
    with pytest.raises(BadOperationConfiguration, match="'p-pipeline'"):
        PipelineOperation("p", [bash("p-pipeline")])
    with pytest.raises(BadOperationConfiguration, match="'exit-handler'"):
        PipelineOperation("p", [bash("exit-handler")], on_exit_notify={})
    with pytest.raises(BadOperationConfiguration, match="task group 1 is empty"):
        SimpleDagOperation("s", bash("a"), [])
    with pytest.raises(TypeError, match="tasks\\[1\\] must be a Task"):
        PipelineOperation("p", [bash("a"), "b"])


@pytest.mark.parametrize("basename", ["Bad Name!", "-x", "x" * 58, ""])
def test_bad_basenames(basename):
    with pytest.raises(BadOperationConfiguration, match="basename"):
        PipelineOperation(basename, [bash("a")])


def test_basename_is_normalised_and_fits_the_generated_suffix():
    assert PipelineOperation("My_Op", [bash("a")]).to_workflow()["metadata"]["generateName"] == "my-op-"
    assert PipelineOperation("x" * 57, [bash("a")]).to_workflow()["metadata"]["generateName"] == "x" * 57 + "-"


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="shared_dir"):
        PipelineOperation("p", [bash("a")], shared_dir=True)
    with pytest.raises(TypeError, match="colour"):
        SingleTaskOperation("p", bash("a"), colour="red")


def test_compiling_twice_gives_identical_output_and_fresh_objects():
    op = DagOperation("d", [bash("a", volume_mounts=["claim:/data"]), bash("b")], dependencies={"b": ["a"]},
                      shared_directory=True, pod_context=PodExecutionContext("app", "x", True),
                      on_exit_notify={"queue": "q", "payload": {"k": 1}})
    first, second = op.to_workflow(), op.to_workflow()
    assert json.dumps(first) == json.dumps(second)
    assert op.to_yaml() == op.to_yaml()
    first["spec"]["templates"][1]["script"]["env"].clear()
    assert op.to_workflow() == second


def test_building_an_operation_never_mutates_tasks():
    tasks = [bash("a", volume_mounts=["claim:/data"], X=1), CustomTask("b", "busybox", retry_limit=2)]
    before = [copy.deepcopy(vars(task)) for task in tasks]
    op = PipelineOperation("p", tasks, shared_directory=True, pod_context=PodExecutionContext("k", "v"),
                           on_exit_notify={"queue": "q"})
    op.to_workflow()
    DistributedSyncOperationWithResults("r", tasks[1]).to_workflow()
    assert [vars(task) for task in tasks] == before
    assert "shared_directory" not in tasks[0].env


def test_defaults_are_not_shared_between_operations():
    one, two = PipelineOperation("one", [bash("a")]), PipelineOperation("two", [bash("a")])
    one.options.ttl_strategy["secondsAfterSuccess"] = 1
    assert two.options.ttl_strategy["secondsAfterSuccess"] == 1200
    assert one.options.ttl_strategy is not two.options.ttl_strategy


def test_yaml_has_no_aliases():
    op = ParallelOperation("p", [bash("a"), bash("b")], pod_context=PodExecutionContext("k", "v"))
    text = op.to_yaml()
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == op.to_workflow()


# --- ttl, pod gc and other options ------------------------------------------------------------------------------


def test_default_ttl_and_pod_gc():
    spec = PipelineOperation("p", [bash("a")]).to_workflow()["spec"]
    assert spec["ttlStrategy"] == {"secondsAfterCompletion": 3600, "secondsAfterSuccess": 1200, "secondsAfterFailure": 7200}
    assert spec["podGC"] == {"strategy": "OnWorkflowSuccess", "deleteDelayDuration": "1200s"}


def test_ttl_none_disables_removal_and_pod_gc_durations_are_strings():
    spec = PipelineOperation("p", [bash("a")], ttl_strategy=None, pod_gc={"strategy": "OnPodCompletion",
                                                                         "deleteDelayDuration": 30}).to_workflow()["spec"]
    assert "ttlStrategy" not in spec
    assert spec["podGC"] == {"strategy": "OnPodCompletion", "deleteDelayDuration": "30s"}
    spec = PipelineOperation("p", [bash("a")], ttl_strategy=None).to_workflow()["spec"]
    assert spec["podGC"]["deleteDelayDuration"] == "600s"
    assert "podGC" not in PipelineOperation("p", [bash("a")], pod_gc=None).to_workflow()["spec"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"ttl_strategy": {"secondsAfterSucces": 1}}, "secondsAfterSucces"),
        ({"ttl_strategy": {"secondsAfterSuccess": -1}}, "secondsAfterSuccess=-1"),
        ({"pod_gc": {"strategy": "Sometimes"}}, "'Sometimes'"),
        ({"pod_gc": {"deleteDelayDuration": "soon"}}, "'soon'"),
        ({"parallelism": 0}, "parallelism=0"),
        ({"active_deadline_seconds": "1h"}, "active_deadline_seconds='1h'"),
        ({"labels": {"bad key!": "x"}}, "bad key!"),
        ({"node_selector": {"disk": "not valid!"}}, "not valid!"),
        ({"service_account": "Bad_SA"}, "Bad_SA"),
        ({"tolerations": [{"key": "k", "operator": "Maybe"}]}, "'Maybe'"),
        ({"tolerations": [{"keys": "k"}]}, "'keys'"),
        ({"image_pull_secrets": ["ok", "Not OK"]}, "image_pull_secrets\\[1\\]"),
        ({"shared_volume_size": "big"}, "shared_volume_size='big'"),
        ({"shared_volume_size": 0}, "shared_volume_size=0"),
        ({"on_exit_notify": {"queue": "q", "topic": "t"}}, "'topic'"),
        ({"on_exit_notify": {"queue": "bad queue"}}, "'bad queue'"),
        ({"on_exit_notify": {"payload": object()}}, "payload"),
        ({"pod_context": [PodExecutionContext("k", "a"), PodExecutionContext("k", "b")]}, "two values"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(BadOperationConfiguration, match=message):
        PipelineOperation("p", [bash("a")], **options)


def test_workflow_level_options():
    workflow = PipelineOperation(
        "p", [bash("a")], parallelism=2, active_deadline_seconds=600, labels={"team": "data"},
        annotations={"note": "anything: goes"}, service_account="runner", node_selector={"disk": "ssd"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}], image_pull_secrets="regcred",
    ).to_workflow()
    spec = workflow["spec"]
    assert workflow["metadata"]["labels"] == {"team": "data"}
    assert workflow["metadata"]["annotations"] == {"note": "anything: goes"}
    assert spec["parallelism"] == 2 and spec["activeDeadlineSeconds"] == 600
    assert spec["serviceAccountName"] == "runner" and spec["nodeSelector"] == {"disk": "ssd"}
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]


# --- shared volumes ---------------------------------------------------------------------------------------------


def test_shared_directory_true_is_an_ephemeral_volume():
    workflow = PipelineOperation("p", [bash("a"), bash("b")], shared_directory=True).to_workflow()
    spec = workflow["spec"]
    assert spec["volumeClaimTemplates"] == [{
        "metadata": {"name": "mnt-shared"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}},
    }]
    assert "volumes" not in spec
    for name in ("a", "b"):
        template = templates_by_name(workflow)[name]
        assert template["script"]["volumeMounts"] == [{"name": "mnt-shared", "mountPath": "/mnt/shared"}]
        assert env_of(template)["shared_directory"] == "/mnt/shared"
        # ReadWriteOnce: the pods of one workflow stay on one node.
        assert required_terms(template) == [("harness-workflows/volume-mnt-shared", "{{workflow.name}}")]
        assert template["metadata"]["labels"] == {"harness-workflows/volume-mnt-shared": "{{workflow.name}}"}


def test_shared_volume_size():
    for size, expected in ((50, "50Mi"), ("1Gi", "1Gi")):
        spec = PipelineOperation("p", [bash("a")], shared_directory="/data", shared_volume_size=size).to_workflow()["spec"]
        assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == expected


def test_claim_shared_directory_on_a_single_task_operation():
    workflow = SingleTaskOperation("s", bash("a"), shared_directory="my-claim:/mnt/data").to_workflow()
    spec = workflow["spec"]
    assert spec["volumes"] == [{"name": "my-claim", "persistentVolumeClaim": {"claimName": "my-claim"}}]
    assert "volumeClaimTemplates" not in spec
    template = templates_by_name(workflow)["a"]
    assert env_of(template)["shared_directory"] == "/mnt/data"
    assert template["script"]["volumeMounts"] == [{"name": "my-claim", "mountPath": "/mnt/data"}]
    # as CloudHarness places it: the shared claim's affinity is the workflow's
    assert "affinity" not in template and required_terms(template, workflow) == [("usesvolume", "my-claim")]
    assert template["metadata"]["labels"] == {"usesvolume": "my-claim", "usesvolume-my-claim": "true"}


def test_read_only_and_rwx_claims():
    workflow = PipelineOperation("p", [bash("a")], shared_directory=["data:/in:ro", "scratch:/out:rwx"]).to_workflow()
    template = templates_by_name(workflow)["a"]
    assert template["script"]["volumeMounts"] == [
        {"name": "data", "mountPath": "/in", "readOnly": True},
        {"name": "scratch", "mountPath": "/out"},
    ]
    assert env_of(template)["shared_directory"] == "/in"
    assert required_terms(template, workflow) == [("usesvolume", "data")]  # rwx needs no affinity
    assert PREFERRED not in workflow["spec"]["affinity"]["podAffinity"]


def test_several_claims_at_once_and_task_volumes():
    op = PipelineOperation(
        "p",
        [bash("a", volume_mounts=["models:/models:ro"]), bash("b", volume_mounts=["/scratch"]), bash("c")],
        shared_directory=["data:/data"],
        pod_context=[PodExecutionContext("app", "api", required=True), PodExecutionContext("zone", "z1")],
    )
    workflow = op.to_workflow()
    by_name = templates_by_name(workflow)
    # a task's own claim comes first (CloudHarness's order); the shared claim becomes a preference
    assert required_terms(by_name["a"]) == [("app", "api"), ("usesvolume", "models")]
    # a task's own ephemeral volume is its pod's alone: no affinity of its own, the workflow's applies
    assert "affinity" not in by_name["b"] and "affinity" not in by_name["c"]
    assert required_terms(by_name["c"], workflow) == [("app", "api"), ("usesvolume", "data")]
    zone = {"weight": 100, "podAffinityTerm": {
        "labelSelector": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z1"]}]},
        "topologyKey": "kubernetes.io/hostname"}}
    assert workflow["spec"]["affinity"]["podAffinity"][PREFERRED] == [zone]
    assert by_name["a"]["affinity"]["podAffinity"][PREFERRED][0] == zone
    for template in (by_name["a"], by_name["b"], by_name["c"]):
        labels = template["metadata"]["labels"]
        assert labels["app"] == "api" and labels["zone"] == "z1" and labels["usesvolume-data"] == "true"
        # every required term selects a label the pod itself carries
        assert all(labels[key] == value for key, value in required_terms(template, workflow))
    assert [v["name"] for v in workflow["spec"]["volumes"]] == ["data", "models"]
    assert [v["metadata"]["name"] for v in workflow["spec"]["volumeClaimTemplates"]] == ["scratch"]
    assert by_name["a"]["script"]["volumeMounts"][1] == {"name": "models", "mountPath": "/models", "readOnly": True}


def test_no_empty_affinity_anywhere():
    workflow = PipelineOperation("p", [bash("a")], shared_directory="claim:/d:rwx").to_workflow()
    assert "affinity" not in templates_by_name(workflow)["a"]
    assert "affinity" not in workflow["spec"]
    workflow = PipelineOperation("p", [bash("a")], pod_context=PodExecutionContext("k", "v")).to_workflow()
    assert "affinity" not in templates_by_name(workflow)["a"]
    assert REQUIRED not in workflow["spec"]["affinity"]["podAffinity"]


def test_volume_names_are_unique_valid_and_stable():
    def volume_names() -> list[str]:
        # /Data-Dir, /data_dir and claim data-dir all slug to "data-dir": each gets a stable hash suffix.
        op = PipelineOperation("p", [bash("a", volume_mounts=["/data_dir"]),
                                     bash("b", volume_mounts=["data-dir:/x"])], shared_directory="/Data-Dir")
        spec = op.to_workflow()["spec"]
        return [v["metadata"]["name"] for v in spec["volumeClaimTemplates"]] + [v["name"] for v in spec["volumes"]]

    names = volume_names()
    assert len(set(names)) == 3
    assert all(re.fullmatch(r"data-dir-[0-9a-f]{8}", name) for name in names), names
    assert volume_names() == names  # a new operation from the same input: the same names
    assert PipelineOperation("p", [bash("a")], shared_directory="/data_dir").to_workflow()["spec"][
        "volumeClaimTemplates"][0]["metadata"]["name"] == "data-dir"  # no collision: no suffix
    long_claim = "c" * 200
    workflow = PipelineOperation("p", [bash("a")], shared_directory=f"{long_claim}:/d").to_workflow()
    volume = workflow["spec"]["volumes"][0]
    assert len(volume["name"]) <= 63 and volume["persistentVolumeClaim"]["claimName"] == long_claim
    labels = templates_by_name(workflow)["a"]["metadata"]["labels"]
    assert all(len(key) <= 63 and len(value) <= 63 for key, value in labels.items()), labels


@pytest.mark.parametrize(
    "shared, mounts, message",
    [
        ("a:b:c:d", None, "too many"),
        ("claim:/d:rx", None, "unknown mode 'rx'"),
        ("claim: ", None, "mount path is empty"),
        ("Bad_Claim:/d", None, "claim name"),
        ("/", None, "cannot mount"),
        (["c1:/d", "c2:/d"], None, "two volumes are mounted at '/d'"),
        ("/mnt/shared", ["claim:/mnt/shared"], "two volumes are mounted at '/mnt/shared'"),
        (["c:/a", "c:/b:rwx"], None, "ReadWriteMany"),
    ],
)
def test_bad_volumes(shared, mounts, message):
    with pytest.raises(BadOperationConfiguration, match=message):
        PipelineOperation("p", [bash("a", volume_mounts=mounts)], shared_directory=shared)


def test_same_volume_twice_in_a_pod_is_one_mount():
    op = PipelineOperation("p", [bash("a", volume_mounts=["c:/d"])], shared_directory="c:/d")
    assert templates_by_name(op.to_workflow())["a"]["script"]["volumeMounts"] == [{"name": "c", "mountPath": "/d"}]


def test_task_setting_shared_directory_env_conflicts():
    with pytest.raises(BadOperationConfiguration, match="shared_directory"):
        PipelineOperation("p", [bash("a", shared_directory="/x")], shared_directory=True)
    # the same value as the operation's is fine (CloudHarness's own tests do it), and given once
    template = templates_by_name(PipelineOperation(
        "p", [bash("a", shared_directory="/mnt/shared")], shared_directory=True).to_workflow())["a"]
    assert [item["name"] for item in template["script"]["env"]].count("shared_directory") == 1


# --- pod contexts, exit handler, sync operations ----------------------------------------------------------------


def test_pod_context_on_every_pod_including_the_exit_handler():
    op = ParallelOperation("p", [bash("a"), bash("b")], pod_context=PodExecutionContext("app", 42, True),
                           on_exit_notify={"queue": "done"})
    for name, template in templates_by_name(op.to_workflow()).items():
        assert template["metadata"]["labels"] == {"app": "42"}  # the steps template too, as CloudHarness
        assert "affinity" not in template
    assert required_terms({}, op.to_workflow()) == [("app", "42")]


def test_on_exit_notify_handler():
    workflow = PipelineOperation("p", [bash("a")], on_exit_notify={"queue": "results", "payload": {"id": 7}}).to_workflow()
    spec = workflow["spec"]
    assert spec["onExit"] == "exit-handler"
    handler = templates_by_name(workflow)["exit-handler"]
    assert handler["container"]["image"] == "workflows-notify-queue:latest"
    assert env_of(handler) == {"WORKFLOW_NAME": "{{workflow.name}}", "CH_WORKFLOW_NAME": "{{workflow.name}}-pod",
                               "workflow_result": "{{workflow.status}}", "queue_name": "results",
                               "payload": '{"id":7}', "WORKFLOWS_PAYLOAD_JSON": "true"}


def test_on_exit_notify_without_queue_or_payload_and_custom_image(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_REGISTRY", "reg.io")
    handler = templates_by_name(PipelineOperation("p", [bash("a")], on_exit_notify={}).to_workflow())["exit-handler"]
    assert handler["container"]["image"] == "reg.io/workflows-notify-queue:latest"
    assert env_of(handler) == {"WORKFLOW_NAME": "{{workflow.name}}", "CH_WORKFLOW_NAME": "{{workflow.name}}-pod",
                               "workflow_result": "{{workflow.status}}"}
    handler = templates_by_name(PipelineOperation("p", [bash("a")], on_exit_notify={"image": "me/notifier:1"}
                                                  ).to_workflow())["exit-handler"]
    assert handler["container"]["image"] == "me/notifier:1"


def test_sync_operations_compile():
    workflow = DistributedSyncOperation("s", CommandBasedTask("t", ["true"])).to_workflow()
    assert workflow["spec"]["entrypoint"] == "t"
    workflow = DistributedSyncOperationWithResults("r", bash("compute")).to_workflow()
    by_name = templates_by_name(workflow)
    assert [s[0]["name"] for s in by_name["r-pipeline"]["steps"]] == ["compute", "send-result-event"]
    assert by_name["send-result-event"]["container"]["image"].startswith("workflows-send-result-event:")
    assert env_of(by_name["compute"])["shared_directory"] == "/mnt/shared"
    assert env_of(by_name["send-result-event"])["shared_directory"] == "/mnt/shared"


def test_operations_module_exports_cloudharness_names():
    for name in ("PipelineOperation", "ParallelOperation", "SimpleDagOperation", "SingleTaskOperation",
                 "DistributedSyncOperation", "DistributedSyncOperationWithResults", "PodExecutionContext",
                 "BadOperationConfiguration", "AsyncOperation", "CompositeOperation", "DagOperation"):
        assert hasattr(operations, name)
    assert issubclass(BadOperationConfiguration, ValueError)


def test_submit_refuses_a_spec_over_one_mebibyte():
    from workflows.errors import InvalidWorkflowSpec

    tasks = [CustomTask(f"t{i}", "busybox", PAYLOAD="x" * 2000) for i in range(600)]
    op = ParallelOperation("big", tasks)
    assert len(json.dumps(op.to_workflow())) > 1024 * 1024  # rendering still works
    with pytest.raises(InvalidWorkflowSpec, match="1 MiB"):
        op.submit()
