"""A Dockerfile reader: what an image built from a build context would run, without building it.

The local engine runs an application image (``applications/<app>/tasks/<task>/``)
on this machine from its build context; :func:`parse_dockerfile` extracts what
that needs from the ``Dockerfile``: the base image, ``ENV`` defaults, ``WORKDIR``,
``ENTRYPOINT``/``CMD`` and what ``COPY``/``ADD`` put where.

Semantics follow Docker (BuildKit):

* line continuations (the escape character at the end of a line), comments,
  parser directives (``# escape=`` is honoured, ``# syntax=``/``# check=`` are
  accepted), case-insensitive instructions;
* multi-stage builds: the last stage is described; a stage ``FROM`` an earlier
  stage inherits its environment, working directory, ``ENTRYPOINT``/``CMD`` and
  copies, and ``base`` is the external image at the root of that chain;
* ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
  ``${VAR:+alt}``, ``${VAR+alt}``, ``${VAR:?message}`` in ``ENV``, ``ARG``,
  ``WORKDIR``, ``COPY``/``ADD``, ``FROM``, ``USER``; values come from earlier
  ``ENV`` and ``ARG`` (build arguments replace the defaults, as ``--build-arg`` does), and
  from ``base_env`` for what the base image's environment would hold; single
  quotes are literal, double quotes expand; every ``ENV a=1 b=$a`` pair sees the
  values from before the instruction, as in Docker;
* ``ARG`` before the first ``FROM`` is global: usable in ``FROM`` lines, and in a
  stage once redeclared there (``ARG NAME``);
* ``CMD``/``ENTRYPOINT`` in exec (JSON) form or shell form (wrapped in the
  ``SHELL``, by default ``["/bin/sh", "-c"]``); an ``ENTRYPOINT`` resets a ``CMD``
  inherited from the parent stage, but not one set earlier in the same stage
  (Docker's rule);
* ``RUN`` lines are recorded (:class:`RunStep`) with their environment and working
  directory, for the engine to replay them (:mod:`.build`);
* heredocs (``RUN <<EOF``, ``COPY <<EOF /file``) are skipped, with a note.

Docker would run a malformed exec form such as ``CMD [python, main.py]`` through
the shell, where it fails in a confusing way; here it is a :class:`DockerfileError`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import DockerfileError

DEFAULT_SHELL = ("/bin/sh", "-c")

_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)")
_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Directories every usual base image has: ``COPY file /usr/local/bin`` copies into them.
_BASE_IMAGE_DIRECTORIES = frozenset(
    {
        "/",
        "/bin",
        "/etc",
        "/home",
        "/opt",
        "/root",
        "/sbin",
        "/srv",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/sbin",
        "/usr/share",
        "/var",
    }
)
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@)")


@dataclass(frozen=True)
class RunStep:
    """A ``RUN`` line: its command (exec form, or shell form wrapped in the ``SHELL``), the environment it
    sees (``ENV`` and ``ARG`` values at that point, over ``base_env``) and the ``WORKDIR``."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    workdir: str


@dataclass(frozen=True)
class DockerImage:
    """What the last stage of a Dockerfile describes.

    ``env`` holds the ``ENV`` values only (not ``ARG``s, not the base image's);
    ``workdir`` is absolute and normalised (``/`` when never set); ``entrypoint``
    and ``cmd`` are ``None`` when the Dockerfile does not set them (the base
    image's are unknown); ``copies`` lists ``(source, destination)`` for every
    ``COPY``/``ADD`` of the build context, one pair per source, in order:
    sources are relative to the context (``.`` is the context itself, globs are
    kept), destinations are absolute image paths and end with ``/`` when Docker
    treats them as directories (a trailing ``/``, an existing directory such as the
    ``WORKDIR``, several sources, or a source that is a folder: ``.`` or ``src/``).
    ``notes`` lists what was skipped (heredocs, ``COPY --from``, URLs).
    Treat the mappings and lists as read-only: parsed images are shared through caches.
    """

    path: Path
    base: str
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    copies: list[tuple[str, str]] = field(default_factory=list)
    runs: tuple[RunStep, ...] = ()
    has_run_lines: bool = False
    shell: tuple[str, ...] = DEFAULT_SHELL
    user: str | None = None
    stage: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def context(self) -> Path:
        """The build context: the folder holding the Dockerfile."""
        return self.path.parent


