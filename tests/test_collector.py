"""collector_paused: the cyclic garbage collector is off inside, restored after (even on errors)."""

from __future__ import annotations

import gc

import pytest

from workflows.collector import collector_paused
from workflows.operations import PipelineOperation
from workflows.tasks import BashTask


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_restored_after(collector_on):
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_left_off_when_the_caller_had_turned_it_off(collector_on):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def collections_during_compile(size: int) -> int:
    """How many collections compiling a pipeline of ``size`` tasks starts, the collector set to run at
    every allocation of a container."""
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    operation = PipelineOperation("p", [BashTask(f"t{i}", "echo") for i in range(size)])
    operation.to_workflow()  # imports done
    thresholds = gc.get_threshold()
    gc.collect()
    gc.callbacks.append(count)
    gc.set_threshold(1)
    try:
        workflow = operation.to_workflow()
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(count)
    assert len(workflow["spec"]["templates"]) > size
    return len(collections)


def test_compile_runs_without_collections_and_restores_the_collector(collector_on):
    # only the few allocations before the pause (the call itself) can start one: none inside the compile
    assert collections_during_compile(10) == collections_during_compile(300) < 20
    assert gc.isenabled()
