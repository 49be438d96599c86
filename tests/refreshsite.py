"""A small fact-check site on a local server, for refresh tests and the refresh benchmark.

The site has an RSS feed listing its articles newest first and one HTML page per article,
answering conditional GETs with 304 (ETag). Articles are published with :meth:`publish`, so a
test can add "new" items between refreshes, and any article path can be re-scripted with a
fault (see :class:`tests.localserver.Reply`). Sources point at it through a sources config, the
same way a user configures a generic feed source.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.localserver import Logged, LocalServer, Reply

SOURCE = "fixture"
PUBLISHER = "Fixture Cek Fakta"
#: A model spec for subprocesses: the deterministic test embedder, loaded by name.
HASH_MODEL = "py:tests.fakes:HashEmbedder"

_WORDS = (
    "vaksin banjir listrik bansos gempa pemilu beras minyak jalan tol sekolah rumah sakit "
    "bandara kereta harga pajak gaji guru petani nelayan desa kota presiden menteri gubernur "
    "polisi tentara hujan kemarau sungai laut gunung hutan pasar warung sinyal internet pulsa "
    "kuota bank kartu surat ijazah haji zakat masjid gereja pura candi museum stadion"
).split()


@dataclass
class Article:
    number: int
    title: str
    published: str

    @property
    def path(self) -> str:
        return f"/artikel/{self.number}"

    def html(self) -> str:
        words = " ".join(self.title.lower().split())
        paragraphs = "".join(
            f"<p>Paragraf {k} tentang {words}. Tim cek fakta menelusuri klaim ini dan menemukan "
            f"bahwa informasi tersebut tidak benar; sumber resmi membantahnya.</p>"
            for k in range(1, 4)
        )
        return (
            f"<!doctype html><html><head><meta charset=\"utf-8\"><title>[HOAKS] {self.title}</title>"
            f"<link rel=\"canonical\" href=\"{self.path}\">"
            f"<meta property=\"article:published_time\" content=\"{self.published}T08:00:00+07:00\">"
            f"</head><body><article><h1>[HOAKS] {self.title}</h1>{paragraphs}</article></body></html>"
        )


class FixtureSite:
    """An RSS-listed site of numbered articles on ``server``; article ``n`` is newer than ``n-1``."""

    def __init__(self, server: LocalServer, page_delay: float = 0.0, seed: int = 7) -> None:
        self.server = server
        self.page_delay = page_delay
        self.articles: list[Article] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        server.robots("User-agent: *\nAllow: /\n")
        server.route("/feed.xml", self._feed)
        server.route("/", Reply(body="<html><head><title>Fixture Cek Fakta</title></head>"
                                     "<body><h1>Beranda</h1><p>Berita terbaru.</p></body></html>"))

    # -- content ------------------------------------------------------------------------

    def publish(self, count: int) -> list[Article]:
        """Add ``count`` newer articles and route their pages."""
        with self._lock:
            start = len(self.articles) + 1
            fresh = []
            for number in range(start, start + count):
                words = self._rng.sample(_WORDS, 4)
                title = f"Klaim {number} {words[0].title()} {words[1]} {words[2]} dan {words[3]}"
                day = date(2024, 1, 1) + timedelta(days=number)
                article = Article(number, title, day.isoformat())
                self.server.route(article.path, self._page(article))
                fresh.append(article)
            self.articles.extend(fresh)
            return fresh

    def _page(self, article: Article) -> Any:
        html = article.html()
        etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:16] + '"'

        def answer(request: Logged) -> Reply:
            if request.headers.get("if-none-match") == etag:
                return Reply(304, delay=self.page_delay)
            return Reply(body=html, headers={"ETag": etag}, delay=self.page_delay)

        return answer

    def _feed(self, request: Logged) -> Reply:
        with self._lock:
            newest_first = list(reversed(self.articles))
        entries = "".join(
            f"<item><title>[HOAKS] {a.title}</title><link>{self.server.url(a.path)}</link>"
            f"<pubDate>{_rfc822(a.published)}</pubDate></item>"
            for a in newest_first
        )
        body = (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
                f"<title>{PUBLISHER}</title><link>{self.server.base}/</link>{entries}</channel></rss>")
        return Reply(body=body, content_type="application/rss+xml; charset=utf-8")

    # -- what the tests need ------------------------------------------------------------

    def url(self, article: Article) -> str:
        return self.server.url(article.path)

    def article_requests(self) -> int:
        return sum(1 for r in self.server.requests if r.path.startswith("/artikel/"))

    def source_options(self) -> dict[str, Any]:
        return {"type": "feed", "url": self.server.url("/feed.xml"), "publisher": PUBLISHER}

    def write_config(self, path: Path, fetch: dict[str, Any], batch: int | None = None) -> Path:
        """A sources.toml with only this site enabled (every built-in source switched off)."""
        from factcheck.sources import BUILTIN

        lines = ["[fetch]"] + [f"{k} = {json.dumps(v)}" for k, v in fetch.items()]
        if batch is not None:
            lines += ["", "[refresh]", f"batch = {batch}"]
        lines += ["", f"[sources.{SOURCE}]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.source_options().items()]
        for name in BUILTIN:
            lines += ["", f'[sources."{name}"]', "enabled = false"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _rfc822(iso_day: str) -> str:
    day = date.fromisoformat(iso_day)
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{names[day.weekday()]}, {day.day:02d} {months[day.month - 1]} {day.year} 08:00:00 +0700"
