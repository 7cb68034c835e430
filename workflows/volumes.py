"""The ``[CLAIM:]PATH[:MODE]`` volume syntax of ``shared_directory`` and ``volume_mounts``.

- ``/mnt/data`` — an ephemeral volume (a ``volumeClaimTemplates`` claim created
  for the workflow and deleted with it), mounted read-write at ``/mnt/data``;
- ``my-claim:/mnt/data`` — the existing PersistentVolumeClaim ``my-claim``;
- a last part ``:ro`` mounts read-only, ``:rw`` (the default) read-write, and
  ``:rwx`` says the claim is ReadWriteMany: its pods need not share a node.

A mount path without a leading ``/`` (``my-claim:data``, as CloudHarness's own
tests write) is taken as Kubernetes takes it: the kubelet mounts it at
``/data``, so the compiled spec says ``/data``; ``workflows lint`` warns about it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from .errors import BadOperationConfiguration
from .naming import DNS1123_SUBDOMAIN

MODES = ("rw", "ro", "rwx")


@dataclass(frozen=True)
class VolumeMount:
    """One parsed ``[CLAIM:]PATH[:MODE]`` string."""

    claim: str | None
    """Name of an existing PersistentVolumeClaim, or ``None`` for an ephemeral volume."""
    path: str
    """Absolute, normalised mount path."""
    mode: str = "rw"
    """``rw``, ``ro`` or ``rwx``."""
    relative: bool = dataclass_field(default=False, compare=False)
    """Whether the path was written without its leading ``/`` (``workflows lint`` warns)."""

    @property
    def read_only(self) -> bool:
        """Whether the mount refuses writes."""
        return self.mode == "ro"

    @property
    def shared_across_nodes(self) -> bool:
        """Whether pods on different nodes may mount it (ReadWriteMany)."""
        return self.mode == "rwx"

    def __str__(self) -> str:
        return ":".join(part for part in (self.claim, self.path, None if self.mode == "rw" else self.mode) if part)


def parse_volume(field: str, text: object) -> VolumeMount:
    """Parse ``[CLAIM:]PATH[:MODE]``; raise :class:`BadOperationConfiguration` naming ``field`` and the value."""
    if not isinstance(text, str):
        raise TypeError(f"{field} must be a '[CLAIM:]PATH[:MODE]' string, got {type(text).__name__} {text!r}")
    parts = text.split(":")
    if len(parts) > 3:
        raise BadOperationConfiguration(f"{field}={text!r}: too many ':' parts, expected [CLAIM:]PATH[:MODE]")
    claim = None
    mode = "rw"
    if len(parts) == 3:
        claim, path, mode = parts
    elif len(parts) == 2 and parts[0].startswith("/"):
        path, mode = parts
    elif len(parts) == 2:
        claim, path = parts
    else:
        (path,) = parts
    if mode not in MODES:
        raise BadOperationConfiguration(f"{field}={text!r}: unknown mode {mode!r}, expected one of {', '.join(MODES)}")
    if claim is not None and not DNS1123_SUBDOMAIN.match(claim):
        raise BadOperationConfiguration(
            f"{field}={text!r}: claim name {claim!r} is not a valid PersistentVolumeClaim name"
        )
    relative = not path.startswith("/")
    if relative and not path.strip():
        raise BadOperationConfiguration(f"{field}={text!r}: the mount path is empty")
    path = posixpath.normpath("/" + path if relative else path)
    if path == "/" or path.startswith("//"):
        raise BadOperationConfiguration(f"{field}={text!r}: cannot mount a volume at {path!r}")
    return VolumeMount(claim, path, mode, relative)


def parse_volumes(field: str, value: object) -> tuple[VolumeMount, ...]:
    """Parse a list (or tuple) of volume strings; a single string is accepted as a list of one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{field} must be a list of '[CLAIM:]PATH[:MODE]' strings, got {value!r}")
    return tuple(parse_volume(f"{field}[{index}]", item) for index, item in enumerate(value))
