"""Showing a workflow's nodes while it runs: a live table in a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from ..timestamps import epoch

SHOWN_TYPES = ("Pod", "Suspend", "Skipped")


def duration(node: dict[str, Any]) -> str:
    """How long a node (or workflow status) ran: ``12s``, ``3m04s``; running ones count to now."""
    if not node.get("startedAt"):
        return "-"
    start = epoch(node["startedAt"])
    end = epoch(node["finishedAt"]) if node.get("finishedAt") else time.time()
    seconds = max(0, int(end - start))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def shown_nodes(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes worth a line: pods, suspends and skipped steps, in start order."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    return [node for node in nodes.values() if node.get("type") in SHOWN_TYPES]


def node_line(node: dict[str, Any]) -> str:
    """``<name>  <phase>  <duration>  <message>`` for one node."""
    message = f"  {node['message']}" if node.get("message") else ""
    return f"{node['displayName']:<40} {node['phase']:<10} {duration(node):>7}{message}"


class Progress:
    """Prints each snapshot of a workflow: redraws a table on a terminal, or prints changes as lines."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._drawn = 0
        self._seen: dict[str, str] = {}

    def show(self, workflow: dict[str, Any]) -> None:
        """Show one snapshot."""
        status = workflow.get("status") or {}
        if self.live:
            lines = [f"{workflow['metadata']['name']}  {status.get('phase', 'Pending')}  {duration(status)}"]
            lines += [f"  {node_line(node)}" for node in shown_nodes(workflow)]
            if self._drawn:
                self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self.stream.write("\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            for node in shown_nodes(workflow):
                if self._seen.get(node["id"]) != node["phase"]:
                    self._seen[node["id"]] = node["phase"]
                    self.stream.write(node_line(node) + "\n")
        self.stream.flush()

    def follow(self, snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Show every snapshot; return the last."""
        workflow: dict[str, Any] = {}
        for workflow in snapshots:
            self.show(workflow)
        return workflow
