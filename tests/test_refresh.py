"""The whole refresh path against local servers: discovery → fetch → parse → store → lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from factcheck import FactChecker
from factcheck.fetch import FetchConfig
from factcheck.errors import SourceError
from factcheck.refresh import RefreshReport, SourceRefreshReport, refresh
from factcheck.sources import SourcesConfig, get_sources, source_status
from scrapers.base import Link, SiteSource
from tests.fakes import HashEmbedder
from tests.localserver import LocalServer, Reply
from tests.sites import EXPECTED, SHARED_DATA, build_sites, toml_config

FAST = {"delay": 0.0, "backoff": 0.01, "jitter": 0.0, "timeout": 5.0, "allowed_hosts": ["127.0.0.1"]}

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason="needs ../shared/data (third-party saved pages, not in the repo)"
)


@pytest.fixture
def checker(tmp_path: Path):  # type: ignore[no-untyped-def]
    fc = FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder())
    yield fc
    fc.close()


@needs_shared
def test_every_builtin_source_is_indexed_and_found(checker: FactChecker) -> None:
    with build_sites() as (servers, options):
        config = SourcesConfig(sources=options, fetch=FAST)
        report = refresh(checker, config=config)
        by_name = {s.name: s for s in report.sources}
        assert set(by_name) == set(EXPECTED)
        for name, (new, title) in EXPECTED.items():
            s = by_name[name]
            assert s.new == new, (name, s)
            hit = checker.check(title, limit=3).hits[0]
            assert hit.item.source == name and title in hit.item.title, (name, hit.item)
            assert hit.item.url.startswith("http://127.0.0.1:"), hit.item.url
        # the list page links to 5 articles that were not saved: counted, not fatal
        assert by_name["turnbackhoax"].failed == 5 and by_name["turnbackhoax"].health == "degraded"
        assert by_name["turnbackhoax-legacy"].unknown_verdicts == 1
        assert by_name["turnbackhoax-legacy"].unknown_labels == {"SEBAGIAN SALAH": 1}
        healthy = {n for n, s in by_name.items() if s.health == "ok"}
        assert healthy == set(EXPECTED) - {"turnbackhoax"}
        assert all(s.seconds >= 0 for s in report.sources)

        # a second run is incremental: nothing new, and article pages are not fetched again
        before = {n: len(srv.requests) for n, srv in servers.items()}
        again = refresh(checker, config=config)
        assert again.total("new") == 0 and again.total("updated") == 0
        tempo = servers["tempo"]
        fetched = [r.path for r in tempo.requests[before["tempo"]:] if r.path != "/robots.txt"]
        assert fetched == ["/2022/06"]  # only the monthly index
        assert len(tempo.hits("/fakta/1752/keliru-video-kode-rahasia-untuk-menghemat-listrik-prabayar")) == 1

        status = {s.name: s for s in source_status(checker, config)}
        assert status["komdigi"].items == 64 and status["komdigi"].newest == "2026-05-10"
        # the second run stopped at the five known articles on top: up to date, last error kept
        assert status["turnbackhoax"].health == "ok" and "HTTP 404" in (status["turnbackhoax"].last_error or "")
        assert status["tempo"].health == "ok" and status["tempo"].last_success


@needs_shared
def test_full_refresh_uses_conditional_get(checker: FactChecker) -> None:
    with build_sites() as (servers, options):
        config = SourcesConfig(sources={"tempo": options["tempo"]}, fetch=FAST)
        refresh(checker, ["tempo"], config=config)
        again = refresh(checker, ["tempo"], full=True, config=config)
        assert again.sources[0].unchanged == 1 and again.sources[0].new == 0


def test_dry_run_writes_nothing(checker: FactChecker) -> None:
    with build_sites() as (servers, options):
        config = SourcesConfig(sources={"cekfakta": options["cekfakta"]}, fetch=FAST)
        report = refresh(checker, ["cekfakta"], dry_run=True, config=config)
        assert report.dry_run and report.sources[0].new == 2
        assert checker.store.count() == 0
        assert checker.store.conn.execute("SELECT count(*) FROM source_state").fetchone()[0] == 0
        assert checker.store.conn.execute("SELECT count(*) FROM http_cache").fetchone()[0] == 0


def test_since_skips_older_items(checker: FactChecker) -> None:
    with build_sites() as (servers, options):
        config = SourcesConfig(sources={"cekfakta": options["cekfakta"]}, fetch=FAST)
        report = refresh(checker, ["cekfakta"], since="2024-09-10", config=config)
        assert report.sources[0].new == 1
        assert servers["cekfakta"].hits("/focus/9000") == []


class _Drifted(SiteSource):
    """A source whose listing lost its article links."""

    name = "drifted"
    publisher = "Test"

    async def discover(self, fetcher):  # type: ignore[no-untyped-def]
        response = await fetcher.get(self.url("/list"))
        if "/article" not in response.text:
            raise self.drift("listing has no article links", response.url)
        yield Link(self.url("/article"))  # pragma: no cover

    def parse(self, response):  # type: ignore[no-untyped-def]
        return []  # pragma: no cover


class _Empty(_Drifted):
    name = "empty"

    async def discover(self, fetcher):  # type: ignore[no-untyped-def]
        await fetcher.get(self.url("/list"))
        return
        yield  # pragma: no cover


def test_drift_and_empty_listing_are_unhealthy_and_isolated(
    checker: FactChecker, local_server: LocalServer,
) -> None:
    local_server.route("/list", "<html><body>redesigned</body></html>")
    with build_sites() as (servers, options):
        cek = get_sources(["cekfakta"], config=SourcesConfig(sources={"cekfakta": options["cekfakta"]}))[0]
        report = refresh(
            checker, [_Drifted(base_url=local_server.base), _Empty(base_url=local_server.base), cek],
            fetch_config=FetchConfig.from_mapping(FAST),
        )
    by_name = {s.name: s for s in report.sources}
    assert by_name["drifted"].health == "unhealthy"
    assert "drifted" in by_name["drifted"].errors[0] and local_server.base in by_name["drifted"].errors[0]
    assert by_name["empty"].health == "unhealthy" and "no links" in by_name["empty"].errors[-1]
    assert by_name["cekfakta"].health == "ok" and by_name["cekfakta"].new == 2
    assert not report.ok
    with pytest.raises(SourceError, match=r"unhealthy source\(s\): drifted, empty$"):
        report.raise_for_health()  # the library's verdict on the run, not the CLI's
    state = dict(checker.store.conn.execute("SELECT name, health FROM source_state").fetchall())
    assert state == {"drifted": "unhealthy", "empty": "unhealthy", "cekfakta": "ok"}


def test_a_healthy_run_raises_nothing() -> None:
    report = RefreshReport(sources=[SourceRefreshReport("a"), SourceRefreshReport("b", health="degraded")],
                           seconds=0.1)
    assert report.ok
    report.raise_for_health()


def test_article_page_drift_is_counted_per_page(checker: FactChecker, local_server: LocalServer) -> None:
    from scrapers.cekfakta import CekFaktaCom
    from tests.sites import constructed

    local_server.route("/feed/", Reply(body=constructed("cekfakta_feed.xml"), content_type="application/xml"))
    local_server.route("/focus/9001", constructed("cekfakta_focus_9001.html"))
    local_server.route("/focus/9000", "<html><body></body></html>")
    report = refresh(checker, [CekFaktaCom(base_url=local_server.base)],
                     fetch_config=FetchConfig.from_mapping(FAST))
    s = report.sources[0]
    assert s.new == 1 and s.failed == 1 and s.health == "degraded"
    assert any("cekfakta" in e and "/focus/9000" in e for e in s.errors)


def test_politeness_during_refresh(checker: FactChecker, local_server: LocalServer) -> None:
    """robots disallow obeyed, per-host delay kept, 503 retried, 429 Retry-After honoured, 404 not retried."""
    from scrapers.cekfakta import CekFaktaCom

    b = local_server.base
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>[HOAKS] Satu</title><link>{b}/focus/1</link><pubDate>Tue, 10 Sep 2024 10:00:00 +0700</pubDate></item>
    <item><title>[HOAKS] Dua</title><link>{b}/focus/2</link><pubDate>Mon, 09 Sep 2024 10:00:00 +0700</pubDate></item>
    <item><title>[HOAKS] Tiga</title><link>{b}/private/3</link><pubDate>Sun, 08 Sep 2024 10:00:00 +0700</pubDate></item>
    <item><title>[HOAKS] Empat</title><link>{b}/focus/4</link><pubDate>Sat, 07 Sep 2024 10:00:00 +0700</pubDate></item>
    </channel></rss>"""
    page = ("<html><head><title>{t}</title></head><body><h1>[HOAKS] {t}</h1><p>Isi artikel {t} yang"
            " cukup panjang untuk diekstrak oleh trafilatura sebagai teks utama.</p></body></html>")
    local_server.robots("User-agent: *\nDisallow: /private\n")
    local_server.route("/feed/", Reply(body=feed, content_type="application/xml"))
    local_server.route("/focus/1", Reply(503), Reply(body=page.format(t="Satu")))
    local_server.route("/focus/2", Reply(429, headers={"Retry-After": "1"}), Reply(body=page.format(t="Dua")))
    local_server.route("/private/3", page.format(t="Tiga"))
    # /focus/4 is not routed: 404
    config = FetchConfig.from_mapping({**FAST, "delay": 0.3})
    report = refresh(checker, [CekFaktaCom(base_url=local_server.base)], fetch_config=config)
    s = report.sources[0]
    assert s.new == 2 and s.skipped == 1 and s.failed == 1, s
    assert local_server.hits("/private/3") == []
    assert len(local_server.hits("/focus/1")) == 2
    assert len(local_server.hits("/focus/4")) == 1
    first, second = local_server.hits("/focus/2")
    assert second.at - first.at >= 0.95
    times = [r.at for r in local_server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.2, gaps  # 0.3 s between starts at the client, minus arrival jitter
    assert report.fetch["retries"] == 2 and report.fetch["robots_blocked"] == 1


@needs_shared
def test_cli_refresh_and_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import cli

    index = tmp_path / "idx"
    with build_sites() as (servers, options):
        config = tmp_path / "sources.toml"
        config.write_text(toml_config(options, FAST), encoding="utf-8")
        runner = CliRunner()
        result = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert {s["name"]: s["new"] for s in data["sources"]} == {n: e[0] for n, e in EXPECTED.items()}
        assert set(data["sources"][0]) >= {"new", "updated", "unchanged", "failed", "seconds", "health"}

        table = runner.invoke(cli, ["--index", str(index), "sources", "--config", str(config)])
        assert table.exit_code == 0, table.output
        assert "komdigi" in table.stdout and "degraded" in table.stdout and "2026-05-10" in table.stdout
        listed = runner.invoke(cli, ["--index", str(index), "sources", "--config", str(config), "--json"])
        rows = {r["name"]: r for r in json.loads(listed.stdout)}
        assert rows["tempo"]["items"] == 1 and rows["tempo"]["health"] == "ok"

        found = runner.invoke(cli, ["--index", str(index), "check", "--json",
                                    "kode rahasia menghemat listrik prabayar"])
        assert found.exit_code == 0
        assert json.loads(found.stdout)["matches"][0]["source"] == "tempo"


def test_cli_refresh_unhealthy_exit_code(tmp_path: Path, local_server: LocalServer) -> None:
    from cli import cli

    local_server.route("/feed/", "not a feed")
    config = tmp_path / "sources.toml"
    config.write_text(toml_config({"cekfakta": {"base_url": local_server.base}}, FAST), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "refresh", "--config",
                                      str(config), "--source", "cekfakta"])
    assert result.exit_code == 6
    assert "unhealthy source(s): cekfakta" in result.stderr
