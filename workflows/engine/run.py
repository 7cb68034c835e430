"""A workflow's run, from its start to its final phase, in its runner's process (:mod:`.runner`).

Stop (``SIGTERM`` after :meth:`Store.request_stop`): running pods are killed, their nodes fail with "Stopped with
strategy 'Stop'", and the exit handler runs; ``terminate`` skips the exit handler.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..durations import duration_seconds
from ..timestamps import timestamp
from .bells import workflow_bell
from .execution import WorkflowExecution
from .pod import prepare_pods, unisolated_warning
from .store import Store
from .submission import submit
from .timeouts import within

#: The run logs as the runner (``runner.log``), whose work it is.
log = logging.getLogger("workflows.engine.runner")

FLUSH_SECONDS = 0.05
STOP_MESSAGE = "Stopped with strategy 'Stop'"
TERMINATE_MESSAGE = "Stopped with strategy 'Terminate'"


def _workflow_phase(root: dict[str, Any]) -> str:
    return {"Failed": "Failed", "Error": "Error"}.get(root["phase"], "Succeeded")


def _expiry(spec: dict[str, Any], phase: str) -> float | None:
    """When ``ttlStrategy`` removes the finished workflow (epoch seconds), or ``None``."""
    ttl = spec.get("ttlStrategy") or {}
    keys = ("secondsAfterSuccess",) if phase == "Succeeded" else ("secondsAfterFailure",)
    for key in (*keys, "secondsAfterCompletion"):
        if ttl.get(key) is not None:
            return time.time() + float(ttl[key])
    return None


async def _flush_forever(execution: WorkflowExecution, bell) -> None:
    """Every :data:`FLUSH_SECONDS`: write changed nodes, and ring the doorbell when nodes changed or pods printed."""
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        changed = execution.nodes.flush()
        if changed or execution.printed:
            execution.printed = False
            bell.ring()


async def run_workflow(store: Store, name: str, start_runner: Callable[[Store, dict[str, Any]], int],
                       pods: Path | None = None) -> str:
    """Execute the workflow to its end (main templates, then the exit handler); return its final phase.
    ``start_runner`` starts the runner of a workflow this one submits (a ``resource`` template's); ``pods``,
    the pods' folder of a workflow that may run sandboxed pods, gets their zygote ready first thing."""
    execution = WorkflowExecution(store, name, submit=functools.partial(submit, start=start_runner))
    warning = unisolated_warning()
    if warning:
        log.warning("workflow %s: %s", name, warning)
    if pods is not None:
        prepare_pods(pods)
    bell = workflow_bell(store, name)
    store.set_phase(name, "Running", started_at=timestamp())
    bell.ring()
    loop = asyncio.get_running_loop()
    main = asyncio.ensure_future(execution.run_main())
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by spawn_runner until now
    if store.stop_requested(name):  # asked before: its signal may have reached a runner started ahead (.spares)
        main.cancel()
    flusher = asyncio.ensure_future(_flush_forever(execution, bell))
    deadline = execution.spec.get("activeDeadlineSeconds")
    run_exit_handler = True
    try:
        root = await within(main, duration_seconds(deadline) if deadline else None)
        phase, message = _workflow_phase(root), root.get("message")
    except asyncio.TimeoutError:
        execution.fail_unfinished("Step exceeded its deadline")
        phase, message = "Failed", "Max duration limit exceeded"
    except asyncio.CancelledError:
        terminate = store.stop_requested(name) == "terminate"
        message = TERMINATE_MESSAGE if terminate else STOP_MESSAGE
        execution.fail_unfinished(message)
        phase, run_exit_handler = "Failed", not terminate
    loop.remove_signal_handler(signal.SIGTERM)
    if run_exit_handler:
        handler = await execution.run_exit_handler(phase)
        if handler is not None and handler["phase"] in ("Failed", "Error") and phase == "Succeeded":
            phase, message = "Failed", f"exit handler {handler['id']!r} {handler['phase'].lower()}"
    flusher.cancel()
    execution.nodes.flush()
    outputs = {"parameters": [{"name": key, "value": value} for key, value in execution.global_outputs.items()]}
    store.set_phase(name, phase, message=message, finished_at=timestamp(), expires=_expiry(execution.spec, phase),
                    outputs=outputs if execution.global_outputs else None)
    bell.ring()
    return phase
