"""``FakeCluster``: a Kubernetes API server with Argo's controller, and an Argo Server, on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..vocabulary import COMPLETED_PHASES
from .api import WORKFLOWS
from .argo_api import ArgoApi
from .collector import GarbageCollector
from .controller import ControllerOptions, LocalController
from .faults import FAIL, LOSE, RESET, Fault, Faults
from .kube_api import KubeApi, KubeFlavour
from .resources import ResourceStore
from .selection import Selector
from .server import FakeServer, Request, Router
from .service import ClusterService


class FakeCluster:
    """A real HTTP server on 127.0.0.1 (random port) serving what the ``kubernetes`` and ``argo-server``
    backends use, the way the real servers answer; submitted workflows run on the local engine.

    ``state_dir`` holds the local engine's state (one folder per namespace; a temporary folder, removed at
    :meth:`stop`, when ``None``). With ``token``, every request must carry ``Authorization: Bearer <token>``.
    ``hold`` keeps new workflows ``Pending`` until :meth:`release` or :meth:`finish`; ``end_phase`` ends them
    at once with that phase without running them; ``controller=False`` leaves them without any status;
    ``latency`` delays every answer. These four can be changed at any time through the attributes of the
    same names, as can ``token``. ``namespace`` is the namespace :meth:`write_kubeconfig`, :meth:`argo_env`
    and the inspection methods use by default. Use it as a context manager, or call :meth:`start` and
    :meth:`stop` (once each).
    """

    def __init__(self, state_dir: str | Path | None = None, *, token: str | None = None,
                 namespace: str = "default", hold: bool = False, end_phase: str | None = None,
                 controller: bool = True, latency: float = 0.0) -> None:
        self.namespace = namespace
        self.token = token
        self.hold = hold
        self._end_phase: str | None = None
        self.end_phase = end_phase
        self.controller = controller
        self.latency = latency
        self._own_state = state_dir is None
        self.state_dir = Path(tempfile.mkdtemp(prefix="fake-cluster-")) if state_dir is None else Path(state_dir)
        self.store = ResourceStore()
        self.faults = Faults()
        self._collector = GarbageCollector(self.store)
        self._controller = LocalController(self.store, self.state_dir, self._controller_options, self._collector)
        self.service = ClusterService(self.store, self._controller)
        self._collector.delete_workflow = self.service.delete_workflow
        self._requests: list[Request] = []
        self._stopped = False
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def end_phase(self) -> str | None:
        """The phase every new workflow ends with at once, without running (``None``: they run)."""
        return self._end_phase

    @end_phase.setter
    def end_phase(self, phase: str | None) -> None:
        """Set it (a finished phase or ``None``)."""
        if phase is not None and phase not in COMPLETED_PHASES:
            raise ValueError(f"end_phase={phase!r}: expected one of {', '.join(COMPLETED_PHASES)} or None")
        self._end_phase = phase

    def _controller_options(self) -> ControllerOptions:
        return ControllerOptions(enabled=self.controller, hold=self.hold, end_phase=self.end_phase)

    # --- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeCluster:
        """Start serving; return ``self``."""
        if self._server is not None or self._stopped:
            raise RuntimeError("a fake cluster starts once")
        router = Router(KubeFlavour())
        ArgoApi(self.service).register(router)
        KubeApi(self.service).register(router)
        self._server = FakeServer(router, self.faults, lambda: self.token, lambda: self.latency, self._requests)
        self._thread = threading.Thread(target=self._server.serve, name="fake-cluster", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: end every stream and connection, terminate local runs, join every thread."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopped = True
        server.close_connections()
        self.store.close()
        self._thread.join()
        server.server_close()
        self._collector.close()
        self._controller.close()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> FakeCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- where it is -----------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        if self._server is None:
            raise RuntimeError("the fake cluster is not started")
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as ``ARGO_SERVER`` wants it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the API server's URL."""
        return f"http://{self.address}"

    def write_kubeconfig(self, path: str | Path, namespace: str | None = None) -> Path:
        """Write a kubeconfig selecting this cluster (its token as the user's, ``namespace`` as the context's)."""
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": user}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake",
                                                      "namespace": namespace or self.namespace}}],
        }
        path = Path(path)
        path.write_text(json.dumps(config, indent=2))
        return path

    def argo_env(self, namespace: str | None = None) -> dict[str, str]:
        """The ``ARGO_*`` variables of the Argo CLI that select this server."""
        env = {"ARGO_SERVER": self.address, "ARGO_SECURE": "false", "ARGO_HTTP1": "true",
               "ARGO_NAMESPACE": namespace or self.namespace}
        if self.token:
            env["ARGO_TOKEN"] = f"Bearer {self.token}"
        return env

    # --- faults ----------------------------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500, *, method: str | None = None, path: str | None = None,
                  retry_after: float | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` (and ``Retry-After``) without doing them.

        ``method`` is an HTTP method, ``path`` a regular expression searched in the URL path.
        """
        if status < 400:
            raise ValueError(f"status={status!r}: expected an error status (>= 400)")
        self.faults.arm(Fault(FAIL, count, method, path, status, retry_after))

    def reset_next(self, count: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """Reset the connection of the next ``count`` matching requests, without doing them."""
        self.faults.arm(Fault(RESET, count, method, path))

    def lose_response_next(self, count: int = 1, *, method: str | None = "POST", path: str | None = None) -> None:
        """Do the next ``count`` matching requests, then reset their connection instead of answering."""
        self.faults.arm(Fault(LOSE, count, method, path))

    def drop_watches(self) -> None:
        """Cut every open watch and event stream now (the connection is reset)."""
        self.store.close_watches()

    def drop_next_watches(self, count: int = 1, after_events: int = 0) -> None:
        """Cut each of the next ``count`` watch or event streams after ``after_events`` events."""
        self.faults.drop_watches(count, after_events)

    def compact(self) -> None:
        """Expire the history: a watch or a continue token from a resourceVersion older than the current one
        gets a 410 ``Expired`` error (as after etcd compacts)."""
        self.store.compact()

    # --- the controller --------------------------------------------------------------------------------------------

    def release(self, name: str, namespace: str | None = None) -> None:
        """Start a workflow held ``Pending`` (see ``hold``)."""
        self._controller.release(namespace or self.namespace, name)

    def finish(self, name: str, phase: str, message: str | None = None, namespace: str | None = None) -> None:
        """End a workflow now with ``phase`` (a local run still going is terminated)."""
        self._controller.finish(namespace or self.namespace, name, phase, message)

    # --- inspection ------------------------------------------------------------------------------------------------

    def workflow(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The stored workflow (a copy), or ``None``."""
        return self.store.find(WORKFLOWS, namespace or self.namespace, name)

    def workflows(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored workflows of ``namespace`` (every namespace when ``None``)."""
        return self.store.list(WORKFLOWS, namespace, Selector())[0]

    def wait_for(self, check: Callable[[], bool], timeout: float = 60) -> None:
        """Block until ``check()`` is true (e.g. ``lambda: len(cluster.workflows()) == 1``), checking again at each
        change of the cluster's objects, without polling; :class:`TimeoutError` after ``timeout`` seconds."""
        self.store.wait_for(check, timeout)

    @property
    def requests(self) -> list[Request]:
        """Every request received so far (method, path, query, headers, body, answered status)."""
        return list(self._requests)
