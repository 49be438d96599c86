"""A scripted HTTP server on 127.0.0.1 for tests and benchmarks.

Each path gets a sequence of replies (status, headers, body, delay) served in order, the last
one repeating, or a function of the request; every request is logged with its arrival time so
that tests can assert politeness (delays between hits, retries, what was never requested).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before answering (to provoke timeouts)
    reset: bool = False  # drop the connection with a TCP RST instead of answering
    truncate: int | None = None  # announce the whole body, send only this many bytes, hang up
    unframed: bool = False  # no Content-Length: the body ends when the connection closes
    trickle: float = 0.0  # seconds between bytes of the body: a peer that is slow but never idle
    trickle_head: bool = False  # with trickle, the status line and headers trickle too

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


@dataclass
class Logged:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    method: str
    path: str  # with query string
    headers: dict[str, str]
    body: bytes = b""


Handler = Callable[[Logged], Reply]


class _QuietServer(ThreadingHTTPServer):
    """Clients that vanish mid-request (a killed refresh) are expected here, not errors."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """A threaded stdlib server with per-path scripts; unknown paths are 404."""

    def __init__(self) -> None:
        self.requests: list[Logged] = []
        self._routes: dict[str, list[Reply] | Handler] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self._answer("POST", body)

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                self._answer("GET", b"")

            def _answer(self, method: str, request_body: bytes) -> None:
                logged = Logged(time.monotonic(), method, self.path,
                                {k.lower(): v for k, v in self.headers.items()}, request_body)
                reply = server._reply_for(logged)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.payload()
                if reply.trickle:
                    self._trickle(reply, body)
                    return
                if reply.reset:
                    # linger 0 turns close() into a RST: the client sees "connection reset by peer"
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    if reply.content_type and reply.status != 304:
                        self.send_header("Content-Type", reply.content_type)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if reply.unframed:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    else:
                        self.send_header("Content-Length", str(0 if reply.status == 304 else len(body)))
                    self.end_headers()
                    if reply.truncate is not None:
                        self.wfile.write(body[:reply.truncate])
                        self.close_connection = True
                    elif reply.status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _trickle(self, reply: Reply, body: bytes) -> None:
                """One byte every ``reply.trickle`` seconds, until done or the client hangs up."""
                self.close_connection = True
                lines = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}"]
                if reply.content_type:
                    lines.append(f"Content-Type: {reply.content_type}")
                lines += [f"{k}: {v}" for k, v in reply.headers.items()]
                lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
                head = "\r\n".join(lines).encode("latin-1")
                try:
                    if not reply.trickle_head:
                        self.wfile.write(head)
                        self.wfile.flush()
                        head = b""
                    for byte in head + body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- scripting ----------------------------------------------------------------------

    def route(self, path: str, *replies: Reply | Handler | str | bytes, content_type: str | None = None) -> None:
        """Script ``path`` (with its query string, if it matters) with replies served in order."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self._routes[path] = replies[0]
            return
        script: list[Reply] = []
        for reply in replies:
            if isinstance(reply, (str, bytes)):
                reply = Reply(body=reply)
            if content_type and isinstance(reply, Reply):
                reply.content_type = content_type
            script.append(reply)  # type: ignore[arg-type]
        self._routes[path] = script

    def robots(self, text: str) -> None:
        self.route("/robots.txt", Reply(body=text, content_type="text/plain"))

    def _reply_for(self, logged: Logged) -> Reply:
        with self._lock:
            self.requests.append(logged)
            key = logged.path if logged.path in self._routes else urlsplit(logged.path).path
            route = self._routes.get(key)
            if route is None:
                return Reply(404, "not found", content_type="text/plain")
            if callable(route):
                return route(logged)
            index = self._served.get(key, 0)
            self._served[key] = index + 1
            return route[min(index, len(route) - 1)]

    # -- inspection ---------------------------------------------------------------------

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Logged]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A fresh scripted server on 127.0.0.1 for one test."""
    with LocalServer() as server:
        yield server
