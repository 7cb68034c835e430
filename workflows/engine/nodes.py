"""Nodes of a running workflow, in Argo's shape, kept in memory by the runner and flushed to the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timestamps import timestamp
from ..vocabulary import FULFILLED_PHASES

if TYPE_CHECKING:
    from .processgroups import ProcessGroup
    from .store import Store


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash Argo uses to derive node ids from node names."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


class NodeTable:
    """Every node of one workflow; changes are batched and written to the store by :meth:`flush`."""

    def __init__(self, store: Store, workflow: str) -> None:
        self.store = store
        self.workflow = workflow
        self.nodes: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, ProcessGroup | None] = {}
        self._order: dict[str, int] = {}
        self._dirty: set[str] = set()

    def node_id(self, name: str) -> str:
        """Argo's node id: the workflow name itself for the root node, else ``<workflow>-<fnv hash>``."""
        return self.workflow if name == self.workflow else f"{self.workflow}-{fnv1a32(name)}"

    def create(self, name: str, display_name: str, node_type: str, template_name: str | None, *,
               parent: str | None, boundary: str | None, phase: str = "Running", message: str | None = None
               ) -> dict[str, Any]:
        """Add a node (and link it as a child of ``parent``); return it."""
        node_id = self.node_id(name)
        node: dict[str, Any] = {
            "id": node_id, "name": name, "displayName": display_name, "type": node_type, "phase": phase,
            "startedAt": timestamp(),
        }
        if template_name:
            node["templateName"] = template_name
        if boundary:
            node["boundaryID"] = boundary
        if message:
            node["message"] = message
        if phase in FULFILLED_PHASES:
            node["finishedAt"] = node["startedAt"]
        self.nodes[node_id] = node
        self._order.setdefault(node_id, len(self._order))
        self._dirty.add(node_id)
        if parent is not None:
            self.link(parent, node_id)
        return node

    def link(self, parent: str, child: str) -> None:
        """Make ``child`` a child of ``parent`` (once)."""
        children = self.nodes[parent].setdefault("children", [])
        if child not in children:
            children.append(child)
            self._dirty.add(parent)

    def update(self, node_id: str, **fields: Any) -> dict[str, Any]:
        """Set fields of a node; a final phase also sets ``finishedAt``."""
        node = self.nodes[node_id]
        node.update({key: value for key, value in fields.items() if value is not None})
        if fields.get("phase") in FULFILLED_PHASES and "finishedAt" not in node:
            node["finishedAt"] = timestamp()
        self._dirty.add(node_id)
        return node

    def set_group(self, node_id: str, group: ProcessGroup | None) -> None:
        """Record (or clear) the process group of a running pod, so a dead runner's pods can be killed."""
        self.groups[node_id] = group
        self._dirty.add(node_id)

    def flush(self) -> bool:
        """Write the changed nodes in one transaction; return whether there were any."""
        if not self._dirty:
            return False
        changed = {node_id: (self._order[node_id], self.nodes[node_id], self.groups.get(node_id))
                   for node_id in self._dirty}
        self._dirty.clear()
        self.store.write_nodes(self.workflow, changed)
        return True

    def running(self) -> list[dict[str, Any]]:
        """Nodes not yet in a final phase."""
        return [node for node in self.nodes.values() if node["phase"] not in FULFILLED_PHASES]
