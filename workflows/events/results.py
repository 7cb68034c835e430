"""Results of synchronous operations carried by a topic (CloudHarness's way: ``results_via="queue"``).

The workflow's ``send-result-event`` task publishes the files of the shared
directory on the topic named after the workflow; the caller creates that topic
before submitting (so no message can be published before it exists on a broker
that does not create topics), waits for the result messages with a consumer
group of its own, and deletes the topic whether it got them or not.

The workflow's on-exit notification may go to the same topic (when
``on_exit_notify`` names no queue); it is recognised
(:func:`~workflows.events.is_exit_notification`) and never taken for a result.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from .client import DEFAULT_CONSUME_TIMEOUT, EventClient, check_timeout, is_exit_notification
from ..errors import ResultMissing, ResultTimeout

log = logging.getLogger("workflows.events.results")


class ResultQueue:
    """The result topic of one workflow: :meth:`create`, :meth:`wait`, :meth:`delete`.

    As a context manager it creates the topic on entry and deletes it on exit,
    on success and on error alike::

        with ResultQueue(workflow_name) as results:   # before submitting
            submit(...)
            messages = results.wait(count=1, timeout=60)
    """

    def __init__(self, topic: str, group_id: str | None = None) -> None:
        self.client = EventClient(topic)
        self.group_id: str = group_id or f"{topic}-waiter-{os.urandom(8).hex()}"
        """The waiter's consumer group: unique, so no other consumer takes its messages."""
        self.exit_status: str | None = None
        """The status of the workflow's on-exit notification, once one was read from the topic."""

    @property
    def topic(self) -> str:
        """The topic (the workflow's name)."""
        return self.client.topic

    def __repr__(self) -> str:
        return f"ResultQueue({self.topic!r}, group_id={self.group_id!r})"

    def __enter__(self) -> ResultQueue:
        self.create()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.delete()

    def create(self) -> ResultQueue:
        """Create the topic (an existing one is kept); return ``self``."""
        self.client.create_topic()
        return self

    def delete(self) -> bool:
        """Delete the topic and its offsets; ``False`` when it was already gone."""
        return self.client.delete_topic()

    def collect(self, timeout: float | None = DEFAULT_CONSUME_TIMEOUT) -> list[Any]:
        """Every result message on the topic now, in order: for a workflow that has finished publishing.

        Waits up to ``timeout`` seconds for the first message, then reads until
        nothing more is available; the exit notification is left out (and
        recorded in :attr:`exit_status`). ``[]`` when nothing came in time.
        """
        results: list[Any] = []
        wait = check_timeout(timeout)
        while True:
            messages = self.client.consume_all(timeout=wait, group_id=self.group_id)
            if not messages:
                return results
            for message in messages:
                if is_exit_notification(message, self.topic):
                    self.exit_status = message["status"]
                else:
                    results.append(message)
            wait = 0

    def wait(self, count: int = 1, timeout: float | None = DEFAULT_CONSUME_TIMEOUT) -> list[Any]:
        """The first ``count`` result messages of the topic, in order, waiting up to ``timeout`` seconds in all.

        Raise :class:`ResultTimeout` naming the topic and how many came when
        fewer arrive in time, and :class:`ResultMissing` (a ``ResultTimeout``) when the workflow's
        on-exit notification arrives first (the workflow ended without
        publishing them all; its status is in the message and in
        :attr:`exit_status`).
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count={count!r}: expected a number of result messages >= 1")
        seconds = check_timeout(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        results: list[Any] = []
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            messages = self.client.consume_all(timeout=remaining, group_id=self.group_id)
            for message in messages:
                if is_exit_notification(message, self.topic):
                    self.exit_status = message["status"]
                    continue
                results.append(message)
            if len(results) >= count:
                if len(results) > count:
                    log.warning("topic %s holds %d result messages; returning the first %d", self.topic,
                                len(results), count)
                return results[:count]
            if self.exit_status is not None:
                raise ResultMissing(
                    f"workflow {self.topic!r} ended {self.exit_status} after publishing {len(results)} of "
                    f"{count} result message(s)"
                )
            if not messages or remaining == 0:
                raise ResultTimeout(
                    f"{len(results)} of {count} result message(s) were published on topic {self.topic!r} within "
                    f"{seconds} s: did the workflow's send-result-event task run?"
                )
