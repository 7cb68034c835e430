"""Every local pod runs isolated: hostile tasks against canaries the test creates, outside /tmp and every volume.

The canaries live in a folder of the repository (``.pytest-canaries/``), which
pods see read-only through their overlay: what a task does to them lands in its
own layer (a repository under a folder each pod has of its own, ``/tmp``, puts
them out of the pods' sight: the tests that use them are skipped there). Each
hostile workflow runs through the real engine (its runner is a subprocess of its
own); after it, the canaries must be byte-for-byte unchanged
(content, mode, owner), the test's own sibling process alive, and the pod must
have ended as Argo ends it. No task here names a real host path except new,
randomly named files that the test checks were not created.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflows.engine.pod.limits import probe
from workflows.engine.pod.sandbox import OWN_FOLDERS
from workflows.operations import ParallelOperation, PipelineOperation, SingleTaskOperation
from workflows.tasks import BashTask, PythonTask

ROOT = Path(__file__).resolve().parents[1]
WAIT = 120


@pytest.fixture(autouse=True)
def local_backend(tmp_path, monkeypatch):
    """A fresh state folder (conftest has cleared the caller's configuration) and the local backend."""
    monkeypatch.setenv("WORKFLOWS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("WORKFLOWS_BACKEND", "local")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return tmp_path / "state"


@pytest.fixture(scope="module")
def canaries() -> Iterator[Path]:
    """Where the tests' canaries go: a folder of the repository (see the module's docstring)."""
    if ROOT.parts[1] in OWN_FOLDERS:
        pytest.skip(f"the repository lies under /{ROOT.parts[1]}, which each pod has of its own: canaries there "
                    "would be out of the pods' sight (clone it elsewhere to run this test)")
    folder = ROOT / ".pytest-canaries"
    folder.mkdir(exist_ok=True)
    yield folder
    with contextlib.suppress(OSError):  # another run's canaries still there
        folder.rmdir()


@pytest.fixture
def canary(canaries):
    """A folder of canaries outside /tmp: files, a nested folder, a symbolic link, odd modes."""
    folder = Path(tempfile.mkdtemp(dir=canaries))
    folder.chmod(0o777)  # writable by anyone: only the sandbox protects them
    (folder / "canary.txt").write_text("do not touch\n")
    (folder / "canary.txt").chmod(0o666)
    (folder / "nested").mkdir(mode=0o777)
    (folder / "nested").chmod(0o777)
    (folder / "nested" / "deep.bin").write_bytes(bytes(range(256)))
    (folder / "nested" / "deep.bin").chmod(0o666)
    (folder / "secret.txt").write_text("private\n")
    (folder / "secret.txt").chmod(0o600)
    (folder / "link").symlink_to("canary.txt")
    before = snapshot(folder)
    yield folder
    assert snapshot(folder) == before, "a pod changed the host's canaries"
    shutil.rmtree(folder)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Everything about every entry of ``folder``: type, mode, owner, content or link target."""
    found = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = path.lstat()
        content = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else None
        found[str(path.relative_to(folder))] = (info.st_mode, info.st_uid, info.st_gid, content)
    return found


@pytest.fixture
def sibling():
    """A process of the test's own, which no pod may signal."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield process
    assert process.poll() is None, "a pod killed a process outside itself"
    process.stdin.close()
    process.wait(timeout=30)


def run(task, **options):
    """Run a one-task workflow; return its pod node."""
    workflow = SingleTaskOperation("hostile", task, **options).execute().wait(WAIT)
    return workflow.nodes[workflow.name]


#: Whether the canaries, which the test's user owns, belong to the pods' root: only when the engine does not
#: run as root (as root, the pods' root is an id of its own, to whom the canaries are someone else's files).
POD_OWNS_CANARIES = os.geteuid() != 0


def test_recursive_chown_chmod_and_rm_never_reach_the_host(canary, sibling):
    node = run(BashTask("wreck", 'chown -R 1000:1000 "$CANARY"; chmod -R 000 "$CANARY"; chmod -R 777 "$CANARY"; '
                                 'rm -rf "$CANARY"; test ! -e "$CANARY" && echo wrecked',
                        CANARY=str(canary)))
    if POD_OWNS_CANARIES:  # as root in a container on its own files: every call succeeds, in the pod's layer
        assert node["phase"] == "Succeeded", node.get("message")
        assert node["outputs"]["result"] == "wrecked"
    else:  # someone else's files: the calls fail in the pod, as an unprivileged user's would
        assert node["phase"] == "Failed" and node["message"] == "Error (exit code 1)"


def test_writes_through_symlinks_and_dotdot_never_reach_the_host(canary, sibling, local_backend):
    script = ('ln -s "$CANARY/canary.txt" /mnt/shared/into-canary; echo evil > /mnt/shared/into-canary; '
              'echo evil > "/mnt/shared/../../$CANARY/nested/deep.bin"; ln -sfn / /mnt/shared/root; '
              'echo evil > "/mnt/shared/root/$CANARY/secret.txt"; cat "$CANARY/canary.txt"')
    node = run(BashTask("escape", script, CANARY=str(canary)), shared_directory=True)
    assert node["phase"] == "Succeeded", node.get("message")  # the script ends with cat, which reads fine
    assert node["outputs"]["result"] == ("evil" if POD_OWNS_CANARIES else "do not touch")


def test_writes_under_etc_and_a_remount_stay_in_the_pod(canary, sibling):
    name = f"workflows-sandbox-test-{secrets.token_hex(6)}"
    script = (f'echo evil > /etc/{name}; mount -o remount,rw / ; mount -o remount,rw "$CANARY"; '
              'echo evil > "$CANARY/canary.txt"; mount -t tmpfs none "$CANARY"; echo evil > "$CANARY/canary.txt"; '
              'echo done')
    try:
        node = run(BashTask("etc", script, CANARY=str(canary)))
        assert node["phase"] == "Succeeded", node.get("message")
        assert node["outputs"]["result"] == "done"
        assert not Path("/etc", name).exists()
    finally:
        Path("/etc", name).unlink(missing_ok=True)


def _sandbox_works() -> bool:
    """A harmless probe: the pod's main process is PID 1 of a PID namespace of its own."""
    node = run(BashTask("probe", "echo $$; ls /proc | grep -c '^[0-9]'"))
    lines = (node.get("outputs") or {}).get("result", "").split()
    return node["phase"] == "Succeeded" and lines[0] == "1" and int(lines[1]) < 10


def test_kill_everything_kills_only_the_pods_processes(canary, sibling):
    assert _sandbox_works(), "the sandbox probe failed: not running the hostile kill"
    node = run(BashTask("killall", "sleep 1000 & kill -9 -1; echo survived"))
    assert node["phase"] == "Succeeded", node.get("message")  # kill(-1) spares its caller, as in a container
    assert node["outputs"]["result"] == "survived"


def test_pods_of_one_runner_cannot_see_or_signal_each_other(sibling):
    # Both pods come from the same runner's zygote and share its user namespace (see engine/pod/zygote.py):
    # the attacker waits until the victim runs, kills everything it can, and looks for the victim's process.
    digits = f"{secrets.randbelow(10**9):09d}"
    token, pattern = f"1000.{digits}", f"1000[.]{digits}"  # the pattern does not match its own command line
    victim = BashTask("victim", f"sleep {token} & touch /mnt/shared/started; "
                                "while [ ! -e /mnt/shared/attacked ]; do sleep 0.05; done; "
                                f"mine=$(grep -l '{pattern}' /proc/[0-9]*/cmdline 2>/dev/null | wc -l); "
                                "kill $!; echo alive $mine")
    attacker = BashTask("attacker", "while [ ! -e /mnt/shared/started ]; do sleep 0.05; done; "
                                    f"seen=$(grep -l '{pattern}' /proc/[0-9]*/cmdline 2>/dev/null | wc -l); "
                                    "kill -9 -1; touch /mnt/shared/attacked; echo $seen")
    assert _sandbox_works(), "the sandbox probe failed: not running the hostile kill"
    workflow = ParallelOperation("neighbours", [victim, attacker], shared_directory=True).execute().wait(WAIT)
    nodes = {node["displayName"]: node for node in workflow.nodes.values()}
    assert nodes["victim"]["phase"] == "Succeeded", nodes["victim"].get("message")
    assert nodes["victim"]["outputs"]["result"] == "alive 1"  # its sleep survived, and the search finds it
    assert nodes["attacker"]["phase"] == "Succeeded", nodes["attacker"].get("message")
    assert nodes["attacker"]["outputs"]["result"] == "0"  # the victim's processes are not even visible


def test_pods_have_no_kernel_keyrings():
    # A user's keyrings belong to its user namespace and id, which the pods of one runner share: refused.
    script = ("import ctypes, errno, platform; number = {'x86_64': 250, 'aarch64': 219}[platform.machine()]; "
              "result = ctypes.CDLL(None, use_errno=True).syscall(number, 0, -3, 0, 0, 0); "  # get @u's id
              "print(result, errno.errorcode[ctypes.get_errno()])")
    node = run(BashTask("keys", f'python3 -c "{script}"'))
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["result"] == "-1 ENOSYS"


ORPHAN_PROBE = Path(__file__).resolve().parent / "orphan_probe.py"


def orphans_left(script: str, leftover: list[str], python: bool = False) -> dict:
    """Run ``script`` (Bash, or Python in a PythonTask) as a one-task workflow from a process of its own, which
    adopts every orphan the engine's processes leave (a child subreaper; see ``tests/orphan_probe.py``); return
    the pod node's phase, message and result, and ``left``: the processes of that tree still running the command
    line ``leftover`` after the pod ended (killed by the probe once counted)."""
    probe = subprocess.run([sys.executable, str(ORPHAN_PROBE), *(["--python"] if python else []), script, *leftover],
                           capture_output=True, text=True, timeout=4 * WAIT)
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout)


#: Three ways out of a pod: a double fork, ``nohup`` and a session of its own (awaited: its ``setsid`` is done
#: before the pod's main process ends, so that the unisolated run below cannot kill it first with its group).
ESCAPES = ("(sleep {token} &); nohup sleep {token} & coproc setsid sh -c 'echo up; exec sleep {token}'; "
           'read -r -u "${{COPROC[0]}}" up; echo left')


def test_no_process_outlives_its_pods_main_process(sibling):
    token = f"1000.{secrets.randbelow(10**9):09d}"  # a unique sleep duration, to know the processes again
    found = orphans_left(ESCAPES.format(token=token), ["sleep", token])
    assert found["phase"] == "Succeeded", found["message"]
    assert found["result"] == "left"
    assert found["left"] == []


#: The escapes above from a PythonTask, whose script ends while they run (the script runs in its pod's PID 1:
#: see ``workflows.engine.pod.process.lead_pod``).
PYTHON_ESCAPES = "import subprocess; subprocess.run(['bash', '-c', {escapes!r}], check=True)"


def test_no_process_outlives_its_python_tasks_script(sibling):
    token = f"1000.{secrets.randbelow(10**9):09d}"
    found = orphans_left(PYTHON_ESCAPES.format(escapes=ESCAPES.format(token=token)), ["sleep", token], python=True)
    assert found["phase"] == "Succeeded", found["message"]
    assert found["result"] == "left"
    assert found["left"] == []


def test_the_orphan_probe_sees_what_outlives_an_unisolated_pod(monkeypatch):
    """The check above can fail: without the sandbox (the opt-out), the sleep in a session of its own outlives
    its pod (the engine kills the pod's process group only), and the probe finds it in its own tree (then kills
    it)."""
    monkeypatch.setenv("WORKFLOWS_ISOLATION", "none")
    token = f"1000.{secrets.randbelow(10**9):09d}"
    found = orphans_left(ESCAPES.format(token=token), ["sleep", token])
    assert found["phase"] == "Succeeded", found["message"]
    assert found["result"] == "left"
    assert len(found["left"]) >= 1


def test_a_task_filling_its_tmp_fills_only_its_own_layer(sibling):
    task = BashTask("fill", "dd if=/dev/zero of=/tmp/fill bs=1M count=64",
                    resources={"limits": {"ephemeral-storage": "8Mi"}})
    node = run(task)
    assert node["phase"] == "Failed" and node["message"] == "Error (exit code 1)"


@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user the host refuses these anyway")
def test_root_in_a_pod_is_not_host_root_for_devices_and_kernel_settings(sibling):
    node = run(BashTask("root", "echo 1 > /proc/sys/vm/drop_caches; echo $?; "
                                "head -c1 /dev/vda >/dev/null 2>&1; echo $?; ls /dev"))
    codes = node["outputs"]["result"].splitlines()
    assert codes[0] != "0" and codes[1] != "0"
    assert "vda" not in codes[2:] and "sda" not in codes[2:]


def test_outputs_are_read_with_the_pods_privileges(local_backend):
    """Root in the pod reads what it owns despite its mode, as root in a container does, and the engine gets
    the copy, whoever runs it (an ordinary user's engine is that owner, without the pod's privileges)."""
    task = BashTask("out", "mkdir -p /out/private; echo x > /out/private/f; chmod 000 /out/private; "
                           "echo done", template_overrides={
                               "outputs": {"artifacts": [{"name": "o", "path": "/out"}]}})
    node = run(task)
    assert node["phase"] == "Succeeded", node.get("message")
    stored = Path(node["outputs"]["artifacts"][0]["path"])
    assert (stored / "private" / "f").read_text() == "x\n"


@pytest.mark.skipif(not os.path.exists("/etc/shadow") or os.access("/etc/shadow", os.R_OK) and os.geteuid() != 0,
                    reason="no /etc/shadow that root alone may read")
def test_an_output_the_pod_may_not_read_fails_its_node_and_is_not_copied(local_backend):
    """The host's /etc/shadow, which root in a container would not see: the node fails with the reason, and
    the runner, even as root, does not copy it."""
    node = run(BashTask("shadow", "echo done", template_overrides={
        "outputs": {"artifacts": [{"name": "o", "path": "/etc/shadow"}]}}))
    assert node["phase"] == "Error" and "cannot read /etc/shadow" in node["message"], node.get("message")
    assert not list(local_backend.glob("workflows/*/artifacts/**/o"))


def test_pipeline_volumes_work_at_their_real_mount_paths(local_backend):
    op = PipelineOperation("share", [
        BashTask("write", 'd=/mnt/$(echo sha)red; echo built > "$d/built.txt"; grep -c " /mnt/shared " /proc/mounts'),
        BashTask("read", "cat /mnt/shared/built.txt"),
    ], shared_directory=True)
    workflow = op.execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    nodes = {node["displayName"]: node for node in workflow.nodes.values()}
    assert nodes["write"]["outputs"]["result"] == "1"  # the mount table shows the volume
    assert nodes["read"]["outputs"]["result"] == "built"
    volume = local_backend / "workflows" / workflow.name / "volumes" / "mnt-shared" / "built.txt"
    assert volume.stat().st_uid == os.geteuid()  # files on volumes belong to the engine's user


def test_a_pod_reaches_the_events_folder_and_nothing_else_of_the_state(local_backend):
    """The events folder stands for a cluster's network (``notify_queue`` works from any pod); the engine's
    database, logs and other workflows stay out of sight."""
    script = ('for entry in engine.sqlite workflows events; do '
              'if [ -e "$home/$entry" ]; then echo "$entry seen"; else echo "$entry hidden"; fi; done')
    node = run(BashTask("look", script, home=str(local_backend)))
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["result"].split("\n") == ["engine.sqlite hidden", "workflows hidden", "events seen"]


@pytest.fixture
def private_folders(canaries):
    """Two folders outside /tmp only the test's user may enter (mode 0700), each holding a secret: when the
    engine runs as root, the pods' root is someone else there."""
    folders = [Path(tempfile.mkdtemp(dir=canaries)) for _ in range(2)]
    for folder in folders:
        (folder / "secret.txt").write_text("private\n")
    yield folders
    for folder in folders:
        shutil.rmtree(folder)


def test_a_state_folder_and_an_artifact_path_inside_folders_pods_may_not_enter(private_folders, monkeypatch):
    """The events folder is bound at its real path, and an input artifact written at the path its template
    names, each through a folder closed to the pod's root: that folder is an empty one of the pod's own
    there, as the host's closed top-level folders are, and its secret stays out of sight."""
    from workflows import argo

    home, elsewhere = private_folders
    monkeypatch.setenv("WORKFLOWS_HOME", str(home / "state"))
    artifact = elsewhere / "inputs" / "message.txt"
    spec = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "closed-"},
            "spec": {"entrypoint": "main", "templates": [{
                "name": "main",
                "inputs": {"artifacts": [{"name": "message", "path": str(artifact), "raw": {"data": "hello"}}]},
                "container": {"image": "alpine:3.20", "command": ["sh", "-c"],
                              "args": [f'cat {artifact}; echo; ls {home} {elsewhere}; ls "$WORKFLOWS_HOME"'],
                              "env": [{"name": "WORKFLOWS_HOME", "value": str(home / "state")}]}}]}}
    workflow = argo.submit_workflow(spec).wait(WAIT)
    node = workflow.nodes[workflow.name]
    assert node["phase"] == "Succeeded", node.get("message")
    printed = node["outputs"]["result"].split("\n")
    assert printed[0] == "hello"
    assert ("secret.txt" in printed) is (os.geteuid() != 0)  # as root, the pods' root may not read them
    assert "events" in printed


