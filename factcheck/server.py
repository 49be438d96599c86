"""A small read-only HTTP JSON API, so bots, CMS plug-ins and tiplines can ask the index.

It is the standard library's ``ThreadingHTTPServer`` on purpose: the API has a handful of
GET endpoints and the embedder serialises queries behind one lock anyway, so an async
framework would add dependencies without adding throughput. Each request borrows a reader
from a bounded pool (its own SQLite connection, opened read-only, sharing the one embedder
and vector index), which bounds concurrent work and keeps SQLite connections off shared
threads. There are no write endpoints: the index is changed by ``factcheck import``,
``refresh`` or ``bundle install``, and a running server picks up a newer vector index by
itself (restart it after ``bundle install``, which swaps the files underneath).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import queue
import socket
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np

from indexes.faiss_index import FaissIndex

from .api import FactChecker
from .embedding import Embedder
from .errors import (
    EmbedderUnavailable, FactcheckError, IndexCorrupt, IndexNotFound, IndexUnusable,
    InvalidInput, ModelMismatch, ServeFailed, UnsafeURL,
)
from .i18n import UI_LANGUAGES, check_ui_language, error_text, ui_language
from .store import Store
from .trust import TrustList, check_source, load_trust_list, user_domain_files

log = logging.getLogger(__name__)

MODES = ("hybrid", "keyword", "dense")


@dataclass(frozen=True)
class ServeOptions:
    """Limits that keep one client from monopolising the server."""

    max_limit: int = 20  # most results per /check
    max_query_chars: int = 5000  # a long forwarded chain message still fits
    max_body_bytes: int = 64 * 1024
    max_url_chars: int = 16 * 1024
    workers: int = 8  # readers, i.e. requests worked on at once
    max_connections: int = 64  # open client connections; more are answered 503
    queue_timeout: float = 10.0  # seconds a request waits for a reader before 503
    idle_timeout: float = 30.0  # seconds a kept-alive connection may stay silent
    reload_interval: float = 5.0  # seconds between checks for a newer vector index
    query_cache: int = 1024  # query vectors kept: a viral message is asked about many times
    ui_lang: str | None = None  # language of "message" and "citation"; None: env, then locale


class HTTPError(Exception):
    """An answer other than 200, with the JSON error body that goes with it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# -- the API, independent of the transport --------------------------------------------------


class CachingEmbedder:
    """Remembers recent query vectors; tiplines receive the same forwarded text again and again."""

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner = inner
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:  # lazy: reading it may load a model
        return self.inner.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed_queries(texts)
        key = texts[0]
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        vector = self.inner.embed_queries(texts)
        vector.setflags(write=False)
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)



