"""The fake cluster's HTTP server: routing, bearer tokens, latency, faults, JSON answers and chunked streams."""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
import struct
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import WorkflowsError
from .api import ApiError
from .faults import FAIL, LOSE, RESET, Faults
from .resources import WatchClosed

log = logging.getLogger(__name__)

_REASONS = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


@dataclass
class Request:
    """A request as the routes see it; ``status`` is filled in with the answer (``None``: connection reset)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int | None = None

    def flag(self, name: str) -> bool:
        """A boolean query parameter, read as Go's ``strconv.ParseBool`` (absent: false); 400 when not a boolean."""
        value = self.query.get(name)
        if value is None or value in ("0", "f", "F", "false", "False", "FALSE"):
            return False
        if value in ("1", "t", "T", "true", "True", "TRUE"):
            return True
        raise ApiError(400, "BadRequest", f"{name}={value!r}: not a boolean")

    def json(self) -> Any:
        """The body parsed as JSON; a 400 :class:`ApiError` when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as error:
            raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {error}") from None


@dataclass
class JsonAnswer:
    """A JSON body with an HTTP status (``body`` may be text for ``text/plain`` answers)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class StreamAnswer:
    """A chunked stream of newline-delimited JSON objects (a watch, an event stream, a log)."""

    items: Iterator[dict[str, Any]]
    watch: bool = True
    """Whether it counts as a watch for :meth:`~workflows.testing.FakeCluster.drop_next_watches`."""
    eager_headers: bool = True
    """Send ``200`` before the first item (the API server) or only with it (a gRPC gateway)."""


class Flavour(ABC):
    """How an API writes its errors (Kubernetes ``Status`` or Argo Server's gRPC-gateway JSON)."""

    @abstractmethod
    def error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """HTTP status and body of ``error`` as a plain answer."""

    @abstractmethod
    def stream_error(self, error: ApiError) -> tuple[int, dict[str, Any]]:
        """HTTP status (used when nothing was sent yet) and the stream item carrying ``error``."""


@dataclass
class Route:
    """A method and a path pattern (named groups become keyword arguments of ``handler``)."""

    method: str
    pattern: re.Pattern
    handler: Callable[..., Any]
    flavour: Flavour


class Router:
    """Routes, tried in order."""

    def __init__(self, fallback: Flavour) -> None:
        self.routes: list[Route] = []
        self.fallback = fallback

    def add(self, method: str, pattern: str, handler: Callable[..., Any], flavour: Flavour) -> None:
        """Serve ``method`` on paths fully matching ``pattern`` with ``handler(request, **groups)``."""
        self.routes.append(Route(method, re.compile(pattern + r"\Z"), handler, flavour))

    def resolve(self, method: str, path: str) -> tuple[Callable[[Request], Any], Flavour]:
        """The handler of a request (its path arguments bound) and the flavour of its errors; for a path or a
        method no route serves, a handler raising the API server's 404 or 405."""
        flavour = None
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                flavour = flavour or route.flavour
                if route.method == method:
                    return functools.partial(route.handler, **match.groupdict()), route.flavour
        if flavour is not None:
            error = ApiError(405, "MethodNotAllowed",
                             f"the server does not allow this method on the requested resource: {method} {path}")
        else:
            error = ApiError(404, "NotFound", "the server could not find the requested resource")

        def refuse(request: Request) -> Any:
            raise error

        return refuse, flavour or self.fallback


class FakeServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server on 127.0.0.1 that knows its open connections, so that it stops cleanly."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, router: Router, faults: Faults, token: Callable[[], str | None],
                 latency: Callable[[], float], requests: list[Request]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.router = router
        self.faults = faults
        self.token = token
        self.latency = latency
        self.requests = requests
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def serve(self) -> None:
        """Accept connections (blocking, no polling) until :meth:`close_connections`; a thread per connection."""
        while True:
            try:
                request, client = self.get_request()
            except OSError:
                return
            if self.stopping.is_set():
                request.close()
                return
            self.process_request(request, client)

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Remember (or forget) an open connection."""
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(connection)
            late = alive and self.stopping.is_set()
        if late:  # accepted while stopping: shut down like the others
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close_connections(self) -> None:
        """Stop accepting, and shut every open connection down so that each handler thread ends."""
        with self._lock:
            self.stopping.set()
            connections = list(self._connections)
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _ConnectionReset(WorkflowsError):
    """Raised by :meth:`_Handler._reset` to leave the request loop of a connection just reset."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def handle(self) -> None:
        """Serve the connection's requests until it closes or is reset."""
        try:
            super().handle()
        except _ConnectionReset:
            pass
        except OSError as error:
            log.debug("connection from %s ended: %s", self.address_string(), error)

    def setup(self) -> None:
        """Start the connection, known to the server; headers and body go out at once (no Nagle delay)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        """End the connection, forgotten by the server."""
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Access lines go to the debug log, not to stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 - the base class's naming
        """Every method is served by the router."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # --- one request -----------------------------------------------------------------------------------------------

    def _serve(self) -> None:
        server = self.server
        parts = urlsplit(self.path)
        request = Request(
            self.command, parts.path, {key: values[-1] for key, values in parse_qs(parts.query, True).items()},
            {key.lower(): value for key, value in self.headers.items()}, self._body(),
        )
        server.requests.append(request)
        handler, flavour = server.router.resolve(request.method, request.path)
        fault = None
        try:
            delay = server.latency()
            if delay > 0:
                server.stopping.wait(delay)
            fault = server.faults.take(request.method, request.path)
            if fault is not None and fault.action == RESET:
                self._reset()
            if fault is not None and fault.action == FAIL:
                headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                raise ApiError(fault.status, _REASONS.get(fault.status, "InternalError"),
                               f"fault injected by the fake cluster: {fault.status}", headers=headers)
            self._check_token(request)
            answer = handler(request)
        except ApiError as error:
            status, body = flavour.error(error)
            answer = JsonAnswer(status, body, error.headers)
        if fault is not None and fault.action == LOSE:
            self._reset()  # done, answer lost
        request.status = answer.status if isinstance(answer, JsonAnswer) else 200
        if isinstance(answer, StreamAnswer):
            self._stream(answer, flavour)
        else:
            self._send_json(answer)

    def _body(self) -> bytes:
        """The request body, sent with a ``Content-Length`` or in chunks."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def _check_token(self, request: Request) -> None:
        token = self.server.token()
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")

    def _send_json(self, answer: JsonAnswer) -> None:
        data = answer.body.encode() if isinstance(answer.body, str) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_stream(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _stream(self, answer: StreamAnswer, flavour: Flavour) -> None:
        drop_after = self.server.faults.take_watch_drop() if answer.watch else None
        started, sent = False, 0
        try:
            if answer.eager_headers:
                self._start_stream(200)
                started = True
            items = iter(answer.items)
            try:
                while drop_after is None or sent < drop_after:
                    try:
                        item = next(items)
                    except StopIteration:
                        drop_after = None
                        break
                    if not started:
                        self._start_stream(200)
                        started = True
                    self._chunk(json.dumps(item).encode() + b"\n")
                    sent += 1
            except ApiError as error:
                drop_after = None
                status, item = flavour.stream_error(error)
                if not started:
                    self._start_stream(status)
                    started = True
                self._chunk(json.dumps(item).encode() + b"\n")
            except WatchClosed:
                drop_after = 0
            if not started:
                self._start_stream(200)
            if drop_after is not None:
                self._reset()
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            close = getattr(answer.items, "close", None)
            if close is not None:
                close()

    def _reset(self) -> None:
        """Close the connection with a TCP reset (no answer, or a stream cut short); leave the request loop."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()
        self.wfile.close()
        self.connection.close()
        raise _ConnectionReset
