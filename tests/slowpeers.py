"""Slow HTTP clients ("slowloris") against a server on 127.0.0.1, from a separate process.

    python -m tests.slowpeers PORT CLIENTS SECONDS [INTERVAL]

Each client opens a connection, starts a request and then sends one more byte every INTERVAL
seconds, never finishing it; when the server drops the connection it reconnects at once, the
worst case for a server that makes room by pushing connections out. One thread drives them all
(non-blocking sockets), so the attack costs the test process nothing. It prints one JSON line:
connections opened and how many the server closed.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time

START = b"GET /check?q=vaksin"  # a request line that never ends


def run(port: int, clients: int, seconds: float, interval: float) -> dict[str, int]:
    selector = selectors.DefaultSelector()
    opened = closed = 0
    next_send: dict[socket.socket, float] = {}
    started: set[socket.socket] = set()

    def connect() -> None:
        nonlocal opened
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_READ)
        next_send[sock] = time.monotonic()  # the first bytes go out at the first tick
        opened += 1

    def drop(sock: socket.socket) -> None:
        nonlocal closed
        selector.unregister(sock)
        next_send.pop(sock, None)
        started.discard(sock)
        sock.close()
        closed += 1

    for _ in range(clients):
        connect()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            try:
                data = sock.recv(4096)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # dropped: come straight back
                drop(sock)  # type: ignore[arg-type]
                connect()
        now = time.monotonic()
        for sock, due in list(next_send.items()):
            if due > now:
                continue
            try:
                sock.send(b"x" if sock in started else START)
                started.add(sock)
                next_send[sock] = now + interval
            except BlockingIOError:
                next_send[sock] = now + 0.05  # not connected yet
            except OSError:
                drop(sock)
                connect()
    for sock in list(next_send):
        sock.close()
    return {"opened": opened, "closed_by_server": closed}


if __name__ == "__main__":
    port, clients, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    print(json.dumps(run(port, clients, seconds, interval)), flush=True)
