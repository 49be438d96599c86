"""A polite asynchronous HTTP fetcher for the refresh.

Fact-check sites are run by small newsrooms and ministries; some are slow and some block
crawlers that hammer them. Every request the refresh makes therefore goes through one
:class:`Fetcher`, which

* identifies itself with a User-Agent naming the project and a contact URL,
* obeys robots.txt (parsed with protego, cached per host, ``Crawl-delay`` honoured),
* keeps a minimum delay between requests to one host and caps concurrency per host,
* retries timeouts, connection faults, 5xx and 429 with exponential backoff (``Retry-After``
  wins when it is longer), and never retries other 4xx,
* caps the size of a response and the number of redirects, and refuses non-http(s) URLs,
* gives every request a total deadline (``request_deadline``: connect, headers and the whole
  body), because httpx's ``timeout`` is per read and a peer sending one byte a second never
  trips it,
* sends ``If-None-Match`` / ``If-Modified-Since`` remembered from the previous run, so that an
  unchanged page costs the site a 304 and us nothing.

Failures end in :class:`~factcheck.errors.FetchError` (or ``RobotsDisallowed``, only when a
robots.txt that was read forbids the URL), with the cause in plain words (see
:func:`network_cause`); the counts of everything that happened are kept in
:attr:`Fetcher.stats` for the refresh report.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import random
import socket
import ssl
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from . import __version__
from .errors import FetchError, RobotsDisallowed
from .urls import is_http_url

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/factcheck-id/factcheck"
DEFAULT_USER_AGENT = f"factcheck/{__version__} (+{PROJECT_URL})"

#: Statuses worth asking again for: the server is busy or briefly broken, not refusing us.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 522, 524})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Default total seconds for one request (connect + headers + body); see FetchConfig.
REQUEST_DEADLINE = 60.0
#: Default seconds one source may spend in one refresh run; see FetchConfig.
SOURCE_BUDGET = 1800.0
#: Seconds an unreadable robots.txt keeps its host closed before it is asked for again (capped
#: by ``robots_ttl``). See :meth:`Fetcher._read_robots` for why this is short.
ROBOTS_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class FetchConfig:
    """Politeness and safety settings; the defaults are meant for the real sites.

    Tests and benchmarks shrink ``delay`` and ``backoff``; nothing else needs changing.
    """

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 2.0  # seconds between request starts to one host (robots Crawl-delay may raise it)
    per_host: int = 1  # requests in flight to one host
    max_connections: int = 8
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 2.0  # first retry waits this long, then doubles
    backoff_max: float = 60.0
    max_retry_after: float = 600.0  # a longer Retry-After gives up instead of hanging a refresh
    jitter: float = 0.1  # fraction of a wait added at random so that runs do not synchronise
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    obey_robots: bool = True
    robots_ttl: float = 3600.0
    allowed_hosts: frozenset[str] | None = None  # when set, every other host is refused
    #: Total seconds for one request: connect, headers and the whole body. ``timeout`` alone
    #: restarts on every byte read, so a peer trickling one byte a second would hold a refresh
    #: for ever; past this a request fails as "too slow" (transient, not retried in the run).
    request_deadline: float = REQUEST_DEADLINE
    #: Seconds one source may spend fetching in one refresh run (``[sources.NAME] budget``
    #: overrides it); then its walk stops, what it parsed is stored, the next run goes on.
    #: 30 min keeps an hourly refresh from running into the next one.
    source_budget: float = SOURCE_BUDGET

    def __post_init__(self) -> None:
        _check_time_limits(self)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "FetchConfig":
        """Build from a config-file table, ignoring nothing silently: unknown keys are an error."""
        from .errors import InvalidInput

        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"unknown fetch setting(s): {', '.join(sorted(unknown))}")
        values = {name: _checked_setting(cls, name, value) for name, value in data.items()}
        return cls(**values)


#: Fetch settings that must be above zero (a zero cap or timeout would refuse everything).
_POSITIVE_SETTINGS = frozenset({"per_host", "max_connections", "timeout", "connect_timeout",
                                "max_bytes"})


def _checked_setting(cls: type[FetchConfig], name: str, value: Any) -> Any:
    """One ``[fetch]`` value, checked against the type of its field, or a one-line InvalidInput.

    A config file is edited by hand: ``delay = "fast"`` used to fail deep inside a refresh as
    an unhealthy source, ``allowed_hosts = "127.0.0.1"`` became a set of characters that
    refused every host, and ``retries = -1`` was taken as it was. The expected kind is read
    from the field's default (or its annotation when the default is None), so a field added
    later is checked too.
    """
    import math

    from .errors import InvalidInput

    field_ = cls.__dataclass_fields__[name]
    default = field_.default
    annotation = str(field_.type)
    setting = f"fetch setting {name}"
    if name == "allowed_hosts":
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(
                isinstance(h, str) and h.strip() for h in value):
            raise InvalidInput(f"{setting} must be a list of host names such as "
                               f'["127.0.0.1"], not {value!r}'[:200])
        return frozenset(h.strip().lower() for h in value)
    least = 1 if name in _POSITIVE_SETTINGS else 0
    if isinstance(default, bool) or annotation == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"{setting} must be true or false, not {value!r}"[:200])
    elif isinstance(default, int) or annotation.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InvalidInput(f"{setting} must be a whole number, {least} or more, "
                               f"not {value!r}"[:200])
    elif isinstance(default, float) or "float" in annotation:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0 or (least and value == 0):
            bound = "above 0" if least else "0 or more"
            raise InvalidInput(f"{setting} must be a number, {bound}, "
                               f"not {value!r}"[:200])
        return float(value)
    elif isinstance(default, str) or annotation == "str":
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{setting} must be a non-empty string, not {value!r}"[:200])
    return value


def positive_seconds(setting: str, value: object) -> float:
    """``value`` as a positive, finite number of seconds, or ``InvalidInput`` naming ``setting``.

    A config file is where these come from, and ``"fast"``, ``0`` or ``-5`` must be a one-line
    config error at start-up, not a TypeError or a deadline that fires at once in the middle
    of a refresh.
    """
    import math

    from .errors import InvalidInput

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        raise InvalidInput(f"{setting} must be a positive number of seconds, not {value!r}")
    return float(value)


def _check_time_limits(config: FetchConfig) -> None:
    """Validate the deadline and the budget (kept apart from the checks of the other fields)."""
    for name in ("request_deadline", "source_budget"):
        positive_seconds(f"fetch setting {name}", getattr(config, name))


@dataclass
class Validators:
    """What the previous 200 response said about a URL, for a conditional GET next time."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


