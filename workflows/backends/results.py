"""Results of ``DistributedSyncOperationWithResults`` carried by the workflow itself, without a broker.

The result step (``send-result-event``) writes the JSON message it publishes to
:data:`RESULT_FILE` as well; the step's template declares that file as its
output parameter :data:`RESULT_PARAMETER`, so Argo copies it into the
workflow's ``status.nodes[...].outputs.parameters``, where a cluster backend
reads it once the workflow has finished.

This path carries at most :data:`MAX_RESULT_BYTES` of JSON (256 KiB, the size
Kubernetes allows for all annotations of an object — the channel older Argo
executors report outputs through — which also keeps the workflow object well
under Kubernetes' 1 MiB object limit). A larger result is replaced by a marker
naming its size, and reading it raises :class:`ResultTooLarge` naming the
limit; CloudHarness's Kafka path takes up to 1 MiB per file.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import ResultParameterMissing, ResultTooLarge

#: The output parameter of the result step that holds the result message (JSON).
RESULT_PARAMETER = "harness-workflows-result"
#: The environment variable telling the result step where to write the message.
RESULT_FILE_ENV = "WORKFLOWS_RESULT_FILE"
#: Where the result step writes the message in its pod.
RESULT_FILE = "/tmp/harness-workflows/result.json"
#: The largest result message (UTF-8 bytes of its JSON) the workflow path carries.
MAX_RESULT_BYTES = 256 * 1024
#: The key of the marker written in place of a result larger than :data:`MAX_RESULT_BYTES`.
TOO_LARGE_MARKER = "harness-workflows/result-too-large"


def result_task_options() -> dict[str, Any]:
    """Keyword arguments of the result step's task: the file's env variable and the output parameter."""
    return {
        RESULT_FILE_ENV: RESULT_FILE,
        "template_overrides": {
            "outputs": {"parameters": [{"name": RESULT_PARAMETER, "valueFrom": {"path": RESULT_FILE, "default": ""}}]},
        },
    }


def write_result_file(message: Any) -> None:
    """In the result step: write ``message`` as JSON where ``$WORKFLOWS_RESULT_FILE`` says (if set), or the
    too-large marker when its JSON exceeds :data:`MAX_RESULT_BYTES`."""
    path = os.environ.get(RESULT_FILE_ENV)
    if not path:
        return
    text = json.dumps(message)
    size = len(text.encode("utf-8"))
    if size > MAX_RESULT_BYTES:
        text = json.dumps({TOO_LARGE_MARKER: size})
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def read_result(workflow: dict[str, Any]) -> Any:
    """The result message carried by a finished workflow's status; :class:`ResultTooLarge` or
    :class:`ResultParameterMissing` with the workflow named when it cannot be read."""
    name = workflow["metadata"]["name"]
    for node in ((workflow.get("status") or {}).get("nodes") or {}).values():
        for parameter in (node.get("outputs") or {}).get("parameters") or ():
            if parameter.get("name") != RESULT_PARAMETER:
                continue
            value = parameter.get("value") or ""
            if not value:
                break
            message = json.loads(value)
            if isinstance(message, dict) and set(message) == {TOO_LARGE_MARKER}:
                raise ResultTooLarge(
                    f"workflow {name!r}: the result is {message[TOO_LARGE_MARKER]} bytes of JSON, more than the "
                    f"{MAX_RESULT_BYTES} bytes (256 KiB) the workflow's output parameter carries; configure Kafka "
                    "(CloudHarness's path, up to 1 MiB per file) or write less"
                )
            return message
    raise ResultParameterMissing(
        f"workflow {name!r}: no node has a value for output parameter {RESULT_PARAMETER!r} (was the result step "
        "built by this version of harness-workflows?)"
    )
