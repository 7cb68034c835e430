"""CloudHarness's runtime API, as its tests, docs and samples controller call it: only the import changes.

Names ending in '-', results as a list of messages, exceptions both kinds of
code catch, ``Workflow.raw`` read like the argo SDK's model, ``workflows.utils``
and ``workflows.argo_service`` (from a service and from inside a running
task), the exit handler's variables, and ``get_workflows``' query arguments.
The runnable parts run on the local backend: real runner processes, real
pods (subprocesses), real SQLite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from workflows import argo, argo_service, operations, tasks, utils
from workflows.errors import BadOperationConfiguration
from workflows.events import EventClient

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60


@pytest.fixture(autouse=True)
def local_backend(tmp_path, monkeypatch):
    """A fresh state folder, the local backend, an empty applications folder; no caller's settings."""
    for variable in list(os.environ):
        if variable.startswith(("WORKFLOWS_", "ARGO_", "KAFKA_")):
            monkeypatch.delenv(variable)
    for variable in ("WORKFLOW_NAME", "CH_WORKFLOW_NAME", "shared_directory"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return tmp_path / "state"


def add_application_task(tmp_path: Path, app: str, task: str, dockerfile: str, files: dict[str, str]) -> None:
    """``<applications>/<app>/tasks/<task>/``: a Dockerfile and its build context."""
    folder = tmp_path / "applications" / app / "tasks" / task
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (folder / name).write_text(text)


def exit_handler_env(workflow: dict) -> dict[str, str]:
    (handler,) = [t for t in workflow["spec"]["templates"] if t["name"] == workflow["spec"]["onExit"]]
    return {entry["name"]: entry["value"] for entry in handler["container"]["env"]}


def noop():
    print("whatever")


# -- 1. names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda name: operations.DistributedSyncOperation(name, tasks.PythonTask("my-task", noop)),
    lambda name: operations.PipelineOperation(name, (tasks.PythonTask("step1", noop), tasks.PythonTask("step2", noop))),
    lambda name: operations.ParallelOperation(name, (tasks.PythonTask("p1", noop), tasks.PythonTask("p2", noop))),
    lambda name: operations.SimpleDagOperation(name, (tasks.PythonTask("p1", noop), tasks.PythonTask("p2", noop)),
                                               tasks.PythonTask("p3", noop)),
    lambda name: operations.DistributedSyncOperationWithResults(name, tasks.CustomTask("w", "busybox")),
])
def test_a_basename_ending_in_a_dash_is_the_generate_name(make):
    assert make("test-op-").to_workflow()["metadata"]["generateName"] == "test-op-"
    assert make("test-op").to_workflow()["metadata"]["generateName"] == "test-op-"
    assert make("Test_Op-").to_workflow()["metadata"]["generateName"] == "test-op-"