def test_state_is_private_to_the_engines_user(local_backend):
    """Folders 0700 and files 0600, as kubectl keeps its config; what pods write inside is theirs."""
    op = PipelineOperation("private", [BashTask("hi", "echo hi > /mnt/shared/hi")], shared_directory=True)
    workflow = op.execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert local_backend.stat().st_mode & 0o777 == 0o700
    pods_own = [local_backend / "workflows" / workflow.name / "volumes", *local_backend.glob("workflows/*/nodes/*/pod")]
    for path in local_backend.rglob("*"):
        if path.is_symlink() or any(path.is_relative_to(folder) and path != folder for folder in pods_own):
            continue
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"


REFUSING_SITECUSTOMIZE = '''
import ctypes
import errno
import os
from workflows.engine.pod import syscalls

REFUSED = int(os.environ.get("REFUSED_UNSHARE_FLAGS", "-1"))


class RefusingLibc:
    """The C library, except that unshare(2) of the namespaces in REFUSED_UNSHARE_FLAGS (all by default) fails
    as with user.max_user_namespaces=0."""

    def __init__(self, libc):
        self.libc = libc

    def unshare(self, flags):
        if flags & REFUSED:
            ctypes.set_errno(errno.ENOSPC)
            return -1
        return self.libc.unshare(flags)

    def __getattr__(self, name):
        return getattr(self.libc, name)

_real = syscalls._libc()
syscalls._libc = lambda: RefusingLibc(_real)
'''


