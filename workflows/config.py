"""Configuration from the environment, read when it is used (never at import time).

=========================  ==========================================  ======================
variable                   meaning                                     default
=========================  ==========================================  ======================
``WORKFLOWS_APPLICATIONS``  folder of CloudHarness-style applications   ``./applications``
``WORKFLOWS_REGISTRY``      registry prefix of application images       empty (no prefix)
``WORKFLOWS_TAG``           tag of application images                   ``latest``
``WORKFLOWS_IMAGE``         image of PythonTask, BashTask,              ``python:3.12-slim``
                            CommandBasedTask
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
    return os.environ.get("WORKFLOWS_IMAGE") or DEFAULT_IMAGE
