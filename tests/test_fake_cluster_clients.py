"""FakeCluster driven by the real clients over real HTTP: the ``kubernetes`` client (CustomObjectsApi, CoreV1Api,
``watch.Watch``) on the Kubernetes API paths, and the ``argo-workflows`` SDK's ``ApiClient.call_api`` on Argo
Server's paths (create, list with fields and pages, get, delete, stop, logs, the event stream, errors)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import urllib3

from workflows.testing import FakeCluster

kubernetes = pytest.importorskip("kubernetes")
argo_workflows = pytest.importorskip("argo_workflows")

from argo_workflows.api_client import ApiClient as ArgoApiClient  # noqa: E402
from argo_workflows.configuration import Configuration as ArgoConfiguration  # noqa: E402
from argo_workflows.exceptions import ApiException as ArgoApiException  # noqa: E402
from kubernetes import client as kube_client  # noqa: E402
from kubernetes import config as kube_config  # noqa: E402
from kubernetes import watch as kube_watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflows"
FINISHED = ("Succeeded", "Failed", "Error")
TIMEOUT = 60


@pytest.fixture
def cluster(tmp_path):
    with FakeCluster(tmp_path / "cluster", token="t0ken") as running:
        yield running


@pytest.fixture
def kube(cluster, tmp_path):
    """An ApiClient configured from a kubeconfig the cluster wrote (as the kubernetes backend would be)."""
    path = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    api_client = kube_config.new_client_from_config(config_file=str(path))
    yield api_client
    api_client.close()


@pytest.fixture
def argo(cluster):
    """The argo-workflows SDK's ApiClient for the cluster, with its bearer token."""
    configuration = ArgoConfiguration(host=cluster.url)
    configuration.api_key["BearerToken"] = "t0ken"
    configuration.api_key_prefix["BearerToken"] = "Bearer"
    api_client = ArgoApiClient(configuration)
    yield api_client
    api_client.close()


def workflow(script: str = "echo hello; echo world", name: str | None = None, **labels: str) -> dict[str, Any]:
    """A one-pod workflow running ``script`` with sh (a task written by these tests)."""
    metadata: dict[str, Any] = {"name": name} if name else {"generateName": "client-"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": metadata,
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine", "command": ["sh", "-c", script]}}]}}


# --- the kubernetes client -------------------------------------------------------------------------------------------


def test_kubernetes_client_create_get_list_patch_delete(cluster, kube):
    cluster.controller = False
    api = kube_client.CustomObjectsApi(kube)
    created = [api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, workflow(team=team))
               for team in ("a", "b", "a")]
    names = [item["metadata"]["name"] for item in created]
    assert all(name.startswith("client-") and len(name) == len("client-") + 5 for name in names)
    assert api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, names[1]) == created[1]
    selected = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, label_selector="team=a")
    assert sorted(item["metadata"]["name"] for item in selected["items"]) == sorted([names[0], names[2]])
    by_name = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL,
                                                field_selector=f"metadata.name={names[1]}")
    assert [item["metadata"]["name"] for item in by_name["items"]] == [names[1]]
    seen, token = [], None
    while True:
        page = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, limit=2,
                                                 **({"_continue": token} if token else {}))
        seen += [item["metadata"]["name"] for item in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert sorted(seen) == sorted(names)
    patched = api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, names[0],
                                                 {"metadata": {"labels": {"team": "c"}}})
    assert patched["metadata"]["labels"]["team"] == "c"
    deleted = api.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, names[0])
    assert deleted["metadata"]["name"] == names[0]
    with pytest.raises(ApiException) as raised:
        api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, names[0])
    assert raised.value.status == 404
    assert json.loads(raised.value.body)["reason"] == "NotFound"
    with pytest.raises(ApiException) as raised:
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, workflow(name=names[1]))
    assert (raised.value.status, json.loads(raised.value.body)["reason"]) == (409, "AlreadyExists")


def test_kubernetes_watch_follows_a_run_to_its_end_and_reads_pod_logs(cluster, kube):
    api = kube_client.CustomObjectsApi(kube)
    created = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, workflow())
    name = created["metadata"]["name"]
    watcher = kube_watch.Watch()
    phases = []
    for event in watcher.stream(api.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                                field_selector=f"metadata.name={name}",
                                resource_version=created["metadata"]["resourceVersion"], _request_timeout=TIMEOUT):
        assert event["object"]["metadata"]["name"] == name
        phases.append((event["object"].get("status") or {}).get("phase"))
        if phases[-1] in FINISHED:
            watcher.stop()
    assert phases[-1] == "Succeeded"
    core = kube_client.CoreV1Api(kube)
    pods = core.list_namespaced_pod("default", label_selector=f"workflows.argoproj.io/workflow={name}")
    assert [pod.metadata.name for pod in pods.items] == [name]  # a one-pod workflow's pod is named after it
    assert pods.items[0].status.phase == "Succeeded"
    assert core.read_namespaced_pod_log(name, "default", container="main") == "hello\nworld\n"