class FactcheckAPI:
    """Routes a request to the library and turns every outcome into (status, JSON)."""

    def __init__(self, checker: FactChecker, options: ServeOptions | None = None) -> None:
        self.checker = checker
        self.options = options or ServeOptions()
        if self.options.max_limit < 1 or self.options.workers < 1:
            raise InvalidInput("max_limit and workers must be at least 1")
        self._readers: queue.LifoQueue[FactChecker] = queue.LifoQueue()
        self._created = 0
        self._create_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._next_reload = 0.0
        self._path = checker.store.path
        self._embedder: Embedder = (
            CachingEmbedder(checker.embedder, self.options.query_cache)
            if self.options.query_cache > 0 else checker.embedder
        )
        self._openapi = json.dumps(openapi_schema(self.options)).encode()
        self.ui_lang = ui_language(self.options.ui_lang)
        #: Read once: editing the user's trusted_domains.json takes a restart.
        self.trust: TrustList = load_trust_list(
            *user_domain_files(self._path.parent if self._path else None)
        )

    # readers ------------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[FactChecker]:
        """A checker for this request only; at most ``workers`` exist at once."""
        try:
            reader = self._readers.get_nowait()
        except queue.Empty:
            reader = self._new_reader()
            if reader is None:
                try:
                    reader = self._readers.get(timeout=self.options.queue_timeout)
                except queue.Empty:
                    raise HTTPError(503, "busy", "the server is busy; try again shortly") from None
        try:
            self._refresh_index(reader)
            yield reader
        finally:
            self._readers.put(reader)

    def _new_reader(self) -> FactChecker | None:
        with self._create_lock:
            if self._path is None:  # an in-memory index: one reader, the checker itself
                if self._created:
                    return None
                self._created = 1
                main = self.checker
                return FactChecker(main.store, self._embedder, main.index, main.thresholds,
                                   main.fusion, main.reranker, main.second_view)
            if self._created >= self.options.workers:
                return None
            self._created += 1
        try:
            uri = f"file:{quote(str(self._path))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                                   timeout=30)
            store = Store(conn, self._path)
        except sqlite3.Error:  # e.g. a read-only WAL without its -shm file: open normally
            store = Store.open(self._path.parent)
        main = self.checker
        return FactChecker(store, self._embedder, main.index, main.thresholds, main.fusion,
                           main.reranker, main.second_view)

    def _refresh_index(self, reader: FactChecker) -> None:
        """Follow a refresh done by another process: load its saved vector index once."""
        main = self.checker
        if self._path is not None and time.monotonic() >= self._next_reload:
            with self._index_lock:
                if time.monotonic() >= self._next_reload:
                    self._next_reload = time.monotonic() + self.options.reload_interval
                    version = reader.store.vectors_version
                    if version != main.index.version and main.index.path is not None:
                        try:
                            loaded = FaissIndex.load(main.index.path)
                        except IndexCorrupt as exc:
                            log.warning("keeping the loaded vector index: %s", exc)
                        else:
                            if (loaded.version == version and loaded.model_id == main.model_id
                                    and loaded.dim == main.index.dim):
                                log.info("loaded the refreshed vector index (version %d)", version)
                                main.index = loaded
        reader.index = main.index

    # routing ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes | None = None,
               content_type: str = "") -> tuple[int, bytes]:
        """Answer one request; never raises."""
        lang = self.ui_lang
        try:
            lang = _request_ui_lang(target, self.ui_lang)
            status, payload = self._route(method, target, body, content_type, lang)
            if isinstance(payload, bytes):
                return status, payload
            return status, _dumps(payload)
        except HTTPError as exc:
            return exc.status, _error(exc.status, exc.code, exc.message)
        except UnsafeURL as exc:
            return 400, _error(400, "unsafe_url", error_text(exc, lang))
        except InvalidInput as exc:
            return 400, _error(400, "invalid_input", error_text(exc, lang))
        except IndexUnusable as exc:
            return 503, _error(503, "index_unusable", error_text(exc, lang))
        except (IndexNotFound, EmbedderUnavailable, ModelMismatch) as exc:
            return 503, _error(503, "unavailable", error_text(exc, lang))
        except FactcheckError as exc:
            log.warning("request failed: %s", exc)
            return 500, _error(500, type(exc).__name__, error_text(exc, lang))
        except Exception:  # the client gets one line, the log gets the traceback
            log.exception("unexpected error answering %s %s", method, target[:200])
            return 500, _error(500, "internal_error", "internal error; see the server log")

    def _route(self, method: str, target: str, body: bytes | None,
               content_type: str, lang: str) -> tuple[int, Any]:
        if len(target) > self.options.max_url_chars:
            raise HTTPError(414, "uri_too_long",
                            f"the request URL is longer than {self.options.max_url_chars} bytes")
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        routes: dict[str, tuple[str, ...]] = {
            "/": ("GET",), "/health": ("GET",), "/openapi.json": ("GET",),
            "/check": ("GET", "POST"), "/source": ("GET",),
        }
        if path not in routes:
            raise HTTPError(404, "not_found", f"no endpoint {path[:100]}; see /openapi.json")
        if method not in routes[path]:
            raise HTTPError(405, "method_not_allowed",
                            f"{path} accepts {' and '.join(routes[path])} only")
        try:
            query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False,
                             max_num_fields=100)
        except ValueError as exc:
            raise HTTPError(400, "invalid_input", f"bad query string: {exc}") from exc
        if path == "/":
            return 200, {
                "name": "factcheck", "version": _version(),
                "endpoints": ["/check", "/source", "/health", "/openapi.json"],
            }
        if path == "/openapi.json":
            return 200, self._openapi
        if path == "/health":
            with self.reader() as reader:
                return 200, {
                    "status": "ok", "version": _version(), "model": reader.model_id,
                    "items": reader.store.count(), "vectors": len(reader.index),
                }
        if path == "/source":
            params = _params(query, {"url", "ui_lang"})
            url = _one(params, "url", required=True)
            with self.reader() as reader:
                return 200, check_source(url, reader, trust=self.trust).to_dict(lang)
        if method == "POST":
            params = self._json_body(body, content_type)
        else:
            params = _params(query, set(CHECK_PARAMS))
        return 200, self._check(params, lang)

    def _json_body(self, body: bytes | None, content_type: str) -> dict[str, list[str]]:
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise HTTPError(415, "unsupported_media_type", "POST /check takes application/json")
        try:
            data = json.loads((body or b"").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPError(400, "invalid_input", f"the body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise HTTPError(400, "invalid_input", "the body must be a JSON object")
        unknown = set(data) - set(CHECK_PARAMS) - {"text"}
        if unknown:
            raise HTTPError(400, "invalid_input", f"unknown field(s): {', '.join(sorted(unknown))}")
        params: dict[str, list[str]] = {}
        for key, value in data.items():
            key = "q" if key == "text" else key
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, int)) for v in values):
                raise HTTPError(400, "invalid_input", f"{key} must be a string or a list of them")
            params.setdefault(key, []).extend(
                str(v).lower() if isinstance(v, bool) else str(v) for v in values)
        return params

    def _check(self, params: dict[str, list[str]], lang: str) -> dict[str, Any]:
        options = self.options
        q = _one(params, "q", required=True)
        if len(q) > options.max_query_chars:
            raise HTTPError(413, "query_too_long",
                            f"q is longer than {options.max_query_chars} characters")
        limit = _int(_one(params, "limit") or "5", "limit", 1, options.max_limit)
        mode = _one(params, "mode") or "hybrid"
        if mode not in MODES:
            raise InvalidInput(f"unknown mode {mode!r}: use {', '.join(MODES)}")
        split = _flag(_one(params, "split"), "split")
        if _one(params, "ui_lang"):
            lang = check_ui_language(_one(params, "ui_lang"))
        with self.reader() as reader:
            answer = reader.answer(
                q, split=split, limit=limit, publishers=_many(params, "publisher"),
                sources=_many(params, "source"), verdicts=_many(params, "verdict"),
                languages=_many(params, "lang"), max_age=_one(params, "max_age"), mode=mode,
            )
        return answer.to_dict(lang)


