"""The live progress table: one terminal row per line, whatever the terminal's width and the nodes' messages."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import termios

import pytest

from workflows.cli.progress import Progress, fit, terminal_width

CURSOR_UP = re.compile(r"\x1b\[(\d+)F\x1b\[J")


class FakeTerminal(io.StringIO):
    """Text written to a "terminal" whose width comes from ``COLUMNS`` (it has no file descriptor)."""

    def isatty(self) -> bool:
        return True


def snapshot(phase: str, message: str = "") -> dict:
    node = {"id": "n1", "displayName": "a-step-with-a-rather-long-name", "type": "Pod", "phase": phase,
            "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:05Z", "message": message}
    return {"metadata": {"name": "wf-" + "x" * 60}, "status": {"phase": phase, "nodes": {"n1": node}}}


def test_fit_cuts_to_display_columns():
    assert fit("short", 10) == "short"
    assert fit("exactly10!", 10) == "exactly10!"
    assert fit("one line too long", 10) == "one line \u2026"
    assert fit("one line too long", 10, "~") == "one line ~"
    assert fit("\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587", 7) == "\u4e2d\u6587\u4e2d\u2026"  # wide: two columns each
    assert fit("e\u0301" * 4, 4) == "e\u0301" * 4  # combining accents take no column
    assert fit("two\nlines\tand a tab", 40) == "two lines and a tab"
    assert fit("abc", 0) == ""


def test_live_table_lines_fit_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    terminal = FakeTerminal()
    progress = Progress(terminal)
    assert progress.live and terminal_width(terminal) == 40
    progress.show(snapshot("Running"))
    progress.show(snapshot("Failed", "exit code 1\nand a traceback " + "long " * 30))
    text = terminal.getvalue()
    drawn = CURSOR_UP.split(text)
    first, moved, second = drawn[0], int(drawn[1]), drawn[2]
    assert moved == len(first.splitlines()) == 2  # the cursor goes back over exactly the rows drawn
    rows = second.splitlines()
    assert len(rows) == 2 and all(len(row) <= 39 for row in rows)
    assert rows[0].startswith("wf-xxx") and rows[1].startswith("  a-step-with")
    assert all(row.endswith("\u2026") for row in rows)


def test_plain_lines_are_not_cut():
    stream = io.StringIO()
    Progress(stream).show(snapshot("Failed", "x" * 300))
    assert stream.getvalue().count("x") == 300


@pytest.mark.parametrize("columns", [30, 100])
def test_width_of_a_real_terminal(columns):
    primary, secondary = pty.openpty()
    try:
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        with os.fdopen(os.dup(secondary), "w", encoding="utf-8") as stream:
            assert stream.isatty() and terminal_width(stream) == columns
            Progress(stream).show(snapshot("Running", "m" * 200))
        output = b""
        while output.count(b"\n") < 2:
            ready, _, _ = select.select([primary], [], [], 60)
            assert ready, f"the terminal showed only {output!r}"
            output += os.read(primary, 4096)
    finally:
        os.close(primary)
        os.close(secondary)
    rows = output.decode().replace("\r", "").splitlines()
    assert len(rows) == 2 and max(len(row) for row in rows) == columns - 1
