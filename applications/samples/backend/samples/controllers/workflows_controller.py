"""Operations submitted asynchronously, synchronously and synchronously with results.

Written against the CloudHarness API only (``operations``, ``tasks``, ``argo``): with
``from cloudharness.workflows import ...`` instead, the same code runs on CloudHarness.
The tasks are the application's own images, ``applications/samples/tasks/<task>/Dockerfile``.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, Response, jsonify, request

from workflows import argo, operations, tasks

log = logging.getLogger(__name__)

blueprint = Blueprint("workflows", __name__)

SHARED_DIRECTORY = "/mnt/shared"


def _number(name: str) -> float:
    """The query parameter ``name`` as a finite number; :class:`ValueError` naming it otherwise."""
    text = request.args.get(name)
    if text is None:
        raise ValueError(f"query parameter {name!r} is missing")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"query parameter {name}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"query parameter {name}={text!r} is not a finite number")
    return value


@blueprint.post("/async")
def submit_async():
    """Submit a pipeline (sum 1 + 2 into the shared directory, then print the file) and return at once: 202."""
    task_sum = tasks.CustomTask("sum", "samples-sum", a=1, b=2)
    task_print = tasks.CustomTask("print-file", "samples-print-file", file_path=SHARED_DIRECTORY + "/result")
    op = operations.PipelineOperation(
        "test-custom-connected-op-", (task_sum, task_print), shared_directory=SHARED_DIRECTORY
    )
    submitted = op.execute()
    if op.is_error():
        return jsonify(error="error submitting the operation"), 500
    return jsonify(name=submitted.name, href=op.get_operation_update_url()), 202


@blueprint.get("/sync")
def submit_sync():
    """Run ``sum`` with ``a`` and ``b`` (default 1 and 2, passed as given) and wait: 200, or 500 with the reason."""
    task = tasks.CustomTask(
        "sum", "samples-sum", a=request.args.get("a", "1"), b=request.args.get("b", "2")
    )
    op = operations.DistributedSyncOperation("test-sync-op-", task, shared_directory=SHARED_DIRECTORY)
    try:
        workflow = op.execute()
    except TimeoutError as error:
        log.error("sync operation timed out", exc_info=True)
        return jsonify(error=str(error)), 500
    if workflow.status != "Succeeded":
        reason = workflow.get_status_message() or f"the workflow ended {workflow.status}"
        return jsonify(name=workflow.name, phase=workflow.status, error=reason), 500
    return jsonify(name=workflow.name, phase=workflow.status)


@blueprint.get("/sync-results")
def submit_sync_with_results():
    """Sum ``a`` and ``b`` in a task and return what its result file holds: 200 ``{"result": a + b}``."""
    try:
        a, b = _number("a"), _number("b")
    except ValueError as error:
        return jsonify(error=str(error)), 400
    task = tasks.CustomTask("test-sum", "samples-sum", a=a, b=b)
    op = operations.DistributedSyncOperationWithResults("test-sync-op-results-", task)
    try:
        result = op.execute()
    except (RuntimeError, TimeoutError) as error:
        log.error("sync operation with results failed", exc_info=True)
        return jsonify(error=str(error)), 500
    return jsonify(result=float(result[0]["result"]))


@blueprint.get("/<name>")
def get_operation(name: str):
    """The workflow's name and phase: 200, or 404 when there is no such workflow."""
    try:
        workflow = argo.get_workflow(name)
    except argo.WorkflowNotFound as error:
        return jsonify(error=str(error)), 404
    return jsonify(name=workflow.name, phase=workflow.status)


@blueprint.get("/<name>/logs")
def get_operation_logs(name: str):
    """The logs of the workflow's pods, as text: 200, or 404 when there is no such workflow."""
    try:
        logs = argo.get_workflow_logs(name)
    except argo.WorkflowNotFound as error:
        return jsonify(error=str(error)), 404
    return Response(logs, mimetype="text/plain")
