"""Recycled trees (:mod:`workflows.engine.pod.recycling`): a pod's tree used again by a later pod of the same
runner only when the first left it as built. Whatever a pod changes in its tree, the pods after it see a tree
as fresh as a newly built one; what a pod changes only in its own namespaces (mounts, hostname, IPC) goes with
it; pods that leave their tree alone do run on recycled trees."""

from __future__ import annotations

import json
import os
import pickle
import re
import secrets
from pathlib import Path

import pytest

from processes import runner_log_at_end
from workflows.engine.pod import zygote as zygote_module
from workflows.engine.pod.recycling import MODIFIED, Template, Watcher, _sizes, _watch_folders, recycle_key
from workflows.operations import ParallelOperation, PipelineOperation
from workflows.tasks import BashTask, CommandBasedTask, PythonTask

WAIT = 120


def fingerprint_then_change():
    """A PythonTask's body: print what the pod's tree shows (as JSON), then change it as ``$CHANGE`` says."""
    import ctypes
    import json
    import os
    import socket
    import stat
    import subprocess

    script = "/argo/staging/script"
    with open(script, encoding="utf-8") as source:
        injected = "injected" in source.read()
    with open("/proc/sysvipc/shm", encoding="utf-8") as segments:
        shared_memory = len(segments.read().splitlines()) - 1
    print(json.dumps({
        "tmp": sorted(os.listdir("/tmp")), "tmp mode": oct(os.stat("/tmp").st_mode & 0o7777),
        "tmp xattrs": os.listxattr("/tmp"), "root writable": os.access("/", os.W_OK),
        "dev size": os.statvfs("/dev").f_blocks, "dev null": stat.S_ISCHR(os.stat("/dev/null").st_mode),
        "usr": os.path.exists("/usr/bin/env"), "script mode": oct(os.stat(script).st_mode & 0o7777),
        "script injected": injected, "shared memory": shared_memory,
        "etc probe": os.path.exists("/etc/" + os.environ["PROBE"]), "hostname": socket.gethostname(),
    }))
    change = os.environ["CHANGE"]
    commands = {"root-ro": "mount -o remount,ro /", "dev-size": "mount -o remount,size=4k /dev",
                "dev-null": "umount /dev/null", "usr": "mount -t tmpfs none /usr", "hostname": "hostname evil"}
    if change in commands:
        subprocess.run(commands[change], shell=True, check=False, capture_output=True)
    elif change == "tmp-file":
        open("/tmp/made-then-removed", "w").close()
        os.remove("/tmp/made-then-removed")
    elif change == "tmp-mode":
        os.chmod("/tmp", 0o700)
    elif change == "tmp-xattr":
        os.setxattr("/tmp", "user.mark", b"1")
    elif change == "script":
        with open(script, "a", encoding="utf-8") as source:
            source.write("\nprint('injected')\n")
    elif change == "script-mode":
        os.chmod(script, 0o777)
    elif change == "shm":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.shmget(0, 4096, 0o1000 | 0o600) < 0:  # IPC_PRIVATE, IPC_CREAT: kept after this process
            raise OSError(ctypes.get_errno(), "shmget")
    elif change == "etc":
        with open("/etc/" + os.environ["PROBE"], "w", encoding="utf-8") as probe:
            probe.write("evil\n")


#: Changes that stay in the pod's own namespaces: its tree stays as built, and is recycled.
IN_OWN_NAMESPACES = ["dev-null", "usr", "hostname", "shm", "script"]
#: Changes to the tree's file systems (even a file made and removed): the tree is torn down, not recycled (where
#: the kernel lets a pod remount them at all).
TO_THE_TREE = ["tmp-file", "tmp-mode", "tmp-xattr", "root-ro", "dev-size", "script-mode", "etc"]


def recycled_pods(home: Path, name: str) -> tuple[int, int]:
    """How many pods ran on recycled trees, of those given to standby leaders, as the runner of ``name`` logged
    at its end (once it ended)."""
    log = runner_log_at_end(home, name, WAIT)
    found = re.search(r"(\d+) of the (\d+) pods given to standby leaders ran on recycled trees", log)
    assert found, log
    return int(found.group(1)), int(found.group(2))