CHECK_PARAMS = ("q", "limit", "publisher", "source", "verdict", "lang", "max_age", "mode",
                "split", "ui_lang")


def _request_ui_lang(target: str, default: str) -> str:
    """``ui_lang`` of the query string (POST bodies may carry it too), else the server's."""
    values = parse_qs(urlsplit(target).query, max_num_fields=100).get("ui_lang", [])
    return check_ui_language(values[-1]) if values and values[-1].strip() else default


def _flag(value: str, name: str) -> bool | None:
    """``true``/``false`` (also 1/0, yes/no); empty means "decide from the text"."""
    if not value:
        return None
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"{name} must be true or false, not {value[:20]!r}")


def _params(query: dict[str, list[str]], allowed: set[str]) -> dict[str, list[str]]:
    unknown = set(query) - allowed
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) {', '.join(sorted(unknown))[:200]}; "
            f"use {', '.join(sorted(allowed))}"
        )
    return query


def _one(params: dict[str, list[str]], name: str, required: bool = False) -> str:
    values = params.get(name, [])
    if len(values) > 1:
        raise InvalidInput(f"give {name} once")
    value = values[0].strip() if values else ""
    if required and not value:
        raise InvalidInput(f"the {name} parameter is required")
    return value


def _many(params: dict[str, list[str]], name: str) -> list[str]:
    """Repeated parameters and comma-separated lists both work: verdict=false,misleading."""
    values = [v.strip() for raw in params.get(name, []) for v in raw.split(",") if v.strip()]
    if len(values) > 20:
        raise InvalidInput(f"at most 20 values for {name}")
    return values


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value[:20]!r}") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return number


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


