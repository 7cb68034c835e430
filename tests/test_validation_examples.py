"""Argo's own examples and e2e workflows lint clean; broken variants of them do not.

The documents come from ``../shared/argo/v3.7.18`` (``examples/``, ``e2e/functional/``,
``e2e/expectedfailures/``); the tests skip when it is absent.  Expected failures
fail at run time, not at lint time, except the few listed in :data:`EXCLUDED`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argo_reference import ReferenceDocument, documents_of, reference_files, shared_argo

from workflows.validation import lint_spec

KINDS = frozenset({"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"})

#: Documents Argo itself refuses, with why and the problem we must report (field → reason prefix).
EXCLUDED = {
    "e2e/expectedfailures/empty-parameter-dag.yaml": (
        "argo lint rejects it: 'inputs.parameters.message was not supplied' (test/e2e/cli_test.go LintFileEmptyParamDAG)",
        {
            "spec.templates[0].dag.tasks[0].arguments": "input parameter 'message' of template 'whalesay' is not supplied"
        },
    ),
    "e2e/expectedfailures/empty-parameter-steps.yaml": (
        "argo lint rejects it: 'inputs.parameters.message was not supplied' (cli_test.go LintFileEmptyParamSteps)",
        {"spec.templates[0].steps[0][0].arguments": "input parameter 'message' of template 'whalesay' is not supplied"},
    ),
    "e2e/expectedfailures/misreference-template-name.yaml": (
        "argo lint rejects it: template name 'hell0' undefined (cli_test.go LintFileMisreferenceTemplate)",
        {"spec.templates[0].steps[1][0].template": "template 'hell0' is not defined"},
    ),
    "e2e/expectedfailures/dag-failFast-hang.yaml": (
        "upper-case generateName 'dag-hang-failFast-': the Kubernetes API server refuses the object "
        "(names are lower-case DNS-1123 subdomains); no Argo test submits this file",
        {"metadata.generateName": "invalid prefix 'dag-hang-failFast-'"},
    ),
    "e2e/functional/continue-on-failed.yaml": (
        "'dependencies' on a step is not a field of WorkflowStep: argo lint (strict by default) rejects it, "
        "the controller's lenient decoder ignores it; no Argo test uses this file",
        {"spec.templates[0].steps[1][0].dependencies": "unknown field 'dependencies'"},
    ),
    "e2e/functional/output-jqfilter-parameters.yaml": (
        "'jqfilter' instead of 'jqFilter': argo lint decodes strictly and case-sensitively (sigs.k8s.io/json) and "
        "rejects it; only the controller's case-insensitive decoder accepts it",
        {"spec.templates[2].outputs.parameters[1].valueFrom.jqfilter": "unknown field 'jqfilter'"},
    ),
}


def _argo_documents(relative: str) -> tuple[ReferenceDocument, ...]:
    """The Argo workflow documents of the file ``relative`` (other kinds, like ConfigMaps, are skipped)."""
    return tuple(document for document in documents_of(relative) if document.kind in KINDS)


def test_reference_data_is_found() -> None:
    shared_argo()
    files = reference_files()
    assert len(files) > 200
    assert set(EXCLUDED) <= set(files)
    assert sum(len(_argo_documents(relative)) for relative in files) > 250


@pytest.mark.parametrize("relative", reference_files())
def test_argo_documents_lint_clean(relative: str) -> None:
    documents = _argo_documents(relative)
    if relative in EXCLUDED:
        _, expected = EXCLUDED[relative]
        problems = [problem for document in documents for problem in lint_spec(document.data)]
        for field, reason in expected.items():
            assert any(p.field == field and p.reason.startswith(reason) for p in problems), (field, problems)
        return
    for document in documents:
        assert lint_spec(document.data) == [], (document.index, document.data.get("metadata"))


# --- broken variants -----------------------------------------------------------------------------


def _clean_documents() -> Iterator[ReferenceDocument]:
    for relative in reference_files():
        if relative not in EXCLUDED:
            yield from _argo_documents(relative)


def _spec(document: dict) -> tuple[dict, str]:
    if document["kind"] == "CronWorkflow":
        return document["spec"]["workflowSpec"], "spec.workflowSpec"
    return document["spec"], "spec"


def _templates(document: dict) -> list[tuple[int, dict]]:
    spec, _ = _spec(document)
    return list(enumerate(spec.get("templates") or []))


def _first(document: dict, kind: str) -> tuple[int, dict] | None:
    return next(((index, template) for index, template in _templates(document) if kind in template), None)


def _mutate_unknown_field(document: dict) -> str | None:
    found = _first(document, "container")
    if found is None:
        return None
    index, template = found
    template["container"]["imagee"] = "busybox"
    return f"{_spec(document)[1]}.templates[{index}].container.imagee"


def _mutate_entrypoint(document: dict) -> str | None:
    spec, path = _spec(document)
    if not spec.get("templates"):
        return None
    spec["entrypoint"] = "no-such-template"
    return f"{path}.entrypoint"


def _mutate_duplicate_template(document: dict) -> str | None:
    templates = _templates(document)
    if len(templates) < 2:
        return None
    templates[1][1]["name"] = templates[0][1]["name"]
    return f"{_spec(document)[1]}.templates[1].name"


def _mutate_wrong_type(document: dict) -> str | None:
    templates = _templates(document)
    if not templates:
        return None
    templates[0][1]["retryStrategy"] = {"limit": [1]}
    return f"{_spec(document)[1]}.templates[0].retryStrategy.limit"


def _mutate_unknown_dependency(document: dict) -> str | None:
    found = _first(document, "dag")
    if found is None:
        return None
    index, template = found
    template["dag"]["tasks"][0]["dependencies"] = ["no-such-task"]
    template["dag"]["tasks"][0].pop("depends", None)
    for task in template["dag"]["tasks"][1:]:  # dependencies and depends do not mix
        if "depends" in task:
            return None
    return f"{_spec(document)[1]}.templates[{index}].dag.tasks[0].dependencies[0]"


def _mutate_cycle(document: dict) -> str | None:
    found = _first(document, "dag")
    if found is None or len(found[1]["dag"]["tasks"]) < 2:
        return None
    index, template = found
    first, second = template["dag"]["tasks"][:2]
    for task in template["dag"]["tasks"]:
        task.pop("dependencies", None)
        task["depends"] = ""
    first["depends"], second["depends"] = second["name"], first["name"]
    return f"{_spec(document)[1]}.templates[{index}].dag.tasks[0].depends"


def _mutate_step_reference(document: dict) -> str | None:
    found = _first(document, "steps")
    if found is None or not found[1]["steps"] or not found[1]["steps"][0]:
        return None
    index, template = found
    template["steps"][0][0]["when"] = "{{steps.no-such-step.outputs.result}} == 1"
    return f"{_spec(document)[1]}.templates[{index}].steps[0][0].when"


def _mutate_input_reference(document: dict) -> str | None:
    found = _first(document, "container")
    if found is None:
        return None
    index, template = found
    template["container"]["args"] = ["{{inputs.parameters.no-such-input}}"]
    return f"{_spec(document)[1]}.templates[{index}].container.args[0]"


MUTATIONS = [
    _mutate_unknown_field,
    _mutate_entrypoint,
    _mutate_duplicate_template,
    _mutate_wrong_type,
    _mutate_unknown_dependency,
    _mutate_cycle,
    _mutate_step_reference,
    _mutate_input_reference,
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.__name__[len("_mutate_") :])
def test_broken_variants_are_rejected_at_the_broken_field(mutation) -> None:
    shared_argo()
    applied = 0
    for document in _clean_documents():
        broken = document.copy()
        field = mutation(broken)
        if field is None:
            continue
        applied += 1
        fields = {problem.field for problem in lint_spec(broken)}
        assert field in fields, (document.relative, document.index, field, fields)
    assert applied >= 5
