"""Ancestry in the dependency graph of DAG tasks: which tasks each task runs after.

Nodes are numbered ``0..n-1``; ``dependencies[i]`` lists the nodes node ``i``
depends on.  The order is linear in the size of the graph; the ancestry sets
are bitsets (an ``int`` per node) built in one pass over that order, so that
"does task ``i`` run after task ``j``" is one bit test.  Cycles are found by
:func:`workflows.graph.find_cycle`.
"""

from __future__ import annotations

from collections.abc import Sequence


def topological_order(dependencies: Sequence[Sequence[int]]) -> list[int]:
    """Return the nodes in an order where each comes after its dependencies.

    Nodes in a cycle, or depending on one, are left out.
    """
    waiting = [len(set(deps)) for deps in dependencies]
    dependents: list[list[int]] = [[] for _ in dependencies]
    for node, deps in enumerate(dependencies):
        for dep in set(deps):
            dependents[dep].append(node)
    order = [node for node, count in enumerate(waiting) if count == 0]
    for node in order:  # the list grows while it is walked
        for dependent in dependents[node]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                order.append(dependent)
    return order


def ancestors(dependencies: Sequence[Sequence[int]], order: Sequence[int]) -> list[int]:
    """Return, for each node, the bitset of the nodes it depends on, directly or not.

    Nodes missing from ``order`` (in or after a cycle) get an empty set.
    """
    bits = [0] * len(dependencies)
    for node in order:
        value = 0
        for dep in dependencies[node]:
            value |= bits[dep] | (1 << dep)
        bits[node] = value
    return bits
