"""A refresh that cannot reach a source says why, in the report, the source state and the CLI.

Issue 12: with no network, a refresh used to report (and store as the source's last error)
"robots.txt disallows ...", which sends whoever reads it after the wrong problem. The host stays
closed while its robots.txt cannot be read (RFC 9309), but the words name the real cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker
from factcheck.fetch import FetchConfig
from factcheck.refresh import refresh
from factcheck.sources import source_status
from scrapers.generic import FeedSource
from tests.fakes import HashEmbedder
from tests.killrun import FETCH, create_index
from tests.localserver import LocalServer, Reply
from tests.refreshsite import PUBLISHER, SOURCE, FixtureSite

FAST: dict[str, Any] = {
    "delay": 0.0, "backoff": 0.01, "jitter": 0.0, "timeout": 2.0, "connect_timeout": 2.0,
    "retries": 1, "allowed_hosts": ["127.0.0.1", "nothing.invalid"],
}
UNTIL = "not fetching from it until it can be read"


@pytest.fixture
def checker(tmp_path: Path) -> Iterator[FactChecker]:
    fc = FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder())
    yield fc
    fc.close()


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with LocalServer() as server:
        fixture = FixtureSite(server)
        fixture.publish(2)
        yield fixture


def _refresh_feed(checker: FactChecker, feed_url: str) -> Any:
    source = FeedSource(name=SOURCE, url=feed_url, publisher=PUBLISHER)
    return refresh(checker, [source], fetch_config=FetchConfig.from_mapping(FAST))


def _assert_recorded(checker: FactChecker, report: Any, expected: str) -> None:
    """The listing failed for ``expected``: unhealthy, not skipped, and stored as the last error."""
    [s] = report.sources
    assert s.health == "unhealthy" and not report.ok, s
    assert s.skipped == 0 and s.new == 0, s
    assert s.errors[-1] == f"listing: {expected}", s.errors
    assert not any("disallows" in e for e in s.errors), s.errors
    assert report.fetch["robots_blocked"] == 0 and report.fetch["robots_unreadable"] >= 1
    status = {st.name: st for st in source_status(checker)}[SOURCE]
    assert status.last_error == f"listing: {expected}"
    assert (status.health, status.failures) == ("unhealthy", 1)


def test_connection_refused_is_the_stored_last_error(checker: FactChecker, dead_port: int) -> None:
    report = _refresh_feed(checker, f"http://127.0.0.1:{dead_port}/feed.xml")
    _assert_recorded(checker, report, f"robots.txt of http://127.0.0.1:{dead_port} unreadable: "
                                      f"connection refused by 127.0.0.1:{dead_port}; {UNTIL}")


def test_dns_failure_is_the_stored_last_error(checker: FactChecker, no_dns: None) -> None:
    report = _refresh_feed(checker, "http://nothing.invalid/feed.xml")
    _assert_recorded(checker, report, "robots.txt of http://nothing.invalid unreadable: cannot "
                                      f"resolve host nothing.invalid (Name or service not known); {UNTIL}")


def test_robots_503_is_the_stored_last_error(checker: FactChecker, site: FixtureSite) -> None:
    site.server.route("/robots.txt", Reply(503))
    report = _refresh_feed(checker, site.server.url("/feed.xml"))
    _assert_recorded(checker, report, f"robots.txt of {site.server.base} answered 503; {UNTIL}")
    assert site.server.hits("/feed.xml") == []  # RFC 9309: stay out while it cannot be read


def test_page_behind_an_unreadable_robots_txt_is_queued_not_skipped(
    checker: FactChecker, site: FixtureSite,
) -> None:
    """A page on a host whose robots.txt answers 503 failed for a passing reason: asked again later."""
    with LocalServer() as other:
        other.route("/robots.txt", Reply(503))
        other.route("/artikel/9", Reply(body=site.articles[0].html()))
        page = other.url("/artikel/9")
        site.server.route("/feed.xml", Reply(
            body=f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item>"
                 f"<title>[HOAKS] Klaim lain</title><link>{page}</link></item></channel></rss>",
            content_type="application/rss+xml"))
        s = _refresh_feed(checker, site.server.url("/feed.xml")).sources[0]
        assert (s.skipped, s.failed) == (0, 1), s
        assert s.errors == [f"robots.txt of {other.base} answered 503; {UNTIL}"]
        queued = checker.store.conn.execute("SELECT url FROM refresh_retry").fetchall()
        assert [u for (u,) in queued] == [page]
        assert other.hits("/artikel/9") == []

        other.robots("User-agent: *\nAllow: /\n")  # the host recovers: the next run stores the page
        s = _refresh_feed(checker, site.server.url("/feed.xml")).sources[0]
        assert (s.new, s.failed, s.health) == (1, 0, "ok"), s
        assert checker.store.conn.execute("SELECT count(*) FROM refresh_retry").fetchone()[0] == 0


def test_cli_exits_6_and_sources_shows_the_real_cause(tmp_path: Path, site: FixtureSite) -> None:
    index, config = tmp_path / "idx", tmp_path / "sources.toml"
    create_index(index)
    site.write_config(config, FETCH)
    site.server.route("/robots.txt", Reply(503))
    runner = CliRunner()
    done = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config)])
    assert done.exit_code == 6, done.output
    assert "answered 503" in done.stderr and "disallows" not in done.output
    listed = runner.invoke(cli, ["--index", str(index), "sources", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert f"listing: robots.txt of {site.server.base} answered 503; {UNTIL}" in listed.stdout
    assert "disallows" not in listed.stdout
