"""The result sender (image ``workflows-send-result-event``): ``python -m workflows.events.send_result``.

Last step of ``DistributedSyncOperationWithResults``: publishes ONE message,
``{file name: text content}``, on the topic named after the workflow
(``WORKFLOW_NAME``), made of the regular files at the top level of the shared
directory (``$shared_directory``):

- subdirectories are not read (like CloudHarness's ``<dir>/*``); hidden files are included;
- content is the file's exact text, decoded as UTF-8 (no newline translation);
- a file that is not valid UTF-8, or larger than :data:`MAX_FILE_SIZE` (1 MiB,
  CloudHarness's limit), is left out with a warning;
- an empty directory publishes ``{}``, so the waiting caller gets an answer.

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

from ..runtime import SHARED_DIRECTORY_ENV, WORKFLOW_NAME_ENV
from .aliases import with_cloudharness_names
from .client import notify_queue, validate_topic_name
from .errors import EventsError, InvalidTopicName

log = logging.getLogger("workflows.events.send_result")

#: Files larger than this many bytes are left out of the result.
MAX_FILE_SIZE = 2**20


def collect_results(directory: str | os.PathLike[str]) -> dict[str, str]:
    """``{file name: text}`` for the top-level regular files of ``directory`` (see the module's rules)."""
    results: dict[str, str] = {}
    for path in sorted(Path(directory).iterdir()):
        if not path.is_file():
            log.info("skipping %s: not a regular file", path)
            continue
        size = path.stat().st_size
        if size > MAX_FILE_SIZE:
            log.warning("skipping %s: %d bytes, more than the maximum of %d", path, size, MAX_FILE_SIZE)
            continue
        try:
            results[path.name] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            log.warning("skipping %s: not UTF-8 text", path)
        except OSError as error:
            log.warning("skipping %s: %s", path, error)
    return results


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
    results = collect_results(directory)
    try:
        notify_queue(topic, results)
    except EventsError as error:
        log.error("cannot publish on %s: %s", topic, error)
        return 1
    log.info("published %d file(s) of %s on %s: %s", len(results), directory, topic, ", ".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
