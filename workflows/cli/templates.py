"""``workflows apply/templates/delete-template``: the local engine's (Cluster)WorkflowTemplates."""

from __future__ import annotations

import argparse
from pathlib import Path

from .loader import TargetError
from ..errors import NotLocalBackend


def _template_store():
    from ..backends import get_backend
    from ..backends.local import LocalBackend
    from ..engine.templatestore import TemplateStore

    backend = get_backend()
    if not isinstance(backend, LocalBackend):
        raise NotLocalBackend(f"WorkflowTemplates are stored by the local backend only (the backend is "
                              f"{type(backend).__name__}): on a cluster use `kubectl apply -f FILE`")
    return TemplateStore(backend.store)


def apply(args: argparse.Namespace) -> int:
    """Store every WorkflowTemplate and ClusterWorkflowTemplate of the files; other kinds are an error."""
    from ..templaterefs import TEMPLATE_KINDS, template_key
    from ..validation import lint_spec, load_documents

    documents = []
    for path in args.files:
        if not Path(path).is_file():
            raise TargetError(f"{path}: no such file")
        for index, document in enumerate(load_documents(path)):
            kind = document.get("kind") if isinstance(document, dict) else None
            if kind not in TEMPLATE_KINDS:
                raise TargetError(f"{path}#{index}: kind {kind!r}: apply stores WorkflowTemplates and "
                                  "ClusterWorkflowTemplates (run a Workflow with `workflows run`)")
            problems = lint_spec(document)
            if problems:
                raise TargetError(f"{path}#{index}: {template_key(document)[1]}: {problems[0]}")
            documents.append(document)
    store = _template_store()
    for document in documents:
        kind, name = store.put(document)
        print(f"{kind.lower()}/{name} stored")
    return 0


def list_templates(args: argparse.Namespace) -> int:
    """One line per stored template: kind and name."""
    print(f"{'KIND':<24} NAME")
    for kind, name in _template_store().names():
        print(f"{kind:<24} {name}")
    return 0


def delete_template(args: argparse.Namespace) -> int:
    """Forget a stored WorkflowTemplate (or, with ``--cluster``, a ClusterWorkflowTemplate)."""
    kind = "ClusterWorkflowTemplate" if args.cluster else "WorkflowTemplate"
    if not _template_store().delete(kind, args.name):
        raise TargetError(f"{kind} {args.name!r} not found")
    print(f"{kind.lower()}/{args.name} deleted")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the template commands."""
    command = commands.add_parser("apply", help="store the WorkflowTemplates and ClusterWorkflowTemplates of files "
                                                "(local backend)")
    command.add_argument("files", nargs="+", metavar="FILE")
    command.set_defaults(run=apply)
    command = commands.add_parser("templates", help="list the stored WorkflowTemplates and ClusterWorkflowTemplates")
    command.set_defaults(run=list_templates)
    command = commands.add_parser("delete-template", help="delete a stored WorkflowTemplate")
    command.add_argument("name")
    command.add_argument("--cluster", action="store_true", help="a ClusterWorkflowTemplate")
    command.set_defaults(run=delete_template)
