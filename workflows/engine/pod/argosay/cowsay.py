"""``cowsay`` as argosay v1 has it (Ubuntu's ``cowsay``): the message in a speech bubble, and the cow.

``python -m workflows.engine.pod.argosay.cowsay [MESSAGE...]``: the arguments
joined by blanks, or else standard input, wrapped at 40 columns (cowsay's
``-W 40``; tabs expanded).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence

#: cowsay's default width: ``Text::Wrap`` with 40 columns puts at most 39 characters on a line.
WIDTH = 39
COW = r"""        \   ^__^
         \  (oo)\_______
            (__)\       )\/\
                ||----w |
                ||     ||
"""


def bubble(message: str) -> str:
    """The speech bubble around ``message``: ``< one line >``; ``/ … \\``, ``| … |``, ``\\ … /`` for several."""
    lines = []
    for paragraph in message.expandtabs(8).split("\n"):
        lines += textwrap.wrap(paragraph, WIDTH, break_on_hyphens=False) or [""]
    if len(lines) > 1 and lines[-1] == "" and message.endswith("\n"):
        lines.pop()
    width = max(len(line) for line in lines)
    if len(lines) == 1:
        body = [f"< {lines[0]} >"]
    else:
        borders = [("/", "\\")] + [("|", "|")] * (len(lines) - 2) + [("\\", "/")]
        body = [f"{left} {line.ljust(width)} {right}" for line, (left, right) in zip(lines, borders)]
    return "\n".join([" " + "_" * (width + 2), *body, " " + "-" * (width + 2)]) + "\n"


def cowsay(args: Sequence[str]) -> str:
    """What ``cowsay ARGS`` prints (standard input is read only when there are no arguments)."""
    message = " ".join(args) if args else sys.stdin.read()
    return bubble(message) + COW


if __name__ == "__main__":
    sys.stdout.write(cowsay(sys.argv[1:]))
