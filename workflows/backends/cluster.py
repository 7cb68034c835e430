"""What the two cluster backends (``kubernetes``, ``argo-server``) share: retry-safe submission, retried
requests, errors mapped to the query API's exceptions, waiting on a watch, logs in node order, results.

A subclass implements the transport: one method per request, each raising :class:`ApiFailure` for an HTTP
error answer or an unreachable server, never its client's own exceptions.
"""

from __future__ import annotations

import collections
import logging
import secrets
import time
import uuid
from abc import abstractmethod
from dataclasses import dataclass
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ApiFailure, BadOperationConfiguration, WorkflowsError
from ..naming import GENERATED_SUFFIX_LENGTH, MAX_OBJECT_NAME
from ..vocabulary import COMPLETED_PHASES
from . import Backend
from .retry import RetryPolicy

if TYPE_CHECKING:
    from ..argo import Workflow

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The API server's alphabet for generated name suffixes (no vowels, no look-alike characters).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
#: The label carrying the submission id that makes a retried create recognisable.
SUBMISSION_LABEL = "harness-workflows/submission"
#: The label Argo's controller keeps equal to the workflow's phase.
PHASE_LABEL = "workflows.argoproj.io/phase"
#: The label Argo puts on every pod of a workflow, naming it.
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
#: The annotation Argo puts on a pod, naming the node it runs.
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
#: The container that runs a task's command in an Argo pod.
MAIN_CONTAINER = "main"
#: Phases after which a workflow changes no more (``Pending`` and an empty phase are not finished).
#: Longest a single watch request lasts without a deadline; it is then resumed from where it was.
WATCH_RENEWAL = 300
#: Seconds to connect, and to wait for an answer to an ordinary request.
REQUEST_TIMEOUT = (10.0, 60.0)


def generate_name(prefix: str) -> str:
    """``prefix`` (cut to leave room, as the API server does) and 5 characters of the API server's alphabet, as
    ``metadata.generateName`` would give."""
    return prefix[:MAX_OBJECT_NAME - GENERATED_SUFFIX_LENGTH] + "".join(secrets.choice(NAME_ALPHABET) for _ in range(GENERATED_SUFFIX_LENGTH))


def is_finished(workflow: dict[str, Any]) -> bool:
    """Whether the workflow's phase is final."""
    return (workflow.get("status") or {}).get("phase") in COMPLETED_PHASES


def resource_version(workflow: dict[str, Any]) -> str | None:
    """``metadata.resourceVersion``."""
    return (workflow.get("metadata") or {}).get("resourceVersion")


@dataclass
class Page:
    """A page of a list: the items, the server's continue token, and the list's ``resourceVersion``."""

    items: list[dict[str, Any]]
    continue_token: str | None
    version: str | None


