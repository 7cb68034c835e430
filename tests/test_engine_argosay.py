"""Argo's test image ``argoproj/argosay`` (v1, v2) run as a host program by the local engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workflows import argo
from workflows.engine.pod.argosay.commands import dash_echo, sleep_seconds
from workflows.engine.pod.argosay.cowsay import bubble, cowsay
from workflows.engine.pod.images import ArgosayPlan, how_to_run

WAIT = 120


def argosay(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows.engine.pod.argosay", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_echo_prints_and_writes_files(tmp_path):
    assert argosay(cwd=tmp_path).stdout == "hello argo\n"
    assert argosay("echo", cwd=tmp_path).stdout == "hello argo\n"
    assert argosay("echo", "a b", cwd=tmp_path).stdout == "a b\n"
    done = argosay("echo", "written", str(tmp_path / "deep" / "out.txt"), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert (tmp_path / "deep" / "out.txt").read_text() == "written\n"
    # four arguments match none of the script's counts (its "default)" is a literal pattern): nothing happens
    assert argosay("echo", "a", "b", "c", cwd=tmp_path).stdout == ""


def test_cat_assert_contains_exit_and_errors(tmp_path):
    (tmp_path / "f").write_text("one\ntwo words\nthree\n")
    assert argosay("cat", "f", cwd=tmp_path).stdout == "one\ntwo words\nthree\n"
    found = argosay("assert_contains", "f", "wo", cwd=tmp_path)
    assert (found.returncode, found.stdout) == (0, "two words\n")
    assert argosay("assert_contains", "f", "four", cwd=tmp_path).returncode == 1
    assert argosay("assert_contains", "missing", "x", cwd=tmp_path).returncode == 2
    assert argosay("cat", "missing", cwd=tmp_path).returncode == 1
    assert argosay("exit", cwd=tmp_path).returncode == 0
    assert argosay("exit", "3", cwd=tmp_path).returncode == 3
    assert argosay("exit", "x", cwd=tmp_path).returncode == 2
    unset = argosay("cat", cwd=tmp_path)
    assert (unset.returncode, unset.stderr) == (2, "/argosay: 2: parameter not set\n")
    assert argosay("assert_equals", "a", "a", cwd=tmp_path).returncode == 1  # not a command of the script
    assert argosay("sleep", "0.01", cwd=tmp_path).returncode == 0
    assert argosay("sleep", "soon", cwd=tmp_path).returncode == 1


def test_sh_runs_a_script_file(tmp_path):
    (tmp_path / "s.sh").write_text("echo from script; exit 4\n")
    done = argosay("sh", "s.sh", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (4, "from script\n")


def test_echo_is_dashs_and_sleep_is_gnus():
    assert dash_echo(r"a\tb\nc") == "a\tb\nc\n"
    assert dash_echo(r"stop\chere") == "stop"
    assert dash_echo(r"\0101") == "A\n"
    assert dash_echo("-n") == ""
    assert dash_echo("back\\") == "back\\\n"
    assert sleep_seconds(["1d"]) == 86400 and sleep_seconds(["1.5m", "2"]) == 92 and sleep_seconds([".5s"]) == 0.5
    with pytest.raises(ValueError, match="invalid time interval '5x'"):
        sleep_seconds(["5x"])


def test_cowsay_draws_the_bubble():
    assert cowsay(["hello", "world"]).splitlines()[:3] == [" _____________", "< hello world >", " -------------"]
    long = bubble("word " * 12).splitlines()
    assert long[1].startswith("/ ") and long[-2].startswith("\\ ")
    assert all(len(line) == len(long[1]) for line in long[1:-1])


def test_argosay_images_are_host_plans():
    assert how_to_run("argoproj/argosay:v2") == ArgosayPlan("argoproj/argosay:v2", "v2")
    assert how_to_run("docker.io/argoproj/argosay:v1").kind == "host"
    v2 = ArgosayPlan("argoproj/argosay:v2", "v2")
    assert v2.process(None, ["echo", "x"]).argv == [sys.executable, "-m", "workflows.engine.pod.argosay", "echo", "x"]
    assert v2.process(["sh", "-c"], ["cowsay hi"]).argv == ["sh", "-c", "cowsay hi"]
    assert v2.process(["/argosay"], ["echo"]).argv == [sys.executable, "-m", "workflows.engine.pod.argosay", "echo"]
    assert ArgosayPlan("argoproj/argosay:v1", "v1").process().argv == ["cowsay"]


def pod(name: str, image: str, body: dict, outputs: dict | None = None) -> dict:
    template = {"name": name, "container": {"image": image, **body}}
    if outputs:
        template["outputs"] = outputs
    return template


def test_workflows_with_argosay_run_on_the_local_engine():
    templates = [
        {"name": "main", "steps": [
            [{"name": "write", "template": "write"}],
            [{"name": "moo", "template": "moo",
              "arguments": {"parameters": [{"name": "said", "value": "{{steps.write.outputs.parameters.said}}"}]}}],
            [{"name": "check", "template": "check",
              "arguments": {"artifacts": [{"name": "cow", "from": "{{steps.moo.outputs.artifacts.cow}}"}]}}]]},
        pod("write", "argoproj/argosay:v2", {"args": ["echo", "real-value", "/tmp/out.txt"]},
            {"parameters": [{"name": "said", "valueFrom": {"path": "/tmp/out.txt"}}]}),
        {**pod("moo", "argoproj/argosay:v1", {"command": ["sh", "-c"],
                                              "args": ["cowsay {{inputs.parameters.said}} | tee /tmp/cow.txt"]},
               {"artifacts": [{"name": "cow", "path": "/tmp/cow.txt"}]}),
         "inputs": {"parameters": [{"name": "said"}]}},
        {**pod("check", "argoproj/argosay:v2", {"args": ["assert_contains", "/tmp/cow.txt", "< real-value >"]}),
         "inputs": {"artifacts": [{"name": "cow", "path": "/tmp/cow.txt"}]}},
    ]
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "argosay-"},
                "spec": {"entrypoint": "main", "templates": templates}}
    done = argo.submit_workflow(manifest).wait(WAIT)
    assert done.status == "Succeeded", done.get_status_message()
    nodes = {node["displayName"]: node for node in done.raw["status"]["nodes"].values()}
    assert nodes["write"]["outputs"]["parameters"][0]["value"] == "real-value"
    assert nodes["check"]["outputs"]["result"] == "< real-value >"
    failing = {**manifest, "metadata": {"generateName": "argosay-fail-"}, "spec": {"entrypoint": "fail", "templates": [
        pod("fail", "argoproj/argosay:v2", {"args": ["exit", "3"]})]}}
    failed = argo.submit_workflow(failing).wait(WAIT)
    assert failed.status == "Failed"
    assert "exit code 3" in failed.get_status_message()
