"""The pytest plugin of harness-workflows (entry point ``pytest11``): fixtures that run a :class:`FakeCluster`.

``fake_cluster`` points the library at it through the Kubernetes API (a kubeconfig file in the test's
temporary folder, ``KUBECONFIG``, ``WORKFLOWS_BACKEND=kubernetes``); ``fake_argo_server`` through Argo
Server (``ARGO_SERVER``, ``ARGO_NAMESPACE``..., ``WORKFLOWS_BACKEND=argo-server``). Both yield the running
cluster and stop it after the test; the variables they set are restored. This module imports nothing heavy:
the plugin is loaded in every pytest session of a project that installs the library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .cluster import FakeCluster

#: Variables that would point the library somewhere else; cleared while a fixture runs.
_CLEARED = ("KUBECONFIG", "WORKFLOWS_NAMESPACE", "ARGO_SERVER", "ARGO_SECURE", "ARGO_INSECURE_SKIP_VERIFY",
            "ARGO_TOKEN", "ARGO_NAMESPACE", "ARGO_BASE_HREF", "ARGO_HTTP1", "WORKFLOWS_BACKEND")


def _started(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    from .cluster import FakeCluster

    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return FakeCluster(tmp_path_factory.mktemp("fake-cluster")).start()


@pytest.fixture
def fake_cluster(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """A running :class:`~workflows.testing.FakeCluster` that the library reaches through the Kubernetes API."""
    cluster = _started(tmp_path_factory, monkeypatch)
    try:
        kubeconfig = cluster.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        monkeypatch.setenv("WORKFLOWS_BACKEND", "kubernetes")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def fake_argo_server(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """A running :class:`~workflows.testing.FakeCluster` that the library reaches through Argo Server's API."""
    cluster = _started(tmp_path_factory, monkeypatch)
    try:
        for name, value in cluster.argo_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WORKFLOWS_BACKEND", "argo-server")
        yield cluster
    finally:
        cluster.stop()
