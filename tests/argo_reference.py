"""Access to Argo's reference data in ``../shared/argo`` (absent on a user's clone: tests skip)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

SHARED_ARGO = Path(__file__).resolve().parents[2] / "shared" / "argo"
SCHEMA_VERSIONS = ("v3.7.18", "v4.1.2")
WORKFLOW_DEFINITION = "io.argoproj.workflow.v1alpha1.Workflow"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def shared_argo() -> Path:
    """Return the reference data folder, or skip the calling test when it is absent."""
    if not SHARED_ARGO.is_dir():
        pytest.skip(f"Argo reference data not found at {SHARED_ARGO}")
    return SHARED_ARGO


@functools.lru_cache(maxsize=None)
def _validator(version: str, definition: str):
    import jsonschema

    schema = json.loads((SHARED_ARGO / version / "schema.json").read_text())
    definitions = dict(schema["definitions"])
    # Kubernetes' IntOrString is a string or an integer (Argo's own examples write ``limit: 10``); the published
    # schema types it as a string only.
    definitions[INT_OR_STRING] = {"type": ["string", "integer"]}
    wrapper = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
    return jsonschema.Draft202012Validator(wrapper)


def official_schema_errors(spec: dict, definition: str = WORKFLOW_DEFINITION) -> dict[str, list[str]]:
    """Validate ``spec`` against every official schema version; return the errors per version."""
    shared_argo()
    return {
        version: [f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
                  for error in _validator(version, definition).iter_errors(spec)]
        for version in SCHEMA_VERSIONS
    }


def assert_valid_workflow(spec: dict) -> None:
    """Fail unless ``spec`` validates against Argo's official schema, v3.7.18 and v4.1.2."""
    errors = official_schema_errors(spec)
    assert errors == {version: [] for version in SCHEMA_VERSIONS}, errors
