"""A small read-only HTTP JSON API, so bots, CMS plug-ins and tiplines can ask the index.

It is the standard library's ``ThreadingHTTPServer`` on purpose: the API has a handful of
GET endpoints and the embedder serialises queries behind one lock anyway, so an async
framework would add dependencies without adding throughput. Each request borrows a reader
from a bounded pool (its own SQLite connection, opened read-only, sharing the one embedder
and vector index), which bounds concurrent work and keeps SQLite connections off shared
threads. There are no write endpoints: the index is changed by ``factcheck import``,
``refresh`` or ``bundle install``, and a running server picks up a newer vector index by
itself (restart it after ``bundle install``, which swaps the files underneath).

The same server serves the web page (``GET /`` to a browser, files in ``factcheck/web/``): plain
HTML and one script, every label from :mod:`factcheck.i18n` (rendered into the HTML and served
as ``/ui.json`` for the script), under a Content-Security-Policy that allows nothing from
elsewhere, so the page works offline and no crawled title can run as code. ``POST /check/image``
answers a screenshot through :meth:`FactChecker.answer_image`; it is the only request whose body
may be larger than ``max_body_bytes``.
"""

from __future__ import annotations

import html
import io
import ipaddress
import json
import logging
import os
import queue
import re
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import numpy as np

from indexes.faiss_index import FaissIndex

from .api import FactChecker
from .embedding import Embedder
from .errors import FactcheckError, IndexCorrupt, InvalidInput, ServeFailed
from .i18n import (
    _MONTHS, CATALOGUE, ENV_UI_LANG, UI_LANGUAGES, VERDICT_WORDS, check_ui_language, error_text,
    text, ui_language,
)
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
    max_image_bytes: int = 10 * 1024 * 1024  # POST /check/image only; the OCR's own limit too
    max_url_chars: int = 16 * 1024
    workers: int = 8  # readers, i.e. requests worked on at once
    max_connections: int = 64  # open client connections; more are answered 503
    queue_timeout: float = 10.0  # seconds a request waits for a reader before 503
    idle_timeout: float = 30.0  # seconds a kept-alive connection may stay silent
    request_timeout: float = 10.0  # seconds to receive a request line and headers, in all
    min_body_rate: int = 100_000  # bytes/s a body must arrive at, on top of request_timeout
    send_timeout: float = 30.0  # seconds to hand one whole reply to the client
    reload_interval: float = 5.0  # seconds between checks for a newer vector index
    query_cache: int = 1024  # query vectors kept: a viral message is asked about many times
    ui_lang: str | None = None  # language of "message" and "citation"; None: env, then locale


JSON_TYPE = "application/json; charset=utf-8"
#: The page may load its own files only: no CDN, font or script from elsewhere, no inline
#: script or style, no plug-ins, no framing; blob: is the preview of the chosen screenshot.
PAGE_CSP = ("default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
#: JSON is data, never a document: nothing in it may load or run.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Content-Type values POST /check/image takes; the bytes are sniffed again by the OCR module.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/webp",
               "application/octet-stream")
