"""A template's inputs, from the arguments a step, task or the entrypoint passes it.

Argo's ``ProcessArgs``/``SubstituteParams``: each declared input parameter takes
the argument's value, else its own ``value``, else its ``default``, and is
checked against its ``enum``; input parameters may then use the workflow's
globals and each other. Input artifacts come from the argument's or the
declaration's ``from`` (with ``subPath``) or ``raw.data``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import NodeFailure
from .lang.templating import substitute
from .scope import Scope, input_scope

#: A template's resolved inputs: parameter values, artifact sources (store paths), raw artifact data.
Inputs = tuple[dict[str, str], dict[str, str], dict[str, str]]


def resolve_inputs(template: dict[str, Any], arguments: dict[str, Any], globals_: Scope) -> Inputs:
    """Input parameter values, input artifact sources (store paths) and raw artifact data of ``template``
    called with ``arguments``; :class:`NodeFailure` names an input that is missing or not allowed."""
    given = {p["name"]: p for p in arguments.get("parameters") or []}
    parameters = {}
    for declared in (template.get("inputs") or {}).get("parameters") or []:
        name = declared["name"]
        argument = given.get(name, {})
        if "value" in argument:
            value = argument["value"]
        elif "value" in declared:
            value = declared["value"]
        elif "default" in declared:
            value = declared["default"]
        else:
            raise NodeFailure(f"inputs.parameters.{name} was not supplied")
        value = value if isinstance(value, str) else json.dumps(value)
        enum = declared.get("enum")
        if enum and value not in [str(option) for option in enum]:
            raise NodeFailure(f"inputs.parameters.{name}: value {value!r} is not in enum {enum}")
        parameters[name] = value
    # Argo's SubstituteParams: input values may use the workflow's globals and the other inputs
    tagged = [name for name, value in parameters.items() if "{{" in value]
    if tagged:
        scope = {**globals_, **input_scope(parameters, {}, {})}
        parameters.update({name: substitute(parameters[name], scope, strict=False) for name in tagged})
    given_artifacts = {a["name"]: a for a in arguments.get("artifacts") or []}
    artifacts, raw = {}, {}
    for declared in (template.get("inputs") or {}).get("artifacts") or []:
        name = declared["name"]
        source = {**declared, **given_artifacts.get(name, {})}
        unresolved = "{{" in str(source.get("from") or "")  # an optional artifact that was never produced
        if source.get("from") and not unresolved:
            artifacts[name] = str(Path(source["from"]) / source["subPath"]) if source.get("subPath") \
                else source["from"]
        elif (source.get("raw") or {}).get("data") is not None:
            raw[name] = source["raw"]["data"]
        elif unresolved and not declared.get("optional"):
            raise NodeFailure(f"inputs.artifacts.{name}: {source['from']} could not be resolved")
        elif not declared.get("optional"):
            raise NodeFailure(f"inputs.artifacts.{name} was not supplied")
    return parameters, artifacts, raw


def artifact_paths(template: dict[str, Any]) -> dict[str, str]:
    """Where each of the template's input artifacts is placed in its pod (``inputs.artifacts.<name>.path``)."""
    return {a["name"]: a.get("path", "") for a in (template.get("inputs") or {}).get("artifacts") or []}
