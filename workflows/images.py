"""Image names: CloudHarness-style application images and external images."""

from __future__ import annotations

from . import config

#: Images the library itself ships under ``applications/workflows/tasks/<task>/``.
BUILTIN_APPLICATION_IMAGES = frozenset({"workflows-notify-queue", "workflows-send-result-event"})


def application_dockerfile(image_name: str):
    """Return the ``Dockerfile`` path that builds ``image_name`` (``<app>-<task>``), or ``None``.

    ``myapp-mytask`` is built by ``<applications>/myapp/tasks/mytask/Dockerfile``.
    Application names may contain ``-``, so every split point is tried.
    """
    root = config.applications_dir()
    parts = image_name.split("-")
    for cut in range(1, len(parts)):
        dockerfile = root / "-".join(parts[:cut]) / "tasks" / "-".join(parts[cut:]) / "Dockerfile"
        if dockerfile.is_file():
            return dockerfile
    return None


def application_image(image_name: str) -> str:
    """The full reference of an application image: ``<registry>/<image_name>:<tag>``."""
    registry = config.registry()
    reference = f"{image_name}:{config.image_tag()}"
    return f"{registry}/{reference}" if registry else reference


def resolve_image(image_name: str) -> str:
    """Resolve a CustomTask image name.

    Inside a CloudHarness deployment (see :mod:`workflows.cloudharness`), as
    CloudHarness resolves it from its values. Elsewhere, a name built by an
    application's Dockerfile (or one of the library's built-in task images)
    becomes ``<registry>/<name>:<tag>``; any other name is an external image,
    used verbatim.
    """
    if "/" in image_name or ":" in image_name:
        return image_name  # a full reference: no application or task-images name has these, here or in CloudHarness
    from . import cloudharness

    if cloudharness.enabled():
        return cloudharness.image(image_name)
    if image_name in BUILTIN_APPLICATION_IMAGES or application_dockerfile(image_name):
        return application_image(image_name)
    return image_name
