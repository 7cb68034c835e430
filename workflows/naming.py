"""Name rules of Kubernetes and Argo, and the normalisation applied to user names."""

from __future__ import annotations

import re

from .errors import BadOperationConfiguration

#: Kubernetes label values and Argo object names are limited to 63 characters.
MAX_OBJECT_NAME = 63
#: ``metadata.generateName`` gets 5 random characters appended by the API server.
GENERATED_SUFFIX_LENGTH = 5
#: The longest ``metadata.generateName``: the API server appends its 5 characters to it.
MAX_GENERATE_NAME = MAX_OBJECT_NAME - GENERATED_SUFFIX_LENGTH
#: Argo's limit on template, step and DAG task names (``workflowFieldMaxLength``).
MAX_FIELD_NAME = 128

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
#: Argo's ``workflowFieldNameFmt``: template, step and task names.
WORKFLOW_FIELD_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*\Z")
#: Argo's ``paramOrArtifactNameRegex``.
PARAM_OR_ARTIFACT_NAME = re.compile(r"[-a-zA-Z0-9_]+\Z")
#: A POSIX-portable environment variable name (what Kubernetes recommends).
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_NORMALISE = str.maketrans({"_": "-", " ": "-"})


def normalise_name(name: str) -> str:
    """Return ``name`` the way CloudHarness normalises it: lower case, ``_`` and spaces as ``-``."""
    return name.translate(_NORMALISE).lower()


def check_dns1123_label(field: str, name: object, max_length: int = MAX_OBJECT_NAME) -> str:
    """Normalise ``name`` and check it is a DNS-1123 label of at most ``max_length`` characters.

    Returns the normalised name; raises :class:`BadOperationConfiguration`
    naming ``field`` and the value otherwise.
    """
    if type(name) is str and len(name) <= max_length and DNS1123_LABEL.match(name):  # already normal: fast path
        return name
    if not isinstance(name, str):
        raise TypeError(f"{field} must be a str, got {type(name).__name__} {name!r}")
    normalised = normalise_name(name)
    if not DNS1123_LABEL.match(normalised):
        raise BadOperationConfiguration(
            f"{field}={name!r}: not a valid name once normalised to {normalised!r}: use lower-case "
            "letters, digits and '-', starting and ending with a letter or digit"
        )
    if len(normalised) > max_length:
        raise BadOperationConfiguration(
            f"{field}={name!r}: {len(normalised)} characters once normalised, Argo allows at most {max_length}"
        )
    return normalised


def check_basename(field: str, basename: object) -> str:
    """Normalise and check an operation's ``basename``; return it normalised, a trailing ``-`` kept.

    A basename may end in ``-``, as Kubernetes' ``generateName`` and
    CloudHarness's documentation write it; without that dash it must be a
    DNS-1123 label, and :func:`generate_name` of it must leave room for the 5
    characters the API server appends.
    """
    if not (isinstance(basename, str) and basename.endswith("-")):
        return check_dns1123_label(field, basename, max_length=MAX_GENERATE_NAME - 1)
    try:
        return check_dns1123_label(field, basename[:-1], max_length=MAX_GENERATE_NAME - 1) + "-"
    except BadOperationConfiguration as error:
        raise BadOperationConfiguration(f"{field}={basename!r}, without its trailing '-': {error}") from None


def generate_name(basename: str) -> str:
    """``metadata.generateName`` of an operation: the basename as given when it ends in ``-``, else basename + ``-``."""
    return basename if basename.endswith("-") else f"{basename}-"
