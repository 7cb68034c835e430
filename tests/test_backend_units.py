"""The cluster backends' pieces that need no server: names, retry policy, configuration, results, caching."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from workflows import backends
from workflows.backends.cluster import NAME_ALPHABET, ApiFailure, generate_name, json_lines, pod_nodes
from workflows.backends.retry import RetryPolicy, retry_after_seconds

CONFIG_VARIABLES = ("KUBECONFIG", "WORKFLOWS_NAMESPACE", "WORKFLOWS_BACKEND", "KUBERNETES_SERVICE_HOST", "ARGO_SERVER",
                    "ARGO_SECURE", "ARGO_INSECURE_SKIP_VERIFY", "ARGO_TOKEN", "ARGO_NAMESPACE", "ARGO_BASE_HREF",
                    "ARGO_HTTP1")


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    for variable in CONFIG_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "state"))


def write_kubeconfig(path, server="http://127.0.0.1:1", namespace="team-a", token="s3cr3t-token"):
    context = {"cluster": "fake", "user": "me"}
    if namespace:
        context["namespace"] = namespace
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "contexts": [{"name": "fake", "context": context},
                     {"name": "other", "context": {"cluster": "fake", "user": "me", "namespace": "team-b"}}],
        "users": [{"name": "me", "user": {"token": token}}],
    }))
    return path


# --- names and retries ----------------------------------------------------------------------------------------------

def test_generated_names_use_the_api_servers_alphabet():
    names = {generate_name("job-") for _ in range(200)}
    assert len(names) > 190
    for name in names:
        assert name.startswith("job-") and len(name) == 9
        assert set(name[4:]) <= set(NAME_ALPHABET)


def test_a_long_prefix_is_cut_as_the_api_server_cuts_it():
    assert len(generate_name("x" * 80)) == 63


def test_backoff_is_capped_and_honours_retry_after():
    policy = RetryPolicy(attempts=5, base=0.1, cap=0.5)
    assert 0.05 <= policy.delay(1) <= 0.1
    assert 0.25 <= policy.delay(10) <= 0.5
    assert policy.delay(1, retry_after=0.3) == 0.3
    assert policy.delay(1, retry_after=60) == 0.5
    with pytest.raises(ValueError, match="attempts=0"):
        RetryPolicy(attempts=0)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 31


def test_which_failures_are_retried():
    assert ApiFailure(None, "reset").retryable and ApiFailure(429, "slow down").retryable
    assert ApiFailure(503, "down").retryable
    assert not ApiFailure(409, "exists").retryable and not ApiFailure(401, "who").retryable


# --- streams and pods -----------------------------------------------------------------------------------------------

def test_json_lines_reassembles_events_split_across_chunks():
    events = [{"type": "ADDED", "object": {"n": 1}}, {"type": "MODIFIED", "object": {"n": "x" * 50}}]
    text = "".join(json.dumps(event) + "\n" for event in events).encode()
    chunks = [text[index:index + 7] for index in range(0, len(text), 7)]
    assert list(json_lines(iter(chunks))) == events


def test_pods_map_to_nodes_with_both_argo_pod_name_formats():
    workflow = {"metadata": {"name": "wf-abcde"}, "status": {"nodes": {
        "wf-abcde": {"type": "Steps"},
        "wf-abcde-123": {"type": "Pod", "templateName": "hello"},
    }}}
    assert pod_nodes(workflow) == {"wf-abcde-123": "wf-abcde-123", "wf-abcde-hello-123": "wf-abcde-123"}


# --- kubernetes configuration ---------------------------------------------------------------------------------------

def test_kubeconfig_context_namespace_and_override(tmp_path, monkeypatch):
    from workflows.backends.kubeconfig import load_configuration

    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config")))
    configuration, namespace, where = load_configuration()
    assert (configuration.host, namespace) == ("http://127.0.0.1:1", "team-a")
    assert str(tmp_path / "config") in where
    assert load_configuration("other")[1] == "team-b"
    monkeypatch.setenv("WORKFLOWS_NAMESPACE", "override")
    assert load_configuration()[1] == "override"


def test_kubeconfig_in_home_and_default_namespace(tmp_path):
    from workflows.backends.kubeconfig import load_configuration

    (tmp_path / "home" / ".kube").mkdir(parents=True)
    write_kubeconfig(tmp_path / "home" / ".kube" / "config", namespace=None)
    assert load_configuration()[1] == "default"


def test_no_kubernetes_configuration_is_a_clear_error(tmp_path, monkeypatch):
    from workflows.backends.kubeconfig import load_configuration

    with pytest.raises(backends.BackendUnavailable, match="KUBECONFIG is not set.*not a pod"):
        load_configuration()
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(backends.BackendUnavailable, match="missing: no such file"):
        load_configuration()


def test_broken_kubeconfig_error_names_the_file_not_the_token(tmp_path, monkeypatch):
    from workflows.backends.kubeconfig import load_configuration

    path = tmp_path / "config"
    path.write_text(json.dumps({"current-context": "nowhere", "contexts": [], "clusters": [],
                                "users": [{"name": "me", "user": {"token": "s3cr3t-token"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(backends.BackendUnavailable) as raised:
        load_configuration()
    assert str(path) in str(raised.value) and "s3cr3t-token" not in str(raised.value)


# --- argo-server configuration --------------------------------------------------------------------------------------

def test_argo_settings_follow_the_cli_variables(monkeypatch):
    from workflows.backends.argo_server import ArgoServerSettings

    with pytest.raises(backends.BackendUnavailable, match="ARGO_SERVER is not set"):
        ArgoServerSettings.from_environment()
    monkeypatch.setenv("ARGO_SERVER", "argo.example:2746")
    settings = ArgoServerSettings.from_environment()
    assert (settings.url, settings.namespace, settings.insecure_skip_verify) == ("https://argo.example:2746",
                                                                                "default", False)
    monkeypatch.setenv("ARGO_SECURE", "false")
    monkeypatch.setenv("ARGO_BASE_HREF", "/argo/")
    monkeypatch.setenv("ARGO_NAMESPACE", "argo")
    monkeypatch.setenv("ARGO_TOKEN", "Bearer s3cr3t-token")
    settings = ArgoServerSettings.from_environment()
    assert (settings.url, settings.namespace) == ("http://argo.example:2746/argo", "argo")
    assert "s3cr3t-token" not in repr(settings)
    monkeypatch.setenv("WORKFLOWS_NAMESPACE", "mine")
    assert ArgoServerSettings.from_environment().namespace == "mine"
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "maybe")
    with pytest.raises(backends.BackendUnavailable, match="ARGO_INSECURE_SKIP_VERIFY='maybe'"):
        ArgoServerSettings.from_environment()


def test_argo_token_gets_the_bearer_prefix_once(monkeypatch):
    from workflows.backends.argo_server import ArgoServerBackend, ArgoServerSettings

    for token in ("abc", "Bearer abc"):
        backend = ArgoServerBackend(ArgoServerSettings(server="127.0.0.1:1", token=token, secure=False))
        assert backend.api_client.configuration.auth_settings()["BearerToken"]["value"] == "Bearer abc"


def test_argo_stream_errors_become_statuses():
    from workflows.backends.argo_server import _stream_error

    assert _stream_error({"code": 10, "message": "too old resource version: 5 (9)"})["code"] == 410
    assert _stream_error({"http_code": 410, "message": "expired"})["code"] == 410
    assert _stream_error({"code": 13, "message": "boom"})["code"] == 500


# --- the default backend --------------------------------------------------------------------------------------------

def test_default_backend_is_built_once_per_configuration(tmp_path, monkeypatch):
    from workflows.backends.argo_server import ArgoServerBackend

    monkeypatch.setenv("WORKFLOWS_BACKEND", "argo-server")
    monkeypatch.setenv("ARGO_SERVER", "127.0.0.1:1")
    first = backends.get_backend()
    assert isinstance(first, ArgoServerBackend) and backends.get_backend() is first
    monkeypatch.setenv("ARGO_NAMESPACE", "elsewhere")
    second = backends.get_backend()
    assert second is not first and second.namespace == "elsewhere"
    assert backends.get_backend(first) is first
    assert backends.get_backend("argo-server") is second
    with pytest.raises(TypeError, match="backend=42"):
        backends.get_backend(42)


def test_kubernetes_backend_is_rebuilt_when_its_kubeconfig_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config")))
    first = backends.get_backend("kubernetes")
    assert first.namespace == "team-a" and backends.get_backend("kubernetes") is first
    write_kubeconfig(tmp_path / "config", namespace="team-c-longer-name")
    assert backends.get_backend("kubernetes").namespace == "team-c-longer-name"


def test_importing_a_cluster_backend_module_loads_no_client():
    import subprocess
    import sys

    code = ("import sys, workflows, workflows.cli, workflows.testing\n"
            "from workflows import argo, backends, operations, tasks\n"
            "import workflows.backends.kubernetes, workflows.backends.argo_server\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'argo_workflows')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


# --- results carried by the workflow --------------------------------------------------------------------------------

def finished_with_result(value):
    return {"metadata": {"name": "sync-abcde"}, "status": {"phase": "Succeeded", "nodes": {
        "sync-abcde-1": {"type": "Pod", "outputs": {"parameters": [{"name": "other", "value": "x"}]}},
        "sync-abcde-2": {"type": "Pod", "outputs": {"parameters": [
            {"name": "harness-workflows-result", "value": value}]}},
    }}}


def test_result_round_trip_through_the_output_parameter(tmp_path, monkeypatch):
    from workflows.backends import results

    path = tmp_path / "out" / "result.json"
    monkeypatch.setenv(results.RESULT_FILE_ENV, str(path))
    message = [{"a.txt": "é" * 10}]
    results.write_result_file(message)
    assert results.read_result(finished_with_result(path.read_text())) == message


def test_a_result_too_large_names_the_limit(tmp_path, monkeypatch):
    from workflows.backends import results

    path = tmp_path / "result.json"
    monkeypatch.setenv(results.RESULT_FILE_ENV, str(path))
    results.write_result_file([{"big.txt": "x" * results.MAX_RESULT_BYTES}])
    assert len(path.read_bytes()) < 100
    with pytest.raises(results.ResultTooLarge, match=r"sync-abcde.*262144 bytes \(256 KiB\).*Kafka"):
        results.read_result(finished_with_result(path.read_text()))


def test_a_missing_result_is_a_clear_error():
    from workflows.backends import results

    with pytest.raises(results.ResultParameterMissing, match="sync-abcde.*harness-workflows-result"):
        results.read_result(finished_with_result(""))


def test_node_order_breaks_same_second_ties_by_the_step_chain():
    from workflows.backends.cluster import node_order

    second = "2026-11-27T12:00:00Z"
    workflow = {"metadata": {"name": "wf"}, "status": {"nodes": {
        "wf-9": {"type": "Pod", "startedAt": second, "children": []},
        "wf-1": {"type": "Pod", "startedAt": second, "children": ["wf-g2"]},
        "wf-g2": {"type": "StepGroup", "startedAt": second, "children": ["wf-9"]},
        "wf-g1": {"type": "StepGroup", "startedAt": second, "children": ["wf-1"]},
        "wf": {"type": "Steps", "startedAt": second, "children": ["wf-g1"]},
        "wf-late": {"type": "Pod", "startedAt": "2026-11-27T11:59:59Z"},
    }}}
    assert node_order(workflow) == ["wf-late", "wf", "wf-g1", "wf-1", "wf-g2", "wf-9"]


def test_argo_ends_event_streams_with_eof():
    from workflows.backends.argo_server import _is_end

    assert _is_end("EOF") and not _is_end("too old resource version: 1 (2)")


def test_the_shared_local_backend_serves_every_thread():
    import threading

    backend = backends.get_backend("local")
    assert backend.list(None, 10, None) == ([], None)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(backends.get_backend("local").list(None, 10, None)))
    thread.start()
    thread.join(60)
    assert outcome == [([], None)] and backends.get_backend("local") is backend


def test_argo_tls_is_verified_unless_told_otherwise(monkeypatch):
    from workflows.backends.argo_server import ArgoServerBackend

    monkeypatch.setenv("ARGO_SERVER", "argo.example:2746")
    backend = ArgoServerBackend()
    assert backend.api_client.configuration.host == "https://argo.example:2746"
    assert backend.api_client.configuration.verify_ssl is True
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
    assert ArgoServerBackend().api_client.configuration.verify_ssl is False


def test_a_missing_sdk_is_a_clear_error(monkeypatch):
    import sys

    from workflows.backends.argo_server import ArgoServerBackend, ArgoServerSettings

    monkeypatch.setitem(sys.modules, "argo_workflows", None)  # as if not installed
    with pytest.raises(backends.BackendUnavailable, match="pip install 'argo-workflows"):
        ArgoServerBackend(ArgoServerSettings(server="127.0.0.1:1"))
