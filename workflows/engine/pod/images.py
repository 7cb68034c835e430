"""How the local engine runs a container's image on this machine.

:func:`how_to_run` answers with one of four plans (``plan.kind`` names it):

``"application"`` — :class:`ApplicationPlan`
    The image is ``[registry/]<app>-<task>[:tag|@digest]`` and has a build context:
    ``<applications>/<app>/tasks/<task>/Dockerfile`` (``WORKFLOWS_APPLICATIONS``),
    or for the library's own ``workflows-<task>`` images its built-in
    ``applications/workflows/tasks/<task>/``. In the pod sandbox it runs with the
    Dockerfile's ``COPY``/``ADD`` sources at their image paths, its ``ENV``
    defaults, ``WORKDIR`` and ``ENTRYPOINT``/``CMD``, and its ``RUN`` lines
    replayed into a layer (:mod:`.build`). Unisolated
    (``WORKFLOWS_ISOLATION=none``), it runs from the context, image paths
    rewritten to the context's files, ``RUN`` lines not replayed
    (:attr:`ApplicationPlan.notice` says so).
``"host"`` — :class:`HostPlan`
    The image is a general-purpose base (busybox, alpine, debian, ubuntu,
    python, bash, plus ``WORKFLOWS_HOST_IMAGES``) or the library's default image
    ``WORKFLOWS_IMAGE``: its command runs with this machine's userland (in the sandbox).
    Argo's test image ``argoproj/argosay:v1``/``v2`` is a host plan too,
    :class:`ArgosayPlan`: its programs are :mod:`workflows.engine.pod.argosay`.
``"container"`` — :class:`ContainerPlan`
    Any other image, when Docker or Podman is installed and answers ``info``:
    :meth:`ContainerPlan.run_argv` builds the ``docker run`` command line.
``"unavailable"`` — :class:`UnavailablePlan`
    Otherwise; ``message`` says what to install or configure.

Configuration (read at each call, never at import):

===============================  ================================================================
variable                         meaning
===============================  ================================================================
``WORKFLOWS_HOST_IMAGES``        comma- (or blank-) separated ``fnmatch`` patterns of images that
                                 run on the host, **added** to the defaults. ``!pattern`` excludes;
                                 entries apply in order after the defaults and the last match
                                 wins, so ``!*,python`` **replaces** the defaults with ``python``.
                                 A pattern is matched against the reference as written
                                 (``ghcr.io/x/y:1``), the name without tag/digest
                                 (``ghcr.io/x/y``) and the Docker Hub short name
                                 (``docker.io/library/python`` → ``python``).
``WORKFLOWS_IMAGE``              the default image of inlined tasks (``workflows.config``): it
                                 always runs on this machine.
``WORKFLOWS_APPLICATIONS``       the user's applications folder (``workflows.config``).
``WORKFLOWS_BUILTIN_APPLICATIONS``  ``os.pathsep``-separated folders holding the library's
                                 ``workflows/tasks/<task>/Dockerfile``; when set, the only ones
                                 searched. Default: the repository's ``applications/`` next to
                                 the ``workflows`` package, then
                                 ``<sys.prefix>/share/harness-workflows/applications``.
``WORKFLOWS_BUILD_ARGS``         ``NAME=value`` pairs (comma- or blank-separated): the values of
                                 the Dockerfiles' ``ARG`` lines, as ``docker build --build-arg`` sets them.
                                 A base named by an unset argument (``FROM $CLOUDHARNESS_BASE``) is
                                 a general-purpose one: the host's userland, in the sandbox.
``WORKFLOWS_CONTAINER_RUNTIME``  ``docker``, ``podman`` or an executable's path: use only that
                                 one; ``none`` (or ``off``): never use a container runtime;
                                 unset or ``auto``: the first of ``docker``, ``podman`` on
                                 ``PATH`` that answers ``<runtime> info`` within 5 seconds.
                                 The answer is cached per executable for the process
                                 (:func:`clear_caches` forgets it).
===============================  ================================================================
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Union

import workflows

from ... import config
from ...errors import ImageError
from ...images import application_dockerfile
from ..records import FrozenRecord
from .argosay import BIN as ARGOSAY_BIN
from .argosay import PYTHON_VARIABLE as ARGOSAY_PYTHON
from .argosay import argosay_version

if TYPE_CHECKING:  # the Dockerfile parser loads with the first application image (a runner's start is shorter)
    from .dockerfile import DockerImage

#: General-purpose base images whose commands run on the host (Docker Hub short names).
DEFAULT_HOST_IMAGES = ("busybox", "alpine", "debian", "ubuntu", "python", "bash")
#: Images whose ``sh`` is busybox's ash, closer to bash than to Debian's dash.
ASH_IMAGES = frozenset({"busybox", "alpine"})
#: Seconds ``<runtime> info`` may take before the runtime is deemed unreachable.
RUNTIME_PROBE_TIMEOUT = 5.0
#: The application owning the library's built-in task images (``workflows-<task>``).
BUILTIN_APPLICATION = "workflows"

_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
_ABSOLUTE_PATH = re.compile(r"(?<![^\s'\"=:;,(])/[\w.+@%~/-]*")


class HostProcess(NamedTuple):
    """The process to start for a container: argv, environment defaults, working directory.

    ``env`` holds the image's defaults (the template's ``env`` goes on top);
    ``cwd`` is ``None`` when the image imposes none (the engine chooses).
    """

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None


# --------------------------------------------------------------------------- image names


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``registry/path/name:tag@digest`` → ``(name with registry/path, tag, digest)``; missing parts are ``None``."""
    image = image.strip()
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def short_name(name: str) -> str:
    """Docker Hub's short form of an image name: ``docker.io/library/python`` → ``python``."""
    parts = name.split("/")
    if len(parts) > 1 and parts[0].lower() in _DOCKER_HUB:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def _same_image(a: str, b: str) -> bool:
    name_a, tag_a, digest_a = split_image(a)
    name_b, tag_b, digest_b = split_image(b)
    return (short_name(name_a), tag_a or "latest", digest_a) == (short_name(name_b), tag_b or "latest", digest_b)


