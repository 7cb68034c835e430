"""The ``workflows`` command: render, lint and graph operations and Argo specs; run and manage workflows."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import WorkflowsError
from .lint import lint_file, template_sources
from .loader import load_operations
from .manage import add_commands
from .templates import add_commands as add_template_commands


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


def _lint(args: argparse.Namespace) -> int:
    found = 0
    sources = template_sources(args.files)
    for path in args.files:
        problems, notes = lint_file(path, sources)
        for note in notes:
            print(note, file=sys.stderr)
        for line in problems:
            print(line)
        found += len(problems)
    print(f"{len(args.files)} file(s), {found} problem(s)", file=sys.stderr)
    return 1 if found else 0


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
    add_commands(commands)
    add_template_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 problems found, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except WorkflowsError as error:
        print(f"workflows {args.command}: {error}", file=sys.stderr)
        return 2
    except TimeoutError as error:
        print(f"workflows {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
