"""The polite fetcher against a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from factcheck.errors import FetchError, RobotsDisallowed
from factcheck.fetch import Fetcher, FetchConfig, Response, decode_body, network_cause, parse_retry_after
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


@pytest.mark.parametrize("status", [500, 503, 501])  # 501 is not retried, the others are
def test_robots_server_error_means_stay_out_and_says_so(local_server: LocalServer, status: int) -> None:
    local_server.route("/robots.txt", Reply(status))
    local_server.route("/a", "a")
    config = FetchConfig(**{**FAST.__dict__, "retries": 1})

    async def go() -> tuple[FetchError, Fetcher]:
        async with Fetcher(config) as fetcher:
            with pytest.raises(FetchError) as info:
                await fetcher.get(local_server.url("/a"))
            return info.value, fetcher

    error, fetcher = run(go())
    assert local_server.hits("/a") == []  # RFC 9309: an unreadable robots.txt means stay out
    assert not isinstance(error, RobotsDisallowed) and "disallows" not in str(error)
    assert str(error) == (f"robots.txt of {local_server.base} answered {status}; "
                          "not fetching from it until it can be read")
    assert error.status == status and error.transient
    assert fetcher.stats.robots_blocked == 0 and fetcher.stats.robots_unreadable == 1


# -- network faults: named as what they are, for robots.txt and pages alike ------------------

def _robots_error(config: FetchConfig, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        run(fetch(config, url))
    assert not isinstance(info.value, RobotsDisallowed)
    assert "disallows" not in str(info.value)
    assert info.value.transient
    return info.value


def test_robots_connection_refused_is_named(dead_port: int) -> None:
    error = _robots_error(FAST, f"http://127.0.0.1:{dead_port}/a")
    assert str(error) == (f"robots.txt of http://127.0.0.1:{dead_port} unreadable: connection refused "
                          f"by 127.0.0.1:{dead_port}; not fetching from it until it can be read")


def test_robots_dns_failure_is_named(no_dns: None) -> None:
    config = FetchConfig(**{**FAST.__dict__, "allowed_hosts": frozenset({"nothing.invalid"})})
    error = _robots_error(config, "http://nothing.invalid/a")
    assert str(error) == ("robots.txt of http://nothing.invalid unreadable: cannot resolve host "
                          "nothing.invalid (Name or service not known); not fetching from it until "
                          "it can be read")


def test_robots_timeout_is_named(local_server: LocalServer) -> None:
    local_server.route("/robots.txt", Reply(body="User-agent: *\nAllow: /\n", delay=1.0))
    local_server.route("/a", "a")
    config = FetchConfig(**{**FAST.__dict__, "timeout": 0.2, "retries": 0})
    error = _robots_error(config, local_server.url("/a"))
    where = local_server.base.removeprefix("http://")
    assert f"unreadable: timed out waiting for {where} to answer;" in str(error)
    assert local_server.hits("/a") == []


def test_robots_tls_error_is_named(local_server: LocalServer) -> None:
    local_server.route("/a", "a")
    https = local_server.base.replace("http://", "https://")  # the server speaks plain HTTP
    config = FetchConfig(**{**FAST.__dict__, "retries": 0})
    error = _robots_error(config, https + "/a")
    assert f"robots.txt of {https} unreadable: TLS error with {https.removeprefix('https://')}" in str(error)


def test_page_network_faults_use_the_same_words(dead_port: int, no_dns: None) -> None:
    config = FetchConfig(**{**FAST.__dict__, "obey_robots": False, "retries": 1,
                            "allowed_hosts": frozenset({"127.0.0.1", "nothing.invalid"})})
    with pytest.raises(FetchError) as refused:
        run(fetch(config, f"http://127.0.0.1:{dead_port}/a"))
    assert str(refused.value) == (f"connection refused by 127.0.0.1:{dead_port} for "
                                  f"http://127.0.0.1:{dead_port}/a after 2 attempts")
    with pytest.raises(FetchError) as unresolved:
        run(fetch(config, "http://nothing.invalid/a"))
    assert str(unresolved.value).startswith("cannot resolve host nothing.invalid (")
    assert refused.value.transient and unresolved.value.transient


@pytest.mark.parametrize("fault,expected", [
    (httpx.ConnectTimeout(""), "timed out connecting to example.test:8080"),
    (httpx.ReadTimeout(""), "timed out waiting for example.test:8080 to answer"),
    (httpx.PoolTimeout(""), "timed out waiting for a free connection to example.test:8080"),
    (httpx.ReadError(""), "network error with example.test:8080 (ReadError)"),
    (httpx.ConnectError("All connection attempts failed"),
     "cannot connect to example.test:8080 (All connection attempts failed)"),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."),
     "example.test:8080 broke off its answer (Server disconnected without sending a response.)"),
])
def test_network_cause_words(fault: httpx.TransportError, expected: str) -> None:
    assert network_cause(fault, "http://example.test:8080/x") == expected


def test_network_cause_reads_the_exception_chain() -> None:
    def chained(outer: httpx.TransportError, inner: BaseException) -> httpx.TransportError:
        outer.__cause__ = inner
        return outer

    url = "https://example.test/x"
    reset = chained(httpx.ReadError(""), ConnectionResetError(104, "Connection reset by peer"))
    assert network_cause(reset, url) == "connection reset by example.test"
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "certificate has expired"
    assert network_cause(chained(httpx.ConnectError("x"), cert), url) == (
        "TLS certificate of example.test not accepted (certificate has expired)")


def test_unreadable_robots_is_asked_again_soon_not_after_robots_ttl(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import factcheck.fetch

    monkeypatch.setattr(factcheck.fetch, "ROBOTS_RETRY_AFTER", 0.3)
    local_server.route("/robots.txt", Reply(503), Reply(body="User-agent: *\nAllow: /\n",
                                                        content_type="text/plain"))
    local_server.route("/a", "a")
    config = FetchConfig(**{**FAST.__dict__, "retries": 0})  # robots_ttl stays an hour

    async def go() -> tuple[list[str], Response]:
        async with Fetcher(config) as fetcher:
            errors = []
            for _ in range(2):  # the second is answered from the short-lived memory of the 503
                with pytest.raises(FetchError) as info:
                    await fetcher.get(local_server.url("/a"))
                errors.append(str(info.value))
            await asyncio.sleep(0.35)
            return errors, await fetcher.get(local_server.url("/a"))

    errors, response = run(go())
    assert errors[0] == errors[1] and "answered 503" in errors[0]
    assert len(local_server.hits("/robots.txt")) == 2  # once for the 503, once after the window
    assert response.text == "a"


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
