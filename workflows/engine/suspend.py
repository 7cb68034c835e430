"""Suspend templates: a ``Suspend`` node that waits for its ``duration`` or a resume (:mod:`.resume`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..durations import duration_seconds
from .lang.templating import TemplateError, substitute
from .resume import ResumeRequests, supplied_outputs
from .scope import Scope

if TYPE_CHECKING:
    from .execution import WorkflowExecution


async def run_suspend(execution: WorkflowExecution, template: dict[str, Any], scope: Scope, name: str,
                      display: str, parent: str | None, boundary: str | None) -> dict[str, Any]:
    """A suspend template: ends ``Succeeded`` with its supplied outputs' defaults once resumed or its
    ``duration`` passed; ``Error`` on a bad duration or a supplied output without a default."""
    nodes = execution.nodes
    node = nodes.create(name, display, "Suspend", template["name"], parent=parent, boundary=boundary)
    try:
        duration = (template["suspend"] or {}).get("duration")
        seconds = None if duration is None else max(0.0, duration_seconds(substitute(str(duration), scope,
                                                                                    strict=False)))
    except (TemplateError, ValueError) as error:
        return nodes.update(node["id"], phase="Error", message=str(error))
    await ResumeRequests(execution.store).wait(execution.name, seconds)  # a resume ends it, or its duration does
    parameters, missing = supplied_outputs(template)
    if missing:
        message = f"raw output parameter '{missing[0]}' has not been set and does not have a default value"
        return nodes.update(node["id"], phase="Error", message=message)
    outputs = {"parameters": parameters} if parameters else None
    return nodes.update(node["id"], phase="Succeeded", outputs=outputs)
