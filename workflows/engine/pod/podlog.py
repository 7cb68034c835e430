"""A pod's log file on the host, bounded: a task that prints without end must not fill the engine's disk.

The kubelet keeps at most ``containerLogMaxSize`` × ``containerLogMaxFiles`` of a container's log (10 MiB × 5 by
default), rotating the oldest away. Here the log is one file, read whole and followed by offset (``workflows
logs -f``), so it keeps the *first* :data:`MAX_LOG_BYTES` and counts the rest, which its last line reports.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

#: What a pod's log keeps: the kubelet's default budget for a container's log (10 MiB × 5 files).
MAX_LOG_BYTES = 50 * 1024 * 1024


class PodLog:
    """A pod's log file, made on the pod's first output (a pod that prints nothing leaves none), written up to
    :data:`MAX_LOG_BYTES`; :meth:`close` adds a line saying how much was left out past it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO | None = None
        self.written = 0
        self.left_out = 0

    def write(self, data: bytes) -> None:
        """Append ``data``, or what of it fits within :data:`MAX_LOG_BYTES`."""
        if self.file is None:
            self.file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        kept = data[: max(MAX_LOG_BYTES - self.written, 0)]
        if kept:
            self.file.write(kept)
            self.written += len(kept)
        self.left_out += len(data) - len(kept)

    def close(self) -> None:
        """Close the file, once the pod's output ended; say how much was left out, if anything was."""
        if self.file is None:
            return
        if self.left_out:
            self.file.write(f"\n[harness-workflows: {self.left_out} more bytes of output left out: a pod's log keeps "
                            f"its first {MAX_LOG_BYTES} bytes]\n".encode())
        self.file.close()
        self.file = None
