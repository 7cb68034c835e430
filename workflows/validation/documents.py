"""Reading Argo documents from YAML (possibly multi-document) and JSON files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from ..errors import BadOperationConfiguration


class _KubernetesLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when available
    """A safe YAML loader that keeps timestamps as strings, as Kubernetes' YAML to JSON conversion does."""


_KubernetesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_documents(path: str | os.PathLike[str]) -> list[dict]:
    """Return the documents of the YAML or JSON file ``path``, skipping empty YAML documents.

    A ``.json`` file holds one document or a list of documents.  Raises
    :class:`BadOperationConfiguration` naming the file (and the line, when the
    parser gives one) when it cannot be parsed or a document is not a mapping.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadOperationConfiguration(f"{file}: cannot read: {error}") from error
    documents = _parse_json(file, text) if file.suffix.lower() == ".json" else _parse_yaml(file, text)
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict):
            raise BadOperationConfiguration(
                f"{file}: document {number} is a {type(document).__name__}, expected a mapping (an Argo resource)"
            )
    return documents


def _parse_json(file: Path, text: str) -> list:
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadOperationConfiguration(
            f"{file}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    return content if isinstance(content, list) else [content]


def _parse_yaml(file: Path, text: str) -> list:
    try:
        return [document for document in yaml.load_all(text, Loader=_KubernetesLoader) if document is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise BadOperationConfiguration(f"{file}: invalid YAML{where}: {problem}") from error
