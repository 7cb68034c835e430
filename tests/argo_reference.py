"""Access to Argo's reference data in ``../shared/argo`` (absent on a user's clone: tests skip)."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

SHARED_ARGO = Path(__file__).resolve().parents[2] / "shared" / "argo"
SCHEMA_VERSIONS = ("v3.7.18", "v4.1.2")
WORKFLOW_DEFINITION = "io.argoproj.workflow.v1alpha1.Workflow"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
#: The Argo version whose examples and e2e workflows the tests read, and the folders (under it) that hold them.
REFERENCE_VERSION = "v3.7.18"
REFERENCE_FOLDERS = ("examples", "e2e/functional", "e2e/expectedfailures")


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


# ------------------------------------------------------------------ Argo's example and e2e documents, parsed once


@dataclass(frozen=True)
class ReferenceDocument:
    """One document of Argo's example and e2e files, parsed once per session and shared by every caller.

    ``data`` is the shared parsed mapping: read it, never change it (:func:`check_reference_documents_unchanged`
    fails the session when something did); :meth:`copy` gives a fresh copy to change or to hand to code that may.
    """

    relative: str  #: the file, relative to the version's folder (``examples/dag-diamond.yaml``)
    index: int  #: its position among the file's non-empty documents
    data: dict[str, Any]

    @property
    def kind(self) -> str | None:
        """The document's ``kind`` (``Workflow``, ``WorkflowTemplate``, ``ConfigMap``...)."""
        return self.data.get("kind")

    def copy(self) -> dict[str, Any]:
        """A deep copy of the document, the caller's to change."""
        return copy.deepcopy(self.data)


def _is_symlink_stub(text: str) -> bool:
    """Git symbolic links checked out as files hold only the target's path; the target is read on its own."""
    text = text.strip()
    return "\n" not in text and ":" not in text and text.endswith((".yaml", ".yml"))


def reference_files(version: str = REFERENCE_VERSION) -> tuple[str, ...]:
    """The YAML files of :data:`REFERENCE_FOLDERS` (symbolic-link stubs left out), relative to the version's
    folder, folder by folder, sorted in each; empty when ``../shared/argo`` is absent, so that parametrizing on
    them collects nothing."""
    return _files(version)


@functools.lru_cache(maxsize=None)  # called with the version positionally only: one cache entry per version
def _files(version: str) -> tuple[str, ...]:
    root = SHARED_ARGO / version
    if not root.is_dir():
        return ()
    paths = (path for folder in REFERENCE_FOLDERS for path in sorted((root / folder).rglob("*.yaml")))
    return tuple(str(path.relative_to(root)) for path in paths if not _is_symlink_stub(path.read_text()))


def reference_documents(version: str = REFERENCE_VERSION) -> tuple[ReferenceDocument, ...]:
    """Every document of :func:`reference_files`, parsed once per session with the library's loader (as
    ``workflows lint`` reads a file); empty when ``../shared/argo`` is absent."""
    return _documents(version)


#: Version -> a digest of its documents as parsed: :func:`check_reference_documents_unchanged` compares.
_FINGERPRINTS: dict[str, str] = {}


@functools.lru_cache(maxsize=None)
def _documents(version: str) -> tuple[ReferenceDocument, ...]:
    from workflows.validation import load_documents

    documents = tuple(ReferenceDocument(relative, index, document)
                      for relative in _files(version)
                      for index, document in enumerate(load_documents(SHARED_ARGO / version / relative)))
    _FINGERPRINTS[version] = _fingerprint(documents)
    return documents


def documents_of(relative: str, version: str = REFERENCE_VERSION) -> tuple[ReferenceDocument, ...]:
    """The documents of one reference file (``relative`` to the version's folder)."""
    return _by_file(version).get(relative, ())


@functools.lru_cache(maxsize=None)
def _by_file(version: str) -> dict[str, tuple[ReferenceDocument, ...]]:
    found: dict[str, list[ReferenceDocument]] = {}
    for document in _documents(version):
        found.setdefault(document.relative, []).append(document)
    return {relative: tuple(documents) for relative, documents in found.items()}


def nodes(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """``(key, value)`` for ``value`` and everything inside it, depth first: ``key`` is the mapping key that holds
    a value (``None`` for list items and for ``value`` itself unless given)."""
    yield key, value
    if isinstance(value, dict):
        for sub_key, sub in value.items():
            yield from nodes(sub, sub_key)
    elif isinstance(value, list):
        for sub in value:
            yield from nodes(sub)


def _fingerprint(documents: tuple[ReferenceDocument, ...]) -> str:
    text = json.dumps([document.data for document in documents], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def check_reference_documents_unchanged() -> None:
    """Fail when a test changed the shared documents of :func:`reference_documents` instead of a copy."""
    for version, fingerprint in _FINGERPRINTS.items():
        assert _fingerprint(_documents(version)) == fingerprint, (
            f"a test changed the shared parsed documents of Argo {version}: change ReferenceDocument.copy() instead")
