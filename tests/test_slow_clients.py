"""Slow and vanishing HTTP clients must not lock real ones out of the API (issue 15, item 6)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import subprocess
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

from factcheck import FactChecker
from factcheck.server import APIServer, ServeOptions, make_server

ROOT = Path(__file__).resolve().parent.parent


def _start(checker: FactChecker, options: ServeOptions) -> APIServer:
    server = make_server(checker, "127.0.0.1", 0, options)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


def _stop(server: APIServer) -> None:
    server.shutdown()
    server.server_close()


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP response from ``sock`` (headers and its Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (its reply read and thrown away), or None."""
    start = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def test_a_trickled_request_is_cut_at_its_deadline(sample_checker: FactChecker) -> None:
    # every read gets a byte well inside idle_timeout, so only a whole-request deadline ends it
    server = _start(sample_checker, ServeOptions(request_timeout=0.6, idle_timeout=5))
    try:
        sock = socket.create_connection(server.server_address[:2], timeout=5)
        start = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        closed = False
        while time.monotonic() - start < 4:
            try:
                sock.sendall(b"X")
            except OSError:
                closed = True
                break
            if _closed_within(sock, 0.2) is not None:
                closed = True
                break
        assert closed, "a request trickled a byte at a time was never cut off"
        assert time.monotonic() - start < 2.0
    finally:
        _stop(server)


def test_a_slow_body_is_cut_too(sample_checker: FactChecker) -> None:
    server = _start(sample_checker, ServeOptions(request_timeout=0.5, min_body_rate=1000))
    try:
        sock = socket.create_connection(server.server_address[:2], timeout=5)
        sock.sendall(b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n{")  # 0.5 s for headers + 0.5 s for the body
        took = _closed_within(sock, 4)
        assert took is not None and took < 2.0
    finally:
        _stop(server)


def test_a_full_server_pushes_out_the_longest_waiting_connection(
        sample_checker: FactChecker) -> None:
    server = _start(sample_checker, ServeOptions(max_connections=2, workers=2))
    host, port = server.server_address[:2]
    try:
        held = []
        for _ in range(2):  # two kept-alive connections fill the server
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _response(sock).startswith(b"HTTP/1.1 200")
            held.append(sock)
            time.sleep(0.05)
        newcomer = http.client.HTTPConnection(host, port, timeout=5)
        newcomer.request("GET", "/health")
        assert newcomer.getresponse().status == 200  # room was made, no 503
        assert _closed_within(held[0], 2) is not None  # the one idle the longest went
        held[1].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _response(held[1]).startswith(b"HTTP/1.1 200")  # the younger one stayed
        assert server.shed == 1
        for sock in held:
            sock.close()
        newcomer.close()
    finally:
        _stop(server)


def test_503_only_when_every_connection_is_being_answered(sample_checker: FactChecker) -> None:
    server = _start(sample_checker, ServeOptions(max_connections=2, workers=2))
    host, port = server.server_address[:2]
    release = threading.Event()
    real_handle = server.api.handle

    def slow_handle(*args, **kwargs):
        release.wait(10)
        return real_handle(*args, **kwargs)

    server.api.handle = slow_handle  # type: ignore[method-assign]
    busy = []
    try:
        for _ in range(2):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            busy.append(sock)
        time.sleep(0.3)  # both are now being answered
        with socket.create_connection((host, port), timeout=5) as third:
            third.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _response(third).startswith(b"HTTP/1.1 503")
        release.set()
        for sock in busy:
            assert _response(sock).startswith(b"HTTP/1.1 200")  # none was pushed out
            sock.close()
    finally:
        release.set()
        _stop(server)


def test_a_vanished_client_is_one_log_line(sample_checker: FactChecker,
                                           caplog: pytest.LogCaptureFixture,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    server = _start(sample_checker, ServeOptions())
    host, port = server.server_address[:2]
    real_handle = server.api.handle

    def handle_after_a_pause(*args, **kwargs):
        time.sleep(0.3)  # the client resets the connection meanwhile
        reply = real_handle(*args, **kwargs)
        return type(reply)(reply.status, reply.body * 2000, reply.content_type, reply.headers)

    server.api.handle = handle_after_a_pause  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.INFO, logger="factcheck.server"):
            for _ in range(3):
                sock = socket.create_connection((host, port), timeout=5)
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                # close with RST: the reply's write then fails with a reset or broken pipe
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            time.sleep(1.5)
        err = capsys.readouterr().err
        assert "Traceback" not in err and "Exception occurred" not in err
        dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
        assert len(dropped) == 3, [r.getMessage() for r in caplog.records]
        assert all(r.exc_info is None for r in dropped)
    finally:
        _stop(server)


@pytest.mark.slow
def test_100_slow_clients_for_30_s_do_not_lock_out_8_real_ones(
        sample_checker: FactChecker) -> None:
    """The issue's acceptance run: under a slowloris of 100 connections (more than the cap),
    8 clients asking one question per fresh connection each get >= 95% answers within 1 s."""
    seconds = 30.0
    server = _start(sample_checker, ServeOptions(max_connections=64, request_timeout=10))
    port = server.server_address[1]
    attack = subprocess.Popen(
        [sys.executable, "-m", "tests.slowpeers", str(port), "100", str(seconds + 2), "1.0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    latencies: list[list[float]] = [[] for _ in range(8)]
    failures: list[str] = []
    time.sleep(2)  # the attack is in place before the real clients start
    end = time.monotonic() + seconds

    def client(n: int) -> None:
        queries = ["vaksin chip pelacak", "kuota gratis kominfo", "banjir jakarta video lama"]
        i = 0
        while time.monotonic() < end:
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", f"/check?q={queries[i % 3].replace(' ', '+')}")
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status != 200 or "status" not in json.loads(body):
                    failures.append(f"{response.status} {body[:100]!r}")
                    latencies[n].append(float("inf"))
                else:
                    latencies[n].append(time.monotonic() - start)
            except OSError as exc:
                failures.append(repr(exc))
                latencies[n].append(float("inf"))
            i += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 15)
        out, _ = attack.communicate(timeout=20)
    finally:
        attack.kill()
        _stop(server)
    stats = json.loads(out)
    answered = sorted(v for values in latencies for v in values)
    print(f"slowloris 100 x {seconds:.0f} s: attack opened {stats['opened']} connections, "
          f"server closed {stats['closed_by_server']}, pushed out {server.shed}; real clients: "
          f"{len(answered)} requests, p50 {answered[len(answered) // 2] * 1000:.0f} ms, "
          f"p95 {answered[int(len(answered) * 0.95)] * 1000:.0f} ms, "
          f"{sum(v < 1.0 for v in answered) / len(answered):.1%} under 1 s")
    assert stats["closed_by_server"] > 0, stats  # the attack really did fill the server
    for n, values in enumerate(latencies):
        assert len(values) >= 20, (n, len(values))
        fast = sum(v < 1.0 for v in values) / len(values)
        assert fast >= 0.95, (n, fast, failures[:5])
