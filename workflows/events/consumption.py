"""``EventClient.async_consume``'s background consumer: a thread calling a handler for every message."""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from .backend import Subscription
from ..errors import EventsError
from .selection import get_event_backend

if TYPE_CHECKING:
    from .client import EventClient

log = logging.getLogger("workflows.events.consumer")

#: ``handler(event_client=..., app=..., message=...)``, CloudHarness's consumer callback.
Handler = Callable[..., Any]
#: Seconds between checks of the stop request while no message comes.
STOP_CHECK_SECONDS = 0.5
#: Pauses after backend failures: the first, and the longest (CloudHarness waits 15 s).
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 15.0


class Consumption:
    """One ``async_consume``: a daemon thread reading ``client.topic`` as ``group_id`` until :meth:`stop`.

    Each message is handed to the handler once per group, in order; offsets
    are committed after the handler returns (or fails: a failing message is
    logged and not retried), so a message is redelivered only when the process
    dies while handling it.
    """

    def __init__(self, client: EventClient, app: Any, handler: Handler, group_id: str) -> None:
        self.client = client
        self.app = app
        self.handler = handler
        self.group_id = group_id
        self.handled = 0
        """Messages handed to the handler so far (successfully or not)."""
        self.failures = 0
        """Messages whose handler raised."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"async-consume-{client.topic}", daemon=True)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Consumption of {self.client.topic!r} as {self.group_id!r}, {state}, {self.handled} handled>"

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the thread to stop after the message in hand; wait up to ``timeout`` s; return whether it ended."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        log.info("consuming topic %s as group %s", self.client.topic, self.group_id)
        pause = FIRST_RETRY_SECONDS
        while not self._stop.is_set():
            try:
                subscription = get_event_backend().subscribe(self.client.topic, self.group_id)
            except EventsError as error:
                log.error("cannot consume topic %s: %s; retrying in %g s", self.client.topic, error, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
                continue
            try:
                self._loop(subscription)
                pause = FIRST_RETRY_SECONDS
            except EventsError as error:
                log.error("consuming topic %s failed: %s; retrying in %g s", self.client.topic, error, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
            finally:
                subscription.close()
        log.info("stopped consuming topic %s as group %s", self.client.topic, self.group_id)

    def _loop(self, subscription: Subscription) -> None:
        while not self._stop.is_set():
            values = subscription.poll(STOP_CHECK_SECONDS)
            for value in values:
                self._handle(json.loads(value))
            if values:
                subscription.commit()

    def _handle(self, message: Any) -> None:
        self.handled += 1
        try:
            self.handler(event_client=self.client, app=self.app, message=message)
        except Exception:  # noqa: BLE001 - a handler's error must not end the consumer (CloudHarness's rule)
            self.failures += 1
            log.exception("handler %r failed on a message of topic %s; going on with the next",
                          self.handler, self.client.topic)
