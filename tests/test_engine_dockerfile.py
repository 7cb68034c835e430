"""The Dockerfile reader of the local engine: what an image built from a context would run."""

from __future__ import annotations

import pytest

from workflows.engine.pod.dockerfile import DockerfileError, parse_dockerfile


def parse(tmp_path, text: str, **kwargs):
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return parse_dockerfile(path, **kwargs)


def test_minimal_image_has_docker_defaults(tmp_path):
    image = parse(tmp_path, "FROM python:3.12-slim\n")
    assert image.base == "python:3.12-slim"
    assert image.env == {}
    assert image.workdir == "/"
    assert image.entrypoint is None and image.cmd is None
    assert image.copies == []
    assert image.has_run_lines is False
    assert image.path == tmp_path / "Dockerfile" and image.context == tmp_path


# ---------------------------------------------------------------- ENV and ARG


def test_env_key_value_form_with_quotes_and_escapes(tmp_path):
    image = parse(
        tmp_path,
        'FROM alpine\nENV a=b c="d e" f=\'$literal\' g=one\\ two h=\\$x i=""\n',
    )
    assert image.env == {"a": "b", "c": "d e", "f": "$literal", "g": "one two", "h": "$x", "i": ""}


def test_env_legacy_form_takes_the_rest_of_the_line(tmp_path):
    image = parse(tmp_path, 'FROM alpine\nENV GREETING hello  big world\nENV QUOTED "a b"\n')
    assert image.env == {"GREETING": "hello  big world", "QUOTED": "a b"}


def test_env_expansion_forms(tmp_path):
    image = parse(
        tmp_path,
        "FROM alpine\n"
        "ENV HOME_DIR=/home/me EMPTY=\n"
        "ENV A=$HOME_DIR/a B=${HOME_DIR}/b C=${MISSING:-fallback} D=${EMPTY:-e} E=${EMPTY-unset-only}\n"
        'ENV F=${HOME_DIR:+alt} G=${MISSING:+alt} H=x${MISSING}y I="$HOME_DIR q" J=${MISSING:-${HOME_DIR}/n}\n',
    )
    assert image.env["A"] == "/home/me/a"
    assert image.env["B"] == "/home/me/b"
    assert image.env["C"] == "fallback"
    assert image.env["D"] == "e"
    assert image.env["E"] == ""
    assert image.env["F"] == "alt"
    assert image.env["G"] == ""
    assert image.env["H"] == "xy"
    assert image.env["I"] == "/home/me q"
    assert image.env["J"] == "/home/me/n"


def test_env_pairs_of_one_instruction_see_the_previous_values(tmp_path):
    """Docker's documented example: ``def`` gets ``hello``, ``ghi`` gets ``bye``."""
    image = parse(tmp_path, "FROM alpine\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n")
    assert image.env == {"abc": "bye", "def": "hello", "ghi": "bye"}


def test_required_variable_missing_is_an_error(tmp_path):
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: .*NEEDED: set it"):
        parse(tmp_path, 'FROM alpine\nENV X="${NEEDED:?set it}"\n')


def test_arg_defaults_expand_but_do_not_become_env(tmp_path):
    image = parse(
        tmp_path,
        "FROM alpine\nARG VERSION=1.2\nARG UNSET\nARG DERIVED=v$VERSION\n"
        "ENV V=$VERSION D=$DERIVED U=[$UNSET] X=${UNSET-default}\n",
    )
    assert image.env == {"V": "1.2", "D": "v1.2", "U": "[]", "X": "default"}


def test_env_overrides_arg_of_the_same_name(tmp_path):
    image = parse(tmp_path, "FROM alpine\nARG NAME=from-arg\nENV NAME=from-env\nENV OUT=$NAME\n")
    assert image.env["OUT"] == "from-env"


