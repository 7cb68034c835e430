"""``workflows run/list/get/logs/wait/stop/delete``: workflows on the selected backend."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadOperationConfiguration
from .loader import TargetError, is_python_target, load_operations
from .progress import Progress, duration, node_line

if TYPE_CHECKING:
    from ..backends import Backend


def _parameters(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise TargetError(f"-p {pair!r}: expected key=value")
        values[key] = value
    return values


def _workflow_to_run(target: str) -> dict[str, Any]:
    """The Workflow dict of a Python target (one operation) or of a YAML/JSON file (one Workflow document)."""
    from ..validation import load_documents

    if is_python_target(target):
        operations = load_operations(target)
        if len(operations) > 1:
            raise TargetError(f"{target} defines {len(operations)} operations ({', '.join(operations)}): "
                              f"name one as {target}:NAME")
        return next(iter(operations.values())).to_workflow()
    if not Path(target).is_file():
        raise TargetError(f"{target}: no such file")
    workflows = [document for document in load_documents(target)
                 if isinstance(document, dict) and document.get("kind") == "Workflow"]
    if len(workflows) != 1:
        raise TargetError(f"{target}: expected one Workflow document, found {len(workflows)}")
    return workflows[0]


def _apply_parameters(workflow: dict[str, Any], values: dict[str, str]) -> None:
    parameters = workflow.setdefault("spec", {}).setdefault("arguments", {}).setdefault("parameters", [])
    known = {parameter["name"]: parameter for parameter in parameters}
    for key, value in values.items():
        if key not in known:
            raise TargetError(f"-p {key}={value}: the workflow has no argument {key!r} "
                              f"(it has: {', '.join(known) or 'none'})")
        known[key]["value"] = value


def _finish(workflow: dict[str, Any]) -> int:
    status = workflow.get("status") or {}
    line = f"{workflow['metadata']['name']}: {status.get('phase')} in {duration(status)}"
    if status.get("message"):
        line += f": {status['message']}"
    print(line)
    return 0 if status.get("phase") == "Succeeded" else 1


def _backend(args: argparse.Namespace) -> Backend:
    """The backend ``--backend`` names (default: ``WORKFLOWS_BACKEND``), in ``--namespace`` when given."""
    from ..backends import create_backend, default_backend_name, get_backend

    if not args.namespace:
        return get_backend(args.backend)
    name = args.backend or os.environ.get("WORKFLOWS_BACKEND") or default_backend_name()
    if name == "local":
        raise TargetError(f"--namespace {args.namespace}: the local backend has no namespaces")
    return create_backend(name, namespace=args.namespace)


def run(args: argparse.Namespace) -> int:
    """Submit a workflow; unless ``--no-wait``, show its progress and exit 0 only if it succeeds."""
    from .. import argo

    workflow = _workflow_to_run(args.target)
    _apply_parameters(workflow, _parameters(args.parameter))
    backend = _backend(args)
    try:
        submitted = argo.submit_workflow(workflow, backend=backend)
    except BadOperationConfiguration as error:
        print(f"workflows run: {error}", file=sys.stderr)
        return 2
    print(submitted.name, file=sys.stderr)
    if args.no_wait:
        print(submitted.name)
        return 0
    return _finish(Progress().follow(backend.watch(submitted.name, args.timeout)))


def wait(args: argparse.Namespace) -> int:
    """Wait for a workflow (showing progress); exit 0 only if it succeeded."""
    return _finish(Progress().follow(_backend(args).watch(args.name, args.timeout)))


def list_workflows(args: argparse.Namespace) -> int:
    """One line per workflow, newest first."""
    from .. import argo

    page = argo.get_workflows(status=args.status, limit=args.limit, backend=_backend(args))
    print(f"{'NAME':<40} {'STATUS':<10} {'CREATED':<21} DURATION")
    for workflow in page.items:
        status = workflow.raw.get("status") or {}
        created = workflow.raw["metadata"].get("creationTimestamp") or ""
        print(f"{workflow.name:<40} {workflow.status or 'Pending':<10} {created:<21} "
              f"{duration(status)}")
    return 0


def get(args: argparse.Namespace) -> int:
    """A workflow's phase, message and nodes."""
    from .. import argo

    workflow = argo.get_workflow(args.name, backend=_backend(args)).raw
    status = workflow.get("status") or {}
    print(f"Name:     {workflow['metadata']['name']}")
    print(f"Status:   {status.get('phase')}")
    if status.get("message"):
        print(f"Message:  {status['message']}")
    print(f"Created:  {workflow['metadata'].get('creationTimestamp', '')}")
    print(f"Duration: {duration(status)}")
    for node in (status.get("nodes") or {}).values():
        print(f"  {node_line(node)}  [{node['type']}]")
    return 0