@pytest.mark.parametrize("refused", ["every namespace", "PID namespaces"])
def test_a_refused_sandbox_fails_the_node_with_what_to_enable(tmp_path, monkeypatch, canary, refused):
    """The kernel's refusal is simulated at the system call, in the runner and the zygote's launcher (real
    subprocesses): of every namespace (the runner's first), or of PID namespaces only (the launcher's)."""
    from workflows.engine.pod.syscalls import CLONE_NEWPID

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REFUSING_SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(ROOT)]))
    if refused == "PID namespaces":
        monkeypatch.setenv("REFUSED_UNSHARE_FLAGS", str(CLONE_NEWPID))
    node = run(BashTask("refused", 'rm -rf "$CANARY"', CANARY=str(canary)))
    assert node["phase"] == "Error"
    assert "kernel.unprivileged_userns_clone" in node["message"] and "user.max_user_namespaces" in node["message"]
    assert "WORKFLOWS_CONTAINER_RUNTIME" in node["message"]
    assert node["message"].startswith("the kernel refused the pod's sandbox")  # the message alone, no errno


def isolation_report():
    import os

    print(os.getpid() > 2)


def test_the_opt_out_runs_on_the_host_and_says_so(monkeypatch, local_backend):
    monkeypatch.setenv("WORKFLOWS_ISOLATION", "none")
    workflow = SingleTaskOperation("optout", PythonTask("where", isolation_report)).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    assert workflow.nodes[workflow.name]["outputs"]["result"] == "True"  # not PID 2 of a pod's namespace
    runner_log = (local_backend / "workflows" / workflow.name / "runner.log").read_text()
    assert "WORKFLOWS_ISOLATION=none: pods run UNISOLATED" in runner_log


