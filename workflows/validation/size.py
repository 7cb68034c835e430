"""The size limit of Kubernetes objects."""

from __future__ import annotations

import json

from .problems import Problem

#: etcd, hence the Kubernetes API server, refuses objects larger than 1 MiB.
MAX_SPEC_BYTES = 1024 * 1024


def spec_size(document: dict) -> int:
    """Return the size in bytes of ``document`` as compact UTF-8 JSON (what the API server stores)."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def check_size(document: dict) -> list[Problem]:
    """Return a problem when ``document`` is larger than :data:`MAX_SPEC_BYTES`."""
    size = spec_size(document)
    if size <= MAX_SPEC_BYTES:
        return []
    return [
        Problem(
            "document",
            f"spec is {size} bytes, Kubernetes objects are limited to 1 MiB ({MAX_SPEC_BYTES} bytes)",
        )
    ]
