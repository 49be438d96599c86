"""The polite fetcher against a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from factcheck.errors import FetchError, RobotsDisallowed
from factcheck.fetch import Fetcher, FetchConfig, decode_body, parse_retry_after
from tests.localserver import LocalServer, Reply

FAST = FetchConfig(delay=0.0, backoff=0.01, jitter=0.0, timeout=2.0, connect_timeout=2.0,
                   allowed_hosts=frozenset({"127.0.0.1"}))


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def fetch(config: FetchConfig, *urls: str, conditional: bool = False, fetcher: Fetcher | None = None):  # type: ignore[no-untyped-def]
    own = fetcher or Fetcher(config)
    async with own:
        return [await own.get(u, conditional=conditional) for u in urls], own


def test_user_agent_names_project_and_contact(local_server: LocalServer) -> None:
    local_server.route("/a", "hello")
    [resp], _ = run(fetch(FAST, local_server.url("/a")))
    assert resp.text == "hello"
    ua = local_server.hits("/a")[0].headers["user-agent"]
    assert ua.startswith("factcheck/") and "+http" in ua


def test_503_then_200_is_retried(local_server: LocalServer) -> None:
    local_server.route("/flaky", Reply(503), Reply(503), Reply(body="ok"))
    [resp], fetcher = run(fetch(FAST, local_server.url("/flaky")))
    assert resp.status == 200 and resp.text == "ok"
    assert len(local_server.hits("/flaky")) == 3
    assert fetcher.stats.retries == 2 and fetcher.stats.retryable_statuses == 2


def test_404_is_not_retried(local_server: LocalServer) -> None:
    with pytest.raises(FetchError) as info:
        run(fetch(FAST, local_server.url("/missing")))
    assert info.value.status == 404
    assert len(local_server.hits("/missing")) == 1


def test_persistent_500_gives_up_after_retries(local_server: LocalServer) -> None:
    local_server.route("/down", Reply(500))
    config = FetchConfig(**{**FAST.__dict__, "retries": 2})
    with pytest.raises(FetchError) as info:
        run(fetch(config, local_server.url("/down")))
    assert info.value.status == 500
    assert len(local_server.hits("/down")) == 3


def test_429_retry_after_is_honoured(local_server: LocalServer) -> None:
    local_server.route("/busy", Reply(429, headers={"Retry-After": "1"}), Reply(body="ok"))
    [resp], _ = run(fetch(FAST, local_server.url("/busy")))
    first, second = local_server.hits("/busy")
    assert resp.text == "ok"
    assert second.at - first.at >= 0.95


def test_too_long_retry_after_gives_up(local_server: LocalServer) -> None:
    local_server.route("/busy", Reply(429, headers={"Retry-After": "3600"}))
    config = FetchConfig(**{**FAST.__dict__, "max_retry_after": 5})
    with pytest.raises(FetchError, match="Retry-After"):
        run(fetch(config, local_server.url("/busy")))
    assert len(local_server.hits("/busy")) == 1


def test_timeout_is_retried_then_succeeds(local_server: LocalServer) -> None:
    local_server.route("/slow", Reply(body="late", delay=0.6), Reply(body="ok"))
    config = FetchConfig(**{**FAST.__dict__, "timeout": 0.2})
    [resp], fetcher = run(fetch(config, local_server.url("/slow")))
    assert resp.text == "ok"
    assert fetcher.stats.network_errors == 1


def test_per_host_delay_is_kept(local_server: LocalServer) -> None:
    for i in range(4):
        local_server.route(f"/p{i}", "x")
    config = FetchConfig(**{**FAST.__dict__, "delay": 0.2, "per_host": 2})

    async def go() -> None:
        async with Fetcher(config) as fetcher:
            await asyncio.gather(*(fetcher.get(local_server.url(f"/p{i}")) for i in range(4)))

    run(go())
    times = sorted(r.at for r in local_server.requests if r.path.startswith("/p"))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.18, gaps


def test_robots_disallow_is_obeyed_and_crawl_delay_used(local_server: LocalServer) -> None:
    local_server.robots("User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n")
    local_server.route("/private/x", "secret")
    local_server.route("/a", "a")
    local_server.route("/b", "b")

    async def go() -> Fetcher:
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(RobotsDisallowed):
                await fetcher.get(local_server.url("/private/x"))
            await fetcher.get(local_server.url("/a"))
            await fetcher.get(local_server.url("/b"))
            return fetcher

    fetcher = run(go())
    assert local_server.hits("/private/x") == []
    assert len(local_server.hits("/robots.txt")) == 1  # cached per host
    assert fetcher.stats.robots_blocked == 1
    a, b = local_server.hits("/a")[0], local_server.hits("/b")[0]
    assert b.at - a.at >= 0.28


def test_robots_for_our_agent(local_server: LocalServer) -> None:
    local_server.robots("User-agent: factcheck\nDisallow: /\n\nUser-agent: *\nDisallow:\n")
    local_server.route("/a", "a")
    with pytest.raises(RobotsDisallowed):
        run(fetch(FAST, local_server.url("/a")))


def test_robots_server_error_means_stay_out(local_server: LocalServer) -> None:
    local_server.route("/robots.txt", Reply(500))
    local_server.route("/a", "a")
    config = FetchConfig(**{**FAST.__dict__, "retries": 1})
    with pytest.raises(RobotsDisallowed):
        run(fetch(config, local_server.url("/a")))
    assert local_server.hits("/a") == []


def test_conditional_get_uses_etag_and_last_modified(local_server: LocalServer) -> None:
    def page(req):  # type: ignore[no-untyped-def]
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(body="page", headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})

    local_server.route("/page", page)

    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(FAST) as fetcher:
            first = await fetcher.get(local_server.url("/page"), conditional=True)
            second = await fetcher.get(local_server.url("/page"), conditional=True)
            return first, second, fetcher

    first, second, fetcher = run(go())
    assert first.status == 200 and not first.not_modified
    assert second.not_modified and second.content == b""
    hit = local_server.hits("/page")[1]
    assert hit.headers["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert fetcher.stats.not_modified == 1


def test_same_body_twice_is_marked_unchanged(local_server: LocalServer) -> None:
    local_server.route("/same", "same bytes")
    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(FAST) as fetcher:
            return [await fetcher.get(local_server.url("/same")) for _ in range(2)]
    first, second = run(go())
    assert not first.unchanged and second.unchanged


def test_size_cap_redirect_limit_and_scheme(local_server: LocalServer) -> None:
    local_server.route("/big", "x" * 5000)
    local_server.route("/loop", Reply(302, headers={"Location": "/loop"}))
    local_server.route("/hop", Reply(301, headers={"Location": "/target"}))
    local_server.route("/target", "arrived")
    config = FetchConfig(**{**FAST.__dict__, "max_bytes": 1000, "max_redirects": 3})
    with pytest.raises(FetchError, match="larger"):
        run(fetch(config, local_server.url("/big")))
    assert len(local_server.hits("/big")) == 1
    with pytest.raises(FetchError, match="redirects"):
        run(fetch(config, local_server.url("/loop")))
    [resp], _ = run(fetch(config, local_server.url("/hop")))
    assert resp.url.endswith("/target") and resp.text == "arrived"
    with pytest.raises(FetchError, match="http"):
        run(fetch(config, "file:///etc/passwd"))
    with pytest.raises(FetchError, match="allowed_hosts"):
        run(fetch(config, "https://turnbackhoax.id/"))


def test_charset_handling() -> None:
    latin = "Kesimpulan: café".encode("windows-1252")
    assert decode_body(latin, "text/html; charset=windows-1252") == "Kesimpulan: café"
    html = b'<html><head><meta charset="windows-1252"></head><body>caf\xe9</body></html>'
    assert "café" in decode_body(html, "text/html")
    assert decode_body("ok ✓".encode(), "application/json") == "ok ✓"


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Wed, 01 Jan 2025 00:00:10 GMT", now=1735689600.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
