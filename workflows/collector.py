"""Pausing Python's cyclic garbage collector around allocation-heavy steps that make no cycles.

Compiling an operation builds tens of thousands of plain dicts and lists that all stay alive (they are the
workflow). With the collector on, their allocation triggers full collections, each one scanning every
object of the program, so the cost per task grew with the size of the operation (``bench/compile.py
--gc``). Nothing built there forms a reference cycle, so there is nothing for the collector to find:
:func:`collector_paused` turns it off for the duration of the step and back on after, unless the caller had
already turned it off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the ``with`` body with the cyclic garbage collector off; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