def test_global_args_serve_from_and_need_redeclaring_in_a_stage(tmp_path):
    image = parse(
        tmp_path,
        "ARG BASE=python\nARG TAG=3.12-slim\nFROM ${BASE}:$TAG\nENV BEFORE=[$TAG]\nARG TAG\nENV AFTER=[$TAG]\n",
    )
    assert image.base == "python:3.12-slim"
    assert image.env == {"BEFORE": "[]", "AFTER": "[3.12-slim]"}


def test_base_env_stands_for_the_base_image_environment(tmp_path):
    image = parse(tmp_path, "FROM python\nENV PATH=/app/bin:$PATH\n", base_env={"PATH": "/usr/bin:/bin"})
    assert image.env == {"PATH": "/app/bin:/usr/bin:/bin"}
    assert parse(tmp_path, "FROM python\nENV PATH=/app/bin:$PATH\n").env == {"PATH": "/app/bin:"}


# ---------------------------------------------------------------- WORKDIR


def test_workdir_absolute_relative_and_expanded(tmp_path):
    text = "FROM alpine\nWORKDIR /srv\nWORKDIR app\nWORKDIR ../lib/./x/\n"
    assert parse(tmp_path, text).workdir == "/srv/lib/x"
    assert parse(tmp_path, "FROM alpine\nENV ROOT=/opt/me\nWORKDIR $ROOT/run\n").workdir == "/opt/me/run"
    assert parse(tmp_path, "FROM alpine\nWORKDIR relative\n").workdir == "/relative"


# ---------------------------------------------------------------- ENTRYPOINT, CMD, SHELL


def test_exec_and_shell_forms(tmp_path):
    image = parse(tmp_path, 'FROM alpine\nENTRYPOINT ["python", "-u"]\nCMD echo "$HOME" && ls\n')
    assert image.entrypoint == ["python", "-u"]
    assert image.cmd == ["/bin/sh", "-c", 'echo "$HOME" && ls']


def test_shell_instruction_changes_the_shell_form(tmp_path):
    image = parse(tmp_path, 'FROM debian\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD run | tee log\n')
    assert image.cmd == ["/bin/bash", "-o", "pipefail", "-c", "run | tee log"]
    assert image.shell == ("/bin/bash", "-o", "pipefail", "-c")


def test_shell_test_command_is_shell_form_not_json(tmp_path):
    assert parse(tmp_path, "FROM alpine\nCMD [ -f /ready ]\n").cmd == ["/bin/sh", "-c", "[ -f /ready ]"]


def test_later_cmd_replaces_earlier_and_empty_exec_form_is_kept(tmp_path):
    assert parse(tmp_path, 'FROM alpine\nCMD ["a"]\nCMD ["b", "c"]\n').cmd == ["b", "c"]
    assert parse(tmp_path, "FROM alpine\nCMD []\n").cmd == []


def test_entrypoint_keeps_a_cmd_set_in_the_same_stage(tmp_path):
    """BuildKit resets CMD on ENTRYPOINT only when CMD was inherited, not set in this stage."""
    image = parse(tmp_path, 'FROM alpine\nCMD ["--help"]\nENTRYPOINT ["tool"]\n')
    assert image.entrypoint == ["tool"] and image.cmd == ["--help"]


def test_entrypoint_resets_a_cmd_inherited_from_the_parent_stage(tmp_path):
    image = parse(
        tmp_path,
        'FROM alpine AS base\nCMD ["--help"]\nFROM base\nENTRYPOINT ["tool"]\n',
    )
    assert image.entrypoint == ["tool"] and image.cmd is None
    kept = parse(tmp_path, 'FROM alpine AS base\nCMD ["--help"]\nFROM base\nENV X=1\n')
    assert kept.cmd == ["--help"]


