"""Every exception class of the package derives from WorkflowsError and the public ones live in workflows.errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import workflows
from workflows import errors
from workflows.errors import WorkflowsError


def _exception_classes() -> list[tuple[str, type[BaseException]]]:
    """``(module, class)`` for every exception class defined in a module of the package."""
    found = []
    for info in pkgutil.walk_packages(workflows.__path__, "workflows."):
        if info.name.endswith(".__main__"):  # programs: importing one runs it
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == info.name:
                found.append((info.name, value))
    return found


def test_every_exception_class_derives_from_workflows_error() -> None:
    classes = _exception_classes()
    assert len(classes) > 40  # the walk saw the package, not an empty list
    outside = [f"{module}.{cls.__name__}" for module, cls in classes if not issubclass(cls, WorkflowsError)]
    assert outside == []


def test_public_exception_classes_are_defined_in_the_errors_module() -> None:
    # Private control-flow signals (``_Fail``...) stay next to the code that raises and catches them.
    elsewhere = [f"{module}.{cls.__name__}" for module, cls in _exception_classes()
                 if module != "workflows.errors" and not cls.__name__.startswith("_")]
    assert elsewhere == []


def test_the_docstring_draws_every_class_of_the_module() -> None:
    drawn = {cls.__name__ for cls in vars(errors).values()
             if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == "workflows.errors"}
    missing = [name for name in sorted(drawn) if f" {name}" not in errors.__doc__]
    assert missing == []


def test_old_import_locations_give_the_same_classes() -> None:
    from workflows import argo, backends
    from workflows.engine.lang import errors as lang_errors
    from workflows.engine.support import UnsupportedWorkflow
    from workflows.events import errors as events_errors

    assert argo.WorkflowNotFound is errors.WorkflowNotFound and argo.BadParam is errors.BadParam
    assert argo.WorkflowException is errors.WorkflowException
    assert argo.WorkflowResultsMissing is errors.WorkflowResultsMissing
    assert backends.BackendUnavailable is errors.BackendUnavailable
    assert UnsupportedWorkflow is errors.UnsupportedWorkflow
    assert lang_errors.TemplateError is errors.TemplateError
    assert events_errors.ResultTimeout is errors.ResultTimeout


def test_cloudharness_compatible_bases_are_kept() -> None:
    assert issubclass(errors.BadOperationConfiguration, ValueError)
    assert issubclass(errors.BadOperationConfiguration, RuntimeError)
    assert issubclass(errors.WorkflowResultsMissing, RuntimeError)
    assert issubclass(errors.BadParam, ValueError)
    refused = errors.NamespacesRefused(1, "unshare: Operation not permitted")
    assert isinstance(refused, OSError) and refused.errno == 1
    assert errors.WorkflowNotFound("wf").status == 404
