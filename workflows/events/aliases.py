"""CloudHarness's names for the built-in tasks' inputs, read when the library's own names are unset.

CloudHarness's ``notify-queue`` image reads ``workflow_result``, ``queue_name``
and ``payload`` (its exit handler sets them), and its ``send-result-event``
image takes the shared directory as its first argument. The images of this
library accept both, so a spec compiled by CloudHarness runs them unchanged.
CloudHarness's image defaults ``queue_name`` to the text ``None``: that value
means "no queue", never a topic named ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..runtime import EXIT_PAYLOAD_ENV, EXIT_QUEUE_ENV, EXIT_STATUS_ENV, SHARED_DIRECTORY_ENV

#: The library's variable → CloudHarness's variable of the same meaning.
CLOUDHARNESS_NAMES = {
    EXIT_STATUS_ENV: "workflow_result",
    EXIT_QUEUE_ENV: "queue_name",
    EXIT_PAYLOAD_ENV: "payload",
}
#: Values CloudHarness uses for "unset" (its Dockerfile's ``ENV queue_name 'None'``).
UNSET_VALUES = frozenset({"", "None"})


def with_cloudharness_names(environ: Mapping[str, str], argv: Sequence[str] = ()) -> dict[str, str]:
    """``environ`` completed from CloudHarness's names (and ``argv[1]``, the shared directory) where ours are unset."""
    env = dict(environ)
    for ours, theirs in CLOUDHARNESS_NAMES.items():
        if not env.get(ours) and env.get(theirs, "") not in UNSET_VALUES:
            env[ours] = env[theirs]
    if env.get(EXIT_QUEUE_ENV) in UNSET_VALUES:
        env.pop(EXIT_QUEUE_ENV, None)
    if not env.get(SHARED_DIRECTORY_ENV) and len(argv) > 1 and argv[1]:
        env[SHARED_DIRECTORY_ENV] = argv[1]
    return env