def test_after_any_change_to_a_tree_the_next_pods_see_a_fresh_one(workflows_home):
    """Each pod prints what its tree shows, then changes it; a pipeline's pod runs on the tree of the pod two
    steps before when that one left it as built. Every pod must see what the first saw."""
    probe = f"workflows-recycle-test-{secrets.token_hex(6)}"
    changes = ["none", "none", *[change for pair in zip(IN_OWN_NAMESPACES, TO_THE_TREE) for change in pair],
               *TO_THE_TREE[len(IN_OWN_NAMESPACES):], "none", "none"]
    tasks = [PythonTask(f"p{index}", fingerprint_then_change, CHANGE=change, PROBE=probe)
             for index, change in enumerate(changes)]
    try:
        workflow = PipelineOperation("recycle", tasks).execute().wait(WAIT)
    finally:
        Path("/etc", probe).unlink(missing_ok=True)
    assert workflow.succeeded(), workflow.get_status_message()
    assert not Path("/etc", probe).exists()
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    seen = [json.loads(pods[f"p{index}"]["outputs"]["result"]) for index in range(len(changes))]
    for index, tree in enumerate(seen):
        assert tree.pop("hostname") == pods[f"p{index}"]["id"][:63]
        assert tree == seen[0], f"pod {index} (after {changes[max(index - 2, 0)]!r}) saw {tree}"
    recycled, given = recycled_pods(workflows_home, workflow.name)
    assert given >= len(changes) - 1
    assert recycled >= len(IN_OWN_NAMESPACES), "the trees left as built were not recycled"


def test_parallel_pods_go_to_standby_leaders(workflows_home):
    """Pods that start together queue for standby leaders, one forked for each (on a recycled tree once a pod
    left one as built), rather than building their trees anew in leaders forked for them: before, most did, as
    each found the one standby leader taken by the pod before it."""
    pods = 40
    workflow = ParallelOperation("burst", [CommandBasedTask(f"t{index}", ["true"])
                                           for index in range(pods)]).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert recycled_pods(workflows_home, workflow.name)[1] == pods


def open_descriptors():
    """A PythonTask's body: the descriptors its process holds (the one listing them aside)."""
    import os

    listed = [int(name) for name in os.listdir("/proc/self/fd")]
    print(sorted(fd for fd in listed if os.path.exists(f"/proc/self/fd/{fd}")))


def test_pods_on_recycled_trees_hold_no_descriptor_of_the_engine(workflows_home):
    """Neither the zygote's inotify instance (its watches on the templates) nor a template's descriptors reach a
    pod, whether it built its tree or runs on a recycled one."""
    tasks = [PythonTask(f"fds{index}", open_descriptors) for index in range(5)]
    workflow = PipelineOperation("descriptors", tasks).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    results = [node["outputs"]["result"] for node in workflow.nodes.values() if node["type"] == "Pod"]
    assert results == ["[0, 1, 2]"] * 5
    recycled, _ = recycled_pods(workflows_home, workflow.name)
    assert recycled >= 2


@pytest.mark.parametrize("kinds", [("bash", "command"), ("bash", "python")])
def test_pods_of_alternating_kinds_each_get_a_tree_of_their_own_kind(workflows_home, kinds):
    """Pods whose trees differ (a script file or none, other volumes) alternate: a recycled standby leader made
    for one kind is let go for a pod of the other, which gets a tree of its own."""
    def task(kind: str, index: int):
        if kind == "bash":
            return BashTask(f"t{index}", "echo bash; ls /argo/staging")
        if kind == "command":
            return CommandBasedTask(f"t{index}", ["sh", "-c", "echo command; ls /argo 2>/dev/null | wc -l"])
        return PythonTask(f"t{index}", python_kind)

    tasks = [task(kinds[index % 2], index) for index in range(6)]
    workflow = PipelineOperation("alternating", tasks).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    pods = {node["displayName"]: node for node in workflow.nodes.values() if node["type"] == "Pod"}
    expected = {"bash": "bash\nscript", "command": "command\n0", "python": "python script"}
    assert [pods[f"t{index}"]["outputs"]["result"] for index in range(6)] == \
        [expected[kinds[index % 2]] for index in range(6)]


