"""Resuming suspended workflows (``argo resume``): a suspend template without ``duration`` waits for it.

``workflows resume NAME`` (the local backend's :meth:`resume`) records a
request in the engine's database; every suspend node of that workflow
running then ends ``Succeeded`` (a suspend with a ``duration`` ends early),
as Argo's resume does. A suspend node only counts requests made after it
started, so one resume releases the nodes suspended at that moment. Its
``valueFrom.supplied`` outputs take their defaults (:func:`supplied_outputs`);
as in Argo, a workflow with one that has no default cannot be resumed (there
is no ``argo node set`` locally).
"""

from __future__ import annotations

import time
from typing import Any

from .store import Store

#: Seconds between two looks at the resume requests while a suspend node waits.
POLL_INTERVAL = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS resume_requests (
    workflow TEXT NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    requested REAL NOT NULL
);
"""


class ResumeRequests:
    """The resume requests of the local engine's workflows."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.db.executescript(_SCHEMA)

    def request(self, workflow: str) -> None:
        """Ask every suspend node of ``workflow`` running now to end."""
        with self.store.transaction() as db:
            db.execute("INSERT INTO resume_requests (workflow, requested) VALUES (?, ?)", (workflow, time.time()))

    def latest(self, workflow: str) -> int:
        """The sequence number of the latest request for ``workflow`` (0: none)."""
        row = self.store.db.execute("SELECT MAX(seq) FROM resume_requests WHERE workflow = ?", (workflow,)).fetchone()
        return row[0] or 0

    async def wait(self, workflow: str, timeout: float | None) -> bool:
        """Wait for a request newer than the call, at most ``timeout`` seconds (``None``: no limit); whether one
        came."""
        import asyncio  # noqa: PLC0415 - the runner's: the local backend imports this module without it

        seen = self.latest(workflow)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.latest(workflow) <= seen:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.sleep(POLL_INTERVAL if remaining is None else min(POLL_INTERVAL, remaining))
        return True


def supplied_outputs(template: dict[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """The output parameters a suspend ``template`` gets when it is resumed: each ``valueFrom.supplied`` one
    with its ``valueFrom.default``, else the default of the input parameter of the same name (Argo's
    ``addRawOutputFields``, ``OverrideOutputParametersWithDefault``); and the names of those that have none."""
    inputs = {parameter.get("name"): parameter for parameter in (template.get("inputs") or {}).get("parameters") or []}
    values, missing = [], []
    for parameter in (template.get("outputs") or {}).get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        if value_from.get("supplied") is None:
            continue
        default = value_from.get("default", (inputs.get(parameter["name"]) or {}).get("default"))
        if default is None:
            missing.append(parameter["name"])
        else:
            values.append({"name": parameter["name"], "value": str(default)})
    return values, missing