def host_image_rules() -> list[tuple[bool, str]]:
    """The ``(include, pattern)`` rules deciding host images, in order: defaults, then ``WORKFLOWS_HOST_IMAGES``."""
    rules = [(True, name) for name in DEFAULT_HOST_IMAGES]
    rules += [(True, f"*/library/{name}") for name in DEFAULT_HOST_IMAGES]  # mirrors: mirror.gcr.io/library/python
    for entry in re.split(r"[,\s]+", os.environ.get("WORKFLOWS_HOST_IMAGES", "")):
        if entry.startswith("!") and entry[1:]:
            rules.append((False, entry[1:]))
        elif entry and entry != "!":
            rules.append((True, entry))
    return rules


def host_image_pattern(image: str) -> str | None:
    """The host-image pattern ``image`` matches (the last matching rule, if it includes), else ``None``."""
    name, _, _ = split_image(image)
    subjects = {image.strip(), name, short_name(name)}
    matched = None
    for include, pattern in host_image_rules():
        if any(fnmatch.fnmatchcase(subject, pattern) for subject in subjects):
            matched = pattern if include else None
    return matched


# --------------------------------------------------------------------------- build contexts


def builtin_applications_dirs() -> list[Path]:
    """Folders searched for the library's built-in ``workflows/tasks/<task>/Dockerfile``, in order."""
    override = os.environ.get("WORKFLOWS_BUILTIN_APPLICATIONS")
    if override:
        return [Path(folder) for folder in override.split(os.pathsep) if folder]
    return [
        Path(workflows.__file__).resolve().parents[1] / "applications",
        Path(sys.prefix) / "share" / "harness-workflows" / "applications",
    ]


def find_dockerfile(image: str) -> tuple[Path, bool] | None:
    """The Dockerfile building ``image`` and whether it is a built-in one, or ``None``.

    Any registry prefix, tag and digest are ignored: ``reg.io/team/myapp-mytask:1.2``
    is ``myapp-mytask``. The user's applications come first, so they may
    override a built-in ``workflows-<task>`` image.
    """
    name = split_image(image)[0].rsplit("/", 1)[-1]
    if "-" not in name:
        return None
    dockerfile = application_dockerfile(name)
    if dockerfile is not None:
        return Path(dockerfile), False
    prefix = BUILTIN_APPLICATION + "-"
    if name.startswith(prefix) and len(name) > len(prefix):
        for root in builtin_applications_dirs():
            candidate = root / BUILTIN_APPLICATION / "tasks" / name[len(prefix) :] / "Dockerfile"
            if candidate.is_file():
                return candidate, True
    return None


_parse_cache: dict[tuple, DockerImage] = {}
_parse_lock = threading.Lock()


