"""The result sender (image ``workflows-send-result-event``): ``python -m workflows.events.send_result``.

Last step of ``DistributedSyncOperationWithResults``. As CloudHarness's
``send-result-event`` task, publishes one message per file of the shared
directory (``$shared_directory``), ``{<file name>: <text content>}``, on the
topic named after the workflow (``WORKFLOW_NAME``); the operation returns the
list of these messages.

- the regular files at the top level, by name; subdirectories and hidden files are
  not read (like CloudHarness's ``<dir>/*``);
- content is the file's exact text, decoded as UTF-8 (no newline translation);
- a file larger than :data:`MAX_FILE_SIZE` (1 MiB, CloudHarness's limit) gives
  ``{<file name>: "Error: size exceeded"}`` (:data:`SIZE_EXCEEDED`) instead of its content;
- a file that is not valid UTF-8 text, or cannot be read, is left out with an error logged;
- an empty directory publishes nothing: the operation then reports that no result came.
- the list of messages is also written where ``$WORKFLOWS_RESULT_FILE`` says: the output parameter that carries
  it in the workflow's status to a cluster backend without a broker (:mod:`workflows.backends.results`).

The directory may also be given as the first argument (CloudHarness's image
does so). The events backend is the one the environment selects
(:mod:`workflows.events.settings`): Kafka when the pod's environment names a broker.

Exit status: 0 when published, 2 when the environment is incomplete or the
directory is missing, 1 when publishing failed.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ..backends.results import write_result_file
from ..runtime import SHARED_DIRECTORY_ENV, WORKFLOW_NAME_ENV
from .aliases import with_cloudharness_names
from .client import notify_queue, validate_topic_name
from ..errors import EventsError, InvalidTopicName

log = logging.getLogger("workflows.events.send_result")

#: Files larger than this many bytes are sent as :data:`SIZE_EXCEEDED` instead of their content.
MAX_FILE_SIZE = 2**20
#: What a file over :data:`MAX_FILE_SIZE` is sent as (CloudHarness's text).
SIZE_EXCEEDED = "Error: size exceeded"


def collect_results(directory: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The messages for ``directory``: one ``{file name: text}`` per file, by name (see the module's rules)."""
    messages: list[dict[str, str]] = []
    for path in sorted(Path(directory).iterdir()):
        if path.name.startswith("."):
            log.info("skipping %s: hidden", path)
            continue
        if not path.is_file():
            log.info("skipping %s: not a regular file", path)
            continue
        size = path.stat().st_size
        if size > MAX_FILE_SIZE:
            log.warning("%s: %d bytes, more than the maximum of %d: sending %r instead of its content",
                        path, size, MAX_FILE_SIZE, SIZE_EXCEEDED)
            messages.append({path.name: SIZE_EXCEEDED})
            continue
        try:
            messages.append({path.name: path.read_bytes().decode("utf-8")})
        except UnicodeDecodeError:
            log.error("skipping %s: not UTF-8 text", path)
        except OSError as error:
            log.error("skipping %s: %s", path, error)
    return messages


def main() -> int:
    """Publish the result message; return the exit status."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    env = with_cloudharness_names(os.environ, sys.argv)
    missing = [name for name in (WORKFLOW_NAME_ENV, SHARED_DIRECTORY_ENV) if not env.get(name)]
    if missing:
        log.error("cannot send the result: %s not set", " and ".join(missing))
        return 2
    directory = env[SHARED_DIRECTORY_ENV]
    try:
        topic = validate_topic_name(env[WORKFLOW_NAME_ENV])
    except InvalidTopicName as error:
        log.error("cannot send the result: %s", error)
        return 2
    if not os.path.isdir(directory):
        log.error("cannot send the result: shared directory %s does not exist", directory)
        return 2
    messages = collect_results(directory)
    write_result_file(messages)
    if not messages:
        log.warning("%s holds no file to send: nothing published on %s", directory, topic)
    try:
        for message in messages:
            notify_queue(topic, message)
    except EventsError as error:
        log.error("cannot publish on %s: %s", topic, error)
        return 1
    log.info("published %d file(s) of %s on %s: %s", len(messages), directory, topic,
             ", ".join(name for message in messages for name in message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