def _error(status: int, code: str, message: str) -> bytes:
    return _dumps({"error": {"status": status, "code": code, "message": message}})


def _version() -> str:
    from . import __version__

    return __version__


# -- HTTP transport -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a bot asking many questions reuses its socket
    server_version = "factcheck"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid a 40 ms ACK stall
    sys_version = ""
    server: "APIServer"

    def setup(self) -> None:
        self.timeout = self.server.api.options.idle_timeout
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        self._answer(None)

    def do_POST(self) -> None:  # noqa: N802
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self._send(411, _error(411, "length_required", "send a Content-Length body"))
        raw_length = self.headers.get("Content-Length")
        if raw_length is None or not raw_length.strip().isdigit():
            self.close_connection = True
            return self._send(411, _error(411, "length_required", "Content-Length is required"))
        length = int(raw_length)
        limit = self.server.api.options.max_body_bytes
        if length > limit:
            self.close_connection = True  # the unread body must not be taken as a request
            return self._send(413, _error(413, "body_too_large",
                                          f"the body is larger than {limit} bytes"))
        self._answer(self.rfile.read(length))

    def _method_not_allowed(self) -> None:
        self._answer(None)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _method_not_allowed  # noqa: N815

    def _answer(self, body: bytes | None) -> None:
        status, payload = self.server.api.handle(
            self.command, self.path, body, self.headers.get("Content-Type", "")
        )
        self._send(status, payload)

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """The stdlib's own errors (bad request line, too many headers) as JSON too."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # no client speaks 0.9: always send a status line
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send(code, _error(code, phrase.lower().replace(" ", "_"), message or phrase))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)


class APIServer(ThreadingHTTPServer):
    """A thread per connection, with the number of open connections capped."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: FactcheckAPI) -> None:
        self.api = api
        self._active = 0
        self._active_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            full = self._active >= self.api.options.max_connections
            if not full:
                self._active += 1
        if full:
            try:
                body = _error(503, "busy", "too many open connections; try again shortly")
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
                    + b"\r\n\r\n" + body
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1


def make_server(
    checker: FactChecker, host: str = "127.0.0.1", port: int = 8000,
    options: ServeOptions | None = None,
) -> APIServer:
    """Bind the API (port 0 picks a free port); call ``serve_forever`` on the result."""
    api = FactcheckAPI(checker, options)
    try:
        server = APIServer((host, port), api)
    except OSError as exc:
        raise ServeFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    if not is_loopback(host):
        log.warning("listening on %s: the API is reachable from the network and has no "
                    "authentication", host)
    return server