def test_python_tasks_run_in_the_sandbox_too(canary, sibling):
    node = run(PythonTask("py", python_wreck, CANARY=str(canary)))
    assert node["phase"] == "Succeeded", node.get("message")
    assert json.loads(node["outputs"]["result"]) == {"pid": 1, "gone": POD_OWNS_CANARIES}


def test_a_working_directory_the_tree_lacks_is_made_in_the_pods_own_layer(sibling):
    """As a container runtime makes it: the pod runs there, and the host never gets the folder."""
    missing = f"/workflows-test-{secrets.token_hex(8)}/src"
    workflow = ParallelOperation("workdir", [
        BashTask("container", "pwd", template_overrides={"script": {"workingDir": missing}}),
        PythonTask("python", print_working_directory, template_overrides={"script": {"workingDir": missing}}),
    ]).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    pods = {node["displayName"]: node["outputs"]["result"] for node in workflow.nodes.values()
            if node["type"] == "Pod"}
    assert pods == {"container": missing, "python": missing}
    assert not os.path.exists(os.path.dirname(missing))


def test_an_unisolated_pod_never_makes_its_working_directory_on_the_host(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_ISOLATION", "none")
    missing = f"/workflows-test-{secrets.token_hex(8)}/src"
    node = run(BashTask("pwd", "pwd", template_overrides={"script": {"workingDir": missing}}))
    assert node["phase"] == "Failed"
    assert not os.path.exists(os.path.dirname(missing))


def print_working_directory():
    import os

    print(os.getcwd())


def python_wreck():
    import json
    import os
    import shutil

    shutil.rmtree(os.environ["CANARY"], ignore_errors=True)
    print(json.dumps({"pid": os.getpid(), "gone": not os.path.exists(os.environ["CANARY"])}))


@pytest.mark.skipif(probe() == "rlimit", reason="no delegable cgroup: memory is bounded by RLIMIT_AS, no OOM kill")
def test_a_pod_over_its_memory_limit_is_oom_killed_as_in_argo(sibling):
    node = run(BashTask("hog", "python3 -c 'b = bytearray(256 * 2**20); print(len(b))'",
                        resources={"limits": {"memory": "32Mi"}}))
    assert node["phase"] == "Failed" and node["message"] == "OOMKilled (exit code 137)"
    assert node["outputs"]["exitCode"] == "137"


def spin_and_report_throttling():
    import time

    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        pass
    groups = [line.split(":", 2) for line in open("/proc/self/cgroup").read().splitlines()]
    for _, names, path in groups:
        if "cpu" in names.split(",") or names == "":
            for root in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup"):
                try:
                    stats = dict(line.split() for line in open(root + path + "/cpu.stat"))
                except OSError:
                    continue
                if "nr_throttled" in stats:
                    print(int(stats["nr_throttled"]) > 0)
                    return


@pytest.mark.skipif(probe() == "rlimit", reason="no delegable cgroup: CPU limits are not enforced")
def test_a_pod_over_its_cpu_limit_is_throttled(sibling):
    node = run(PythonTask("spin", spin_and_report_throttling, resources={"limits": {"cpu": "100m"}}))
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["result"] == "True"


def test_the_folder_the_runner_started_in_is_not_bound_into_pods(tmp_path, monkeypatch):
    """``python -m`` puts the runner's working directory on ``sys.path``; under ``/tmp`` (which a pod's own
    ``/tmp`` covers) it was bound into every pod as one of the engine's folders, with whatever it held — the
    engine's state, when ``WORKFLOWS_HOME`` lay there — so that ``chown -R /tmp`` failed in the pod."""
    (tmp_path / "marker").write_text("the caller's file")
    monkeypatch.chdir(tmp_path)
    node = run(BashTask("cwd", f"test -e {tmp_path}/marker && echo visible || echo hidden; "
                               "chown -R 1000:1000 /tmp && echo chowned"))
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["result"] == "hidden\nchowned"


def test_sys_is_read_only_and_holds_the_hosts_cgroups_only_for_a_pod_with_limits():
    """As root, the engine gives a pod ``/sys`` without the host's mounts below it (a dozen on a cgroup v1
    host), but for a pod with a cgroup of its own, which reads its limits there; elsewhere /sys comes whole."""
    script = "touch /sys/kernel/probe 2>/dev/null; echo $?; awk '$5 ~ \"^/sys/\"' /proc/self/mountinfo | wc -l"
    plain = run(BashTask("plain", script))
    limited = run(BashTask("limited", script, resources={"limits": {"memory": "64Mi"}}))
    (plain_code, plain_below), (limited_code, limited_below) = (
        node["outputs"]["result"].split() for node in (plain, limited))
    assert plain_code != "0" and limited_code != "0"  # read-only
    host_below = sum(1 for line in Path("/proc/self/mountinfo").read_text().splitlines()
                     if line.split()[4].startswith("/sys/fs/cgroup"))
    if os.geteuid() == 0:
        assert plain_below == "0"
        assert int(limited_below) == (host_below if probe() != "rlimit" else 0)
    else:
        assert int(plain_below) >= host_below


def application(root: Path, name: str, dockerfile: str, files: dict[str, str]) -> None:
    """``<root>/<app>/tasks/<task>/`` with its Dockerfile and files (``name`` is ``<app>-<task>``)."""
    app, task = name.split("-", 1)
    context = root / app / "tasks" / task
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(dockerfile)
    for file_name, text in files.items():
        (context / file_name).write_text(text)


EXTRACT_DOWNLOAD = """\
ARG CLOUDHARNESS_BASE
FROM $CLOUDHARNESS_BASE
ENV shared_directory /tmp
COPY download.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/download.sh
RUN pip install --no-cache-dir harness-workflows
CMD ["/usr/local/bin/download.sh"]
"""
DOWNLOAD_SH = """\
#!/bin/sh
set -e
download_path="$shared_directory/downloads"
mkdir -p "$download_path"
echo payload > "$download_path/file.txt"
chown -R 1000:1000 "${download_path}"
cat "$download_path/file.txt"
"""


def test_an_extract_download_style_image_runs_from_its_dockerfile(tmp_path, monkeypatch):
    """CloudHarness's extract-download: a script made executable by RUN, ENV shared_directory=/tmp,
    chown -R under set -e; its /tmp is the pod's own."""
    from workflows.tasks import CustomTask

    application(tmp_path / "applications", "samples-download", EXTRACT_DOWNLOAD, {"download.sh": DOWNLOAD_SH})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    first = run(CustomTask("download", "samples-download"))
    assert first["phase"] == "Succeeded", first.get("message")
    assert first["outputs"]["result"] == "payload"
    second = run(CustomTask("download", "samples-download"))  # the layer is built once per build context
    assert second["phase"] == "Succeeded", second.get("message")
    assert len(_layers()) == 1


def test_an_image_copies_into_a_host_folder_the_pods_root_may_not_write(tmp_path, monkeypatch, canaries):
    """``COPY`` into a host folder someone else owns (``/usr/local/bin`` for an ordinary user; here a folder of
    the test's user, mode 0755, which a root engine's pods do not own): the folder gets an overlay of the
    pod's own, the file is there in the pod, and never on the host."""
    from workflows.tasks import CustomTask

    folder = Path(tempfile.mkdtemp(dir=canaries))
    folder.chmod(0o755)
    (folder / "kept.txt").write_text("the host's\n")
    dockerfile = f'FROM busybox\nCOPY message.txt {folder}/\nCMD ["cat", "{folder}/message.txt", "{folder}/kept.txt"]\n'
    application(tmp_path / "applications", "samples-copy", dockerfile, {"message.txt": "copied\n"})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    try:
        node = run(CustomTask("copy", "samples-copy"))
        assert node["phase"] == "Succeeded", node.get("message")
        assert node["outputs"]["result"] == "copied\nthe host's"
        assert sorted(path.name for path in folder.iterdir()) == ["kept.txt"]
    finally:
        shutil.rmtree(folder)


def _layers() -> list[Path]:
    """The image layers under the test's ``WORKFLOWS_HOME`` (their lock and Dockerfile files aside)."""
    return [path for path in (Path(os.environ["WORKFLOWS_HOME"]) / "images").iterdir() if path.is_dir()]


LAYERED = 'FROM python:3.12-slim\nCOPY message.txt /opt/app/\nRUN cp /opt/app/message.txt /opt/app/built.txt\n' \
          'CMD ["cat", "/opt/app/built.txt"]\n'


def test_a_new_layer_of_a_dockerfile_removes_its_older_layers(tmp_path, monkeypatch):
    from workflows.tasks import CustomTask

    application(tmp_path / "applications", "samples-layered", LAYERED, {"message.txt": "first"})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    assert run(CustomTask("show", "samples-layered"))["outputs"]["result"] == "first"
    (old,) = _layers()
    (tmp_path / "applications" / "samples" / "tasks" / "layered" / "message.txt").write_text("second")
    assert run(CustomTask("show", "samples-layered"))["outputs"]["result"] == "second"
    (new,) = _layers()
    assert new != old and not old.exists()
    assert sorted(path.name for path in new.parent.iterdir()) == sorted(
        [new.name, f"{new.name}.image", f"{new.name}.lock"])


def test_workflows_started_together_on_a_new_image_all_run(tmp_path, monkeypatch):
    """Each workflow's runner builds a new image's layer (builds are serialized only within a runner): the
    first to finish places it, and the others, which built the same content, use it. Before, they failed with
    ``Directory not empty`` (a service's first operations, each with CloudHarness's exit notification, did)."""
    from workflows.tasks import CustomTask

    slow = LAYERED.replace("RUN cp", "RUN sleep 1 && cp")  # the runners' builds overlap
    application(tmp_path / "applications", "samples-layered", slow, {"message.txt": "together"})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    submitted = [SingleTaskOperation("together", CustomTask("show", "samples-layered")).submit() for _ in range(4)]
    for workflow in submitted:
        ended = workflow.wait(WAIT)
        assert ended.succeeded(), ended.get_status_message()
        assert ended.nodes[ended.name]["outputs"]["result"] == "together"
    assert len(_layers()) == 1
    assert not [path for path in _layers()[0].parent.iterdir() if ".build-" in path.name]


def test_a_layer_the_state_folder_refuses_fails_the_node_not_the_runner(tmp_path, monkeypatch, local_backend):
    from workflows.tasks import CustomTask

    application(tmp_path / "applications", "samples-layered", LAYERED, {"message.txt": "refused"})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    local_backend.mkdir(parents=True)
    (local_backend / "images").write_text("not a folder")  # where the layers go
    node = run(CustomTask("show", "samples-layered"))
    assert node["phase"] == "Error"
    assert node["message"].startswith("cannot build the layer of image 'samples-layered")
    assert "File exists" in node["message"]


def test_a_layer_a_pod_runs_on_is_kept_until_a_later_build(tmp_path, monkeypatch):
    import fcntl

    from workflows.tasks import CustomTask

    application(tmp_path / "applications", "samples-layered", LAYERED, {"message.txt": "first"})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    message = tmp_path / "applications" / "samples" / "tasks" / "layered" / "message.txt"
    assert run(CustomTask("show", "samples-layered"))["outputs"]["result"] == "first"
    (old,) = _layers()
    with open(old.parent / f"{old.name}.lock") as held:  # as a pod running on the old layer holds it
        fcntl.flock(held, fcntl.LOCK_SH)
        message.write_text("second")
        assert run(CustomTask("show", "samples-layered"))["outputs"]["result"] == "second"
        assert old.is_dir() and len(_layers()) == 2
    message.write_text("third")  # the next build removes both older layers, no pod holding them
    assert run(CustomTask("show", "samples-layered"))["outputs"]["result"] == "third"
    (newest,) = _layers()
    assert newest != old


def test_a_failing_run_line_fails_the_node_with_the_build_log(tmp_path, monkeypatch):
    from workflows.tasks import CustomTask

    dockerfile = 'FROM python:3.12-slim\nRUN echo preparing && exit 3\nCMD ["true"]\n'
    application(tmp_path / "applications", "samples-broken", dockerfile, {})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    node = run(CustomTask("broken", "samples-broken"))
    assert node["phase"] == "Error"
    assert "building image 'samples-broken:latest'" in node["message"] and "exit code 3" in node["message"]
    assert "RUN echo preparing && exit 3\npreparing" in node["message"]  # the build log


def test_limits_read_kubernetes_quantities():
    from workflows.engine.pod.limits import Limits

    assert Limits.of({"resources": {"limits": {"memory": "5M", "cpu": "500m"}}}) == Limits(5_000_000, 0.5)
    assert Limits.of({"resources": {"limits": {"memory": "64Mi", "cpu": 2}}}) == Limits(64 * 2**20, 2.0)
    assert Limits.of({}) == Limits()
    with pytest.raises(ValueError, match="resources.limits.memory='lots'"):
        Limits.of({"resources": {"limits": {"memory": "lots"}}})


def test_the_build_script_replays_each_run_line_in_its_place_and_skips_installing_this_library(tmp_path):
    from workflows.engine.pod.build import build_script
    from workflows.engine.pod.dockerfile import RunStep

    app, root = tmp_path / "app", tmp_path / "root"
    root.mkdir()
    steps = (RunStep(("/bin/sh", "-c", "pip install --no-cache-dir harness-workflows"), (), str(root)),
             RunStep(("/bin/sh", "-c", 'echo "$A" > out'), (("A", "1 2"),), str(app)),
             RunStep(("touch", "it's"), (), str(root)))
    script = build_script(steps)
    assert "pip install --no-cache-dir harness-workflows: satisfied by the engine" in script
    assert "\npip" not in script and "env -i  pip" not in script
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert (app / "out").read_text() == "1 2\n" and (root / "it's").exists()
    failing = build_script((RunStep(("/bin/sh", "-c", "exit 3"), (), str(root)), steps[2]))
    assert subprocess.run(["sh", "-c", failing], capture_output=True).returncode == 3


FAKE_DOCKER = """\
#!{python}
# A stand-in for docker: answers `info`; for `run`, records its argv and plays the container's part for the
# mounts it was given: writes the output file mounted at /out/result.txt and a file on the shared volume.
import json, sys
args = sys.argv[1:]
if args[0] == "info":
    sys.exit(0)
with open({record!r}, "w") as out:
    json.dump(args, out)
mounts = dict(args[i + 1].split(":")[1::-1] for i, arg in enumerate(args) if arg == "-v" and ":" in args[i + 1])
open(mounts["/out/result.txt"], "w").write("from the container")
open(mounts["/mnt/shared"] + "/written.txt", "w").write("shared")
print("ran")
"""


def test_a_container_runtime_runs_images_with_the_same_volumes_and_outputs(tmp_path, monkeypatch, local_backend):
    """WORKFLOWS_CONTAINER_RUNTIME=docker: the argv of `docker run` (no Docker engine here: a fake one)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.json"
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable, record=str(record)))
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", "docker")
    from workflows.tasks import CustomTask

    task = CustomTask("tool", "ghcr.io/acme/tool:1", args=["--fast"], resources={"limits": {"memory": "64Mi"}},
                      template_overrides={"outputs": {"parameters": [
                          {"name": "r", "valueFrom": {"path": "/out/result.txt"}}]}})
    workflow = SingleTaskOperation("ctr", task, shared_directory=True).execute().wait(WAIT)
    assert workflow.succeeded(), workflow.get_status_message()
    node = workflow.nodes[workflow.name]
    assert node["outputs"]["parameters"] == [{"name": "r", "value": "from the container"}]
    argv = json.loads(record.read_text())
    assert argv[:3] == ["run", "--rm", "-i"] and argv[-2:] == ["ghcr.io/acme/tool:1", "--fast"]
    volume = local_backend / "workflows" / workflow.name / "volumes" / "mnt-shared"
    assert f"{volume}:/mnt/shared" in argv and "--memory=67108864" in argv
    assert (volume / "written.txt").read_text() == "shared"


def test_build_arguments_set_the_dockerfiles_args(tmp_path, monkeypatch):
    from workflows.engine.pod.images import ImageError, build_args
    from workflows.tasks import CustomTask

    dockerfile = ('ARG CLOUDHARNESS_BASE\nFROM $CLOUDHARNESS_BASE\nARG GREETING=hello\nENV GREETING=$GREETING\n'
                  'RUN echo "$GREETING from RUN" > /built.txt\nCMD ["sh", "-c", "echo $GREETING; cat /built.txt"]\n')
    application(tmp_path / "applications", "samples-greet", dockerfile, {})
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(tmp_path / "applications"))
    monkeypatch.setenv("WORKFLOWS_BUILD_ARGS", "GREETING=bonjour, CLOUDHARNESS_BASE=ignored")
    node = run(CustomTask("greet", "samples-greet"))
    assert node["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["result"] == "bonjour\nbonjour from RUN"
    monkeypatch.setenv("WORKFLOWS_BUILD_ARGS", "GREETING")
    with pytest.raises(ImageError, match="WORKFLOWS_BUILD_ARGS: 'GREETING' is not NAME=value"):
        build_args()


RLIMIT_PROBE = """
from workflows.engine.pod.limits import Limits, apply_rlimit
apply_rlimit(Limits(memory=64 * 2**20), forked_interpreter=True)
kept = bytearray(32 * 2**20)
try:
    bytearray(128 * 2**20)
except MemoryError:
    print("bounded")
"""


def test_the_rlimit_fallback_bounds_what_a_forked_interpreter_adds():
    """Without a delegable cgroup: a PythonTask (forked from the runner) gets its limit on top of what it has."""
    result = subprocess.run([sys.executable, "-c", RLIMIT_PROBE], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "bounded", result.stderr


@pytest.fixture
def open_folder_under_tmp():
    """A new folder directly under /tmp, readable by anyone (as ``/tmp/<name>/venv`` usually is)."""
    folder = Path(tempfile.mkdtemp(prefix="workflows-test-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_an_engine_running_from_a_virtualenv_under_tmp_gives_pods_its_python(open_folder_under_tmp, local_backend):
    """The pods' private /tmp must not hide the engine's own interpreter (a virtualenv under /tmp, the library
    installed in it), and the engine binds only that: not the folder holding the virtualenv, where the runner
    was started (``python -m`` puts it on ``sys.path``), with whatever else it holds."""
    import site
    import sysconfig

    venv = open_folder_under_tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    shutil.copytree(ROOT / "workflows", purelib / "workflows", ignore=shutil.ignore_patterns("__pycache__"))
    # what the library needs, from this interpreter's packages
    (purelib / "host.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    (open_folder_under_tmp / "marker").write_text("the caller's file")
    command = (f'python -c "import sys, workflows; print(sys.prefix, workflows.__file__)"; '
               f'test -e {open_folder_under_tmp}/marker && echo visible || echo hidden; '
               'chown -R 1000:1000 /tmp && echo chowned')
    script = ("from workflows.operations import SingleTaskOperation\n"
              "from workflows.tasks import BashTask\n"
              f"wf = SingleTaskOperation('venv', BashTask('py', {command!r})).execute().wait(120)\n"
              "print(wf.status, wf.nodes[wf.name]['outputs'].get('result'))\n")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True,
                            timeout=WAIT, cwd=open_folder_under_tmp,
                            env={**environment, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Succeeded", str(venv), str(purelib / "workflows" / "__init__.py"), "hidden",
                                     "chowned"]


def test_installing_this_library_through_a_build_argument_is_recognised():
    """``RUN pip install "${WORKFLOWS_PACKAGE}"`` (the built-in task images) with its default value is skipped;
    another value of the argument is a real install."""
    from workflows.engine.pod.build import skips_self_install
    from workflows.engine.pod.dockerfile import RunStep

    line = 'pip install --no-cache-dir "${WORKFLOWS_PACKAGE}"'
    assert skips_self_install(RunStep(("/bin/sh", "-c", line), (("WORKFLOWS_PACKAGE", "harness-workflows"),), "/"))
    assert skips_self_install(RunStep(("/bin/sh", "-c", "pip install $P"), (("P", "."),), "/"))
    assert not skips_self_install(RunStep(("/bin/sh", "-c", line), (("WORKFLOWS_PACKAGE", "requests"),), "/"))
    assert not skips_self_install(RunStep(("/bin/sh", "-c", line), (), "/"))
    assert not skips_self_install(RunStep(("/bin/sh", "-c", 'pip install "unclosed'), (), "/"))
