"""Pods of several containers: container-set templates, and sidecars.

Container sets: several containers of one pod, run in the order their ``dependencies`` give.

Argo runs a ``containerSet``'s containers in one pod; a container starts once
the containers it depends on have succeeded, and the pod fails when any
container fails. The template's outputs (result, exit code, output
parameters and artifacts) come from the container named ``main``. Locally
each container is a pod sandbox of its own (:func:`workflows.engine.pod.run_pod_node`)
sharing the set's volumes: the ``containerSet.volumeMounts`` and the
template's own ``emptyDir`` volumes, which live as long as the set's node.

As in Argo, an output on one of the set's volume mounts is read once every
container ended (Argo's ``wait`` container does; another container may write
it), the others as ``main`` exits (Argo's emissary saves them). Locally a
collector pod (:func:`collector_template`) with the set's volume mounts reads
the first kind.

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


def _set_mounts(template: dict[str, Any]) -> list[dict[str, Any]]:
    return list((template.get("containerSet") or {}).get("volumeMounts") or [])


def on_set_volume(template: dict[str, Any], path: str) -> bool:
    """Whether ``path`` is one of the set's volume mounts or lies under one (Argo's ``FindOverlappingVolume``
    over ``containerSet.volumeMounts``)."""
    for mount in _set_mounts(template):
        mount_path = str(mount.get("mountPath") or "").rstrip("/")
        if path == mount_path or path.startswith(mount_path + "/"):
            return True
    return False


def _outputs_where(template: dict[str, Any], on_volume: bool) -> dict[str, Any]:
    """The template's output parameters and artifacts whose path is (or is not) on one of the set's volumes."""
    declared = template.get("outputs") or {}
    parameters = [parameter for parameter in declared.get("parameters") or []
                  if on_set_volume(template, (parameter.get("valueFrom") or {}).get("path") or "") == on_volume]
    artifacts = [artifact for artifact in declared.get("artifacts") or []
                 if on_set_volume(template, artifact.get("path") or "") == on_volume]
    return {key: value for key, value in (("parameters", parameters), ("artifacts", artifacts)) if value}


def container_template(template: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The ``container`` template one container of the set runs as: the set's volume mounts added, and the
    template's inputs; for ``main``, the outputs it saves as it exits (those not on the set's volumes)."""
    body = {key: value for key, value in container.items() if key != "dependencies"}
    body["volumeMounts"] = _set_mounts(template) + list(container.get("volumeMounts") or [])
    single = {key: value for key, value in template.items()
              if key not in ("containerSet", "outputs", "volumes", "retryStrategy")}
    single["container"] = body
    own_outputs = _outputs_where(template, on_volume=False)
    if container.get("name") == MAIN and own_outputs:
        single["outputs"] = own_outputs
    return single


def collector_template(template: dict[str, Any], image: str) -> dict[str, Any] | None:
    """The ``script`` template of the pod that reads the set's outputs on its volumes once every container
    ended: a no-op Python script in ``image`` (one that runs on this machine) with the set's volume mounts;
    None when no output is on them."""
    outputs = _outputs_where(template, on_volume=True)
    if not outputs:
        return None
    return {"name": template.get("name"), "outputs": outputs,
            "script": {"image": image, "command": ["python"], "source": "pass", "volumeMounts": _set_mounts(template)}}


def merged_outputs(template: dict[str, Any], main: dict[str, Any], collected: dict[str, Any]) -> dict[str, Any]:
    """The set's outputs: ``main``'s (its result, exit code and own outputs) with the ``collected`` ones from the
    set's volumes, parameters and artifacts in the template's order."""
    declared = template.get("outputs") or {}
    merged = {key: value for key, value in main.items() if key not in ("parameters", "artifacts")}
    for key in ("parameters", "artifacts"):
        by_name = {entry["name"]: entry for part in (main, collected) for entry in part.get(key) or []}
        entries = [by_name[entry["name"]] for entry in declared.get(key) or [] if entry.get("name") in by_name]
        if entries:
            merged[key] = entries
    return merged


def sidecar_template(template: dict[str, Any], kind: str, sidecar: dict[str, Any]) -> dict[str, Any]:
    """The ``container`` template a sidecar or init container of the ``kind`` (container/script) pod ``template``
    runs as."""
    body = {key: value for key, value in sidecar.items() if key != "mirrorVolumeMounts"}
    if sidecar.get("mirrorVolumeMounts"):
        body["volumeMounts"] = list((template.get(kind) or {}).get("volumeMounts") or []) + \
            list(sidecar.get("volumeMounts") or [])
    return {"name": template.get("name"), "container": body}
