"""Pods of the local engine: each runs isolated, as in a container.

The engine calls :func:`run_pod_node` (and :func:`prepare_pods` as a workflow begins) and nothing else; how
a pod is isolated is this package's business:

- :mod:`.node` — :func:`run_pod_node`, from a resolved template to the node's phase and outputs;
- :mod:`.isolation` — whether pods run isolated (``WORKFLOWS_ISOLATION``);
- :mod:`.launch` — from a resolved template to the pod to run (image plan, env, volumes, files);
- :mod:`.sandbox` — the pod's file tree (overlay of the host, own ``/tmp``, ``/proc``, ``/dev``, volumes);
- :mod:`.process` — a pod's leader (its PID 1, which becomes its main process), the outputs' collector, the
  runner's side;
- :mod:`.exits` — a PythonTask's end read from ``/proc`` as its leader exits, before the zygote reaps it;
- :mod:`.zygote` — the per-runner process, in the pods' user namespace, that forks each sandboxed pod's leader
  into a new PID namespace and keeps a standby leader (a pod's namespaces and base tree, built before the pod
  is known);
- :mod:`.recycling` — a pod's tree used again by the next pods when the pod left it as built (templates, the
  zygote's inotify watches on them);
- :mod:`.messages` — pickled messages with descriptors between the runner, the zygote and standby leaders;
- :mod:`.limits` — memory and CPU limits (cgroup v2, v1, or ``RLIMIT_AS``);
- :mod:`.inputs`, :mod:`.outputs` — what goes in, what comes out; :mod:`.podlog` — a pod's log, bounded;
- :mod:`.images`, :mod:`.dockerfile` — how an image runs here;
- :mod:`.syscalls` — the Linux calls, through ``ctypes``.

The package's names load on first use (PEP 562): the zygote imports only what a pod's processes need.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # the zygote, which imports this package, stays lean (see .lazy_logging)
    from typing import Any

__all__ = ["PodEnd", "PodSetupError", "isolation", "prepare_pods", "run_pod_node", "start_zygote_early",
           "unisolated_warning"]

_HOMES = {"PodEnd": ".node", "prepare_pods": ".node", "run_pod_node": ".node", "unisolated_warning": ".isolation",
          "PodSetupError": ".inputs", "isolation": ".isolation", "start_zygote_early": ".zygote"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
