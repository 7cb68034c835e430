"""The outputs of steps and DAG templates: ``outputs.parameters`` (``valueFrom.parameter``/``expression``,
with ``default``) and ``outputs.artifacts`` (``from``/``fromExpression``), resolved in the template's scope
once its children ended. (A pod's own outputs are collected in its sandbox: :mod:`.pod.outputs`.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lang.expr import evaluate_expression
from .lang.templating import TemplateError, expression_env, substitute, value_from_expression
from .scope import Scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution


def template_outputs(execution: WorkflowExecution, template: dict[str, Any], scope: Scope
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """``(outputs or None, None)``, or ``(None, the problem)`` when a required output does not resolve.
    Parameters with a ``globalName`` become the workflow's outputs."""
    declared = template.get("outputs") or {}
    parameters = []
    for parameter in declared.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        source = value_from.get("parameter") or value_from.get("expression")
        try:
            if "parameter" in value_from:
                value = substitute(value_from["parameter"], scope)
            elif "expression" in value_from:
                value = value_from_expression(value_from["expression"], scope)
            else:
                value = substitute(str(parameter.get("value", "")), scope)
        except TemplateError as error:
            if "default" in value_from:
                value = str(value_from["default"])
            else:
                return None, f"output parameter {parameter['name']!r} ({source}): {error}"
        entry = {"name": parameter["name"], "value": value}
        if parameter.get("globalName"):
            entry["globalName"] = parameter["globalName"]
            execution.publish_parameter(parameter["globalName"], value)
        parameters.append(entry)
    artifacts = []
    for artifact in declared.get("artifacts") or []:
        try:
            if artifact.get("fromExpression"):
                path = str(evaluate_expression(artifact["fromExpression"], expression_env(scope)))
            else:
                path = substitute(artifact.get("from", ""), scope)
        except TemplateError as error:
            if artifact.get("optional"):  # Argo leaves an optional artifact out when its source is missing
                continue
            return None, f"output artifact {artifact['name']!r}: {error}"
        artifacts.append({"name": artifact["name"], "path": path})
    outputs: dict[str, Any] = {}
    if parameters:
        outputs["parameters"] = parameters
    if artifacts:
        outputs["artifacts"] = artifacts
    return outputs or None, None
