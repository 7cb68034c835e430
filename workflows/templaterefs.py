"""WorkflowTemplates and ClusterWorkflowTemplates: resolve ``templateRef`` and ``spec.workflowTemplateRef``.

Argo looks referenced templates up in the cluster when it runs a workflow. A
backend without a cluster (the local engine, ``workflows lint``) resolves them
once, before anything runs, with :func:`resolve_references`:

- ``spec.workflowTemplateRef`` merges the referenced template's spec under the
  workflow's own: the workflow's fields win, and its ``arguments`` parameters
  and artifacts replace the template's of the same name (Argo's
  ``JoinWorkflowSpec``);
- every step, DAG task and lifecycle hook with ``templateRef`` gets a copy of
  the referenced template in ``spec.templates`` under a fresh name, and calls
  it by that name. A copied steps or DAG template calls ``template: X`` in the
  context of *its* WorkflowTemplate, as in Argo, so ``X`` is copied from that
  WorkflowTemplate too.

Templates come from a :class:`TemplateSource`: anything with ``get(kind, name)``
answering the stored document or ``None`` (a :class:`TemplateLibrary` of
documents in memory, or the local engine's SQLite store).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any, Optional, Protocol

from .errors import BadTemplateDocument, TemplateNotFound

WORKFLOW_TEMPLATE = "WorkflowTemplate"
CLUSTER_WORKFLOW_TEMPLATE = "ClusterWorkflowTemplate"
TEMPLATE_KINDS = (WORKFLOW_TEMPLATE, CLUSTER_WORKFLOW_TEMPLATE)
#: Argo's rule for template names (``validate.go``: a DNS-1123 label with capitals allowed, at most 128).
_TEMPLATE_NAME_LIMIT = 128
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9-]")


class TemplateSource(Protocol):
    """Where referenced WorkflowTemplates are looked up."""

    def get(self, kind: str, name: str) -> Optional[dict[str, Any]]:
        """The stored ``kind`` document named ``name``, or ``None``."""


def template_key(document: Any) -> tuple[str, str]:
    """``(kind, name)`` of a (Cluster)WorkflowTemplate document; raises :class:`BadTemplateDocument` otherwise."""
    if not isinstance(document, dict) or document.get("kind") not in TEMPLATE_KINDS:
        kind = document.get("kind") if isinstance(document, dict) else type(document).__name__
        raise BadTemplateDocument(f"kind: expected WorkflowTemplate or ClusterWorkflowTemplate, got {kind!r}")
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise BadTemplateDocument(f"{document['kind']} metadata.name: a name is required, got {name!r}")
    if not isinstance(document.get("spec"), dict):
        raise BadTemplateDocument(f"{document['kind']} {name!r} spec: expected a map")
    return document["kind"], name


class TemplateLibrary:
    """(Cluster)WorkflowTemplate documents held in memory, keyed by kind and name; a :class:`TemplateSource`."""

    def __init__(self, documents: Iterable[dict[str, Any]] = ()) -> None:
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}
        for document in documents:
            self.add(document)

    def add(self, document: dict[str, Any]) -> tuple[str, str]:
        """Hold ``document`` (replacing one of the same kind and name); return its ``(kind, name)``."""
        key = template_key(document)
        self._documents[key] = document
        return key

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The held ``kind`` document named ``name``, or ``None``."""
        return self._documents.get((kind, name))

    def __len__(self) -> int:
        return len(self._documents)


def _kind(reference: dict[str, Any]) -> str:
    return CLUSTER_WORKFLOW_TEMPLATE if reference.get("clusterScope") else WORKFLOW_TEMPLATE


def _lookup(source: TemplateSource, kind: str, name: Any, where: str) -> dict[str, Any]:
    document = source.get(kind, name) if isinstance(name, str) else None
    if document is None:
        raise TemplateNotFound(f"{where}: {kind} {name!r} not found (store it first: workflows apply FILE)")
    return document


