"""Shared fixtures: every test runs in a clean environment with its own ``WORKFLOWS_HOME``, and every spec a test
compiles is checked against Argo's official schemas."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argo_reference import (
    SHARED_ARGO,
    ReferenceDocument,
    check_reference_documents_unchanged,
    official_schema_errors,
    reference_documents,
    shared_argo,
)


#: Configuration a test must never inherit from the caller's shell (the package's, Kafka's, Argo's, CloudHarness').
ISOLATED_PREFIXES = ("WORKFLOWS_", "KAFKA_", "ARGO_", "CH_")
#: Single variables that point the library somewhere too (the kubernetes backend reads the kubeconfig, or the
#: in-cluster configuration inside a pod).
ISOLATED_NAMES = ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")


def _clear_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES) or name in ISOLATED_NAMES:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True, scope="session")
def isolated_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """For module- and session-scoped fixtures too: no caller configuration, a state folder of the session's own."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clear_configuration(monkeypatch)
        home = tmp_path_factory.mktemp("session-home")
        monkeypatch.setenv("WORKFLOWS_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def argo_documents() -> tuple[ReferenceDocument, ...]:
    """Every document of Argo's example and e2e files, parsed once per session (skips when ``../shared/argo`` is
    absent). Shared: read them, or change ``document.copy()``. Parametrize with ``reference_documents()``."""
    shared_argo()
    return reference_documents()


@pytest.fixture(autouse=True, scope="session")
def argo_documents_stay_unchanged() -> Iterator[None]:
    """After the session: no test changed the shared parsed documents of Argo's examples."""
    yield
    check_reference_documents_unchanged()


@pytest.fixture(autouse=True)
def workflows_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test: ``WORKFLOWS_*``/``KAFKA_*``/``ARGO_*``/``CH_*`` cleared, and a ``WORKFLOWS_HOME`` of its own.

    The folder is not created: the code under test must create what it needs. Request this fixture by name
    to get its path.
    """
    _clear_configuration(monkeypatch)
    home = tmp_path / "workflows-home"
    monkeypatch.setenv("WORKFLOWS_HOME", str(home))
    return home


@pytest.fixture
def local_engine(workflows_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The local backend, selected as a user selects it, on the test's state folder (returned); the runners it
    starts import this checkout."""
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    return workflows_home


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
    """An empty applications folder, selected with ``WORKFLOWS_APPLICATIONS``."""
    root = tmp_path / "applications"
    root.mkdir()
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(root))
    return root


def add_application_task(root, app: str, task: str) -> None:
    """Create ``<root>/<app>/tasks/<task>/Dockerfile``."""
    folder = root / app / "tasks" / task
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\", \"-c\", \"print('hi')\"]\n")
