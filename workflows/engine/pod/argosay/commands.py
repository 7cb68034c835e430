"""argosay v2's ``/argosay`` script, command for command (Argo's ``test/e2e/images/argosay/v2/argosay``).

The script is ``sh`` with ``set -eu``; ``ARGS`` are its arguments:

==================================  ===============================================================
``argosay`` (or an empty first)     prints ``hello argo``
``argosay echo``                    prints ``hello argo``
``argosay echo TEXT``               prints TEXT (with ``sh``'s ``echo``: backslash escapes, ``-n``)
``argosay echo TEXT FILE``          writes TEXT and a newline to FILE, creating its folders
``argosay echo A B C...``           nothing (the script's ``default)`` pattern matches no count)
``argosay cat FILE``                prints FILE
``argosay sleep DURATION``          sleeps (``sleep``'s syntax: ``5``, ``0.5s``, ``2m``, ``1h``, ``1d``)
``argosay exit [CODE]``             exits with CODE (default 0)
``argosay assert_contains F TEXT``  ``grep -F TEXT F``: prints the matching lines, fails without one
``argosay sh [FILE]``               runs the shell script FILE (default ``0``)
anything else                       exits 1
==================================  ===============================================================

A missing operand is ``set -u``'s error: exit 2.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence

from ....errors import WorkflowsError

_SCRIPT = "/argosay"
_ECHO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_INTERVAL = re.compile(r"(\d+\.?\d*|\.\d+)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class _Unset(WorkflowsError):
    """An operand the script reads with ``set -u`` in force is missing."""

    def __init__(self, position: int) -> None:
        super().__init__(f"{_SCRIPT}: {position}: parameter not set")


def _operand(args: Sequence[str], position: int) -> str:
    """The script's ``$position`` (``args[0]`` is ``$1``)."""
    if len(args) < position:
        raise _Unset(position)
    return args[position - 1]


def dash_echo(text: str) -> str:
    """What ``echo TEXT`` prints in Ubuntu's ``sh`` (dash): ``-n`` drops the newline; escapes are interpreted,
    ``\\c`` stops the output."""
    if text == "-n":
        return ""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if char != "\\" or not following:
            out.append(char)
            index += 1
        elif following == "c":
            return "".join(out)
        elif following == "0":
            digits = re.match(r"[0-7]{0,3}", text[index + 2:]).group()
            out.append(chr(int(digits or "0", 8)))
            index += 2 + len(digits)
        elif following in _ECHO_ESCAPES:
            out.append(_ECHO_ESCAPES[following])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out) + "\n"


def sleep_seconds(operands: Sequence[str]) -> float:
    """The seconds ``sleep OPERANDS`` waits (GNU ``sleep``: the operands add up); ``ValueError`` for a bad one."""
    if not operands:
        raise ValueError("sleep: missing operand")
    total = 0.0
    for operand in operands:
        match = _INTERVAL.fullmatch(operand)
        if match is None:
            raise ValueError(f"sleep: invalid time interval '{operand}'")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return total


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()


def _echo(args: Sequence[str]) -> int:
    count = len(args)  # the script's $#
    if count == 1:
        _write("hello argo\n")
    elif count == 2:
        _write(dash_echo(args[1]))
    elif count == 3:
        target = args[2]
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "wb") as file:
            file.write(dash_echo(args[1]).encode("utf-8", "surrogateescape"))
    return 0


def _cat(args: Sequence[str]) -> int:
    path = _operand(args, 2)
    try:
        with open(path, "rb") as file:
            sys.stdout.buffer.write(file.read())
    except OSError as error:
        print(f"cat: {path}: {error.strerror}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    return 0


def _assert_contains(args: Sequence[str]) -> int:
    path, text = _operand(args, 2), _operand(args, 3)
    try:
        with open(path, "rb") as file:
            lines = file.read().decode("utf-8", "surrogateescape").splitlines(keepends=True)
    except OSError as error:
        print(f"grep: {path}: {error.strerror}", file=sys.stderr)
        return 2
    patterns = text.split("\n")  # grep -F: one fixed string per line of the pattern
    found = [line for line in lines if any(pattern in line for pattern in patterns)]
    for line in found:
        _write(line if line.endswith("\n") else line + "\n")
    return 0 if found else 1


def _exit(args: Sequence[str]) -> int:
    code = args[1] if len(args) > 1 and args[1] != "" else "0"
    if not code.isdigit():
        print(f"{_SCRIPT}: exit: Illegal number: {code}", file=sys.stderr)
        return 2
    return int(code) % 256


def _sleep(args: Sequence[str]) -> int:
    try:
        seconds = sleep_seconds([_operand(args, 2)])
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    time.sleep(seconds)
    return 0


def _sh(args: Sequence[str]) -> int:
    script = args[1] if len(args) > 1 and args[1] != "" else "0"
    return subprocess.run(["sh", script], check=False).returncode


_COMMANDS = {"echo": _echo, "cat": _cat, "assert_contains": _assert_contains, "exit": _exit, "sleep": _sleep,
             "sh": _sh}


def main(args: Sequence[str]) -> int:
    """Run ``/argosay ARGS``; return its exit status."""
    if not args or args[0] == "":
        _write("hello argo\n")
        return 0
    command = _COMMANDS.get(args[0])
    if command is None:
        return 1
    try:
        return command(list(args))
    except _Unset as error:
        print(error, file=sys.stderr)
        return 2