class ClusterBackend(Backend):
    """A backend talking to a cluster's API over HTTP; see the module's documentation."""

    def __init__(self, namespace: str, retry: RetryPolicy | None = None) -> None:
        self.namespace = namespace
        """Where workflows are created and looked up."""
        self.retry = retry or RetryPolicy()
        """How failed requests are retried."""

    # --- the transport, one method per request ------------------------------------------------------------------

    @abstractmethod
    def _create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the workflow (its name set); return it as stored."""

    @abstractmethod
    def _read(self, name: str) -> dict[str, Any]:
        """The workflow as stored."""

    @abstractmethod
    def _list(self, limit: int | None, continue_token: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None) -> Page:
        """One page of workflows."""

    @abstractmethod
    def _remove(self, name: str) -> None:
        """Delete the workflow."""

    @abstractmethod
    def _shutdown(self, name: str) -> None:
        """Ask Argo to stop the workflow (``spec.shutdown: Stop``)."""

    @abstractmethod
    def _events(self, name: str, version: str | None, timeout: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """Watch the one workflow from ``version`` for at most ``timeout`` seconds: yield ``(type, object)``
        (``ERROR`` events carry a ``Status``); end when the server ends the stream."""

    @abstractmethod
    def _pod_logs(self, workflow: dict[str, Any]) -> dict[str, str]:
        """The main container's log of each pod of the workflow: node id → text, in any order."""

    # --- requests, retried and mapped ---------------------------------------------------------------------------

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, sent again on a retryable failure until the policy gives up; the last failure raised."""
        attempt = 1
        while True:
            try:
                return call()
            except ApiFailure as failure:
                if not failure.retryable or attempt >= self.retry.attempts:
                    raise
                pause = self.retry.delay(attempt, failure.retry_after)
                log.info("%s: %s; trying again in %.2f s (attempt %d of %d)", what, failure, pause, attempt + 1,
                         self.retry.attempts)
                time.sleep(pause)
                attempt += 1

    def _failure(self, failure: ApiFailure, name: str | None = None) -> WorkflowsError:
        """The query API's exception for ``failure``: ``WorkflowNotFound`` for a 404, else ``WorkflowException``."""
        from ..argo import WorkflowException, WorkflowNotFound

        if failure.status == 404 and name is not None:
            return WorkflowNotFound(name)
        where = f"{self.name} backend (namespace {self.namespace!r})"
        if failure.status is None:
            return WorkflowException(503, f"{where}: no answer after {self.retry.attempts} attempts: {failure.message}")
        if failure.status in (401, 403):
            hint = "the credentials were refused" if failure.status == 401 else "the credentials lack the permission"
            return WorkflowException(failure.status, f"{where}: {hint} ({failure.status}): {failure.message}")
        return WorkflowException(failure.status, f"{where}: {failure.status}: {failure.message}")

    def _ask(self, what: str, call: Callable[[], T], name: str | None = None) -> T:
        try:
            return self._retrying(what, call)
        except ApiFailure as failure:
            raise self._failure(failure, name) from None

    # --- the Backend API ----------------------------------------------------------------------------------------

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create the workflow so that retrying is safe: the name is chosen here and the object carries a
        submission id, so a create whose answer was lost is recognised (409 on our own object) instead of
        creating a second workflow; a real collision with another workflow's name is retried with a new name."""
        metadata = dict(spec.get("metadata") or {})
        submission = uuid.uuid4().hex
        fixed = metadata.pop("name", None)
        prefix = metadata.pop("generateName", None)
        if fixed is None and not prefix:
            raise BadOperationConfiguration(f"metadata={spec.get('metadata')!r}: the workflow has neither a name nor "
                                            "a generateName")
        metadata["labels"] = {**(metadata.get("labels") or {}), SUBMISSION_LABEL: submission}
        manifest = {**spec, "metadata": metadata}
        collisions = 0
        while True:
            metadata["name"] = fixed or generate_name(prefix)
            try:
                return self._retrying(f"create {metadata['name']}", lambda: self._create(manifest))
            except ApiFailure as failure:
                if failure.status != 409:
                    raise self._failure(failure) from None
            existing = self._created_by(metadata["name"], submission)
            if existing is not None:
                return existing
            collisions += 1
            if fixed or collisions >= self.retry.attempts:
                from ..argo import WorkflowException

                raise WorkflowException(409, f"{self.name} backend: workflow {metadata['name']!r} already exists")
            log.info("name %s is taken by another workflow; trying a new name", metadata["name"])

    def _created_by(self, name: str, submission: str) -> dict[str, Any] | None:
        """The workflow ``name`` when it carries ``submission`` (a create of ours that succeeded), else ``None``."""
        try:
            existing = self._retrying(f"get {name}", lambda: self._read(name))
        except ApiFailure as failure:
            if failure.status == 404:  # deleted since: the name is free again, but not ours
                return None
            raise self._failure(failure, name) from None
        labels = (existing.get("metadata") or {}).get("labels") or {}
        return existing if labels.get(SUBMISSION_LABEL) == submission else None

    def get(self, name: str) -> dict[str, Any]:
        """The workflow as the API holds it."""
        return self._ask(f"get {name}", lambda: self._read(name), name)

    def list(self, phase: str | None, limit: int, continue_token: str | None
             ) -> tuple[list[dict[str, Any]], str | None]:
        """One page from the server (phase by Argo's phase label, pagination by the server's continue token);
        the page sorted newest first."""
        selector = f"{PHASE_LABEL}={phase}" if phase else None
        page = self._ask("list workflows", lambda: self._list(limit, continue_token, label_selector=selector))
        items, token = page.items, page.continue_token
        items.sort(key=lambda item: (item["metadata"].get("creationTimestamp") or "", item["metadata"]["name"]),
                   reverse=True)
        return items, token or None

    def delete(self, name: str) -> None:
        """Delete the workflow (Kubernetes removes its pods); a 404 after a lost answer counts as deleted."""
        attempts: list[ApiFailure] = []

        def remove() -> None:
            try:
                self._remove(name)
            except ApiFailure as failure:
                if failure.status == 404 and attempts:
                    return
                attempts.append(failure)
                raise

        self._ask(f"delete {name}", remove, name)

    def stop(self, name: str) -> None:
        """Set ``spec.shutdown: Stop``: Argo kills the pods, runs the exit handler, ends the workflow ``Failed``."""
        self._ask(f"stop {name}", lambda: self._shutdown(name), name)

    def node_logs(self, name: str) -> dict[str, str]:
        """Each pod's main-container log, in the order the nodes started."""
        workflow = self.get(name)
        logs = self._ask(f"logs of {name}", lambda: self._pod_logs(workflow), name)
        ranked = {node_id: index for index, node_id in enumerate(node_order(workflow))}
        return {node_id: logs[node_id] for node_id in sorted(logs, key=lambda n: (ranked.get(n, len(ranked)), n))}

    def _current(self, name: str) -> tuple[dict[str, Any], str | None]:
        """The workflow and a ``resourceVersion`` to watch it from: a list of that one workflow, whose version is
        the list's (current even when the object has not changed for long), else the object's."""
        page = self._ask(f"list {name}", lambda: self._list(None, field_selector=f"metadata.name={name}"), name)
        if not page.items:
            from ..argo import WorkflowNotFound

            raise WorkflowNotFound(name)
        workflow = page.items[0]
        return workflow, page.version or resource_version(workflow)

    def watch(self, name: str, timeout: float | None) -> Iterator[dict[str, Any]]:
        """Yield the workflow now and at each change until it is finished, from a watch on that one workflow:
        a dropped stream is resumed from the last ``resourceVersion``; an expired one (410) lists the workflow
        again and watches from there. Never polls."""
        deadline = None if timeout is None else time.monotonic() + timeout
        workflow, version = self._current(name)
        yield workflow
        failures = 0
        while not is_finished(workflow):
            remaining = WATCH_RENEWAL if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                phase = (workflow.get("status") or {}).get("phase")
                state = f"it is still {phase}" if phase else "the controller has not given it a phase yet"
                raise TimeoutError(f"workflow {name!r} did not finish within {timeout} s ({state}, and it keeps "
                                   "running)")
            started, seen = time.monotonic(), False
            try:
                for kind, item in self._events(name, version, min(remaining, WATCH_RENEWAL)):
                    if kind == "ERROR":
                        raise ApiFailure(item.get("code"), item.get("message") or str(item), item.get("reason", ""))
                    failures, seen = 0, True
                    version = resource_version(item) or version
                    if kind == "BOOKMARK" or (item.get("metadata") or {}).get("name") != name:
                        continue
                    if kind == "DELETED":
                        from ..argo import WorkflowNotFound

                        raise WorkflowNotFound(name)
                    workflow = item
                    yield workflow
                    if is_finished(workflow):
                        return
                if not seen and time.monotonic() - started < min(remaining, WATCH_RENEWAL) / 2:
                    raise ApiFailure(None, "the watch ended at once, without an event")
            except ApiFailure as failure:
                if not failure.retryable and failure.status != 410:
                    raise self._failure(failure, name) from None
                failures += 1
                if failures >= self.retry.attempts:
                    raise self._failure(failure, name) from None
                if failure.status == 410:
                    log.info("watch of %s: resourceVersion %s expired; listing it again", name, version)
                    workflow, version = self._current(name)
                    yield workflow
                    if failures == 1:
                        continue  # at once the first time; backing off if the new version expires again
                pause = self.retry.delay(failures, failure.retry_after)
                if deadline is not None:
                    pause = min(pause, max(0.0, deadline - time.monotonic()))
                log.info("watch of %s dropped (%s); resuming from %s in %.2f s", name, failure, version, pause)
                time.sleep(pause)

    def results(self, workflow: Workflow) -> Any:
        """The result carried by the workflow's own status (see :mod:`workflows.backends.results`), unless a
        broker is configured: then the events backend's message, as in a CloudHarness deployment."""
        from ..events import settings

        if settings.events_backend_name() == settings.KAFKA:
            return super().results(workflow)
        from .results import read_result

        return read_result(workflow.raw)


