"""The pytest plugin of harness-workflows (entry point ``pytest11``): fixtures that run a :class:`FakeCluster`.

``fake_cluster`` points the library at it through the Kubernetes API (a kubeconfig file in the test's
temporary folder, ``KUBECONFIG``, ``WORKFLOWS_BACKEND=kubernetes``); ``fake_argo_server`` through Argo
Server (``ARGO_SERVER``, ``ARGO_NAMESPACE``..., ``WORKFLOWS_BACKEND=argo-server``). Both yield the running
cluster and stop it after the test; the variables they set are restored. Override the
``fake_cluster_options`` fixture to construct the cluster with other keyword arguments (``token``,
``namespace``, ``hold``...). ``kafka_broker`` runs a :class:`KafkaTestBroker` and selects it as the
events backend (``WORKFLOWS_KAFKA_BOOTSTRAP``, which the local engine's pods inherit). This module imports
nothing heavy: the plugin is loaded in every pytest
session of a project that installs the library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .cluster import FakeCluster
    from .kafka_broker import KafkaTestBroker

#: Variables that would point the library somewhere else; cleared while a fixture runs.
_CLEARED = ("KUBECONFIG", "WORKFLOWS_NAMESPACE", "ARGO_SERVER", "ARGO_SECURE", "ARGO_INSECURE_SKIP_VERIFY",
            "ARGO_TOKEN", "ARGO_NAMESPACE", "ARGO_BASE_HREF", "ARGO_HTTP1", "WORKFLOWS_BACKEND")


def _started(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
             options: dict[str, Any]) -> FakeCluster:
    from .cluster import FakeCluster

    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return FakeCluster(tmp_path_factory.mktemp("fake-cluster"), **options).start()


@pytest.fixture
def fake_cluster_options() -> dict[str, Any]:
    """Keyword arguments of the :class:`~workflows.testing.FakeCluster` the fixtures start: none by default;
    override this fixture (in a ``conftest.py`` or a test module) to give a token, a namespace, ``hold``..."""
    return {}


@pytest.fixture
def fake_cluster(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                 fake_cluster_options: dict[str, Any]) -> Iterator[FakeCluster]:
    """A running :class:`~workflows.testing.FakeCluster` that the library reaches through the Kubernetes API."""
    cluster = _started(tmp_path_factory, monkeypatch, fake_cluster_options)
    try:
        kubeconfig = cluster.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        monkeypatch.setenv("WORKFLOWS_BACKEND", "kubernetes")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def fake_argo_server(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                     fake_cluster_options: dict[str, Any]) -> Iterator[FakeCluster]:
    """A running :class:`~workflows.testing.FakeCluster` that the library reaches through Argo Server's API."""
    cluster = _started(tmp_path_factory, monkeypatch, fake_cluster_options)
    try:
        for name, value in cluster.argo_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WORKFLOWS_BACKEND", "argo-server")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kafka_broker(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[KafkaTestBroker]:
    """A running :class:`~workflows.testing.KafkaTestBroker` (random port on 127.0.0.1, logs in a temporary
    folder), selected as the events backend through ``WORKFLOWS_KAFKA_BOOTSTRAP``; stopped after the test,
    with the library's Kafka clients closed."""
    from ..events.kafka_backend import KafkaBackend
    from .kafka_broker import KafkaTestBroker

    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("WORKFLOWS_EVENTS_BACKEND", raising=False)
    broker = KafkaTestBroker(tmp_path_factory.mktemp("kafka-broker")).start()
    try:
        monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", broker.bootstrap)
        yield broker
    finally:
        KafkaBackend.close_all()
        broker.stop()
