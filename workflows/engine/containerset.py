"""Pods of several containers: container-set templates, and sidecars.

Container sets: several containers of one pod, run in the order their ``dependencies`` give.

Argo runs a ``containerSet``'s containers in one pod; a container starts once
the containers it depends on have succeeded, and the pod fails when any
container fails. The template's outputs (result, exit code, output
parameters and artifacts) come from the container named ``main``. Locally
each container is a pod sandbox of its own (:func:`workflows.engine.pod.run_pod_node`)
sharing the set's volumes: the ``containerSet.volumeMounts`` and the
template's own ``emptyDir`` volumes, which live as long as the set's node.

Init containers run one after the other before a pod's main container (one
that fails fails the pod); sidecars run next to the main container, from its
start until it ends (then they are killed; their exit does not change the
pod's phase). Each is a sandbox of its own with the pod's volumes
(``mirrorVolumeMounts`` copies the main container's mounts).
"""

from __future__ import annotations

from typing import Any

from ..graph import find_cycle

#: The container whose outputs are the template's.
MAIN = "main"


def containerset_problems(where: str, template: dict[str, Any]) -> list[str]:
    """Why the local engine cannot run this container set (empty when it can)."""
    container_set = template.get("containerSet") or {}
    problems = []
    if container_set.get("retryStrategy"):
        problems.append(f"{where}: containerSet.retryStrategy is not supported by the local engine")
    for volume in template.get("volumes") or []:
        if "emptyDir" not in volume:
            problems.append(f"{where}: template volume {volume.get('name')!r}: only emptyDir volumes are supported "
                            "in a template locally")
    names = {container.get("name") for container in container_set.get("containers") or []}
    graph = {container.get("name"): list(container.get("dependencies") or [])
             for container in container_set.get("containers") or []}
    for name, dependencies in graph.items():
        for dependency in dependencies:
            if dependency not in names:
                problems.append(f"{where}: container {name!r} depends on {dependency!r}, which is not in the set")
    cycle = find_cycle(graph)
    if cycle:
        problems.append(f"{where}: the containers' dependencies form a cycle: {' -> '.join(cycle)}")
    return problems


def container_template(template: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The ``container`` template one container of the set runs as: the set's volume mounts added, and the
    template's inputs; its outputs only for ``main``."""
    mounts = list((template.get("containerSet") or {}).get("volumeMounts") or [])
    body = {key: value for key, value in container.items() if key != "dependencies"}
    body["volumeMounts"] = mounts + list(container.get("volumeMounts") or [])
    single = {key: value for key, value in template.items()
              if key not in ("containerSet", "outputs", "volumes", "retryStrategy")}
    single["container"] = body
    if container.get("name") == MAIN and template.get("outputs"):
        single["outputs"] = template["outputs"]
    return single


def sidecar_template(template: dict[str, Any], kind: str, sidecar: dict[str, Any]) -> dict[str, Any]:
    """The ``container`` template a sidecar or init container of the ``kind`` (container/script) pod ``template``
    runs as."""
    body = {key: value for key, value in sidecar.items() if key != "mirrorVolumeMounts"}
    if sidecar.get("mirrorVolumeMounts"):
        body["volumeMounts"] = list((template.get(kind) or {}).get("volumeMounts") or []) + \
            list(sidecar.get("volumeMounts") or [])
    return {"name": template.get("name"), "container": body}
