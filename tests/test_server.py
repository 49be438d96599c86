"""The HTTP API over real sockets on 127.0.0.1, on a port the test picks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
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
                           max_image_bytes=4096, max_url_chars=4096, reload_interval=0.0,
                           ui_lang="en")
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
    # a program (curl, httpx: Accept */*) still gets the JSON index at /; /api always does
    assert client.get("/").json()["endpoints"][0] == "/check"
    assert client.get("/", headers={"accept": "application/json"}).json()["page"] == "/"
    index = client.get("/api", headers={"accept": "text/html"}).json()
    assert {"/check", "/check/image", "/ui.json"} <= set(index["endpoints"])
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.") and {
        "/check", "/check/image", "/source", "/health", "/", "/api", "/ui.json"} <= set(
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


@pytest.mark.parametrize(("error", "status", "code"), [
    ("InvalidInput", 400, "invalid_input"), ("UnsafeURL", 400, "unsafe_url"),
    ("IndexNotFound", 503, "unavailable"), ("ModelMismatch", 503, "unavailable"),
    ("EmbedderUnavailable", 503, "unavailable"), ("IndexUnusable", 503, "index_unusable"),
    ("IndexCorrupt", 503, "index_damaged"), ("OCRUnavailable", 501, "ocr_unavailable"),
    ("RerankerError", 500, "internal_error"),
])
def test_each_library_error_says_its_own_status(server: APIServer, client: httpx.Client,
                                                monkeypatch: pytest.MonkeyPatch, error: str,
                                                status: int, code: str) -> None:
    import factcheck.errors

    def fail(*args, **kwargs):
        raise getattr(factcheck.errors, error)("the index said no")

    monkeypatch.setattr(FactChecker, "answer", fail)
    response = client.get("/check", params={"q": "vaksin"})
    assert response.status_code == status
    assert response.json()["error"] == {"status": status, "code": code,
                                        "message": "the index said no"}


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


# -- the web page and the image endpoint ----------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # a signature is all the fake OCR below looks at
OCR_TEXT = "Vaksin COVID-19 mengandung chip pelacak"


@pytest.fixture
def fake_ocr(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The real answer_image, with the engine replaced: the real byte checks, a fixed text."""
    ocr = pytest.importorskip("factcheck.ocr")
    seen: list[bytes] = []

    def read_text(data: bytes, engine_name: str | None = None) -> str:
        ocr.check_bytes(data)
        seen.append(data)
        return OCR_TEXT

    monkeypatch.setattr(ocr, "read_text", read_text)
    return seen


def test_a_browser_gets_the_page(client: httpx.Client) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    response = client.get("/", headers=browser)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["vary"] == "Accept"
    page = response.text
    # the fixture's server speaks English; labels come from the catalogue, escaped
    assert '<html lang="en">' in page and "Check before you share" in page
    assert 'aria-pressed="true">English' in page
    assert "{{" not in page and "http://" not in page and "https://" not in page
    assert 'src="/static/app.js"' in page and "<script>" not in page and "style=" not in page
    indonesian = client.get("/", params={"lang": "id"}, headers=browser).text
    assert '<html lang="id">' in indonesian and "Cek sebelum membagikan" in indonesian
    unknown = client.get("/", params={"lang": "fr", "fbclid": "x"}, headers=browser)
    assert unknown.status_code == 200 and '<html lang="en">' in unknown.text


def test_page_files_and_labels(client: httpx.Client) -> None:
    script = client.get("/static/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript")
    # no markup parsed from data, nothing loaded from another host
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert re.search(r"https?://", script.text) is None
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/icon.svg").headers["content-type"] == "image/svg+xml"
    for missing in ("/static/index.html", "/static/nope.js", "/static/../server.py",
                    "/static/%2e%2e/server.py"):
        _error(client.get(missing), 404)
    labels = client.get("/ui.json", params={"lang": "id"}).json()
    assert labels["lang"] == "id" and labels["text"]["page.check"] == "Periksa"
    assert labels["text"]["tier.none"].startswith("TIDAK ADA YANG COCOK")
    assert labels["text"]["page.claim"] == "Klaim {n} dari {total}"  # the page fills these
    assert "0.00390625 MB" in labels["text"]["page.image_hint"]  # the server fills these
    assert labels["verdicts"]["false"] == "salah" and labels["months"][4] == "Mei"
    assert client.get("/ui.json").json()["lang"] == "en"  # the server's language
    assert "not available" in _error(client.get("/ui.json", params={"lang": "fr"}), 400)