def build_args() -> dict[str, str]:
    """``WORKFLOWS_BUILD_ARGS``: ``NAME=value`` pairs separated by commas or blanks, like ``--build-arg``.

    Raises :class:`ImageError` naming an entry without ``=``.
    """
    found = {}
    for entry in re.split(r"[,\s]+", os.environ.get("WORKFLOWS_BUILD_ARGS", "").strip()):
        if not entry:
            continue
        name, equals, value = entry.partition("=")
        if not equals or not name:
            raise ImageError(f"WORKFLOWS_BUILD_ARGS: {entry!r} is not NAME=value")
        found[name] = value
    return found


def load_dockerfile(path: str | Path) -> DockerImage:
    """:func:`parse_dockerfile` with the host ``PATH`` as the base image's and ``WORKFLOWS_BUILD_ARGS``,
    cached per (path, mtime, size, PATH, build arguments)."""
    path = Path(os.path.normpath(Path(path).absolute()))
    stat = path.stat()
    base_env = {"PATH": os.environ.get("PATH", os.defpath)}
    arguments = build_args()
    key = (str(path), stat.st_mtime_ns, stat.st_size, base_env["PATH"], tuple(sorted(arguments.items())))
    with _parse_lock:
        cached = _parse_cache.get(key)
    if cached is None:
        from .dockerfile import parse_dockerfile  # noqa: PLC0415 - see TYPE_CHECKING above

        cached = parse_dockerfile(path, base_env=base_env, build_args=arguments)
        with _parse_lock:
            if len(_parse_cache) > 256:
                _parse_cache.clear()
            _parse_cache[key] = cached
    return cached


# --------------------------------------------------------------------------- plans


class HostPlan(FrozenRecord):
    """Run the container's command directly on this machine."""

    image: str
    reason: str
    kind = "host"

    def __init__(self, image: str, reason: str) -> None:
        self.image = image
        self.reason = reason

    def process(self, command: Sequence[str] | None = None, args: Sequence[str] | None = None) -> HostProcess:
        """``command + args``; the image's own ENTRYPOINT/CMD are unknown, so one of them is needed.

        The ``sh`` of busybox and alpine images is busybox's ash, which has ``$RANDOM`` and
        ``[[``; on the host their ``sh`` runs as ``bash`` (when installed), not as a plainer ``sh``.
        """
        argv = [str(item) for item in (*(command or ()), *(args or ()))]
        if not argv:
            raise ImageError(f"image {self.image!r} runs on the host: the template needs a command or args")
        family = short_name(split_image(self.image)[0]).split("/")[-1]
        if argv[0] in ("sh", "/bin/sh") and family in ASH_IMAGES and shutil.which("bash"):
            argv[0] = "bash"
        return HostProcess(argv, {}, None)


class ArgosayPlan(FrozenRecord):
    """Run Argo's test image ``argoproj/argosay`` (v1, v2) on the host (:mod:`.argosay`): a host plan."""

    image: str
    version: str
    kind = "host"

    def __init__(self, image: str, version: str) -> None:
        self.image = image
        self.version = version

    @property
    def reason(self) -> str:
        """Why it runs on the host."""
        return f"argosay {self.version} is Argo's test image, reproduced by workflows.engine.pod.argosay"

    def process(self, command: Sequence[str] | None = None, args: Sequence[str] | None = None) -> HostProcess:
        """Kubernetes' rules over the image's ENTRYPOINT and CMD; ``cowsay`` and ``argosay`` at the end of PATH.

        v2 has ``ENTRYPOINT ["/argosay"]`` (which reset v1's CMD): without a
        ``command`` it runs ``python -m workflows.engine.pod.argosay ARGS``. v1 has
        ``CMD ["cowsay"]``, which ``args`` replace. A ``command`` runs on the host.
        """
        args = [str(item) for item in args or ()]
        if command and not (self.version == "v2" and str(command[0]) == "/argosay"):
            argv = [str(item) for item in command] + args
        elif command:  # the image's own /argosay, named
            argv = [sys.executable, "-m", "workflows.engine.pod.argosay", *map(str, command[1:]), *args]
        elif self.version == "v2":
            argv = [sys.executable, "-m", "workflows.engine.pod.argosay", *args]
        else:
            argv = args or ["cowsay"]
        path = os.environ.get("PATH", os.defpath)
        return HostProcess(argv, {"PATH": f"{path}{os.pathsep}{ARGOSAY_BIN}", ARGOSAY_PYTHON: sys.executable}, None)