def node_order(workflow: dict[str, Any]) -> list[str]:
    """The node ids in the order the nodes started: by ``startedAt`` (whole seconds in Argo), then by how far
    from the root the node is along ``children`` (a step after the one it follows), then by id. Argo's JSON
    sorts ``status.nodes`` by id, so the map's own order says nothing."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    reached: dict[str, int] = {}
    queue = collections.deque([workflow["metadata"]["name"]] if workflow["metadata"]["name"] in nodes else [])
    children = {child for node in nodes.values() for child in node.get("children") or ()}
    queue.extend(node_id for node_id in nodes if node_id not in children)
    while queue:
        node_id = queue.popleft()
        if node_id in reached or node_id not in nodes:
            continue
        reached[node_id] = len(reached)
        queue.extend(nodes[node_id].get("children") or ())
    return sorted(nodes, key=lambda node_id: (nodes[node_id].get("startedAt") or "~",
                                              reached.get(node_id, len(nodes)), node_id))


def pod_nodes(workflow: dict[str, Any]) -> dict[str, str]:
    """Pod name → node id for the pod nodes of ``workflow``: Argo names a pod after its node id (``POD_NAMES=v1``)
    or ``<workflow>-<template>-<the node id's hash>`` (``v2``, the default)."""
    names = {}
    workflow_name = workflow["metadata"]["name"]
    for node_id, node in ((workflow.get("status") or {}).get("nodes") or {}).items():
        if node.get("type") != "Pod":
            continue
        names[node_id] = node_id
        digest = node_id.rsplit("-", 1)[-1]
        template = node.get("templateName") or (node.get("templateRef") or {}).get("template")
        if template:
            names[f"{workflow_name}-{template}-{digest}"] = node_id
    return names


def json_lines(chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a stream of newline-separated JSON texts (watch events), as the chunks arrive."""
    import json

    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)