def test_the_entry_template_keeps_the_basename_as_given():
    op = operations.PipelineOperation("my-op-gpu-", [tasks.CustomTask("my-gpu", "busybox",
                                                                      resources={"limits": {"nvidia.com/gpu": 1}})])
    workflow = op.to_workflow()
    assert workflow["spec"]["entrypoint"] == "my-op-gpu--pipeline" == workflow["spec"]["templates"][0]["name"]
    assert workflow["spec"]["templates"][1]["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"


@pytest.mark.parametrize("basename, reason", [
    ("-", "without its trailing '-'"), ("a--", "without its trailing '-'"), ("a-b.-", "not a valid name"),
    ("x" * 57 + "-", None), ("x" * 58 + "-", "at most 57"), ("x" * 58, "at most 57"),
])
def test_other_name_rules_still_hold(basename, reason):
    task = tasks.BashTask("a", "true")
    if reason is None:
        assert operations.SingleTaskOperation(basename, task).to_workflow()["metadata"]["generateName"] == basename
        return
    with pytest.raises(BadOperationConfiguration, match=reason) as error:
        operations.SingleTaskOperation(basename, task)
    assert repr(basename) in str(error.value)


# -- 3. exceptions ----------------------------------------------------------------------------------


def test_bad_configuration_is_caught_as_runtime_error_and_as_value_error():
    task = tasks.BashTask("same", "true")
    for catch in (RuntimeError, ValueError, BadOperationConfiguration, operations.BadOperationConfiguration):
        with pytest.raises(catch, match="two tasks are named 'same'"):
            operations.PipelineOperation("dup-", [task, task])


def test_bad_query_parameters_raise_bad_param():
    with pytest.raises(argo_service.BadParam) as error:
        argo_service.get_workflows(status="Done")
    assert (error.value.status, error.value.param) == (400, "status")
    assert isinstance(error.value, argo.WorkflowException)
    for arguments, param in (({"limit": 0}, "limit"), ({"timeout_seconds": -1}, "timeout_seconds"),
                             ({"field_selector": "status.phase=Running"}, "field_selector"),
                             ({"field_selector": "metadata.name"}, "field_selector"),
                             ({"list_options_label_selector": "a in (b)"}, "list_options_label_selector")):
        with pytest.raises(argo.BadParam) as error:
            argo.get_workflows(**arguments)
        assert error.value.param == param and repr(next(iter(arguments.values()))) in str(error.value)
    with pytest.raises(TypeError, match="list_options_watch"):
        argo.get_workflows(list_options_watch=True)


def test_phase_keeps_its_legacy_names():
    phase = argo_service.Phase
    assert (phase.NodePending, phase.NodeRunning, phase.NodeSucceeded, phase.NodeSkipped, phase.NodeFailed,
            phase.NodeError) == phase.phases()


# -- 4. Workflow.raw --------------------------------------------------------------------------------

RAW = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "wf-abcde", "generateName": "wf-", "creationTimestamp": "2026-11-21T10:00:00Z",
                 "labels": {"workflows.argoproj.io/phase": "Succeeded"}},
    "spec": {"entrypoint": "main", "podGC": {"strategy": "OnWorkflowSuccess"},
             "templates": [{"name": "main", "container": {"image": "busybox", "imagePullPolicy": "Always"}}]},
    "status": {"phase": "Succeeded", "startedAt": "2026-11-21T10:00:00Z", "finishedAt": "2026-11-21T10:00:05Z",
               "nodes": {"wf-abcde": {"id": "wf-abcde", "displayName": "wf-abcde", "type": "Pod",
                                      "phase": "Succeeded", "outputs": {"exitCode": "0"}}}},
}


def test_raw_keeps_dict_access_and_reads_like_the_sdk_model():
    workflow = argo.Workflow(json.loads(json.dumps(RAW)))
    raw = workflow.raw
    assert raw == RAW and raw["metadata"]["name"] == "wf-abcde" and isinstance(raw, dict)
    assert json.loads(json.dumps(raw)) == RAW and "name: wf-abcde" in str(workflow)
    assert raw.metadata.name == "wf-abcde" and raw.metadata.namespace is None
    assert raw.metadata.creation_timestamp == datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    assert workflow.create_time == raw.metadata.creation_timestamp
    assert raw.metadata.labels == {"workflows.argoproj.io/phase": "Succeeded"}
    assert raw.api_version == "argoproj.io/v1alpha1" and raw.spec.pod_gc.strategy == "OnWorkflowSuccess"
    assert raw.spec.templates[0].container.image_pull_policy == "Always"
    assert raw.status.phase == "Succeeded"
    node = raw.status.nodes["wf-abcde"]
    assert (node.id, node.display_name, node.children, node.outputs.exit_code) == ("wf-abcde", "wf-abcde", None, "0")
    assert node.finished_at is None and raw.status.finished_at.second == 5
    with pytest.raises(AttributeError, match="no_such_field"):
        raw.metadata.no_such_field  # noqa: B018


