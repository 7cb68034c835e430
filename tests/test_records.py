"""The engine's records (workflows/engine/records.py): what they keep of dataclasses, and that the pods' zygote
is forked without dataclasses (the runner's own imports: tests/test_package.py)."""

import pickle
import subprocess
import sys

import pytest

from workflows.engine.pod.images import ArgosayPlan
from workflows.engine.pod.process import PodProcess, PodRun
from workflows.engine.pod.sandbox import PodFile, SandboxPlan, VolumeBind
from workflows.engine.records import FrozenRecord, Record


class Pair(Record):
    def __init__(self, left: int, right: list[int] | None = None) -> None:
        self.left = left
        self.right = [] if right is None else right


class Point(FrozenRecord):
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


def test_a_record_shows_its_fields_in_order():
    assert repr(Pair(1, [2])) == "Pair(left=1, right=[2])"
    assert repr(VolumeBind("/data", "/mnt", read_only=True)) == \
        "VolumeBind(host='/data', path='/mnt', read_only=True, tree=None)"


def test_records_are_equal_by_their_fields_and_class():
    assert Pair(1, [2]) == Pair(1, [2])
    assert Pair(1, [2]) != Pair(1, [3])
    assert Point(1, 2) != Pair(1, 2)  # another class: not equal, whatever the fields
    files = [PodFile("/a", text="x")]
    assert SandboxPlan(1 << 20, files=files) == SandboxPlan(1 << 20, files=list(files))


def test_only_frozen_records_are_hashable():
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2
    with pytest.raises(TypeError):
        hash(Pair(1))


def test_replace_makes_a_changed_copy_and_leaves_the_record():
    plan = SandboxPlan(1 << 20, hostname="a")
    copy = plan.replace(hostname="b")
    assert (plan.hostname, copy.hostname, copy.disk_bytes) == ("a", "b", 1 << 20)
    assert copy.volumes is plan.volumes  # a shallow copy, as dataclasses.replace makes


def test_replace_names_a_field_the_record_does_not_have():
    with pytest.raises(TypeError, match="VolumeBind has no field 'mount_path'"):
        VolumeBind("/data", "/mnt").replace(mount_path="/x")


def test_defaults_are_fresh_for_each_record():
    first, second = SandboxPlan(1), SandboxPlan(1)
    first.volumes.append(VolumeBind("/a", "/b"))
    assert second.volumes == []


def test_records_survive_pickling_as_pods_receive_them(tmp_path):
    process = PodProcess({"A": "1"}, "/", tmp_path / "log", source="pass\n", script_path="/s")
    run = PodRun(process, tmp_path, SandboxPlan(1 << 20, [VolumeBind("/a", "/b", tree=5)]))
    received = pickle.loads(pickle.dumps(run))
    assert received.sandbox == run.sandbox
    assert received.process.env == {"A": "1"}
    # What only the runner reads stays out of the message (see PodRun.__getstate__)
    assert not hasattr(received, "node_dir") and not hasattr(received.process, "log_path")
    plan = ArgosayPlan("argoproj/argosay:v2", "v2")
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_the_zygote_is_forked_without_dataclasses_or_inspect():
    """What the runner has imported when it forks the pods' zygote (see workflows/engine/runner.py)."""
    code = ("import sys; import workflows.engine.runner, workflows.engine.pod.zygote; "
            "print(sorted({'dataclasses', 'inspect'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