@pytest.mark.parametrize(
    "line",
    ["CMD [python, main.py]", "CMD ['python', 'main.py']", 'ENTRYPOINT ["python", 3]', 'CMD ["python", "x"'],
)
def test_malformed_json_array_names_file_and_line(tmp_path, line):
    if not line.endswith("]"):
        # An unterminated array is shell form to Docker too.
        assert parse(tmp_path, f"FROM alpine\n{line}\n").cmd[:2] == ["/bin/sh", "-c"]
        return
    with pytest.raises(DockerfileError, match=r"Dockerfile:3: .*malformed JSON array") as caught:
        parse(tmp_path, f"FROM alpine\n\n{line}\n")
    assert caught.value.line == 3
    assert caught.value.path == tmp_path / "Dockerfile"


def test_shell_must_be_json(tmp_path):
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: SHELL"):
        parse(tmp_path, "FROM alpine\nSHELL /bin/bash -c\n")


# ---------------------------------------------------------------- COPY and ADD


def test_copy_destinations(tmp_path):
    image = parse(
        tmp_path,
        "FROM python\n"
        "COPY . /app\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "COPY ./main.py lib/\n"
        "COPY a.py b.py /multi\n"
        "COPY conf.yaml settings.yaml\n"
        "COPY tool /usr/local/bin\n"
        "ADD --chown=1000:1000 --chmod=755 data/ /data/\n"
        'COPY ["with space.txt", "/spaced/"]\n'
        "COPY /abs.txt /root-relative.txt\n"
        "ENV DEST=/env\n"
        "COPY *.py $DEST/\n",
    )
    assert image.copies == [
        (".", "/app/"),
        ("requirements.txt", "/app/"),
        ("main.py", "/app/lib/"),
        ("a.py", "/multi/"),
        ("b.py", "/multi/"),
        ("conf.yaml", "/app/settings.yaml"),
        ("tool", "/usr/local/bin/"),
        ("data", "/data/"),
        ("with space.txt", "/spaced/"),
        ("abs.txt", "/root-relative.txt"),
        ("*.py", "/env/"),
    ]


def test_copy_from_other_stages_and_urls_are_ignored_with_a_note(tmp_path):
    image = parse(
        tmp_path,
        "FROM golang AS build\nCOPY . /src\nRUN go build -o /out/tool\n"
        "FROM alpine\nCOPY --from=build /out/tool /usr/bin/tool\n"
        "ADD https://example.com/x.tar.gz /opt/\nCOPY run.sh /run.sh\n",
    )
    assert image.copies == [("run.sh", "/run.sh")]
    assert any("--from=build" in note for note in image.notes)
    assert any("https://example.com/x.tar.gz" in note for note in image.notes)


# ---------------------------------------------------------------- stages, RUN


def test_last_stage_is_described(tmp_path):
    image = parse(
        tmp_path,
        'FROM node:20 AS assets\nENV NODE=1\nWORKDIR /web\nCMD ["npm", "start"]\nFROM python:3.12-slim\nENV PY=1\n',
    )
    assert image.base == "python:3.12-slim"
    assert image.env == {"PY": "1"}
    assert image.workdir == "/" and image.cmd is None and image.stage is None


def test_stage_from_an_earlier_stage_inherits_its_configuration(tmp_path):
    image = parse(
        tmp_path,
        'FROM python:3.12-slim AS Base\nENV A=1\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
        "FROM base AS final\nENV B=$A-2\n",
    )
    assert image.base == "python:3.12-slim"
    assert image.stage == "final"
    assert image.env == {"A": "1", "B": "1-2"}
    assert image.workdir == "/app"
    assert image.copies == [(".", "/app/")]
    assert image.cmd == ["python", "main.py"]


def test_run_lines_are_detected_not_interpreted(tmp_path):
    assert parse(tmp_path, "FROM alpine\nrun apk add curl && exit 1\n").has_run_lines is True
    assert parse(tmp_path, 'FROM alpine\nCMD ["true"]\n').has_run_lines is False


# ---------------------------------------------------------------- lexical structure