#: The files of the page, served under /static/ (nothing else in factcheck/web/ is served).
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
#: Catalogue entries the page's script needs (its labels, headlines, section names).
UI_PREFIXES = ("page.", "tier.", "section.", "lang.", "written.")
UI_KEYS = ("links.header", "link.refused", "hit.no_date", "hit.no_publisher", "error.prefix",
           "error.image_too_large")


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body and the headers that depend on what the body is."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


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
        #: The page speaks Indonesian unless the server was told otherwise (option or
        #: $FACTCHECK_UI_LANG): the machine's locale is the operator's, not the visitor's.
        self.page_lang = ui_language(self.options.ui_lang,
                                     {ENV_UI_LANG: os.environ.get(ENV_UI_LANG, "")})
        self._static = {name: _web_file(name) for name in STATIC_FILES}
        self._template = _web_file("index.html").decode("utf-8")
        self._pages = {lang: self._render_page(lang) for lang in UI_LANGUAGES}
        #: Read once: editing the user's trusted_domains.json takes a restart.
        self.trust: TrustList = load_trust_list(
            *user_domain_files(self._path.parent if self._path else None)
        )

    # readers ------------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[FactChecker]:
        """A checker for this request only; at most ``workers`` exist at once."""
        reader: FactChecker | None
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
                return self._like_main(self.checker.store)
            if self._created >= self.options.workers:
                return None
            self._created += 1
        # the store's own read-only open: damage is IndexCorrupt (503), never a raw sqlite3 error
        return self._like_main(Store.open(self._path.parent, read_only=True))

    def _like_main(self, store: Store) -> FactChecker:
        """A reader that answers exactly as the opened checker (the demo notice included)."""
        main = self.checker
        reader = FactChecker(store, self._embedder, main.index, main.thresholds, main.fusion,
                             main.reranker, main.second_view)
        reader.demo = main.demo
        return reader

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
               content_type: str = "", accept: str = "") -> Reply:
        """Answer one request; never raises."""
        lang = self.ui_lang
        try:
            lang = _request_ui_lang(target, self.ui_lang)
            routed = self._route(method, target, body, content_type, lang, accept)
            if isinstance(routed, Reply):
                return routed
            status, payload = routed
            return Reply(status, payload if isinstance(payload, bytes) else _dumps(payload))
        except HTTPError as exc:
            return _error_reply(exc.status, exc.code, exc.message)
        except FactcheckError as exc:  # the error says its own status and code (errors.py)
            if exc.http_status >= 500 and exc.http_status != 503:
                log.warning("request failed: %s", exc)
            return _error_reply(exc.http_status, exc.http_code, error_text(exc, lang))
        except Exception:  # the client gets one line, the log gets the traceback
            log.exception("unexpected error answering %s %s", method, target[:200])
            return _error_reply(500, "internal_error", "internal error; see the server log")

    def _route(self, method: str, target: str, body: bytes | None,
               content_type: str, lang: str, accept: str = "") -> Reply | tuple[int, Any]:
        if len(target) > self.options.max_url_chars:
            raise HTTPError(414, "uri_too_long",
                            f"the request URL is longer than {self.options.max_url_chars} bytes")
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        routes: dict[str, tuple[str, ...]] = {
            "/": ("GET",), "/api": ("GET",), "/health": ("GET",), "/openapi.json": ("GET",),
            "/check": ("GET", "POST"), "/check/image": ("POST",), "/source": ("GET",),
            "/ui.json": ("GET",),
        }
        if path.startswith("/static/") and method == "GET":
            return self._static_file(path[len("/static/"):])
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
        if path == "/" and _wants_html(accept):
            return self._page(query)
        if path in ("/", "/api"):
            return Reply(200, _dumps({
                "name": "factcheck", "version": _version(), "page": "/",
                "endpoints": ["/check", "/check/image", "/source", "/health", "/openapi.json",
                              "/ui.json"],
            }), headers=(("Vary", "Accept"),) if path == "/" else ())
        if path == "/ui.json":
            params = _params(query, {"lang", "ui_lang"})
            chosen = _one(params, "lang")
            return 200, self.ui_labels(check_ui_language(chosen) if chosen else lang)
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
        if path == "/check/image":
            return 200, self._check_image(query, body, content_type, lang)
        if method == "POST":
            params = self._json_body(body, content_type)
        else:
            params = _params(query, set(CHECK_PARAMS))
        return 200, self._check(params, lang)

    # the web page -------------------------------------------------------------------------

    def _page(self, query: dict[str, list[str]]) -> Reply:
        """The page in the language asked for (``?lang=en``), else the page's default.

        A person who follows a link with a bad or unknown ``lang`` gets the page, not an error.
        """
        wanted = (query.get("lang") or query.get("ui_lang") or [""])[-1]
        try:
            lang = check_ui_language(wanted) if wanted.strip() else self.page_lang
        except InvalidInput:
            lang = self.page_lang
        return Reply(200, self._pages[lang], "text/html; charset=utf-8", (
            ("Content-Security-Policy", PAGE_CSP), ("Vary", "Accept"),
            ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
        ))

    def _static_file(self, name: str) -> Reply:
        if name not in self._static:
            raise HTTPError(404, "not_found", f"no file /static/{name[:100]}")
        return Reply(200, self._static[name], STATIC_FILES[name],
                     (("Cache-Control", "no-cache"),))

    def _render_page(self, lang: str) -> bytes:
        """index.html with its ``{{key}}`` fields filled from the catalogue, HTML-escaped."""
        params = self._label_params()

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "lang":
                return lang
            if key.startswith("pressed."):
                return "true" if key.split(".", 1)[1] == lang else "false"
            if key == "max_image_bytes":
                return str(self.options.max_image_bytes)
            return html.escape(text(key, lang, **params))

        return re.sub(r"\{\{([a-z_.]+)\}\}", fill, self._template).encode("utf-8")

    def _label_params(self) -> dict[str, Any]:
        return {"max_mb": f"{self.options.max_image_bytes / (1024 * 1024):g}"}

    def image_too_large(self, target: str) -> Reply:
        """413 for an image body over ``max_image_bytes``, in the language the request asked."""
        try:
            lang = _request_ui_lang(target, self.ui_lang)
        except InvalidInput:
            lang = self.ui_lang
        exc = self._too_large(lang)
        return _error_reply(exc.status, exc.code, exc.message)

    def _too_large(self, lang: str) -> HTTPError:
        max_mb = self._label_params()["max_mb"]
        return HTTPError(413, "image_too_large", error_text(InvalidInput(
            f"the image is larger than {max_mb} MB", key="error.image_too_large",
            max_mb=max_mb), lang))

    def ui_labels(self, lang: str) -> dict[str, Any]:
        """What the page's script shows, in ``lang``: the catalogue is its only source of text."""
        params = self._label_params()
        keys = [k for k in CATALOGUE if k.startswith(UI_PREFIXES) or k in UI_KEYS]
        return {
            "lang": lang,
            "languages": list(UI_LANGUAGES),
            "max_image_bytes": self.options.max_image_bytes,
            # filled where the page alone knows the values: {n}, {total}, {name}, {reason}
            "text": {k: _fill_known(CATALOGUE[k].get(lang) or CATALOGUE[k]["id"], params)
                     for k in keys},
            "verdicts": {v.value: words.get(lang) or words["id"]
                         for v, words in VERDICT_WORDS.items()},
            "months": list(_MONTHS.get(lang, _MONTHS["id"])),
        }

    def _check_image(self, query: dict[str, list[str]], body: bytes | None, content_type: str,
                     lang: str) -> dict[str, Any]:
        """A screenshot or poster as the raw request body; its text is answered like a paste."""
        params = _params(query, set(CHECK_PARAMS) - {"q"})
        kind = content_type.split(";")[0].strip().lower()
        if kind not in IMAGE_TYPES:
            raise HTTPError(415, "unsupported_media_type", error_text(InvalidInput(
                "the file is not a PNG, JPEG or WebP image", key="error.image_type"), lang))
        data = body or b""
        if len(data) > self.options.max_image_bytes:
            raise self._too_large(lang)
        if not data:
            raise InvalidInput("the image is empty", key="error.image_empty")
        kwargs, split, lang = self._answer_options(params, lang)
        with self.reader() as reader:
            answer = reader.answer_image(data, split=split, **kwargs)
        return answer.to_dict(lang)

    def _json_body(self, body: bytes | None, content_type: str) -> dict[str, list[str]]:
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise HTTPError(415, "unsupported_media_type", "POST /check takes application/json")
        try:
            data = json.loads((body or b"").decode("utf-8"))
        except ValueError as exc:  # bad UTF-8 or JSON, or an integer past Python's 4,300 digits
            raise HTTPError(400, "invalid_input", f"the body is not valid JSON: {exc}") from exc
        except RecursionError:  # a body of thousands of nested brackets: bad input, not a 500
            raise HTTPError(400, "invalid_input", "the body is nested too deeply") from None
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
            texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
            for value in texts:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate ("\ud800") is valid JSON only
                    raise HTTPError(400, "invalid_input",
                                    f"{key} is not valid Unicode text") from None
            params.setdefault(key, []).extend(texts)
        return params

    def _check(self, params: dict[str, list[str]], lang: str) -> dict[str, Any]:
        options = self.options
        q = _one(params, "q", required=True)
        if len(q) > options.max_query_chars:
            raise HTTPError(413, "query_too_long", error_text(InvalidInput(
                f"q is longer than {options.max_query_chars} characters",
                key="error.claim_too_long", max=options.max_query_chars), lang))
        kwargs, split, lang = self._answer_options(params, lang)
        with self.reader() as reader:
            answer = reader.answer(q, split=split, **kwargs)
        return answer.to_dict(lang)

    def _answer_options(self, params: dict[str, list[str]],
                        lang: str) -> tuple[dict[str, Any], bool | None, str]:
        """The keywords of :meth:`FactChecker.answer`, ``split`` and the answer's language."""
        limit = _int(_one(params, "limit") or "5", "limit", 1, self.options.max_limit)
        mode = _one(params, "mode") or "hybrid"
        if mode not in MODES:
            raise InvalidInput(f"unknown mode {mode!r}: use {', '.join(MODES)}")
        split = _flag(_one(params, "split"), "split")
        if _one(params, "ui_lang"):
            lang = check_ui_language(_one(params, "ui_lang"))
        kwargs: dict[str, Any] = {
            "limit": limit, "publishers": _many(params, "publisher"),
            "sources": _many(params, "source"), "verdicts": _many(params, "verdict"),
            "languages": _many(params, "lang"), "max_age": _one(params, "max_age"), "mode": mode,
        }
        return kwargs, split, lang


