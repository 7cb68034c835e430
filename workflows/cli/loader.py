"""Load the operations a Python file defines (``FILE.py[:NAME]``)."""

from __future__ import annotations

import runpy
from pathlib import Path

from ..errors import BadOperationConfiguration, TargetError
from ..operations import ContainerizedOperation


def split_target(target: str) -> tuple[Path, str | None]:
    """``'ops.py:hello'`` → ``(Path('ops.py'), 'hello')``; a name must be a Python identifier."""
    path, _, name = target.rpartition(":")
    if path and name.isidentifier():
        return Path(path), name
    return Path(target), None


def is_python_target(target: str) -> bool:
    """Whether ``target`` names a Python file (``ops.py`` or ``ops.py:NAME``) rather than a YAML/JSON spec."""
    return split_target(target)[0].suffix == ".py"


def load_operations(target: str) -> dict[str, ContainerizedOperation]:
    """Run the Python file of ``target`` and return its operations by global name, in definition order.

    With ``:NAME``, only that one: a global operation, or a function that
    takes no argument and returns one. The file runs with ``__name__`` set to
    its stem, so its ``if __name__ == "__main__":`` block does not run.
    """
    path, name = split_target(target)
    if not path.is_file():
        raise TargetError(f"{path}: no such file")
    try:
        namespace = runpy.run_path(str(path), run_name=path.stem)
    except (BadOperationConfiguration, TypeError) as error:
        raise TargetError(f"{path}: {error}") from error
    if name is None:
        operations = {key: value for key, value in namespace.items() if isinstance(value, ContainerizedOperation)}
        if not operations:
            raise TargetError(f"{path}: defines no operation at module level")
        return operations
    if name not in namespace:
        raise TargetError(f"{path}: has no global named {name!r}")
    value = namespace[name]
    if callable(value) and not isinstance(value, ContainerizedOperation):
        try:
            value = value()
        except (BadOperationConfiguration, TypeError) as error:
            raise TargetError(f"{path}:{name}(): {error}") from error
    if not isinstance(value, ContainerizedOperation):
        raise TargetError(f"{path}:{name} is a {type(value).__name__}, not an operation")
    return {name: value}
