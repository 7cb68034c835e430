"""Showing a workflow's nodes while it runs: a live table in a terminal, plain lines elsewhere.

The live table is redrawn in place by moving the cursor up one row per line drawn, so each of its lines must
take exactly one row: lines are cut to the terminal's width (measured at every redraw, in display columns:
wide characters count two) and control characters such as newlines in messages become spaces.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Iterable
from typing import Any, TextIO

from ..timestamps import epoch

SHOWN_TYPES = ("Pod", "Suspend", "Skipped")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ELLIPSIS = "\u2026"


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal behind ``stream`` (``COLUMNS`` or 80 when it cannot be asked)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or shutil.get_terminal_size().columns
    except (OSError, ValueError):  # not a real terminal (io.UnsupportedOperation is both)
        return shutil.get_terminal_size().columns


def _columns(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(line: str, width: int, ellipsis: str = _ELLIPSIS) -> str:
    """``line`` on one row of ``width`` columns: control characters become spaces, and a line too wide is cut
    and ends with ``ellipsis``."""
    line = _CONTROL.sub(" ", line)
    if sum(_columns(char) for char in line) <= width:
        return line
    room = max(0, width - len(ellipsis))
    used = cut = 0
    for char in line:
        used += _columns(char)
        if used > room:
            break
        cut += 1
    return line[:cut] + ellipsis[:width]


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


def _encodes(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Progress:
    """Prints each snapshot of a workflow: redraws a table on a terminal, or prints changes as lines."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._drawn = 0
        self._seen: dict[str, str] = {}
        self._ellipsis = _ELLIPSIS if _encodes(stream, _ELLIPSIS) else "~"

    def show(self, workflow: dict[str, Any]) -> None:
        """Show one snapshot."""
        status = workflow.get("status") or {}
        if self.live:
            lines = [f"{workflow['metadata']['name']}  {status.get('phase', 'Pending')}  {duration(status)}"]
            lines += [f"  {node_line(node)}" for node in shown_nodes(workflow)]
            # The last column stays free: some terminals wrap a line that fills the row exactly.
            width = max(1, terminal_width(self.stream) - 1)
            lines = [fit(line, width, self._ellipsis) for line in lines]
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
