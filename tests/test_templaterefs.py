"""WorkflowTemplates: stored by ``workflows apply``, resolved for ``templateRef`` and ``workflowTemplateRef``."""

from __future__ import annotations

import pytest
import yaml

from workflows.cli import main
from workflows.engine.runner import _may_run_pods
from workflows.engine.store import Store
from workflows.engine.submission import submit
from workflows.engine.templatestore import TemplateStore
from workflows.templaterefs import (
    BadTemplateDocument, TemplateLibrary, TemplateNotFound, join_specs, resolve_references,
)

WAIT = 120


def echo_template(name: str, text: str = "{{inputs.parameters.message}}") -> dict:
    return {"name": name, "inputs": {"parameters": [{"name": "message"}]},
            "container": {"image": "busybox", "command": ["echo"], "args": [text]}}


PRINT = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "print"},
         "spec": {"entrypoint": "say", "arguments": {"parameters": [{"name": "message", "value": "from template"}]},
                  "templates": [echo_template("say")]}}
INNER = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate", "metadata": {"name": "inner"},
         "spec": {"templates": [
             echo_template("say"),
             {"name": "two", "steps": [
                 [{"name": "local", "template": "say",
                   "arguments": {"parameters": [{"name": "message", "value": "a"}]}}],
                 [{"name": "remote", "templateRef": {"name": "print", "template": "say"},
                   "arguments": {"parameters": [{"name": "message", "value": "b"}]}}]]}]}}


def workflow(spec: dict) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "ref-"},
            "spec": spec}


def test_template_ref_copies_the_template_and_its_own_callees():
    manifest = workflow({"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": [
        {"name": "A", "templateRef": {"name": "inner", "template": "two", "clusterScope": True}},
        {"name": "B", "depends": "A", "templateRef": {"name": "print", "template": "say"},
         "arguments": {"parameters": [{"name": "message", "value": "c"}]}}]}}]})
    resolved = resolve_references(manifest, TemplateLibrary([PRINT, INNER]))
    assert "templateRef" in str(manifest), "the caller's manifest is left as it was"
    templates = {template["name"]: template for template in resolved["spec"]["templates"]}
    assert sorted(templates) == ["inner-say", "inner-two", "main", "print-say"]
    tasks = templates["main"]["dag"]["tasks"]
    assert [task["template"] for task in tasks] == ["inner-two", "print-say"]
    assert not any("templateRef" in task for task in tasks)
    steps = [step for group in templates["inner-two"]["steps"] for step in group]
    # "say" inside the ClusterWorkflowTemplate is its own "say", not the workflow's nor print's
    assert [step["template"] for step in steps] == ["inner-say", "print-say"]


def test_copied_names_never_clash_with_the_workflows_templates():
    manifest = workflow({"entrypoint": "print-say", "templates": [
        {"name": "print-say", "steps": [[{"name": "s", "templateRef": {"name": "print", "template": "say"},
                                          "arguments": {"parameters": [{"name": "message", "value": "x"}]}}]]}]})
    resolved = resolve_references(manifest, TemplateLibrary([PRINT]))
    assert [template["name"] for template in resolved["spec"]["templates"]] == ["print-say", "print-say-2"]


def test_missing_templates_name_the_field():
    manifest = workflow({"entrypoint": "main", "templates": [{"name": "main", "steps": [
        [{"name": "s", "templateRef": {"name": "print", "template": "nope"}}]]}]})
    with pytest.raises(TemplateNotFound, match=r"spec.templates\[0\].steps\[0\]\[0\].templateRef: template 'nope' "
                                               r"not found in WorkflowTemplate 'print'"):
        resolve_references(manifest, TemplateLibrary([PRINT]))
    with pytest.raises(TemplateNotFound, match="ClusterWorkflowTemplate 'print' not found"):
        resolve_references(workflow({"workflowTemplateRef": {"name": "print", "clusterScope": True}}),
                           TemplateLibrary([PRINT]))


def test_workflow_template_ref_joins_the_specs_the_workflow_winning():
    joined = join_specs(PRINT["spec"], {"workflowTemplateRef": {"name": "print"}, "parallelism": 2,
                                        "arguments": {"parameters": [{"name": "message", "value": "mine"},
                                                                     {"name": "extra", "value": "1"}]}})
    assert joined["entrypoint"] == "say" and joined["parallelism"] == 2 and "workflowTemplateRef" not in joined
    assert joined["arguments"]["parameters"] == [{"name": "message", "value": "mine"}, {"name": "extra", "value": "1"}]
    assert PRINT["spec"]["arguments"]["parameters"][0]["value"] == "from template"


