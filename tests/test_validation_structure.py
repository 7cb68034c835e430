"""The model of Argo's schema (drift against ../shared) and the structural check built on it."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
from argo_reference import SCHEMA_VERSIONS, official_schema_errors, shared_argo

from workflows.validation import lint_spec
from workflows.validation.model import MODEL_FILE, load_model
from workflows.validation.structure import QUANTITY, check_structure

REPOSITORY = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_argo_model", REPOSITORY / "tools" / "generate_argo_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def workflow(*templates: dict, **spec: object) -> dict:
    """A minimal valid Workflow running ``templates`` (the first one is the entrypoint)."""
    templates = templates or ({"name": "main", "container": {"image": "alpine:3.19", "command": ["true"]}},)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "demo-"},
        "spec": {"entrypoint": templates[0]["name"], "templates": list(templates), **spec},
    }


def container(**fields: object) -> dict:
    return {"name": "main", "container": {"image": "alpine:3.19", **fields}}


def structure(document: dict) -> list[str]:
    return sorted(map(str, check_structure(document, load_model().roots[document["kind"]])))


# --- the model and its drift check -------------------------------------------------------------


def test_committed_model_matches_the_official_schemas() -> None:
    shared = shared_argo()
    generator = _generator()
    assert generator.SCHEMA_VERSIONS == SCHEMA_VERSIONS
    regenerated = generator.render(generator.build_model(generator.load_schemas(shared)))
    assert json.loads(regenerated) == json.loads(MODEL_FILE.read_text()), "run tools/generate_argo_model.py"
    assert regenerated == MODEL_FILE.read_text()


def test_model_file_says_where_it_comes_from_and_stays_small() -> None:
    data = json.loads(MODEL_FILE.read_text())
    assert "Apache-2.0" in data["about"] and "argoproj/argo-workflows" in data["about"]
    assert data["schemas"] == ["v3.7.18", "v4.1.2"]
    assert set(data["roots"]) == {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"}
    assert MODEL_FILE.stat().st_size < 64 * 1024


def test_model_is_the_union_of_the_schema_versions() -> None:
    definitions = load_model().definitions
    cron = definitions["CronWorkflowSpec"]
    assert {"schedule", "schedules"} <= set(cron.properties)  # v3.7 only, both
    assert cron.required == ("workflowSpec",)  # v4.1 also requires schedules: not required in both
    assert "podResources" in definitions["Template"].properties  # v4.1 only
    cache = definitions["Cache"].properties["configMap"].definition
    assert set(cache.properties) == {"name", "key", "optional"} and cache.required == ()


def test_model_types_what_the_schema_types_as_plain_strings() -> None:
    definitions = load_model().definitions
    assert definitions["RetryStrategy"].properties["limit"].kind == "int-or-string"
    limits = definitions["core.v1.ResourceRequirements"].properties["limits"]
    assert (limits.kind, limits.element.kind) == ("map", "quantity")
    assert definitions["Parameter"].properties["value"].kind == "any"  # Argo's AnyString
    assert definitions["Template"].properties["plugin"].kind == "object"  # free-form
    assert definitions["Template"].properties["steps"].element.element.definition.name == "WorkflowStep"


def test_generator_refuses_versions_it_cannot_merge() -> None:
    generator = _generator()
    definitions = {
        f"{generator.ARGO}{kind}": {"type": "object", "properties": {"x": {"type": "string"}}}
        for kind in generator.ROOT_KINDS
    }
    changed = copy.deepcopy(definitions)
    changed[f"{generator.ARGO}Workflow"]["properties"]["x"] = {"type": "integer"}
    with pytest.raises(ValueError, match=r"Workflow\.x: the schema versions disagree \(string vs integer\)"):
        generator.build_model({"a": {"definitions": definitions}, "b": {"definitions": changed}})


# --- the structural check ----------------------------------------------------------------------


def test_a_valid_workflow_has_no_structural_problem() -> None:
    assert structure(workflow()) == []


def test_unknown_fields_are_reported_with_a_suggestion() -> None:
    document = workflow(container(imagee="x"), entrypont="main")
    assert structure(document) == [
        "spec.entrypont: unknown field 'entrypont', did you mean 'entrypoint'?",
        "spec.templates[0].container.imagee: unknown field 'imagee', did you mean 'image'?",
    ]


def test_unknown_fields_far_from_any_known_one_have_no_suggestion() -> None:
    assert structure(workflow(container(zzz=1))) == ["spec.templates[0].container.zzz: unknown field 'zzz'"]


def test_field_names_are_case_sensitive_like_argo_lint() -> None:
    assert structure(workflow(container(Args=["x"]))) == [
        "spec.templates[0].container.Args: unknown field 'Args', did you mean 'args'?"
    ]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            {"name": "main", "retryStrategy": {"limit": [1]}, "suspend": {}},
            "spec.templates[0].retryStrategy.limit: expected an integer or string, got list [1]",
        ),
        (container(command="echo hi"), "spec.templates[0].container.command: expected a list, got string 'echo hi'"),
        (container(args=["a", 3]), "spec.templates[0].container.args[1]: expected a string, got integer 3"),
        (container(tty="yes"), "spec.templates[0].container.tty: expected a boolean, got string 'yes'"),
        (
            container(ports=[{"containerPort": 80.5}]),
            "spec.templates[0].container.ports[0].containerPort: expected an integer, got number 80.5",
        ),
        (
            container(ports=[{"containerPort": True}]),
            "spec.templates[0].container.ports[0].containerPort: expected an integer, got boolean True",
        ),
        (container(env={"A": "1"}), "spec.templates[0].container.env: expected a list, got map {'A': '1'}"),
        (
            {"name": "main", "inputs": [], "suspend": {}},
            "spec.templates[0].inputs: expected a map, got list []",
        ),
    ],
)
def test_wrong_types_name_the_expected_type_and_the_value(template: dict, problem: str) -> None:
    assert structure(workflow(template)) == [problem]


def test_int_or_string_accepts_both() -> None:
    for limit in (3, "3", "{{inputs.parameters.retries}}"):
        assert structure(workflow({"name": "main", "retryStrategy": {"limit": limit}, "suspend": {}})) == []


@pytest.mark.parametrize(
    "value", ["100m", "0.5", "1", "1.5Gi", "64Mi", "2e3", "1E-3", "+1k", ".5", "5.", "10n", "3u", 2, 0.25]
)
def test_valid_quantities(value: object) -> None:
    assert structure(workflow(container(resources={"limits": {"cpu": value}}))) == []


@pytest.mark.parametrize("value", ["", "1 Gi", "1gi", "1GB", "1.2.3", "m", ".", "1Kib", "e3", "1e", "--1"])
def test_invalid_quantities(value: str) -> None:
    assert not QUANTITY.match(value)
    assert structure(workflow(container(resources={"requests": {"memory": value}}))) == [
        f"spec.templates[0].container.resources.requests.memory: not a Kubernetes quantity: {value!r} "
        "(examples: '500m', '0.5', '64Mi', '2Gi')"
    ]


def test_quantities_are_not_booleans() -> None:
    assert structure(workflow(container(resources={"limits": {"cpu": True}}))) == [
        "spec.templates[0].container.resources.limits.cpu: expected a Kubernetes quantity "
        "(a number or a string like '500m' or '1Gi'), got boolean True"
    ]


def test_required_fields() -> None:
    document = workflow(container(env=[{"value": "x"}]))
    del document["spec"]
    document["spec"] = {"templates": [{"name": "main", "dag": {}}]}
    assert structure(document) == ["spec.templates[0].dag.tasks: required field is missing"]
    assert structure({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}) == [
        "metadata: required field is missing",
        "spec: required field is missing",
    ]


def test_null_counts_as_absent() -> None:
    document = workflow(container(args=None, env=[{"name": "A", "value": None}]), arguments={"parameters": None})
    assert structure(document) == []
    assert structure(workflow(container(env=[{"name": None}]))) == [
        "spec.templates[0].container.env[0].name: required field is missing"
    ]


def test_labels_and_annotations_are_maps_of_strings() -> None:
    document = workflow()
    document["metadata"]["labels"] = {"app.kubernetes.io/name": "demo", "version": 2}
    document["metadata"]["annotations"] = {3: "x"}
    assert structure(document) == [
        "metadata.annotations[3]: map keys must be strings, got integer 3",
        "metadata.labels.version: expected a string, got integer 2",
    ]


def test_free_form_fields_are_not_walked() -> None:
    document = workflow({"name": "main", "plugin": {"hello": {"anything": [1, {"goes": True}]}}})
    document["spec"]["templates"][0]["inputs"] = {"parameters": [{"name": "p", "value": 3, "enum": [1, "a", True]}]}
    assert structure(document) == []


def test_cron_workflows_are_walked_through_their_workflow_spec() -> None:
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "nightly"},
        "spec": {"schedules": ["0 1 * * *"], "workflowSpec": workflow(container(imagee="x"))["spec"]},
    }
    assert structure(document) == [
        "spec.workflowSpec.templates[0].container.imagee: unknown field 'imagee', did you mean 'image'?"
    ]


def test_paths_quote_keys_that_are_not_identifiers() -> None:
    document = workflow(container(resources={"limits": {"nvidia.com/gpu": "one"}}))
    assert structure(document) == [
        "spec.templates[0].container.resources.limits[\"nvidia.com/gpu\"]: not a Kubernetes quantity: 'one' "
        "(examples: '500m', '0.5', '64Mi', '2Gi')"
    ]


def test_the_official_schema_misses_what_the_model_catches() -> None:
    document = workflow(container(imagee="x"))
    assert official_schema_errors(document) == {version: [] for version in SCHEMA_VERSIONS}
    assert any("imagee" in problem.field for problem in lint_spec(document))
