"""Whether pods run isolated: ``WORKFLOWS_ISOLATION``, read when used (a module of its own, light enough for the
runner to read it before its heavy imports, see :func:`.zygote.start_zygote_early`)."""

from __future__ import annotations

import os

from ...errors import PodSetupError

UNISOLATED_WARNING = ("WORKFLOWS_ISOLATION=none: pods run UNISOLATED on this machine, with the runner's "
                      "privileges; a task can read, change or delete any file the runner's user can")


def isolation() -> str:
    """``WORKFLOWS_ISOLATION``: ``"sandbox"`` (the default) or ``"none"`` (tasks run unisolated on the host).
    Raises :class:`~workflows.errors.PodSetupError` for any other value."""
    value = os.environ.get("WORKFLOWS_ISOLATION", "").strip().lower() or "sandbox"
    if value not in ("sandbox", "none"):
        raise PodSetupError(f"WORKFLOWS_ISOLATION={value!r}: expected 'sandbox' (the default) or 'none'")
    return value


def unisolated_warning() -> str | None:
    """The warning to log at the start of every workflow when pods run unisolated, else ``None``."""
    try:
        mode = isolation()
    except PodSetupError as error:
        return str(error)
    return UNISOLATED_WARNING if mode == "none" else None
