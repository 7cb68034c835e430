"""The built-in task images' programs: ``workflows.events.notify`` and ``workflows.events.send_result``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workflows.events import EventClient
from workflows.engine.pod.dockerfile import parse_dockerfile
from workflows.events.aliases import with_cloudharness_names
from workflows.events.notify import build_message, decode_payload

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "applications" / "workflows" / "tasks"


@pytest.fixture(autouse=True)
def no_task_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables a workflow hands the built-in tasks, unset (the caller's shell may hold some)."""
    for variable in ("WORKFLOW_NAME", "CH_WORKFLOW_NAME", "workflow_result", "queue_name", "payload",
                     "WORKFLOWS_PAYLOAD_JSON", "shared_directory"):
        monkeypatch.delenv(variable, raising=False)


def run_module(module: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


# -- notify ----------------------------------------------------------------------------------------


def test_notify_publishes_on_the_workflow_topic_by_default():
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-abc12", workflow_result="Succeeded")
    assert result.returncode == 0, result.stderr
    assert "published" in result.stderr
    assert EventClient("wf-abc12").consume_all(timeout=0) == [
        {"workflow": "wf-abc12", "status": "Succeeded", "payload": None}
    ]


def test_notify_publishes_queue_and_decoded_payload():
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-xyz", workflow_result="Failed",
                        queue_name="my-queue", payload=json.dumps({"id": 7, "tags": ["a"]}, separators=(",", ":")),
                        WORKFLOWS_PAYLOAD_JSON="true")
    assert result.returncode == 0, result.stderr
    assert EventClient("my-queue").consume_all(timeout=0) == [
        {"workflow": "wf-xyz", "status": "Failed", "payload": {"id": 7, "tags": ["a"]}}
    ]
    assert EventClient("wf-xyz").consume_all(timeout=0) == []


@pytest.mark.parametrize(
    "raw, published",
    [(None, None), ("plain text", "plain text"), ("42", "42"), ("true", "true"), ('"quoted"', '"quoted"'),
     ('{"a": 1}', '{"a": 1}'), ("[1, 2]", "[1, 2]"), ("{not json", "{not json"), ("", "")],
)
def test_a_string_payload_stays_the_string_it_is(raw, published):
    assert decode_payload(raw) == published


@pytest.mark.parametrize("raw, published", [('{"a": 1}', {"a": 1}), ("[1, 2]", [1, 2]), ("42", 42), ("null", None)])
def test_a_payload_the_compiler_encoded_as_json_is_decoded(raw, published):
    assert decode_payload(raw, is_json=True) == published


def test_a_payload_flagged_json_that_is_not_json_is_a_clear_error():
    with pytest.raises(ValueError, match="payload is not valid JSON although WORKFLOWS_PAYLOAD_JSON=true"):
        build_message({"WORKFLOW_NAME": "wf-1", "workflow_result": "Failed", "payload": "{bad",
                       "WORKFLOWS_PAYLOAD_JSON": "true"})


@pytest.mark.parametrize("missing", ["WORKFLOW_NAME", "workflow_result"])
def test_notify_without_workflow_name_or_status_fails_clearly(missing):
    env = {"WORKFLOW_NAME": "wf-1", "workflow_result": "Succeeded"}
    del env[missing]
    with pytest.raises(ValueError, match=f"{missing} not set"):
        build_message(env)


def test_notify_process_exits_non_zero_on_incomplete_or_bad_environment():
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-missing")
    assert result.returncode == 2
    assert "workflow_result not set" in result.stderr
    assert EventClient("wf-missing").consume_all(timeout=0) == []
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-1", workflow_result="Error", queue_name="bad queue")
    assert result.returncode == 2
    assert "'bad queue'" in result.stderr


# -- send_result -----------------------------------------------------------------------------------