def _merge_named(base: list[dict[str, Any]], override: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with the entries of ``override`` replacing those of the same name, new ones appended."""
    merged = {entry.get("name"): entry for entry in base}
    merged.update({entry.get("name"): entry for entry in override})
    return list(merged.values())


def join_specs(template_spec: dict[str, Any], workflow_spec: dict[str, Any]) -> dict[str, Any]:
    """The spec a workflow with ``workflowTemplateRef`` runs: the template's, overridden by the workflow's."""
    joined = copy.deepcopy(template_spec)
    for key, value in workflow_spec.items():
        if key == "workflowTemplateRef":
            continue
        if key == "arguments":
            arguments = joined.setdefault("arguments", {})
            for part in ("parameters", "artifacts"):
                if (value or {}).get(part) is not None:
                    arguments[part] = _merge_named(arguments.get(part) or [], copy.deepcopy(value[part]))
        elif key == "templates":
            joined["templates"] = _merge_named(joined.get("templates") or [], copy.deepcopy(value or []))
        else:
            joined[key] = copy.deepcopy(value)
    return joined


class _Inliner:
    """Copies referenced templates into one workflow spec, each (kind, document, template) once."""

    def __init__(self, spec: dict[str, Any], source: TemplateSource) -> None:
        self.spec = spec
        self.source = source
        self.taken = {template.get("name") for template in spec.get("templates") or []}
        self.copied: dict[tuple[str, str, str], str] = {}

    def fresh_name(self, document: str, template: str) -> str:
        base = _INVALID_NAME_CHARACTERS.sub("-", f"{document}-{template}")[:_TEMPLATE_NAME_LIMIT - 4]
        name, number = base, 1
        while name in self.taken:
            number += 1
            name = f"{base}-{number}"
        self.taken.add(name)
        return name

    def copy_template(self, kind: str, document_name: str, template_name: Any, where: str) -> str:
        """The local name of ``template_name`` of the ``kind`` document ``document_name``, copied on first use."""
        key = (kind, document_name, template_name)
        if key in self.copied:
            return self.copied[key]
        document = _lookup(self.source, kind, document_name, where)
        found = next((template for template in document["spec"].get("templates") or []
                      if template.get("name") == template_name), None)
        if found is None:
            raise TemplateNotFound(f"{where}: template {template_name!r} not found in {kind} {document_name!r}")
        local = self.fresh_name(document_name, template_name)
        self.copied[key] = local
        template = copy.deepcopy(found)
        template["name"] = local
        self.spec.setdefault("templates", []).append(template)
        self.rewrite(template, (kind, document_name), f"{kind} {document_name!r} template {template_name!r}")
        return local

    def rewrite_holder(self, holder: dict[str, Any], context: tuple[str, str] | None, where: str) -> None:
        """Point ``holder`` (a step, task or hook) at a local template name."""
        reference = holder.get("templateRef")
        if isinstance(reference, dict):
            holder["template"] = self.copy_template(_kind(reference), reference.get("name"),
                                                    reference.get("template"), f"{where}.templateRef")
            del holder["templateRef"]
        elif context is not None and isinstance(holder.get("template"), str):
            holder["template"] = self.copy_template(*context, holder["template"], f"{where}.template")
        if isinstance(holder.get("inline"), dict):
            self.rewrite(holder["inline"], context, f"{where}.inline")
        for hook_name, hook in (holder.get("hooks") or {}).items():
            if isinstance(hook, dict):
                self.rewrite_holder(hook, context, f"{where}.hooks.{hook_name}")
        if context is not None and isinstance(holder.get("onExit"), str):
            holder["onExit"] = self.copy_template(*context, holder["onExit"], f"{where}.onExit")

    def rewrite(self, template: dict[str, Any], context: tuple[str, str] | None, where: str) -> None:
        """Rewrite every step, task and hook of ``template``; ``context`` is its WorkflowTemplate (None: local)."""
        for group_index, group in enumerate(template.get("steps") or []):
            for step_index, step in enumerate(group or []):
                if isinstance(step, dict):
                    self.rewrite_holder(step, context, f"{where}.steps[{group_index}][{step_index}]")
        for index, task in enumerate((template.get("dag") or {}).get("tasks") or []):
            if isinstance(task, dict):
                self.rewrite_holder(task, context, f"{where}.dag.tasks[{index}]")


def _mentions(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(_mentions(item, key) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, key) for item in value)
    return False


def has_references(manifest: dict[str, Any]) -> bool:
    """Whether ``manifest`` uses ``workflowTemplateRef`` or any ``templateRef``."""
    spec = manifest.get("spec") or {}
    return bool(spec.get("workflowTemplateRef")) or _mentions(spec.get("templates"), "templateRef") \
        or _mentions(spec.get("hooks"), "templateRef")


def resolve_references(manifest: dict[str, Any], source: TemplateSource) -> dict[str, Any]:
    """A copy of the Workflow ``manifest`` with every WorkflowTemplate reference resolved from ``source``.

    Raises :class:`TemplateNotFound` naming the field of a reference that
    ``source`` cannot answer. A manifest without references is returned as is.
    """
    if not has_references(manifest):
        return manifest
    manifest = copy.deepcopy(manifest)
    spec = manifest.setdefault("spec", {})
    reference = spec.get("workflowTemplateRef")
    if reference:
        kind = _kind(reference)
        document = _lookup(source, kind, reference.get("name"), "spec.workflowTemplateRef")
        # the template's own templates call each other by name: joined, they are the workflow's own
        spec = manifest["spec"] = join_specs(document["spec"], spec)
    inliner = _Inliner(spec, source)
    for index, template in enumerate(list(spec.get("templates") or [])):
        inliner.rewrite(template, None, f"spec.templates[{index}]")
    for hook_name, hook in (spec.get("hooks") or {}).items():
        if isinstance(hook, dict):
            inliner.rewrite_holder(hook, None, f"spec.hooks.{hook_name}")
    return manifest


class ChainedSources:
    """Several :class:`TemplateSource` s asked in order; the first that holds a template answers."""

    def __init__(self, *sources: TemplateSource) -> None:
        self.sources = sources

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The first answer of the sources, or ``None``."""
        for source in self.sources:
            document = source.get(kind, name)
            if document is not None:
                return document
        return None
