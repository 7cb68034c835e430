"""The ``workflows`` command: render, lint, graph — run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from argo_reference import REFERENCE_VERSION, reference_files, shared_argo

ROOT = Path(__file__).resolve().parents[1]


def workflows_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "workflows", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


@pytest.fixture
def ops_file(tmp_path: Path) -> Path:
    path = tmp_path / "ops.py"
    path.write_text(textwrap.dedent('''
        from workflows import operations, tasks

        first = operations.PipelineOperation("first", [tasks.BashTask("a", "echo a"), tasks.BashTask("b", "echo b")])
        second = operations.DagOperation(
            "second",
            [tasks.BashTask("x", "echo x"), tasks.BashTask("y", "echo y"), tasks.BashTask("z", "echo z")],
            {"y": ["x"], "z": "x.Failed || y.Succeeded"},
            on_exit_notify={"queue": "done"},
        )

        def third():
            return operations.SingleTaskOperation("third", tasks.BashTask("t", "echo t"))

        if __name__ == "__main__":
            raise SystemExit("must not run when loaded by the CLI")
    '''))
    return path


def test_render_prints_every_operation(ops_file):
    result = workflows_cli("render", str(ops_file))
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["generateName"] for d in documents] == ["first-", "second-"]


def test_render_one_operation_or_factory(ops_file):
    result = workflows_cli("render", f"{ops_file}:second")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["onExit"] == "exit-handler"
    result = workflows_cli("render", f"{ops_file}:third")
    assert yaml.safe_load(result.stdout)["spec"]["entrypoint"] == "t"


def test_render_errors_are_clear(ops_file, tmp_path):
    result = workflows_cli("render", f"{ops_file}:missing")
    assert result.returncode == 2 and "has no global named 'missing'" in result.stderr
    result = workflows_cli("render", str(tmp_path / "nope.py"))
    assert result.returncode == 2 and "no such file" in result.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("from workflows import operations, tasks\n"
                      "op = operations.PipelineOperation('p', [tasks.BashTask('a', 'x')], shared_dir=True)\n")
    result = workflows_cli("render", str(broken))
    assert result.returncode == 2 and "shared_dir" in result.stderr


def test_graph_is_a_mermaid_flowchart(ops_file):
    result = workflows_cli("graph", f"{ops_file}:second")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    n0["x"]' in lines and '    n1["y"]' in lines and '    n2["z"]' in lines
    assert "    n0 --> n1" in lines
    assert '    n0 -->|"x.Failed || y.Succeeded"| n2' in lines
    assert '    n3(["exit-handler (on exit)"])' in lines and "    n2 -.-> n3" in lines
    pipeline = workflows_cli("graph", f"{ops_file}:first").stdout.splitlines()
    assert pipeline == ["flowchart TD", '    n0["a"]', '    n1["b"]', "    n0 --> n1"]


def test_lint_python_and_yaml_files(ops_file, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "g-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]},
    }))
    configmap = tmp_path / "configmap.yaml"
    configmap.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    result = workflows_cli("lint", str(ops_file), str(good), str(configmap))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert f"{configmap}: skipped: a ConfigMap, not an Argo workflow" in result.stderr


def test_lint_reports_path_field_and_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent('''
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: bad-
        spec:
          entrypoint: main
          templates:
            - name: main
              dag:
                tasks:
                  - {name: a, template: work, dependencies: [ghost]}
            - name: work
              container:
                imagee: busybox
    '''))
    result = workflows_cli("lint", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{bad}: spec.templates[1].container.imagee: ") for line in lines), lines
    assert any(line.startswith(f"{bad}: spec.templates[0].dag.tasks[0].dependencies") and "ghost" in line
               for line in lines), lines


def test_lint_reports_bad_python_and_unparsable_files(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("from workflows import operations, tasks\n"
                      "op = operations.PipelineOperation('p', [tasks.BashTask('a', 'x'), tasks.BashTask('a', 'y')])\n")
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("spec: [unclosed\n")
    result = workflows_cli("lint", str(broken), str(garbage))
    assert result.returncode == 1
    assert f"{broken}: operation: " in result.stdout and "two tasks are named 'a'" in result.stdout
    assert f"{garbage}: file: " in result.stdout


def test_lint_accepts_every_argo_example(tmp_path):
    root = shared_argo() / REFERENCE_VERSION
    files = [str(root / relative) for relative in reference_files() if relative.startswith("examples/")]
    result = workflows_cli("lint", *files)
    assert result.returncode == 0, result.stdout
    assert f"{len(files)} file(s), 0 problem(s)" in result.stderr
    assert "event-consumer-workfloweventbinding.yaml: skipped: a WorkflowEventBinding" in result.stderr


def test_lint_rejects_a_broken_copy_of_an_example(tmp_path):
    example = shared_argo() / REFERENCE_VERSION / "examples" / "dag-diamond.yaml"
    broken = tmp_path / "dag-diamond.yaml"
    broken.write_text(example.read_text().replace("template: echo", "template: ecko", 1))
    result = workflows_cli("lint", str(broken))
    assert result.returncode == 1 and "ecko" in result.stdout


def test_render_the_readme_example():
    result = workflows_cli("render", "examples/hello.py")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["entrypoint"] == "hello-pipeline"


def test_lint_reports_a_python_operation_over_one_mebibyte(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("from workflows import operations, tasks\n"
                   "op = operations.ParallelOperation('big', [tasks.CustomTask(f't{i}', 'busybox', DATA='x' * 2000)"
                   " for i in range(600)])\n")
    result = workflows_cli("lint", str(big))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{big}:op: document: spec is ") and "1 MiB" in result.stdout
    assert workflows_cli("render", str(big)).returncode == 0  # still renders
