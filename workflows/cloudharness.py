"""Running inside a CloudHarness deployment: detection, its values, and what its workflows carry.

CloudHarness mounts its Helm values in every pod at
``/opt/cloudharness/resources/allvalues.yaml`` (``$CH_VALUES_PATH`` overrides the
path), and its own library finds them there. Where those values are found — or
when ``WORKFLOWS_CLOUDHARNESS=1`` says so — compiled workflows carry what a
CloudHarness deployment provides and its task images expect: the
``cloudharness/temporary-job`` toleration, the ``argo-workflows`` service account,
the registry's pull secret, the ``cloudharness-allvalues`` config map (and the
``accounts`` secret when the accounts application is deployed) mounted in every
pod, CloudHarness's image names and its retry limit of 10.
``WORKFLOWS_CLOUDHARNESS=0`` switches all of it off even where values are found.

Values are read when used, never at import, and re-read when the file changes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import CloudHarnessConfigurationError, CloudHarnessEventsUnavailable  # noqa: F401  (re-exported)

#: Where CloudHarness mounts its values in every pod, unless ``$CH_VALUES_PATH`` says otherwise.
DEFAULT_VALUES_PATH = "/opt/cloudharness/resources/allvalues.yaml"
VALUES_PATH_ENV = "CH_VALUES_PATH"
#: ``1``/``true``/``yes``/``on`` forces the CloudHarness additions on, ``0``/``false``/``no``/``off`` off.
SWITCH_ENV = "WORKFLOWS_CLOUDHARNESS"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

#: What CloudHarness adds to every workflow.
SERVICE_ACCOUNT = "argo-workflows"
TEMPORARY_JOB_TOLERATION = {"key": "cloudharness/temporary-job", "operator": "Equal", "value": "true"}
ALLVALUES_VOLUME = "cloudharness-allvalues"
ALLVALUES_MOUNT = {"name": ALLVALUES_VOLUME, "mountPath": DEFAULT_VALUES_PATH, "subPath": "allvalues.yaml"}
ACCOUNTS_VOLUME = "cloudharness-kc-accounts"
ACCOUNTS_SECRET = "accounts"
ACCOUNTS_MOUNT = {"name": ACCOUNTS_VOLUME, "mountPath": "/opt/cloudharness/resources/auth"}
#: CloudHarness retries every task 10 times unless told otherwise.
RETRY_LIMIT = 10
#: The image CloudHarness runs PythonTask, BashTask and CommandBasedTask in.
BASE_IMAGE = "cloudharness-base"

_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def values_path() -> Path:
    """Where CloudHarness's values are looked for: ``$CH_VALUES_PATH``, else :data:`DEFAULT_VALUES_PATH`."""
    return Path(os.environ.get(VALUES_PATH_ENV) or DEFAULT_VALUES_PATH)


def _switch(raw: str) -> bool | None:
    word = raw.strip().lower()
    if not word:
        return None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CloudHarnessConfigurationError(f"{SWITCH_ENV}={raw!r}: expected 1 or 0 (or true/false, yes/no, on/off)")


def enabled() -> bool:
    """Whether workflows are compiled for a CloudHarness deployment.

    ``$WORKFLOWS_CLOUDHARNESS`` decides when set; otherwise, whether CloudHarness's
    values file exists (see :func:`values_path`).
    """
    raw = os.environ.get(SWITCH_ENV)  # called for every task built: kept to one lookup and one stat
    switch = _switch(raw) if raw else None
    if switch is not None:
        return switch
    return os.path.isfile(os.environ.get(VALUES_PATH_ENV) or DEFAULT_VALUES_PATH)


def values() -> dict[str, Any]:
    """CloudHarness's values, or ``{}`` when the file is absent (switched on explicitly without values).

    Raises :class:`CloudHarnessConfigurationError` when the file is not a YAML map.
    """
    path = values_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    key = str(path)
    cached = _cache.get(key)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise CloudHarnessConfigurationError(f"CloudHarness values {str(path)!r} cannot be read: {error}") from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CloudHarnessConfigurationError(
            f"CloudHarness values {str(path)!r}: expected a YAML map, got {type(data).__name__}"
        )
    _cache[key] = (mtime, data)
    return data


