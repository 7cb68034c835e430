"""Every example of CloudHarness's workflows documentation page, with only the import changed.

The page is ``docs/applications/development/workflows-api.md`` of CloudHarness
v3.0.0. Its Python blocks are below as written there, in page order, except:

- ``cloudharness.workflows`` is ``workflows`` (the one change switching promises);
- what Python itself refuses is fixed, and marked ``# fixed:`` on the line: a
  missing comma (a SyntaxError), ``import X import Y`` (a SyntaxError, written
  ``from X import Y``), a call without its required task (a TypeError), and the
  ``...`` placeholders the page leaves to the reader (filled with the page's own
  first example, or a real spec);
- blocks after the first use ``operations``/``tasks`` as imported by the first
  block, so each runs after ``from workflows import operations, tasks``.

Each block is compiled (every operation it builds gives a valid spec) and, where
it calls ``execute()`` or the query API, run on the local backend. The page
writes basenames with a trailing dash (``'my-op-'``); until the library accepts
them, each block also runs with the dash dropped, and the as-written variant is
an expected failure marked in ``ch_support.TRAILING_DASH``.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from ch_support import isolate
from conftest import add_application_task

from workflows.errors import BadOperationConfiguration
from workflows.validation import lint_spec

PRELUDE = "from workflows import operations, tasks\n"
EXAMPLES = {
    "parallel-python": '''
from workflows import operations, tasks

def f():
    import time
    time.sleep(2)
    print('whatever')

op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)))
''',
    "custom-task": '''
my_task = tasks.CustomTask('print-file', 'myapp-mytask')
op = operations.SingleTaskOperation('my-op-', my_task)
op.execute()
''',
    "custom-command": '''
my_task = tasks.CustomTask('print-file', 'myapp-mytask', command=["ls", "-la"])
op = operations.SingleTaskOperation('my-op-', my_task)
op.execute()
''',
    "env-parameters": '''
my_task = tasks.CustomTask('print-file', 'myapp-mytask', env_variable1="my variable", env_variable2=1)
op = operations.SingleTaskOperation('my-op-', my_task)
op.execute()
''',
    "shared-directory": '''
shared_directory="myclaim:/opt/shared"
my_task = tasks.CustomTask('print-file', 'myapp-mytask')
op = operations.SingleTaskOperation('my-op-', my_task, shared_directory=shared_directory)
op.execute()
''',
    "shared-directories": '''
shared_directory=["myclaim:/opt/shared:ro", "myclaim2:/opt/shared2"]
my_task = tasks.CustomTask('print-file', 'myapp-mytask')
op = operations.SingleTaskOperation('my-op-', my_task, shared_directory=shared_directory)
op.execute()
''',
    "resources": '''
from workflows import operations, tasks

my_task = tasks.CustomTask('my-gpu', 'myapp-mytask', resources={"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}})
op = operations.PipelineOperation('my-op-gpu-', [my_task])
''',
    "gpu": '''
from workflows import operations, tasks

my_task = tasks.CustomTask('my-gpu', 'myapp-mytask', resources={"limits": {"nvidia.com/gpu": 1}})
op = operations.PipelineOperation('my-op-gpu-', [my_task])
''',
    "pod-context": '''
def f():
  print('whatever')

op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)),
                                      pod_context=operations.PodExecutionContext(key='a', value='b', required=True))
''',
    "pod-contexts": '''
def f():  # fixed: the page reuses f from the block before
  print('whatever')
op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)),
                                      pod_context=(
                                        operations.PodExecutionContext('a', 'b'), 
                                        operations.PodExecutionContext('c', 'd', required=True), 
                                        operations.PodExecutionContext('e', 'f')
                                        ))
''',
    "ttl-default": '''
{
    'secondsAfterCompletion': 60 * 60,
     'secondsAfterSuccess': 60 * 20,
     'secondsAfterFailure': 60 * 120
}
''',
    "ttl-strategy": '''
def f():  # fixed: the '...' below stands for the page's first example
    print('whatever')
ttl_strategy={
    'secondsAfterCompletion': 60 * 60 * 24,
    'secondsAfterSuccess': 60 * 20,
    'secondsAfterFailure': 60 * 120
}
op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)), ttl_strategy=ttl_strategy)  # fixed: ...
''',
    "retry": '''
from workflows import operations, tasks

my_task = tasks.CustomTask('my-task-retry', 'myapp-mytask', retry_limit=2)
op = operations.SingleTaskOperation('my-op-retry-', my_task)
''',
    "notify-on-exit": '''
def f():  # fixed: the '...' below stands for the page's first example
    print('whatever')
import json
on_exit_notify={
    'queue': 'my_queue',
    'payload': json.dumps({'insert': 1})
}
op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)), on_exit_notify=on_exit_notify)  # fixed: ...
''',
    "notify-on-exit-image": '''
def f():  # fixed: the '...' below stands for the page's first example
    print('whatever')
import json
on_exit_notify={
    'queue': 'my_queue',
    'payload': json.dumps({'insert': 1}),  # fixed: missing comma
    'image': "my-image"
}
op = operations.ParallelOperation('test-parallel-op-', (tasks.PythonTask('p1', f), tasks.PythonTask('p2', f)), on_exit_notify=on_exit_notify)  # fixed: ...
''',
}

#: The template_overrides block: an operation without its task (fixed), given an option operations do not have.
TEMPLATE_OVERRIDES = '''
from workflows import operations, tasks

my_task = tasks.CustomTask('my-task-retry', 'myapp-mytask', retry_limit=2)
op = operations.SingleTaskOperation('my-op-retry-', my_task, template_overrides=tasks.V1alpha1Template(  # fixed: my_task
            memoize=True,
        ))
'''

QUERY_EXAMPLES = {
    "list": '''
from workflows.argo import get_workflows, Phase, V1alpha1WorkflowList  # fixed: import ... import
from workflows.argo import V1alpha1Workflow  # fixed: used in an annotation below but never imported (NameError)
workflow_list: V1alpha1WorkflowList = get_workflows(status=Phase.Running, limit=10)
workflows: list[V1alpha1Workflow] = workflow_list.items
''',
    "get": '''
from workflows.argo import get_workflow, Workflow  # fixed: import ... import
wf: Workflow = get_workflow(workflow_name="my-workflow")
raw_workflow = wf.raw
status = wf.status
is_succeeded = wf.succeeded()

pod_names = wf.pod_names
''',
    "submit": '''
from workflows.argo import submit_workflow  # fixed: import ... import
spec: dict=SPEC  # fixed: ...
submitted_workflow = submit_workflow(spec=spec)
''',
    "logs": '''
from workflows.argo import get_workflow_logs_list, get_workflow_logs  # fixed: import ... import
logs_as_list = get_workflow_logs_list(workflow_name="my-workflow")
logs_as_str = get_workflow_logs(workflow_name="my-workflow")
''',
    "delete": '''
from workflows.argo import delete_workflow  # fixed: import ... import
delete_workflow(workflow_name="my-workflow")
''',
}

#: The blocks that submit, and must finish successfully on the local backend.
RUNS = {"custom-task", "custom-command", "env-parameters", "shared-directory", "shared-directories"}
#: The blocks whose operation can run here too (pure Python tasks): run them, as a reader would try.
ALSO_RUN = {"parallel-python", "pod-context", "pod-contexts", "ttl-strategy"}


@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch):
    applications = isolate(tmp_path, monkeypatch)
    add_application_task(applications, "myapp", "mytask")
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")


TRAILING_DASH_BASENAME = re.compile(r"'([a-z0-9][a-z0-9-]*)-'")


def without_trailing_dash(source: str) -> str:
    return TRAILING_DASH_BASENAME.sub(r"'\1'", source)


def run_block(source: str, folder: Path, namespace: dict | None = None) -> dict:
    """Run a block from a file of its own in ``folder`` (PythonTask reads its functions' source from there)."""
    path = folder / f"block_{len(list(folder.glob('block_*.py')))}.py"
    path.write_text(PRELUDE + source)
    return runpy.run_path(str(path), init_globals=namespace or {})


def example_params() -> list:
    params = []
    for name, source in EXAMPLES.items():
        params.append(pytest.param(name, "", id=name))
        if TRAILING_DASH_BASENAME.search(source):
            params.append(pytest.param(name, "-", id=f"{name}-as-written"))
    return params


@pytest.mark.parametrize("name, dash", example_params())
def test_operation_examples(name, dash, tmp_path):
    source = EXAMPLES[name] if dash else without_trailing_dash(EXAMPLES[name])
    namespace = run_block(source, tmp_path)
    op = namespace.get("op")
    if op is None:
        assert name == "ttl-default"
        return
    workflow = op.to_workflow()
    assert lint_spec(workflow) == []
    if name in RUNS or name in ALSO_RUN:
        persisted = op.persisted if name in RUNS else op.execute()
        assert persisted.wait(120).succeeded(), persisted.raw.get("status")


def test_example_details(tmp_path):
    ops = {name: run_block(without_trailing_dash(EXAMPLES[name]), tmp_path)["op"]
           for name in EXAMPLES if name != "ttl-default"}
    env = ops["env-parameters"].to_workflow()["spec"]["templates"][0]["container"]["env"]
    assert {"name": "env_variable1", "value": "my variable"} in env and {"name": "env_variable2", "value": "1"} in env
    mounts = ops["shared-directories"].to_workflow()["spec"]["templates"][0]["container"]["volumeMounts"]
    assert mounts == [{"name": "myclaim", "mountPath": "/opt/shared", "readOnly": True},
                      {"name": "myclaim2", "mountPath": "/opt/shared2"}]
    assert ops["retry"].to_workflow()["spec"]["templates"][0]["retryStrategy"] == {"limit": 2}
    assert ops["ttl-strategy"].ttl_strategy["secondsAfterCompletion"] == 86400
    handler = ops["notify-on-exit-image"].to_workflow()["spec"]["templates"][-1]
    assert handler["name"] == "exit-handler" and handler["container"]["image"] == "my-image"
    assert ops["gpu"].to_workflow()["spec"]["templates"][1]["container"]["resources"]["limits"] == {
        "nvidia.com/gpu": "1"}


def test_the_template_overrides_example_is_refused_with_reasons(tmp_path):
    # CloudHarness swallows the unknown keyword (its operations take **kwargs), so the override silently does
    # nothing; and memoize=True is not an Argo memoize. Both are named here.
    with pytest.raises(TypeError, match="template_overrides"):
        run_block(without_trailing_dash(TEMPLATE_OVERRIDES), tmp_path)
    with pytest.raises(BadOperationConfiguration, match="memoize=True"):
        run_block("tasks.CustomTask('my-task-retry', 'myapp-mytask', template_overrides="
                  "tasks.V1alpha1Template(memoize=True))", tmp_path)


def submit_my_workflow() -> dict:
    from workflows import operations, tasks

    spec = operations.SingleTaskOperation("my", tasks.CommandBasedTask("hello", ["echo", "hello"])).to_workflow()
    named = dict(spec, metadata={"name": "my-workflow"})
    from workflows.argo import submit_workflow

    submit_workflow(named).wait(120)
    return spec


@pytest.mark.parametrize("name", ["list", "get", "submit", "logs", "delete"])
def test_query_examples(name, tmp_path):
    spec = submit_my_workflow()
    namespace = run_block(QUERY_EXAMPLES[name], tmp_path, {"SPEC": spec})
    if name == "get":
        assert namespace["status"] == "Succeeded" and namespace["is_succeeded"] and namespace["pod_names"]
        assert namespace["raw_workflow"]["metadata"]["name"] == "my-workflow"
    elif name == "submit":
        assert namespace["submitted_workflow"].wait(120).succeeded()
    elif name == "logs":
        assert "hello" in namespace["logs_as_str"] and any("hello" in line for line in namespace["logs_as_list"])
    elif name == "delete":
        from workflows.argo import WorkflowNotFound, get_workflow

        with pytest.raises(WorkflowNotFound):
            get_workflow("my-workflow")