def serve(
    checker: FactChecker, host: str = "127.0.0.1", port: int = 8000,
    options: ServeOptions | None = None, on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (KeyboardInterrupt propagates after a clean shutdown)."""
    server = make_server(checker, host, port, options)
    try:
        if on_ready:
            on_ready(server.url)
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- OpenAPI ----------------------------------------------------------------------------------


def openapi_schema(options: ServeOptions | None = None) -> dict[str, Any]:
    """OpenAPI 3.1 description of the API, served at /openapi.json."""
    options = options or ServeOptions()

    def param(name: str, description: str, schema: dict[str, Any], required: bool = False,
              many: bool = False) -> dict[str, Any]:
        if many:
            schema = {"type": "array", "items": schema}
        out: dict[str, Any] = {"name": name, "in": "query", "required": required,
                               "description": description, "schema": schema}
        if many:
            out.update(style="form", explode=True)
        return out

    error = {"description": "Bad input or a server problem",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    verdicts = ["false", "misleading", "mixed", "true", "satire", "unproven", "unknown"]
    check_params = [
        param("q", f"The claim or forwarded message (at most {options.max_query_chars} "
                   "characters).", {"type": "string"}, required=True),
        param("split", "true: answer a forwarded message claim by claim; false: as one claim; "
                       "absent: decided from the text, as the CLI does.", {"type": "boolean"}),
        param("ui_lang", "Language of the message and citation fields (default: the "
                         "server's, Indonesian unless set).",
              {"type": "string", "enum": list(UI_LANGUAGES)}),
        param("limit", "How many results.",
              {"type": "integer", "minimum": 1, "maximum": options.max_limit, "default": 5}),
        param("publisher", "Only items of these publishers (repeat or comma-separate).",
              {"type": "string"}, many=True),
        param("source", "Only items from these sources.", {"type": "string"}, many=True),
        param("verdict", "Only these verdict classes, or a publisher's label that maps to one "
                         "(hoaks, salah, keliru); anything else is refused with 400.",
              {"type": "string"}, many=True),
        param("lang", "Only items in these languages, ISO 639-1 codes (id, en).",
              {"type": "string", "pattern": "^[A-Za-z]{2}([-_][A-Za-z0-9]{2,8})*$"}, many=True),
        param("max_age", "Only items published within this age: 30d, 6w, 6m, 2y.",
              {"type": "string", "pattern": r"^\d+[dwmy]?$"}),
        param("mode", "Retrieval mode.", {"type": "string", "enum": list(MODES),
                                          "default": "hybrid"}),
    ]
    hits = {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}}
    claim_properties: dict[str, Any] = {
        "query": {"type": "string"},
        "status": {"type": "string", "enum": ["match", "suggestion", "none"],
                   "description": "match: a trusted source checked this claim; suggestion: "
                                  "related items only; none: no match"},
        "model": {"type": "string"},
        "thresholds": {"type": "object", "additionalProperties": {"type": "number"}},
        "confidence": {"type": ["number", "null"]},
        "reranked": {"type": "boolean"},
        "degraded": {"type": ["string", "null"], "enum": ["no_vectors", "model_unavailable",
                                                          None],
                     "description": "Why only keywords were searched; nothing is then called "
                                    "a match"},
        "matches": {**hits, "description": "The fact-checks that answer the claim"},
        "others": {**hits, "description": "Other results, not checked to be about the claim"},
    }
    item_ref = {"type": "object", "properties": {
        k: {"type": ["string", "null"]} for k in
        ("relation", "url", "title", "verdict", "verdict_raw", "publisher", "published")
    }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "factcheck", "version": _version(),
            "description": "Has a trusted fact-checker already verified this claim? Read-only "
                           "lookups in an offline index of Indonesian fact-checks.",
        },
        "paths": {
            "/check": {
                "get": {
                    "summary": "Verified items most similar to a claim",
                    "parameters": check_params,
                    "responses": {
                        "200": {"description": "The answer: one claim, or each claim of a "
                                               "forwarded message", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Answer"}}}},
                        "400": error, "413": error, "503": error,
                    },
                },
                "post": {
                    "summary": "The same as GET, for long messages: a JSON object body",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object", "required": ["q"], "properties": {
                            p["name"]: p["schema"] for p in check_params}}}}},
                    "responses": {
                        "200": {"description": "As for GET", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Answer"}}}},
                        "400": error, "411": error, "413": error, "415": error, "503": error,
                    },
                },
            },
            "/source": {
                "get": {
                    "summary": "Is the source of a link clear? Never fetches the link.",
                    "parameters": [
                        param("url", "An http(s) link; private and local hosts are refused.",
                              {"type": "string"}, required=True),
                        param("ui_lang", "Language of the summary field.",
                              {"type": "string", "enum": list(UI_LANGUAGES)}),
                    ],
                    "responses": {
                        "200": {"description": "The domain's standing and what the index "
                                               "holds about the link and domain",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/SourceReport"}}}},
                        "400": error,
                    },
                },
            },
            "/health": {
                "get": {
                    "summary": "Liveness and what the index holds",
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Health"}}}}},
                },
            },
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string"},
                    "message": {"type": "string"}}}}},
            "Health": {"type": "object", "properties": {
                "status": {"type": "string"}, "version": {"type": "string"},
                "model": {"type": "string"}, "items": {"type": "integer"},
                "vectors": {"type": "integer"}}},
            "Hit": {"type": "object", "additionalProperties": False, "properties": {
                "rank": {"type": "integer"}, "score": {"type": "number"},
                "dense_score": {"type": "number"}, "keyword_score": {"type": "number"},
                "url": {"type": "string", "description": "The URL as the publisher published "
                                                         "it"},
                "title": {"type": "string"},
                "claim": {"type": "string"}, "verdict": {"type": "string", "enum": verdicts},
                "verdict_raw": {"type": "string"}, "publisher": {"type": "string"},
                "source": {"type": "string"}, "published": {"type": ["string", "null"]},
                "language": {"type": ["string", "null"]}, "snippet": {"type": "string"}}},
            "Notice": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string",
                         "enum": ["demo", "filters", "keyword_only", "vectors_missing"]},
                "message": {"type": "string"}}},
            "Link": {"type": "object", "required": ["url", "checked"], "properties": {
                "url": {"type": "string"}, "checked": {"type": "boolean"},
                "refused": {"type": ["string", "null"],
                            "description": "Why the link was not looked up"}},
                "description": "A link found in the text; when checked, also every field of "
                               "SourceReport"},
            "CheckResult": {"type": "object", "properties": claim_properties,
                            "required": list(claim_properties)},
            "Answer": {
                "type": "object", "additionalProperties": False,
                "required": ["status", "split", "message", "citation", "links", "notices",
                             "ui_lang"],
                "description": "split false: the fields of CheckResult for the one claim; "
                               "split true: claims holds a CheckResult (with claim and "
                               "citation) per claim",
                "properties": {
                    **claim_properties,
                    "split": {"type": "boolean"},
                    "message": {"type": "string", "description": "The headline a person "
                                                                 "reads, in ui_lang"},
                    "citation": {"type": "string", "description": "Ready to paste into a "
                                                                  "chat reply, in ui_lang"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                    "notices": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Notice"}},
                    "ui_lang": {"type": "string", "enum": list(UI_LANGUAGES)},
                    "claims": {"type": "array", "items": {"allOf": [
                        {"$ref": "#/components/schemas/CheckResult"},
                        {"type": "object", "required": ["claim", "citation"], "properties": {
                            "claim": {"type": "string"}, "citation": {"type": "string"}}}]}},
                    "dropped": {"type": "array", "items": {"type": "string"}},
                }},
            "SourceReport": {"type": "object", "properties": {
                "url": {"type": "string"}, "canonical_url": {"type": "string"},
                "host": {"type": "string"}, "domain": {"type": "string"},
                "kind": {"type": ["string", "null"],
                         "enum": ["government", "factchecker", "news", None]},
                "name": {"type": ["string", "null"]}, "rule": {"type": ["string", "null"]},
                "official": {"type": "boolean"}, "recognised": {"type": "boolean"},
                "lookalike_of": {"type": ["string", "null"]},
                "lookalike_reason": {"type": ["string", "null"]},
                "debunked": {"type": "boolean"},
                "summary": {"type": "string"}, "searched_index": {"type": "boolean"},
                "indexed_item": {"oneOf": [item_ref, {"type": "null"}]},
                "quoted_in": {"type": "array", "items": item_ref},
                "domain_items": {"type": "object", "properties": {
                    "count": {"type": "integer"}, "examples": {"type": "array",
                                                               "items": item_ref}}},
                "mentions": {"type": "object", "properties": {
                    "count": {"type": "integer"}, "examples": {"type": "array",
                                                               "items": item_ref}}}}},
        }},
    }


__all__ = [
    "APIServer", "FactcheckAPI", "ServeOptions", "is_loopback", "make_server", "openapi_schema",
    "serve",
]
