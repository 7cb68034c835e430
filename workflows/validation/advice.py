"""Warnings: what Kubernetes and Argo accept but is likely not what was meant (``workflows lint`` prints them).

They never make a spec invalid: :func:`~workflows.validation.lint_spec` and
submission ignore them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from .problems import Problem, child, item

_CONTAINER_LISTS = ("initContainers", "sidecars")


def _relative(path: object) -> bool:
    return isinstance(path, str) and bool(path) and not path.startswith("/")


def _mount_warning(field: str, path: str) -> Problem:
    mounted = posixpath.normpath("/" + path)
    return Problem(field, f"warning: mount path {path!r} is relative; Kubernetes mounts it at {mounted!r}")


def _containers(template: dict[str, Any], path: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for key in ("container", "script"):
        if isinstance(template.get(key), dict):
            yield child(path, key), template[key]
    for key in _CONTAINER_LISTS:
        for index, container in enumerate(template.get(key) or ()):
            if isinstance(container, dict):
                yield item(child(path, key), index), container


def spec_warnings(document: object) -> list[Problem]:
    """The warnings of an Argo document: volume mounts whose path has no leading ``/``."""
    spec = document.get("spec") if isinstance(document, dict) else None
    templates = spec.get("templates") if isinstance(spec, dict) else None
    warnings = []
    for index, template in enumerate(templates if isinstance(templates, list) else ()):
        if not isinstance(template, dict):
            continue
        for container_path, container in _containers(template, item("spec.templates", index)):
            for mount_index, mount in enumerate(container.get("volumeMounts") or ()):
                if isinstance(mount, dict) and _relative(mount.get("mountPath")):
                    field = child(item(child(container_path, "volumeMounts"), mount_index), "mountPath")
                    warnings.append(_mount_warning(field, mount["mountPath"]))
    return warnings


def operation_warnings(operation: Any) -> list[Problem]:
    """The warnings of an operation: volume strings written with a relative mount path (``claim:data``).

    The compiled spec already says ``/data``, as Kubernetes would; the warning
    points at what was written.
    """
    warnings = [
        Problem(f"shared_directory[{index}]", f"warning: {str(mount)!r} was written with a relative mount path; "
                f"mounted at {mount.path!r}, as Kubernetes does")
        for index, mount in enumerate(operation.options.shared_directories)
        if mount.relative
    ]
    for task in operation.task_list():
        warnings += [
            Problem(f"task {task.name!r}: volume_mounts[{index}]",
                    f"warning: {str(mount)!r} was written with a relative mount path; "
                    f"mounted at {mount.path!r}, as Kubernetes does")
            for index, mount in enumerate(task.volume_mounts)
            if mount.relative
        ]
    return warnings
