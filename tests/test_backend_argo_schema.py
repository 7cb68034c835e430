"""The argo-server backend's requests and the answers it reads exist, with the same fields, in Argo 3.7 and 4.1."""

from __future__ import annotations

import json

import pytest
from argo_reference import SCHEMA_VERSIONS, official_schema_errors, shared_argo

PREFIX = "io.argoproj.workflow.v1alpha1."
#: Definition → the fields the backend sends or reads.
USED = {
    "WorkflowCreateRequest": {"namespace", "workflow"},
    "WorkflowStopRequest": {"name", "namespace"},
    "WorkflowList": {"metadata", "items"},
    "WorkflowWatchEvent": {"type", "object"},
    "LogEntry": {"content", "podName"},
}


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_the_fields_the_backend_uses_exist(version):
    definitions = json.loads((shared_argo() / version / "schema.json").read_text())["definitions"]
    for name, fields in USED.items():
        properties = definitions[PREFIX + name]["properties"]
        assert fields <= set(properties), (version, name, fields - set(properties))
    assert definitions[PREFIX + "WorkflowWatchEvent"]["properties"]["object"]["$ref"].endswith(PREFIX + "Workflow")
    assert "continue" in definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"]["properties"]


def test_the_bodies_the_backend_sends_follow_both_schemas():
    from workflows.operations import SingleTaskOperation
    from workflows.tasks import BashTask

    manifest = SingleTaskOperation("schema", BashTask("echo", "echo hi")).to_workflow()
    manifest["metadata"] = {"name": "schema-bcdfg", "labels": {"harness-workflows/submission": "0" * 32}}
    create = {"namespace": "default", "workflow": manifest}
    stop = {"name": "schema-bcdfg", "namespace": "default"}
    for body, name in ((create, "WorkflowCreateRequest"), (stop, "WorkflowStopRequest")):
        assert official_schema_errors(body, PREFIX + name) == {version: [] for version in SCHEMA_VERSIONS}