def test_raw_to_dict_is_the_sdk_shape():
    raw = argo.Workflow(RAW).raw
    as_dict = raw.to_dict()
    assert set(as_dict) == {"api_version", "kind", "metadata", "spec", "status"}
    metadata = as_dict["metadata"]
    assert metadata["name"] == "wf-abcde" and metadata["generate_name"] == "wf-"
    assert metadata["creation_timestamp"] == datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    assert metadata["uid"] is None and metadata["labels"] == {"workflows.argoproj.io/phase": "Succeeded"}
    assert as_dict["spec"]["pod_gc"]["strategy"] == "OnWorkflowSuccess" and as_dict["spec"]["on_exit"] is None
    assert as_dict["status"]["nodes"]["wf-abcde"]["display_name"] == "wf-abcde"
    assert raw.to_str().startswith("{'api_version': 'argoproj.io/v1alpha1',")
    assert raw.metadata.to_dict() == metadata and RAW["metadata"]["creationTimestamp"] == "2026-11-21T10:00:00Z"


def test_search_result_raw_is_the_workflow_list():
    page = argo.SearchResult([RAW, {**RAW, "metadata": {"name": "wf-fghij"}}], "tok")
    assert [item.metadata.name for item in page.raw.items] == ["wf-abcde", "wf-fghij"]
    assert page.raw.metadata._continue == "tok" and page.raw.to_dict()["metadata"]["_continue"] == "tok"
    assert argo.SearchResult([], None).raw.metadata._continue is None


# -- 5. modules callers import ----------------------------------------------------------------------


def test_argo_service_has_the_argo_names_and_the_namespace():
    for name in ("get_workflows", "get_workflow", "submit_workflow", "delete_workflow", "get_workflow_logs",
                 "get_workflow_logs_list", "Phase", "Workflow", "SearchResult", "WorkflowNotFound",
                 "WorkflowException", "BadParam"):
        assert getattr(argo_service, name) is getattr(argo, name), name
    assert argo_service.namespace == "local"
    from workflows import argo_service as again

    assert again is argo_service


@pytest.mark.parametrize("volume, required", [("a", False), ("a:b", True), ("a:b:ro", True), ("a:b:rwx", False),
                                              ("claim:/mnt/data", True), ("/mnt/data", False)])
def test_volume_requires_affinity(volume, required):
    assert utils.volume_requires_affinity(volume) is required


def test_utils_names():
    assert utils.WORKFLOW_NAME_VARIABLE_NAME == "CH_WORKFLOW_NAME"
    assert utils.SHARED_DIRECTORY_VARIABLE_NAME == "shared_directory"
    context = utils.PodExecutionContext("a", "b", required=True)
    assert context == operations.PodExecutionContext("a", "b", True)