def test_kubernetes_watch_of_an_expired_version_raises_410(cluster, kube):
    cluster.controller = False
    api = kube_client.CustomObjectsApi(kube)
    created = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, workflow())
    api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, created["metadata"]["name"],
                                       {"metadata": {"labels": {"x": "y"}}})
    cluster.compact()
    with pytest.raises(ApiException) as raised:
        for _ in kube_watch.Watch().stream(api.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                                           resource_version=created["metadata"]["resourceVersion"],
                                           _request_timeout=TIMEOUT):
            pytest.fail("no event is expected from an expired resourceVersion")
    assert raised.value.status == 410
    assert "Expired" in raised.value.reason


def test_kubernetes_client_sees_injected_errors_and_bad_tokens(cluster, kube, tmp_path):
    cluster.controller = False
    api = kube_client.CustomObjectsApi(kube)
    cluster.fail_next(1, 503, method="GET")
    with pytest.raises(ApiException) as raised:
        api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert (raised.value.status, json.loads(raised.value.body)["reason"]) == (503, "ServiceUnavailable")
    # urllib3 under the client honours Retry-After on a 429 by itself, and asks again
    cluster.fail_next(1, 429, method="GET", retry_after=0)
    assert api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"] == []
    assert [request.status for request in cluster.requests[-2:]] == [429, 200]
    path = cluster.write_kubeconfig(tmp_path / "wrong")
    path.write_text(path.read_text().replace('"t0ken"', '"wrong"'))
    wrong = kube_config.new_client_from_config(config_file=str(path))
    try:
        with pytest.raises(ApiException) as raised:
            kube_client.CustomObjectsApi(wrong).list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    finally:
        wrong.close()
    assert raised.value.status == 401
    assert json.loads(raised.value.body)["reason"] == "Unauthorized"


# --- the argo-workflows SDK ------------------------------------------------------------------------------------------


def call(argo: ArgoApiClient, path: str, method: str = "GET", body: Any = None,
         query: list | None = None, **path_params: str):
    """``ApiClient.call_api`` with a raw dict in and the raw response out, as the argo-server backend calls it."""
    return argo.call_api(path, method, path_params=path_params, query_params=query or [], body=body,
                         header_params={"Content-Type": "application/json", "Accept": "application/json"},
                         auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                         _request_timeout=TIMEOUT)


def lines(response) -> list[dict[str, Any]]:
    """Every newline-delimited JSON object of a streamed answer."""
    return [json.loads(line) for line in response.data.decode().splitlines() if line.strip()]


def events_until_finished(argo: ArgoApiClient, name: str, fields: str | None = None) -> list[dict[str, Any]]:
    """The ``result`` of each event of the workflow's event stream, up to the one where it is finished."""
    query = [("listOptions.fieldSelector", f"metadata.name={name}")] + ([("fields", fields)] if fields else [])
    response = call(argo, "/api/v1/workflow-events/{namespace}", namespace="default", query=query)
    events, buffer = [], b""
    try:
        for chunk in response.stream(amt=None):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                events.append(json.loads(line)["result"])
                if (events[-1]["object"].get("status") or {}).get("phase") in FINISHED:
                    return events
    finally:
        response.close()  # the stream goes on: its connection is not reusable
    raise AssertionError(f"the event stream ended before the workflow finished: {events}")


