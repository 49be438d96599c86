"""Seeded fuzzing of everything that reads what a site or an import file sends us.

Every parser of a page, a listing, a feed, a sitemap, a JSON API answer, a JSON-LD block, a
date, a link and an import file is fed mutated copies of real inputs: the saved pages in
``../shared/data`` (``turnbackhoax-pages``, ``meedan-fetch-fixtures``, ``komdigi-hoaks-sample``)
and the constructed fixtures in ``tests/fixtures/constructed``. Mutations are byte and token
edits (flips, cuts, splices, truncation) and the inputs that broke things before: numbers of
thousands of digits, nesting thousands deep, lone surrogates, bare CRs, unclosed IPv6 hosts,
out-of-range ports, NaN and infinities, wrong JSON types.

A parser may refuse an input only in its documented way (``StructureChanged`` for a page or
listing that lost its structure, ``ImportFailed``/``InvalidInput`` for an unusable import
file, ``ValueError`` from ``item_from_claimreview``); anything else is counted as an
undocumented exception, by type, with the first example's place. Each input is timed; the goal
is no undocumented exception and no input over 2 s. The import fuzz also stores what it read
(an in-memory store) and checks that a valid last line survives whatever came before it.

    .venv/bin/python bench/fuzz.py                   # 100,000 inputs, seed 1
    .venv/bin/python bench/fuzz.py --inputs 5000 --seed 7 --targets jsonld,import
    .venv/bin/python bench/fuzz.py --save /tmp/fuzz  # keep the inputs that failed

``tests/test_fuzz.py`` runs a few hundred inputs of the same targets in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from factcheck.errors import ImportFailed, InvalidInput, SourceError  # noqa: E402
from factcheck.fetch import Response  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
CONSTRUCTED = ROOT / "tests" / "fixtures" / "constructed"
SLOW_SECONDS = 2.0
#: An input still running after this long is stopped and counted as "Timeout".
HARD_LIMIT_SECONDS = 30.0

# -- mutations ---------------------------------------------------------------------------------

#: Byte strings that broke (or could break) a parser: inserted at random places.
TOKENS: list[bytes] = [
    b"9" * 5000, b"-" + b"9" * 4400, b"1" * 4301, b"1e999999", b"-1e999999", b"NaN",
    b"Infinity", b"-Infinity", b"[" * 3000, b'{"a":' * 2000, b"<div>" * 3000,
    b"\\ud800", b"\\udfff", b"\\ud83d", b"\\u0000", b"\\", b"\x00", b"\r", b"\r\n", b"\n\r",
    "\u2028".encode(), "\u202e".encode(), b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"\xf4\x90\x80\x80",
    b"http://[::1", b"https://a.id:99999/x", b"http://[zz]/", b"http://a.id:-1/",
    b"javascript:alert(1)", b"https://evil.com\\@turnbackhoax.id/", b"//x", b"%ff%fe",
    b"&#0;", b"&#xD800;", b"&#1114112;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b'<script type="application/ld+json">', b"</script>", b"<?xml version='1.0' encoding='utf-16'?>",
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>', b"&b;",
    b'"', b"'", b",", b";", b"\t", b":", b"{", b"}", b"[", b"]", b"null", b"true", b"{}", b"[]",
    b"31/02/2024", b"2024-13-45T25:61:61Z", b"12:30:0.5e99999", b"00:00:60.99999999999999999999",
    b"0000-00-00", b"99999999999999999999", b"\xe2\x80\x8b", b"A" * 70000, b"\x1b]52;c;SGVsbG8=\x07",
    b"@type", b"ClaimReview", b'"@type": "ClaimReview"', b'"reviewRating": {"ratingValue": "NaN"}',
]

_NUMBER = re.compile(rb"\d+")


def mutate_bytes(rnd: random.Random, data: bytes, seeds: list[bytes], ops: int | None = None) -> bytes:
    """1-4 random edits of ``data``: flips, inserted tokens, cuts, copies, splices, truncation."""
    buf = bytearray(data)
    for _ in range(ops or rnd.randint(1, 4)):
        n = len(buf)
        at = rnd.randrange(n + 1)
        op = rnd.random()
        if op < 0.15 and n:
            for _ in range(rnd.randint(1, 8)):
                buf[rnd.randrange(n)] = rnd.randrange(256)
        elif op < 0.55:
            buf[at:at] = rnd.choice(TOKENS)
        elif op < 0.65 and n:
            end = min(n, at + rnd.randint(1, 400))
            del buf[at:end]
        elif op < 0.72 and n:
            end = min(n, at + rnd.randint(1, 400))
            buf[rnd.randrange(n + 1):rnd.randrange(n + 1)] = buf[at:end]
        elif op < 0.80:
            other = rnd.choice(seeds)
            if other:
                start = rnd.randrange(len(other))
                buf[at:at] = other[start:start + rnd.randint(1, 2000)]
        elif op < 0.87 and n:
            del buf[rnd.randrange(n):]
        elif op < 0.95:
            numbers = list(_NUMBER.finditer(bytes(buf)))
            if numbers:
                m = rnd.choice(numbers)
                buf[m.start():m.end()] = rnd.choice([b"9" * 5000, b"0", b"-1", b"1e400", b"NaN"])
        else:
            buf[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 32)))
    return bytes(buf)


def _deep(rnd: random.Random, depth: int) -> Any:
    """A value nested ``depth`` levels (built without recursion)."""
    value: Any = "x"
    for _ in range(depth):
        value = [value] if rnd.random() < 0.5 else {"@type": "ClaimReview", "a": value}
    return value


#: Placeholders written as JSON strings and replaced in the text afterwards: json.dumps can
#: neither write a number it cannot convert nor nest beyond the recursion limit.
_HUGE = "\x00HUGE\x00"
_DEEP = "\x00DEEP\x00"

_STRANGE: list[Callable[[random.Random], Any]] = [
    lambda r: _HUGE, lambda r: _DEEP, lambda r: float("nan"), lambda r: float("inf"),
    lambda r: None, lambda r: True, lambda r: 0, lambda r: -1, lambda r: 10**30, lambda r: [],
    lambda r: {}, lambda r: "", lambda r: " " * 50, lambda r: "\ud800", lambda r: "a\udfffb",
    lambda r: "\x00", lambda r: "\r", lambda r: "x" * 100_000,
    lambda r: ["a", {"name": ["b", ["c", ["d"]]]}], lambda r: {"name": {"name": {"name": "x"}}},
    lambda r: "http://[::1", lambda r: "https://a.id:99999/", lambda r: "NaN",
    lambda r: "12:30:0.5e99999 2024", lambda r: "2024-02-30", lambda r: "1" * 5000,
    lambda r: _deep(r, r.choice([20, 70, 200])),
]


def _strange_value(rnd: random.Random) -> Any:
    return rnd.choice(_STRANGE)(rnd)


def mutate_json(rnd: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """Replace a few values of a JSON document with strange ones, then maybe byte-mutate it."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return mutate_bytes(rnd, data, seeds)
    nodes: list[tuple[Any, Any]] = []
    stack = [value]
    while stack and len(nodes) < 5000:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                nodes.append((node, key))
                stack.append(child)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                nodes.append((node, index))
                stack.append(child)
    for _ in range(rnd.randint(1, 3)):
        if not nodes:
            value = _strange_value(rnd)
            break
        parent, key = rnd.choice(nodes)
        parent[key] = _strange_value(rnd)
    try:
        text = json.dumps(value, ensure_ascii=rnd.random() < 0.5)
    except (ValueError, RecursionError):
        return data
    text = text.replace(json.dumps(_HUGE), "9" * rnd.choice([4301, 5000, 20000]))
    if json.dumps(_DEEP) in text:
        depth = rnd.choice([100, 990, 3000, 30000])
        nested = "[" * depth + "]" * depth if rnd.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
        text = text.replace(json.dumps(_DEEP), nested)
    out = text.encode("utf-8", "surrogatepass")
    return mutate_bytes(rnd, out, seeds, ops=1) if rnd.random() < 0.3 else out


