"""FakeCluster over plain HTTP (http.client): the Kubernetes API paths, the controller, faults, lifecycle."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from typing import Any

import pytest

from workflows.testing import FakeCluster
from workflows.testing.resources import NAME_SUFFIX_ALPHABET

WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows"
PODS = "/api/v1/namespaces/default/pods"
TIMEOUT = 60


@pytest.fixture
def cluster(tmp_path):
    with FakeCluster(tmp_path / "cluster") as running:
        yield running


def spec(name: str = "", generate: str = "test-", script: str = "echo hello", labels: dict | None = None,
         **metadata: Any) -> dict[str, Any]:
    """A one-pod workflow running ``script`` with sh (a task written by these tests)."""
    meta: dict[str, Any] = {"name": name} if name else {"generateName": generate}
    if labels:
        meta["labels"] = labels
    meta.update(metadata)
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": meta,
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "container": {"image": "alpine", "command": ["sh", "-c", script]}}]},
    }


def pipeline() -> dict[str, Any]:
    """Two steps, each printing two lines."""
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "pipe-"},
        "spec": {"entrypoint": "steps", "templates": [
            {"name": "steps", "steps": [[{"name": "one", "template": "first"}],
                                        [{"name": "two", "template": "second"}]]},
            {"name": "first", "container": {"image": "alpine", "command": ["sh", "-c", "echo a1; echo a2"]}},
            {"name": "second", "container": {"image": "alpine", "command": ["sh", "-c", "echo b1; echo b2"]}},
        ]},
    }


def call(cluster: FakeCluster, method: str, path: str, body: Any = None, headers: dict | None = None,
         content_type: str = "application/json") -> tuple[int, dict[str, str], Any]:
    """One request on a new connection: status, headers, body (JSON when it parses, else text)."""
    connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=TIMEOUT)
    try:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type, **(headers or {})}
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        raw = response.read().decode()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return response.status, dict(response.getheaders()), parsed
    finally:
        connection.close()


class Stream:
    """A streaming GET (a watch): its status and headers, then one parsed JSON object per line."""

    def __init__(self, cluster: FakeCluster, path: str, headers: dict | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=TIMEOUT)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.status = self.response.status

    def next(self) -> dict[str, Any] | None:
        """The next object, or ``None`` at a clean end of the stream."""
        line = self.response.readline()
        return json.loads(line) if line else None

    def until(self, done) -> list[dict[str, Any]]:
        """Objects up to and including the first for which ``done`` is true."""
        seen = []
        while True:
            item = self.next()
            assert item is not None, f"the stream ended before the expected event; seen {seen}"
            seen.append(item)
            if done(item):
                return seen

    def close(self) -> None:
        self.connection.close()


def version(obj: dict[str, Any]) -> str:
    """``metadata.resourceVersion`` of an object or a list."""
    return obj["metadata"]["resourceVersion"]


def phase(obj: dict[str, Any]) -> str | None:
    return (obj.get("status") or {}).get("phase")


def finished(event: dict[str, Any]) -> bool:
    return phase(event["object"]) in ("Succeeded", "Failed", "Error")


def create(cluster: FakeCluster, body: dict[str, Any], ns: str = "default") -> dict[str, Any]:
    status, _, created = call(cluster, "POST", WORKFLOWS.format(ns=ns), body)
    assert status == 201, created
    return created


def watch_to_end(cluster: FakeCluster, created: dict[str, Any], ns: str = "default") -> list[dict[str, Any]]:
    name, version = created["metadata"]["name"], created["metadata"]["resourceVersion"]
    stream = Stream(cluster, WORKFLOWS.format(ns=ns) + f"?watch=true&fieldSelector=metadata.name%3D{name}"
                    f"&resourceVersion={version}")
    try:
        return stream.until(finished)
    finally:
        stream.close()


# --- the API server's registry ---------------------------------------------------------------------------------------


def test_create_names_from_generate_name_with_the_api_server_alphabet(cluster):
    cluster.controller = False
    created = create(cluster, spec(generate="job-"))
    name = created["metadata"]["name"]
    assert re.fullmatch(rf"job-[{NAME_SUFFIX_ALPHABET}]{{5}}", name)
    assert created["metadata"]["namespace"] == "default"
    assert created["metadata"]["uid"] and created["metadata"]["creationTimestamp"]
    assert int(created["metadata"]["resourceVersion"]) > 0
    status, _, got = call(cluster, "GET", WORKFLOWS.format(ns="default") + "/" + name)
    assert status == 200 and got == created


def test_errors_are_status_objects(cluster):
    cluster.controller = False
    create(cluster, spec(name="taken"))
    status, _, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), spec(name="taken"))
    assert status == 409
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'workflows.argoproj.io "taken" already exists', "reason": "AlreadyExists",
                    "details": {"name": "taken", "group": "argoproj.io", "kind": "workflows"}, "code": 409}
    status, _, body = call(cluster, "GET", WORKFLOWS.format(ns="default") + "/missing")
    assert (status, body["reason"], body["code"], body["message"]) == (
        404, "NotFound", 404, 'workflows.argoproj.io "missing" not found')
    status, _, body = call(cluster, "DELETE", WORKFLOWS.format(ns="default") + "/missing")
    assert (status, body["reason"]) == (404, "NotFound")
    nameless = spec()
    del nameless["metadata"]["generateName"]
    status, _, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), nameless)
    assert (status, body["reason"], body["kind"]) == (422, "Invalid", "Status")
    assert "name or generateName is required" in body["message"]
    status, _, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), spec(name="Bad_Name"))
    assert (status, body["reason"]) == (422, "Invalid") and "Bad_Name" in body["message"]
    status, _, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), spec(namespace="other"))
    assert (status, body["reason"]) == (400, "BadRequest")
    status, _, body = call(cluster, "GET", "/apis/argoproj.io/v1alpha1/namespaces/default/cronworkflows")
    assert (status, body["kind"], body["reason"]) == (404, "Status", "NotFound")
    status, _, body = call(cluster, "PUT", WORKFLOWS.format(ns="default") + "/taken")
    assert (status, body["reason"]) == (405, "MethodNotAllowed")


def test_list_selects_by_label_and_name_and_pages_with_continue(cluster):
    cluster.controller = False
    for index in range(5):
        create(cluster, spec(name=f"wf-{index}", labels={"team": "a" if index % 2 else "b"}))
    status, _, listed = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?labelSelector=team%3Da")
    assert status == 200 and listed["kind"] == "WorkflowList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["wf-1", "wf-3"]
    assert int(listed["metadata"]["resourceVersion"]) >= 5
    _, _, listed = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?labelSelector=team+in+(a,b),team!%3Da")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["wf-0", "wf-2", "wf-4"]
    _, _, listed = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?fieldSelector=metadata.name%3Dwf-2")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["wf-2"]
    names, token = [], None
    while True:
        query = "?limit=2" + (f"&continue={token}" if token else "")
        _, _, page = call(cluster, "GET", WORKFLOWS.format(ns="default") + query)
        names += [item["metadata"]["name"] for item in page["items"]]
        assert len(page["items"]) <= 2
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"wf-{index}" for index in range(5)]
    status, _, body = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?fieldSelector=spec.entrypoint%3Dmain")
    assert (status, body["reason"]) == (400, "BadRequest") and "spec.entrypoint" in body["message"]
    status, _, body = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?continue=garbage")
    assert (status, body["reason"]) == (400, "BadRequest")


def test_continue_token_expires_with_compaction(cluster):
    cluster.controller = False
    for index in range(3):
        create(cluster, spec(name=f"wf-{index}"))
    _, _, page = call(cluster, "GET", WORKFLOWS.format(ns="default") + "?limit=1")
    create(cluster, spec(name="wf-9"))
    cluster.compact()
    token = page["metadata"]["continue"]
    status, _, body = call(cluster, "GET", WORKFLOWS.format(ns="default") + f"?limit=1&continue={token}")
    assert (status, body["reason"], body["code"]) == (410, "Expired", 410)


def test_namespaces_are_separate(cluster):
    cluster.controller = False
    create(cluster, spec(name="same"), ns="one")
    create(cluster, spec(name="same"), ns="two")
    _, _, listed = call(cluster, "GET", WORKFLOWS.format(ns="one"))
    assert [item["metadata"]["namespace"] for item in listed["items"]] == ["one"]
    _, _, everywhere = call(cluster, "GET", "/apis/argoproj.io/v1alpha1/workflows")
    assert sorted(item["metadata"]["namespace"] for item in everywhere["items"]) == ["one", "two"]


def test_merge_patch_json_patch_and_conflicts(cluster):
    cluster.controller = False
    created = create(cluster, spec(name="patched", labels={"keep": "yes", "drop": "yes"}))
    path = WORKFLOWS.format(ns="default") + "/patched"
    status, _, patched = call(cluster, "PATCH", path, {"metadata": {"labels": {"drop": None, "new": "1"}}},
                              content_type="application/merge-patch+json")
    assert status == 200
    assert patched["metadata"]["labels"] == {"keep": "yes", "new": "1"}
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    operations = [{"op": "replace", "path": "/metadata/labels/keep", "value": "no"}]
    status, _, patched = call(cluster, "PATCH", path, operations,
                              content_type="application/json-patch+json")
    assert status == 200 and patched["metadata"]["labels"]["keep"] == "no"
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"], "labels": {"x": "y"}}}
    status, _, body = call(cluster, "PATCH", path, stale,
                           content_type="application/merge-patch+json")
    assert (status, body["reason"]) == (409, "Conflict")
    status, _, body = call(cluster, "PATCH", path, {"metadata": {}},
                           content_type="application/strategic-merge-patch+json")
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")
    status, _, body = call(cluster, "PATCH", path, {"metadata": {"name": "renamed"}},
                           content_type="application/merge-patch+json")
    assert status == 200 and body["metadata"]["name"] == "patched"


def test_delete_answers_the_object_and_removes_it(cluster):
    cluster.controller = False
    create(cluster, spec(name="gone"))
    status, _, deleted = call(cluster, "DELETE", WORKFLOWS.format(ns="default") + "/gone")
    assert status == 200 and deleted["metadata"]["name"] == "gone"
    assert call(cluster, "GET", WORKFLOWS.format(ns="default") + "/gone")[0] == 404
    assert cluster.workflow("gone") is None


# --- watches ---------------------------------------------------------------------------------------------------------


def test_watch_streams_added_modified_deleted_in_order(cluster):
    cluster.controller = False
    first = create(cluster, spec(name="first"))
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + f"?watch=true&resourceVersion={version(first)}")
    try:
        assert stream.status == 200
        assert stream.response.getheader("Transfer-Encoding") == "chunked"
        create(cluster, spec(name="second"))
        call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/first", {"metadata": {"labels": {"a": "b"}}},
             content_type="application/merge-patch+json")
        call(cluster, "DELETE", WORKFLOWS.format(ns="default") + "/second")
        events = [stream.next() for _ in range(3)]
    finally:
        stream.close()
    assert [(event["type"], event["object"]["metadata"]["name"]) for event in events] == [
        ("ADDED", "second"), ("MODIFIED", "first"), ("DELETED", "second")]
    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_watch_without_version_starts_with_the_current_objects_and_selects_by_name(cluster):
    cluster.controller = False
    create(cluster, spec(name="other"))
    create(cluster, spec(name="mine"))
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=1&fieldSelector=metadata.name%3Dmine")
    try:
        added = stream.next()
        call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/other", {"metadata": {"labels": {"a": "b"}}},
             content_type="application/merge-patch+json")
        call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/mine", {"metadata": {"labels": {"a": "b"}}},
             content_type="application/merge-patch+json")
        modified = stream.next()
    finally:
        stream.close()
    assert (added["type"], added["object"]["metadata"]["name"]) == ("ADDED", "mine")
    assert (modified["type"], modified["object"]["metadata"]["name"]) == ("MODIFIED", "mine")


def test_watch_label_selector_sees_objects_leave_and_enter(cluster):
    cluster.controller = False
    created = create(cluster, spec(name="moving", labels={"stage": "a"}))
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true&labelSelector=stage%3Da"
                    f"&resourceVersion={created['metadata']['resourceVersion']}")
    try:
        for value in ("b", "a"):
            call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/moving",
                 {"metadata": {"labels": {"stage": value}}}, content_type="application/merge-patch+json")
        events = [stream.next()["type"], stream.next()["type"]]
    finally:
        stream.close()
    assert events == ["DELETED", "ADDED"]


def test_watch_timeout_ends_the_stream_cleanly_with_a_bookmark(cluster):
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true&timeoutSeconds=1&allowWatchBookmarks=true")
    try:
        bookmark = stream.next()
        end = stream.next()
    finally:
        stream.close()
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["metadata"]["resourceVersion"]
    assert end is None


def test_watch_from_an_expired_version_is_a_200_stream_with_a_410_error_event(cluster):
    cluster.controller = False
    created = create(cluster, spec(name="old"))
    call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/old", {"metadata": {"labels": {"a": "b"}}},
         content_type="application/merge-patch+json")
    cluster.compact()
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + f"?watch=true&resourceVersion={version(created)}")
    try:
        assert stream.status == 200
        event = stream.next()
        assert stream.next() is None
    finally:
        stream.close()
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["apiVersion"], status["status"], status["reason"], status["code"]) == (
        "Status", "v1", "Failure", "Expired", 410)
    assert status["message"].startswith("too old resource version: ")


def test_watch_from_the_current_version_after_compaction_still_works(cluster):
    cluster.controller = False
    create(cluster, spec(name="a"))
    cluster.compact()
    _, _, listed = call(cluster, "GET", WORKFLOWS.format(ns="default"))
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + f"?watch=true&resourceVersion={version(listed)}")
    try:
        create(cluster, spec(name="b"))
        event = stream.next()
    finally:
        stream.close()
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "b")


# --- the controller --------------------------------------------------------------------------------------------------


def test_submitted_workflows_run_on_the_local_engine_with_argo_status_pods_and_logs(cluster):
    created = create(cluster, pipeline())
    name = created["metadata"]["name"]
    events = watch_to_end(cluster, created)
    assert [event["type"] for event in events] == ["MODIFIED"] * len(events)
    assert phase(events[-1]["object"]) == "Succeeded"
    final = events[-1]["object"]
    assert final["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Succeeded"
    assert final["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
    pod_nodes = [node for node in final["status"]["nodes"].values() if node["type"] == "Pod"]
    assert len(pod_nodes) == 2
    status, _, pods = call(cluster, "GET", "/api/v1/namespaces/default/pods?labelSelector="
                                           f"workflows.argoproj.io%2Fworkflow%3D{name}")
    assert status == 200 and pods["kind"] == "PodList"
    by_node = {pod["metadata"]["annotations"]["workflows.argoproj.io/node-id"]: pod for pod in pods["items"]}
    assert set(by_node) == {node["id"] for node in pod_nodes}
    logs = []
    for node in pod_nodes:
        pod = by_node[node["id"]]
        assert pod["metadata"]["name"] == f"{name}-{node['templateName']}-{node['id'].rsplit('-', 1)[1]}"
        assert pod["status"]["phase"] == "Succeeded"
        assert pod["metadata"]["ownerReferences"][0]["name"] == name
        status, headers, text = call(cluster, "GET", f"{PODS}/{pod['metadata']['name']}/log?container=main")
        assert status == 200 and headers["Content-Type"] == "text/plain"
        logs.append(text)
    assert logs == ["a1\na2\n", "b1\nb2\n"]
    pod_name = by_node[pod_nodes[0]["id"]]["metadata"]["name"]
    status, _, text = call(cluster, "GET", f"/api/v1/namespaces/default/pods/{pod_name}/log?container=main&tailLines=1")
    assert text == "a2\n"
    status, _, body = call(cluster, "GET", f"/api/v1/namespaces/default/pods/{pod_name}/log")
    assert status == 400 and "a container name must be specified" in body["message"]
    status, _, body = call(cluster, "GET", f"/api/v1/namespaces/default/pods/{pod_name}/log?container=nope")
    assert status == 400 and body["message"] == f"container nope is not valid for pod {pod_name}"
    status, _, body = call(cluster, "GET", "/api/v1/namespaces/default/pods/nope/log?container=main")
    assert (status, body["message"]) == (404, 'pods "nope" not found')


def test_failing_workflow_ends_failed(cluster):
    created = create(cluster, spec(script="echo bad; exit 3"))
    assert phase(watch_to_end(cluster, created)[-1]["object"]) == "Failed"


def test_workflow_the_local_engine_cannot_run_ends_in_error(cluster):
    body = spec()
    body["spec"]["templates"][0] = {"name": "main", "resource": {"action": "create", "manifest": "{}"}}
    created = create(cluster, body)
    final = watch_to_end(cluster, created)[-1]["object"]
    assert phase(final) == "Error" and "resource" in final["status"]["message"]


def test_stop_by_merge_patch_stops_the_local_run(cluster):
    created = create(cluster, spec(script="echo started; sleep 60"))
    name = created["metadata"]["name"]
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + f"?watch=true&fieldSelector=metadata.name%3D{name}"
                    f"&resourceVersion={created['metadata']['resourceVersion']}")
    try:
        stream.until(lambda event: any(node["phase"] == "Running" and node["type"] == "Pod"
                                       for node in (event["object"].get("status") or {}).get("nodes", {}).values()))
        status, _, _ = call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/" + name,
                            {"spec": {"shutdown": "Stop"}}, content_type="application/merge-patch+json")
        assert status == 200
        final = stream.until(finished)[-1]["object"]
    finally:
        stream.close()
    assert phase(final) == "Failed"
    assert final["spec"]["shutdown"] == "Stop"
    assert "Stopped with strategy 'Stop'" in json.dumps(final["status"])


def test_hold_release_and_finish(cluster):
    cluster.hold = True
    held = create(cluster, spec(name="held"))
    other = create(cluster, spec(name="other"))
    assert phase(cluster.workflow("held")) == "Pending"
    assert cluster.workflow("held")["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Pending"
    cluster.release("held")
    assert phase(watch_to_end(cluster, held)[-1]["object"]) == "Succeeded"
    cluster.finish("other", "Failed", message="ended by the test")
    final = watch_to_end(cluster, other)[-1]["object"]
    assert (phase(final), final["status"]["message"]) == ("Failed", "ended by the test")
    with pytest.raises(ValueError, match="not held"):
        cluster.release("held")
    with pytest.raises(ValueError, match="phase='Done'"):
        cluster.finish("held", "Done")
    with pytest.raises(ValueError, match="default/missing: no such workflow"):
        cluster.finish("missing", "Failed")
    with pytest.raises(ValueError, match="end_phase='Done'"):
        cluster.end_phase = "Done"


def test_stopping_a_held_workflow_ends_it_failed(cluster):
    cluster.hold = True
    held = create(cluster, spec(name="held"))
    call(cluster, "PATCH", WORKFLOWS.format(ns="default") + "/held", {"spec": {"shutdown": "Stop"}},
         content_type="application/merge-patch+json")
    final = watch_to_end(cluster, held)[-1]["object"]
    assert (phase(final), final["status"]["message"]) == ("Failed", "Stopped with strategy 'Stop'")


def test_end_phase_ends_workflows_without_running_them(cluster):
    cluster.end_phase = "Error"
    created = create(cluster, spec(name="ended"))
    events = watch_to_end(cluster, created)
    assert [phase(event["object"]) for event in events] == ["Running", "Error"]
    assert not call(cluster, "GET", "/api/v1/namespaces/default/pods")[2]["items"]


def test_ttl_strategy_deletes_finished_workflows(cluster):
    cluster.end_phase = "Failed"
    kept = spec(name="kept")
    kept["spec"]["ttlStrategy"] = {"secondsAfterSuccess": 0}
    short = spec(name="short")
    short["spec"]["ttlStrategy"] = {"secondsAfterSuccess": 3600, "secondsAfterFailure": 0}
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    try:
        create(cluster, kept)
        create(cluster, short)
        deleted = stream.until(lambda event: event["type"] == "DELETED")[-1]
    finally:
        stream.close()
    assert deleted["object"]["metadata"]["name"] == "short"
    assert [item["metadata"]["name"] for item in cluster.workflows()] == ["kept"]


def test_pod_gc_deletes_pods_as_the_strategy_says(cluster):
    collected, kept = pipeline(), pipeline()
    collected["spec"]["podGC"] = {"strategy": "OnPodCompletion", "deleteDelayDuration": "0s"}
    kept["spec"]["podGC"] = {"strategy": "OnWorkflowSuccess"}
    kept["spec"]["templates"][2]["container"]["command"] = ["sh", "-c", "exit 1"]
    stream = Stream(cluster, PODS + "?watch=true")
    try:
        first = create(cluster, collected)
        gone = first["metadata"]["name"]
        events = stream.until(lambda event: event["type"] == "DELETED")
        events += stream.until(lambda event: event["type"] == "DELETED")
    finally:
        stream.close()
    assert {event["object"]["metadata"]["labels"]["workflows.argoproj.io/workflow"] for event in events} == {gone}
    assert phase(watch_to_end(cluster, create(cluster, kept))[-1]["object"]) == "Failed"
    _, _, pods = call(cluster, "GET", PODS)
    assert len(pods["items"]) == 2 and gone not in json.dumps(pods)
    assert phase(watch_to_end(cluster, first)[-1]["object"]) == "Succeeded"


def test_wait_for_wakes_on_changes_and_times_out(cluster):
    cluster.end_phase = "Succeeded"
    creator = threading.Thread(target=lambda: create(cluster, spec(name="later")))
    creator.start()
    cluster.wait_for(lambda: phase(cluster.workflow("later") or {}) == "Succeeded")
    creator.join(TIMEOUT)
    with pytest.raises(TimeoutError, match="within 0.05 s"):
        cluster.wait_for(lambda: cluster.workflow("never") is not None, timeout=0.05)


def test_without_controller_workflows_get_no_status(cluster):
    cluster.controller = False
    create(cluster, spec(name="idle"))
    assert "status" not in cluster.workflow("idle")


def test_deleting_a_running_workflow_terminates_it_and_removes_its_pods(cluster):
    created = create(cluster, spec(script="sleep 60"))
    name = created["metadata"]["name"]
    stream = Stream(cluster, "/api/v1/namespaces/default/pods?watch=true")
    try:
        stream.until(lambda event: event["object"]["status"]["phase"] == "Running")
    finally:
        stream.close()
    assert call(cluster, "DELETE", WORKFLOWS.format(ns="default") + "/" + name)[0] == 200
    assert call(cluster, "GET", "/api/v1/namespaces/default/pods")[2]["items"] == []
    assert not (cluster.state_dir / "default" / "workflows" / name).exists()


def test_concurrent_clients_get_one_consistent_history(cluster):
    cluster.end_phase = "Succeeded"
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    workers = [threading.Thread(target=lambda: [create(cluster, spec()) for _ in range(5)]) for _ in range(8)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(TIMEOUT)
        events = [stream.next() for _ in range(40 * 3)]  # each: added, running, ended
    finally:
        stream.close()
    assert len({item["metadata"]["name"] for item in cluster.workflows()}) == 40
    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert sorted(event["type"] for event in events) == ["ADDED"] * 40 + ["MODIFIED"] * 80


# --- authentication, latency, faults ---------------------------------------------------------------------------------


def test_bearer_token_is_checked(tmp_path):
    with FakeCluster(tmp_path, token="s3cret") as secured:
        status, _, body = call(secured, "GET", WORKFLOWS.format(ns="default"))
        assert (status, body["kind"], body["reason"], body["code"]) == (401, "Status", "Unauthorized", 401)
        status, _, _ = call(secured, "GET", WORKFLOWS.format(ns="default"), headers={"Authorization": "Bearer nope"})
        assert status == 401
        status, _, _ = call(secured, "GET", WORKFLOWS.format(ns="default"), headers={"Authorization": "Bearer s3cret"})
        assert status == 200


def test_token_can_change_while_running(cluster):
    assert call(cluster, "GET", "/version")[0] == 200
    cluster.token = "new"
    assert call(cluster, "GET", "/version")[0] == 401
    assert call(cluster, "GET", "/version", headers={"Authorization": "Bearer new"})[0] == 200


def test_chunked_request_bodies_are_read(cluster):
    cluster.controller = False
    connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=TIMEOUT)
    try:
        data = json.dumps(spec(name="chunked")).encode()
        connection.request("POST", WORKFLOWS.format(ns="default"), body=iter([data[:10], data[10:]]),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
        assert connection.getresponse().read() and cluster.workflow("chunked") is not None
        connection.request("GET", "/version")  # the connection is still in step
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_latency_delays_answers(cluster):
    cluster.latency = 0.3
    started = time.monotonic()
    assert call(cluster, "GET", "/version")[0] == 200
    assert time.monotonic() - started >= 0.3


def test_fail_next_answers_errors_without_doing_the_request(cluster):
    cluster.controller = False
    cluster.fail_next(2, 503, method="POST", path="/workflows$")
    cluster.fail_next(1, 429, method="POST", retry_after=2)
    for _ in range(2):
        status, _, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), spec())
        assert (status, body["kind"], body["code"], body["reason"]) == (503, "Status", 503, "ServiceUnavailable")
    status, headers, body = call(cluster, "POST", WORKFLOWS.format(ns="default"), spec())
    assert (status, headers["Retry-After"], body["reason"]) == (429, "2", "TooManyRequests")
    assert cluster.workflows() == []
    assert call(cluster, "POST", WORKFLOWS.format(ns="default"), spec())[0] == 201
    assert [request.status for request in cluster.requests] == [503, 503, 429, 201]


def test_reset_next_drops_the_connection_and_does_nothing(cluster):
    cluster.controller = False
    cluster.reset_next(method="POST")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call(cluster, "POST", WORKFLOWS.format(ns="default"), spec())
    assert cluster.workflows() == []
    assert cluster.requests[-1].status is None


def test_lose_response_next_commits_the_request_then_drops_the_connection(cluster):
    cluster.controller = False
    cluster.lose_response_next()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call(cluster, "POST", WORKFLOWS.format(ns="default"), spec(name="committed"))
    assert [item["metadata"]["name"] for item in cluster.workflows()] == ["committed"]
    assert call(cluster, "GET", WORKFLOWS.format(ns="default") + "/committed")[0] == 200


def test_drop_next_watches_cuts_a_stream_after_some_events(cluster):
    cluster.controller = False
    for name in ("a", "b", "c"):
        create(cluster, spec(name=name))
    cluster.drop_next_watches(1, after_events=2)
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    try:
        assert [stream.next()["object"]["metadata"]["name"] for _ in range(2)] == ["a", "b"]
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            stream.next()
    finally:
        stream.close()
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    try:
        assert [stream.next()["object"]["metadata"]["name"] for _ in range(3)] == ["a", "b", "c"]
    finally:
        stream.close()


def test_drop_watches_cuts_open_streams(cluster):
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            stream.next()
        except (ConnectionError, http.client.HTTPException) as error:
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    while not any(request.query.get("watch") for request in cluster.requests):
        time.sleep(0.01)
    cluster.drop_watches()
    reader.join(TIMEOUT)
    stream.close()
    assert len(errors) == 1


def test_fault_arguments_are_checked(cluster):
    with pytest.raises(ValueError, match="count=0"):
        cluster.fail_next(0)
    with pytest.raises(ValueError, match="status=200"):
        cluster.fail_next(1, 200)
    with pytest.raises(ValueError, match="after_events=-1"):
        cluster.drop_next_watches(1, after_events=-1)


# --- lifecycle and configuration -------------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (absent, or a zombie left for its parent to reap)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_stop_ends_streams_runs_processes_and_threads(tmp_path):
    from workflows.engine.store import Store

    before = set(threading.enumerate())
    cluster = FakeCluster(tmp_path / "state").start()
    port = cluster.port
    created = create(cluster, spec(script="sleep 60"))
    name = created["metadata"]["name"]
    pods = Stream(cluster, PODS + "?watch=true")
    pods.until(lambda event: event["object"]["status"]["phase"] == "Running")
    pods.close()
    runner = int((cluster.state_dir / "default" / "workflows" / name / "runner.pid").read_text())
    local = Store(cluster.state_dir / "default")
    (pod_group,) = local.running_process_groups(name)
    local.close()
    stream = Stream(cluster, WORKFLOWS.format(ns="default") + "?watch=true")
    stream.next()
    cluster.stop()
    try:  # the stream ends: cut, or closed by the server's shutdown
        while stream.next() is not None:
            pass
    except (ConnectionError, http.client.HTTPException):
        pass
    stream.close()
    leftover = [thread for thread in set(threading.enumerate()) - before
                if thread.name.startswith(("fake-", "Thread-"))]
    assert leftover == []
    assert _gone(runner) and _gone(pod_group.pgid)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    cluster.stop()  # a second stop does nothing
    with pytest.raises(RuntimeError, match="starts once"):
        cluster.start()


def test_temporary_state_is_removed_at_stop():
    with FakeCluster() as cluster:
        state = cluster.state_dir
        assert state.is_dir()
    assert not state.exists()


def test_kubeconfig_and_argo_environment(tmp_path, cluster):
    path = cluster.write_kubeconfig(tmp_path / "config", namespace="team")
    config = json.loads(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == cluster.url
    assert config["contexts"][0]["context"]["namespace"] == "team"
    assert config["users"][0]["user"] == {}
    assert cluster.argo_env() == {"ARGO_SERVER": f"127.0.0.1:{cluster.port}", "ARGO_SECURE": "false",
                                  "ARGO_HTTP1": "true", "ARGO_NAMESPACE": "default"}
    with FakeCluster(tmp_path / "secured", token="t0k") as secured:
        assert json.loads(secured.write_kubeconfig(tmp_path / "c2").read_text())["users"][0]["user"] == {"token": "t0k"}
        assert secured.argo_env()["ARGO_TOKEN"] == "Bearer t0k"
    assert call(cluster, "GET", "/version")[2]["major"] == "1"
