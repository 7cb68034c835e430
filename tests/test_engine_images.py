"""How the local engine runs an image: on the host, from a build context, in a container runtime, or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import workflows
from workflows.engine.pod import images
from workflows.engine.pod.dockerfile import DockerfileError
from workflows.engine.pod.images import (
    ApplicationPlan,
    ContainerPlan,
    HostPlan,
    ImageError,
    UnavailablePlan,
    builtin_applications_dirs,
    host_image_pattern,
    how_to_run,
    split_image,
)


@pytest.fixture(autouse=True)
def engine_env(tmp_path, monkeypatch):
    """Empty user and built-in applications folders, no configuration, a PATH without container runtimes."""
    root = tmp_path / "applications"
    root.mkdir()
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("WORKFLOWS_APPLICATIONS", str(root))
    monkeypatch.setenv("WORKFLOWS_BUILTIN_APPLICATIONS", str(builtin))
    monkeypatch.setenv("PATH", str(bin_dir))
    for name in (
        "WORKFLOWS_REGISTRY",
        "WORKFLOWS_TAG",
        "WORKFLOWS_IMAGE",
        "WORKFLOWS_HOST_IMAGES",
        "WORKFLOWS_CONTAINER_RUNTIME",
    ):
        monkeypatch.delenv(name, raising=False)
    images.clear_caches()
    yield
    images.clear_caches()


@pytest.fixture
def apps(tmp_path) -> Path:
    return tmp_path / "applications"


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    return tmp_path / "bin"


def add_context(root: Path, app: str, task: str, dockerfile: str, files: dict = None) -> Path:
    """Create ``<root>/<app>/tasks/<task>/`` with its Dockerfile and ``files``; return the context."""
    context = root / app / "tasks" / task
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(dockerfile)
    for name, content in (files or {}).items():
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(content)
    return context


def fake_runtime(bin_dir: Path, name: str, info_exit: int, log: Path = None) -> Path:
    """A ``docker``/``podman`` script whose ``info`` exits with ``info_exit`` (and logs each call to ``log``)."""
    script = bin_dir / name
    record = f'echo "$@" >> "{log}"\n' if log else ""
    script.write_text(
        "#!/bin/sh\n"
        + record
        + 'if [ "$1" = info ]; then\n'
        + (f'  echo "Cannot connect to the {name} daemon" >&2\n' if info_exit else "")
        + f"  exit {info_exit}\nfi\nexit 0\n"
    )
    script.chmod(0o755)
    return script


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "image, parts",
    [
        ("python", ("python", None, None)),
        ("python:3.12-slim", ("python", "3.12-slim", None)),
        ("localhost:5000/app-task:1", ("localhost:5000/app-task", "1", None)),
        ("busybox@sha256:abc", ("busybox", None, "sha256:abc")),
        ("reg.io/a/b:2@sha256:abc", ("reg.io/a/b", "2", "sha256:abc")),
    ],
)
def test_split_image(image, parts):
    assert split_image(image) == parts


# ---------------------------------------------------------------- host images


@pytest.mark.parametrize(
    "image",
    [
        "busybox",
        "busybox:1.36",
        "busybox@sha256:" + "a" * 64,
        "alpine:3.19",
        "debian:bookworm-slim",
        "ubuntu:22.04",
        "python",
        "python:3.12-slim",
        "python:alpine",
        "bash:5.2",
        "library/ubuntu",
        "docker.io/library/python:3.12-slim",
        "docker.io/python",
        "index.docker.io/library/alpine:latest",
        "mirror.gcr.io/library/python:3.11@sha256:" + "b" * 64,
    ],
)
def test_general_purpose_bases_run_on_the_host(image):
    plan = how_to_run(image)
    assert isinstance(plan, HostPlan) and plan.kind == "host"
    assert "host image pattern" in plan.reason or "default image" in plan.reason


@pytest.mark.parametrize(
    "image",
    [
        "myorg/python-tools",
        "pythonista",
        "python-tools",
        "myorg/python",
        "ghcr.io/acme/python:3",
        "busybox2",
        "node:20",
    ],
)
def test_other_images_are_not_host_images(image):
    assert host_image_pattern(image) is None


def test_configured_host_patterns_extend_the_defaults(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_HOST_IMAGES", "ghcr.io/acme/*, node  quay.io/x/tool:1.0")
    assert host_image_pattern("ghcr.io/acme/tools:2") == "ghcr.io/acme/*"
    assert host_image_pattern("node:20") == "node"
    assert host_image_pattern("docker.io/library/node") == "node"
    assert host_image_pattern("quay.io/x/tool:1.0") == "quay.io/x/tool:1.0"
    assert host_image_pattern("quay.io/x/tool:2.0") is None
    assert host_image_pattern("python:3.12") == "python"
    assert isinstance(how_to_run("ghcr.io/acme/tools:2"), HostPlan)


def test_configured_patterns_can_exclude_and_replace_the_defaults(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_HOST_IMAGES", "!ubuntu")
    assert host_image_pattern("ubuntu:22.04") is None
    assert host_image_pattern("debian") == "debian"
    monkeypatch.setenv("WORKFLOWS_HOST_IMAGES", "!*,python")
    assert host_image_pattern("python:3.12") == "python"
    assert host_image_pattern("alpine") is None


def test_the_default_image_always_runs_on_the_host(monkeypatch):
    monkeypatch.setenv("WORKFLOWS_IMAGE", "ghcr.io/acme/runner:2")
    monkeypatch.setenv("WORKFLOWS_HOST_IMAGES", "!*")
    plan = how_to_run("ghcr.io/acme/runner:2")
    assert isinstance(plan, HostPlan) and "WORKFLOWS_IMAGE" in plan.reason
    assert not isinstance(how_to_run("ghcr.io/acme/runner:3"), HostPlan)
    monkeypatch.delenv("WORKFLOWS_IMAGE")
    assert isinstance(how_to_run("docker.io/library/python:3.12-slim"), HostPlan)  # the default default


def test_host_reason_names_the_pattern():
    assert how_to_run("alpine:3").reason == "it matches the host image pattern 'alpine'"


def test_host_plan_process_is_command_then_args():
    plan = how_to_run("python:3.12")
    assert plan.process(["python", "-c"], ["print(1)"]) == (["python", "-c", "print(1)"], {}, None)
    assert plan.process(None, ["sh", "-c", "true"]).argv == ["sh", "-c", "true"]
    with pytest.raises(ImageError, match="needs a command or args"):
        plan.process(None, None)


# ---------------------------------------------------------------- application images


HELLO = 'FROM python:3.12-slim\nENV GREETING=hi\nWORKDIR /app\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'


@pytest.mark.parametrize(
    "image",
    [
        "my-app-mytask",
        "my-app-mytask:latest",
        "registry.example.com:5000/team/my-app-mytask:1.2.3",
        "reg.io/my-app-mytask@sha256:" + "c" * 64,
    ],
)
def test_application_image_resolves_with_any_registry_and_tag(apps, image):
    context = add_context(apps, "my-app", "mytask", HELLO)
    plan = how_to_run(image)
    assert isinstance(plan, ApplicationPlan) and plan.kind == "application"
    assert plan.context == context.absolute()
    assert plan.builtin is False
    assert plan.dockerfile.env == {"GREETING": "hi"}
    assert plan.image == image


def test_application_image_with_the_configured_registry(apps, monkeypatch):
    add_context(apps, "app", "task", HELLO)
    monkeypatch.setenv("WORKFLOWS_REGISTRY", "cr.io/me/")
    monkeypatch.setenv("WORKFLOWS_TAG", "v9")
    from workflows.images import resolve_image

    reference = resolve_image("app-task")
    assert reference == "cr.io/me/app-task:v9"
    assert isinstance(how_to_run(reference), ApplicationPlan)


def test_an_image_without_build_context_is_not_an_application(apps):
    add_context(apps, "app", "task", HELLO)
    assert not isinstance(how_to_run("app-other"), ApplicationPlan)
    assert not isinstance(how_to_run("apptask"), ApplicationPlan)


def test_builtin_images_resolve_in_the_builtin_folder(tmp_path):
    context = add_context(
        tmp_path / "builtin", "workflows", "notify-queue", 'FROM python:3.12-slim\nCMD ["python", "-m", "x"]\n'
    )
    plan = how_to_run("workflows-notify-queue")
    assert isinstance(plan, ApplicationPlan) and plan.builtin is True
    assert plan.context == context
    assert plan.process().argv == ["python", "-m", "x"]
    assert isinstance(how_to_run("ghcr.io/me/workflows-notify-queue:0.1.0"), ApplicationPlan)
    assert not isinstance(how_to_run("workflows-send-result-event"), ApplicationPlan)


def test_user_applications_override_builtin_ones(tmp_path, apps):
    add_context(tmp_path / "builtin", "workflows", "send-result-event", HELLO)
    mine = add_context(apps, "workflows", "send-result-event", HELLO)
    plan = how_to_run("workflows-send-result-event")
    assert plan.builtin is False and plan.context == mine.absolute()


def test_builtin_folders_default_to_the_repository_then_the_installed_copy(monkeypatch):
    monkeypatch.delenv("WORKFLOWS_BUILTIN_APPLICATIONS")
    assert builtin_applications_dirs() == [
        Path(workflows.__file__).resolve().parents[1] / "applications",
        Path(sys.prefix) / "share" / "harness-workflows" / "applications",
    ]
    monkeypatch.setenv("WORKFLOWS_BUILTIN_APPLICATIONS", os.pathsep.join(["/a", "/b"]))
    assert builtin_applications_dirs() == [Path("/a"), Path("/b")]


def test_a_broken_dockerfile_is_reported(apps):
    add_context(apps, "app", "task", "FROM alpine\nCMD [oops, x]\n")
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: .*malformed JSON array"):
        how_to_run("app-task")


def test_parsing_is_cached_per_path_and_mtime(apps):
    context = add_context(apps, "app", "task", HELLO)
    first = how_to_run("app-task").dockerfile
    assert how_to_run("reg/app-task:2").dockerfile is first
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(HELLO.replace("hi", "hello"))
    stat = dockerfile.stat()
    os.utime(dockerfile, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert how_to_run("app-task").dockerfile.env == {"GREETING": "hello"}


# ---------------------------------------------------------------- command and args


SEMANTICS = 'FROM python\nENTRYPOINT ["ep", "--x"]\nCMD ["cmd1", "cmd2"]\n'


@pytest.mark.parametrize(
    "command, args, argv",
    [
        (None, None, ["ep", "--x", "cmd1", "cmd2"]),
        ([], [], ["ep", "--x", "cmd1", "cmd2"]),
        (["c"], None, ["c"]),
        (["c", "-v"], ["a"], ["c", "-v", "a"]),
        (None, ["a", "b"], ["ep", "--x", "a", "b"]),
    ],
)
def test_command_and_args_follow_kubernetes(apps, command, args, argv):
    add_context(apps, "app", "task", SEMANTICS)
    assert how_to_run("app-task").process(command, args).argv == argv


def test_args_without_entrypoint_replace_cmd(apps):
    add_context(apps, "app", "task", 'FROM python\nCMD ["python", "main.py"]\n')
    assert how_to_run("app-task").process(None, ["python", "other.py"]).argv == ["python", "other.py"]


def test_no_command_at_all_is_an_error(apps):
    add_context(apps, "app", "task", "FROM python\nENV A=1\n")
    with pytest.raises(ImageError, match="neither ENTRYPOINT nor CMD"):
        how_to_run("app-task").process()
    assert how_to_run("app-task").process(["true"]).argv == ["true"]


def test_empty_image_name_is_an_error():
    with pytest.raises(ImageError):
        how_to_run("  ")


# ---------------------------------------------------------------- paths


def test_image_paths_under_copies_are_rewritten(apps):
    context = add_context(
        apps,
        "app",
        "task",
        "FROM python\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "COPY src/ /opt/lib\n"
        "COPY run.py /usr/local/bin/run\n"
        "ENV PYTHONPATH=/app:/opt/lib CONFIG=/app/conf/settings.yaml OTHER=/etc/hosts\n"
        'ENTRYPOINT ["/usr/local/bin/run"]\n'
        "CMD python /app/main.py --data=/opt/lib/data.csv /bin/true /app/out/\n",
        {"main.py": "", "run.py": "", "src/data.csv": "", "conf/settings.yaml": ""},
    )
    process = how_to_run("app-task").process()
    assert process.argv == [
        f"{context}/run.py",
        "/bin/sh",
        "-c",
        f"python {context}/main.py --data={context}/src/data.csv /bin/true {context}/out/",
    ]
    assert process.env == {
        "PYTHONPATH": f"{context}:{context}/src",
        "CONFIG": f"{context}/conf/settings.yaml",
        "OTHER": "/etc/hosts",
    }
    assert process.cwd == context


def test_host_path_and_rewrite(apps):
    context = add_context(
        apps,
        "app",
        "task",
        "FROM python\nCOPY . /app\nCOPY overlay/ /app\nCOPY tool.sh /\nCOPY *.txt /texts/\n",
        {"a.py": "", "overlay/b.py": "", "overlay/a.py": "", "tool.sh": "", "x.txt": "", "y.txt": ""},
    )
    plan = how_to_run("app-task")
    assert plan.host_path("/app/b.py") == context / "overlay" / "b.py"
    assert plan.host_path("/app/a.py") == context / "overlay" / "a.py"  # the later copy wins
    assert plan.host_path("/app/new.log") == context / "overlay" / "new.log"
    assert plan.host_path("/tool.sh") == context / "tool.sh"
    assert plan.host_path("/texts/y.txt") == context / "y.txt"
    assert plan.host_path("/app/../tool.sh") == context / "tool.sh"
    assert plan.host_path("/usr/bin/env") is None
    assert plan.host_path("relative/a.py") is None
    assert plan.rewrite("https://example.com/app/a.py") == "https://example.com/app/a.py"
    assert plan.rewrite("'/app/a.py'") == f"'{context}/overlay/a.py'"


def test_a_copy_to_the_root_maps_only_existing_files(apps):
    context = add_context(
        apps, "app", "task", 'FROM alpine\nCOPY . /\nCMD ["/bin/sh", "/entry.sh"]\n', {"entry.sh": ""}
    )
    plan = how_to_run("app-task")
    assert plan.process().argv == ["/bin/sh", f"{context}/entry.sh"]
    assert plan.cwd == context


@pytest.mark.parametrize(
    "dockerfile, files, cwd",
    [
        ("FROM python\nWORKDIR /app\nCOPY . /app\n", {}, "."),
        ("FROM python\nWORKDIR /app/sub\nCOPY . /app\n", {"sub/x.py": ""}, "sub"),
        ("FROM python\nCOPY pkg /srv/pkg\nWORKDIR /srv/pkg\n", {"pkg/x.py": ""}, "pkg"),
        ("FROM python\nWORKDIR /work\n", {}, "."),
        ("FROM python\nWORKDIR /app\nCOPY main.py /app/\n", {"main.py": ""}, "."),
        ("FROM python\nWORKDIR /app/missing\nCOPY . /app\n", {}, "."),
    ],
)
def test_cwd_is_the_host_folder_of_workdir(apps, dockerfile, files, cwd):
    context = add_context(apps, "app", "task", dockerfile + 'CMD ["x"]\n', files)
    assert how_to_run("app-task").process().cwd == (context / cwd if cwd != "." else context)


def test_notice_says_run_lines_are_not_replayed(apps):
    add_context(apps, "app", "task", 'FROM python\nRUN pip install requests\nCMD ["python"]\n')
    add_context(apps, "app", "clean", 'FROM python\nCMD ["python"]\n')
    add_context(apps, "app", "gone", 'FROM python\nCOPY missing.txt /x\nCMD ["python"]\n')
    plan = how_to_run("app-task")
    assert plan.run_lines_skipped is True
    assert "RUN lines" in plan.notice and "not replayed" in plan.notice
    assert how_to_run("app-clean").run_lines_skipped is False
    assert how_to_run("app-clean").notice is None
    assert "missing.txt" in how_to_run("app-gone").notice


def test_an_application_runs_for_real(apps):
    context = add_context(apps, "hello", "greet", HELLO, {"main.py": "import os\nprint(os.environ['GREETING'])\n"})
    argv, env, cwd = how_to_run("cr.io/team/hello-greet:1").process()
    assert argv == ["python", f"{context}/main.py"]
    argv[0] = sys.executable
    done = subprocess.run(argv, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hi\n"


# ---------------------------------------------------------------- container runtimes


def test_no_runtime_installed_is_unavailable_with_a_useful_message():
    plan = how_to_run("ghcr.io/x/y:1")
    assert isinstance(plan, UnavailablePlan) and plan.kind == "unavailable"
    assert plan.message.startswith(
        "image 'ghcr.io/x/y:1' is neither a host image nor an application image, "
        "and no container runtime is available (docker is not installed (not on PATH); "
        "podman is not installed (not on PATH)): install Docker or Podman, "
        "or run it on the host by adding it to WORKFLOWS_HOST_IMAGES (e.g. WORKFLOWS_HOST_IMAGES=ghcr.io/x/y)"
    )


def test_unreachable_docker_is_unavailable(bin_dir, apps):
    fake_runtime(bin_dir, "docker", 1)
    plan = how_to_run("acme/tool-runner:2")
    assert isinstance(plan, UnavailablePlan)
    assert "docker info` exited with 1: Cannot connect to the docker daemon" in plan.message
    assert "start the Docker daemon" in plan.message
    assert f"not found under {apps}" in plan.message  # it might have been an application image


def test_reachable_docker_is_used(bin_dir):
    docker = fake_runtime(bin_dir, "docker", 0)
    plan = how_to_run("ghcr.io/x/y:1")
    assert isinstance(plan, ContainerPlan) and plan.kind == "container"
    assert plan.runtime.name == "docker" and plan.runtime.executable == str(docker)


def test_podman_is_used_when_docker_is_unreachable(bin_dir):
    fake_runtime(bin_dir, "docker", 1)
    podman = fake_runtime(bin_dir, "podman", 0)
    plan = how_to_run("ghcr.io/x/y:1")
    assert isinstance(plan, ContainerPlan) and plan.runtime.executable == str(podman)


def test_the_runtime_probe_runs_once_per_process(bin_dir, tmp_path):
    log = tmp_path / "calls.log"
    fake_runtime(bin_dir, "docker", 0, log)
    for image in ("a/b", "c/d:1", "a/b"):
        assert isinstance(how_to_run(image), ContainerPlan)
    assert log.read_text() == "info\n"


def test_configured_runtime(bin_dir, tmp_path, monkeypatch):
    fake_runtime(bin_dir, "docker", 0)
    other = tmp_path / "elsewhere"
    other.mkdir()
    podman = fake_runtime(other, "podman", 0)
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", str(podman))
    assert how_to_run("a/b").runtime == images.ContainerRuntime("podman", str(podman))
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", "podman")
    plan = how_to_run("a/b")
    assert isinstance(plan, UnavailablePlan) and "podman is not installed" in plan.message
    monkeypatch.setenv("WORKFLOWS_CONTAINER_RUNTIME", "none")
    plan = how_to_run("a/b")
    assert isinstance(plan, UnavailablePlan)
    assert "disabled by WORKFLOWS_CONTAINER_RUNTIME=none): unset WORKFLOWS_CONTAINER_RUNTIME" in plan.message


def test_container_run_argv(bin_dir):
    docker = str(fake_runtime(bin_dir, "docker", 0))
    plan = how_to_run("ghcr.io/x/y:1")
    argv = plan.run_argv(
        command=["python", "-u"],
        args=["main.py", "--n=1"],
        env={"A": "1", "B": "x y"},
        mounts=[("/host/in", "/in", True), ("/host/out", "/out", False), ("/host/tmp", "/tmp")],
        workdir="/work",
        options=["--network=host"],
    )
    assert argv == [
        docker, "run", "--rm", "-i",
        "-e", "A=1", "-e", "B=x y",
        "-v", "/host/in:/in:ro", "-v", "/host/out:/out", "-v", "/host/tmp:/tmp",
        "-w", "/work",
        "--network=host",
        "--entrypoint", "python",
        "ghcr.io/x/y:1",
        "-u", "main.py", "--n=1",
    ]  # fmt: skip
    assert plan.run_argv(args=["--help"]) == [docker, "run", "--rm", "-i", "ghcr.io/x/y:1", "--help"]
    assert plan.run_argv() == [docker, "run", "--rm", "-i", "ghcr.io/x/y:1"]