class CopiedPath(FrozenRecord):
    """A path of the image filled from the build context by ``COPY``/``ADD``."""

    image_path: str
    host_path: Path
    is_dir: bool

    def __init__(self, image_path: str, host_path: Path, is_dir: bool) -> None:
        self.image_path = image_path
        self.host_path = host_path
        self.is_dir = is_dir


class ApplicationPlan(FrozenRecord):
    """Run an image built from a build context as a host process, from that context."""

    image: str
    dockerfile: DockerImage
    copied: tuple[CopiedPath, ...]
    builtin: bool
    notes: tuple[str, ...]
    kind = "application"

    def __init__(self, image: str, dockerfile: DockerImage, copied: tuple[CopiedPath, ...] = (), builtin: bool = False,
                 notes: tuple[str, ...] = ()) -> None:
        self.image = image
        self.dockerfile = dockerfile
        self.copied = copied
        self.builtin = builtin
        self.notes = notes

    @property
    def context(self) -> Path:
        """The build context (the folder holding the Dockerfile), absolute."""
        return self.dockerfile.context

    @property
    def run_lines_skipped(self) -> bool:
        """The Dockerfile has ``RUN`` lines, which are not replayed on the host."""
        return self.dockerfile.has_run_lines

    @property
    def notice(self) -> str | None:
        """What the engine should log once per image (RUN lines not replayed, parts skipped), or ``None``."""
        lines = []
        if self.run_lines_skipped:
            lines.append(
                f"image {self.image!r} runs on this machine from its build context {self.context}: "
                f"the RUN lines of {self.dockerfile.path} are not replayed, "
                "so what they install must already be available here"
            )
        lines.extend(self.dockerfile.notes)
        lines.extend(self.notes)
        return "\n".join(lines) or None

    @property
    def cwd(self) -> Path:
        """The host folder of ``WORKDIR`` when it was copied from the context, else the context."""
        host = self.host_path(self.dockerfile.workdir)
        if host is not None and host.is_dir():
            return host
        return self.context

    def host_path(self, image_path: str) -> Path | None:
        """The host file or folder behind ``image_path`` when a COPY/ADD of the context put it there, else ``None``.

        The longest matching destination wins, then the latest copy; among those,
        one whose host path exists is preferred. Paths under a copy to ``/`` map
        only when they exist in the context (``/bin/sh`` stays ``/bin/sh``).
        """
        if not image_path.startswith("/") or image_path.startswith("//"):
            return None
        path = posixpath.normpath(image_path)
        candidates = []
        for index, copied in enumerate(self.copied):
            target = copied.image_path
            if path == target:
                host = copied.host_path
            elif copied.is_dir and (target == "/" or path.startswith(target + "/")):
                host = copied.host_path / path[len(target) :].lstrip("/")
            else:
                continue
            candidates.append((len(target), index, host, target == "/"))
        candidates.sort(key=lambda candidate: (candidate[0], candidate[1]), reverse=True)
        for _, _, host, _ in candidates:
            if host.exists():
                return host
        for _, _, host, root in candidates:
            if not root:
                return host
        return None

    def rewrite(self, value: str) -> str:
        """``value`` with every absolute image path under a COPY/ADD destination replaced by its host path.

        Paths are found as whole values and inside values: after ``=``, ``:``
        (``PYTHONPATH=/app:/app/lib``), blanks and quotes (``sh -c "python /app/x.py"``).
        Host paths are not shell-quoted inside shell strings.
        """
        if not self.copied or "/" not in value:
            return value

        def replace(match):
            text = match.group()
            host = self.host_path(text)
            if host is None:
                return text
            result = str(host)
            if text.endswith("/") and len(text) > 1 and not result.endswith("/"):
                result += "/"
            return result

        return _ABSOLUTE_PATH.sub(replace, value)

    def process(self, command: Sequence[str] | None = None, args: Sequence[str] | None = None, *,
                sandboxed: bool = False) -> HostProcess:
        """The process for a container with this image, following Kubernetes' rules.

        ======================  ==================  =========================
        template ``command``    template ``args``   argv
        ======================  ==================  =========================
        given                   given               ``command + args``
        given                   empty               ``command``
        empty                   given               ``ENTRYPOINT + args``
        empty                   empty               ``ENTRYPOINT + CMD``
        ======================  ==================  =========================

        ``sandboxed``: the process runs in a pod sandbox where the COPY/ADD
        sources are at their image paths, so argv and ``ENV`` stay as written
        and ``cwd`` is the image's ``WORKDIR``. Otherwise (on the host) image
        paths in argv and in the ``ENV`` defaults are rewritten with
        :meth:`rewrite` and ``cwd`` is :attr:`cwd`. Raises :class:`ImageError`
        when the result is empty.
        """
        image = self.dockerfile
        if command:
            argv = [*command, *(args or ())]
        elif args:
            argv = [*(image.entrypoint or ()), *args]
        else:
            argv = [*(image.entrypoint or ()), *(image.cmd or ())]
        if not argv:
            raise ImageError(
                f"image {self.image!r}: {image.path} sets neither ENTRYPOINT nor CMD "
                "(the base image's are not known here) and the template gives no command or args"
            )
        if sandboxed:
            return HostProcess([str(item) for item in argv], dict(image.env), Path(image.workdir))
        env = {name: self.rewrite(value) for name, value in image.env.items()}
        return HostProcess([self.rewrite(str(item)) for item in argv], env, self.cwd)


