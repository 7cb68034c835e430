"""The fake cluster's parts that need no server: selectors, patches, Argo's field cleaner, pod names, TTLs,
error codes, the object store's watch semantics."""

from __future__ import annotations

import pytest

from workflows.testing.api import WORKFLOWS, ApiError, Expired
from workflows.testing.argo_api import FieldCleaner, grpc_code
from workflows.testing.collector import ttl_seconds
from workflows.testing.controller import argo_pod_name
from workflows.testing.resources import ResourceStore, WatchClosed
from workflows.testing.selection import Selector, parse_selectors, selected_name
from workflows.testing.service import json_patch, merge_patch


def labelled(**labels: str) -> dict:
    return {"metadata": {"name": "x", "namespace": "ns", "labels": labels}}


@pytest.mark.parametrize("selector, matches", [
    ("a=1", [True, False, False]),
    ("a==1", [True, False, False]),
    ("a!=1", [False, True, True]),
    ("a in (1, 2)", [True, True, False]),
    ("a notin (1)", [False, True, True]),
    ("a", [True, True, False]),
    ("!a", [False, False, True]),
    ("a,b=x", [False, True, False]),
    ("a in (1,2),b", [False, True, False]),
])
def test_label_selectors(selector, matches):
    objects = [labelled(a="1"), labelled(a="2", b="x"), labelled(c="3")]
    parsed = parse_selectors("workflows", selector, None)
    assert [parsed.matches(obj) for obj in objects] == matches


def test_field_selectors_and_errors():
    assert parse_selectors("workflows", None, "metadata.name=x,metadata.namespace!=other").matches(labelled())
    assert not parse_selectors("workflows", None, "metadata.name=y").matches(labelled())
    assert selected_name("metadata.namespace=ns,metadata.name==wf-1") == "wf-1"
    assert selected_name("metadata.namespace=ns") is None
    with pytest.raises(ApiError, match="field label not supported: status.phase") as raised:
        parse_selectors("workflows", None, "status.phase=Running")
    assert raised.value.code == 400
    assert parse_selectors("pods", None, "status.phase=Running").requirements
    with pytest.raises(ApiError, match="unable to parse requirement"):
        parse_selectors("workflows", "a=(", None)
    assert Selector().matches({})


def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch(target, {"c": ["list"]}) == {"a": "b", "c": ["list"]}
    assert merge_patch({"a": [1]}, {"a": {"b": "c"}}) == {"a": {"b": "c"}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}


def test_json_patch_operations():
    target = {"spec": {"items": [1, 2]}, "metadata": {"labels": {"a": "b"}}}
    patched = json_patch(target, [
        {"op": "test", "path": "/metadata/labels/a", "value": "b"},
        {"op": "add", "path": "/spec/items/-", "value": 3},
        {"op": "replace", "path": "/spec/items/0", "value": 0},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "add", "path": "/metadata/labels/x~1y", "value": "z"},
    ])
    assert patched == {"spec": {"items": [0, 2, 3]}, "metadata": {"labels": {"x/y": "z"}}}
    assert target["spec"]["items"] == [1, 2]
    for operations, code in (([{"op": "test", "path": "/spec", "value": 1}], 422),
                             ([{"op": "remove", "path": "/nope"}], 422),
                             ([{"op": "replace", "path": "/nope", "value": 1}], 422),
                             ([{"op": "move", "path": "/spec", "from": "/x"}], 400),
                             ({"op": "add"}, 400)):
        with pytest.raises(ApiError) as raised:
            json_patch(target, operations)
        assert raised.value.code == code


def test_argo_field_cleaner_keeps_or_removes_paths():
    listing = {"metadata": {"resourceVersion": "5", "continue": "2"},
               "items": [{"metadata": {"name": "a", "uid": "u"}, "spec": {"x": 1}, "status": {"phase": "Running"}}]}
    kept = FieldCleaner("metadata,items.metadata.name,items.status.phase").clean(listing)
    assert kept == {"metadata": {"resourceVersion": "5", "continue": "2"},
                    "items": [{"metadata": {"name": "a"}, "status": {"phase": "Running"}}]}
    removed = FieldCleaner("-items.spec,items.metadata.uid").clean(listing)
    assert removed == {"metadata": {"resourceVersion": "5", "continue": "2"},
                       "items": [{"metadata": {"name": "a"}, "status": {"phase": "Running"}}]}
    assert FieldCleaner(None).clean(listing) is listing
    event = {"metadata": {"name": "a"}, "status": {"phase": "Running", "nodes": {}}}
    assert FieldCleaner("result.object.status.phase", "result.object.").clean(event) == {
        "status": {"phase": "Running"}}


