"""The pytest plugin, as a user's project sees it: a separate pytest run whose tests use ``fake_cluster`` and
``fake_argo_server`` to execute operations through the kubernetes and argo-server backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

USER_TESTS = textwrap.dedent('''
    import os
    import socket

    import pytest

    from workflows import argo
    from workflows.operations import DistributedSyncOperation, PipelineOperation
    from workflows.tasks import BashTask

    ports = []


    def run(cluster):
        ports.append(cluster.port)
        operation = DistributedSyncOperation("user", BashTask("hello", "echo hello from the fake cluster"))
        workflow = operation.execute(timeout=60)
        assert workflow.succeeded()
        assert cluster.workflow(workflow.name)["status"]["phase"] == "Succeeded"
        assert argo.get_workflow_logs(workflow.name).strip() == "hello from the fake cluster"
        return workflow


    def test_kubernetes(fake_cluster):
        assert os.environ["WORKFLOWS_BACKEND"] == "kubernetes"
        assert os.path.isfile(os.environ["KUBECONFIG"])
        run(fake_cluster)


    def test_argo_server(fake_argo_server):
        assert os.environ["WORKFLOWS_BACKEND"] == "argo-server"
        assert os.environ["ARGO_SERVER"] == fake_argo_server.address
        run(fake_argo_server)


    def test_hold_is_seen_by_the_library(fake_cluster):
        fake_cluster.hold = True
        workflow = PipelineOperation("held", [BashTask("a", "true")]).execute()
        assert workflow.refresh().status == "Pending" and not workflow.is_finished()
        fake_cluster.finish(workflow.name, "Failed", message="by the test")
        assert workflow.wait(60).failed()


    class TestWithOptions:
        @pytest.fixture
        def fake_cluster_options(self):
            return {"token": "s3cret", "namespace": "team"}

        def test_token_and_namespace_reach_the_library(self, fake_argo_server):
            assert os.environ["ARGO_TOKEN"] == "Bearer s3cret" and os.environ["ARGO_NAMESPACE"] == "team"
            workflow = run(fake_argo_server)
            assert workflow.raw["metadata"]["namespace"] == "team"
            assert all(request.headers["authorization"] == "Bearer s3cret" for request in fake_argo_server.requests)

        def test_a_bad_token_is_a_clear_error(self, fake_cluster):
            fake_cluster.token = "changed"
            with pytest.raises(argo.WorkflowException) as raised:
                argo.get_workflows()
            assert raised.value.status == 401


    def test_after_the_fixtures():
        assert "KUBECONFIG" not in os.environ and "ARGO_SERVER" not in os.environ
        for port in ports:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=10)
''')


def run_pytest(folder: Path, source: str) -> subprocess.CompletedProcess:
    """Run ``source`` as a test file with pytest in a fresh process, as a user's project would."""
    (folder / "test_user.py").write_text(source)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WORKFLOWS_", "ARGO_", "KAFKA_", "KUBE"))}
    env["WORKFLOWS_HOME"] = str(folder / "home")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def test_fixtures_point_the_library_at_a_fake_cluster_and_clean_up(tmp_path):
    result = run_pytest(tmp_path, USER_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_the_readme_example_passes(tmp_path):
    section = README.read_text().split("## Testing code that runs workflows", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    result = run_pytest(tmp_path, example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


KAFKA_USER_TESTS = textwrap.dedent('''
    import os
    import socket

    import pytest

    from workflows.events import EventClient
    from workflows.testing import KafkaTestBroker

    addresses = []


    def test_the_broker_is_the_events_backend(kafka_broker):
        assert isinstance(kafka_broker, KafkaTestBroker)
        assert os.environ["WORKFLOWS_KAFKA_BOOTSTRAP"] == kafka_broker.bootstrap
        client = EventClient("orders")
        assert client.create_topic() is True
        client.produce({"id": 1, "note": 'a "b"\\nc'})
        assert client.consume_all(timeout=30) == [{"id": 1, "note": 'a "b"\\nc'}]
        assert "orders" in kafka_broker.topics()
        host, port = kafka_broker.bootstrap.rsplit(":", 1)
        addresses.append((host, int(port)))


    def test_after_the_fixture():
        assert "WORKFLOWS_KAFKA_BOOTSTRAP" not in os.environ
        for address in addresses:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(address, timeout=10)
''')


def test_the_kafka_broker_fixture_selects_a_broker_and_stops_it(tmp_path):
    result = run_pytest(tmp_path, KAFKA_USER_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_readme_kafka_example_passes(tmp_path):
    section = README.read_text().split("## Testing code that runs workflows", 1)[1].split("\n## ", 1)[0]
    example = next(block for block in re.findall(r"```python\n(.*?)```", section, re.S) if "kafka_broker" in block)
    result = run_pytest(tmp_path, example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