CHECK_PARAMS = ("q", "limit", "publisher", "source", "verdict", "lang", "max_age", "mode",
                "split", "ui_lang")


def _request_ui_lang(target: str, default: str) -> str:
    """``ui_lang`` of the query string (POST bodies may carry it too), else the server's."""
    values = parse_qs(urlsplit(target).query, max_num_fields=100).get("ui_lang", [])
    return check_ui_language(values[-1]) if values and values[-1].strip() else default


def _wants_html(accept: str) -> bool:
    """True when the client prefers a document to JSON: a browser does, curl and httpx don't."""
    best: dict[str, float] = {}
    for part in accept.lower().split(","):
        kind, *attrs = (p.strip() for p in part.split(";"))
        q = 1.0
        for attr in attrs:
            if attr.startswith("q="):
                try:
                    q = float(attr[2:])
                except ValueError:
                    q = 0.0
        best[kind] = max(q, best.get(kind, 0.0))
    html_q = max(best.get("text/html", 0.0), best.get("application/xhtml+xml", 0.0))
    return html_q > 0 and html_q >= best.get("application/json", 0.0)


def _fill_known(template: str, params: dict[str, Any]) -> str:
    """Fill the placeholders the server knows; leave the others for the page's script."""
    return re.sub(r"\{([a-z_]+)\}",
                  lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0),
                  template)


