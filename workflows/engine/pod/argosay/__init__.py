"""Argo's test image ``argoproj/argosay`` (v1 and v2) as a host program, the way busybox runs on the host.

Argo's examples and e2e tests use it; its source is in Argo's repository,
``test/e2e/images/argosay/``:

- ``v1`` is Ubuntu with ``cowsay`` (``ENV PATH $PATH:/usr/games``, ``CMD ["cowsay"]``);
- ``v2`` is v1 plus the shell script ``/argosay`` as its ``ENTRYPOINT`` (which
  resets v1's ``CMD``): ``echo``, ``cat``, ``sleep``, ``exit``,
  ``assert_contains``, ``sh`` (see :mod:`.commands`).

:class:`workflows.engine.images.ArgosayPlan` is the image's plan:
v2 without a ``command`` runs ``python -m workflows.engine.pod.argosay ARGS``;
with a ``command`` (``sh -c "cowsay hi | tee x"``), the command runs on the
host, with :data:`BIN` (``cowsay`` and ``argosay``) at the end of ``PATH``.
"""

from __future__ import annotations

from pathlib import Path

#: Folder of the image's programs: ``cowsay`` and ``argosay``, small scripts running :mod:`.commands`.
BIN = Path(__file__).resolve().parent / "bin"
#: The variable naming the Python the programs of :data:`BIN` run with (the engine's own).
PYTHON_VARIABLE = "WORKFLOWS_ARGOSAY_PYTHON"
#: Image names (Docker Hub short names) and the versions this module stands for.
IMAGE_NAME = "argoproj/argosay"
VERSIONS = ("v1", "v2")


def argosay_version(name: str, tag: str | None) -> str | None:
    """``"v1"``/``"v2"`` when ``name:tag`` (a Docker Hub short name) is argosay's image, else ``None``."""
    return tag if name == IMAGE_NAME and tag in VERSIONS else None
