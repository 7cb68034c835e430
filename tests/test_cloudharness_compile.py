"""What CloudHarness's own unit tests of its workflows package expect of a compiled spec, checked here.

CloudHarness runs ``libraries/cloudharness-common/tests/test_workflow.py`` and
``test_on_exit_notify.py`` with its test values (so, inside a CloudHarness
deployment as far as the library can tell). The same calls are made here with a
values file of our own (``tests/cloudharness/values.yaml``, with the accounts
application), and the same facts about the spec are checked — except the
CloudHarness defects this project fixes, each checked the other way round:
``readOnly`` (not ``readonly``), one required ``usesvolume`` term (not one per
claim, which no pod can meet), and ``memoize=True`` refused (Argo's memoize is
an object); and the retry limit, a string as Argo's official schema types it
(CloudHarness compares it with the int 10).
"""

from __future__ import annotations

import pytest
from ch_support import DASHES, by_name, env_values, isolate, use_cloudharness_values

from workflows import cloudharness, operations, tasks
from workflows.errors import BadOperationConfiguration

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
README_URL = "https://raw.githubusercontent.com/openworm/org.geppetto/master/README.md"


@pytest.fixture(autouse=True)
def inside_cloudharness(tmp_path, monkeypatch):
    isolate(tmp_path, monkeypatch)
    use_cloudharness_values(tmp_path, monkeypatch)


def sleeper():
    import time

    time.sleep(2)
    print("whatever")


def first_required(affinity: dict) -> dict:
    return affinity["podAffinity"][REQUIRED][0]["labelSelector"]["matchExpressions"][0]


def downloader(**options) -> tasks.CustomTask:
    return operations.CustomTask("download-file", "workflows-extract-download", url=README_URL, **options)


def test_the_values_file_is_detected_with_the_accounts_application():
    assert cloudharness.enabled() and cloudharness.is_accounts_present()
    assert cloudharness.namespace() == "ch" and cloudharness.registry_secret() == "regcred"


@pytest.mark.parametrize("dash", DASHES)
def test_basic_operations_compile(dash):
    pipeline = operations.PipelineOperation(f"test-pipeline-op{dash}", (tasks.PythonTask("step1", sleeper),
                                                                      tasks.PythonTask("step2", sleeper)))
    parallel = operations.ParallelOperation(f"test-parallel-op{dash}", (tasks.PythonTask("p1", sleeper),
                                                                      tasks.PythonTask("p2", sleeper)))
    dag = operations.SimpleDagOperation(f"test-dag-op{dash}", (tasks.PythonTask("p1", sleeper),
                                                              tasks.PythonTask("p2", sleeper)),
                                        tasks.PythonTask("p3", sleeper))
    sync = operations.DistributedSyncOperation(f"test-sync-op{dash}", tasks.PythonTask("my-task", sleeper))
    results = operations.DistributedSyncOperationWithResults(f"test-sync-results{dash}", downloader())
    for op in (pipeline, parallel, dag, sync, results):
        workflow = op.to_workflow()
        assert workflow["kind"] == "Workflow" and "spec" in workflow
        generate_name = workflow["metadata"]["generateName"]
        assert generate_name.startswith("test-") and generate_name.endswith("-") and not generate_name.endswith("--")


def test_template_overrides_from_the_template_model():
    # CloudHarness's test passes memoize=True, which Argo refuses (memoize is {key, cache, maxAge}): refused here.
    with pytest.raises(BadOperationConfiguration, match="memoize=True"):
        downloader(template_overrides=tasks.V1alpha1Template(memoize=True, name="aaa"))
    memoize = {"key": "{{workflow.name}}", "cache": {"config_map": {"name": "download-cache", "key": "k"}},
               "max_age": "1h"}
    task = downloader(template_overrides=tasks.V1alpha1Template(memoize=memoize, name="aaa"))
    workflow = operations.SingleTaskOperation("test-custom-op", task).to_workflow()
    template = workflow["spec"]["templates"][0]
    # CloudHarness's retry limit of 10, written as Argo's official schema types it (IntOrString: a string);
    # CloudHarness's test compares with the int 10 (docs/cloudharness.md lists the difference).
    assert template["retryStrategy"]["limit"] == 10
    assert template["name"] == "aaa" and workflow["spec"]["entrypoint"] == "aaa"  # renamed everywhere
    assert template["memoize"] == {"key": "{{workflow.name}}",
                                   "cache": {"configMap": {"name": "download-cache", "key": "k"}}, "maxAge": "1h"}