def _web_file(name: str) -> bytes:
    return (resources.files("factcheck") / "web" / name).read_bytes()


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


def _error_reply(status: int, code: str, message: str) -> Reply:
    return Reply(status, _error(status, code, message))


def _version() -> str:
    from . import __version__

    return __version__


# -- HTTP transport -------------------------------------------------------------------------
#
# A thread per connection is cheap, but a connection slot is not: a client that sends its
# request one byte at a time would otherwise hold a slot for as long as it likes. So each
# connection says what it is doing (idle between requests, receiving one, or being answered),
# a request must arrive whole within a deadline (not a timeout per read, which a byte every few
# seconds would reset), and when every slot is taken a new connection pushes out the one that
# has been idle or receiving the longest. Only connections being answered are never pushed out,
# and those are bounded by the readers, so a newcomer is refused (503) only when the server is
# truly busy working.

IDLE, RECEIVING, WORKING, SHED = "idle", "receiving", "working", "shed"


class _Connection:
    """What one client connection is doing, for the deadline and for shedding."""

    __slots__ = ("sock", "state", "since", "deadline")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.state = IDLE
        self.since = time.monotonic()
        self.deadline: float | None = None

    def idle(self) -> None:
        self.state, self.since, self.deadline = IDLE, time.monotonic(), None

    def working(self) -> None:
        self.state, self.deadline = WORKING, None


