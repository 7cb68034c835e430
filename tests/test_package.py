"""The package: light import, configuration read on use, the public API names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_import_does_not_load_heavy_clients():
    result = python(
        "import sys, workflows\n"
        "from workflows import tasks, operations, argo\n"
        "op = operations.PipelineOperation('p', [tasks.BashTask('a', 'echo')], shared_directory=True)\n"
        "op.to_workflow(); op.to_yaml()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'kafka', 'jsonschema'))\n"
        "print(heavy)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_operations_load_yaml_and_the_validator_when_first_used():
    result = python(
        "import sys\n"
        "from workflows import operations, tasks\n"
        "late = ('yaml', 'workflows.validation.lint', 'workflows.validation.documents', 'workflows.compiler.yaml')\n"
        "op = operations.DagOperation('d', [tasks.BashTask('a', 'echo'), tasks.BashTask('b', 'echo')], {'b': 'a.Succeeded'})\n"
        "op.to_workflow()\n"
        "print(sorted(m for m in late if m in sys.modules))\n"
        "op.to_yaml()\n"
        "import workflows.validation as validation\n"
        "assert 'lint_spec' in dir(validation) and callable(validation.lint_spec)\n"
        "print(sorted(m for m in late if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "[]",
        "['workflows.compiler.yaml', 'workflows.validation.lint', 'yaml']",
    ]


def test_a_runner_imports_what_only_rare_callers_need_when_they_call():
    result = python(
        "import sys\n"
        "import workflows.engine.runner, workflows.engine.pod.zygote, workflows.engine.watchdog, asyncio, logging\n"
        "import workflows.engine.run, workflows.engine.store\n"
        "rare = ('dataclasses', 'tempfile', 'calendar', 'decimal', 'workflows.engine.lang.jsonpath')\n"
        "print(sorted(m for m in rare if m in sys.modules))\n"
        "from workflows.engine.lang.expr import evaluate_expression\n"
        "from workflows.engine.lang.sprig import SPRIG\n"
        "from workflows.timestamps import epoch\n"
        "print(evaluate_expression('jsonpath(\\'{\"a\": [1, 2]}\\', \\'$.a[1]\\')', {}), SPRIG['addf'](0.1, 0.2),\n"
        "      epoch('1970-01-02T00:00:00Z'))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "2.0 0.3 86400"]


def test_the_local_backend_starts_a_runner_before_it_loads_the_engine(tmp_path):
    """Selecting the local backend and entering a submission (which starts the workflow's runner) loads neither
    the engine's store, runner and watchdog nor asyncio: the runner loads while the submitting process does."""
    result = python(
        "import sys\n"
        "from workflows.backends import get_backend\n"
        "backend = get_backend('local')\n"
        "with backend.submitting():\n"
        "    engine = ('asyncio', 'sqlite3', 'workflows.engine.store', 'workflows.engine.runner',\n"
        "              'workflows.engine.watchdog', 'workflows.engine.bells')\n"
        "    print(sorted(m for m in engine if m in sys.modules))\n",
        WORKFLOWS_HOME=str(tmp_path / "home"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_validation_names_are_loaded_on_demand_and_unknown_ones_refused():
    import workflows.validation as validation

    assert validation.parse_depends("a.Succeeded").tasks == {"a"}
    assert set(validation.__all__) <= set(dir(validation))
    with pytest.raises(AttributeError, match="no_such_name"):
        validation.no_such_name  # noqa: B018 - the attribute access is the test


def test_configuration_is_read_on_use_not_at_import():
    result = python(
        "import os\n"
        "from workflows import tasks\n"
        "os.environ['WORKFLOWS_IMAGE'] = 'set-after-import:1'\n"
        "print(tasks.BashTask('a', 'echo').image_name)\n",
        WORKFLOWS_IMAGE="set-before-import:1",
    )
    assert result.stdout.strip() == "set-after-import:1", result.stderr


def test_argo_api_names():
    from workflows import argo

    for name in ("get_workflows", "get_workflow", "submit_workflow", "delete_workflow", "get_workflow_logs",
                 "get_workflow_logs_list", "Phase", "Workflow", "WorkflowNotFound", "WorkflowException"):
        assert hasattr(argo, name), name
    assert issubclass(argo.WorkflowNotFound, argo.WorkflowException)
    assert argo.Phase.phases() == ("Pending", "Running", "Succeeded", "Skipped", "Failed", "Error")


def test_workflow_handle_reads_argo_shaped_status():
    from datetime import datetime, timezone

    from workflows.argo import Workflow

    raw = {"metadata": {"name": "wf-abcde", "creationTimestamp": "2026-11-21T10:00:00Z"},
           "status": {"phase": "Failed", "message": "child failed",
                      "nodes": {"wf-abcde": {"children": ["wf-abcde-1"]}, "wf-abcde-1": {}}}}
    workflow = Workflow(raw)
    assert (workflow.name, workflow.status) == ("wf-abcde", "Failed")
    assert workflow.create_time == datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)  # a datetime, as CloudHarness
    assert workflow.is_finished() and workflow.failed() and not workflow.succeeded()
    assert workflow.get_status_message() == "child failed" and workflow.pod_names == ["wf-abcde-1"]
    pending = Workflow({"metadata": {"name": "p"}})
    assert pending.status is None and not pending.is_finished()


def test_unknown_backend_is_a_clear_error(monkeypatch):
    import pytest

    from workflows import argo
    from workflows.backends import BackendUnavailable

    monkeypatch.setenv("WORKFLOWS_BACKEND", "nowhere")
    with pytest.raises(BackendUnavailable, match="WORKFLOWS_BACKEND='nowhere'"):
        argo.get_workflows()
