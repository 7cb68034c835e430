"""Argo's vocabulary in one module: the phase enum, template kinds, artifact locations, the walker."""

from __future__ import annotations

import json

import pytest

from workflows import argo
from workflows.engine.support import unsupported_features
from workflows.operations.base import OperationStatus
from workflows.vocabulary import (
    ARTIFACT_LOCATIONS,
    FAILED_OR_ERROR,
    Phase,
    artifact_location,
    template_type,
    walk_templates,
)


def test_phase_members_are_the_strings() -> None:
    assert argo.Phase is Phase
    assert Phase.Succeeded == "Succeeded" and "Failed" in FAILED_OR_ERROR
    assert Phase.NodeError is Phase.Error and Phase.NodeSucceeded == "Succeeded"
    assert f"{Phase.Running}" == "Running" and str(Phase.Error) == "Error"
    assert json.dumps({"phase": Phase.Failed}) == '{"phase": "Failed"}'
    assert {Phase.Skipped: 1}["Skipped"] == 1
    assert Phase.FINISHED == ("Succeeded", "Skipped", "Failed", "Error")
    assert OperationStatus.SUCCEEDED == "Succeeded"


@pytest.mark.parametrize("template, expected", [
    ({"name": "a", "container": {"image": "x"}}, "container"),
    ({"name": "a", "dag": {"tasks": []}}, "dag"),
    ({"name": "a", "http": {"url": "http://x"}}, "http"),
    ({"name": "a", "plugin": {"hello": {}}}, "plugin"),
    ({"name": "a"}, None),
])
def test_template_type_is_argos(template: dict, expected: str | None) -> None:
    assert template_type(template) == expected


def test_a_plugin_artifact_is_refused_up_front_by_the_local_engine() -> None:
    assert "plugin" in ARTIFACT_LOCATIONS
    artifact = {"name": "data", "path": "/tmp/data", "plugin": {"configuration": "key: value"}}
    assert artifact_location(artifact) == "plugin"
    manifest = {"spec": {"entrypoint": "main", "templates": [
        {"name": "main", "inputs": {"artifacts": [artifact]}, "container": {"image": "busybox"}}]}}
    problems = unsupported_features(manifest)
    assert problems == ["template 'main' inputs: artifact 'data' from plugin storage is not supported locally"]


def test_a_raw_artifact_stays_supported_locally() -> None:
    artifact = {"name": "data", "path": "/tmp/data", "raw": {"data": "hello"}}
    manifest = {"spec": {"entrypoint": "main", "templates": [
        {"name": "main", "inputs": {"artifacts": [artifact]}, "container": {"image": "busybox"}}]}}
    assert unsupported_features(manifest) == []


def test_a_template_without_a_type_is_refused_up_front() -> None:
    problems = unsupported_features({"spec": {"templates": [{"name": "nothing"}]}})
    assert problems == ["template 'nothing': the template has no type (set one of container, script, steps, dag, "
                        "suspend, http, resource, containerSet)"]


def test_the_walker_labels_inline_templates_by_their_holder_and_skips_malformed_entries() -> None:
    inner = {"script": {"image": "x", "source": "true"}}
    middle = {"dag": {"tasks": [{"name": "t", "inline": inner}, "junk"]}}
    templates = [{"name": "main", "steps": [[{"name": "s", "inline": middle}], "junk"]}, 42]
    assert [(label, template_type(t)) for label, t in walk_templates(templates)] == [
        ("main", "steps"), ("s", "dag"), ("t", "script")]
    assert list(walk_templates(None)) == []
