"""The HTTP API over real sockets on 127.0.0.1, on a port the test picks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from factcheck import FactChecker, VerifiedItem
from factcheck.server import APIServer, ServeOptions, make_server, openapi_schema
from tests.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent


def _start(checker: FactChecker, options: ServeOptions | None = None) -> APIServer:
    server = make_server(checker, "127.0.0.1", 0, options)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


@pytest.fixture
def server(sample_checker: FactChecker) -> Iterator[APIServer]:
    options = ServeOptions(max_limit=10, max_query_chars=500, max_body_bytes=2048,
                           max_url_chars=4096, reload_interval=0.0, ui_lang="en")
    srv = _start(sample_checker, options)
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def client(server: APIServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as c:
        yield c


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["error"]
    assert body["status"] == status and "Traceback" not in body["message"]
    return body["message"]


def test_health_root_and_openapi(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["items"] == 5 and health["model"] == "test-hash"
    assert client.get("/").json()["endpoints"][0] == "/check"
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.") and {"/check", "/source", "/health"} <= set(
        schema["paths"])
    limit = next(p for p in schema["paths"]["/check"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10
    assert json.dumps(openapi_schema())


def hits(data: dict) -> list[dict]:
    """Every hit of a single-claim answer in rank order: the matches, then the others."""
    return data["matches"] + data["others"]


def test_check_and_filters(client: httpx.Client) -> None:
    data = client.get("/check", params={"q": "vaksin covid chip pelacak"}).json()
    assert hits(data)[0]["url"].startswith("https://turnbackhoax.id/")
    assert data["status"] in ("match", "suggestion", "none") and len(hits(data)) <= 5
    data = client.get("/check", params={"q": "kuota gratis", "limit": 2}).json()
    assert len(hits(data)) <= 2
    data = client.get("/check", params=[("q", "video"), ("lang", "en")]).json()
    assert {r["language"] for r in hits(data)} <= {"en"}
    data = client.get("/check", params={"q": "banjir jakarta", "verdict": "misleading,true"}).json()
    assert [r["verdict"] for r in hits(data)] == ["misleading"]
    data = client.get("/check", params=[("q", "kuota"), ("publisher", "Komdigi"),
                                        ("publisher", "Tempo")]).json()
    assert {r["publisher"] for r in hits(data)} <= {"Komdigi", "Tempo"}
    assert hits(data)
    data = client.get("/check", params={"q": "moon landing", "max_age": "1d"}).json()
    assert hits(data) == []


def test_post_check(client: httpx.Client) -> None:
    data = client.post("/check", json={"text": "Kominfo bagi kuota internet gratis 100 GB",
                                       "limit": 3, "verdict": ["false"]}).json()
    assert "kominfo" in hits(data)[0]["url"]
    message = _error(client.post("/check", content=b"q=x",
                                 headers={"content-type": "text/plain"}), 415)
    assert "application/json" in message
    _error(client.post("/check", json=["q"]), 400)
    _error(client.post("/check", json={"q": "x", "bogus": 1}), 400)
    _error(client.post("/check", json={"q": {"nested": 1}}), 400)
    _error(client.post("/check", json={"q": "x" * 3000}), 413)


@pytest.mark.parametrize("params,fragment", [
    ({}, "q parameter is required"),
    ({"q": "  "}, "q parameter is required"),
    ({"q": "x", "limit": "11"}, "between 1 and 10"),
    ({"q": "x", "limit": "abc"}, "whole number"),
    ({"q": "x", "max_age": "yesterday"}, "bad maximum age"),
    ({"q": "x", "mode": "magic"}, "unknown mode"),
    ({"q": "x", "qq": "typo"}, "unknown parameter"),
    ([("q", "a"), ("q", "b")], "give q once"),
])
def test_check_bad_input(client: httpx.Client, params, fragment: str) -> None:
    assert fragment in _error(client.get("/check", params=params), 400)


def test_request_bounds_and_routing(client: httpx.Client, server: APIServer) -> None:
    _error(client.get("/check", params={"q": "x" * 501}), 413)
    _error(client.get("/check", params={"q": "x" * 5000}), 414)
    _error(client.get("/nope"), 404)
    _error(client.delete("/check"), 405)
    _error(client.post("/source", json={}), 405)
    response = client.post("/check", content=b"{" + b" " * 4000 + b"}",
                           headers={"content-type": "application/json"})
    _error(response, 413)
    raw = _raw(server, b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 411") and b'"length_required"' in raw
    raw = _raw(server, b"GARBAGE\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400") and b'"error"' in raw


def _raw(server: APIServer, request: bytes) -> bytes:
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_source(client: httpx.Client) -> None:
    data = client.get("/source", params={"url": "https://facebook.com/hoaxpage/posts/123"}).json()
    assert data["debunked"] and data["quoted_in"][0]["publisher"].startswith("TurnBackHoax")
    data = client.get("/source", params={"url": "https://www.kemkes.go.id/x"}).json()
    assert data["official"] and data["kind"] == "government"
    response = client.get("/source", params={"url": "http://169.254.169.254/latest/meta-data"})
    assert "refusing" in _error(response, 400)
    assert response.json()["error"]["code"] == "unsafe_url"
    _error(client.get("/source", params={"url": "file:///etc/passwd"}), 400)
    _error(client.get("/source"), 400)


def test_concurrent_clients(server: APIServer) -> None:
    queries = ["vaksin chip pelacak", "kuota gratis kominfo", "banjir jakarta video lama",
               "moon landing staged"]
    expected: dict[str, str] = {}
    with httpx.Client(base_url=server.url, trust_env=False) as c:
        for q in queries:
            expected[q] = hits(c.get("/check", params={"q": q}).json())[0]["url"]
    failures: list[str] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as c:
            for i in range(25):
                q = queries[(n + i) % len(queries)]
                if i % 5 == 4:
                    r = c.get("/source", params={"url": "https://kompas.com/a"})
                    ok = r.status_code == 200 and r.json()["kind"] == "news"
                else:
                    r = c.get("/check", params={"q": q})
                    ok = r.status_code == 200 and hits(r.json())[0]["url"] == expected[q]
                if not ok:
                    failures.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert server.api._created <= server.api.options.workers


def test_connection_cap(sample_checker: FactChecker) -> None:
    srv = _start(sample_checker, ServeOptions(max_connections=2, workers=2))
    host, port = srv.server_address[:2]
    held = []
    try:
        for _ in range(2):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # kept alive, still counted
            held.append(sock)
        assert _raw(srv, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503")
        held.pop().close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            raw = _raw(srv, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if raw.startswith(b"HTTP/1.1 200"):
                break
            time.sleep(0.05)
        assert raw.startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
        srv.shutdown()
        srv.server_close()


def test_follows_a_refresh_by_another_process(server: APIServer, client: httpx.Client,
                                              sample_index: Path) -> None:
    assert client.get("/health").json()["vectors"] == 5
    with FactChecker.open(sample_index, embedder=HashEmbedder()) as writer:
        writer.add_items([VerifiedItem(url="https://turnbackhoax.id/articles/99-gempa",
                                       title="Prediksi gempa megathrust besok pagi")])
    health = client.get("/health").json()
    assert (health["items"], health["vectors"]) == (6, 6)
    data = client.get("/check", params={"q": "gempa megathrust", "mode": "dense"}).json()
    assert hits(data)[0]["url"].endswith("99-gempa")


def test_unexpected_error_is_one_json_line(server: APIServer, client: httpx.Client,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(FactChecker, "check", boom)
    response = client.get("/check", params={"q": "x"})
    assert "internal error" in _error(response, 500)
    assert "secret" not in response.text
    assert client.get("/health").status_code == 200


def test_bind_failure_is_a_clean_error(sample_checker: FactChecker) -> None:
    from factcheck.errors import ServeFailed

    srv = _start(sample_checker)
    try:
        with pytest.raises(ServeFailed, match="cannot listen"):
            make_server(sample_checker, "127.0.0.1", srv.server_address[1])
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_serve_subprocess(sample_index: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "--index", str(sample_index),
         "serve", "--port", "0"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert "Serving 5 items" in line, line
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(trust_env=False) as c:
            assert c.get(f"{url}/health").json()["items"] == 5
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    assert "Stopped." in proc.stderr.read()  # type: ignore[union-attr]


def test_query_vector_cache() -> None:
    from factcheck.server import CachingEmbedder

    calls: list[list[str]] = []
    inner = HashEmbedder()
    original = inner.embed_queries

    def counting(texts: list[str]):
        calls.append(texts)
        return original(texts)

    inner.embed_queries = counting  # type: ignore[method-assign]
    cache = CachingEmbedder(inner, size=2)
    first = cache.embed_queries(["a b"])
    assert cache.embed_queries(["a b"]) is first and len(calls) == 1
    cache.embed_queries(["c"])
    cache.embed_queries(["d"])  # evicts "a b"
    cache.embed_queries(["a b"])
    assert len(calls) == 4


def test_api_answers_exactly_like_the_library(sample_checker: FactChecker) -> None:
    """Readers of the server are built from the opened checker: re-ranker and tiers included."""
    from factcheck.rerank import Reranker
    from tests.test_rerank import spec

    sample_checker.reranker = Reranker(spec(min_items=1))
    server = _start(sample_checker)
    try:
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
            for q in ("kuota internet gratis Kominfo", "video banjir Jakarta rekaman lama"):
                expected = sample_checker.answer(q, limit=3).to_dict("id")
                got = client.get("/check", params={"q": q, "limit": 3, "ui_lang": "id"}).json()
                assert got["reranked"] is True
                assert got == json.loads(json.dumps(expected))
    finally:
        server.shutdown()
        server.server_close()


def test_live_responses_match_the_openapi_document(client: httpx.Client) -> None:
    """Every documented answer, as the server really sends it, validates against /openapi.json."""
    jsonschema = pytest.importorskip("jsonschema")
    document = client.get("/openapi.json").json()
    forwarded = ("Selamat pagi\n\nVaksin COVID-19 mengandung chip pelacak, sudah terbukti.\n\n"
                 "Kominfo bagi kuota internet gratis 100 GB, daftar di https://kominfo-go-id.com/"
                 "kuota\n\nSebarkan!!")
    calls = [
        ("get", "/check", {"params": {"q": "vaksin covid chip pelacak"}}, 200),
        ("get", "/check", {"params": {"q": "kuota gratis", "ui_lang": "id", "split": "false",
                                      "verdict": "hoaks", "lang": "id"}}, 200),
        ("post", "/check", {"json": {"text": forwarded}}, 200),
        ("post", "/check", {"json": {"text": forwarded, "split": False, "limit": 2}}, 200),
        ("get", "/check", {"params": {"q": "moon landing", "max_age": "1d"}}, 200),
        ("get", "/check", {"params": {"q": "x", "verdict": "bogus"}}, 400),
        ("get", "/check", {"params": {"q": "x", "publisher": "Nobody"}}, 400),
        ("post", "/check", {"json": {"q": "x", "bogus": 1}}, 400),
        ("get", "/source", {"params": {"url": "https://kominfo-go-id.com/kuota"}}, 200),
        ("get", "/source", {"params": {"url": "http://127.0.0.1/"}}, 400),
        ("get", "/health", {}, 200),
    ]
    seen_split = set()
    for method, path, kwargs, status in calls:
        response = getattr(client, method)(path, **kwargs)
        assert response.status_code == status, (path, kwargs, response.text)
        documented = document["paths"][path][method]["responses"][str(status)]
        schema = documented["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": document["components"]})
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(response.json())]
        assert errors == [], (path, kwargs, errors[:5])
        if path == "/check" and status == 200:
            seen_split.add(response.json()["split"])
            # the document is strict: an undocumented field would fail the check above
            assert list(validator.iter_errors({**response.json(), "undocumented": 1}))
    assert seen_split == {True, False}