class _DeadlineReader(io.RawIOBase):
    """Socket reads that share one deadline per request.

    Waiting for a request may take ``idle_timeout``; from its first byte, the line and headers
    must arrive within ``request_timeout``, and a body within that plus its length at
    ``min_body_rate``. A peer that trickles bytes runs into the deadline, not past it.
    """

    def __init__(self, conn: _Connection, options: ServeOptions) -> None:
        super().__init__()
        self._conn = conn
        self._options = options

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        conn = self._conn
        if conn.deadline is None:
            wait = self._options.idle_timeout
        else:
            wait = conn.deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError("the request did not arrive in time")
        conn.sock.settimeout(wait)
        got = conn.sock.recv_into(buffer)
        if got and conn.state == IDLE:
            now = time.monotonic()
            conn.state, conn.since = RECEIVING, now
            conn.deadline = now + self._options.request_timeout
        return got

    def allow_body(self, length: int) -> None:
        """A body of ``length`` bytes follows: give it time by its size."""
        if self._conn.deadline is not None:
            self._conn.deadline += length / max(1, self._options.min_body_rate)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a bot asking many questions reuses its socket
    server_version = "factcheck"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid a 40 ms ACK stall
    sys_version = ""
    server: "APIServer"

    def setup(self) -> None:
        options = self.server.api.options
        # typeshed calls it a ClassVar, but StreamRequestHandler.setup() reads it per instance
        self.timeout = options.idle_timeout  # type: ignore[misc]
        super().setup()
        self.conn = self.server.connection_of(self.request)
        self._reader = _DeadlineReader(self.conn, options)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        super().handle_one_request()
        self.conn.idle()

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
        options = self.server.api.options
        image = urlsplit(self.path).path.rstrip("/") == "/check/image"
        limit = options.max_image_bytes if image else options.max_body_bytes
        if length > limit:
            self.close_connection = True  # the unread body must not be taken as a request
            if image:  # the same words as the API's own check, in the asker's language
                return self._reply(self.server.api.image_too_large(self.path))
            return self._send(413, _error(413, "body_too_large",
                                          f"the body is larger than {limit} bytes"))
        self._reader.allow_body(length)
        self._answer(self.rfile.read(length))

    def _method_not_allowed(self) -> None:
        self._answer(None)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _method_not_allowed  # noqa: N815

    def _answer(self, body: bytes | None) -> None:
        if body is not None and len(body) < int(self.headers.get("Content-Length", "0")):
            self.close_connection = True  # the client went away mid-body: nobody to answer
            return
        self.conn.working()
        self._reply(self.server.api.handle(
            self.command, self.path, body, self.headers.get("Content-Type", ""),
            self.headers.get("Accept", ""),
        ))

    def _reply(self, reply: Reply) -> None:
        self._send(reply.status, reply.body, reply.content_type, reply.headers)

    def _send(self, status: int, payload: bytes, content_type: str = JSON_TYPE,
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.conn.working()
        self.connection.settimeout(self.server.api.options.send_timeout)  # for the whole reply
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        names = {name.lower() for name, _ in headers}
        if "cache-control" not in names:
            self.send_header("Cache-Control", "no-store")
        if "content-security-policy" not in names:
            self.send_header("Content-Security-Policy", API_CSP)
        for name, value in headers:
            self.send_header(name, value)
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
    """A thread per connection; open connections capped, the slowest pushed out first."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: FactcheckAPI) -> None:
        self.api = api
        self._connections: dict[int, _Connection] = {}
        self._connections_lock = threading.Lock()
        self.shed = 0  # connections pushed out to make room, since start
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        # a TCP server's address, never a Unix socket's bytes: (host, port[, flow, scope])
        host, port = cast("tuple[str, int]", self.server_address[:2])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def connection_of(self, sock: socket.socket) -> _Connection:
        with self._connections_lock:
            return self._connections[id(sock)]

    def process_request(self, request: Any, client_address: Any) -> None:
        victim: _Connection | None = None
        with self._connections_lock:
            if len(self._connections) >= self.api.options.max_connections:
                waiting = [c for c in self._connections.values() if c.state in (IDLE, RECEIVING)]
                if waiting:
                    victim = min(waiting, key=lambda c: c.since)
                    victim.state = SHED
                    del self._connections[id(victim.sock)]
            full = len(self._connections) >= self.api.options.max_connections
            if not full:
                self._connections[id(request)] = _Connection(request)
        if victim is not None:
            self.shed += 1
            try:  # its thread wakes up to an end of file and closes the socket itself
                victim.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if full:
            log.info("%s refused: all %d connections are being answered", client_address[0],
                     self.api.options.max_connections)
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
            with self._connections_lock:
                self._connections.pop(id(request), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is one line in the log; anything else is a real fault."""
        exc = sys.exc_info()[1]
        host = client_address[0] if client_address else "?"
        if isinstance(exc, OSError):
            log.info("%s dropped: %s", host, exc.strerror or type(exc).__name__)
        else:
            log.error("unexpected error while serving %s", host, exc_info=exc)


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
            "/check/image": {
                "post": {
                    "summary": "Answer a screenshot or poster: its text is read (OCR), then "
                               "answered as if pasted",
                    "description": "The body is the image itself (not multipart), at most "
                                   f"{options.max_image_bytes} bytes. Needs the server's "
                                   "[ocr] extra; without it the answer is 501.",
                    "parameters": [p for p in check_params if p["name"] != "q"],
                    "requestBody": {"required": True, "content": {
                        kind: {"schema": {"type": "string", "format": "binary"}}
                        for kind in ("image/png", "image/jpeg", "image/webp",
                                     "application/octet-stream")}},
                    "responses": {
                        "200": {"description": "As for /check, with ocr_text: the text read",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/Answer"}}}},
                        "400": {**error, "description": "An empty, damaged or oversized (in "
                                                        "pixels) image, one without readable "
                                                        "text, or a bad parameter"},
                        "411": error,
                        "413": {**error, "description": "The image is larger than "
                                                        f"{options.max_image_bytes} bytes"},
                        "415": {**error, "description": "Not a PNG, JPEG or WebP image"},
                        "501": {**error, "description": "This server cannot read images: the "
                                                        "OCR extra is not installed"},
                        "503": error,
                    },
                },
            },
            "/": {
                "get": {
                    "summary": "The web page to a browser (Accept: text/html), else the index "
                               "of endpoints",
                    "parameters": [param("lang", "Language of the page.",
                                         {"type": "string", "enum": list(UI_LANGUAGES)})],
                    "responses": {"200": {"description": "The page, or the index", "content": {
                        "text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/Index"}},
                    }}},
                },
            },
            "/api": {
                "get": {
                    "summary": "The index of endpoints, whatever the Accept header",
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Index"}}}}},
                },
            },
            "/ui.json": {
                "get": {
                    "summary": "The web page's labels from the message catalogue, in one "
                               "language",
                    "parameters": [param("lang", "Language of the labels (ui_lang works too).",
                                         {"type": "string", "enum": list(UI_LANGUAGES)})],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/UiLabels"}}}},
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
            "Index": {"type": "object", "required": ["name", "version", "endpoints"],
                      "properties": {
                          "name": {"type": "string"}, "version": {"type": "string"},
                          "page": {"type": "string"},
                          "endpoints": {"type": "array", "items": {"type": "string"}}}},
            "UiLabels": {
                "type": "object", "additionalProperties": False,
                "required": ["lang", "languages", "max_image_bytes", "text", "verdicts", "months"],
                "properties": {
                    "lang": {"type": "string", "enum": list(UI_LANGUAGES)},
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "max_image_bytes": {"type": "integer"},
                    "text": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "Catalogue key -> sentence; {placeholders} the "
                                            "page fills are left in"},
                    "verdicts": {"type": "object", "additionalProperties": {"type": "string"},
                                 "description": "Verdict class -> its plain word"},
                    "months": {"type": "array", "items": {"type": "string"}, "minItems": 12,
                               "maxItems": 12}}},
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
                    "ocr_text": {"type": "string", "description": "The text read from the "
                                                                  "image (/check/image only)"},
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
