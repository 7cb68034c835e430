"""Inside and outside a CloudHarness deployment: detection, what workflows carry, images, and the CloudHarness API
of tasks and operations (positional orders, attributes, methods)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ch_support import by_name, env_values, isolate, use_cloudharness_values
from conftest import add_application_task

from workflows import cloudharness, operations, tasks
from workflows.errors import BadOperationConfiguration, WorkflowsError

CH_VOLUMES = ["cloudharness-allvalues", "cloudharness-kc-accounts"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    return isolate(tmp_path, monkeypatch)


def compiled(**options) -> dict:
    task = tasks.CustomTask("t", "workflows-extract-download", volume_mounts=["data:/data"])
    return operations.PipelineOperation("p", [task, tasks.BashTask("b", "ls")], **options).to_workflow()


def cloudharness_traces(workflow: dict) -> list[str]:
    """Everything CloudHarness's deployment adds that appears in ``workflow``."""
    spec = workflow["spec"]
    found = [volume["name"] for volume in spec.get("volumes", ()) if volume["name"] in CH_VOLUMES]
    found += [t["key"] for t in spec.get("tolerations", ()) if t["key"] == "cloudharness/temporary-job"]
    found += [spec["serviceAccountName"]] if "serviceAccountName" in spec else []
    found += [secret["name"] for secret in spec.get("imagePullSecrets", ())]
    for template in spec["templates"]:
        body = template.get("container") or template.get("script") or {}
        found += [mount["mountPath"] for mount in body.get("volumeMounts", ())
                  if mount["mountPath"].startswith("/opt/cloudharness")]
        found += ["retry"] if "retryStrategy" in template else []
    return found


def test_outside_a_deployment_nothing_of_cloudharness():
    assert not cloudharness.enabled()
    workflow = compiled()
    assert cloudharness_traces(workflow) == []
    assert by_name(workflow)["t"]["container"]["image"] == "workflows-extract-download"
    assert by_name(workflow)["b"]["script"]["image"] == "python:3.12-slim"


def test_inside_a_deployment_every_pod_gets_its_values(tmp_path, monkeypatch):
    use_cloudharness_values(tmp_path, monkeypatch)
    workflow = compiled(on_exit_notify={"queue": "q"})
    spec = workflow["spec"]
    assert spec["serviceAccountName"] == "argo-workflows"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["tolerations"] == [{"key": "cloudharness/temporary-job", "operator": "Equal", "value": "true"}]
    assert spec["volumes"][:2] == [{"name": "cloudharness-allvalues", "configMap": {"name": "cloudharness-allvalues"}},
                                   {"name": "cloudharness-kc-accounts", "secret": {"secretName": "accounts"}}]
    for name in ("t", "b", "exit-handler"):
        body = by_name(workflow)[name].get("container") or by_name(workflow)[name]["script"]
        assert body["volumeMounts"][:2] == [
            {"name": "cloudharness-allvalues", "mountPath": "/opt/cloudharness/resources/allvalues.yaml",
             "subPath": "allvalues.yaml"},
            {"name": "cloudharness-kc-accounts", "mountPath": "/opt/cloudharness/resources/auth"},
        ]
    assert by_name(workflow)["t"]["retryStrategy"] == {"limit": 10}
    assert by_name(workflow)["t"]["container"]["image"] == (
        "registry.example.test/cloudharness/workflows-extract-download:1.0")
    assert by_name(workflow)["b"]["script"]["image"] == "registry.example.test/cloudharness/cloudharness-base:1.0"
    # the operation's own choices stay, CloudHarness's come first where both apply
    spec = compiled(service_account="mine", tolerations=[{"key": "gpu", "operator": "Exists"}],
                    image_pull_secrets=["other"])["spec"]
    assert spec["serviceAccountName"] == "mine"
    assert [t["key"] for t in spec["tolerations"]] == ["cloudharness/temporary-job", "gpu"]
    assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]
    given = [{"key": "gpu", "operator": "Exists"}, {"key": "cloudharness/temporary-job", "operator": "Equal",
                                                    "value": "true"}]
    assert compiled(tolerations=given, image_pull_secrets=["regcred"])["spec"]["tolerations"] == given  # not twice


def test_without_accounts_or_registry_secret(tmp_path, monkeypatch):
    use_cloudharness_values(tmp_path, monkeypatch, "namespace: ch\nregistry: {name: '', secret: ''}\napps: {}\n")
    spec = compiled()["spec"]
    assert [volume["name"] for volume in spec["volumes"]] == ["cloudharness-allvalues", "data"]
    assert "imagePullSecrets" not in spec
    assert not cloudharness.is_accounts_present()


