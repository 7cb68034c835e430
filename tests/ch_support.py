"""Shared setup of the CloudHarness compatibility tests: an isolated environment, CloudHarness values on demand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


VALUES = Path(__file__).parent / "cloudharness" / "values.yaml"
#: The variables that select where workflows run and how images and URLs resolve.
ISOLATED_ENV = (
    "WORKFLOWS_CLOUDHARNESS", "CH_VALUES_PATH", "WORKFLOWS_REGISTRY", "WORKFLOWS_TAG", "WORKFLOWS_IMAGE",
    "WORKFLOWS_OPERATIONS_URL", "WORKFLOWS_BACKEND",
)
#: Both spellings of a CloudHarness basename: without the trailing dash and with it, as CloudHarness writes it.
DASHES = ["", "-"]


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own WORKFLOWS_HOME and applications folder; none of the caller's selection variables; no CloudHarness values."""
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "home"))
    applications = tmp_path / "applications"
    applications.mkdir()
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(applications))
    monkeypatch.setenv("CH_VALUES_PATH", str(tmp_path / "no-values.yaml"))
    return applications


def use_cloudharness_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None = None) -> Path:
    """Write CloudHarness values (the test file's, or ``text``) to a tmp file and point CH_VALUES_PATH at it."""
    path = tmp_path / "allvalues.yaml"
    if text is None:
        shutil.copy(VALUES, path)
    else:
        path.write_text(text)
    monkeypatch.setenv("CH_VALUES_PATH", str(path))
    return path


def by_name(workflow: dict) -> dict[str, dict]:
    """The templates of a compiled workflow by name."""
    return {template["name"]: template for template in workflow["spec"]["templates"]}


def env_values(template: dict) -> dict[str, object]:
    """A container's env as name → value (or valueFrom)."""
    body = template.get("container") or template["script"]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in body["env"]}