def test_send_result_publishes_the_top_level_text_files(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "result.txt").write_bytes(b"line 1\r\nline 2\n")
    (shared / "data.json").write_text('{"x": 1}')
    (shared / ".hidden").write_text("h")
    (shared / "unicode.txt").write_text("héllo ✓", encoding="utf-8")
    (shared / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (shared / "big.txt").write_text("x" * (2**20 + 1))
    (shared / "sub").mkdir()
    (shared / "sub" / "inner.txt").write_text("not read")

    result = run_module("workflows.events.send_result", WORKFLOW_NAME="wf-res", shared_directory=str(shared))
    assert result.returncode == 0, result.stderr
    assert re.search(r"ERROR .*blob\.bin.*not UTF-8", result.stderr)
    assert re.search(r"WARNING .*big\.txt.*more than the maximum", result.stderr)
    messages = EventClient("wf-res").consume_all(timeout=0)
    assert messages == [  # one message per file, by name; hidden files and subdirectories are not read
        {"big.txt": "Error: size exceeded"},
        {"data.json": '{"x": 1}'},
        {"result.txt": "line 1\r\nline 2\n"},
        {"unicode.txt": "héllo ✓"},
    ]


def test_send_result_of_an_empty_directory_publishes_nothing(tmp_path):
    result = run_module("workflows.events.send_result", WORKFLOW_NAME="wf-empty", shared_directory=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "holds no file to send" in result.stderr
    assert EventClient("wf-empty").consume_all(timeout=0) == []


def test_send_result_fails_clearly(tmp_path):
    result = run_module("workflows.events.send_result", WORKFLOW_NAME="wf-1")
    assert result.returncode == 2 and "shared_directory not set" in result.stderr
    result = run_module("workflows.events.send_result", WORKFLOW_NAME="wf-1", shared_directory=str(tmp_path / "no"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert EventClient("wf-1").consume_all(timeout=0) == []


def test_notify_falls_back_on_cloudharness_workflow_variable():
    queue, message = build_message({"CH_WORKFLOW_NAME": "wf-abc12-pod", "workflow_result": "Succeeded"})
    assert (queue, message["workflow"]) == ("wf-abc12", "wf-abc12")


# -- images ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("task, module", [("notify-queue", "workflows.events.notify"),
                                          ("send-result-event", "workflows.events.send_result")])
def test_builtin_task_images(task, module):
    """Each image installs this library (pinnable with a build argument) and runs its module."""
    image = parse_dockerfile(TASKS / task / "Dockerfile")
    assert image.base == "python:3.12-slim" and image.has_run_lines
    assert image.cmd == ["python", "-m", module] and image.entrypoint is None
    text = (TASKS / task / "Dockerfile").read_text()
    assert "ARG WORKFLOWS_PACKAGE=harness-workflows" in text
    assert 'RUN pip install --no-cache-dir "${WORKFLOWS_PACKAGE}"' in text


# -- CloudHarness's names ---------------------------------------------------------------------------


def test_notify_reads_cloudharness_variable_names():
    """CloudHarness's exit handler sets workflow_result, queue_name and payload."""
    result = run_module("workflows.events.notify", WORKFLOW_NAME="wf-ch", workflow_result="Failed",
                        queue_name="ch-queue", payload="some text")
    assert result.returncode == 0, result.stderr
    assert EventClient("ch-queue").consume_all(timeout=0) == [
        {"workflow": "wf-ch", "status": "Failed", "payload": "some text"}]


def test_queue_name_none_means_no_queue_and_argv_gives_the_shared_directory():
    assert with_cloudharness_names({"queue_name": "None", "payload": "{}"}) == {"payload": "{}"}
    assert with_cloudharness_names({"queue_name": ""}) == {}
    assert with_cloudharness_names({"queue_name": "q"}) == {"queue_name": "q"}
    assert with_cloudharness_names({}, ["main.py", "/mnt/shared"]) == {"shared_directory": "/mnt/shared"}
    assert with_cloudharness_names({"shared_directory": "/s"}, ["main.py", "/t"]) == {"shared_directory": "/s"}


def test_send_result_takes_the_directory_as_argument_like_cloudharness(tmp_path):
    (tmp_path / "r.txt").write_text("5")
    result = subprocess.run([sys.executable, "-m", "workflows.events.send_result", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "WORKFLOW_NAME": "wf-arg"})
    assert result.returncode == 0, result.stderr
    assert EventClient("wf-arg").consume_all(timeout=0) == [{"r.txt": "5"}]