def test_argo_sdk_create_get_list_delete(cluster, argo):
    cluster.controller = False
    created = [json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow(team="x")},
                               namespace="default").data) for _ in range(3)]
    names = [item["metadata"]["name"] for item in created]
    got = json.loads(call(argo, "/api/v1/workflows/{namespace}/{name}", namespace="default", name=names[0]).data)
    assert got["metadata"]["uid"] == created[0]["metadata"]["uid"]
    page = json.loads(call(argo, "/api/v1/workflows/{namespace}", namespace="default",
                           query=[("listOptions.limit", 2), ("fields", "metadata,items.metadata.name")]).data)
    assert page["metadata"]["continue"] == "2"
    assert all(set(item) == {"metadata"} and set(item["metadata"]) == {"name"} for item in page["items"])
    rest = json.loads(call(argo, "/api/v1/workflows/{namespace}", namespace="default",
                           query=[("listOptions.limit", 2), ("listOptions.continue", "2"),
                                  ("fields", "-items.spec")]).data)
    assert "continue" not in rest["metadata"] and "spec" not in rest["items"][0]
    assert sorted(item["metadata"]["name"] for item in page["items"] + rest["items"]) == sorted(names)
    selected = json.loads(call(argo, "/api/v1/workflows/{namespace}", namespace="default",
                               query=[("listOptions.fieldSelector", f"metadata.name={names[1]}")]).data)
    assert [item["metadata"]["name"] for item in selected["items"]] == [names[1]]
    assert json.loads(call(argo, "/api/v1/workflows/{namespace}/{name}", "DELETE", namespace="default",
                           name=names[1]).data) == {}
    empty = json.loads(call(argo, "/api/v1/workflows/{namespace}", namespace="other").data)
    assert empty["items"] is None


def test_argo_sdk_errors_are_grpc_gateway_json(cluster, argo):
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}/{name}", namespace="default", name="missing")
    assert raised.value.status == 404
    assert json.loads(raised.value.body) == {"code": 5, "message": 'workflows.argoproj.io "missing" not found'}
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}", "POST", {"notAWorkflow": {}}, namespace="default")
    assert (raised.value.status, json.loads(raised.value.body)["code"]) == (400, 3)
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}", namespace="default", query=[("listOptions.continue", "x")])
    assert json.loads(raised.value.body) == {"code": 3, "message": "listOptions.continue must be int"}
    cluster.fail_next(1, 503, method="POST")
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow()}, namespace="default")
    assert (raised.value.status, json.loads(raised.value.body)["code"]) == (503, 14)
    argo.configuration.api_key["BearerToken"] = "wrong"
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}", namespace="default")
    assert raised.value.status == 401
    assert json.loads(raised.value.body)["code"] == 16


def test_argo_sdk_event_stream_logs_and_stop(cluster, argo):
    created = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow()},
                              namespace="default").data)
    name = created["metadata"]["name"]
    events = events_until_finished(argo, name, "result.type,result.object.metadata.name,result.object.status.phase")
    assert events[0]["type"] == "ADDED" and events[-1]["object"]["status"]["phase"] == "Succeeded"
    assert set(events[-1]["object"]) == {"metadata", "status"} and set(events[-1]["object"]["status"]) == {"phase"}
    logs = lines(call(argo, "/api/v1/workflows/{namespace}/{name}/log", namespace="default", name=name,
                      query=[("logOptions.container", "main")]))
    assert logs == [{"result": {"content": line, "podName": name}} for line in ("hello", "world")]
    blank = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow("echo; echo x")},
                            namespace="default").data)["metadata"]["name"]
    events_until_finished(argo, blank)
    assert lines(call(argo, "/api/v1/workflows/{namespace}/{name}/log", namespace="default", name=blank,
                      query=[("logOptions.container", "main")])) == [
        {"result": {"podName": blank}}, {"result": {"content": "x", "podName": blank}}]  # omitempty, as Argo
    assert json.loads(call(argo, "/api/v1/version").data)["version"].startswith("v3.7")
    pod_logs = lines(call(argo, "/api/v1/workflows/{namespace}/{name}/log", namespace="default", name=name,
                          query=[("podName", "other"), ("logOptions.container", "main")]))
    assert pod_logs == []
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflows/{namespace}/{name}/stop", "PUT", {"name": name, "namespace": "default"},
             namespace="default", name=name)
    assert raised.value.status == 500
    assert json.loads(raised.value.body) == {
        "code": 13, "message": f'cannot shutdown a completed workflow: workflow: "{name}", namespace: "default"'}


def test_argo_sdk_stop_a_running_workflow_and_follow_its_logs(cluster, argo):
    created = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST",
                              {"workflow": workflow("echo begin; sleep 60")}, namespace="default").data)
    name = created["metadata"]["name"]
    follow = call(argo, "/api/v1/workflows/{namespace}/{name}/log", namespace="default", name=name,
                  query=[("logOptions.container", "main"), ("logOptions.follow", "true")])
    first = json.loads(follow.readline())
    assert first == {"result": {"content": "begin", "podName": name}}
    stopped = json.loads(call(argo, "/api/v1/workflows/{namespace}/{name}/stop", "PUT",
                              {"name": name, "namespace": "default"}, namespace="default", name=name).data)
    assert stopped["spec"]["shutdown"] == "Stop"
    assert follow.read() == b""  # the followed log ends with the workflow
    follow.release_conn()
    events = events_until_finished(argo, name)
    assert events[-1]["object"]["status"]["phase"] == "Failed"