def logs(args: argparse.Namespace) -> int:
    """Print the logs of the workflow's pods (or of one node), each line prefixed by its pod;
    ``--follow`` prints lines as they come until the workflow ends."""
    backend = _backend(args)
    printed: dict[str, int] = {}

    def emit(workflow: dict[str, Any], final: bool) -> None:
        nodes = (workflow.get("status") or {}).get("nodes") or {}
        selected = {node_id for node_id, node in nodes.items()
                    if args.node in (None, node_id, node["displayName"], node["name"])}
        if args.node and not selected:
            raise TargetError(f"workflow {args.name!r} has no node {args.node!r}")
        for node_id, text in backend.node_logs(args.name).items():
            if node_id not in selected:
                continue
            end = len(text) if final else text.rfind("\n") + 1  # whole lines only while it runs
            for line in text[printed.get(node_id, 0):end].splitlines():
                print(f"{nodes[node_id]['displayName']}: {line}", flush=True)
            printed[node_id] = max(end, printed.get(node_id, 0))

    if args.follow:
        for workflow in backend.watch(args.name, None):
            emit(workflow, final=False)
    emit(backend.get(args.name), final=True)
    return 0


def stop(args: argparse.Namespace) -> int:
    """Stop a running workflow (its exit handler runs)."""
    from .. import argo

    argo.stop_workflow(args.name, backend=_backend(args))
    print(f"{args.name}: stop requested")
    return 0


def resume(args: argparse.Namespace) -> int:
    """Resume a suspended workflow (its suspend nodes running now end)."""
    _backend(args).resume(args.name)
    print(f"{args.name}: resumed")
    return 0


def delete(args: argparse.Namespace) -> int:
    """Delete a workflow (terminated first if it runs)."""
    from .. import argo

    argo.delete_workflow(args.name, backend=_backend(args))
    print(f"{args.name}: deleted")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the workflow management commands; each takes ``--backend`` and ``--namespace``."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--backend", metavar="NAME",
                       help="local, kubernetes or argo-server (default: $WORKFLOWS_BACKEND, else local outside a pod)")
    where.add_argument("--namespace", metavar="NAMESPACE",
                       help="namespace of the workflows on a cluster backend (default: as the backend is configured)")
    command = commands.add_parser("run", parents=[where], help="submit a workflow and show it run (exit 0 only if it succeeds)")
    command.add_argument("target", metavar="FILE.py[:NAME]|FILE.yaml")
    command.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE")
    command.add_argument("--no-wait", action="store_true", help="print the workflow's name and return")
    command.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    command.set_defaults(run=run)
    command = commands.add_parser("list", parents=[where], help="list workflows, newest first")
    command.add_argument("--status", metavar="PHASE")
    command.add_argument("--limit", type=int, default=50)
    command.set_defaults(run=list_workflows)
    command = commands.add_parser("get", parents=[where], help="show a workflow and its nodes")
    command.add_argument("name")
    command.set_defaults(run=get)
    command = commands.add_parser("logs", parents=[where], help="print a workflow's logs")
    command.add_argument("name")
    command.add_argument("--follow", action="store_true", help="wait for the workflow to finish first")
    command.add_argument("--node", metavar="NODE", help="only this node (id, name or display name)")
    command.set_defaults(run=logs)
    command = commands.add_parser("wait", parents=[where], help="wait for a workflow (exit 0 only if it succeeds)")
    command.add_argument("name")
    command.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    command.set_defaults(run=wait)
    command = commands.add_parser("stop", parents=[where], help="stop a running workflow (its exit handler runs)")
    command.add_argument("name")
    command.set_defaults(run=stop)
    command = commands.add_parser("resume", parents=[where], help="resume a suspended workflow (its suspend steps end)")
    command.add_argument("name")
    command.set_defaults(run=resume)
    command = commands.add_parser("delete", parents=[where], help="delete a workflow, its logs and volumes")
    command.add_argument("name")
    command.set_defaults(run=delete)



