"""Refresh: walk each source newest first, fetch politely, parse, store, and record its health.

The walk is incremental: a source's links come newest first and the walk stops after a few
consecutive URLs that are already in the index (``full=True`` re-checks everything, with
conditional GETs so unchanged pages cost a 304). Each source runs in isolation: its failure is
counted, logged and recorded in ``source_state``, and the other sources go on. A source whose
listing yields nothing is *unhealthy*, never "up to date", because that is what a redesigned
site looks like.

Each source also has a time budget per run (``FetchConfig.source_budget``, or ``budget`` in its
``[sources.NAME]`` table): when it runs out the walk is cancelled at its next wait on the
network, what was parsed is stored, the unfinished-walk marker stays so that the next run goes on
from there, and the report says so (``budget_exhausted``). Such a source is *degraded*, not
unhealthy, when its listing was read: the site works and its items keep coming, only more slowly
than one run allows (a first crawl, a slow host), and counting that as a failure would raise the
alarm of exit code 6 every hour for a source that is fine. When not even the listing came in
before the budget ran out, nothing was discovered and the source is unhealthy like any source
whose listing cannot be read.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .dates import parse_date, utc_now
from .errors import FetchError, InvalidInput, RefreshLocked, RobotsDisallowed, SourceError
from .fetch import Fetcher, FetchConfig, StoreValidators
from .models import Verdict, VerifiedItem
from .soft404 import page_title, soft_404_reason
from .urls import canonical_url, published_url

if TYPE_CHECKING:  # pragma: no cover
    from scrapers.base import Source

    from .api import FactChecker
    from .sources import SourcesConfig

log = logging.getLogger(__name__)

#: Lock file in the index directory held for the whole of a refresh (bundle install honours it).
REFRESH_LOCK_NAME = "refresh.lock"
#: Consecutive already-known URLs after which an incremental walk stops.
STOP_AFTER_KNOWN = 5
#: Items stored (and embedded) per batch while a source is walked. Each batch also rewrites the
#: vector index file, so smaller batches lose less work to an interruption and cost more I/O
#: (config: ``[refresh] batch``).
BATCH = 50
#: Errors kept per source in the report (all are logged).
MAX_ERRORS = 20
#: Runs in which a page that failed for a passing reason is asked for again before giving up.
MAX_RETRY_RUNS = 5
#: Queued pages retried per source in one run (the rest wait for the next run).
MAX_RETRIES_PER_RUN = 100
#: ``meta`` key prefix of the unfinished-walk marker of a source.
UNFINISHED_KEY = "refresh.unfinished."

Progress = Callable[[str, "SourceRefreshReport"], None]


@dataclass
class SourceRefreshReport:
    """What one source did in one refresh."""

    name: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0  # known and not re-fetched, 304, same bytes, or same content hash
    failed: int = 0  # pages that could not be fetched or parsed
    skipped: int = 0  # pages robots.txt does not allow
    discovered: int = 0
    fetched: int = 0
    unknown_verdicts: int = 0
    unknown_labels: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    health: str = "ok"
    errors: list[str] = field(default_factory=list)
    budget_exhausted: bool = False  # the source's time budget ran out before its walk ended

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


@dataclass
class RefreshReport:
    """The whole refresh: one report per source, plus the fetcher's counts."""

    sources: list[SourceRefreshReport]
    seconds: float
    dry_run: bool = False
    fetch: dict[str, Any] = field(default_factory=dict)
    #: Items an interrupted earlier run stored without vectors, embedded before this run began.
    backlog_embedded: int = 0
    #: Why the vector index file had to be rebuilt from the store when the index was opened.
    index_repaired: str | None = None

    @property
    def ok(self) -> bool:
        """True when no source is unhealthy (degraded sources still count as working)."""
        return all(s.health != "unhealthy" for s in self.sources)

    def raise_for_health(self) -> None:
        """Raise :class:`SourceError` naming the unhealthy sources, if there are any.

        The library's rule, so that the CLI (exit 6), a scheduler or a bot embedding the
        library judge a run alike; it is a separate call, as in httpx's ``raise_for_status``,
        because the report of a partly failed run is still worth showing first.
        """
        bad = [s.name for s in self.sources if s.health == "unhealthy"]
        if bad:
            raise SourceError(f"unhealthy source(s): {', '.join(bad)}")

    def total(self, key: str) -> int:
        return sum(int(getattr(s, key)) for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["totals"] = {k: self.total(k) for k in ("new", "updated", "unchanged", "failed", "skipped")}
        return data


def refresh(
    checker: "FactChecker",
    sources: Sequence["Source | str"] | None = None,
    *,
    since: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    fetch_config: FetchConfig | None = None,
    config: "SourcesConfig | None" = None,
    batch: int | None = None,
) -> RefreshReport:
    """Fill the index from the sources (all enabled ones, or the given objects or names).

    ``since`` (a date) ignores items published before it; ``full`` walks every listing to its
    end instead of stopping at known URLs; ``dry_run`` fetches and parses but writes nothing
    (no items, no validators, no source state). Raises ``RefreshLocked`` when another refresh
    holds the index lock.
    """
    from .sources import get_sources

    if since is not None:
        parsed = parse_date(since)
        if parsed is None:
            raise InvalidInput(f"--since must be a date, not {since!r}")
        since = parsed
    names = [s for s in (sources or []) if isinstance(s, str)]
    objects = [s for s in (sources or []) if not isinstance(s, str)]
    chosen: list[Source] = objects + (get_sources(names, config=config) if names else [])
    if sources is None:
        chosen = get_sources(config=config)
    if fetch_config is None:
        fetch_config = config.fetch_config() if config is not None else FetchConfig()
    if batch is None:
        batch = config.batch() if config is not None else BATCH
    with _lock(checker, dry_run):
        backlog = 0
        if not dry_run:
            backlog = checker.embed_pending()
            if backlog:
                log.warning("embedded %d item(s) an interrupted run left without vectors", backlog)
        report = asyncio.run(arefresh(checker, chosen, since=since, full=full, dry_run=dry_run,
                                      progress=progress, fetch_config=fetch_config, batch=batch))
        report.backlog_embedded = backlog
        report.index_repaired = checker.repaired
        return report


class _lock:
    """A file lock beside the index so that cron runs and manual runs do not overlap."""

    def __init__(self, checker: "FactChecker", dry_run: bool) -> None:
        path = getattr(checker.store, "path", None)
        self._lock = None
        if path is not None and not dry_run:
            from filelock import FileLock

            self._lock = FileLock(str(path.parent / REFRESH_LOCK_NAME))

    def __enter__(self) -> None:
        if self._lock is None:
            return
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise RefreshLocked("another refresh is running on this index; try again later") from None

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()


async def arefresh(
    checker: "FactChecker",
    sources: Iterable["Source"],
    *,
    since: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    fetch_config: FetchConfig | None = None,
    batch: int = BATCH,
) -> RefreshReport:
    """The asynchronous refresh, for callers that already run an event loop."""
    started = time.monotonic()
    validators = StoreValidators(checker.store, read_only=dry_run)
    async with Fetcher(fetch_config, validators=validators) as fetcher:
        runs = [_run_source(checker, s, fetcher, since, full, dry_run, progress, batch)
                for s in sources]
        reports = list(await asyncio.gather(*runs))
        stats = asdict(fetcher.stats)
        stats["per_host"] = dict(fetcher.stats.per_host)
    report = RefreshReport(reports, round(time.monotonic() - started, 3), dry_run, stats)
    log.info("refresh done in %.1f s: %d new, %d updated, %d failed", report.seconds,
             report.total("new"), report.total("updated"), report.total("failed"))
    return report


async def _run_source(
    checker: "FactChecker", source: "Source", fetcher: Fetcher, since: str | None, full: bool,
    dry_run: bool, progress: Progress | None, batch: int = BATCH,
) -> SourceRefreshReport:
    run = _SourceRun(checker, source, fetcher, since, full, dry_run, progress, batch)
    return await run.run()


class _SourceRun:
    """One source's walk in one refresh: discovery, pages, retries, storing, bookkeeping.

    Two pieces of state outlive a run so that an interrupted or partly failed run loses nothing:

    * an *unfinished-walk marker* (``meta``: ``refresh.unfinished.<source>``, the highest item
      id when the walk began), set when a walk starts and cleared when it ends normally. While
      it is set, items stored after it (higher ids: rows are never deleted) do not count towards
      the "known URLs in a row" stop: a walk killed half-way stored the newest items, and the
      next run must walk past them to the older ones it never reached, not stop at them.
    * the *retry queue* (``refresh_retry``): article pages that failed for a passing reason
      (timeout, reset, 5xx, 429) are asked for again by the next runs, up to
      :data:`MAX_RETRY_RUNS` times, even when the walk no longer reaches them.
    """

    def __init__(
        self, checker: "FactChecker", source: "Source", fetcher: Fetcher, since: str | None,
        full: bool, dry_run: bool, progress: Progress | None, batch: int = BATCH,
    ) -> None:
        self.checker = checker
        self.batch = max(1, int(batch))
        self.store = checker.store
        self.source = source
        self.fetcher = fetcher
        self.since = since
        self.full = full
        self.dry_run = dry_run
        self.progress = progress
        self.name = str(getattr(source, "name", type(source).__name__))
        self.report = SourceRefreshReport(self.name)
        self.pending: list[VerifiedItem] = []
        self.seen: set[str] = set()
        self.digests: dict[str, str] = {}
        self.unknown: Counter[str] = Counter()
        self.attempted = 0
        self.failed_run = False
        self._home_page: tuple[str | None, str | None] | None = None
        budget = getattr(source, "budget", None)
        self.budget = float(budget) if budget is not None else fetcher.config.source_budget
        self._deadline = time.monotonic() + self.budget
        #: what the run waits on (for the words when the budget runs out mid-request)
        self._doing = "reading the listing"

    # -- the run ------------------------------------------------------------------------

    async def run(self) -> SourceRefreshReport:
        started = time.monotonic()
        self._deadline = started + self.budget
        report = self.report
        known_up_to = self._begin_walk()
        walk_finished = False
        try:
            walk_finished = await self._within_budget(self._walk(known_up_to))
        except RobotsDisallowed as exc:
            report.skipped += 1
            report.error(f"listing: {exc}")
            log.error("%s: %s", self.name, exc)
        except SourceError as exc:
            report.error(f"listing: {exc}")
            log.error("%s: discovery failed: %s", self.name, exc)
        except InvalidInput as exc:
            report.error(f"configuration: {exc}")
            log.error("%s: %s", self.name, exc)
        except Exception as exc:  # noqa: BLE001 - one broken scraper must not stop the others
            report.error(f"listing: {type(exc).__name__}: {exc}")
            log.exception("%s: discovery crashed", self.name)
        try:
            if not report.budget_exhausted:
                await self._within_budget(self._retry_queued())
        except Exception as exc:  # noqa: BLE001
            report.error(f"retrying: {type(exc).__name__}: {exc}")
            log.exception("%s: retrying failed pages crashed", self.name)
        # out of time in the retries too: pages stay queued, the source is not "ok"
        self.failed_run = not walk_finished or report.budget_exhausted
        stored = True
        try:
            self._flush()
        except Exception as exc:  # noqa: BLE001
            report.error(f"storing: {type(exc).__name__}: {exc}")
            report.failed += len(self.pending)
            log.exception("%s: storing items failed", self.name)
            self.failed_run = True
            stored = False
        report.unknown_verdicts = sum(self.unknown.values())
        report.unknown_labels = dict(self.unknown)
        report.health = _health(report, self.failed_run, self.attempted)
        report.seconds = round(time.monotonic() - started, 3)
        if not self.dry_run:
            if walk_finished and stored:
                self._end_walk()
            _record_state(self.checker, self.name, report)
        if self.progress:
            self.progress(self.name, report)
        return report

    async def _within_budget(self, work: Coroutine[Any, Any, None]) -> bool:
        """Await ``work`` until the source's deadline: True when it ended, False when cut off.

        The cancellation lands at an ``await`` (a request or a politeness wait): the items
        parsed so far and the store writes, which are synchronous, are never cut in half.
        """
        left = self._deadline - time.monotonic()
        if left <= 0:
            work.close()
            self._out_of_time()
            return False
        try:
            await asyncio.wait_for(work, left)
        except asyncio.TimeoutError:
            if time.monotonic() < self._deadline:
                raise  # a TimeoutError of the scraper's own, not the budget
            self._out_of_time()
            return False
        return True

    def _out_of_time(self) -> None:
        report = self.report
        report.budget_exhausted = True
        message = (f"time budget of {self.budget:g} s ran out while {self._doing}; stopped "
                   f"after {self.attempted} page(s), the next run goes on from there")
        report.error(message)
        log.warning("%s: %s", self.name, message)

    async def _walk(self, known_up_to: int) -> None:
        report = self.report
        known_run = 0
        links = self.source.discover(self.fetcher)
        try:
            async for link in links:
                report.discovered += 1
                url = canonical_url(link.url)
                if url in self.seen:
                    continue
                self.seen.add(url)
                if self.since and link.published and link.published < self.since:
                    log.info("%s: reached items older than %s", self.name, self.since)
                    break
                item_id = self._item_id(url)
                known = item_id is not None
                if known and not self.full:
                    report.unchanged += 1
                    # items stored by an unfinished earlier walk (or this one) are no proof that
                    # what lies below them is known too
                    if item_id is not None and item_id <= known_up_to:
                        known_run += 1
                    if known_run >= STOP_AFTER_KNOWN:
                        log.info("%s: %d known URLs in a row; up to date", self.name, known_run)
                        break
                    continue
                known_run = 0
                await self._take(link, url, known)
        finally:
            await links.aclose()  # type: ignore[attr-defined]

    async def _take(self, link: Any, url: str, known: bool) -> None:
        # not restored when cancelled: then the budget's message names the page it cut off
        doing, self._doing = self._doing, f"fetching {link.url}"
        items = await self._items_for(link, url, known)
        self._doing = doing
        if items is None:
            self.attempted += 1
            return
        self.attempted += 1 if link.item is None else 0
        for item in items:
            item.url = published_url(item.url)  # the store keys it by canonical_url
            item.source = self.name
            if not item.fetched_at:
                item.fetched_at = utc_now()
            if self.since and item.published and item.published < self.since:
                continue
            if item.verdict_raw and item.verdict is Verdict.UNKNOWN:
                self.unknown[item.verdict_raw] += 1
                log.warning("%s: unknown verdict label %r at %s (kept raw, classed unknown)",
                            self.name, item.verdict_raw, item.url)
            self.pending.append(item)
        if len(self.pending) >= self.batch:
            self._flush()

    async def _items_for(self, link: Any, url: str, known: bool) -> list[VerifiedItem] | None:
        """Items behind one link, or ``None`` when the page failed (already counted and logged)."""
        report = self.report
        if link.item is not None:
            return [link.item]
        try:
            response = await self.fetcher.get(link.url, conditional=known)
        except RobotsDisallowed:
            report.skipped += 1
            return []
        except FetchError as exc:
            if exc.transient:
                self._queue_retry(url, str(exc))
            self._page_failed(str(exc))
            return None
        report.fetched += 1
        if response.not_modified or (known and response.unchanged):
            report.unchanged += 1
            self._retried_ok(url)
            return []
        problem = await self._soft_404(link.url, response)
        if problem:
            self._page_failed(f"{self.name}: soft 404 at {link.url}: {problem}")
            return None
        try:
            items = list(self.source.parse(response))
        except SourceError as exc:
            self._page_failed(str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a scraper bug on one page must not end the run
            log.exception("%s: parser crashed on %s", self.name, link.url)
            self._page_failed(f"{type(exc).__name__} parsing {link.url}: {exc}")
            return None
        if not items:
            self._page_failed(f"{self.name}: no item parsed from {link.url}")
            return None
        self._retried_ok(url)
        return items

    def _page_failed(self, message: str) -> None:
        self.report.failed += 1
        self.report.error(message)
        log.warning("%s: %s", self.name, message)

    async def _soft_404(self, requested: str, response: Any) -> str | None:
        """Why an article page is really the home page or an error page (see factcheck.soft404)."""
        digest = hashlib.sha256(response.content).hexdigest()
        earlier = self.digests.setdefault(digest, requested)
        if earlier != requested:
            return f"the same page as {earlier}"
        if "html" not in (response.content_type or "html"):
            return None
        reason = soft_404_reason(requested, response.url, response.text)
        if reason:
            return reason
        home_digest, home_title = await self._home(requested)
        if home_digest == digest:
            return "the page is the home page"
        title = page_title(response.text)
        if home_title and title == home_title:
            return f"the page has the home page's title ({title!r})"
        return None

    async def _home(self, some_url: str) -> tuple[str | None, str | None]:
        """Digest and title of the site's home page, fetched once per run (for soft-404s)."""
        if self._home_page is None:
            base = str(getattr(self.source, "base_url", "") or "")
            parts = urlsplit(base or some_url)
            try:
                response = await self.fetcher.get(f"{parts.scheme}://{parts.netloc}/")
            except FetchError as exc:  # robots, 404, down: no fingerprint, the other checks stand
                log.debug("%s: no home page to compare soft 404s with: %s", self.name, exc)
                self._home_page = (None, None)
            else:
                self._home_page = (hashlib.sha256(response.content).hexdigest(),
                                   page_title(response.text) or None)
        return self._home_page

    def _flush(self) -> None:
        if not self.pending:
            return
        batch = list(self.pending)
        if self.dry_run:
            new, updated, unchanged = _would_upsert(self.checker, batch)
        else:
            upsert = self.checker.add_items(batch)
            new, updated, unchanged = upsert.new, upsert.updated, upsert.unchanged
        self.pending.clear()
        self.report.new += new
        self.report.updated += updated
        self.report.unchanged += unchanged
        if self.progress:
            self.progress(self.name, self.report)

    # -- state that outlives a run --------------------------------------------------------

    def _item_id(self, url: str) -> int | None:
        return self.store.item_id(url)

    def _begin_walk(self) -> int:
        """The highest item id known before the oldest unfinished walk of this source began."""
        key = UNFINISHED_KEY + self.name
        marker = self.store.get_meta(key)
        if marker and marker.isdigit():
            log.warning("%s: an earlier walk did not finish; walking past the items it stored",
                        self.name)
            return int(marker)
        top = self.store.max_item_id()
        if not self.dry_run:
            self.store.set_meta(key, str(top))
        return top

    def _end_walk(self) -> None:
        self.store.delete_meta(UNFINISHED_KEY + self.name)

    def _queue_retry(self, url: str, error: str) -> None:
        if self.dry_run:
            return
        attempts = self.store.queue_retry(self.name, url, error)
        if attempts >= MAX_RETRY_RUNS:
            log.warning("%s: giving up on %s after %d failed runs", self.name, url, attempts)

    def _retried_ok(self, url: str) -> None:
        if self.dry_run:
            return
        self.store.drop_retry(self.name, url)

    async def _retry_queued(self) -> None:
        """Ask again for pages that failed for a passing reason in earlier runs."""
        urls = self.store.queued_retries(self.name, MAX_RETRY_RUNS, MAX_RETRIES_PER_RUN)
        from scrapers.base import Link

        self._doing = "retrying queued pages"
        for url in urls:
            if url in self.seen:
                continue  # the walk already asked for it in this run
            self.seen.add(url)
            if self._item_id(url) is not None:
                self._retried_ok(url)  # stored meanwhile (e.g. through another listing)
                continue
            log.info("%s: retrying %s, which failed in an earlier run", self.name, url)
            await self._take(Link(url), url, False)


def _health(report: SourceRefreshReport, discovery_failed: bool, attempted: int) -> str:
    if discovery_failed and report.discovered == 0:
        return "unhealthy"
    if report.discovered == 0:
        report.error("listing yielded no links")
        return "unhealthy"
    stored = report.new + report.updated + report.unchanged
    if attempted and report.failed >= attempted and stored == 0:
        return "unhealthy"
    if report.failed or discovery_failed:
        return "degraded"
    return "ok"


def _would_upsert(checker: "FactChecker", items: list[VerifiedItem]) -> tuple[int, int, int]:
    new = updated = unchanged = 0
    for item in items:
        stored = checker.store.stored_content_hash(item.url)
        if stored is None:
            new += 1
        elif stored == item.content_hash():
            unchanged += 1
        else:
            updated += 1
    return new, updated, unchanged


def _record_state(checker: "FactChecker", name: str, report: SourceRefreshReport) -> None:
    checker.store.record_source_run(
        name, health=report.health, succeeded=report.health != "unhealthy",
        error=report.errors[-1] if report.errors else None,
    )