def test_argo_event_stream_errors(cluster, argo):
    cluster.controller = False
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflow-events/{namespace}", namespace="default",
             query=[("listOptions.fieldSelector", "metadata.name=missing")])
    assert (raised.value.status, json.loads(raised.value.body)["code"]) == (404, 5)
    created = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow()},
                              namespace="default").data)
    cluster.finish(created["metadata"]["name"], "Succeeded")
    cluster.compact()
    with pytest.raises(ArgoApiException) as raised:
        call(argo, "/api/v1/workflow-events/{namespace}", namespace="default",
             query=[("listOptions.fieldSelector", f"metadata.name={created['metadata']['name']}"),
                    ("listOptions.resourceVersion", created["metadata"]["resourceVersion"])])
    assert raised.value.status == 400
    error = json.loads(raised.value.body)["error"]
    assert (error["grpc_code"], error["http_code"], error["http_status"]) == (3, 400, "Bad Request")
    assert error["message"].startswith("too old resource version")


def test_argo_terminate_a_running_workflow(cluster, argo):
    created = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST",
                              {"workflow": workflow("echo begin; sleep 60")}, namespace="default").data)
    name = created["metadata"]["name"]
    follow = call(argo, "/api/v1/workflows/{namespace}/{name}/log", namespace="default", name=name,
                  query=[("logOptions.container", "main"), ("logOptions.follow", "true")])
    assert json.loads(follow.readline())["result"]["content"] == "begin"
    terminated = json.loads(call(argo, "/api/v1/workflows/{namespace}/{name}/terminate", "PUT",
                                 {"name": name, "namespace": "default"}, namespace="default", name=name).data)
    assert terminated["spec"]["shutdown"] == "Terminate"
    follow.read()
    follow.release_conn()
    final = events_until_finished(argo, name)[-1]["object"]
    assert final["status"]["phase"] == "Failed"
    assert "Stopped with strategy 'Terminate'" in json.dumps(final["status"])


def test_argo_event_stream_timeout_ends_with_argo_eof_error(cluster, argo):
    cluster.controller = False
    created = json.loads(call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow()},
                              namespace="default").data)
    response = call(argo, "/api/v1/workflow-events/{namespace}", namespace="default",
                    query=[("listOptions.fieldSelector", f"metadata.name={created['metadata']['name']}"),
                           ("listOptions.timeoutSeconds", "1")])
    assert response.status == 200
    items = lines(response)
    assert items[0]["result"]["type"] == "ADDED"
    assert items[-1] == {"error": {"grpc_code": 8, "http_code": 429, "message": "EOF",
                                   "http_status": "Too Many Requests"}}
    with pytest.raises(ArgoApiException) as raised:  # nothing sent before the end: the error is the answer
        call(argo, "/api/v1/workflow-events/{namespace}", namespace="default",
             query=[("listOptions.labelSelector", "nothing=matches"), ("listOptions.timeoutSeconds", "1")])
    assert raised.value.status == 429 and json.loads(raised.value.body)["error"]["grpc_code"] == 8


def test_argo_faults_reach_the_sdk(cluster, argo):
    cluster.controller = False
    cluster.lose_response_next(method="POST", path="^/api/v1/workflows/")
    with pytest.raises(urllib3.exceptions.HTTPError):
        call(argo, "/api/v1/workflows/{namespace}", "POST", {"workflow": workflow(name="committed")},
             namespace="default")
    assert [item["metadata"]["name"] for item in cluster.workflows()] == ["committed"]
    cluster.drop_next_watches(1, after_events=1)
    response = call(argo, "/api/v1/workflow-events/{namespace}", namespace="default",
                    query=[("listOptions.fieldSelector", "metadata.name=committed")])
    with pytest.raises(urllib3.exceptions.HTTPError):
        response.read()
    response.close()
    cluster.latency = 0.2
    started = time.monotonic()
    call(argo, "/api/v1/workflows/{namespace}/{name}", namespace="default", name="committed")
    assert time.monotonic() - started >= 0.2