def test_importing_utils_stays_light():
    code = ("import sys, workflows.utils\n"
            "print(sorted(m for m in sys.modules if m.startswith(('workflows.operations', 'workflows.events',"
            " 'workflows.tasks', 'yaml', 'argo_workflows', 'kubernetes', 'kafka'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_get_workflow_name_outside_and_from_either_variable(monkeypatch):
    assert utils.get_workflow_name() is None and utils.get_shared_directory() is None
    monkeypatch.setenv("CH_WORKFLOW_NAME", "my-wf-x7k2p-pod")
    assert utils.get_workflow_name() == "my-wf-x7k2p"
    monkeypatch.setenv("WORKFLOW_NAME", "other-wf-abcde")
    assert utils.get_workflow_name() == "other-wf-abcde"


def probe_runtime():
    import json
    import os

    from workflows import utils

    ch_name = os.environ["CH_WORKFLOW_NAME"]  # CloudHarness's own rule: drop the last '-' segment
    answers = {
        "get_workflow_name": utils.get_workflow_name(),
        "get_shared_directory": utils.get_shared_directory(),
        "cloudharness_rule": ch_name[:-len(ch_name.split("-")[-1]) - 1],
    }
    utils.notify_queue("probe-queue", {"from": utils.get_workflow_name()})
    with open(os.path.join(utils.get_shared_directory(), "answers"), "w") as out:
        json.dump(answers, out)


def test_utils_from_inside_a_running_task(local_backend):
    op = operations.DistributedSyncOperationWithResults("probe-", tasks.PythonTask("probe", probe_runtime))
    (message,) = op.execute(WAIT)
    answers = json.loads(message["answers"])
    name = answers["get_workflow_name"]
    assert name.startswith("probe-") and len(name) == len("probe-") + 5
    # the volume's real mount path, inside the pod's sandbox
    assert answers.pop("get_shared_directory") == "/mnt/shared"
    assert answers == {"get_workflow_name": name, "cloudharness_rule": name}
    assert EventClient("probe-queue").consume_all(timeout=5) == [{"from": name}]
    assert argo.get_workflow(name).succeeded()


# -- 2. results -------------------------------------------------------------------------------------

SUM_DOCKERFILE = """FROM python:3.12-slim
ADD . /
ENV a 0
ENV b 0
CMD python main.py $a $b
"""
SUM_MAIN = """import os
import sys

from workflows.utils import get_shared_directory

a, b = float(sys.argv[1]), float(sys.argv[2])
with open(os.path.join(get_shared_directory(), "result"), "w") as out:
    out.write(str(a + b))
print("summed", a, b)
"""


@pytest.fixture
def samples_sum(tmp_path):
    """The samples application's ``sum`` task, rebuilt: image ``samples-sum``."""
    add_application_task(tmp_path, "samples", "sum", SUM_DOCKERFILE, {"main.py": SUM_MAIN})


def submit_sync_with_results(a=1, b=2):
    """The samples controller's flow, in CloudHarness's API."""
    task = tasks.CustomTask("test-sum", "samples-sum", a=a, b=b)
    op = operations.DistributedSyncOperationWithResults("test-sync-op-results-", task)
    result = op.execute()
    return result[0]["result"]


def test_samples_sync_with_results(samples_sum):
    assert submit_sync_with_results(1, 2) == "3.0"
    assert submit_sync_with_results(a=2.5, b=4) == "6.5"
    page = argo.get_workflows(limit=10)
    assert len(page.items) == 2 and all(w.name.startswith("test-sync-op-results-") for w in page.items)
    logs = argo.get_workflow_logs(page.items[0].name)
    assert "summed 2.5 4.0" in logs


def test_samples_sync_and_async_flows(tmp_path):
    add_application_task(tmp_path, "samples", "print-file", 'FROM python:3.12-slim\nADD . /\nCMD python main.py\n',
                         {"main.py": "import os\nprint(open(os.environ['file_path']).read())\n"})
    shared_directory = "/mnt/shared"
    task_write = tasks.BashTask("download-file", "echo downloaded > $shared_directory/README.md")
    task_print = tasks.CustomTask("print-file", "samples-print-file", file_path=shared_directory + "/README.md")
    op = operations.PipelineOperation("test-custom-connected-op-", (task_write, task_print),
                                      shared_directory=shared_directory)
    submitted = op.execute()
    assert submitted.name.startswith("test-custom-connected-op-")
    assert argo.wait_workflow(submitted.name, WAIT).succeeded()
    assert "downloaded" in argo.get_workflow_logs(submitted.name)

    workflow = operations.DistributedSyncOperation("test-sync-op-", tasks.BashTask("download-file", "true")).execute()
    assert workflow.status != "Error"
    answer = workflow.raw.to_dict()
    assert answer["metadata"]["name"] == workflow.name and answer["status"]["phase"] == "Succeeded"


def many_files():
    import os

    shared = os.environ["shared_directory"]
    for name, text in (("b.txt", "second"), ("a.txt", "first"), ("big.bin", "x" * (2**20 + 1)), (".hidden", "h")):
        with open(os.path.join(shared, name), "w") as out:
            out.write(text)
    os.mkdir(os.path.join(shared, "folder"))


def test_results_are_one_message_per_file_and_oversize_files_say_so():
    op = operations.DistributedSyncOperationWithResults("files-", tasks.PythonTask("write", many_files))
    assert op.execute(WAIT) == [{"a.txt": "first"}, {"b.txt": "second"}, {"big.bin": "Error: size exceeded"}]


def test_no_results_raise_a_runtime_error():
    op = operations.DistributedSyncOperationWithResults("empty-", tasks.BashTask("nothing", "true"))
    with pytest.raises(RuntimeError, match="put no result in the queue") as error:
        op.execute(WAIT)
    assert isinstance(error.value, argo.WorkflowResultsMissing) and isinstance(error.value, argo.WorkflowException)
    assert argo.get_workflow(error.value.name).succeeded()

    failing = operations.DistributedSyncOperationWithResults("fails-", tasks.BashTask("boom", "exit 3"))
    with pytest.raises(RuntimeError, match="ended Failed"):
        failing.execute(WAIT)


def test_sync_with_results_timeout_still_raises_timeout_error():
    op = operations.DistributedSyncOperationWithResults("slow-", tasks.BashTask("slow", "sleep 30"))
    with pytest.raises(TimeoutError, match="slow-") as error:
        op.execute(timeout=0.5)
    name = str(error.value).split("'")[1]
    argo.delete_workflow(name)


# -- 8. exit handler --------------------------------------------------------------------------------


@pytest.mark.parametrize("notify, expected", [
    ({"image": "my-custom-exit-handler"}, {}),
    ({"queue": "my_queue", "payload": '{"test": true}', "image": "custom-image"},
     {"queue_name": "my_queue", "payload": '{"test": true}'}),
    ({"image": "my-custom-image", "queue": "my_queue"}, {"queue_name": "my_queue"}),
])
def test_exit_handler_env_is_what_cloudharness_images_read(notify, expected):
    op = operations.PipelineOperation("test-exit-", [tasks.PythonTask("test-task", noop)], on_exit_notify=notify)
    workflow = op.to_workflow()
    assert workflow["spec"]["onExit"] == "exit-handler"
    env = exit_handler_env(workflow)
    assert env.pop("workflow_result") == "{{workflow.status}}"
    assert {name: env[name] for name in ("queue_name", "payload") if name in env} == expected
    (handler,) = [t for t in workflow["spec"]["templates"] if t["name"] == "exit-handler"]
    assert notify["image"] in handler["container"]["image"]


def test_exit_handler_default_image():
    op = operations.PipelineOperation("test-default-exit", [tasks.PythonTask("test-task", noop)],
                                      on_exit_notify={"queue": "my_queue", "payload": '{"test": true}'})
    (handler,) = [t for t in op.to_workflow()["spec"]["templates"] if t["name"] == "exit-handler"]
    assert "workflows-notify-queue" in handler["container"]["image"]


PAYLOAD = '{"insert": 1} it\'s "quoted"\nsecond line'
CUSTOM_NOTIFIER = """import os

from workflows.utils import notify_queue

message = {"status": os.environ["workflow_result"], "payload": os.environ["payload"],
           "workflow": os.environ["CH_WORKFLOW_NAME"]}
notify_queue(os.environ["queue_name"], message)
"""


def test_a_notifier_image_written_for_cloudharness_gets_the_payload_intact(tmp_path):
    add_application_task(tmp_path, "mine", "notifier", 'FROM python:3.12-slim\nADD . /\nCMD ["python", "/main.py"]\n',
                         {"main.py": CUSTOM_NOTIFIER})
    op = operations.SingleTaskOperation("custom-exit-", tasks.BashTask("a", "true"),
                                        on_exit_notify={"queue": "my_queue", "payload": PAYLOAD, "image": "mine-notifier"})
    workflow = op.execute().wait(WAIT)
    assert workflow.succeeded()
    (message,) = EventClient("my_queue").consume_all(timeout=5)
    assert message == {"status": "Succeeded", "payload": PAYLOAD, "workflow": f"{workflow.name}-pod"}


@pytest.mark.parametrize("payload", [PAYLOAD, '{"insert": 1}', "42", {"insert": 1, "text": "a b"}])
def test_the_builtin_notifier_publishes_the_payload_as_given(payload):
    op = operations.SingleTaskOperation("builtin-exit-", tasks.BashTask("a", "exit 1"),
                                        on_exit_notify={"queue": "my_queue", "payload": payload})
    workflow = op.execute().wait(WAIT)
    assert workflow.failed()
    assert EventClient("my_queue").consume_all(timeout=5) == [
        {"workflow": workflow.name, "status": "Failed", "payload": payload}]


# -- 9. query API -----------------------------------------------------------------------------------


def test_get_workflows_with_cloudharness_arguments():
    names = [operations.SingleTaskOperation(f"q{index}-", tasks.BashTask("a", "true"),
                                            labels={"group": "even" if index % 2 == 0 else "odd"}).execute().name
             for index in range(4)]
    for name in names:
        argo.wait_workflow(name, WAIT)
    everything = argo.get_workflows(limit=10, timeout_seconds=3)
    assert [w.name for w in everything.items] == names[::-1]

    (only,) = argo.get_workflows(field_selector=f"metadata.name={names[1]}").items
    assert only.name == names[1] and only.succeeded()
    assert argo.get_workflows(field_selector="metadata.name=nothing-here").items == ()
    assert argo.get_workflows(status="Failed", field_selector=f"metadata.name={names[1]}").items == ()
    assert [w.name for w in argo.get_workflows(field_selector="metadata.namespace=local").items] == names[::-1]
    assert argo.get_workflows(field_selector="metadata.namespace=default").items == ()
    others = argo.get_workflows(field_selector=f"metadata.name!={names[3]},metadata.namespace==local", limit=2)
    assert [w.name for w in others.items] == [names[2], names[1]] and others.continue_token
    rest = argo.get_workflows(field_selector=f"metadata.name!={names[3]}", limit=2,
                              continue_token=others.continue_token)
    assert [w.name for w in rest.items] == [names[0]] and rest.continue_token is None
    even = argo.get_workflows(list_options_label_selector="group=even")
    assert [w.name for w in even.items] == [names[2], names[0]]
    assert [w.name for w in argo.get_workflows(list_options_label_selector="group,!missing,group!=even").items] == [
        names[3], names[1]]


def test_fields_trims_the_answer():
    name = operations.SingleTaskOperation("f-", tasks.BashTask("a", "true")).execute().wait(WAIT).name
    (item,) = argo.get_workflows(fields="items.metadata.name,items.status.phase").items
    assert item.raw == {"metadata": {"name": name}, "status": {"phase": "Succeeded"}}
    assert (item.name, item.status, item.create_time) == (name, "Succeeded", None)
    (item,) = argo.get_workflows(fields="-items.status.nodes,items.spec").items
    assert set(item.raw) == {"apiVersion", "kind", "metadata", "status"} and "nodes" not in item.raw["status"]
    operations.SingleTaskOperation("g-", tasks.BashTask("a", "true")).execute().wait(WAIT)
    page = argo.get_workflows(limit=1, fields="metadata,items.metadata.name")
    assert page.continue_token and list(page.items[0].raw) == ["metadata"]
    assert argo.get_workflows(limit=1, fields="items.metadata.name").continue_token is None  # as Argo: not kept


def test_the_docs_query_examples():
    from workflows.argo import Phase, V1alpha1Workflow, V1alpha1WorkflowList, Workflow, get_workflow, get_workflows

    from workflows.backends import get_backend

    argo.wait_workflow(operations.SingleTaskOperation("done-", tasks.BashTask("a", "true")).execute().name, WAIT)
    running = operations.SingleTaskOperation("docs-", tasks.BashTask("a", "sleep 30")).execute()
    for state in get_backend().watch(running.name, WAIT):  # each change, no polling
        if any(node.get("type") == "Pod" for node in state["status"].get("nodes", {}).values()):
            break
    workflow_list: V1alpha1WorkflowList = get_workflows(status=Phase.Running, limit=10)
    workflows: list[V1alpha1Workflow] = workflow_list.items
    assert [w.name for w in workflows] == [running.name] and len(workflow_list) == 1
    assert isinstance(workflow_list.raw, V1alpha1WorkflowList) and isinstance(workflows[0].raw, V1alpha1Workflow)
    assert workflow_list.raw.items[0].status.phase == "Running"

    wf: Workflow = get_workflow(workflow_name=running.name)
    raw_workflow = wf.raw
    assert raw_workflow.metadata.name == wf.name and wf.status == "Running" and not wf.succeeded()
    assert len(wf.pod_names) == 1 and raw_workflow.status.nodes[wf.pod_names[0]].children is None
    argo.delete_workflow(running.name)
