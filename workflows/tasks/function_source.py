"""Turn a Python function into the source of a standalone script that runs its body."""

from __future__ import annotations

import ast
import inspect
import io
import tokenize
import types

from ..errors import BadOperationConfiguration


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _dedent(source: str) -> str:
    """Remove the indentation of the first line from every line, leaving string contents untouched.

    Unlike :func:`textwrap.dedent`, a comment or a line inside a multi-line
    string that is less indented than the ``def`` does not stop the dedent.
    """
    lines = source.splitlines(keepends=True)
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    if not indent:
        return source
    # Lines that continue a multi-line string token keep their text as is.
    in_string: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            in_string.update(range(token.start[0] + 1, token.end[0] + 1))
    dedented = []
    for number, line in enumerate(lines, start=1):
        if number in in_string:
            dedented.append(line)
        elif line.startswith(indent):
            dedented.append(line[len(indent):])
        else:  # blank line or a comment less indented than the code
            dedented.append(line.lstrip(" \t") or line)
    return "".join(dedented)


def _module_imports(func: types.FunctionType) -> list[str]:
    """``import`` lines for the modules the function uses through global names."""
    names = sorted({name for code in _code_objects(func.__code__) for name in code.co_names})
    imports = []
    for name in names:
        value = func.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            module = value.__name__
            imports.append(f"import {module}" if module == name else f"import {module} as {name}")
    return imports


def function_script(func: object, task_name: str) -> str:
    """Return the source of a script that, run by ``python``, executes ``func``'s body.

    The function's own source (decorators removed, dedented) is followed by a
    call to it. Modules it reaches through global names are imported first.
    Refused, with an error naming the task and the function: objects that are
    not Python functions, lambdas, coroutines, functions whose source is not
    available, functions with required parameters, and functions that use
    names of an enclosing function (closures), which the script could not see.
    """
    if isinstance(func, (types.MethodType, staticmethod, classmethod)) or not isinstance(func, types.FunctionType):
        raise TypeError(
            f"PythonTask {task_name!r}: func must be a plain Python function, got {type(func).__name__} {func!r}"
        )
    func = inspect.unwrap(func)  # a decorator made with functools.wraps: run the decorated function
    label = f"PythonTask {task_name!r}: function {func.__qualname__!r}"
    if func.__name__ == "<lambda>":
        raise BadOperationConfiguration(f"{label}: lambdas cannot become scripts, define the function with 'def'")
    if inspect.iscoroutinefunction(func) or inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise BadOperationConfiguration(f"{label}: must be a plain function, not a coroutine or generator")
    enclosing = set(func.__code__.co_freevars) - {func.__name__}
    if enclosing:
        raise BadOperationConfiguration(
            f"{label}: uses {', '.join(sorted(enclosing))} from an enclosing function; "
            "the script runs alone, so define or import these inside the function"
        )
    required = [
        parameter.name
        for parameter in inspect.signature(func).parameters.values()
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required:
        raise BadOperationConfiguration(
            f"{label}: the script calls it without arguments, but it requires {', '.join(required)}"
        )
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError) as error:
        raise BadOperationConfiguration(f"{label}: its source is not available ({error})") from error
    source = _dedent(source)
    definition = next(
        (node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == func.__name__),
        None,
    )
    if definition is None:
        raise BadOperationConfiguration(f"{label}: its source does not define a function named {func.__name__!r}")
    lines = source.splitlines()[definition.lineno - 1 : definition.end_lineno]
    return "\n".join([*_module_imports(func), *lines, "", f"{func.__name__}()", ""])