class ContainerRuntime(FrozenRecord):
    """A usable container runtime: ``name`` (``docker``/``podman``/…) and its executable."""

    name: str
    executable: str

    def __init__(self, name: str, executable: str) -> None:
        self.name = name
        self.executable = executable


class ContainerPlan(FrozenRecord):
    """Run the image in a container runtime."""

    image: str
    runtime: ContainerRuntime
    kind = "container"

    def __init__(self, image: str, runtime: ContainerRuntime) -> None:
        self.image = image
        self.runtime = runtime

    def run_argv(
        self,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        mounts: Iterable[Sequence] = (),
        workdir: str | None = None,
        options: Sequence[str] = (),
    ) -> list[str]:
        """``<runtime> run --rm -i -e K=V… -v host:container[:ro]… [-w workdir] [options] [--entrypoint c0] image …``.

        Kubernetes semantics: a ``command`` replaces the image's ENTRYPOINT and
        drops its CMD (``--entrypoint`` does both; ``command[1:]`` then
        ``args`` follow the image), ``args`` alone replace CMD. ``mounts`` are
        ``(host_dir, container_path, read_only)``; ``options``
        are extra ``run`` options placed before the image (``--network=host``…).
        """
        argv = [self.runtime.executable, "run", "--rm", "-i"]
        for name, value in (env or {}).items():
            argv += ["-e", f"{name}={value}"]
        for mount in mounts:
            host_dir, container_path = mount[0], mount[1]
            read_only = bool(mount[2]) if len(mount) > 2 else False
            argv += ["-v", f"{host_dir}:{container_path}" + (":ro" if read_only else "")]
        if workdir:
            argv += ["-w", str(workdir)]
        argv += list(options)
        if command:
            argv += ["--entrypoint", str(command[0])]
        argv.append(self.image)
        if command:
            argv += [str(item) for item in command[1:]]
        argv += [str(item) for item in args or ()]
        return argv


class UnavailablePlan(FrozenRecord):
    """The image cannot run here; ``message`` says what to install or configure."""

    image: str
    message: str
    kind = "unavailable"

    def __init__(self, image: str, message: str) -> None:
        self.image = image
        self.message = message


ImagePlan = Union[HostPlan, ArgosayPlan, ApplicationPlan, ContainerPlan, UnavailablePlan]


# --------------------------------------------------------------------------- container runtimes


_probe_cache: dict[str, tuple[bool, str]] = {}
_probe_lock = threading.Lock()