class ValidatorStore(Protocol):
    """Where validators are remembered between runs (the store's ``http_cache`` table)."""

    def get(self, url: str) -> Validators | None: ...

    def put(self, url: str, validators: Validators) -> None: ...


class MemoryValidators:
    """Validators kept for the life of one process; enough for tests and benchmarks."""

    def __init__(self) -> None:
        self._data: dict[str, Validators] = {}

    def get(self, url: str) -> Validators | None:
        return self._data.get(url)

    def put(self, url: str, validators: Validators) -> None:
        self._data[url] = validators


class StoreValidators:
    """Validators in the ``http_cache`` table of a factcheck store.

    ``read_only`` is for dry runs, which must leave the index exactly as they found it.
    """

    def __init__(self, store: "Store", *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only

    def get(self, url: str) -> Validators | None:
        known = self._store.http_validators(url)
        return Validators(*known) if known else None

    def put(self, url: str, validators: Validators) -> None:
        if self._read_only:
            return
        self._store.put_http_validators(
            url, validators.etag, validators.last_modified, validators.content_hash
        )


@dataclass
class Response:
    """A fetched page: the body as bytes and, decoded on first use, as text."""

    url: str  # after redirects
    requested_url: str
    status: int
    headers: httpx.Headers
    content: bytes
    not_modified: bool = False  # 304 to our conditional GET: nothing to parse
    unchanged: bool = False  # 200, but the same bytes as last time
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    @cached_property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type", ""))

    def json(self) -> Any:
        return json.loads(self.text)


def decode_body(content: bytes, content_type: str = "") -> str:
    """Bytes to text: the header's charset, else what the document declares, else a guess.

    Indonesian sites still serve the odd windows-1252 page with no header charset, so HTML goes
    through bs4's UnicodeDammit, which reads ``<meta charset>`` and falls back to detection.
    """
    if not content:
        return ""
    charset = None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"\'') or None
    if charset:
        try:
            return content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            log.debug("declared charset %s does not decode; guessing", charset)
    if "json" in content_type:
        return content.decode("utf-8-sig", errors="replace")
    from bs4 import UnicodeDammit

    dammit = UnicodeDammit(content, is_html="html" in content_type or not content_type)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return content.decode("utf-8", errors="replace")


@dataclass
class FetchStats:
    """Counts of what the fetcher did, for the refresh report and the logs."""

    requests: int = 0
    responses: int = 0
    retries: int = 0
    network_errors: int = 0
    retryable_statuses: int = 0
    not_modified: int = 0
    robots_blocked: int = 0  # pages a robots.txt that was read forbids
    robots_unreadable: int = 0  # pages not asked for because their host's robots.txt could not be read
    failed: int = 0
    too_slow: int = 0  # requests that ran past request_deadline
    bytes: int = 0
    per_host: Counter[str] = field(default_factory=Counter)


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    """A request ran past ``request_deadline``; ``str()`` is the cause in plain words."""


@dataclass
class _Progress:
    """How far one request got, for the words of a "too slow" failure."""

    response: httpx.Response | None = None  # set once the status line and headers are in

    def received(self) -> str:
        if self.response is None:
            return "no response headers"
        got = self.response.num_bytes_downloaded
        declared = self.response.headers.get("content-length", "")
        of = f" of {int(declared)}" if declared.isdigit() else ""
        return f"{got}{of} byte{'' if got == 1 and not of else 's'}"


class _Host:
    """Politeness state of one host: who may go next, and when."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.next_start = 0.0
        self.delay = delay


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 16:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def network_cause(exc: httpx.TransportError, url: str) -> str:
    """A network fault of a request to ``url``, in the words of what to go and fix.

    httpx words these faults in its own terms or not at all: a failed DNS lookup reads
    "[Errno -2] Name or service not known", a refused connection "All connection attempts
    failed", a read timeout is an empty string. The real cause lies further down the exception
    chain (``socket.gaierror``, ``ConnectionRefusedError``, ``ssl.SSLError``), so it is looked
    for there. This is the only place that does it, for pages and robots.txt alike.
    """
    parts = urlsplit(url)
    host = parts.hostname or url
    where = _where(url)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting to {where}"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out waiting for {where} to answer"
    if isinstance(exc, httpx.WriteTimeout):
        return f"timed out sending to {where}"
    if isinstance(exc, httpx.PoolTimeout):
        return f"timed out waiting for a free connection to {where}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out talking to {where}"
    for cause in _exception_chain(exc):
        if isinstance(cause, socket.gaierror):
            detail = f" ({cause.strerror})" if cause.strerror else ""
            return f"cannot resolve host {host}{detail}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate of {where} not accepted ({cause.verify_message or cause})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error with {where} ({cause.reason or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {where}"
        if isinstance(cause, ConnectionResetError):
            return f"connection reset by {where}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} broke off its answer ({exc})"
    kind = "cannot connect to" if isinstance(exc, httpx.ConnectError) else "network error with"
    return f"{kind} {where} ({str(exc) or type(exc).__name__})"


def _where(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


def too_slow_cause(url: str, received: str, elapsed: float, deadline: float) -> str:
    """A request to ``url`` past its deadline, in the words :func:`network_cause` uses.

    ``received`` says how far the peer got ("no response headers", "3 of 5000 bytes"): that
    tells a trickling server from one that never answered.
    """
    return f"too slow: {_where(url)} sent {received} in {elapsed:.1f} s (deadline {deadline:g} s)"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_ts = time.time() if now is None else now
    return max(0.0, when.timestamp() - now_ts)


class Fetcher:
    """The one door to the network for a refresh; use it as an ``async with`` context.

    ``transport`` lets tests substitute an ``httpx.MockTransport``; ``validators`` is where
    ETag / Last-Modified are remembered (in memory unless the refresh passes the store's).
    """

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        validators: ValidatorStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config or FetchConfig()
        self.validators: ValidatorStore = validators if validators is not None else MemoryValidators()
        self.stats = FetchStats()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._hosts: dict[str, _Host] = {}
        #: per origin: the rules (None: no rules) or why robots.txt is unreadable, and until when
        self._robots: dict[str, tuple[Protego | None | FetchError, float]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> "Fetcher":
        cfg = self.config
        self._client = httpx.AsyncClient(
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            limits=httpx.Limits(max_connections=cfg.max_connections),
            follow_redirects=False,  # followed by hand so every hop is checked and rate-limited
            transport=self._transport,
            trust_env=False,  # a proxy from the environment must not silently reroute the crawl
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- public -------------------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Fetch ``url`` politely; raise ``FetchError`` when it cannot be had.

        With ``conditional`` the remembered validators are sent and a 304 comes back as a
        response with ``not_modified`` set. A 200 always refreshes the remembered validators.
        """
        started = time.monotonic()
        self._check_url(url)
        request_headers = dict(headers or {})
        remembered = self.validators.get(url)
        if conditional and remembered:
            if remembered.etag:
                request_headers["If-None-Match"] = remembered.etag
            if remembered.last_modified:
                request_headers["If-Modified-Since"] = remembered.last_modified
        current = url
        for _hop in range(self.config.max_redirects + 1):
            await self._check_robots(current)
            status, resp_headers, body = await self._with_retries(current, request_headers)
            if status in _REDIRECTS and resp_headers.get("location"):
                target = urljoin(current, resp_headers["location"])
                self._check_url(target)
                log.debug("redirect %s -> %s", current, target)
                # validators belong to the first URL; do not send them to another one
                request_headers.pop("If-None-Match", None)
                request_headers.pop("If-Modified-Since", None)
                current = target
                continue
            break
        else:
            self.stats.failed += 1
            raise FetchError(
                f"more than {self.config.max_redirects} redirects from {url}", url=url, status=status
            )
        elapsed = time.monotonic() - started
        if status == 304:
            self.stats.not_modified += 1
            return Response(current, url, 304, resp_headers, b"", not_modified=True, elapsed=elapsed)
        if status >= 400:
            self.stats.failed += 1
            raise FetchError(f"HTTP {status} for {current}", url=current, status=status)
        digest = hashlib.sha256(body).hexdigest()[:32]
        unchanged = bool(remembered and remembered.content_hash == digest)
        if 200 <= status < 300:
            self.validators.put(
                url,
                Validators(resp_headers.get("etag"), resp_headers.get("last-modified"), digest),
            )
        return Response(current, url, status, resp_headers, body, unchanged=unchanged, elapsed=elapsed)

    async def post(
        self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """POST a form (for APIs such as MAFINDO's that only answer POST); redirects are not followed.

        The same robots, delay and retry rules apply: these APIs are read-only searches.
        """
        started = time.monotonic()
        self._check_url(url)
        await self._check_robots(url)
        status, resp_headers, body = await self._with_retries(url, dict(headers or {}), "POST", dict(data))
        if status >= 400:
            self.stats.failed += 1
            raise FetchError(f"HTTP {status} for POST {url}", url=url, status=status)
        return Response(url, url, status, resp_headers, body, elapsed=time.monotonic() - started)

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt of the URL's host lets us fetch it.

        Raises ``FetchError`` when robots.txt could not be read (network fault, 5xx): the host
        is then off limits (RFC 9309), but "no" would be an answer nobody gave.
        """
        if not self.config.obey_robots:
            return True
        policy = await self._robots_policy(url)
        if policy is None:
            return True
        return bool(policy.can_fetch(url, self.config.user_agent))

    # -- internals ----------------------------------------------------------------------

    def _check_url(self, url: str) -> None:
        if not is_http_url(url):
            self.stats.failed += 1
            raise FetchError(f"not an http(s) URL: {url!r}", url=url)
        allowed = self.config.allowed_hosts
        if allowed is not None and (urlsplit(url).hostname or "").lower() not in allowed:
            self.stats.failed += 1
            raise FetchError(f"host not in allowed_hosts: {url}", url=url)

    async def _check_robots(self, url: str) -> None:
        try:
            allowed = await self.allowed(url)
        except FetchError:
            self.stats.robots_unreadable += 1
            raise
        if not allowed:
            self.stats.robots_blocked += 1
            log.info("robots.txt disallows %s", url)
            raise RobotsDisallowed(f"robots.txt disallows {url}", url=url)

    def _host(self, url: str) -> _Host:
        key = _origin(url)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self.config.per_host, self.config.delay)
        return host

    def _jittered(self, seconds: float) -> float:
        return seconds * (1 + random.uniform(0, self.config.jitter)) if seconds > 0 else 0.0

    async def _robots_policy(self, url: str) -> Protego | None:
        origin = _origin(url)
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() >= cached[1]:
            async with self._robots_locks.setdefault(origin, asyncio.Lock()):
                cached = self._robots.get(origin)
                if cached is None or time.monotonic() >= cached[1]:
                    cached = self._robots[origin] = await self._read_robots(origin)
        rules = cached[0]
        if isinstance(rules, FetchError):
            # a fresh copy each time: one instance raised again and again piles up tracebacks
            raise FetchError(str(rules), url=rules.url, status=rules.status, transient=rules.transient)
        return rules

    async def _read_robots(self, origin: str) -> tuple[Protego | None | FetchError, float]:
        """The rules of ``origin`` (or why they could not be read) and when to ask again.

        An unreadable robots.txt is remembered too, but only for :data:`ROBOTS_RETRY_AFTER`
        seconds, not ``robots_ttl``: long enough that the other pages of a host that is down
        fail at once instead of each paying the retries and backoff again (and pestering a sick
        server), short enough that a passing fault (the network back, the 503 over) does not
        keep the host closed for the rest of a long refresh. It is not an answer, so it must
        not be kept like one.
        """
        try:
            policy = await self._load_robots(origin)
        except FetchError as exc:
            log.warning("%s", exc)
            return exc, time.monotonic() + min(self.config.robots_ttl, ROBOTS_RETRY_AFTER)
        if policy is not None:
            delay = policy.crawl_delay(self.config.user_agent)
            if delay:
                host = self._host(origin)
                host.delay = max(self.config.delay, float(delay))
                log.info("%s asks for Crawl-delay %s s", origin, delay)
        return policy, time.monotonic() + self.config.robots_ttl

    async def _load_robots(self, origin: str) -> Protego | None:
        """robots.txt per RFC 9309: 2xx is the rules, 4xx means there are none.

        A file that cannot be read (5xx, a network fault, endless redirects) means stay out,
        as RFC 9309 asks; that raises ``FetchError`` naming the real cause, never
        ``RobotsDisallowed``: "robots.txt disallows" about a file nobody read sends whoever
        reads the source's last error after the wrong problem (issue 12).
        """
        url = origin + "/robots.txt"
        until = "not fetching from it until it can be read"
        current = url
        try:
            for _hop in range(self.config.max_redirects + 1):
                status, headers, body = await self._with_retries(current, {})
                if status in _REDIRECTS and headers.get("location"):
                    current = urljoin(current, headers["location"])
                    if not is_http_url(current):
                        return None
                    continue
                break
        except FetchError as exc:
            if exc.status is not None:
                raise FetchError(f"robots.txt of {origin} answered {exc.status}; {until}", url=url,
                                 status=exc.status, transient=exc.transient) from exc
            cause = exc.__cause__
            if isinstance(cause, httpx.TransportError):
                reason = network_cause(cause, current)
            else:
                reason = str(cause) if isinstance(cause, _TooSlow) else str(exc)
            raise FetchError(f"robots.txt of {origin} unreadable: {reason}; {until}", url=url,
                             transient=exc.transient) from exc
        if 200 <= status < 300:
            return Protego.parse(decode_body(body, headers.get("content-type", "text/plain")))
        if 400 <= status < 500:
            return None
        self.stats.failed += 1
        if status in _REDIRECTS and headers.get("location"):
            raise FetchError(f"robots.txt of {origin} unreadable: more than "
                             f"{self.config.max_redirects} redirects; {until}", url=url, status=status)
        raise FetchError(f"robots.txt of {origin} answered {status}; {until}", url=url, status=status,
                         transient=status >= 500)

    async def _with_retries(
        self, url: str, headers: Mapping[str, str], method: str = "GET",
        data: dict[str, str] | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        cfg = self.config
        host = self._host(url)
        attempt = 0
        fault: httpx.TransportError | None = None
        while True:
            retry_after: float | None = None
            answered: int | None = None  # the retryable status, None for a network fault
            try:
                status, resp_headers, body = await self._send_once(host, url, headers, method, data)
            except _TooLarge:
                self.stats.failed += 1
                raise FetchError(f"response larger than {cfg.max_bytes} bytes: {url}", url=url) from None
            except _TooSlow as exc:
                # Transient (the refresh queues the page for its next runs), but not retried
                # now: a peer that could not deliver in request_deadline will not in the next
                # one either, and each retry would cost the source another whole deadline.
                self.stats.too_slow += 1
                self.stats.failed += 1
                log.warning("%s for %s", exc, url)
                raise FetchError(f"{exc} for {url}", url=url, transient=True) from exc
            except httpx.TransportError as exc:  # timeouts included
                self.stats.network_errors += 1
                reason = network_cause(exc, url)
                fault = exc
            else:
                fault = None
                if status not in RETRY_STATUSES:
                    return status, resp_headers, body
                answered = status
                self.stats.retryable_statuses += 1
                reason = f"HTTP {status}"
                retry_after = parse_retry_after(resp_headers.get("retry-after"))
            if attempt >= cfg.retries:
                self.stats.failed += 1
                log.warning("giving up on %s after %d attempts: %s", url, attempt + 1, reason)
                raise FetchError(f"{reason} for {url} after {attempt + 1} attempts", url=url, status=answered,
                                 transient=True) from fault
            if retry_after is not None and retry_after > cfg.max_retry_after:
                self.stats.failed += 1
                log.warning("%s asks us to wait %.0f s: giving up for this run", url, retry_after)
                raise FetchError(
                    f"{reason} for {url}: Retry-After {retry_after:.0f} s is too long", url=url,
                    status=answered, transient=True,
                )
            wait = min(cfg.backoff * (2**attempt), cfg.backoff_max)
            if retry_after is not None:
                wait = max(wait, retry_after)
            wait = self._jittered(wait)
            # the whole host waits, not only this request: the server asked for a pause
            host.next_start = max(host.next_start, time.monotonic() + wait)
            self.stats.retries += 1
            attempt += 1
            log.info("%s for %s; retry %d/%d in %.2f s", reason, url, attempt, cfg.retries, wait)
            await asyncio.sleep(wait)

    async def _send_once(
        self, host: _Host, url: str, headers: Mapping[str, str], method: str = "GET",
        data: dict[str, str] | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        if self._client is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        cfg = self.config
        async with host.semaphore:
            async with host.lock:
                wait = host.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_start = time.monotonic() + self._jittered(host.delay)
            self.stats.requests += 1
            self.stats.per_host[_origin(url)] += 1
            progress = _Progress()
            started = time.monotonic()
            try:
                # the politeness wait above is not the peer's time; connect onwards is
                status, resp_headers, body = await asyncio.wait_for(
                    self._exchange(url, headers, method, data, progress), cfg.request_deadline)
            except asyncio.TimeoutError:
                raise _TooSlow(too_slow_cause(url, progress.received(), time.monotonic() - started,
                                              cfg.request_deadline)) from None
            self.stats.responses += 1
            self.stats.bytes += len(body)
            return status, resp_headers, body

    async def _exchange(
        self, url: str, headers: Mapping[str, str], method: str, data: dict[str, str] | None,
        progress: _Progress,
    ) -> tuple[int, httpx.Headers, bytes]:
        """One request and its whole body, under the size cap; ``progress`` shows how far it got."""
        assert self._client is not None
        cfg = self.config
        async with self._client.stream(method, url, headers=dict(headers), data=data) as resp:
            progress.response = resp
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cfg.max_bytes:
                raise _TooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > cfg.max_bytes:
                    raise _TooLarge
                chunks.append(chunk)
        return resp.status_code, resp.headers, b"".join(chunks)