def test_continuations_comments_and_case_insensitive_instructions(tmp_path):
    image = parse(
        tmp_path,
        "# a comment\n"
        "\n"
        "from python:3.12 as app\n"
        "Env A=1 \\\n"
        "    # a comment inside the continuation\n"
        "\n"
        "    B=2\n"
        "  workdir /app   \n"
        "cmd python \\\n"
        "  main.py \\\n"
        "  --flag\n"
        "RUN apt-get update \\\n"
        " && apt-get install -y x\n",
    )
    assert image.base == "python:3.12"
    assert image.env == {"A": "1", "B": "2"}
    assert image.workdir == "/app"
    assert image.cmd == ["/bin/sh", "-c", "python   main.py   --flag"]


def test_escape_directive(tmp_path):
    image = parse(
        tmp_path,
        "# escape=`\n# syntax=docker/dockerfile:1\nFROM windows\nENV DIR=C:\\data `\n    X=1\nWORKDIR /x\n",
    )
    assert image.env == {"DIR": "C:\\data", "X": "1"}


def test_directives_only_count_at_the_top(tmp_path):
    # After a comment, "# escape=`" is just a comment: the backslash still continues lines.
    image = parse(tmp_path, "# hello\n# escape=`\nFROM alpine\nENV A=1 \\\n B=2\n")
    assert image.env == {"A": "1", "B": "2"}


def test_heredocs_are_skipped_with_a_note(tmp_path):
    image = parse(
        tmp_path,
        "# syntax=docker/dockerfile:1.4\n"
        "FROM python\n"
        "RUN <<EOF\n"
        "pip install x\n"
        "THIS IS NOT AN INSTRUCTION\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tkey = value\n"
        "\tCONF\n"
        'CMD ["python"]\n',
    )
    assert image.cmd == ["python"]
    assert image.has_run_lines is True
    assert image.copies == []
    assert sum("heredoc" in note for note in image.notes) == 2


def test_ignored_instructions_are_accepted(tmp_path):
    image = parse(
        tmp_path,
        "FROM alpine\nLABEL a=b\nEXPOSE 80\nVOLUME /data\nUSER 1000:1000\nSTOPSIGNAL SIGTERM\n"
        "HEALTHCHECK NONE\nONBUILD RUN x\nMAINTAINER me\n",
    )
    assert image.user == "1000:1000"


# ---------------------------------------------------------------- errors


def test_unreadable_file(tmp_path):
    with pytest.raises(DockerfileError, match=r"missing/Dockerfile: cannot read Dockerfile"):
        parse_dockerfile(tmp_path / "missing" / "Dockerfile")


def test_unknown_instruction_names_file_and_line(tmp_path):
    with pytest.raises(DockerfileError) as caught:
        parse(tmp_path, "FROM alpine\nENV A=1 \\\n  B=2\nCOPPY . /app\n")
    assert str(caught.value) == f"{tmp_path / 'Dockerfile'}:4: unknown instruction 'COPPY'"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no FROM instruction"),
        ("# only a comment\n", "no FROM instruction"),
        ("ENV A=1\nFROM alpine\n", ":1: ENV before the first FROM"),
        ("FROM alpine\nRUN <<EOF\nnever ends\n", ":2: heredoc <<EOF is not terminated"),
        ("FROM alpine\nENV A\n", ":2: ENV A: needs a name and a value"),
        ("FROM alpine\nENV A=1 B\n", ":2: .*'B' is not NAME=value"),
        ("FROM alpine\nWORKDIR\n", ":2: WORKDIR needs arguments"),
        ("FROM alpine\nCOPY onlyone\n", ":2: COPY onlyone: needs at least one source"),
        ('FROM alpine\nENV A="unterminated\n', ":2: unterminated double quote"),
        ("FROM a b c d\n", ":1: FROM a b c d: expected"),
    ],
)
def test_errors(tmp_path, text, message):
    with pytest.raises(DockerfileError, match=message):
        parse(tmp_path, text)
