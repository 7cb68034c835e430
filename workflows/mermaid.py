"""Draw a compiled workflow's entry template (steps or DAG) as a Mermaid flowchart."""

from __future__ import annotations

from typing import Any


def _node_ids(names: list[str]) -> dict[str, str]:
    return {name: f"n{index}" for index, name in enumerate(names)}


def _edges(entry: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    """Task names and ``(upstream, downstream, label)`` edges of a steps or DAG template."""
    if "dag" in entry:
        from .depends import parse_depends

        tasks = entry["dag"]["tasks"]
        edges: list[tuple[str, str, str | None]] = []
        for task in tasks:
            for upstream in task.get("dependencies") or ():
                edges.append((upstream, task["name"], None))
            if task.get("depends"):
                expression = task["depends"]
                upstreams = parse_depends(expression).tasks
                # "a && b" means what `dependencies: [a, b]` means: draw it the same, unlabelled.
                plain = all(part.strip() in upstreams for part in expression.split("&&"))
                edges.extend((upstream, task["name"], None if plain else expression) for upstream in sorted(upstreams))
        return [task["name"] for task in tasks], edges
    groups = [[step["name"] for step in group] for group in entry["steps"]]
    edges = [(upstream, downstream, None) for before, after in zip(groups, groups[1:]) for upstream in before for downstream in after]
    return [name for group in groups for name in group], edges


def workflow_flowchart(workflow: dict[str, Any]) -> str:
    """A ``flowchart TD`` of the workflow's tasks and dependencies; the exit handler is drawn dotted."""
    spec = workflow["spec"]
    templates = {template["name"]: template for template in spec["templates"]}
    entry = templates[spec["entrypoint"]]
    if "dag" in entry or "steps" in entry:
        names, edges = _edges(entry)
    else:
        names, edges = [entry["name"]], []
    on_exit = spec.get("onExit")
    ids = _node_ids(names + ([on_exit] if on_exit else []))
    lines = ["flowchart TD"]
    lines += [f'    {ids[name]}["{name}"]' for name in names]
    for upstream, downstream, label in edges:
        arrow = f'-->|"{label}"|' if label else "-->"
        lines.append(f"    {ids[upstream]} {arrow} {ids[downstream]}")
    if on_exit:
        lines.append(f'    {ids[on_exit]}(["{on_exit} (on exit)"])')
        upstreams = {upstream for upstream, _, _ in edges}
        lines += [f"    {ids[name]} -.-> {ids[on_exit]}" for name in names if name not in upstreams]
    return "\n".join(lines) + "\n"