def _probe(executable: str) -> tuple[bool, str]:
    """Whether ``<executable> info`` succeeds (cached per executable); the reason when it does not."""
    with _probe_lock:
        cached = _probe_cache.get(executable)
    if cached is not None:
        return cached
    try:
        done = subprocess.run(
            [executable, "info"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=RUNTIME_PROBE_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        result = (False, f"`{executable} info` did not answer within {RUNTIME_PROBE_TIMEOUT:g}s")
    except OSError as error:
        result = (False, f"`{executable} info` failed: {error}")
    else:
        if done.returncode == 0:
            result = (True, "")
        else:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = f": {lines[-1].strip()}" if lines else ""
            result = (False, f"`{executable} info` exited with {done.returncode}{detail}")
    with _probe_lock:
        _probe_cache[executable] = result
    return result


def find_container_runtime() -> tuple[ContainerRuntime | None, str]:
    """The usable container runtime, or ``None`` with the reason why there is none.

    See ``WORKFLOWS_CONTAINER_RUNTIME`` in the module documentation.
    """
    choice = os.environ.get("WORKFLOWS_CONTAINER_RUNTIME", "").strip()
    if choice.lower() in ("none", "off", "false", "0"):
        return None, f"container runtimes are disabled by WORKFLOWS_CONTAINER_RUNTIME={choice}"
    names = ["docker", "podman"] if choice.lower() in ("", "auto") else [choice]
    problems = []
    for name in names:
        executable = shutil.which(name)
        if executable is None:
            problems.append(
                f"{name} is not installed (not on PATH)" if os.sep not in name else f"{name} is not executable"
            )
            continue
        usable, problem = _probe(executable)
        if usable:
            return ContainerRuntime(Path(name).name, executable), ""
        problems.append(problem)
    return None, "; ".join(problems)


def clear_caches() -> None:
    """Forget parsed Dockerfiles and container runtime probes."""
    with _parse_lock:
        _parse_cache.clear()
    with _probe_lock:
        _probe_cache.clear()


# --------------------------------------------------------------------------- the decision


def _copied_paths(image: DockerImage) -> tuple[tuple[CopiedPath, ...], tuple[str, ...]]:
    """Resolve the COPY/ADD sources of ``image`` in its context: what each image path holds."""
    context = image.context
    copied: list[CopiedPath] = []
    notes: list[str] = []
    for source, destination in image.copies:
        directory = destination.endswith("/")
        target = destination.rstrip("/") or "/"
        if glob.has_magic(source):
            matches = sorted(context.glob(source))
            directory = directory or len(matches) > 1
        else:
            matches = [context / source] if source != "." else [context]
        for host in matches:
            host = Path(os.path.normpath(host))
            if os.path.commonpath([str(host), str(context)]) != str(context):
                notes.append(f"{image.path}: COPY source {source!r} is outside the build context, ignored")
                continue
            if not host.exists():
                notes.append(f"{image.path}: COPY source {source!r} does not exist in {context}, ignored")
                continue
            if host.is_dir():
                copied.append(CopiedPath(target, host, True))
            else:
                copied.append(CopiedPath(posixpath.join(target, host.name) if directory else target, host, False))
    return tuple(copied), tuple(notes)


def _unavailable_message(image: str, problem: str) -> str:
    name = split_image(image)[0]
    if problem.startswith("container runtimes are disabled"):
        remedy = "unset WORKFLOWS_CONTAINER_RUNTIME to use Docker or Podman"
    elif "info`" in problem:
        remedy = "start the Docker daemon (or make Podman work), or install Docker or Podman"
    else:
        remedy = "install Docker or Podman"
    message = (
        f"image {image!r} is neither a host image nor an application image, and no container runtime "
        f"is available ({problem}): {remedy}, or run it on the host by adding it to WORKFLOWS_HOST_IMAGES "
        f"(e.g. WORKFLOWS_HOST_IMAGES={name})"
    )
    short = name.rsplit("/", 1)[-1]
    if "-" in short:
        applications = config.applications_dir().absolute()
        message += (
            f"; if it is an application image, its build context <app>/tasks/<task>/Dockerfile "
            f"was not found under {applications} (WORKFLOWS_APPLICATIONS)"
        )
    return message


def how_to_run(image: str) -> ImagePlan:
    """Decide how the local engine runs containers of ``image``.

    In order: an image with a build context → :class:`ApplicationPlan`; the
    default image (``WORKFLOWS_IMAGE``) or a host image pattern →
    :class:`HostPlan`; a reachable Docker/Podman → :class:`ContainerPlan`;
    otherwise :class:`UnavailablePlan`. Dockerfiles are parsed once per
    (path, mtime); raises :class:`~workflows.engine.dockerfile.DockerfileError`
    for a broken one and :class:`ImageError` for an empty image name.
    """
    image = (image or "").strip()
    if not image:
        raise ImageError("a container has no image")
    found = find_dockerfile(image)
    if found is not None:
        dockerfile, builtin = found
        parsed = load_dockerfile(dockerfile)
        copied, notes = _copied_paths(parsed)
        return ApplicationPlan(image, parsed, copied, builtin, notes)
    name, tag, _ = split_image(image)
    version = argosay_version(short_name(name), tag)
    if version is not None:
        return ArgosayPlan(image, version)
    if _same_image(image, config.default_image()):
        return HostPlan(image, "it is the default image (WORKFLOWS_IMAGE)")
    pattern = host_image_pattern(image)
    if pattern is not None:
        return HostPlan(image, f"it matches the host image pattern {pattern!r}")
    runtime, problem = find_container_runtime()
    if runtime is not None:
        return ContainerPlan(image, runtime)
    return UnavailablePlan(image, _unavailable_message(image, problem))