def test_tasks_may_repeat_the_operation_shared_directory():
    shared_directory = "/mnt/shared"
    write = operations.CustomTask("download-file", "workflows-extract-download", shared_directory=shared_directory,
                                  url=README_URL)
    show = operations.CustomTask("print-file", "workflows-print-file", shared_directory=shared_directory,
                                 file_path=shared_directory + "/README.md")
    op = operations.PipelineOperation("test-custom-connected-op", (write, show), shared_directory=shared_directory,
                                      shared_volume_size=100)
    workflow = op.to_workflow()
    assert workflow["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "100Mi"
    assert env_values(by_name(workflow)["print-file"])["shared_directory"] == "/mnt/shared"


def test_single_task_with_a_shared_claim():
    op = operations.SingleTaskOperation("test-custom-connected-op", downloader(),
                                        shared_directory="myclaim:/mnt/shared", shared_volume_size=100)
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 1
    assert [volume["name"] for volume in spec["volumes"]] == ["cloudharness-allvalues", "cloudharness-kc-accounts",
                                                              "myclaim"]
    assert spec["tolerations"][0] == {"key": "cloudharness/temporary-job", "operator": "Equal", "value": "true"}
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    assert spec["volumes"][1]["secret"]["secretName"] == "accounts"
    template = spec["templates"][0]
    assert len(template["container"]["volumeMounts"]) == 3
    assert template["metadata"]["labels"]["usesvolume"] == "myclaim"
    expression = first_required(spec["affinity"])
    assert expression["key"] == "usesvolume" and expression["values"][0] == "myclaim"


def test_pipeline_with_a_shared_claim():
    op = operations.PipelineOperation("test-custom-connected-op", [downloader(), tasks.BashTask("print-file",
                                                                                              source="ls -la")],
                                      shared_directory="myclaim:/mnt/shared", shared_volume_size=100)
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 1 and len(spec["volumes"]) == 3
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    assert spec["volumes"][1]["secret"]["secretName"] == "accounts"
    assert len(spec["templates"][1]["container"]["volumeMounts"]) == 3
    assert spec["templates"][1]["metadata"]["labels"]["usesvolume"] == "myclaim"
    assert spec["templates"][2]["metadata"]["labels"]["usesvolume"] == "myclaim"
    expression = first_required(spec["affinity"])
    assert (expression["key"], expression["values"][0]) == ("usesvolume", "myclaim")


def test_a_read_write_many_claim_needs_no_affinity():
    op = operations.SingleTaskOperation("test-custom-connected-op", downloader(),
                                        shared_directory="myclaim:/mnt/shared:rwx", shared_volume_size=100)
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 1 and len(spec["volumes"]) == 3
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    assert len(spec["templates"][0]["container"]["volumeMounts"]) == 3
    assert "affinity" not in spec


def test_a_task_claim_with_a_relative_mount_path():
    op = operations.SingleTaskOperation("test-custom-connected-op", downloader(volume_mounts=["a:b"]),
                                        shared_volume_size=100)
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 0 and len(spec["volumes"]) == 3
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "a"
    template = spec["templates"][0]
    assert len(template["container"]["volumeMounts"]) == 3
    assert template["container"]["volumeMounts"][2]["mountPath"] == "/b"  # where the kubelet mounts 'b'
    assert "affinity" not in spec
    expression = first_required(template["affinity"])
    assert (expression["key"], expression["values"][0]) == ("usesvolume", "a")
    assert template["metadata"]["labels"]["usesvolume"] == "a"


def test_a_task_claim_next_to_a_shared_claim():
    op = operations.SingleTaskOperation("test-custom-connected-op", downloader(volume_mounts=["a:b"]),
                                        shared_volume_size=100, shared_directory="myclaim:/mnt/shared")
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 1 and len(spec["volumes"]) == 4
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    template = spec["templates"][0]
    assert len(template["container"]["volumeMounts"]) == 4
    expression = first_required(spec["affinity"])
    assert (expression["key"], expression["values"][0]) == ("usesvolume", "myclaim")
    expression = first_required(template["affinity"])
    assert (expression["key"], expression["values"][0]) == ("usesvolume", "a")
    assert template["metadata"]["labels"]["usesvolume"]


def test_several_shared_claims():
    op = operations.SingleTaskOperation("test-custom-connected-op", downloader(),
                                        shared_directory=["myclaim:/mnt/shared", "myclaim2:/mnt/shared2:ro"])
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 2 and len(spec["volumes"]) == 4
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    mounts = spec["templates"][0]["container"]["volumeMounts"]
    assert len(mounts) == 4
    # CloudHarness writes 'readonly', which Kubernetes ignores: here the field Kubernetes reads.
    assert mounts[3]["readOnly"] is True and "readonly" not in mounts[3]
    assert spec["templates"][0]["metadata"]["labels"]["usesvolume"]
    # CloudHarness requires two usesvolume terms (myclaim, myclaim2) that no pod can meet: one here, the
    # other claim preferred (tests/test_cloudharness_affinity.py judges where the pods can go).
    required = spec["affinity"]["podAffinity"][REQUIRED]
    assert len(required) == 1
    expression = first_required(spec["affinity"])
    assert (expression["key"], expression["values"][0]) == ("usesvolume", "myclaim")
    preferred = [term["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]
                 for term in spec["affinity"]["podAffinity"][PREFERRED]]
    assert {"key": "usesvolume-myclaim2", "operator": "In", "values": ["true"]} in preferred


def test_a_script_task_with_a_shared_claim():
    op = operations.SingleTaskOperation("test-custom-connected-op", tasks.BashTask("download-file", source="ls -la"),
                                        shared_directory="myclaim:/mnt/shared", shared_volume_size=100)
    spec = op.to_workflow()["spec"]
    assert len(op.volumes) == 1 and len(spec["volumes"]) == 3
    assert spec["volumes"][2]["persistentVolumeClaim"]["claimName"] == "myclaim"
    assert len(spec["templates"][0]["script"]["volumeMounts"]) == 3


def test_pod_contexts():
    def parallel(context):
        return operations.ParallelOperation("test-parallel-op", (tasks.PythonTask("p1", sleeper),
                                                                 tasks.PythonTask("p2", sleeper)),
                                            pod_context=context).to_workflow()

    workflow = parallel(operations.PodExecutionContext("a", "b"))
    term = workflow["spec"]["affinity"]["podAffinity"][PREFERRED][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchExpressions"][0] == {"key": "a", "operator": "In", "values": ["b"]}
    assert all(template["metadata"]["labels"]["a"] == "b" for template in workflow["spec"]["templates"])

    workflow = parallel(operations.PodExecutionContext("a", "b", required=True))
    assert first_required(workflow["spec"]["affinity"]) == {"key": "a", "operator": "In", "values": ["b"]}
    assert all(template["metadata"]["labels"]["a"] == "b" for template in workflow["spec"]["templates"])

    workflow = parallel((operations.PodExecutionContext("a", "b"),
                         operations.PodExecutionContext("c", "d", required=True),
                         operations.PodExecutionContext("e", "f")))
    preferred = workflow["spec"]["affinity"]["podAffinity"][PREFERRED]
    assert [term["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]["key"] for term in preferred] == ["a", "e"]
    assert preferred[1]["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]["values"] == ["f"]
    for template in workflow["spec"]["templates"]:
        assert template["metadata"]["labels"]["a"] == "b" and template["metadata"]["labels"]["e"] == "f"
    assert first_required(workflow["spec"]["affinity"]) == {"key": "c", "operator": "In", "values": ["d"]}


@pytest.mark.parametrize("dash", DASHES)
def test_gpu_resources(dash):
    task = tasks.CustomTask("my-gpu", "myapp-mytask", resources={"limits": {"nvidia.com/gpu": 1}})
    workflow = operations.PipelineOperation(f"my-op-gpu{dash}", [task]).to_workflow()
    assert "nvidia.com/gpu" in workflow["spec"]["templates"][1]["container"]["resources"]["limits"]


# --- test_on_exit_notify.py ------------------------------------------------------------------------------------

def exit_handler(on_exit_notify: dict, basename: str) -> tuple[dict, dict]:
    op = operations.PipelineOperation(basename, [tasks.PythonTask("test-task", sleeper)], on_exit_notify=on_exit_notify)
    workflow = op.to_workflow()
    assert workflow["spec"]["onExit"] == "exit-handler"
    handler = by_name(workflow)["exit-handler"]
    return handler, env_values(handler)


def test_exit_handler_images():
    handler, _ = exit_handler({"image": "my-custom-exit-handler"}, "test-custom-exit")
    assert "my-custom-exit-handler" in handler["container"]["image"]
    handler, _ = exit_handler({"queue": "my_queue", "payload": '{"test": true}'}, "test-default-exit")
    assert "workflows-notify-queue" in handler["container"]["image"]
    # inside the deployment, the image CloudHarness's values name
    assert handler["container"]["image"] == "registry.example.test/cloudharness/workflows-notify-queue:1.0"


def test_exit_handler_with_a_custom_image_only():
    _, env = exit_handler({"image": "my-custom-exit-handler"}, "test-custom-exit")
    assert env["workflow_result"] == "{{workflow.status}}"
    assert "queue_name" not in env and "payload" not in env


def test_exit_handler_with_queue_and_payload():
    _, env = exit_handler({"queue": "my_queue", "payload": '{"test": true}', "image": "custom-image"},
                          "test-traditional-exit")
    assert env["workflow_result"] == "{{workflow.status}}"
    assert env["queue_name"] == "my_queue" and env["payload"] == '{"test": true}'


def test_exit_handler_with_a_queue_only():
    _, env = exit_handler({"image": "my-custom-image", "queue": "my_queue"}, "test-mixed-exit")
    assert "workflow_result" in env and env["queue_name"] == "my_queue" and "payload" not in env
