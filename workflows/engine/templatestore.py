"""The local engine's WorkflowTemplates and ClusterWorkflowTemplates, in its SQLite database.

``workflows apply FILE`` stores them here; the local backend resolves
``templateRef`` and ``workflowTemplateRef`` against them at submission
(:func:`workflows.templaterefs.resolve_references`). A template is stored as
given, under its kind and ``metadata.name``; storing it again replaces it, as
``kubectl apply`` does.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..templaterefs import template_key
from ..timestamps import timestamp
from .store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflow_templates (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
"""


class TemplateStore:
    """Stored (Cluster)WorkflowTemplates; a :class:`workflows.templaterefs.TemplateSource`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.db.executescript(_SCHEMA)

    def put(self, document: dict[str, Any]) -> tuple[str, str]:
        """Store ``document`` (replacing one of the same kind and name); return ``(kind, name)``.

        Raises :class:`workflows.templaterefs.BadTemplateDocument` for a document
        that is not a named (Cluster)WorkflowTemplate with a spec.
        """
        kind, name = template_key(document)
        manifest = json.loads(json.dumps(document))
        metadata = manifest.setdefault("metadata", {})
        created = time.time()
        metadata["creationTimestamp"] = timestamp(created)
        if kind == "WorkflowTemplate":
            metadata.setdefault("namespace", "local")
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO workflow_templates (kind, name, created, manifest) VALUES (?, ?, ?, ?)",
                       (kind, name, created, json.dumps(manifest)))
        return kind, name

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The stored ``kind`` document named ``name``, or ``None``."""
        row = self.store.db.execute("SELECT manifest FROM workflow_templates WHERE kind = ? AND name = ?",
                                    (kind, name)).fetchone()
        return json.loads(row[0]) if row else None

    def names(self, kind: str | None = None) -> list[tuple[str, str]]:
        """``(kind, name)`` of every stored template (of ``kind`` only, when given), sorted."""
        if kind is None:
            rows = self.store.db.execute("SELECT kind, name FROM workflow_templates ORDER BY kind, name")
        else:
            rows = self.store.db.execute("SELECT kind, name FROM workflow_templates WHERE kind = ? ORDER BY name",
                                         (kind,))
        return [(row[0], row[1]) for row in rows]

    def delete(self, kind: str, name: str) -> bool:
        """Forget the ``kind`` template ``name``; whether there was one."""
        with self.store.transaction() as db:
            cursor = db.execute("DELETE FROM workflow_templates WHERE kind = ? AND name = ?", (kind, name))
        return cursor.rowcount > 0