def parse_dockerfile(path, base_env: Mapping[str, str] | None = None,
                     build_args: Mapping[str, str] | None = None) -> DockerImage:
    """Read the Dockerfile at ``path`` and describe the image its last stage builds.

    ``base_env`` gives values for variables the base image would define (for
    example ``{"PATH": ...}`` so that ``ENV PATH=/app/bin:$PATH`` keeps a usable
    ``PATH``); variables defined nowhere expand to the empty string.
    ``build_args`` are ``--build-arg`` values: they replace the default of an
    ``ARG`` of that name. Raises :class:`DockerfileError` naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DockerfileError(path, None, f"cannot read Dockerfile: {error}") from error
    return _Parser(path, text, dict(base_env or {}), dict(build_args or {})).parse()


# --------------------------------------------------------------------------- lexing


def _split_words(text: str, escape: str) -> list[str]:
    """Split on blanks outside quotes; quotes and escapes are kept (Docker's ``parseWords``)."""
    words: list[str] = []
    word: list[str] = []
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None and ch.isspace():
            if word:
                words.append("".join(word))
                word = []
            i += 1
            continue
        if ch == escape and quote != "'" and i + 1 < len(text):
            word.append(text[i : i + 2])
            i += 2
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        word.append(ch)
        i += 1
    if word:
        words.append("".join(word))
    return words


class _Expander:
    """Docker's word processing: quote removal, escapes and ``$`` substitutions."""

    def __init__(self, env: Mapping[str, str], escape: str, fail) -> None:
        self.env = env
        self.escape = escape
        self.fail = fail

    def word(self, text: str) -> str:
        value, _ = self._until(text, 0, None)
        return value

    def _until(self, text: str, i: int, stop: str | None) -> tuple[str, int]:
        out: list[str] = []
        n = len(text)
        while i < n:
            ch = text[i]
            if stop is not None and ch == stop:
                return "".join(out), i + 1
            if ch == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    self.fail(f"unterminated single quote in {text!r}")
                out.append(text[i + 1 : end])
                i = end + 1
            elif ch == '"':
                i = self._double(text, i + 1, out)
            elif ch == self.escape:
                if i + 1 < n:
                    out.append(text[i + 1])
                i += 2
            elif ch == "$":
                value, i = self._dollar(text, i + 1)
                out.append(value)
            else:
                out.append(ch)
                i += 1
        if stop is not None:
            self.fail(f"missing {stop!r} in {text!r}")
        return "".join(out), i

    def _double(self, text: str, i: int, out: list[str]) -> int:
        n = len(text)
        while i < n and text[i] != '"':
            ch = text[i]
            if ch == "$":
                value, i = self._dollar(text, i + 1)
                out.append(value)
            elif ch == self.escape and i + 1 < n and text[i + 1] in ('"', "$", self.escape):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(ch)
                i += 1
        if i >= n:
            self.fail(f"unterminated double quote in {text!r}")
        return i + 1

    def _dollar(self, text: str, i: int) -> tuple[str, int]:
        """Expand what follows a ``$`` at ``i``; return the value and the index after it."""
        n = len(text)
        if i < n and text[i] == "{":
            match = _NAME.match(text, i + 1)
            if not match:
                self.fail(f"bad substitution in {text!r}")
            name = match.group()
            j = match.end()
            if j < n and text[j] == "}":
                return self.env.get(name, ""), j + 1
            for modifier in (":-", ":+", ":?", "-", "+", "?"):
                if text.startswith(modifier, j):
                    word, end = self._until(text, j + len(modifier), "}")
                    return self._modify(name, modifier, word), end
            self.fail(f"unsupported substitution in {text!r} (only :-, -, :+, +, :? and ? are supported)")
        if i < n and _NAME_START.match(text[i]):
            match = _NAME.match(text, i)
            return self.env.get(match.group(), ""), match.end()
        return "$", i

    def _modify(self, name: str, modifier: str, word: str) -> str:
        value = self.env.get(name)
        is_set = value is not None
        if modifier.startswith(":"):
            is_set = bool(value)
        kind = modifier[-1]
        if kind == "-":
            return value if is_set else word  # type: ignore[return-value]
        if kind == "+":
            return word if is_set else ""
        if not is_set:
            self.fail(f"{name}: {word or 'is not set'}")
        return value  # type: ignore[return-value]


# --------------------------------------------------------------------------- parsing


@dataclass
class _Stage:
    base: str
    name: str | None
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    cmd_set: bool = False
    shell: tuple[str, ...] = DEFAULT_SHELL
    copies: list[tuple[str, str]] = field(default_factory=list)
    runs: list[RunStep] = field(default_factory=list)
    user: str | None = None
    dirs: set = field(default_factory=set)  # directories known to exist in the image

    def directories(self) -> set:
        """Directories known to exist: the usual ones of a base image, WORKDIRs, copy targets, their parents."""
        known = set(_BASE_IMAGE_DIRECTORIES)
        for directory in self.dirs:
            while directory not in known:
                known.add(directory)
                directory = posixpath.dirname(directory)
        return known

    def child(self, name: str | None) -> _Stage:
        """A stage ``FROM`` this one: image configuration carried over, ARGs not."""
        return _Stage(
            base=self.base,
            name=name,
            env=dict(self.env),
            workdir=self.workdir,
            entrypoint=None if self.entrypoint is None else list(self.entrypoint),
            cmd=None if self.cmd is None else list(self.cmd),
            shell=self.shell,
            copies=list(self.copies),
            runs=list(self.runs),
            user=self.user,
            dirs=set(self.dirs),
        )


class _Parser:
    def __init__(self, path: Path, text: str, base_env: dict[str, str], build_args: dict[str, str]) -> None:
        self.path = path
        self.build_args = build_args
        self.lines = text.lstrip("\ufeff").splitlines()
        self.base_env = base_env
        self.escape = "\\"
        self.line = 0
        self.global_args: dict[str, str | None] = {}
        self.stages: list[_Stage] = []
        self.stage: _Stage | None = None
        self.has_run_lines = False
        self.notes: list[str] = []

    def fail(self, message: str):
        raise DockerfileError(self.path, self.line or None, message)

    def note(self, message: str) -> None:
        self.notes.append(f"{self.path}:{self.line}: {message}")

    # ---- lines

    def _logical_lines(self):
        """Yield ``(line number, instruction text)``; handle directives, comments, continuations, heredocs."""
        lines = self.lines
        n = len(lines)
        i = 0
        directives = True
        seen: set = set()
        while i < n:
            raw = lines[i]
            i += 1
            stripped = raw.strip()
            if directives:
                match = _DIRECTIVE.match(stripped)
                name = match.group(1).lower() if match else None
                if name in _KNOWN_DIRECTIVES and name not in seen:
                    seen.add(name)
                    if name == "escape":
                        if match.group(2) not in ("\\", "`"):
                            self.line = i
                            self.fail(f"invalid escape directive {match.group(2)!r}: use \\ or `")
                        self.escape = match.group(2)
                    continue
                directives = False
            if not stripped or stripped.startswith("#"):
                continue
            start = i
            parts: list[str] = []
            current = raw
            while True:
                body = current.rstrip()
                if body.endswith(self.escape):
                    parts.append(body[:-1])
                    while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                        i += 1
                    if i >= n:
                        break
                    current = lines[i]
                    i += 1
                    continue
                parts.append(current)
                break
            logical = "".join(parts).strip()
            if not logical:
                continue
            self.line = start
            keyword = logical.split(None, 1)[0].upper()
            if keyword in ("RUN", "COPY", "ADD"):
                for match in _HEREDOC.finditer(logical):
                    strip_tabs, terminator = match.group(1) == "-", match.group(3)
                    while True:
                        if i >= n:
                            self.fail(f"heredoc <<{terminator} is not terminated")
                        body = lines[i]
                        i += 1
                        if (body.lstrip("\t") if strip_tabs else body) == terminator:
                            break
                    self.note(f"heredoc <<{terminator} of {keyword} ignored")
            yield start, logical

    # ---- helpers

    def expander(self, env: Mapping[str, str] | None = None) -> _Expander:
        if env is None:
            env = self.expansion_env()
        return _Expander(env, self.escape, self.fail)

    def expansion_env(self) -> dict[str, str]:
        stage = self.stage
        env = dict(self.base_env)
        env.update({k: v for k, v in stage.args.items() if v is not None})
        env.update(stage.env)
        return env

    def words(self, text: str) -> list[str]:
        expand = self.expander()
        return [expand.word(word) for word in _split_words(text, self.escape)]

    def flags(self, text: str) -> tuple[dict[str, str | None], str]:
        found: dict[str, str | None] = {}
        while True:
            match = _FLAG.match(text)
            if not match:
                return found, text
            found[match.group(1).lower()] = match.group(2)
            text = text[match.end() :]

    def json_array(self, text: str, instruction: str) -> list[str] | None:
        """The exec form of ``text``, or ``None`` when it is in shell form."""
        text = text.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        # "[ -f x ]" is a shell test command; "[python, x]" or "['a']" is a broken exec form.
        if text.endswith("]") and (value is not None or any(c in text for c in "\"',")):
            self.fail(
                f"{instruction} {text}: malformed JSON array (the exec form needs double-quoted strings, "
                'e.g. ["python", "main.py"])'
            )
        return None

    def command(self, text: str, instruction: str) -> list[str]:
        exec_form = self.json_array(text, instruction)
        if exec_form is not None:
            return exec_form
        return [*self.stage.shell, text.strip()]

    # ---- instructions

    def parse(self) -> DockerImage:
        for _, logical in self._logical_lines():
            parts = logical.split(None, 1)
            instruction = parts[0].upper()
            rest = parts[1].strip() if len(parts) > 1 else ""
            if instruction not in _INSTRUCTIONS:
                self.fail(f"unknown instruction {parts[0]!r}")
            if not rest:
                self.fail(f"{instruction} needs arguments")
            if self.stage is None and instruction not in ("FROM", "ARG"):
                self.fail(f"{instruction} before the first FROM")
            getattr(self, "do_" + instruction.lower(), self.do_ignored)(rest)
        if self.stage is None:
            self.line = 0
            self.fail("no FROM instruction")
        stage = self.stage
        return DockerImage(
            path=self.path,
            base=stage.base,
            env=dict(stage.env),
            workdir=stage.workdir,
            entrypoint=stage.entrypoint,
            cmd=stage.cmd,
            copies=list(stage.copies),
            runs=tuple(stage.runs),
            has_run_lines=self.has_run_lines,
            shell=stage.shell,
            user=stage.user,
            stage=stage.name,
            notes=tuple(self.notes),
        )

    def do_ignored(self, rest: str) -> None:
        """LABEL, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER: nothing to run."""

    def do_from(self, rest: str) -> None:
        _, rest = self.flags(rest)
        env = {k: v for k, v in self.global_args.items() if v is not None}
        words = [self.expander(env).word(word) for word in _split_words(rest, self.escape)]
        if len(words) == 3 and words[1].lower() == "as":
            image, name = words[0], words[2].lower()
        elif len(words) == 1:
            image, name = words[0], None
        else:
            self.fail(f"FROM {rest}: expected 'FROM image [AS name]'")
        parent = next((stage for stage in reversed(self.stages) if stage.name == image.lower()), None)
        self.stage = parent.child(name) if parent else _Stage(base=image, name=name)
        self.stages.append(self.stage)

    def do_arg(self, rest: str) -> None:
        target = self.global_args if self.stage is None else self.stage.args
        env = (
            {k: v for k, v in self.global_args.items() if v is not None} if self.stage is None else self.expansion_env()
        )
        for word in _split_words(rest, self.escape):
            name, equals, default = word.partition("=")
            if not _NAME.fullmatch(name):
                self.fail(f"ARG {rest}: invalid name {name!r}")
            if name in self.build_args:
                target[name] = self.build_args[name]
            elif equals:
                target[name] = self.expander(env).word(default)
            elif self.stage is not None and name in self.global_args:
                target[name] = self.global_args[name]
            else:
                target[name] = None
            if self.stage is not None:
                env = self.expansion_env()

    def do_env(self, rest: str) -> None:
        expand = self.expander()  # every pair sees the values from before this instruction
        words = _split_words(rest, self.escape)
        pairs: list[tuple[str, str]] = []
        if "=" not in words[0]:
            legacy = rest.split(None, 1)
            if len(legacy) < 2:
                self.fail(f"ENV {rest}: needs a name and a value")
            pairs.append((legacy[0], expand.word(legacy[1])))
        else:
            for word in words:
                name, equals, value = word.partition("=")
                if not equals or not name:
                    self.fail(f"ENV {rest}: {word!r} is not NAME=value")
                pairs.append((expand.word(name), expand.word(value)))
        for name, value in pairs:
            self.stage.env[name] = value

    def do_workdir(self, rest: str) -> None:
        words = self.words(rest)
        target = " ".join(words)
        joined = posixpath.join(self.stage.workdir, target)
        self.stage.workdir = _normalize(joined)
        self.stage.dirs.add(self.stage.workdir)

    def do_cmd(self, rest: str) -> None:
        self.stage.cmd = self.command(rest, "CMD")
        self.stage.cmd_set = True

    def do_entrypoint(self, rest: str) -> None:
        self.stage.entrypoint = self.command(rest, "ENTRYPOINT")
        if not self.stage.cmd_set:
            self.stage.cmd = None

    def do_shell(self, rest: str) -> None:
        shell = self.json_array(rest, "SHELL")
        if not shell:
            self.fail(f'SHELL {rest}: must be a non-empty JSON array, e.g. ["/bin/bash", "-c"]')
        self.stage.shell = tuple(shell)

    def do_run(self, rest: str) -> None:
        self.has_run_lines = True
        _, rest = self.flags(rest)  # --mount, --network, --security: build-time options without effect here
        self.stage.runs.append(RunStep(tuple(self.command(rest, "RUN")), tuple(sorted(self.expansion_env().items())),
                                       self.stage.workdir))

    def do_user(self, rest: str) -> None:
        self.stage.user = " ".join(self.words(rest))

    def do_copy(self, rest: str, instruction: str = "COPY") -> None:
        flags, rest = self.flags(rest)
        if "from" in flags:
            self.note(f"{instruction} --from={flags['from']} ignored (files from another stage or image)")
            return
        paths = self.json_array(rest, instruction)
        if paths is None:
            paths = self.words(rest)
        else:
            expand = self.expander()
            paths = [expand.word(item) for item in paths]
        if len(paths) < 2:
            self.fail(f"{instruction} {rest}: needs at least one source and a destination")
        *sources, destination = paths
        absolute = _normalize(posixpath.join(self.stage.workdir, destination))
        # Docker copies into <dest> when it ends with "/" or already is a directory in the image.
        directory = (
            destination.endswith("/")
            or destination == "."
            or destination.endswith("/.")
            or len(sources) > 1
            or any(source in (".", "./") or source.endswith("/") for source in sources)
            or absolute in self.stage.directories()
        )
        destination = absolute
        if directory and destination != "/":
            destination += "/"
        self.stage.dirs.add(absolute if directory else posixpath.dirname(absolute))
        for source in sources:
            if _URL.match(source):
                self.note(f"{instruction} {source} ignored (not in the build context)")
                continue
            if source.startswith("<<"):
                continue
            relative = posixpath.normpath("/" + source).lstrip("/") or "."
            self.stage.copies.append((relative, destination))

    def do_add(self, rest: str) -> None:
        self.do_copy(rest, "ADD")


def _normalize(path: str) -> str:
    """An absolute, normalised image path (``//x`` becomes ``/x``)."""
    normalized = posixpath.normpath("/" + path.lstrip("/"))
    return "/" + normalized.lstrip("/")