# -- the parsers under test --------------------------------------------------------------------


def _response(url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> Response:
    return Response(url, url, 200, httpx.Headers({"content-type": content_type}), body)


class _FakeFetcher:
    """Answers every GET and POST with the same (mutated) body, as a site gone strange would."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type
        self.requests = 0

    async def get(self, url: str, **_: Any) -> Response:
        self.requests += 1
        return _response(url, self.body, self.content_type)

    async def post(self, url: str, data: Any = None, **_: Any) -> Response:
        return await self.get(url)


def _discover(source: Any, body: bytes, content_type: str, limit: int = 300) -> None:
    async def walk() -> None:
        count = 0
        async for _link in source.discover(_FakeFetcher(body, content_type)):
            count += 1
            if count >= limit:
                return

    asyncio.run(walk())


@dataclass
class Target:
    """One parser, its seed inputs and how it may refuse an input."""

    name: str
    seeds: list[bytes]
    run: Callable[[bytes], None]
    documented: tuple[type[BaseException], ...] = ()
    weight: float = 1.0
    mutate: Callable[[random.Random, bytes, list[bytes]], bytes] = mutate_bytes
    #: Cut large seeds to a random window of at most this many bytes before mutating.
    window: int | None = None
    #: Unmutated inputs run once, untimed, before the first timed one: the first call of a
    #: parser pays for lazy imports and caches (see also :func:`_warm_dateparser`).
    warmup: list[bytes] = field(default_factory=list)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _sources() -> dict[str, Any]:
    from factcheck.sources import BUILTIN, GENERIC, _load

    return {**{k: _load(v) for k, v in BUILTIN.items()}, **{k: _load(v) for k, v in GENERIC.items()}}


def build_targets(shared: Path | None = SHARED_DATA, constructed: Path = CONSTRUCTED) -> list[Target]:
    """The fuzz targets, seeded from the saved pages (when ``shared`` exists) and fixtures."""
    from factcheck.claimreview import find_claimreviews, item_from_claimreview, rating_verdict
    from factcheck.dates import parse_date
    from scrapers.discovery import feed_entries, listing_links, parse_sitemap
    from scrapers.extract import claimreview_items, first_date, json_ld, soup

    classes = _sources()
    tbh_dir = shared / "turnbackhoax-pages" if shared else None
    have_shared = bool(shared and shared.exists())

    def shared_file(*parts: str) -> bytes | None:
        return _read(shared.joinpath(*parts)) if have_shared and shared else None

    pages: dict[str, list[tuple[str, bytes]]] = {}  # source name -> [(url, html)]

    def add_page(source: str, url: str, body: bytes | None) -> None:
        if body:
            pages.setdefault(source, []).append((url, body))

    if have_shared and tbh_dir is not None:
        for path in sorted(tbh_dir.glob("*.html")):
            body = path.read_bytes()
            if path.name.startswith("liputan6"):
                add_page("liputan6", "https://www.liputan6.com/cek-fakta/read/1/x", body)
            elif path.name != "list_page.html":
                add_page("turnbackhoax", f"https://turnbackhoax.id/articles/{path.stem}-x", body)
        for name in ("boom_live_raw.html", "the_quint_raw.html"):
            add_page("claimreview", "https://example.org/fact-check/1",
                     shared_file("meedan-fetch-fixtures", name))
        raw = shared_file("meedan-fetch-fixtures", "tempo_cekfakta_raw.json")
        if raw:
            add_page("tempo", "https://cekfakta.tempo.co/fakta/1752/keliru-x",
                     json.loads(raw)["page"].encode("utf-8"))
    for name, source in (("cekfakta_focus_9000.html", "cekfakta"), ("cekfakta_focus_9001.html", "cekfakta"),
                         ("kompas_article.html", "kompas"), ("menpan_article.html", "menpan")):
        body = _read(constructed / name)
        if body:
            url = {"cekfakta": "https://cekfakta.com/focus/9000",
                   "kompas": "https://www.kompas.com/cekfakta/read/2024/09/12/1/x",
                   "menpan": "https://menpan.go.id/site/berita-terkini/berita-daerah/x"}[source]
            add_page(source, url, body.replace(b"{BASE}", b""))

    # JSON-LD blocks of every page, and the ClaimReview objects among them
    blocks: list[bytes] = []
    for items in pages.values():
        for _, body in items:
            for m in re.finditer(rb'<script type="application/ld\+json">(.*?)</script>', body, re.S):
                blocks.append(m.group(1).strip())
    reviews: list[bytes] = []
    for block in blocks:
        try:
            for node in find_claimreviews(json.loads(block)):
                reviews.append(json.dumps(node, ensure_ascii=False).encode("utf-8"))
        except ValueError:
            pass

    # listings, feeds, sitemaps and API answers, each with the source that reads it
    listings: list[tuple[str, bytes, str]] = []  # (source, body, content type)

    def add_listing(source: str, body: bytes | None, content_type: str = "text/html; charset=utf-8") -> None:
        if body:
            listings.append((source, body.replace(b"{BASE}", b""), content_type))

    xml = "application/xml; charset=utf-8"
    if have_shared:
        add_listing("turnbackhoax", shared_file("turnbackhoax-pages", "list_page.html"))
        add_listing("tempo", shared_file("meedan-fetch-fixtures", "tempo_cekfakta_index_page.html"))
        add_listing("sitemap", shared_file("meedan-fetch-fixtures", "newtral_sitemap_main.xml"), xml)
        add_listing("sitemap", shared_file("meedan-fetch-fixtures", "newtral_sitemap_sub_tree.xml"), xml)
        mafindo = shared_file("meedan-fetch-fixtures", "mafindo_raw.json")
        if mafindo:
            add_listing("mafindo-api", b"[" + mafindo + b"]", "application/json")
        komdigi = shared_file("komdigi-hoaks-sample", "hasil_topic_modeling_komdigi.sample.csv")
        if komdigi:
            add_listing("komdigi", _komdigi_payload(komdigi), "application/json")
    for name, source, kind in (
        ("tempo_index.html", "tempo", "text/html"), ("kompas_listing.html", "kompas", "text/html"),
        ("menpan_listing.html", "menpan", "text/html"), ("cekfakta_feed.xml", "cekfakta", xml),
        ("liputan6_feed.xml", "liputan6", xml), ("turnbackhoax_legacy_feed.xml", "turnbackhoax-legacy", xml),
        ("turnbackhoax_legacy_feed.xml", "feed", xml),
        ("turnbackhoax_legacy_wp.json", "turnbackhoax-legacy", "application/json"),
    ):
        add_listing(source, _read(constructed / name), kind)

    def page_seeds() -> list[bytes]:
        return [body for items in pages.values() for _, body in items]

    page_index = [(source, url) for source, items in pages.items() for url, _ in items]
    page_bodies = [body for items in pages.values() for _, body in items]

    def instance(name: str) -> Any:
        cls = classes[name]
        if name in ("feed", "sitemap", "urllist", "urls", "claimreview"):
            return cls(name=f"fuzz-{name}", url="https://example.org/feed", max_pages=2)
        options: dict[str, Any] = {"max_pages": 2}
        if name == "mafindo-api":
            options["api_key"] = "k"
        if name == "tempo":
            options["start_month"] = "2022-06"
        return cls(**options)

    # every page goes to the parser of its site; the body of an input says which (by index)
    def run_page(data: bytes) -> None:
        index, _, body = data.partition(b"\n")
        source_name, url = page_index[int(index) % len(page_index)]
        list(instance(source_name).parse(_response(url, body)))

    def page_mutate(rnd: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
        index = rnd.randrange(len(page_bodies))
        body = mutate_bytes(rnd, page_bodies[index], seeds, ops=rnd.randint(1, 3))
        return str(index).encode() + b"\n" + body

    def run_listing(data: bytes) -> None:
        index, _, body = data.partition(b"\n")
        source_name, _, content_type = listings[int(index) % len(listings)]
        _discover(instance(source_name), body, content_type)

    def listing_mutate(rnd: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
        index = rnd.randrange(len(listings))
        body = listings[index][1]
        if len(body) > 20_000:  # the 381 KB sitemap: a window of it, still an XML start
            body = body[:rnd.randint(2_000, 20_000)]
        mutate = mutate_json if body.lstrip()[:1] in (b"[", b"{") and rnd.random() < 0.6 else mutate_bytes
        return str(index).encode() + b"\n" + mutate(rnd, body, seeds)

    def run_jsonld(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        html = (f'<html><head><script type="application/ld+json">{text}</script></head>'
                "<body><h1>Judul</h1><p>Isi</p></body></html>")
        doc = soup(html)
        json_ld(doc)
        claimreview_items(doc, "https://example.org/fact-check/1", source="fuzz", publisher="P",
                          overrides={}, title="Judul")

    def run_claimreview(data: bytes) -> None:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            return  # not JSON: json_ld() and the importer refuse it before this point
        for node in find_claimreviews(value):
            rating_verdict(node.get("reviewRating"))
            try:
                item_from_claimreview(node, source="fuzz", fallback_url="https://example.org/x")
            except ValueError:
                pass  # documented: a review without URL or claim

    def run_dates(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        parse_date(text)
        first_date(text, None, text[:40])

    def run_links(data: bytes) -> None:
        href = data.decode("utf-8", "replace")
        source = instance("turnbackhoax")
        for page in ("https://turnbackhoax.id/articles?page=1", None):
            url = source.rebase(href, page)
            source.owns(url)
        html = f'<a href="{href}">x</a><a href=\'{href}\'>y</a>'
        from scrapers.turnbackhoax import _ARTICLE

        listing_links(source, html, "https://turnbackhoax.id/articles?page=1", _ARTICLE)

    def run_feed(data: bytes) -> None:
        feed_entries(_response("https://example.org/feed", data, xml))
        parse_sitemap(data)

    link_seeds = [m.group(1) for body in page_seeds()[:6] + [b for _, b, _ in listings[:3]]
                  for m in re.finditer(rb'href="([^"]{1,300})"', body)][:400]
    date_seeds = [m.group(0) for body in page_seeds() + [b for _, b, _ in listings]
                  for m in re.finditer(rb"\d{1,4}[-/ ]\w{2,10}[-/ ]\d{2,4}(?:[T ,]+\d\d:\d\d(?::\d\d)?"
                                       rb"(?:[+-]\d\d:?\d\d| WIB)?)?", body)][:400]
    date_seeds += [b"2 Agustus 2024", b"Selasa, 2 Agustus 2024 pukul 14:05 WIB", b"4 jam lalu", b"1714521600"]
    feeds = [b for s, b, k in listings if k == xml]

    targets = [
        Target("jsonld", blocks or [b'{"@type": "ClaimReview"}'], run_jsonld, weight=22, mutate=mutate_json),
        Target("jsonld-bytes", blocks or [b"{}"], run_jsonld, weight=6),
        Target("claimreview", reviews or [b'{"@type": "ClaimReview"}'], run_claimreview, weight=16,
               mutate=mutate_json),
        Target("dates", date_seeds, run_dates, weight=12),
        Target("links", link_seeds or [b"/articles/1-x"], run_links, weight=8),
        Target("feed-sitemap", feeds or [b"<rss/>"], run_feed, weight=6, window=8_000),
        Target("discover", [b"x"], run_listing, (SourceError,), weight=6, mutate=listing_mutate),
    ]
    targets[-1].warmup = [f"{n}\n".encode() + body for n, (_, body, _) in enumerate(listings)]
    if page_index:
        targets.append(Target("page", [b"x"], run_page, (SourceError,), weight=1.2, mutate=page_mutate,
                              warmup=[f"{n}\n".encode() + b for n, b in enumerate(page_bodies)]))
    targets.append(import_target())
    return targets


def _komdigi_payload(csv_bytes: bytes) -> bytes:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))))
    data = [{"id": int(r["id"]), "slug": r["url"].rsplit("/", 1)[-1], "title": r["title"],
             "published_at": r["published_at"], "excerpt": r["title_clean"],
             "body_text": r["title_clean"], "body_html": "<p>x</p>", "tags": []} for r in rows[:8]]
    return json.dumps({"response": {"data": data, "current_page": 1, "last_page": 1}}).encode()


# -- the import fuzz ---------------------------------------------------------------------------

_RECORDS = [
    {"url": "https://turnbackhoax.id/articles/1-vaksin", "title": "[SALAH] Vaksin berisi chip",
     "date": "2 Agustus 2024", "publisher": "TurnBackHoax", "text": "Narasi...\nPenjelasan..."},
    {"url": "https://cekfakta.tempo.co/fakta/2", "claim": "Listrik gratis", "verdict": "Keliru",
     "published": "2022-06-22", "lang": "id"},
    {"link": "https://www.snopes.com/fact-check/x", "headline": "5G chip", "rating": "False",
     "datePublished": "2021-05-10T10:00:00Z", "id": 17},
]
_CLAIMREVIEW = {
    "@context": "https://schema.org", "@type": "ClaimReview",
    "url": "https://cekfakta.tempo.co/fakta/1752/keliru", "claimReviewed": "Kode rahasia listrik",
    "headline": "Keliru, Kode Rahasia", "datePublished": "2022-06-22",
    "author": {"@type": "Organization", "name": "Tempo"},
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "alternateName": "Keliru"},
    "itemReviewed": {"@type": "Claim", "author": {"name": "x"}, "appearance": [{"url": "https://fb.com/1"}]},
}
_GOOGLE = {"claims": [{"text": "Klaim", "claimant": "x", "claimDate": "2024-01-01T00:00:00Z",
                       "claimReview": [{"publisher": {"name": "AFP", "site": "afp.com"},
                                        "url": "https://factcheck.afp.com/x", "title": "Salah",
                                        "reviewDate": "2024-01-02T00:00:00Z", "textualRating": "Salah",
                                        "languageCode": "id"}]}]}
SENTINEL_URL = "https://sentinel.example.org/still-imported"
_SENTINEL_LINE = json.dumps({"url": SENTINEL_URL, "title": "Baris terakhir yang sah"})


def _import_seeds() -> list[bytes]:
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in _RECORDS * 2)
    csv_text = ("url,title,claim,verdict,date,publisher\r\n"
                '"https://a.id/1","[HOAKS] Satu","Klaim satu",,2 Jan 2024,X\r\n'
                "https://a.id/2,Dua,\"Klaim, dua\",Salah,2024-01-02,Y\r\n")
    datafeed = {"@type": "DataFeed", "dataFeedElement": [_CLAIMREVIEW, dict(_CLAIMREVIEW, url="https://a.id/9")]}
    return [b"jsonl\n" + jsonl.encode(), b"csv\n" + csv_text.encode(),
            b"json\n" + json.dumps(datafeed).encode(), b"json\n" + json.dumps(_GOOGLE).encode(),
            b"json\n" + json.dumps([_CLAIMREVIEW, _RECORDS[0]]).encode(), b"auto\n" + jsonl.encode()]


class ImportInvariant(AssertionError):
    """The import lost a valid record (the last line) although it read the file."""


def import_target() -> Target:
    from factcheck.importer import read_file
    from factcheck.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="factcheck-fuzz-"))
    suffixes = {"jsonl": ".jsonl", "csv": ".csv", "json": ".json", "auto": ".txt"}

    def run(data: bytes) -> None:
        kind, _, body = data.partition(b"\n")
        fmt = kind.decode("ascii", "replace")
        path = workdir / f"input{suffixes.get(fmt, '.txt')}"
        sentinel = fmt == "jsonl"
        if sentinel:
            body = body + b"\n" + _SENTINEL_LINE.encode()
        path.write_bytes(body)
        # ImportFailed/InvalidInput (documented): the file as a whole is unusable (not UTF-8...)
        parsed = read_file(path, fmt=fmt if fmt in ("jsonl", "csv", "json") else "auto")
        if sentinel and not any(item.url == SENTINEL_URL for item in parsed.items):
            raise ImportInvariant(f"valid last line lost ({len(parsed.errors)} skipped)")
        store = Store.open(None)
        try:
            store.upsert(parsed.items)  # any exception here would abort the whole import
        finally:
            store.close()

    def mutate(rnd: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
        kind, _, body = data.partition(b"\n")
        if kind != b"csv" and rnd.random() < 0.5:
            if kind == b"jsonl" or kind == b"auto":
                lines = body.split(b"\n")
                n = rnd.randrange(len(lines))
                lines[n] = mutate_json(rnd, lines[n], seeds)
                body = b"\n".join(lines)
            else:
                body = mutate_json(rnd, body, seeds)
        else:
            body = mutate_bytes(rnd, body, seeds)
            if rnd.random() < 0.8:  # mostly valid UTF-8, so that the records are what is tested
                body = body.decode("utf-8", "replace").encode("utf-8")
        return kind + b"\n" + body

    return Target("import", _import_seeds(), run, (ImportFailed, InvalidInput), weight=14,
                  mutate=mutate)


# -- the run -----------------------------------------------------------------------------------


@dataclass
class TargetReport:
    name: str
    inputs: int = 0
    refused: int = 0  # documented refusals (drift, an unusable import file...)
    errors: Counter[str] = field(default_factory=Counter)
    where: dict[str, str] = field(default_factory=dict)  # first place each error type came from
    slowest: float = 0.0
    over_limit: int = 0
    seconds: float = 0.0


@dataclass
class Report:
    seed: int
    targets: list[TargetReport]
    wall: float

    @property
    def inputs(self) -> int:
        return sum(t.inputs for t in self.targets)

    @property
    def undocumented(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for t in self.targets:
            total.update(t.errors)
        return total

    @property
    def slowest(self) -> float:
        return max((t.slowest for t in self.targets), default=0.0)

    @property
    def over_limit(self) -> int:
        return sum(t.over_limit for t in self.targets)


def _warm_dateparser() -> None:
    """Load dateparser's locales before timing anything.

    trafilatura's date search (htmldate) falls back to dateparser for a date it cannot read,
    and dateparser's first such call loads all its 281 locales: 2.5-3 s once per process (a
    refresh pays it on its first odd page), then 4 ms. Timed inside the fuzz, it made whichever
    input came first look slow.
    """
    try:
        import dateparser
    except ImportError:  # pragma: no cover - trafilatura without htmldate's extra
        return
    dateparser.parse("qqzx 2024 wobble")


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _place(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/factcheck/" in f.filename or "/scrapers/" in f.filename]
    frame = (ours or frames)[-1] if frames else None
    return f"{Path(frame.filename).name}:{frame.lineno}" if frame else "?"


def run(inputs: int = 100_000, seed: int = 1, targets: Iterable[str] | None = None,
        shared: Path | None = SHARED_DATA, save: Path | None = None,
        progress: Callable[[int], None] | None = None) -> Report:
    """Feed ``inputs`` mutated inputs, spread over the targets by weight; deterministic in ``seed``."""
    import warnings

    logging.disable(logging.CRITICAL)  # scrapers log every refused block; not the point here
    warnings.simplefilter("ignore")  # bs4 warns about XML-looking "HTML", which fuzzing makes
    chosen = build_targets(shared)
    _warm_dateparser()
    if targets is not None:
        wanted = set(targets)
        chosen = [t for t in chosen if t.name in wanted]
    rnd = random.Random(seed)
    total_weight = sum(t.weight for t in chosen)
    plan = [(t, max(1, round(inputs * t.weight / total_weight))) for t in chosen]
    reports = []
    started = time.perf_counter()
    use_alarm = hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    done = 0
    try:
        for target, count in plan:
            report = TargetReport(target.name)
            for data in target.warmup or target.seeds[:1]:
                try:
                    target.run(data)
                except Exception:  # noqa: BLE001 - only the timed, mutated inputs count
                    pass
            t0 = time.perf_counter()
            for _ in range(count):
                seed_input = rnd.choice(target.seeds)
                if target.window and len(seed_input) > target.window:
                    start = rnd.randrange(len(seed_input) - target.window)
                    seed_input = seed_input[start:start + target.window]
                data = target.mutate(rnd, seed_input, target.seeds)
                begun = time.perf_counter()
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, HARD_LIMIT_SECONDS)
                try:
                    target.run(data)
                except target.documented:
                    report.refused += 1
                except _Timeout:
                    report.errors["Timeout"] += 1
                except (Exception, RecursionError) as exc:  # noqa: BLE001 - what we look for
                    kind = type(exc).__name__
                    report.errors[kind] += 1
                    report.where.setdefault(kind, f"{_place(exc)}: {str(exc)[:80]}")
                    if save is not None and report.errors[kind] <= 3:
                        save.mkdir(parents=True, exist_ok=True)
                        (save / f"{target.name}-{kind}-{report.errors[kind]}.bin").write_bytes(data)
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                took = time.perf_counter() - begun
                report.slowest = max(report.slowest, took)
                if took > SLOW_SECONDS:
                    report.over_limit += 1
                    if save is not None:
                        save.mkdir(parents=True, exist_ok=True)
                        (save / f"{target.name}-slow-{report.over_limit}.bin").write_bytes(data)
                report.inputs += 1
                done += 1
                if progress and done % 1000 == 0:
                    progress(done)
            report.seconds = time.perf_counter() - t0
            reports.append(report)
    finally:
        if use_alarm and previous is not None:
            signal.signal(signal.SIGALRM, previous)
        logging.disable(logging.NOTSET)
    return Report(seed, reports, time.perf_counter() - started)


def table(report: Report) -> str:
    lines = [f"seed {report.seed}: {report.inputs} inputs in {report.wall:.1f} s",
             f"{'target':<14} {'inputs':>7} {'refused':>8} {'undoc.':>7} {'slowest s':>10} "
             f"{'>2 s':>5} {'wall s':>7}  undocumented exceptions by type"]
    for t in report.targets:
        kinds = ", ".join(f"{k} {n} ({t.where.get(k, '')})" for k, n in t.errors.most_common()) or "-"
        lines.append(f"{t.name:<14} {t.inputs:>7} {t.refused:>8} {sum(t.errors.values()):>7} "
                     f"{t.slowest:>10.3f} {t.over_limit:>5} {t.seconds:>7.1f}  {kinds}")
    undoc = report.undocumented
    lines.append(f"{'total':<14} {report.inputs:>7} {sum(t.refused for t in report.targets):>8} "
                 f"{sum(undoc.values()):>7} {report.slowest:>10.3f} {report.over_limit:>5} "
                 f"{report.wall:>7.1f}  "
                 + (", ".join(f"{k} {n}" for k, n in undoc.most_common()) or "none"))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", help="comma-separated subset of the targets")
    parser.add_argument("--save", type=Path, help="write failing and slow inputs here")
    parser.add_argument("--constructed-only", action="store_true",
                        help="seed only from tests/fixtures/constructed (no ../shared/data)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if not args.constructed_only and not SHARED_DATA.exists():
        print(f"needs {SHARED_DATA} (the saved pages); or run with --constructed-only", file=sys.stderr)
        return 2
    report = run(args.inputs, args.seed, args.targets.split(",") if args.targets else None,
                 None if args.constructed_only else SHARED_DATA, args.save,
                 progress=lambda n: print(f"\r{n} inputs", end="", file=sys.stderr, flush=True))
    print("\r", end="", file=sys.stderr)
    if args.json:
        print(json.dumps({"seed": report.seed, "inputs": report.inputs, "wall": round(report.wall, 1),
                          "slowest": round(report.slowest, 3), "over_2s": report.over_limit,
                          "undocumented": dict(report.undocumented),
                          "targets": [{"name": t.name, "inputs": t.inputs, "refused": t.refused,
                                       "undocumented": dict(t.errors), "where": t.where,
                                       "slowest": round(t.slowest, 3), "seconds": round(t.seconds, 1)}
                                      for t in report.targets]}, indent=2))
    else:
        print(table(report))
    return 1 if report.undocumented or report.over_limit else 0


if __name__ == "__main__":
    sys.exit(main())
