"""Outputs of skipped and omitted nodes, as Argo v3.7 gives them to later steps and tasks.

A step or task that did not run (``when`` false: ``Skipped``; its ``depends``
not met: ``Omitted``) produced no outputs. Argo (``scope.go``,
``addSkippedNodeOutputsToScope``) still puts its template's declared output
parameters in scope: the parameter's ``valueFrom.default`` when it has one,
otherwise an *absent optional* (``None`` here: a ``{{name}}`` tag on it is an
error, an expression sees ``nil``, so ``x ?? 'fallback'`` works). Steps also
get an empty artifact for each declared output artifact.

An argument that is nothing but a reference to an absent optional
(``value: "{{tasks.producer.outputs.parameters.msg}}"``) counts as not
supplied (``markAbsentOptionalArgs``): the consumer's input default applies,
and an input without one fails.
"""

from __future__ import annotations

from typing import Any

from .scope import Scope

#: Phases of nodes that did not run.
SKIPPED_PHASES = ("Skipped", "Omitted")


def skipped_outputs_scope(prefix: str, node: dict[str, Any] | None, template: dict[str, Any] | None, *,
                          include_artifacts: bool) -> dict[str, Any]:
    """``PREFIX.outputs.*`` of a skipped or omitted node that produced nothing; empty for any other node."""
    if node is None or template is None or node.get("outputs") or node.get("phase") not in SKIPPED_PHASES:
        return {}
    declared = template.get("outputs") or {}
    scope: dict[str, Any] = {}
    for parameter in declared.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        scope[f"{prefix}.outputs.parameters.{parameter['name']}"] = (
            str(value_from["default"]) if value_from.get("default") is not None else None)
    if include_artifacts:
        for artifact in declared.get("artifacts") or []:
            scope[f"{prefix}.outputs.artifacts.{artifact['name']}"] = ""
    return scope


def _pure_reference(value: Any) -> str | None:
    """The name ``value`` refers to when it is exactly one ``{{name}}`` tag, else ``None``."""
    if not isinstance(value, str) or not value.startswith("{{") or not value.endswith("}}"):
        return None
    name = value[2:-2].strip()
    return None if "{{" in name or "}}" in name or name.startswith("=") else name


def without_absent_arguments(arguments: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """``arguments`` without the parameters whose value is a pure reference to an absent optional of ``scope``."""
    parameters = arguments.get("parameters") or []
    kept = []
    for parameter in parameters:
        name = _pure_reference(parameter.get("value"))
        if name is None or name not in scope or scope[name] is not None:
            kept.append(parameter)
    if len(kept) == len(parameters):
        return arguments
    return {**arguments, "parameters": kept}