def test_the_switch_overrides_detection(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKFLOWS_CLOUDHARNESS", "1")  # no values file: CloudHarness's fixed parts only
    assert "cloudharness-allvalues" in cloudharness_traces(compiled())
    use_cloudharness_values(tmp_path, monkeypatch)
    monkeypatch.setenv("WORKFLOWS_CLOUDHARNESS", "0")
    assert cloudharness_traces(compiled()) == []
    monkeypatch.setenv("WORKFLOWS_CLOUDHARNESS", "maybe")
    with pytest.raises(cloudharness.CloudHarnessConfigurationError, match="WORKFLOWS_CLOUDHARNESS='maybe'"):
        compiled()


def test_bad_values_are_named(tmp_path, monkeypatch):
    path = use_cloudharness_values(tmp_path, monkeypatch, "- a list\n")
    with pytest.raises(cloudharness.CloudHarnessConfigurationError, match="expected a YAML map"):
        compiled()
    path.write_text("apps: [unclosed\n")
    with pytest.raises(cloudharness.CloudHarnessConfigurationError, match=str(path)):
        compiled()


def test_images_resolve_as_cloudharness_resolves_them(tmp_path, monkeypatch, isolated):
    use_cloudharness_values(tmp_path, monkeypatch)
    assert cloudharness.image("samples") == "registry.example.test/cloudharness/samples:1.0"  # an application
    assert cloudharness.image("samples-sum") == "registry.example.test/cloudharness/samples-sum:1.0"  # its tasks
    assert cloudharness.image("cloudharness-flask") == "registry.example.test/cloudharness/cloudharness-flask:1.0"
    assert cloudharness.image("busybox:1.36") == "busybox:1.36"  # anything else: verbatim
    add_application_task(isolated, "myapp", "mytask")  # a local Dockerfile does not matter inside a deployment
    assert tasks.CustomTask("x", "myapp-mytask").image_name == "myapp-mytask"
    monkeypatch.setenv("WORKFLOWS_IMAGE", "mine:1")
    assert tasks.PythonTask("x", sample_function).image_name == "mine:1"


def sample_function():
    print("hello")


def test_results_inside_a_deployment_need_the_kafka_backend(tmp_path, monkeypatch):
    use_cloudharness_values(tmp_path, monkeypatch)
    op = operations.DistributedSyncOperationWithResults("r", tasks.CommandBasedTask("t", ["true"]))
    with pytest.raises(cloudharness.CloudHarnessEventsUnavailable, match="Kafka events backend") as raised:
        op.execute(timeout=5)
    assert isinstance(raised.value, WorkflowsError) and isinstance(raised.value, RuntimeError)
    assert op.persisted is None  # refused before anything was submitted


# --- CloudHarness's task API ------------------------------------------------------------------------------------


def test_positional_orders():
    custom = tasks.CustomTask("c", "busybox", {"limits": {"cpu": "1"}}, "Always", ["ls", "-la"], ENV_A=1)
    assert (custom.resources, custom.image_pull_policy, custom.command, custom.env) == (
        {"limits": {"cpu": "1"}}, "Always", ["ls", "-la"], {"ENV_A": "1"})
    container = tasks.ContainerizedTask("k", {"requests": {"memory": "1Gi"}}, "Never", ["run"], 3,
                                        {"activeDeadlineSeconds": 9}, image="busybox", X="y")
    spec = container.spec()
    assert spec["retryStrategy"] == {"limit": 3} and spec["activeDeadlineSeconds"] == 9
    assert spec["container"]["imagePullPolicy"] == "Never" and spec["container"]["command"] == ["run"]
    command = tasks.CommandBasedTask("cmd", ["echo", "hi"], {"limits": {"memory": "64Mi"}}, "IfNotPresent", Z=2)
    assert command.resources == {"limits": {"memory": "64Mi"}} and command.env == {"Z": "2"}
    inlined = tasks.InlinedTask("i", "print(1)")
    assert inlined.spec()["script"]["command"] == ["python"]

    class ShellTask(tasks.InlinedTask):
        command = "sh"  # CloudHarness's way of naming the interpreter

    assert ShellTask("s", "echo 1").spec()["script"]["command"] == ["sh"]
    with pytest.raises(BadOperationConfiguration, match="image=None"):
        tasks.ContainerizedTask("k")


def test_env_equality_metadata_and_affinity_of_a_task():
    task = tasks.CustomTask("t", "busybox", volume_mounts=["c1:/a", "c2:/b:ro", "shared:/s:rwx", "/tmp-vol"], A="1")
    task.add_env("B", 2)
    assert task.envs[:2] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    with pytest.raises(BadOperationConfiguration, match="'1B'"):
        task.add_env("1B", "x")
    assert task == tasks.BashTask("t", "ls") and hash(task) == hash("t") and task != "t"
    assert len({task, tasks.CustomTask("t", "other")}) == 1
    assert task.instance() == {"name": "t", "template": "t"}
    assert task.metadata_spec() == {"labels": {"usesvolume": "c1", "usesvolume-c1": "true", "usesvolume-c2": "true"}}
    required = task.affinity_spec()["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert [term["labelSelector"]["matchExpressions"][0]["values"] for term in required] == [["c1"]]
    assert tasks.BashTask("x", "ls").affinity_spec() == {} and tasks.BashTask("x", "ls").metadata_spec() == {}


def test_send_result_task():
    task = tasks.SendResultTask()
    assert (task.name, task.image_name) == ("send-result-event", "workflows-send-result-event:latest")


def test_template_overrides_from_an_sdk_model():
    models = pytest.importorskip("argo_workflows.model.io_argoproj_workflow_v1alpha1_template")
    retry = pytest.importorskip("argo_workflows.model.io_argoproj_workflow_v1alpha1_retry_strategy")
    model = models.IoArgoprojWorkflowV1alpha1Template(
        retry_strategy=retry.IoArgoprojWorkflowV1alpha1RetryStrategy(limit="4", retry_policy="OnError"),
        active_deadline_seconds="30", pod_spec_patch='{"hostNetwork": true}', node_selector={"disk_type": "ssd"},
    )
    spec = tasks.BashTask("t", "ls", template_overrides=model).spec()
    assert spec["retryStrategy"] == {"limit": "4", "retryPolicy": "OnError"}
    assert spec["activeDeadlineSeconds"] == "30" and spec["podSpecPatch"] == '{"hostNetwork": true}'
    assert spec["nodeSelector"] == {"disk_type": "ssd"}  # a map's keys stay as written


def test_template_overrides_light_model_drops_unset_fields_and_names_unknown_ones():
    model = tasks.V1alpha1Template(name=None, retry_strategy={"limit": "2", "backoff": None},
                                   metadata={"labels": {"team_name": "x"}}, host_aliases=[{"ip": "1.2.3.4",
                                                                                           "hostnames": ["a"]}])
    spec = tasks.BashTask("t", "ls", template_overrides=model).spec()
    assert spec["name"] == "t" and spec["retryStrategy"] == {"limit": "2"}
    assert spec["metadata"] == {"labels": {"team_name": "x"}} and spec["hostAliases"][0]["ip"] == "1.2.3.4"
    with pytest.raises(BadOperationConfiguration, match="unknown field 'retry_strategyy'"):
        tasks.BashTask("t", "ls", template_overrides=tasks.V1alpha1Template(retry_strategyy={}))
    with pytest.raises(TypeError, match="to_dict"):
        tasks.BashTask("t", "ls", template_overrides=["name"])


def test_importing_the_package_does_not_import_the_argo_sdk():
    code = ("import sys, workflows; from workflows import tasks, operations; tasks.V1alpha1Template(memoize=None); "
            "print('argo_workflows' in sys.modules, 'argo' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_renamed_templates_are_referenced_everywhere():
    renamed = tasks.BashTask("a", "ls", template_overrides={"name": "first"})
    for op in (operations.PipelineOperation("p", [renamed, tasks.BashTask("b", "ls")]),
               operations.DagOperation("d", [renamed, tasks.BashTask("b", "ls")], {"b": ["a"]}),
               operations.SingleTaskOperation("s", renamed)):
        workflow = op.to_workflow()
        names = set(by_name(workflow))
        assert "first" in names and "a" not in names
        steps = [step for template in workflow["spec"]["templates"]
                 for group in template.get("steps", ()) for step in group]
        steps += [task for template in workflow["spec"]["templates"]
                  for task in template.get("dag", {}).get("tasks", ())]
        assert all(step["template"] in names for step in steps) and workflow["spec"]["entrypoint"] in names
    with pytest.raises(BadOperationConfiguration, match="template name 'b'"):
        operations.PipelineOperation("p", [tasks.BashTask("a", "ls", template_overrides={"name": "b"}),
                                           tasks.BashTask("b", "ls")])


# --- CloudHarness's operation API -------------------------------------------------------------------------------


def test_operation_attributes():
    context = operations.PodExecutionContext("k", "v")
    op = operations.PipelineOperation("p", [tasks.BashTask("a", "ls")], ["claim:/d", "/e"], 50, context,
                                      on_exit_notify={"queue": "q"}, ttl_strategy=None)
    assert op.name == "p" and op.volumes == ["claim:/d", "/e"] and op.shared_volume_size == 50
    assert [(c.key, c.value, c.required) for c in op.pod_contexts] == [("k", "v", False), ("usesvolume", "claim", True)]
    assert op.ttl_strategy is None and op.pod_gc == {"strategy": "OnWorkflowSuccess", "deleteDelayDuration": "600s"}
    assert op.on_exit_notify == {"queue": "q"}
    assert op.entrypoint == "p-pipeline" and op.task_list() == (tasks.BashTask("a", "ls"),)
    assert op.spec() == op.to_workflow()["spec"] and op.templates == op.spec()["templates"]
    assert op.persisted is None and not op.is_running() and not op.is_error()
    with pytest.raises(operations.OperationNotSubmitted, match="get_operation_update_url"):
        op.get_operation_update_url()
    long_claim = "c" * 100
    (claim_context,) = operations.ParallelOperation("p", [tasks.BashTask("a", "ls")], f"{long_claim}:/d").pod_contexts
    assert claim_context.key == "usesvolume" and len(claim_context.value) <= 63  # the label the pods carry
    single = operations.SingleTaskOperation("s", tasks.BashTask("a", "ls"), context, "/x", {"strategy": "OnPodSuccess"})
    assert single.volumes == ["/x"] and single.pod_gc == {"strategy": "OnPodSuccess"}
    assert single.shared_volume_size == 10 and single.on_exit_notify is None


def test_modify_template_hook_sees_complete_templates():
    class Tagged(operations.ParallelOperation):
        def modify_template(self, template):
            template = super().modify_template(template)
            template.setdefault("metadata", {}).setdefault("annotations", {})["seen"] = template["name"]
            return template

    workflow = Tagged("p", [tasks.BashTask("a", "ls")], "claim:/d").to_workflow()
    for template in workflow["spec"]["templates"]:
        assert template["metadata"]["annotations"]["seen"] == template["name"]
    assert by_name(workflow)["a"]["script"]["volumeMounts"] == [{"name": "claim", "mountPath": "/d"}]


def test_cloudharness_exports():
    for name in ("CustomTask", "Task", "OperationStatus", "DirectOperation", "ResourceQueryOperation",
                 "DataQueryOperation", "DataFrameOperation", "ExecuteAndWaitOperation", "AsyncOperation",
                 "CompositeOperation", "SyncOperation", "ManagedOperation", "PodExecutionContext"):
        assert hasattr(operations, name), name
    assert operations.OperationStatus.RUNNING == "Running" and operations.OperationStatus.FAILED == "Failed"
    assert issubclass(operations.DataFrameOperation, operations.DistributedSyncOperation)
    assert operations.DataQueryOperation("q", lambda x: x * 2).execute(21) == 42
    assert tasks.SendResultTask and tasks.V1alpha1Template


def test_status_methods_and_update_url_on_the_local_backend(monkeypatch):
    op = operations.SingleTaskOperation("status", tasks.CommandBasedTask("t", ["sh", "-c", "exit 3"]))
    workflow = op.execute()
    assert op.get_operation_update_url() == f"workflows://local/operations/{workflow.name}"
    monkeypatch.setenv("WORKFLOWS_OPERATIONS_URL", "https://ops.example.test/")
    assert op.get_operation_update_url() == f"https://ops.example.test/operations/{workflow.name}"
    workflow.wait(60)
    assert not op.is_running() and op.is_error()
    assert op.persisted.status == operations.OperationStatus.FAILED
    op.refresh()
    assert op.persisted.name == workflow.name


def test_update_url_inside_a_deployment(tmp_path, monkeypatch):
    use_cloudharness_values(tmp_path, monkeypatch)
    from workflows import config

    assert config.operations_url() == "https://workflows.example.test"


def test_lint_warns_about_relative_mount_paths(tmp_path):
    from workflows.cli.lint import lint_file

    source = tmp_path / "ops.py"
    source.write_text("from workflows import operations, tasks\n"
                      "op = operations.SingleTaskOperation('s', tasks.BashTask('t', 'ls', volume_mounts=['a:b']))\n")
    problems, notes = lint_file(str(source))
    assert problems == []
    assert notes == [f"{source}:op: task 't': volume_mounts[0]: warning: 'a:/b' was written with a relative mount "
                     "path; mounted at '/b', as Kubernetes does"]
    raw = tmp_path / "wf.yaml"
    raw.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: w-}\n"
                   "spec:\n  entrypoint: main\n  volumes: [{name: v, emptyDir: {}}]\n  templates:\n"
                   "  - name: main\n    container: {image: busybox, volumeMounts: [{name: v, mountPath: data}]}\n")
    problems, notes = lint_file(str(raw))
    assert problems == []
    assert notes == [f"{raw}: spec.templates[0].container.volumeMounts[0].mountPath: warning: mount path 'data' "
                     "is relative; Kubernetes mounts it at '/data'"]


def test_env_of_a_task_inside_an_operation_keeps_the_callers_order():
    task = tasks.CustomTask("t", "busybox", Z="1", A="2")
    env = env_values(by_name(operations.PipelineOperation("p", [task], shared_directory=True).to_workflow())["t"])
    assert list(env)[:3] == ["Z", "A", "shared_directory"]