def test_pod_names_follow_argo_v2():
    assert argo_pod_name("wf-abcde", "wf-abcde", "main") == "wf-abcde"
    # Argo's own test data: node "many-items-z26lj[0].sleep(9:nine)" has id "many-items-z26lj-2619926859"
    assert argo_pod_name("many-items-z26lj", "many-items-z26lj[0].sleep(9:nine)", "sleep") == \
        "many-items-z26lj-sleep-2619926859"
    long = argo_pod_name("w" * 200, "w" * 200 + ".x", "t" * 100)
    assert len(long) <= 253 and long.startswith("w" * 200 + "-" + "t" * 41 + "-")


def test_ttl_seconds_as_argo_reads_the_ttl_strategy():
    spec = {"ttlStrategy": {"secondsAfterSuccess": 10, "secondsAfterCompletion": 30}}
    assert ttl_seconds(spec, "Succeeded") == 10
    assert ttl_seconds(spec, "Failed") == 30
    assert ttl_seconds({"ttlStrategy": {"secondsAfterFailure": 0}}, "Error") == 0
    assert ttl_seconds({}, "Succeeded") is None


@pytest.mark.parametrize("status, code", [(404, 5), (409, 6), (401, 16), (429, 8), (400, 3), (410, 3),
                                          (422, 3), (500, 13), (502, 13), (503, 14)])
def test_argo_server_maps_http_errors_to_grpc_codes(status, code):
    assert grpc_code(status) == code


def test_store_watch_semantics():
    store = ResourceStore()
    first = store.create(WORKFLOWS, "ns", {"metadata": {"name": "a", "labels": {"k": "v"}}})
    since = int(first["metadata"]["resourceVersion"])
    store.update(WORKFLOWS, "ns", "a", lambda obj: obj["metadata"]["labels"].update(k="w"))
    store.create(WORKFLOWS, "other", {"metadata": {"name": "b"}})
    events = store.watch(WORKFLOWS, "ns", parse_selectors("workflows", "k=v", None), since, deadline=0)
    assert [(kind, obj["metadata"]["name"]) for kind, obj in events] == [("DELETED", "a")]
    before = (store.revision, store.get(WORKFLOWS, "ns", "a")["metadata"]["resourceVersion"])
    unchanged = store.update(WORKFLOWS, "ns", "a", lambda obj: None)
    assert (store.revision, unchanged["metadata"]["resourceVersion"]) == before  # no change, no new version
    store.compact()
    with pytest.raises(Expired):
        next(store.watch(WORKFLOWS, "ns", Selector(), since))
    assert list(store.watch(WORKFLOWS, "ns", Selector(), store.revision, deadline=0)) == []
    watch = store.watch(WORKFLOWS, None, Selector(), store.revision)  # started, not read yet
    store.close_watches()
    with pytest.raises(WatchClosed):
        next(watch)
    store.close()
    with pytest.raises(WatchClosed):
        next(store.watch(WORKFLOWS, None, Selector(), store.revision))
    with pytest.raises(ApiError, match='"a" already exists'):
        store.create(WORKFLOWS, "ns", {"metadata": {"name": "a"}})
    named = [store.create(WORKFLOWS, "ns", {"metadata": {"generateName": "g-"}})["metadata"]["name"]
             for _ in range(20)]
    assert len(set(named)) == 20
    long = store.create(WORKFLOWS, "ns", {"metadata": {"generateName": "p" * 70 + "-"}})["metadata"]["name"]
    assert len(long) == 63 and long.startswith("p" * 58)  # the prefix cut as the API server cuts it