def test_bad_template_documents_are_refused():
    with pytest.raises(BadTemplateDocument, match="got 'Workflow'"):
        TemplateLibrary([workflow({})])
    with pytest.raises(BadTemplateDocument, match="metadata.name"):
        TemplateLibrary([{"kind": "WorkflowTemplate", "metadata": {}, "spec": {}}])


def test_the_store_keeps_kinds_apart_and_replaces_on_apply(workflows_home):
    store = TemplateStore(Store())
    store.put(PRINT)
    store.put({**INNER, "metadata": {"name": "print"}})
    assert store.names() == [("ClusterWorkflowTemplate", "print"), ("WorkflowTemplate", "print")]
    replaced = {**PRINT, "spec": {**PRINT["spec"], "entrypoint": "other"}}
    store.put(replaced)
    assert TemplateStore(Store()).get("WorkflowTemplate", "print")["spec"]["entrypoint"] == "other"
    assert store.delete("WorkflowTemplate", "print") and not store.delete("WorkflowTemplate", "print")
    assert store.get("WorkflowTemplate", "print") is None


def test_a_runner_is_started_with_the_references_resolved(workflows_home):
    """The runner is handed the stored manifest, references resolved: a ``workflowTemplateRef`` whose template
    holds a pod is seen to run pods (its zygote is started first thing, see workflows.engine.runner)."""
    store = Store()
    TemplateStore(store).put(PRINT)
    started: list[dict] = []
    stored = submit(store, workflow({"workflowTemplateRef": {"name": "print"}}),
                    lambda _, manifest: started.append(manifest))
    assert started == [stored]
    assert "workflowTemplateRef" not in stored["spec"] and _may_run_pods(stored)


def write_yaml(path, *documents) -> str:
    path.write_text(yaml.safe_dump_all(documents))
    return str(path)


def test_apply_then_run_a_workflow_template_ref(tmp_path, workflows_home, monkeypatch, capsys):
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    assert main(["apply", write_yaml(tmp_path / "t.yaml", PRINT, INNER)]) == 0
    assert "workflowtemplate/print stored" in capsys.readouterr().out
    assert main(["templates"]) == 0
    listing = capsys.readouterr().out
    assert "ClusterWorkflowTemplate  inner" in listing and "WorkflowTemplate         print" in listing
    from workflows import argo
    from workflows.backends import get_backend

    by_ref = argo.submit_workflow(workflow({"workflowTemplateRef": {"name": "print"}})).wait(WAIT)
    assert by_ref.status == "Succeeded"
    assert "from template" in "".join(get_backend().node_logs(by_ref.name).values())
    steps = argo.submit_workflow(workflow({"entrypoint": "main", "templates": [{"name": "main", "steps": [
        [{"name": "in", "templateRef": {"name": "inner", "template": "two", "clusterScope": True}}]]}]})).wait(WAIT)
    assert steps.status == "Succeeded"
    assert main(["delete-template", "print"]) == 0
    assert main(["delete-template", "print"]) == 2
    with pytest.raises(TemplateNotFound, match="WorkflowTemplate 'print' not found"):
        argo.submit_workflow(workflow({"workflowTemplateRef": {"name": "print"}}))


def test_apply_refuses_other_kinds_and_broken_templates(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    assert main(["apply", write_yaml(tmp_path / "w.yaml", workflow({"entrypoint": "x"}))]) == 2
    assert "kind 'Workflow': apply stores WorkflowTemplates" in capsys.readouterr().err
    broken = {**PRINT, "spec": {"templates": [{"name": "say", "container": {"image": "busybox", "bogus": 1}}]}}
    assert main(["apply", write_yaml(tmp_path / "b.yaml", broken)]) == 2
    assert "bogus" in capsys.readouterr().err


def test_lint_resolves_references_from_the_files_and_the_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    calling = write_yaml(tmp_path / "wf.yaml", workflow({"entrypoint": "main", "templates": [{"name": "main", "steps": [
        [{"name": "s", "templateRef": {"name": "print", "template": "say"}}]]}]}))
    assert main(["lint", calling]) == 1
    assert "WorkflowTemplate 'print' not found" in capsys.readouterr().out
    templates = write_yaml(tmp_path / "t.yaml", PRINT)
    assert main(["lint", calling, templates]) == 1  # found: its input 'message' is not supplied
    assert "input parameter 'message'" in capsys.readouterr().out
    assert main(["apply", templates]) == 0
    supplied = write_yaml(tmp_path / "ok.yaml", workflow({"entrypoint": "main", "templates": [{"name": "main",
                                                                                              "steps": [
        [{"name": "s", "templateRef": {"name": "print", "template": "say"},
          "arguments": {"parameters": [{"name": "message", "value": "m"}]}}]]}]}))
    assert main(["lint", supplied]) == 0
