"""What CloudHarness's built-in task images accept besides the variables the compiled spec sets.

The exit handler sets CloudHarness's own names (``workflow_result``,
``queue_name``, ``payload``: :mod:`workflows.runtime`). Two conventions of
CloudHarness's images remain: its ``notify-queue`` Dockerfile defaults
``queue_name`` to the text ``None``, which means "no queue" — never a topic
named ``None`` — and its ``send-result-event`` image takes the shared directory
as its first argument. The images of this library accept both, so a spec
compiled by CloudHarness runs them unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..runtime import EXIT_QUEUE_ENV, SHARED_DIRECTORY_ENV

#: Values CloudHarness uses for "unset" (its Dockerfile's ``ENV queue_name 'None'``).
UNSET_VALUES = frozenset({"", "None"})


def with_cloudharness_names(environ: Mapping[str, str], argv: Sequence[str] = ()) -> dict[str, str]:
    """``environ`` without a queue CloudHarness means as unset, and with the shared directory from ``argv[1]``
    when the variable is unset."""
    env = dict(environ)
    if env.get(EXIT_QUEUE_ENV) in UNSET_VALUES:
        env.pop(EXIT_QUEUE_ENV, None)
    if not env.get(SHARED_DIRECTORY_ENV) and len(argv) > 1 and argv[1]:
        env[SHARED_DIRECTORY_ENV] = argv[1]
    return env
