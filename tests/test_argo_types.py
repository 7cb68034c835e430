"""The typed views of Argo's objects: generated from the model, complete, and never loaded at run time."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

from workflows import argo_types
from workflows.validation.model import MODEL_FILE

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_argo_model", ROOT / "tools" / "generate_argo_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_types_match_the_committed_model() -> None:
    generated = _generator().render_types(json.loads(MODEL_FILE.read_text()))
    assert generated == Path(argo_types.__file__).read_text(), "run tools/generate_argo_model.py"


def test_every_definition_has_a_typed_dict_whose_annotations_resolve() -> None:
    generator = _generator()
    model = json.loads(MODEL_FILE.read_text())
    for name, definition in model["definitions"].items():
        view = getattr(argo_types, generator.type_name(name))
        hints = typing.get_type_hints(view, globalns=vars(argo_types))
        assert set(hints) == set(definition["properties"]), name
        assert view.__total__ is False
    template = typing.get_type_hints(argo_types.Template, globalns=vars(argo_types))
    assert template["container"] is argo_types.CoreV1Container
    assert template["steps"] == typing.List[typing.List[argo_types.WorkflowStep]]
    assert typing.get_type_hints(argo_types.Artifact, globalns=vars(argo_types))["from"] is str


def test_python_types_of_the_model_expressions() -> None:
    generator = _generator()
    assert generator.python_type("{}[]@core.v1.EnvVar") == "Dict[str, List[CoreV1EnvVar]]"
    assert generator.python_type("int-or-string") == "Union[int, str]"


def test_the_package_never_loads_the_typed_views() -> None:
    code = ("import sys\nfrom workflows import operations, tasks, argo, validation\n"
            "op = operations.PipelineOperation('p', [tasks.BashTask('a', 'echo')])\n"
            "op.to_workflow(); validation.lint_spec(op.to_workflow())\n"
            "print('workflows.argo_types' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