def test_check_image(client: httpx.Client, fake_ocr: list[bytes]) -> None:
    response = client.post("/check/image", content=PNG, params={"limit": 2, "ui_lang": "id"},
                           headers={"content-type": "image/png"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["ocr_text"] == OCR_TEXT and fake_ocr == [PNG]
    assert data["ui_lang"] == "id" and data["citation"]
    assert hits(data)[0]["url"].startswith("https://turnbackhoax.id/") and len(hits(data)) <= 2
    # the same text pasted gets the same answer
    pasted = client.get("/check", params={"q": OCR_TEXT, "limit": 2, "ui_lang": "id"}).json()
    assert {k: v for k, v in data.items() if k != "ocr_text"} == pasted


@pytest.mark.parametrize("body,content_type,status,fragment", [
    (b"GIF89a....", "image/gif", 415, "not a PNG, JPEG or WebP"),
    (PNG, "text/plain", 415, "not a PNG, JPEG or WebP"),
    (PNG, "", 415, "not a PNG, JPEG or WebP"),
    (b"", "image/png", 400, "empty"),
    (b"not an image at all", "application/octet-stream", 400, "not a PNG, JPEG or WebP"),
    (PNG + b"\0" * 5000, "image/png", 413, "larger than"),
])
def test_check_image_refusals(client: httpx.Client, fake_ocr: list[bytes], body: bytes,
                              content_type: str, status: int, fragment: str) -> None:
    response = client.post("/check/image", content=body, headers={"content-type": content_type})
    assert fragment in _error(response, status)
    assert fake_ocr == []  # refused before any OCR


def test_check_image_limits_and_language(sample_checker: FactChecker,
                                         fake_ocr: list[bytes]) -> None:
    """Images get their own, larger body limit; the text limit still holds for /check."""
    srv = _start(sample_checker, ServeOptions(max_body_bytes=1024, max_image_bytes=4096))
    try:
        with httpx.Client(base_url=srv.url, trust_env=False, timeout=10) as c:
            image = PNG + b"\0" * 3000
            ok = c.post("/check/image", content=image, headers={"content-type": "image/png"})
            assert ok.status_code == 200 and ok.json()["ui_lang"] == "id"  # the default
            _error(c.post("/check", content=b"{" + b" " * 3000 + b"}",
                          headers={"content-type": "application/json"}), 413)
            big = c.post("/check/image", params={"ui_lang": "id"}, content=image * 2,
                         headers={"content-type": "image/png"})
            assert _error(big, 413) == "gambar lebih besar dari 0.00390625 MB"
            assert big.json()["error"]["code"] == "image_too_large"
            bad = c.post("/check/image", params={"q": "x"}, content=image,
                         headers={"content-type": "image/png"})
            assert "unknown parameter" in _error(bad, 400)
            bad = c.post("/check/image", params={"limit": "0"}, content=image,
                         headers={"content-type": "image/png"})
            assert "between 1 and" in _error(bad, 400)
            _error(c.get("/check/image"), 405)
    finally:
        srv.shutdown()
        srv.server_close()


def test_check_image_without_ocr_is_501(client: httpx.Client,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from factcheck.errors import OCRUnavailable

    def unavailable(data: bytes, engine_name: str | None = None) -> str:
        raise OCRUnavailable("reading text from images needs the OCR extra: run "
                             "pip install 'factcheck[ocr]'", key="error.ocr_unavailable",
                             command="pip install 'factcheck[ocr]'")

    ocr = pytest.importorskip("factcheck.ocr")
    monkeypatch.setattr(ocr, "read_text", unavailable)
    response = client.post("/check/image", content=PNG, params={"ui_lang": "id"},
                           headers={"content-type": "image/png"})
    assert "pip install 'factcheck[ocr]'" in _error(response, 501)
    assert response.json()["error"]["code"] == "ocr_unavailable"


def test_check_image_with_the_real_reader(sample_checker: FactChecker) -> None:
    """No engine faked: 200 where the OCR extra is installed, else 501 naming the install."""
    pytest.importorskip("factcheck.ocr")
    from factcheck.errors import OCRUnavailable
    from factcheck.ocr import engine

    srv = _start(sample_checker)  # the default 10 MB limit: a real screenshot fits
    try:
        with httpx.Client(base_url=srv.url, trust_env=False, timeout=60) as client:
            try:
                engine()
            except OCRUnavailable:
                response = client.post("/check/image", content=PNG,
                                       headers={"content-type": "image/png"})
                assert "factcheck[ocr]" in _error(response, 501)
                return
            response = client.post("/check/image", content=_claim_png(OCR_TEXT),
                                   headers={"content-type": "image/png"})
            assert response.status_code == 200, response.text
            data = response.json()
            assert "chip" in data["ocr_text"].lower()
            assert hits(data)[0]["url"].startswith("https://turnbackhoax.id/")
    finally:
        srv.shutdown()
        srv.server_close()


def _claim_png(claim: str) -> bytes:
    """A plain screenshot-like image of one claim, drawn with Pillow's bundled font."""
    import io

    image_module = pytest.importorskip("PIL.Image")
    from PIL import ImageDraw, ImageFont

    image = image_module.new("RGB", (900, 160), "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=36)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        font = ImageFont.load_default()
    draw.text((30, 55), claim, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_live_responses_match_the_openapi_document(client: httpx.Client,
                                                   fake_ocr: list[bytes]) -> None:
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
        ("get", "/api", {}, 200),
        ("get", "/", {"headers": {"accept": "application/json"}}, 200),
        ("get", "/ui.json", {"params": {"lang": "id"}}, 200),
        ("get", "/ui.json", {"params": {"lang": "xx"}}, 400),
        ("post", "/check/image", {"content": PNG, "headers": {"content-type": "image/png"}},
         200),
        ("post", "/check/image", {"content": PNG, "params": {"split": "true", "limit": 2},
                                  "headers": {"content-type": "image/png"}}, 200),
        ("post", "/check/image", {"content": b"", "headers": {"content-type": "image/png"}},
         400),
        ("post", "/check/image", {"content": PNG, "headers": {"content-type": "image/gif"}},
         415),
        ("post", "/check/image", {"content": PNG * 100,
                                  "headers": {"content-type": "image/png"}}, 413),
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
        if path.startswith("/check") and status == 200:
            seen_split.add(response.json()["split"])
            # the document is strict: an undocumented field would fail the check above
            assert list(validator.iter_errors({**response.json(), "undocumented": 1}))
    assert seen_split == {True, False}


@pytest.mark.parametrize("body", [
    b"[" * 30000 + b"]" * 30000,
    b'{"q": "vaksin \\ud800 chip"}',
    b'{"q": "x", "limit": "' + b"9" * 5000 + b'"}',
])
def test_hostile_bodies_are_400_not_500(client: httpx.Client, body: bytes) -> None:
    response = client.post("/check", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 413), response.text
    assert response.json()["error"]["code"] != "internal_error"


def test_a_huge_max_age_is_400(client: httpx.Client) -> None:
    _error(client.get("/check", params={"q": "x", "max_age": "99999y"}), 400)


@pytest.mark.parametrize("digits", [5000, 4000])
def test_a_huge_unquoted_limit_is_400(sample_checker: FactChecker, digits: int) -> None:
    """Past 4,300 digits json.loads itself refuses the number (a ValueError, not a
    JSONDecodeError); below that the number parses and the limit check refuses it."""
    from factcheck.server import FactcheckAPI

    body = b'{"text": "vaksin", "limit": ' + b"9" * digits + b"}"
    reply = FactcheckAPI(sample_checker).handle("POST", "/check", body, "application/json")
    assert reply.status == 400, reply.body[:200]
    assert json.loads(reply.body)["error"]["code"] == "invalid_input"


def test_deeply_nested_body_is_400(sample_checker: FactChecker) -> None:
    from factcheck.server import FactcheckAPI

    reply = FactcheckAPI(sample_checker).handle(
        "POST", "/check", b"[" * 30000 + b"]" * 30000, "application/json")
    assert reply.status == 400 and b"nested too deeply" in reply.body
