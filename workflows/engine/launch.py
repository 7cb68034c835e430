"""From a pod's resolved template to the process that runs it: on the host, from an application's
build context, or in a container runtime (see :mod:`.images`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .dockerfile import DockerfileError
from .images import ContainerPlan, ImageError, UnavailablePlan, how_to_run
from .paths import PathMap
from .podrun import PodSetupError, base_env
from .pods import PodProcess

log = logging.getLogger(__name__)

#: Script commands that the runner's warm, forked interpreter can stand for.
PYTHON_COMMANDS = ({"python"}, {"python3"})
#: Where Argo puts a script template's source in the container.
CONTAINER_SCRIPT_PATH = "/argo/staging/script"
_noticed: set[str] = set()


def pod_process(kind: str, body: dict[str, Any], env: dict[str, str], paths: PathMap, node_dir: Path,
                log_path: Path) -> PodProcess:
    """The process of a ``container`` or ``script`` template whose strings are already substituted."""
    try:
        plan = how_to_run(body["image"])
    except (ImageError, DockerfileError) as error:
        raise PodSetupError(str(error)) from error
    if isinstance(plan, UnavailablePlan):
        raise PodSetupError(plan.message)
    command = list(body.get("command") or [])
    args = list(body.get("args") or [])
    script = None
    if kind == "script" and body.get("source"):  # Argo runs a script without source as a plain container
        script = node_dir / "script"
        script.write_text(paths.rewrite(body.get("source", "")) if not isinstance(plan, ContainerPlan)
                          else body.get("source", ""))
        command = command or ["sh"]
    if isinstance(plan, ContainerPlan):
        mounts = [(m.host_path, m.container_path, m.read_only) for m in paths.mappings]
        if script is not None:
            mounts.append((script, CONTAINER_SCRIPT_PATH, True))
            command, args = command + [CONTAINER_SCRIPT_PATH], []
        argv = plan.run_argv(command, args, env=env, mounts=mounts, workdir=body.get("workingDir"))
        return PodProcess(base_env(), node_dir, log_path, argv=argv)
    notice = getattr(plan, "notice", None)
    if notice and body["image"] not in _noticed:
        _noticed.add(body["image"])
        log.info("%s", notice)
    if script is not None:
        command, args = command + [str(script)], []
    try:
        host = plan.process(command or None, args or None)
    except ImageError as error:
        raise PodSetupError(str(error)) from error
    pod_env = {**base_env(), **host.env, **{key: paths.rewrite(value) for key, value in env.items()}}
    if body.get("workingDir"):
        cwd = Path(paths.rewrite(body["workingDir"]))
        cwd.mkdir(parents=True, exist_ok=True)
    else:  # a container starts in "/": relative paths land in the pod's own file tree (made by the caller)
        cwd = host.cwd or node_dir / "fs"
    read_only = paths.read_only_folders()
    if script is not None and set(body.get("command") or ["sh"]) in PYTHON_COMMANDS:
        return PodProcess(pod_env, cwd, log_path, source=script.read_text(), script_path=str(script),
                          read_only=read_only)
    return PodProcess(pod_env, cwd, log_path, argv=paths.rewrite_all(host.argv), read_only=read_only)
