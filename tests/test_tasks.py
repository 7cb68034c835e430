"""Tasks: names, images, env, options, and Python functions turned into scripts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import add_application_task
from sample import functions

from workflows.errors import BadOperationConfiguration
from workflows.tasks import BashTask, CommandBasedTask, CustomTask, PythonTask


def run_script(task: PythonTask) -> str:
    """Run the task's script the way its template does (``python`` with the source), return stdout."""
    result = subprocess.run([sys.executable, "-c", task.source], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- PythonTask -------------------------------------------------------------------------------------------------


def test_python_task_runs_the_function_body():
    task = PythonTask("plain", functions.plain)
    assert task.source.startswith("def plain():")
    assert task.source.rstrip().endswith("plain()")
    assert run_script(task) == "plain ran\n"
    template = task.spec()
    assert template["script"]["command"] == ["python"]
    assert template["script"]["source"] == task.source


def test_decorators_are_removed():
    task = PythonTask("decorated", functions.decorated)
    assert "@trace" not in task.source
    assert run_script(task) == "decorated ran\n"


def test_modules_used_through_globals_are_imported():
    task = PythonTask("modules", functions.uses_modules)
    assert "import json\n" in task.source and f"import {functions.osp.__name__} as osp\n" in task.source
    assert run_script(task) == '{"joined": "a/b"}\n'


def test_multiline_strings_keep_their_text():
    assert run_script(PythonTask("strings", functions.has_multiline_string)) == repr("\nfirst\n  second") + "\n"


def test_nested_function_with_a_comment_at_column_zero():
    task = PythonTask("nested", functions.make_nested())
    assert task.source.startswith("def nested():")
    assert run_script(task) == "nested 42\n"


def test_recursive_nested_function_is_accepted():
    assert run_script(PythonTask("countdown", functions.make_recursive())) == "3\n2\n1\n0\n"


def test_function_defined_in_a_test():
    def local_task():
        import platform

        print(platform.system() != "")

    assert run_script(PythonTask("local", local_task)) == "True\n"


@pytest.mark.parametrize(
    "func, message",
    [
        (lambda: None, "lambdas"),
        (functions.make_closure(), "secret"),
        (functions.needs_argument, "requires x"),
        (functions.coroutine, "coroutine"),
        (functions.generator, "generator"),
    ],
)
def test_refused_functions(func, message):
    with pytest.raises(BadOperationConfiguration, match=message) as error:
        PythonTask("refused", func)
    assert "'refused'" in str(error.value)


def test_builtins_and_non_functions_are_type_errors():
    for func in (print, len, "print('x')", functions.plain.__code__):
        with pytest.raises(TypeError, match="plain Python function"):
            PythonTask("refused", func)


def test_function_without_source_is_refused():
    namespace: dict = {}
    exec("def generated():\n    print('x')\n", namespace)
    with pytest.raises(BadOperationConfiguration, match="source is not available"):
        PythonTask("generated", namespace["generated"])


# --- names, env, options ----------------------------------------------------------------------------------------


def test_names_are_normalised():
    assert BashTask("My_Task 1", "echo").name == "my-task-1"


@pytest.mark.parametrize("name", ["", "-bad", "bad-", "ça", "a.b", "x" * 64])
def test_bad_names(name):
    with pytest.raises(BadOperationConfiguration, match="task name"):
        BashTask(name, "echo")


def test_every_other_keyword_is_an_env_variable_converted_with_str():
    task = BashTask("env", "env", COUNT=3, RATIO=0.5, FLAG=True, NAME="x")
    env = task.spec()["script"]["env"]
    assert env[:4] == [
        {"name": "COUNT", "value": "3"},
        {"name": "RATIO", "value": "0.5"},
        {"name": "FLAG", "value": "True"},
        {"name": "NAME", "value": "x"},
    ]
    assert env[-2:] == [{"name": "WORKFLOW_NAME", "value": "{{workflow.name}}"},
                        {"name": "CH_WORKFLOW_NAME", "value": "{{workflow.name}}-pod"}]


def test_invalid_and_reserved_env_names():
    with pytest.raises(BadOperationConfiguration, match="'1ST'"):
        BashTask("env", "env", **{"1ST": "x"})
    with pytest.raises(BadOperationConfiguration, match="WORKFLOW_NAME"):
        BashTask("env", "env", WORKFLOW_NAME="x")


def test_resources_become_strings_and_gpus_are_checked():
    task = CustomTask("gpu", "nvidia/cuda:12.4.0-base-ubuntu22.04",
                      resources={"requests": {"cpu": 0.5, "memory": "512Mi"},
                                 "limits": {"cpu": 2, "memory": "1Gi", "nvidia.com/gpu": 1}})
    assert task.spec()["container"]["resources"] == {
        "requests": {"cpu": "0.5", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": "1"},
    }


@pytest.mark.parametrize(
    "resources, message",
    [
        ({"requests": {"memory": "lots"}}, "requests.memory='lots'"),
        ({"requests": {"cpu": True}}, "requests.cpu=True"),
        ({"limits": {"nvidia.com/gpu": "0.5"}}, "whole number"),
        ({"requests": {"nvidia.com/gpu": 1}}, "in 'limits'"),
        ({"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}, "must equal"),
        ({"request": {"cpu": 1}}, "unknown key 'request'"),
    ],
)
def test_bad_resources(resources, message):
    with pytest.raises(BadOperationConfiguration, match=message):
        BashTask("res", "echo", resources=resources)


def test_retry_limit_is_a_string_and_absent_by_default():
    assert "retryStrategy" not in BashTask("a", "echo").spec()
    assert BashTask("a", "echo", retry_limit=3).spec()["retryStrategy"] == {"limit": 3}
    for bad in (-1, "3", 1.5, True):
        with pytest.raises(BadOperationConfiguration, match="retry_limit"):
            BashTask("a", "echo", retry_limit=bad)


def test_image_pull_policy():
    assert BashTask("a", "echo", image_pull_policy="Always").spec()["script"]["imagePullPolicy"] == "Always"
    assert "imagePullPolicy" not in BashTask("a", "echo").spec()["script"]
    with pytest.raises(BadOperationConfiguration, match="'Sometimes'"):
        BashTask("a", "echo", image_pull_policy="Sometimes")


def test_template_overrides_are_deep_merged_and_copied():
    overrides = {"script": {"resources": {"limits": {"cpu": "1"}}, "workingDir": "/tmp"}, "activeDeadlineSeconds": 60}
    task = BashTask("a", "echo", template_overrides=overrides, resources={"requests": {"cpu": "100m"}})
    template = task.spec()
    assert template["script"]["resources"] == {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}
    assert template["script"]["workingDir"] == "/tmp" and template["activeDeadlineSeconds"] == 60
    assert template["script"]["source"] == "echo"
    overrides["script"]["workingDir"] = "/changed"
    assert task.spec()["script"]["workingDir"] == "/tmp"
    renamed = BashTask("a", "echo", template_overrides={"name": "b"})
    assert renamed.spec()["name"] == "b" and renamed.instance() == {"name": "a", "template": "b"}
    with pytest.raises(BadOperationConfiguration, match="template_overrides name"):
        BashTask("a", "echo", template_overrides={"name": "Not Valid!"})


def test_unknown_option_types():
    with pytest.raises(TypeError, match="volume_mounts"):
        BashTask("a", "echo", volume_mounts=3)
    with pytest.raises(TypeError, match="resources"):
        BashTask("a", "echo", resources=["cpu"])


# --- images -----------------------------------------------------------------------------------------------------


def test_application_image_gets_registry_and_tag(applications, monkeypatch):
    add_application_task(applications, "myapp", "mytask")
    add_application_task(applications, "my-app", "my-task")
    assert CustomTask("x", "myapp-mytask").image_name == "myapp-mytask:latest"
    monkeypatch.setenv("WORKFLOWS_REGISTRY", "registry.example.com/team/")
    monkeypatch.setenv("WORKFLOWS_TAG", "1.2.3")
    assert CustomTask("x", "myapp-mytask").image_name == "registry.example.com/team/myapp-mytask:1.2.3"
    assert CustomTask("x", "my-app-my-task").image_name == "registry.example.com/team/my-app-my-task:1.2.3"


def test_other_images_are_used_verbatim(applications, monkeypatch):
    monkeypatch.setenv("WORKFLOWS_REGISTRY", "registry.example.com")
    for image in ("busybox", "myapp-other", "python:3.12", "ghcr.io/org/tool@sha256:" + "a" * 64):
        assert CustomTask("x", image).image_name == image


def test_builtin_images_resolve_like_applications(applications, monkeypatch):
    monkeypatch.setenv("WORKFLOWS_REGISTRY", "reg")
    assert CustomTask("x", "workflows-notify-queue").image_name == "reg/workflows-notify-queue:latest"


def test_default_image_is_read_when_the_task_is_built(applications, monkeypatch):
    assert BashTask("a", "echo").image_name == "python:3.12-slim"
    monkeypatch.setenv("WORKFLOWS_IMAGE", "debian:12")
    assert BashTask("a", "echo").image_name == "debian:12"
    assert CommandBasedTask("a", ["ls"]).image_name == "debian:12"
    assert PythonTask("a", functions.plain).image_name == "debian:12"


def test_custom_and_command_tasks():
    template = CustomTask("c", "busybox", command=["sh", "-c"], args=["sleep", 1]).spec()
    assert template["container"]["command"] == ["sh", "-c"]
    assert template["container"]["args"] == ["sleep", "1"]
    assert CommandBasedTask("c", ["echo", "hi"]).spec()["container"]["command"] == ["echo", "hi"]
    with pytest.raises(TypeError, match="list of strings"):
        CommandBasedTask("c", "echo hi")
    with pytest.raises(BadOperationConfiguration, match="non-empty"):
        CommandBasedTask("c", [])
    with pytest.raises(BadOperationConfiguration, match="image_name"):
        CustomTask("c", "")
