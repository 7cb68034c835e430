"""The ``workflows`` command: render, lint and graph operations and Argo specs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import BadOperationConfiguration, WorkflowsError
from .loader import TargetError, load_operations

PYTHON_SUFFIX = ".py"


def _is_foreign(document: object) -> bool:
    """A document of another API (a ConfigMap, say), which ``lint`` leaves alone."""
    return isinstance(document, dict) and "apiVersion" in document and not str(document["apiVersion"]).startswith(
        "argoproj.io/"
    )


def _render(args: argparse.Namespace) -> int:
    from ..compiler.yaml import dump_yaml

    documents = [operation.to_workflow() for operation in load_operations(args.target).values()]
    print("---\n".join(dump_yaml(document) for document in documents), end="")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from ..mermaid import workflow_flowchart

    charts = [workflow_flowchart(operation.to_workflow()) for operation in load_operations(args.target).values()]
    print("\n".join(charts), end="")
    return 0


def _lint_file(path: str) -> list[str]:
    """``path: field: reason`` lines for every problem of one file."""
    from ..validation import lint_spec, load_documents

    if path.endswith(PYTHON_SUFFIX):
        try:
            operations = load_operations(path)
        except TargetError as error:
            return [f"{path}: operation: {error}"]
        sources = [(f"{path}:{name}", operation.to_workflow()) for name, operation in operations.items()]
    else:
        if not Path(path).is_file():
            return [f"{path}: file: no such file"]
        try:
            documents = load_documents(path)
        except BadOperationConfiguration as error:
            return [f"{path}: file: {error}"]
        argo_documents = [document for document in documents if not _is_foreign(document)]
        if not argo_documents:
            return [f"{path}: file: contains no Argo document"]
        many = len(argo_documents) > 1
        sources = [(f"{path}#{index}" if many else path, document) for index, document in enumerate(argo_documents)]
    return [f"{source}: {problem}" for source, document in sources for problem in lint_spec(document)]


def _lint(args: argparse.Namespace) -> int:
    problems = [line for path in args.files for line in _lint_file(path)]
    for line in problems:
        print(line)
    if not problems:
        print(f"{len(args.files)} file(s) OK", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``workflows`` command."""
    parser = argparse.ArgumentParser(prog="workflows", description="Compile, check and draw Argo workflows.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render = commands.add_parser("render", help="print the YAML of the operation(s) a Python file defines")
    render.add_argument("target", metavar="FILE.py[:NAME]")
    render.set_defaults(run=_render)
    lint = commands.add_parser("lint", help="check Argo YAML/JSON files and Python files; exit 1 on any problem")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.set_defaults(run=_lint)
    graph = commands.add_parser("graph", help="print the tasks of the operation(s) as a Mermaid flowchart")
    graph.add_argument("target", metavar="FILE.py[:NAME]")
    graph.set_defaults(run=_graph)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 problems found, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except WorkflowsError as error:
        print(f"workflows {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
