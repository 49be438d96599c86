"""The refresh fault matrix, in process, against a fixture site on 127.0.0.1.

Every test starts from an index that already holds the site's first articles (one clean
refresh), then publishes new articles of which one (or the listing) misbehaves, and checks the
same three things: no stored item is lost, the fault is counted in the report, and lookups
still answer. Process-level faults (kill -9, two refreshes, lookups from another process) are
in test_refresh_process.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from factcheck import FactChecker
from factcheck.fetch import Fetcher, FetchConfig
from factcheck.models import VerifiedItem
from factcheck.refresh import MAX_RETRY_RUNS, RefreshReport, SourceRefreshReport, refresh
from scrapers.generic import FeedSource
from tests.fakes import HashEmbedder
from tests.localserver import LocalServer, Reply
from tests.refreshsite import PUBLISHER, SOURCE, FixtureSite

FAST: dict[str, Any] = {
    "delay": 0.0, "backoff": 0.01, "jitter": 0.0, "timeout": 2.0, "connect_timeout": 2.0,
    "retries": 1, "allowed_hosts": ["127.0.0.1"],
}
BASELINE = 4


class World:
    """An index that holds the first articles of a fixture site, and helpers to run refreshes."""

    def __init__(self, tmp: Path, server: LocalServer) -> None:
        self.server = server
        self.site = FixtureSite(server)
        self.site.publish(BASELINE)
        self.checker = FactChecker.open(tmp / "idx", create=True, embedder=HashEmbedder())
        first = self.run()
        assert first.sources[0].new == BASELINE and first.ok
        self.baseline_urls = set(self.urls())

    def source(self) -> FeedSource:
        return FeedSource(name=SOURCE, url=self.server.url("/feed.xml"), publisher=PUBLISHER)

    def run(self, **fetch: Any) -> RefreshReport:
        return refresh(self.checker, [self.source()],
                       fetch_config=FetchConfig.from_mapping({**FAST, **fetch}))

    def urls(self) -> list[str]:
        return [r[0] for r in self.checker.store.conn.execute("SELECT url FROM items")]

    def assert_nothing_lost(self) -> None:
        assert self.baseline_urls <= set(self.urls())
        # lookups still answer, from the vector index and the keyword index alike
        oldest = self.site.articles[0]
        hit = self.checker.check(oldest.title, limit=1).hits[0]
        assert hit.item.url == self.site.url(oldest)
        assert len(self.checker.index) == self.checker.store.vector_count() == self.checker.store.count()

    def queued(self) -> list[tuple[str, int]]:
        return [(str(u), int(n)) for u, n in self.checker.store.conn.execute(
            "SELECT url, attempts FROM refresh_retry ORDER BY url")]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with LocalServer() as server:
        w = World(tmp_path, server)
        yield w
        w.checker.close()


def _one(report: RefreshReport) -> SourceRefreshReport:
    assert len(report.sources) == 1
    return report.sources[0]


def _bad_article(world: World, *replies: Reply) -> str:
    """Publish two articles: a good one and, newest, one whose page is scripted with ``replies``."""
    world.site.publish(1)
    bad = world.site.publish(1)[0]
    world.server.route(bad.path, *replies)
    return world.site.url(bad)


# -- page faults: counted, the rest stored, retried later when the fault may pass ------------

TRANSIENT = {
    "timeout": (Reply(body="late", delay=1.0), {"timeout": 0.3}),
    "5xx": (Reply(503, "busy"), {}),
    "connection reset": (Reply(reset=True), {}),
    "truncated body": (Reply(body="<html>" + "x" * 5000, truncate=300), {}),
    "429 with a too long Retry-After": (Reply(429, headers={"Retry-After": "3600"}), {"max_retry_after": 5}),
}


@pytest.mark.parametrize("fault", list(TRANSIENT))
def test_transient_page_fault_is_counted_queued_and_retried(world: World, fault: str) -> None:
    reply, fetch = TRANSIENT[fault]
    bad = world.site.publish(1)[0]
    world.server.route(bad.path, reply)
    world.site.publish(5)  # newer articles above the bad one
    bad_url = world.site.url(bad)
    s = _one(world.run(**fetch))
    assert (s.new, s.failed, s.health) == (5, 1, "degraded"), s
    assert any(bad_url in e for e in s.errors), s.errors
    assert world.queued() == [(bad_url, 1)]
    assert bad_url not in world.urls()
    world.assert_nothing_lost()

    # the site recovers; the incremental walk stops at the five known articles on top, above
    # the failed one, which is fetched all the same: from the retry queue
    world.server.route(bad.path, Reply(body=bad.html()))
    requests = world.site.article_requests()
    s = _one(world.run())
    assert (s.new, s.failed, s.health) == (1, 0, "ok"), s
    assert world.site.article_requests() == requests + 1
    assert bad_url in world.urls() and world.queued() == []
    world.assert_nothing_lost()


def test_retry_queue_gives_up_after_max_runs(world: World) -> None:
    bad = world.site.publish(1)[0]
    world.server.route(bad.path, Reply(503))
    world.site.publish(5)  # out of the incremental walk's reach after the first run
    bad_url = world.site.url(bad)
    for _ in range(MAX_RETRY_RUNS + 2):
        world.run()
    hits = [r for r in world.server.requests if bad_url.endswith(r.path)]
    assert len(hits) == MAX_RETRY_RUNS * (FAST["retries"] + 1)  # then left alone
    assert world.queued() == [(bad_url, MAX_RETRY_RUNS)]
    world.assert_nothing_lost()


def test_429_retry_after_is_waited_for(world: World) -> None:
    world.site.publish(1)
    busy = world.site.publish(1)[0]
    world.server.route(busy.path, Reply(429, headers={"Retry-After": "1"}), Reply(body=busy.html()))
    report = world.run()
    s = _one(report)
    assert (s.new, s.failed) == (2, 0)
    first, second = world.server.hits(busy.path)
    assert second.at - first.at >= 0.95
    assert report.fetch["retries"] == 1 and report.fetch["retryable_statuses"] == 1
    world.assert_nothing_lost()


PERMANENT = {
    "20 MB page (declared length)": (Reply(body=b"x" * (20 * 1024 * 1024)), "larger than"),
    "20 MB page (streamed, no length)": (Reply(body=b"x" * (20 * 1024 * 1024), unframed=True), "larger than"),
    "redirect loop": (Reply(302, headers={"Location": "/loop"}), "redirects"),
    "404": (Reply(404, "gone"), "HTTP 404"),
}


@pytest.mark.parametrize("fault", list(PERMANENT))
def test_permanent_page_fault_is_counted_not_queued(world: World, fault: str) -> None:
    reply, message = PERMANENT[fault]
    world.server.route("/loop", Reply(302, headers={"Location": "/loop"}))
    bad_url = _bad_article(world, reply)
    report = world.run()
    s = _one(report)
    assert (s.new, s.failed, s.health) == (1, 1, "degraded"), s
    assert any(message in e for e in s.errors), s.errors
    assert world.queued() == []
    assert bad_url not in world.urls()
    world.assert_nothing_lost()


def test_robots_disallow_is_skipped_and_counted(world: World) -> None:
    world.server.robots("User-agent: *\nDisallow: /artikel/6\n")
    world.site.publish(2)  # articles 5 and 6
    s = _one(world.run())
    assert (s.new, s.skipped, s.failed) == (1, 1, 0), s
    assert world.server.hits("/artikel/6") == []
    world.assert_nothing_lost()


SOFT_404 = {
    "home page with canonical /": "canonical",
    "redirect to the home page": "redirected to the home page",
    "home page, no canonical": "home page",
    "error title": "error page",
}


@pytest.mark.parametrize("kind", list(SOFT_404))
def test_soft_404_is_not_stored(world: World, kind: str) -> None:
    if kind == "home page with canonical /":
        reply = Reply(body="<html><head><title>Beranda</title><link rel='canonical' href='/'></head>"
                           "<body><h1>Berita terbaru</h1><p>Banyak berita terbaru hari ini.</p></body></html>")
    elif kind == "redirect to the home page":
        reply = Reply(302, headers={"Location": "/"})
    elif kind == "home page, no canonical":
        reply = Reply(body="<html><head><title>Fixture Cek Fakta</title></head><body><h1>Beranda</h1>"
                           "<p>Berita terbaru dari redaksi kami setiap hari.</p></body></html>")
    else:
        reply = Reply(body="<html><head><title>Halaman Tidak Ditemukan</title></head><body>"
                           "<h1>Maaf</h1><p>Halaman yang Anda cari tidak ada di situs ini.</p></body></html>")
    bad_url = _bad_article(world, reply)
    s = _one(world.run())
    assert (s.new, s.failed) == (1, 1), s
    assert any("soft 404" in e and SOFT_404[kind] in e for e in s.errors), s.errors
    assert bad_url not in world.urls()
    assert not any("Beranda" in r[0] or "Ditemukan" in r[0] for r in
                   world.checker.store.conn.execute("SELECT title FROM items"))
    world.assert_nothing_lost()


def test_identical_pages_at_two_urls_are_a_soft_404(world: World) -> None:
    a, b = world.site.publish(2)
    world.server.route(b.path, Reply(body=a.html()))  # b answers with a's page
    s = _one(world.run())
    assert (s.new, s.failed) == (1, 1), s
    assert any("the same page as" in e for e in s.errors)
    world.assert_nothing_lost()


# -- charsets: decoded right, not counted as failures ----------------------------------------

CP1252_TITLE = "Klaim Café “Kopi Gratis” – Rp 5.000"


@pytest.mark.parametrize("content_type,meta", [
    ("text/html; charset=utf-8", '<meta charset="windows-1252">'),  # wrong header charset
    ("text/html", '<meta charset="windows-1252">'),  # header without charset
    ("text/html", ""),  # no charset anywhere: detected
])
def test_wrong_or_missing_charset_is_decoded(world: World, content_type: str, meta: str) -> None:
    world.site.publish(1)
    odd = world.site.publish(1)[0]
    html = (f"<html><head>{meta}<title>[HOAKS] {CP1252_TITLE}</title></head><body>"
            f"<h1>[HOAKS] {CP1252_TITLE}</h1><p>Isi artikel tentang {CP1252_TITLE} yang beredar di "
            f"media sosial. Faktanya tidak ada kopi gratis dari pemerintah.</p></body></html>")
    world.server.route(odd.path, Reply(body=html.encode("windows-1252"), content_type=content_type))
    s = _one(world.run())
    assert (s.new, s.failed) == (2, 0), s
    item = world.checker.store.get_by_url(world.site.url(odd))
    assert item is not None and item.title == CP1252_TITLE and "\ufffd" not in item.text
    world.assert_nothing_lost()


# -- the listing itself --------------------------------------------------------------------

LISTING = {
    "empty listing": Reply(body="<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>"
                                "</channel></rss>", content_type="application/rss+xml"),
    "structure changed (HTML instead of a feed)": Reply(body="<html><body><h1>Situs baru</h1></body></html>"),
    "listing 5xx": Reply(503),
    "listing timeout": Reply(body="late", delay=1.0),
}


@pytest.mark.parametrize("fault", list(LISTING))
def test_listing_fault_makes_the_source_unhealthy_and_keeps_the_items(world: World, fault: str) -> None:
    world.server.route("/feed.xml", LISTING[fault])
    report = world.run(timeout=0.3)
    s = _one(report)
    assert s.health == "unhealthy" and not report.ok, s
    assert s.errors and s.new == 0
    assert world.checker.store.count() == BASELINE
    state = world.checker.store.conn.execute(
        "SELECT health, failures FROM source_state WHERE name = ?", (SOURCE,)).fetchone()
    assert state == ("unhealthy", 1)
    world.assert_nothing_lost()


def test_article_structure_changed_is_counted_per_page(world: World) -> None:
    _bad_article(world, Reply(body="<html><head></head><body><div></div></body></html>"))
    s = _one(world.run())
    assert (s.new, s.failed, s.health) == (1, 1, "degraded"), s
    assert any("no title or no main text" in e for e in s.errors), s.errors
    world.assert_nothing_lost()


# -- incremental behaviour -----------------------------------------------------------------

def test_second_run_fetches_no_article_and_embeds_nothing(world: World) -> None:
    embedder = world.checker.embedder
    assert isinstance(embedder, HashEmbedder)
    embedded, articles = embedder.embedded, world.site.article_requests()
    s = _one(world.run())
    assert (s.new, s.updated, s.failed, s.fetched) == (0, 0, 0, 0)
    assert world.site.article_requests() == articles and embedder.embedded == embedded
    # --full re-checks every page with a conditional GET: 304s, nothing parsed or embedded
    s = _one(refresh(world.checker, [world.source()], full=True,
                     fetch_config=FetchConfig.from_mapping(FAST)))
    assert (s.new, s.updated, s.unchanged) == (0, 0, BASELINE)
    assert world.site.article_requests() == articles + BASELINE and embedder.embedded == embedded
    assert all("if-none-match" in r.headers for r in world.server.requests[-BASELINE:])


def test_interrupted_walk_is_resumed_past_its_own_items(world: World) -> None:
    """A walk that stored the newest items and died must not stop at them next time."""
    world.site.publish(12)  # articles 5..16, newest first in the feed
    # simulate a run killed after storing the seven newest: marker set, walk never finished
    source = world.source()
    top = world.checker.store.conn.execute("SELECT max(id) FROM items").fetchone()[0]
    world.checker.store.set_meta(f"refresh.unfinished.{SOURCE}", str(top))
    async def store_newest(n: int) -> None:
        async with Fetcher(FetchConfig.from_mapping(FAST)) as fetcher:
            for article in list(reversed(world.site.articles))[:n]:
                response = await fetcher.get(world.site.url(article))
                world.checker.add_items(source.parse(response))

    asyncio.run(store_newest(7))
    assert world.checker.store.count() == BASELINE + 7
    s = _one(world.run())
    assert s.new == 5 and s.failed == 0, s  # the five the "killed" run never reached
    assert world.checker.store.count() == BASELINE + 12
    assert world.checker.store.get_meta(f"refresh.unfinished.{SOURCE}") is None
    world.assert_nothing_lost()


def test_without_the_marker_an_incremental_walk_stops_at_known_items(world: World) -> None:
    """The counterpart: normally five known URLs in a row end the walk (so it is cheap)."""
    world.site.publish(12)
    before = world.site.article_requests()
    s = _one(world.run())
    assert s.new == 12
    s = _one(world.run())
    assert s.unchanged == 5 and world.site.article_requests() == before + 12


def test_items_left_without_vectors_are_embedded_by_the_next_refresh(world: World) -> None:
    world.site.publish(3)
    # what a run killed between committing items and committing their vectors leaves behind
    world.checker.store.upsert([VerifiedItem(url="http://127.0.0.1/orphan", title="Yatim piatu",
                                             source=SOURCE, claim="Klaim tanpa vektor")])
    assert len(world.checker.store.pending_embeddings()) == 1
    report = world.run()
    assert report.backlog_embedded == 1 and _one(report).new == 3
    assert world.checker.store.pending_embeddings() == []
    world.assert_nothing_lost()


@pytest.mark.parametrize("requested,final,html,expected", [
    ("http://s/a/1", "http://s/", "<title>Beranda</title>", "redirected to the home page"),
    ("http://s/a/1", "http://s/a/1", "<link rel='canonical' href='https://s/'>", "canonical"),
    ("http://s/a/1", "http://s/a/1", "<meta property='og:url' content='/'>", "canonical"),
    ("http://s/a/1", "http://s/a/1", "<title>404 - Halaman Tidak Ditemukan</title>", "error page"),
    ("http://s/a/1", "http://s/a/1", "<title>Page Not Found | Situs</title>", "error page"),
    # headlines that merely mention 404 or "tidak ditemukan" are articles
    ("http://s/a/1", "http://s/a/1", "<title>Klaim 404 Warga Dapat Bansos</title>", None),
    ("http://s/a/1", "http://s/a/1", "<title>Chip Tidak Ditemukan dalam Vaksin</title>", None),
    ("http://s/a/1", "http://s/a/1", "<link rel='canonical' href='/a/1'>", None),
    ("http://s/", "http://s/", "<title>Beranda</title>", None),  # the home page asked for as such
])
def test_soft_404_signs(requested: str, final: str, html: str, expected: str | None) -> None:
    from factcheck.soft404 import soft_404_reason

    reason = soft_404_reason(requested, final, f"<html><head>{html}</head><body></body></html>")
    assert (reason is None) if expected is None else (expected in (reason or "")), reason
