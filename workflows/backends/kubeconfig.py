"""Where the ``kubernetes`` backend connects, found as kubectl and client-go find it.

``$KUBECONFIG`` (one or more files, ``:``-separated) or ``~/.kube/config`` when
present, with its current context's namespace; else the pod's service account
(token, CA certificate and namespace file). ``WORKFLOWS_NAMESPACE`` overrides
the namespace; without any, it is ``default``. Errors name the files, never
their secrets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import BackendUnavailable

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_NAMESPACE = "default"


def kubeconfig_paths() -> list[Path]:
    """The kubeconfig files in use: those of ``$KUBECONFIG``, else ``~/.kube/config`` if it exists, else none."""
    variable = os.environ.get("KUBECONFIG")
    if variable:
        return [Path(os.path.expanduser(part)) for part in variable.split(os.pathsep) if part]
    default = Path.home() / ".kube" / "config"
    return [default] if default.is_file() else []


def kubeconfig_identity() -> tuple[Any, ...]:
    """What changes when the kubeconfig files change (path, size and modification time of each)."""
    identity = []
    for path in kubeconfig_paths():
        try:
            stat = path.stat()
        except OSError:
            identity.append((str(path), None))
            continue
        identity.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(identity)


def load_configuration(context: str | None = None) -> tuple[Any, str, str]:
    """A ``kubernetes.client.Configuration``, the namespace, and a description of where both came from."""
    from kubernetes import client, config

    configuration = client.Configuration()
    namespace = None
    paths = kubeconfig_paths()
    if paths:
        where = "kubeconfig " + os.pathsep.join(str(path) for path in paths)
        missing = [str(path) for path in paths if not path.is_file()]
        if len(missing) == len(paths):
            raise BackendUnavailable(f"backend 'kubernetes': {where}: no such file")
        joined = os.pathsep.join(str(path) for path in paths if path.is_file())
        try:
            config.load_kube_config(config_file=joined, context=context, client_configuration=configuration,
                                    persist_config=False)
            contexts, current = config.list_kube_config_contexts(joined)
        except (config.ConfigException, OSError, ValueError, KeyError, TypeError) as error:
            raise BackendUnavailable(f"backend 'kubernetes': cannot use {where}: {error}") from None
        chosen = next((item for item in contexts if item.get("name") == context), None) if context else current
        namespace = ((chosen or {}).get("context") or {}).get("namespace")
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        where = f"the pod's service account ({SERVICE_ACCOUNT_DIR})"
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException as error:
            raise BackendUnavailable(f"backend 'kubernetes': cannot use {where}: {error}") from None
        namespace_file = SERVICE_ACCOUNT_DIR / "namespace"
        if namespace_file.is_file():
            namespace = namespace_file.read_text().strip() or None
    else:
        raise BackendUnavailable(
            "backend 'kubernetes': no configuration: $KUBECONFIG is not set, ~/.kube/config does not exist, "
            "and this is not a pod (KUBERNETES_SERVICE_HOST is not set)"
        )
    configuration.retries = False  # the backend retries, knowing which requests are safe to send again
    return configuration, os.environ.get("WORKFLOWS_NAMESPACE") or namespace or DEFAULT_NAMESPACE, where
