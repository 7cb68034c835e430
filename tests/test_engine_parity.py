"""Parity with Argo: run Argo's own examples and e2e workflows on the local engine, expect Argo's phase.

Which workflows run is decided here, per workflow, from what the local engine
supports (see ``refusal``); ``python tests/test_engine_parity.py`` prints the
table of what runs and what is refused, and why (kept in ``bench/README.md``).
Argo expects ``e2e/expectedfailures/*`` to end ``Failed`` or ``Error`` and the
others to succeed, except the examples below that fail on purpose.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argo_reference import REFERENCE_VERSION, SHARED_ARGO, reference_documents

VERSION_DIR = SHARED_ARGO / REFERENCE_VERSION
FINISHED = ("Succeeded", "Failed", "Error")
#: Examples that end Failed on purpose (their comments or commands say so), with the reason.
FAIL_ON_PURPOSE = {
    "examples/dag-disable-failFast.yaml": "task C exits 2 on every attempt",
    "examples/dag-task-level-timeout.yaml": "task B's 10s timeout stops its 15s sleep",
    "examples/step-level-timeout.yaml": "both steps time out; one only continues on error",
    "examples/timeouts-workflow.yaml": "its 30s activeDeadlineSeconds stops the day-long sleeps",
    "examples/loops-arbitrary-sequential-steps.yaml": "an item exits 1 ('will fail and stop here'), failFast",
    "examples/pod-gc-strategy.yaml": "its 'fail' step exits 1, to show the pods GC keeps",
    "examples/pod-gc-strategy-with-label-selector.yaml": "its 'fail' step exits 1, to show the pods GC keeps",
    "examples/retry-conditional.yaml": "its script exits 1 or 2, never 0: the expression only bounds the retries",
    "examples/exit-handlers.yaml": "its entrypoint 'intentional-fail' exits 1; the exit handler still runs",
    "examples/timeouts-step.yaml": "its 10s activeDeadlineSeconds stops the day-long sleep",
    "examples/dag-continue-on-fail.yaml": "task E fails on purpose and G, which needs it, is omitted, so the DAG "
                                          "fails (Argo's assessDAGPhase: an omitted leaf inherits its parent's failure)",
}
#: Functional e2e workflows that end other than Succeeded in Argo: the phase, and why (Argo's own e2e test, or
#: what its images do).
ARGO_E2E_PHASES = {
    "e2e/functional/sidecar-volumes.yaml": ("Failed", "no Argo test runs it: its 'verify' step runs `[[` in "
                                                      "argosay:v2's sh, Ubuntu's dash, which exits 127"),
    "e2e/functional/dag-omitted-output-ref.yaml": ("Error", "TestDAGOmittedOutputRef: an absent optional reaches "
                                                            "an input without default"),
    "e2e/functional/dag-skipped-output-ref.yaml": ("Error", "TestDAGSkippedOutputRef: an absent optional reaches "
                                                            "an input without default"),
    "e2e/functional/dag-skipped-artifact-subpath-ref.yaml": ("Error", "TestDAGSkippedArtifactSubPathRef: an absent "
                                                                      "optional in an artifact's subPath"),
    "e2e/functional/steps-skipped-withparam-ref.yaml": ("Failed", "TestStepsSkippedWithParamRef: withParam from an "
                                                                  "absent optional; the steps roll up Failed"),
}
#: Examples whose outcome is random in Argo too (random exit codes): any final phase is right.
RANDOM = {
    "examples/retry-backoff.yaml", "examples/retry-container.yaml", "examples/retry-container-to-completion.yaml",
    "examples/retry-on-error.yaml", "examples/retry-script.yaml", "examples/retry-with-steps.yaml",
    "examples/status-reference.yaml", "examples/resubmit.yaml", "examples/custom-metrics.yaml",
    "examples/template-defaults.yaml", "e2e/functional/retry-script.yaml",
    "examples/workflow-template/retry-with-steps.yaml",  # 10 retries of a 2-in-3 failure: almost always succeeds
    "e2e/functional/dag-with-retries.yaml",  # 20 retries of a 4-in-5 failure: fails about one run in 110
}
#: Workflows whose node message Argo fixes, where the local engine enforces limits with a cgroup.
EXPECTED_MESSAGES = {"e2e/expectedfailures/oom-kill.yaml": "OOMKilled (exit code 137)"}
#: Workflows that wait for a manual resume (``argo resume``): the parity run resumes their suspend steps.
RESUMED = {"examples/suspend-template.yaml", "examples/intermediate-parameters.yaml",
           "e2e/functional/suspend-dag-template.yaml"}
#: Workflows the local engine would run, left out of the parity run, and why.
EXCLUDED = {
    "examples/forever.yaml": "runs until it is stopped (Argo's e2e tests stop it)",
    **{example: "runs until it is stopped or terminated (Argo's e2e tests do it)"
       for example in ("e2e/functional/stop-terminate.yaml", "e2e/functional/stop-terminate-2.yaml",
                       "e2e/functional/workflow-exit-handler-sleep.yaml", "e2e/functional/resource-template.yaml")},
    "examples/suspend-template-outputs.yaml": "Argo's resume refuses it until its suspend step's output, which has "
                                              "no default, is set (argo node set), which the local engine does not "
                                              "offer",
    "e2e/expectedfailures/serviceaccount-insufficient-permissions.yaml": "fails in Argo through Kubernetes RBAC (its "
                                                                         "service account lacks the executor's rights)",
    **{example: "its HTTP template calls a public web site; the parity run has no internet access"
       for example in ("examples/http-hello-world.yaml", "examples/http-success-condition.yaml",
                       "examples/life-cycle-hooks-tmpl-level.yaml", "examples/life-cycle-hooks-wf-level.yaml")},
    "e2e/expectedfailures/pns/pns-quick-exit-output-art.yaml": "fails in Argo through a timing limit of its PNS "
                                                              "executor, not through the workflow's logic",
}


def documents_of_kind(kinds: tuple[str, ...]) -> list[tuple[str, dict]]:
    """``(relative path, a fresh copy of the document)`` for every document of one of ``kinds`` in the reference
    data (the run may change what it is given)."""
    return [(document.relative, document.copy()) for document in reference_documents() if document.kind in kinds]


def workflow_documents() -> list[tuple[str, dict]]:
    """``(relative path, document)`` for every Workflow of the reference data."""
    return documents_of_kind(("Workflow",))


def template_documents() -> list[dict]:
    """The WorkflowTemplates and ClusterWorkflowTemplates the reference data defines (applied before the runs)."""
    from workflows.templaterefs import TEMPLATE_KINDS

    return [document for _, document in documents_of_kind(TEMPLATE_KINDS)]


def refusal(relative: str, document: dict, templates=None) -> str | None:
    """Why the local engine does not run this workflow (``None`` when it does); ``templates`` (a
    :class:`workflows.templaterefs.TemplateLibrary`) resolves its WorkflowTemplate references."""
    from workflows.engine.templates import with_defaults
    from workflows.engine.pod.images import how_to_run
    from workflows.engine.support import unsupported_features
    from workflows.templaterefs import TemplateLibrary, TemplateNotFound, resolve_references
    from workflows.validation import lint_spec
    from workflows.vocabulary import walk_templates

    if relative in EXCLUDED:
        return EXCLUDED[relative]
    try:
        document = resolve_references(document, templates if templates is not None else TemplateLibrary())
    except TemplateNotFound as error:
        return str(error)
    problems = lint_spec(document)
    if problems:
        return f"does not pass lint: {problems[0]}"
    unsupported = unsupported_features(document)
    if unsupported:
        return unsupported[0]
    defaults = document["spec"].get("templateDefaults") or {}
    for label, template in walk_templates(document["spec"].get("templates")):
        template = with_defaults(template, defaults)  # as the engine applies templateDefaults
        body = template.get("container") or template.get("script")
        containers = [*((template.get("containerSet") or {}).get("containers") or []),
                      *(template.get("sidecars") or []), *(template.get("initContainers") or [])]
        for image in [container.get("image", "") for container in containers]:
            plan = how_to_run(image) if image else None
            if plan is None or plan.kind not in ("host", "application"):
                return f"template {label!r}: image {image!r} does not run on the host"
        if body is None:
            continue
        image = body.get("image", "")
        if "{{" in image:  # chosen at run time: the engine decides then
            continue
        plan = how_to_run(image) if image else None
        if plan is None or plan.kind not in ("host", "application"):
            return f"template {label!r}: image {image!r} does not run on the host"
        for mount in body.get("volumeMounts") or []:
            declared = {v["name"]: v for v in document["spec"].get("volumes") or []}
            claims = {t["metadata"]["name"] for t in document["spec"].get("volumeClaimTemplates") or []}
            if mount["name"] not in declared and mount["name"] not in claims:
                return f"template {label!r}: volume {mount['name']!r} is not declared in the workflow"
    return None


def expected_phases(relative: str) -> tuple[str, ...]:
    """The phases Argo expects this workflow to end in."""
    if relative in RANDOM:
        return FINISHED
    if relative in ARGO_E2E_PHASES:
        return (ARGO_E2E_PHASES[relative][0],)
    if relative.startswith("e2e/expectedfailures/") or relative in FAIL_ON_PURPOSE:
        return ("Failed", "Error")
    return ("Succeeded",)


#: Relative path → how each node of the workflow that did not succeed ended (``name: phase: message``), what a
#: wrong phase is explained with.
NODE_ENDS: dict[str, list[str]] = {}


def run_all(documents: list[tuple[str, dict]], timeout: float) -> dict[str, tuple[str, str]]:
    """Submit every document and wait for each from the moment it is submitted (a workflow with a short
    ``ttlStrategy`` is deleted soon after it ends); return relative path → (phase, message)."""
    from workflows import argo

    deadline = time.monotonic() + timeout

    def wait(relative: str, workflow) -> tuple[str, str]:
        try:
            if relative in RESUMED:
                resume_manual_suspends(workflow.name, max(1.0, deadline - time.monotonic()))
            final = workflow.wait(max(1.0, deadline - time.monotonic()))
        except TimeoutError as error:
            return "Timeout", str(error)
        NODE_ENDS[relative] = [f"{node['displayName']}: {node['phase']}: {node.get('message') or ''}"
                               for node in final.nodes.values() if node["phase"] != "Succeeded"]
        return final.status, final.get_status_message() or ""

    with ThreadPoolExecutor(max_workers=max(1, len(documents))) as pool:
        waits = [(relative, pool.submit(wait, relative, argo.submit_workflow(document)))
                 for relative, document in documents]
        return {relative: future.result() for relative, future in waits}


def resume_manual_suspends(name: str, timeout: float) -> None:
    """Resume the workflow each time a suspend step without duration waits (as a user would), until it ends."""
    from workflows.backends import get_backend

    backend = get_backend()
    resumed: set[str] = set()
    for workflow in backend.watch(name, timeout):
        templates = {template["name"]: template for template in workflow["spec"].get("templates") or []}
        waiting = {node["id"] for node in (workflow["status"].get("nodes") or {}).values()
                   if node["type"] == "Suspend" and node["phase"] == "Running"
                   and not (templates.get(node.get("templateName"), {}).get("suspend") or {}).get("duration")}
        if waiting - resumed:
            backend.resume(name)
            resumed |= waiting


@pytest.fixture(scope="module")
def parity_results(tmp_path_factory):
    if not VERSION_DIR.is_dir():
        pytest.skip(f"Argo reference data not found at {VERSION_DIR}")
    from workflows.engine.store import Store
    from workflows.engine.templatestore import TemplateStore
    from workflows.templaterefs import TemplateLibrary

    home = tmp_path_factory.mktemp("parity")
    saved = {key: os.environ.get(key) for key in ("WORKFLOWS_HOME", "WORKFLOWS_BACKEND")}
    os.environ.update(WORKFLOWS_HOME=str(home), WORKFLOWS_BACKEND="local")
    try:
        templates = TemplateLibrary(template_documents())
        stored = TemplateStore(Store())
        for document in template_documents():
            stored.put(document)
        runnable = [(relative, document) for relative, document in workflow_documents()
                    if refusal(relative, document, templates) is None]
        yield run_all(runnable, timeout=240)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_argo_workflows_end_in_the_phase_argo_expects(parity_results):
    wrong = {relative: result for relative, result in parity_results.items()
             if result[0] not in expected_phases(relative)}
    assert not wrong, "\n".join(f"{relative}: {phase}: {message} (expected {expected_phases(relative)}); "
                                f"nodes: {NODE_ENDS.get(relative)}"
                                for relative, (phase, message) in sorted(wrong.items()))
    assert len(parity_results) >= 60, f"only {len(parity_results)} Argo workflows ran"


def test_argo_oom_kill_ends_as_argo_ends_it(parity_results):
    """The 5M memory bomb is held to its limit and its pod killed, reported as Argo reports an OOM kill."""
    from workflows.engine.pod.limits import probe

    if probe() == "rlimit":
        pytest.skip("no delegable cgroup here: memory limits fall back to RLIMIT_AS, without OOM kills")
    for relative, message in EXPECTED_MESSAGES.items():
        assert parity_results[relative] == ("Failed", message)


PARITY_DOC = Path(__file__).resolve().parents[1] / "docs" / "parity.md"


def report() -> str:
    """``docs/parity.md``: every reference workflow, whether it runs (and its expected phase) or is refused, and why."""
    from workflows.templaterefs import TemplateLibrary

    rows = []
    templates = TemplateLibrary(template_documents())
    for relative, document in workflow_documents():
        reason = refusal(relative, document, templates)
        verdict = f"runs, expected {' or '.join(expected_phases(relative))}" if reason is None else f"refused: {reason}"
        rows.append(f"| `{relative}` | {verdict.replace('|', '¦')} |")
    running = sum(1 for row in rows if "| runs, " in row)
    return "\n".join([
        "# Argo's workflows on the local engine",
        "",
        "Generated by `python tests/test_engine_parity.py` from Argo v3.7.18's examples and e2e workflows "
        "(`../shared/argo`). `tests/test_engine_parity.py` applies the WorkflowTemplates and ClusterWorkflowTemplates "
        "those folders define, runs every workflow marked *runs* and checks that it ends "
        "in the phase Argo expects; it also fails when this file is out of date.",
        "",
        f"{running} of {len(rows)} workflows run; {len(rows) - running} are refused at submission (or left out), "
        "with the reason below.",
        "",
        "| workflow | local engine |",
        "|---|---|",
        *rows,
    ]) + "\n"


def test_parity_document_is_up_to_date():
    if not VERSION_DIR.is_dir():
        pytest.skip(f"Argo reference data not found at {VERSION_DIR}")
    assert PARITY_DOC.read_text() == report(), "regenerate it: python tests/test_engine_parity.py > docs/parity.md"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print(report(), end="")