def _applications() -> dict[str, dict[str, Any]]:
    apps = values().get("apps") or {}
    return {key: app for key, app in apps.items() if isinstance(app, dict)} if isinstance(apps, dict) else {}


def _harness(app: dict[str, Any]) -> dict[str, Any]:
    harness = app.get("harness")
    return harness if isinstance(harness, dict) else {}


def application(name: str) -> dict[str, Any] | None:
    """The values of the deployed application whose ``harness.name`` is ``name``, or ``None``."""
    for app in _applications().values():
        if _harness(app).get("name") == name:
            return app
    return None


def is_accounts_present() -> bool:
    """Whether CloudHarness's ``accounts`` application is part of the deployment (its values say so)."""
    return application("accounts") is not None


def namespace() -> str | None:
    """The deployment's namespace (``namespace`` in the values), or ``None``."""
    value = values().get("namespace")
    return str(value) if value else None


def registry_secret() -> str | None:
    """The name of the registry's pull secret (``registry.secret``), or ``None`` when there is none."""
    registry = values().get("registry")
    secret = registry.get("secret") if isinstance(registry, dict) else None
    return str(secret) if secret else None


def image(image_name: str) -> str:
    """The image CloudHarness runs for ``image_name``.

    As CloudHarness resolves it: an application's name gives its deployment image;
    a name of the ``task-images`` map (the deployment's, then each application's)
    gives the image it maps to; any other name is an external image, used verbatim.
    """
    for app in _applications().values():
        if app.get("name") == image_name or _harness(app).get("name") == image_name:
            deployment = _harness(app).get("deployment")
            resolved = deployment.get("image") if isinstance(deployment, dict) else None
            if resolved:
                return str(resolved)
    maps = [values().get("task-images")] + [app.get("task-images") for app in _applications().values()]
    for images in maps:
        if isinstance(images, dict) and images.get(image_name):
            return str(images[image_name])
    return image_name


def workflows_service_url() -> str | None:
    """The public address of CloudHarness's ``workflows`` application, or ``None`` when it has none."""
    app = application("workflows")
    subdomain = _harness(app).get("subdomain") if app is not None else None
    domain = values().get("domain")
    if not subdomain or not domain:
        return None
    scheme = "https" if values().get("tls") else "http"
    return f"{scheme}://{subdomain}.{domain}"


def workflow_additions(spec: dict[str, Any]) -> None:
    """Add what a CloudHarness deployment provides to the compiled ``spec``, in place.

    The toleration, service account and pull secret are added unless the
    operation set them; the values volume (and the accounts secret) come first in
    ``spec.volumes`` and are mounted in every container and script template.
    """
    if TEMPORARY_JOB_TOLERATION not in spec.get("tolerations", ()):
        spec.setdefault("tolerations", []).insert(0, dict(TEMPORARY_JOB_TOLERATION))
    spec.setdefault("serviceAccountName", SERVICE_ACCOUNT)
    secret = registry_secret()
    if secret and not any(item.get("name") == secret for item in spec.get("imagePullSecrets", ())):
        spec.setdefault("imagePullSecrets", []).insert(0, {"name": secret})
    volumes = [{"name": ALLVALUES_VOLUME, "configMap": {"name": ALLVALUES_VOLUME}}]
    mounts = [ALLVALUES_MOUNT]
    if is_accounts_present():
        volumes.append({"name": ACCOUNTS_VOLUME, "secret": {"secretName": ACCOUNTS_SECRET}})
        mounts.append(ACCOUNTS_MOUNT)
    spec["volumes"] = volumes + spec.get("volumes", [])
    for template in spec["templates"]:
        body = template.get("container") or template.get("script")
        if body is not None:
            body["volumeMounts"] = [dict(mount) for mount in mounts] + body.get("volumeMounts", [])
