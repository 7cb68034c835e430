"""Shared fixtures: every spec a test compiles is checked against Argo's official schemas."""

from __future__ import annotations

import json

import pytest
from argo_reference import SHARED_ARGO, official_schema_errors


@pytest.fixture(autouse=True)
def compiled_specs_follow_argo_schema(monkeypatch: pytest.MonkeyPatch):
    """Record every Workflow compiled during the test; after it, validate each against v3.7.18 and v4.1.2.

    Skipped silently when ``../shared/argo`` is absent (a user's clone).
    """
    from workflows.compiler import workflow

    compiled: list[dict] = []
    compile_workflow = workflow.compile_workflow

    def recording_compile(operation):
        spec = compile_workflow(operation)
        compiled.append(json.loads(json.dumps(spec)))
        return spec

    monkeypatch.setattr(workflow, "compile_workflow", recording_compile)
    yield compiled
    if not SHARED_ARGO.is_dir():
        return
    for spec in compiled:
        errors = {version: found for version, found in official_schema_errors(spec).items() if found}
        if errors:
            pytest.fail(f"compiled spec {spec['metadata']} does not follow Argo's schema: {errors}")


@pytest.fixture
def applications(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """An empty applications folder, selected with ``WORKFLOWS_APPLICATIONS``; registry and tag cleared."""
    root = tmp_path / "applications"
    root.mkdir()
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(root))
    monkeypatch.delenv("WORKFLOWS_REGISTRY", raising=False)
    monkeypatch.delenv("WORKFLOWS_TAG", raising=False)
    monkeypatch.delenv("WORKFLOWS_IMAGE", raising=False)
    return root


def add_application_task(root, app: str, task: str) -> None:
    """Create ``<root>/<app>/tasks/<task>/Dockerfile``."""
    folder = root / app / "tasks" / task
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\", \"-c\", \"print('hi')\"]\n")
