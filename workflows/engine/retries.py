"""``retryStrategy``: a template's attempts below a ``Retry`` node, with backoff and a retry expression.

As in Argo's controller (``retryStrategy`` in ``operator.go``): ``limit`` (none
retries until success), ``retryPolicy`` (the phases that are retried, OnFailure
by default), ``backoff`` (``duration``, ``factor``, ``cap``, ``maxDuration``)
and ``expression`` with ``lastRetry.*`` of the attempt that just ended. The
``Retry`` node ends as its last attempt did.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from ..durations import duration_seconds
from ..timestamps import epoch
from .arguments import Inputs
from .lang.expr import evaluate_expression_bool
from .lang.templating import TemplateError, expression_env, substitute
from .scope import Scope, input_scope
from .templates import execute

if TYPE_CHECKING:
    from .execution import WorkflowExecution

log = logging.getLogger(__name__)

#: Retry policies and the node phases each one retries (Argo's default is OnFailure).
RETRY_PHASES = {"Always": {"Failed", "Error"}, "OnFailure": {"Failed"}, "OnError": {"Error"},
                "OnTransientError": {"Error"}}


async def run_with_retries(execution: WorkflowExecution, template: dict[str, Any], inputs: Inputs,
                           retry: dict[str, Any], name: str, display: str, parent: str | None,
                           boundary: str | None) -> dict[str, Any]:
    """Run ``template`` under ``retry`` (its ``retryStrategy``): a ``Retry`` node, one child per attempt."""
    nodes = execution.nodes
    node = nodes.create(name, display, "Retry", template["name"], parent=parent, boundary=boundary)
    scope = {**execution.globals, **input_scope(inputs[0], {}, {})}
    try:
        # Without a limit, Argo retries until the template succeeds (or the policy stops it).
        limit = int(substitute(str(retry["limit"]), scope, strict=False)) if "limit" in retry else None
        backoff = retry.get("backoff") or {}
        delay = duration_seconds(backoff["duration"]) if backoff.get("duration") else 0.0
        cap = duration_seconds(backoff["cap"]) if backoff.get("cap") else None
        max_duration = duration_seconds(backoff["maxDuration"]) if backoff.get("maxDuration") else None
    except (TemplateError, ValueError) as error:
        return nodes.update(node["id"], phase="Error", message=f"retryStrategy: {error}")
    retried = RETRY_PHASES.get(retry.get("retryPolicy") or "OnFailure", {"Failed"})
    factor = float(backoff.get("factor", 1) or 1)
    started = time.monotonic()
    child: dict[str, Any] = {}
    for attempt in itertools.count():
        child = await execute(execution, template, inputs, f"{name}({attempt})", f"{display}({attempt})",
                              node["id"], boundary, attempt=attempt)
        if child["phase"] not in retried or attempt == limit or not retry_allowed(retry, child, scope):
            break
        wait = min(delay, cap) if cap is not None else delay
        if max_duration is not None and time.monotonic() - started + wait > max_duration:
            break
        if wait:
            await asyncio.sleep(wait)
            delay *= factor
    return nodes.update(node["id"], phase=child["phase"], message=child.get("message"),
                        outputs=child.get("outputs"))


def retry_allowed(retry: dict[str, Any], attempt: dict[str, Any], scope: Scope) -> bool:
    """``retryStrategy.expression``, evaluated with ``lastRetry.*`` of the attempt that just ended."""
    expression = retry.get("expression")
    if not expression:
        return True
    started = attempt.get("startedAt")
    finished = attempt.get("finishedAt")
    duration = (epoch(finished) - epoch(started)) if started and finished else 0
    last = {"lastRetry.exitCode": (attempt.get("outputs") or {}).get("exitCode", "-1"),
            "lastRetry.status": attempt["phase"], "lastRetry.duration": str(int(duration)),
            "lastRetry.message": attempt.get("message", "")}
    local = {**scope, **last}
    try:
        return evaluate_expression_bool(substitute(expression, local, strict=False), expression_env(local))
    except TemplateError as error:
        log.warning("retryStrategy.expression %r: %s; not retrying", expression, error)
        return False
