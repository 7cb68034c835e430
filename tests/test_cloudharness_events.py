"""Inside a CloudHarness deployment the events broker is the one its values name."""

from __future__ import annotations

import pytest
import yaml
from ch_support import VALUES, use_cloudharness_values

from workflows import cloudharness, operations, tasks
from workflows.events import EventsConfigurationError, cloudharness_bootstrap, settings
from workflows.events.settings import require_events_backend

EVENTS_APP = {"harness": {"name": "events"}, "kafka": {"name": "bootstrap", "port": 9092}}


def values_with_events(tmp_path, monkeypatch, **changes) -> dict:
    """The test deployment's values plus CloudHarness's ``events`` application (Kafka), in CH_VALUES_PATH."""
    values = yaml.safe_load(VALUES.read_text())
    values["apps"]["events"] = {**EVENTS_APP, **changes}
    use_cloudharness_values(tmp_path, monkeypatch, yaml.safe_dump(values))
    return values


def test_the_broker_is_the_one_the_values_name(tmp_path, monkeypatch):
    values_with_events(tmp_path, monkeypatch)
    assert settings.kafka_bootstrap_servers() == "bootstrap.ch.svc.cluster.local:9092"
    assert settings.events_backend_name() == "kafka"
    require_events_backend("here")  # satisfied: the results can be read


def test_explicit_variables_win_over_the_values(tmp_path, monkeypatch):
    values_with_events(tmp_path, monkeypatch)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:29092")
    assert settings.kafka_bootstrap_servers() == "kafka.example:29092"
    monkeypatch.setenv("WORKFLOWS_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    assert settings.kafka_bootstrap_servers() == "127.0.0.1:1"
    monkeypatch.setenv("WORKFLOWS_EVENTS_BACKEND", "embedded")
    assert settings.events_backend_name() == "embedded"
    with pytest.raises(cloudharness.CloudHarnessEventsUnavailable, match="WORKFLOWS_EVENTS_BACKEND=embedded"):
        require_events_backend("here")


def test_outside_cloudharness_the_values_are_not_read(tmp_path, monkeypatch):
    values_with_events(tmp_path, monkeypatch)
    monkeypatch.setenv("WORKFLOWS_CLOUDHARNESS", "0")
    assert settings.kafka_bootstrap_servers() is None
    assert settings.events_backend_name() == "embedded"
    require_events_backend("here")


def test_a_port_and_a_service_name_of_the_values_are_used(tmp_path, monkeypatch):
    values_with_events(tmp_path, monkeypatch, kafka={"name": "kafka-0", "port": 19092})
    assert settings.kafka_bootstrap_servers() == "kafka-0.ch.svc.cluster.local:19092"


def test_values_without_a_namespace_are_a_clear_error(tmp_path, monkeypatch):
    values = values_with_events(tmp_path, monkeypatch)
    del values["namespace"]
    use_cloudharness_values(tmp_path, monkeypatch, yaml.safe_dump(values))
    with pytest.raises(EventsConfigurationError, match="namespace=None"):
        settings.kafka_bootstrap_servers()
    assert cloudharness_bootstrap({"apps": {}}) is None


def test_results_inside_a_deployment_without_a_broker_are_refused_before_submission(tmp_path, monkeypatch):
    use_cloudharness_values(tmp_path, monkeypatch)  # no events application
    op = operations.DistributedSyncOperationWithResults("r", tasks.CommandBasedTask("t", ["true"]))
    assert op.results_via == "queue"
    with pytest.raises(cloudharness.CloudHarnessEventsUnavailable, match="no 'events' application"):
        op.execute(timeout=5)
    assert op.persisted is None
