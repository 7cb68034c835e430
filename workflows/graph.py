"""Dependency graphs: cycle detection shared by operations and spec validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def find_cycle(dependencies: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one dependency cycle as ``[a, b, ..., a]``, or ``None`` when the graph is acyclic.

    ``dependencies`` maps each node to the nodes it depends on; names that are
    not keys are ignored (dangling references are reported elsewhere).
    Iterative depth-first search: linear in nodes plus edges, no recursion limit.
    """
    done: set[str] = set()
    for root in dependencies:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(dependencies[root])]
        while stack:
            for child in stack[-1]:
                if child in on_path:
                    return path[path.index(child):] + [child]
                if child in done or child not in dependencies:
                    continue
                path.append(child)
                on_path.add(child)
                stack.append(iter(dependencies[child]))
                break
            else:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
    return None
