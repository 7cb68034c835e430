"""deploy/rbac.yaml grants the kubernetes backend exactly the requests it sends."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from test_backend_cluster import WAIT, connect, environment, start_cluster  # noqa: F401 (autouse fixture)

from workflows import argo
from workflows.operations import PipelineOperation, SingleTaskOperation
from workflows.tasks import BashTask

RBAC = Path(__file__).resolve().parents[1] / "deploy" / "rbac.yaml"
ROUTES = [  # (method, path pattern, watch?) → (resource, verb), as the API server authorises requests
    ("POST", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows", None, ("workflows", "create")),
    ("GET", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows", True, ("workflows", "watch")),
    ("GET", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows", False, ("workflows", "list")),
    ("GET", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows/[^/]+", None, ("workflows", "get")),
    ("PATCH", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows/[^/]+", None, ("workflows", "patch")),
    ("DELETE", r"/apis/argoproj\.io/v1alpha1/namespaces/[^/]+/workflows/[^/]+", None, ("workflows", "delete")),
    ("GET", r"/api/v1/namespaces/[^/]+/pods", None, ("pods", "list")),
    ("GET", r"/api/v1/namespaces/[^/]+/pods/[^/]+/log", None, ("pods/log", "get")),
]


def authorised(request) -> tuple[str, str]:
    for method, pattern, watch, permission in ROUTES:
        if request.method == method and re.fullmatch(pattern, request.path) and (
                watch is None or watch == (request.query.get("watch") == "true")):
            return permission
    raise AssertionError(f"the backend sent a request the manifest does not describe: {request}")


def granted(account: str) -> set[tuple[str, str]]:
    documents = list(yaml.safe_load_all(RBAC.read_text()))
    kinds = {(document["kind"], document["metadata"]["name"]) for document in documents}
    assert {("ServiceAccount", account), ("Role", account), ("RoleBinding", account)} <= kinds
    (role,) = [document for document in documents if document["kind"] == "Role"
               and document["metadata"]["name"] == account]
    (binding,) = [document for document in documents if document["kind"] == "RoleBinding"
                  and document["metadata"]["name"] == account]
    assert binding["roleRef"]["name"] == account and binding["subjects"] == [{"kind": "ServiceAccount",
                                                                              "name": account}]
    return {(resource, verb) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}


def test_the_role_grants_exactly_what_the_backend_uses(tmp_path, monkeypatch):
    cluster = start_cluster(tmp_path)
    try:
        backend = connect("kubernetes", cluster, tmp_path, monkeypatch)
        cluster.lose_response_next(1, method="POST")  # the retry-safe path: create, 409, get
        workflow = PipelineOperation("rbac", [BashTask("a", "echo a"), BashTask("b", "echo b")]).execute(
            backend=backend).wait(WAIT)
        argo.get_workflows(status="Succeeded", backend=backend)
        argo.get_workflow_logs(workflow.name, backend=backend)
        running = SingleTaskOperation("rbac-stop", BashTask("slow", "sleep 30")).execute(backend=backend)
        running.stop()
        running.wait(WAIT)
        argo.delete_workflow(workflow.name, backend=backend)
        used = {authorised(request) for request in cluster.requests}
    finally:
        cluster.stop()
    assert used == granted("harness-workflows")


def test_the_executor_account_is_bound():
    assert granted("harness-workflows-executor") == {("workflowtaskresults", "create"),
                                                     ("workflowtaskresults", "patch")}
