"""How the engine starts Python processes of its own (a workflow's runner, its pods' zygote): this interpreter,
importing this package from the folder the starting process imported it from."""

from __future__ import annotations

import sys
from pathlib import Path

#: The folder holding this package (``<it>/workflows/``): a site-packages folder, or an editable checkout.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def python_command(code: str, *args: str) -> list[str]:
    """The command running ``code`` with ``args`` (``python -c``; ``code`` may import this package).

    :data:`PACKAGE_ROOT` takes the place of the working directory that ``python`` puts first on ``sys.path``:
    a ``workflows`` folder of the user's there would be imported in the library's stead.
    """
    return [sys.executable, "-c", f"import sys; sys.path[0] = {PACKAGE_ROOT!r}; {code}", *args]