def python_kind():
    """A PythonTask's body: its kind and what its script's folder holds."""
    import os

    print("python", *os.listdir("/argo/staging"))


def _watched_tree(tmp_path: Path, watcher: Watcher) -> tuple[Path, Template]:
    """A tree of the test's own (a folder, a nested one, a text file) watched as a template's layer is."""
    root = tmp_path / "tree"
    (root / "folder" / "nested").mkdir(parents=True)
    (root / "script").write_text("print('hello')\n")
    # its folder stands for the mount namespace a real template holds
    template = Template(os.open(root, os.O_PATH), [os.open(root, os.O_PATH)], (), {}, {}, {}, ("key",))
    names: dict[str, int] = {}
    _watch_folders(watcher.fd, str(root), 0, template, names)
    template.expected[names[str(root)], b"script"] = MODIFIED
    template.sizes = _sizes(template.file_systems)
    return root, template


CHANGES = {
    "nothing": (lambda root: None, True),
    "the text file written again": (lambda root: (root / "script").write_text("print('other')\n"), True),
    "a folder's times": (lambda root: os.utime(root / "folder", (0, 0)), True),
    "overlayfs's own attribute": (lambda root: os.setxattr(root / "folder", "user.overlay.origin", b""), True),
    "a file made": (lambda root: (root / "folder" / "new").touch(), False),
    "a file made and removed": (lambda root: ((root / "new").touch(), (root / "new").unlink()), False),
    "a folder's mode": (lambda root: (root / "folder" / "nested").chmod(0o700), False),
    "a folder's attribute": (lambda root: os.setxattr(root / "folder", "user.mark", b"1"), False),
    "an escaped overlay attribute": (lambda root: os.setxattr(root, "user.overlay.overlay.x", b"1"), False),
    "the text file's mode": (lambda root: (root / "script").chmod(0o777), False),
    "a folder renamed": (lambda root: (root / "folder").rename(root / "moved"), False),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_watcher_tells_a_tree_as_built_from_a_changed_one(tmp_path, change):
    """The zygote's check, on a tree of the test's own: changes overlayfs or a pod's next leader make, and a
    folder's times, leave it as built; anything else a pod could do to it does not."""
    watcher = Watcher.open()
    assert watcher is not None
    try:
        root, template = _watched_tree(tmp_path, watcher)
        watcher.claim(template, watcher.overflows)
        make, pristine = CHANGES[change]
        make(root)
        assert watcher.pristine(template) is pristine
        template.close()
    finally:
        os.close(watcher.fd)


def test_a_change_seen_before_its_template_came_counts(tmp_path):
    """The leader's note (its template) may come after the zygote read the events of its watches."""
    watcher = Watcher.open()
    assert watcher is not None
    try:
        root, template = _watched_tree(tmp_path, watcher)
        (root / "folder" / "early").touch()
        watcher.read()
        watcher.claim(template, watcher.overflows)
        assert not watcher.pristine(template)
        template.close()
    finally:
        os.close(watcher.fd)


def test_when_the_kernel_drops_events_no_template_watched_then_counts_as_built(tmp_path):
    """More changes than the kernel queues (``max_queued_events``) before the zygote reads them: the templates
    it knew, and the one whose leader watched it before and sent it after, count as changed."""
    watcher = Watcher.open()
    assert watcher is not None
    try:
        root, known = _watched_tree(tmp_path / "known", watcher)
        watcher.claim(known, watcher.overflows)
        _, late = _watched_tree(tmp_path / "late", watcher)
        forked_at = watcher.overflows
        queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
        flood = root / "folder" / "flood"
        with open(flood, "w") as out:  # a write and a change of times, twice an event each time
            for _ in range(queued // 2 + 10):  # (consecutive equal events merge in the queue)
                out.write("x")
                out.flush()
                os.utime(flood)
        watcher.read()
        assert watcher.overflows == forked_at + 1
        watcher.claim(late, forked_at)
        assert not watcher.pristine(known) and not watcher.pristine(late)
        known.close()
        late.close()
    finally:
        os.close(watcher.fd)


def test_pods_whose_outputs_are_collected_from_their_tree_hand_it_on_after(workflows_home):
    """A pod's declared outputs are read from its tree by a collector after it ended (the zygote then checks and
    pools the tree once the collector ended too): with recycled trees in the pipeline, each pod's outputs are
    its own and the runner ends."""
    from workflows import argo

    def step(index: int) -> dict:
        return {"name": f"read{index}", "template": "read",
                "arguments": {"parameters": [{"name": "n", "value": str(index)}]}}

    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "outputs-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": [[step(index)] for index in range(5)]},
                {"name": "read", "inputs": {"parameters": [{"name": "n"}]},
                 "container": {"image": "busybox", "command": ["sh", "-c", "echo {{inputs.parameters.n}}"]},
                 "outputs": {"parameters": [{"name": "hostname", "valueFrom": {"path": "/etc/hostname"}},
                                            {"name": "n", "value": "{{inputs.parameters.n}}"}]}}]}}
    workflow = argo.submit_workflow(spec).wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    pods = [node for node in workflow.nodes.values() if node["type"] == "Pod"]
    host = Path("/etc/hostname").read_text().strip()
    assert sorted(node["outputs"]["result"] for node in pods) == [str(index) for index in range(5)]
    for node in pods:
        values = {parameter["name"]: parameter["value"] for parameter in node["outputs"]["parameters"]}
        assert values == {"hostname": host, "n": node["outputs"]["result"]}
    recycled_pods(workflows_home, workflow.name)  # the runner ended, and logged its count


