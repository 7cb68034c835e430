"""Benchmarks measure what users run: the package's current bytecode, not its compilation.

With ``PYTHONDONTWRITEBYTECODE`` set (some CI images and sandboxes set it), Python never refreshes a stale
``__pycache__``: every interpreter the benchmark starts (import probes, the engine's runner and zygote)
would compile each module changed since its bytecode was last written, and the figures would measure the
compiler. :func:`fresh_bytecode` writes it once and lets the benchmark's processes use it.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
from pathlib import Path


def fresh_bytecode(package: str = "workflows") -> None:
    """Compile ``package`` (as this interpreter finds it, ``PYTHONPATH`` included) where its bytecode is
    stale, and unset ``PYTHONDONTWRITEBYTECODE`` for the processes the benchmark starts."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"cannot find the package {package!r} to compile")
    compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
