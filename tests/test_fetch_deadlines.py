"""Slow peers: the total deadline of a request and the time budget of a source (issue 15, item 5).

httpx's ``timeout`` restarts on every byte read, so a server that trickles one byte a second
never trips it. These tests script such servers on 127.0.0.1 and check that a fetch ends at
``request_deadline`` (plus a little slack for a busy machine), that a source stops at its
budget while the refresh finishes the others, and that fast servers notice none of it. Every
deadline here is a second or two, so the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from factcheck.errors import FetchError, InvalidInput, RobotsDisallowed
from factcheck.fetch import FetchConfig, Fetcher
from factcheck.refresh import UNFINISHED_KEY, RefreshReport, SourceRefreshReport, refresh
from factcheck.sources import SourcesConfig, get_sources
from scrapers.generic import FeedSource
from tests.localserver import LocalServer, Reply
from tests.refreshsite import PUBLISHER, SOURCE, FixtureSite
from tests.test_refresh_faults import FAST as REFRESH_FAST
from tests.test_refresh_faults import World

#: What a busy 2-core machine may add to a deadline before the fetch is seen to end.
SLACK = 1.5
#: Per-read timeout well above every trickle interval: only the deadline can end these fetches.
QUICK = FetchConfig(delay=0.0, backoff=0.01, jitter=0.0, timeout=5.0, connect_timeout=2.0,
                    retries=2, allowed_hosts=frozenset({"127.0.0.1"}))
TOO_SLOW = r"too slow: 127\.0\.0\.1:\d+ sent "


def _config(**changes: Any) -> FetchConfig:
    return FetchConfig(**{**QUICK.__dict__, **changes})


def _get(config: FetchConfig, url: str) -> tuple[float, FetchError | None, Fetcher]:
    """Fetch ``url``; how long it took, the error if it failed, and the fetcher (for its stats)."""

    async def go() -> tuple[float, FetchError | None, Fetcher]:
        async with Fetcher(config) as fetcher:
            started = time.monotonic()
            try:
                await fetcher.get(url)
            except FetchError as exc:
                return time.monotonic() - started, exc, fetcher
            return time.monotonic() - started, None, fetcher

    return asyncio.run(go())


# -- one request -----------------------------------------------------------------------------

def test_one_byte_per_second_body_ends_at_the_deadline(local_server: LocalServer) -> None:
    local_server.route("/trickle", Reply(body=b"x" * 100, trickle=1.0))
    took, error, fetcher = _get(_config(request_deadline=2.5), local_server.url("/trickle"))
    assert error is not None
    assert 2.4 <= took <= 2.5 + SLACK, took
    assert error.transient and error.status is None and not isinstance(error, RobotsDisallowed)
    message = str(error)
    assert message.startswith("too slow: 127.0.0.1:"), message
    assert " of 100 bytes in 2." in message and "(deadline 2.5 s)" in message, message
    assert message.endswith(f"for {local_server.url('/trickle')}"), message
    # not retried in the run: another deadline would buy nothing from such a peer
    assert len(local_server.hits("/trickle")) == 1
    assert fetcher.stats.too_slow == 1 and fetcher.stats.retries == 0 and fetcher.stats.failed == 1


def test_trickled_headers_end_at_the_deadline(local_server: LocalServer) -> None:
    local_server.route("/head", Reply(body="ok", trickle=0.2, trickle_head=True))
    took, error, _ = _get(_config(request_deadline=1.0), local_server.url("/head"))
    assert error is not None and took <= 1.0 + SLACK, took
    assert "sent no response headers in 1." in str(error) and "(deadline 1 s)" in str(error), error


def test_fast_server_is_unaffected_by_a_short_deadline(local_server: LocalServer) -> None:
    local_server.route("/big", Reply(body=b"y" * 500_000, content_type="text/plain"))
    local_server.route("/late", Reply(body="late but in time", delay=0.3))
    config = _config(request_deadline=1.5)

    async def go() -> tuple[list[int], Fetcher]:
        async with Fetcher(config) as fetcher:
            big = await fetcher.get(local_server.url("/big"))
            late = await fetcher.get(local_server.url("/late"))
            return [len(big.content), len(late.content)], fetcher

    sizes, fetcher = asyncio.run(go())
    assert sizes == [500_000, len("late but in time")]
    assert fetcher.stats.too_slow == 0 and fetcher.stats.failed == 0


def test_a_slow_but_finishing_trickle_within_the_deadline_is_fine(local_server: LocalServer) -> None:
    local_server.route("/drip", Reply(body="abcd", trickle=0.1))
    took, error, _ = _get(_config(request_deadline=3.0), local_server.url("/drip"))
    assert error is None and took < 3.0


def test_trickling_robots_txt_closes_the_host_with_the_real_cause(local_server: LocalServer) -> None:
    local_server.route("/robots.txt", Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain",
                                            trickle=0.3))
    local_server.route("/a", "a")
    took, error, fetcher = _get(_config(request_deadline=1.0), local_server.url("/a"))
    assert error is not None and not isinstance(error, RobotsDisallowed)
    assert "robots.txt of http://127.0.0.1:" in str(error) and "unreadable: too slow:" in str(error), error
    assert "not fetching from it until it can be read" in str(error)
    assert took <= 1.0 + SLACK and local_server.hits("/a") == []
    assert fetcher.stats.robots_unreadable == 1


# -- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["request_deadline", "source_budget"])
@pytest.mark.parametrize("value", [0, -5, "fast", True, math.inf, math.nan, None])
def test_time_limits_must_be_positive_seconds(name: str, value: object) -> None:
    # from a config file: a one-line config error naming the setting (the [fetch] loader's
    # type checks may word it first; zero passes those and is caught by the deadline's own)
    with pytest.raises(InvalidInput, match=f"^fetch setting {name} must be ") as info:
        FetchConfig.from_mapping({name: value})
    assert "\n" not in str(info.value) and repr(value)[:3] in str(info.value)
    # built in code: the same check, whatever the loader does
    with pytest.raises(InvalidInput, match=f"fetch setting {name} must be a positive number of seconds"):
        FetchConfig(**{name: value})  # type: ignore[arg-type]


def test_time_limits_accept_integers_and_have_sensible_defaults() -> None:
    config = FetchConfig.from_mapping({"request_deadline": 20, "source_budget": 600})
    assert (config.request_deadline, config.source_budget) == (20, 600)
    default = FetchConfig()
    assert default.timeout < default.request_deadline <= 120 and default.source_budget >= 600


def test_per_source_budget_from_the_config() -> None:
    feed = {"type": "feed", "url": "http://127.0.0.1:9/feed.xml"}
    [source] = get_sources(["slowfeed"], config=SourcesConfig(sources={"slowfeed": {**feed, "budget": 45}}))
    assert source.budget == 45.0  # type: ignore[attr-defined]
    bad = SourcesConfig(sources={"slowfeed": {**feed, "budget": "soon"}})
    with pytest.raises(InvalidInput, match=r"\[sources.slowfeed\] budget must be a positive number"):
        get_sources(["slowfeed"], config=bad)


# -- a refresh -------------------------------------------------------------------------------

@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with LocalServer() as server:
        w = World(tmp_path, server)
        yield w
        w.checker.close()


def _run(world: World, sources: list[Any], **fetch: Any) -> tuple[RefreshReport, float]:
    started = time.monotonic()
    report = refresh(world.checker, sources, fetch_config=FetchConfig.from_mapping({**REFRESH_FAST, **fetch}))
    return report, time.monotonic() - started


def _by_name(report: RefreshReport) -> dict[str, SourceRefreshReport]:
    return {s.name: s for s in report.sources}


def test_trickling_page_is_a_too_slow_page_failure_and_queued(world: World) -> None:
    world.site.publish(2)
    slow = world.site.publish(1)[0]
    world.server.route(slow.path, Reply(body=slow.html(), trickle=0.2))
    report, took = _run(world, [world.source()], request_deadline=1.0)
    [s] = report.sources
    assert (s.new, s.failed, s.health, s.budget_exhausted) == (2, 1, "degraded", False), s
    assert any(e.startswith("too slow: 127.0.0.1:") and world.site.url(slow) in e for e in s.errors), s.errors
    assert world.queued() == [(world.site.url(slow), 1)]
    assert report.fetch["too_slow"] == 1 and took < 1.0 + 2 * SLACK, took
    world.assert_nothing_lost()


def test_trickling_listing_ends_at_the_budget_and_the_other_sources_finish(world: World) -> None:
    with LocalServer() as other_server:
        other = FixtureSite(other_server)
        other.publish(3)
        world.server.route("/feed.xml", Reply(body="<?xml version='1.0'?>" + " " * 200, trickle=0.2,
                                              content_type="application/rss+xml"))
        slow = world.source()
        slow.budget = 1.5  # type: ignore[attr-defined]  # as [sources.fixture] budget = 1.5 sets it
        fine = FeedSource(name="other", url=other_server.url("/feed.xml"), publisher=PUBLISHER)
        # the deadline would stop the listing only after 30 s: here the budget does it
        report, took = _run(world, [slow, fine], request_deadline=30.0)
    by = _by_name(report)
    s = by[SOURCE]
    assert s.budget_exhausted and s.health == "unhealthy" and s.discovered == 0, s
    assert any("time budget of 1.5 s ran out while reading the listing" in e for e in s.errors), s.errors
    assert (by["other"].new, by["other"].health, by["other"].budget_exhausted) == (3, "ok", False)
    assert took < 1.5 + 2 * SLACK, took
    assert not report.ok
    world.assert_nothing_lost()


def test_trickling_listing_past_its_deadline_is_a_listing_failure(world: World) -> None:
    world.server.route("/feed.xml", Reply(body="<?xml version='1.0'?>" + " " * 200, trickle=0.2,
                                          content_type="application/rss+xml"))
    report, took = _run(world, [world.source()], request_deadline=1.0)
    [s] = report.sources
    assert s.health == "unhealthy" and not s.budget_exhausted, s
    assert any(e.startswith("listing: too slow: 127.0.0.1:") for e in s.errors), s.errors
    assert took < 1.0 + 2 * SLACK, took
    world.assert_nothing_lost()


def test_budget_out_mid_walk_keeps_what_was_parsed_and_the_next_run_goes_on(world: World) -> None:
    fresh = world.site.publish(6)
    for article in fresh:  # each page takes 0.4 s: six of them do not fit in a 1 s budget
        world.server.route(article.path, Reply(body=article.html(), delay=0.4))
    report, took = _run(world, [world.source()], source_budget=1.0)
    [s] = report.sources
    assert s.budget_exhausted and s.health == "degraded", s
    assert 1 <= s.new < 6 and s.failed == 0, s
    assert any("time budget of 1 s ran out while fetching " in e for e in s.errors), s.errors
    assert took < 1.0 + 2 * SLACK, took
    stored = world.checker.store.count()
    assert stored == 4 + s.new  # the parsed items were stored, not dropped with the walk
    assert world.checker.store.get_meta(UNFINISHED_KEY + SOURCE) is not None
    world.assert_nothing_lost()

    report, _ = _run(world, [world.source()])
    [s] = report.sources
    assert (s.health, s.budget_exhausted, s.failed) == ("ok", False, 0), s
    assert world.checker.store.count() == 4 + 6
    assert world.checker.store.get_meta(UNFINISHED_KEY + SOURCE) is None
    world.assert_nothing_lost()


def test_fast_refresh_is_unaffected_by_a_short_budget(world: World) -> None:
    world.site.publish(3)
    report, _ = _run(world, [world.source()], request_deadline=2.0, source_budget=10.0)
    [s] = report.sources
    assert (s.new, s.health, s.budget_exhausted, s.errors) == (3, "ok", False, []), s
    assert report.fetch["too_slow"] == 0