def test_the_sample_a_standby_rehearses_with_is_received_as_a_pythontask_pod_is():
    """A standby leader unpickles a sample pod while it waits (``_rehearse_receiving``): the sample must stay a
    request ``_receive`` handles, shaped like a plain PythonTask pod's."""
    request = pickle.loads(zygote_module.sample_request())
    assert request.run is not None and request.run.process.code is not None
    assert request.run.sandbox.with_fds({}).volumes == request.run.sandbox.volumes
    assert request.recycle == recycle_key(request.run.sandbox) is not None


def test_a_zygote_pools_and_watches_only_so_many_templates(tmp_path):
    """The zygote keeps at most POOLED_TEMPLATES unused templates (the others are closed, their watches
    removed), and lets a new standby make a template only while fewer than WATCHED_TEMPLATES are held."""
    from workflows.engine.pod.recycling import POOLED_TEMPLATES, WATCHED_TEMPLATES
    from workflows.engine.pod.zygote import _Standby, _Zygote

    zygote = _Zygote.__new__(_Zygote)  # its bookkeeping alone: no socket, no signal handler in this process
    zygote.watcher = Watcher.open()
    assert zygote.watcher is not None
    zygote.templates, zygote.collectors, zygote.leaders, zygote.standbys = [], {}, {}, {}
    try:
        templates = []
        for index in range(POOLED_TEMPLATES + 1):
            _, template = _watched_tree(tmp_path / str(index), zygote.watcher)
            zygote.watcher.claim(template, zygote.watcher.overflows)
            templates.append(template)
            zygote._recycle(template)
        assert zygote.templates == templates[:POOLED_TEMPLATES]
        closed = templates[-1]
        with pytest.raises(OSError):
            os.fstat(closed.file_systems[0])
        assert not any(wd in zygote.watcher.templates for wd in closed.watches)
        for pid in range(WATCHED_TEMPLATES - POOLED_TEMPLATES):
            assert zygote._may_watch()
            zygote.standbys[1000 + pid] = _Standby(pid, None, watching=True)
        assert not zygote._may_watch()
        zygote.templates.pop().close()
        assert zygote._may_watch()
    finally:
        for template in zygote.templates:
            template.close()
        os.close(zygote.watcher.fd)
