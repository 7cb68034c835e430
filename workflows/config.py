"""Configuration from the environment, read when it is used (never at import time).

=========================  ==========================================  ======================
variable                   meaning                                     default
=========================  ==========================================  ======================
``WORKFLOWS_APPLICATIONS``  folder of CloudHarness-style applications   ``./applications``
``WORKFLOWS_REGISTRY``      registry prefix of application images       empty (no prefix)
``WORKFLOWS_TAG``           tag of application images                   ``latest``
``WORKFLOWS_IMAGE``         image of PythonTask, BashTask,              ``python:3.12-slim`` (in CloudHarness:
                            CommandBasedTask                            its ``cloudharness-base`` image)
``WORKFLOWS_CLOUDHARNESS``  ``1``/``0``: compile for a CloudHarness      on where CloudHarness's values are
                            deployment or not (see                      found (``$CH_VALUES_PATH``, else
                            :mod:`workflows.cloudharness`)              ``/opt/cloudharness/resources/
                                                                        allvalues.yaml``)
``WORKFLOWS_OPERATIONS_URL`` where operations can be followed:          in CloudHarness: its ``workflows``
                            ``get_operation_update_url()`` is           application's address; else
                            ``<this>/operations/<workflow name>``       ``workflows://local``
``WORKFLOWS_HOME``          state of the local backend (SQLite, logs,   ``$XDG_DATA_HOME/harness-workflows``
                            volumes, events)                            or ``~/.local/share/harness-workflows``
``WORKFLOWS_BACKEND``       ``local``, ``kubernetes``, ``argo-server``  ``kubernetes`` in a pod, else ``local``
=========================  ==========================================  ======================
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_IMAGE = "python:3.12-slim"
DEFAULT_TAG = "latest"
DEFAULT_APPLICATIONS = "applications"


def applications_dir() -> Path:
    """The folder holding ``<app>/tasks/<task>/Dockerfile`` image definitions."""
    return Path(os.environ.get("WORKFLOWS_APPLICATIONS") or DEFAULT_APPLICATIONS)


def registry() -> str:
    """The registry prefix of application images, without a trailing ``/`` (may be empty)."""
    return os.environ.get("WORKFLOWS_REGISTRY", "").rstrip("/")


def image_tag() -> str:
    """The tag given to application images."""
    return os.environ.get("WORKFLOWS_TAG") or DEFAULT_TAG


def default_image() -> str:
    """The image that runs inlined tasks and command-based tasks."""
    image = os.environ.get("WORKFLOWS_IMAGE")
    if image:
        return image
    from . import cloudharness

    if cloudharness.enabled():
        return cloudharness.image(cloudharness.BASE_IMAGE)
    return DEFAULT_IMAGE


#: The base of operation URLs on the local backend: ``workflows get NAME`` shows what ``<base>/operations/NAME`` names.
LOCAL_OPERATIONS_URL = "workflows://local"


def operations_url() -> str:
    """The base URL where operations can be followed, without a trailing ``/``.

    ``$WORKFLOWS_OPERATIONS_URL``; else, inside a CloudHarness deployment, the
    public address of its ``workflows`` application (as CloudHarness gives it);
    else :data:`LOCAL_OPERATIONS_URL`.
    """
    url = os.environ.get("WORKFLOWS_OPERATIONS_URL")
    if url:
        return url.rstrip("/")
    from . import cloudharness

    if cloudharness.enabled():
        service = cloudharness.workflows_service_url()
        if service:
            return service
    return LOCAL_OPERATIONS_URL


def state_home() -> Path:
    """The library's state folder, absolute, not created: ``$WORKFLOWS_HOME``, else ``harness-workflows``
    in the user's data folder (``$XDG_DATA_HOME`` when absolute, as the XDG specification says, else
    ``~/.local/share``)."""
    home = os.environ.get("WORKFLOWS_HOME")
    if home:
        return Path(os.path.abspath(os.path.expanduser(home)))
    data = os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "")
    base = Path(data) if data and os.path.isabs(data) else Path.home() / ".local" / "share"
    return Path(os.path.abspath(base / "harness-workflows"))


def state_dir() -> Path:
    """:func:`state_home`, created if missing."""
    path = state_home()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
