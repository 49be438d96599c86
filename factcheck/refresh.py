"""Refresh: walk each source newest first, fetch politely, parse, store, and record its health.

The walk is incremental: a source's links come newest first and the walk stops after a few
consecutive URLs that are already in the index (``full=True`` re-checks everything, with
conditional GETs so unchanged pages cost a 304). Each source runs in isolation: its failure is
counted, logged and recorded in ``source_state``, and the other sources go on. A source whose
listing yields nothing is *unhealthy*, never "up to date", because that is what a redesigned
site looks like.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .dates import parse_date
from .errors import FetchError, InvalidInput, RefreshLocked, RobotsDisallowed, SourceError
from .fetch import Fetcher, FetchConfig, StoreValidators
from .models import Verdict, VerifiedItem
from .urls import canonical_url

if TYPE_CHECKING:  # pragma: no cover
    from scrapers.base import Source

    from .api import FactChecker
    from .sources import SourcesConfig

log = logging.getLogger(__name__)

#: Consecutive already-known URLs after which an incremental walk stops.
STOP_AFTER_KNOWN = 5
#: Items stored (and embedded) per batch while a source is walked.
BATCH = 50
#: Errors kept per source in the report (all are logged).
MAX_ERRORS = 20

Progress = Callable[[str, "SourceReport"], None]


@dataclass
class SourceReport:
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

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


@dataclass
class RefreshReport:
    """The whole refresh: one report per source, plus the fetcher's counts."""

    sources: list[SourceReport]
    seconds: float
    dry_run: bool = False
    fetch: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no source is unhealthy (degraded sources still count as working)."""
        return all(s.health != "unhealthy" for s in self.sources)

    def total(self, key: str) -> int:
        return sum(int(getattr(s, key)) for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["totals"] = {k: self.total(k) for k in ("new", "updated", "unchanged", "failed", "skipped")}
        return data


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


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
    with _lock(checker, dry_run):
        return asyncio.run(arefresh(checker, chosen, since=since, full=full, dry_run=dry_run,
                                    progress=progress, fetch_config=fetch_config))


class _lock:
    """A file lock beside the index so that cron runs and manual runs do not overlap."""

    def __init__(self, checker: "FactChecker", dry_run: bool) -> None:
        path = getattr(checker.store, "path", None)
        self._lock = None
        if path is not None and not dry_run:
            from filelock import FileLock

            self._lock = FileLock(str(path.parent / "refresh.lock"))

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
) -> RefreshReport:
    """The asynchronous refresh, for callers that already run an event loop."""
    started = time.monotonic()
    validators = StoreValidators(checker.store, read_only=dry_run)
    async with Fetcher(fetch_config, validators=validators) as fetcher:
        runs = [_run_source(checker, s, fetcher, since, full, dry_run, progress) for s in sources]
        reports = list(await asyncio.gather(*runs))
        stats = asdict(fetcher.stats)
        stats["per_host"] = dict(fetcher.stats.per_host)
    report = RefreshReport(reports, round(time.monotonic() - started, 3), dry_run, stats)
    log.info("refresh done in %.1f s: %d new, %d updated, %d failed", report.seconds,
             report.total("new"), report.total("updated"), report.total("failed"))
    return report


async def _run_source(
    checker: "FactChecker", source: "Source", fetcher: Fetcher, since: str | None, full: bool,
    dry_run: bool, progress: Progress | None,
) -> SourceReport:
    name = str(getattr(source, "name", type(source).__name__))
    report = SourceReport(name)
    started = time.monotonic()
    pending: list[VerifiedItem] = []
    seen: set[str] = set()
    attempted = 0
    discovery_failed = False
    known_run = 0
    unknown: Counter[str] = Counter()

    def flush() -> None:
        if not pending:
            return
        batch = list(pending)
        pending.clear()
        if dry_run:
            new, updated, unchanged = _would_upsert(checker, batch)
        else:
            upsert = checker.add_items(batch)
            new, updated, unchanged = upsert.new, upsert.updated, upsert.unchanged
        report.new += new
        report.updated += updated
        report.unchanged += unchanged
        if progress:
            progress(name, report)

    try:
        links = source.discover(fetcher)
        try:
            async for link in links:
                report.discovered += 1
                url = canonical_url(link.url)
                if url in seen:
                    continue
                seen.add(url)
                if since and link.published and link.published < since:
                    log.info("%s: reached items older than %s", name, since)
                    break
                known = bool(checker.store.known_urls([url]))
                if known and not full:
                    report.unchanged += 1
                    known_run += 1
                    if known_run >= STOP_AFTER_KNOWN:
                        log.info("%s: %d known URLs in a row; up to date", name, known_run)
                        break
                    continue
                known_run = 0
                items = await _items_for(source, name, link, known, fetcher, report)
                if items is None:
                    attempted += 1
                    continue
                attempted += 1 if link.item is None else 0
                for item in items:
                    item.url = canonical_url(item.url)
                    item.source = name
                    if not item.fetched_at:
                        item.fetched_at = _now()
                    if since and item.published and item.published < since:
                        continue
                    if item.verdict_raw and item.verdict is Verdict.UNKNOWN:
                        unknown[item.verdict_raw] += 1
                        log.warning("%s: unknown verdict label %r at %s (kept raw, classed unknown)",
                                    name, item.verdict_raw, item.url)
                    pending.append(item)
                if len(pending) >= BATCH:
                    flush()
        finally:
            await links.aclose()  # type: ignore[attr-defined]
    except RobotsDisallowed as exc:
        discovery_failed = True
        report.skipped += 1
        report.error(f"listing: {exc}")
        log.error("%s: %s", name, exc)
    except SourceError as exc:
        discovery_failed = True
        report.error(f"listing: {exc}")
        log.error("%s: discovery failed: %s", name, exc)
    except InvalidInput as exc:
        discovery_failed = True
        report.error(f"configuration: {exc}")
        log.error("%s: %s", name, exc)
    except Exception as exc:  # noqa: BLE001 - one broken scraper must not stop the others
        discovery_failed = True
        report.error(f"listing: {type(exc).__name__}: {exc}")
        log.exception("%s: discovery crashed", name)
    try:
        flush()
    except Exception as exc:  # noqa: BLE001
        report.error(f"storing: {type(exc).__name__}: {exc}")
        report.failed += len(pending)
        log.exception("%s: storing items failed", name)
        discovery_failed = True
    report.unknown_verdicts = sum(unknown.values())
    report.unknown_labels = dict(unknown)
    report.health = _health(report, discovery_failed, attempted)
    report.seconds = round(time.monotonic() - started, 3)
    if not dry_run:
        _record_state(checker, name, report)
    if progress:
        progress(name, report)
    return report


async def _items_for(
    source: "Source", name: str, link: Any, known: bool, fetcher: Fetcher, report: SourceReport,
) -> list[VerifiedItem] | None:
    """Items behind one link, or ``None`` when the page failed (already counted and logged)."""
    if link.item is not None:
        return [link.item]
    try:
        response = await fetcher.get(link.url, conditional=known)
    except RobotsDisallowed:
        report.skipped += 1
        return []
    except FetchError as exc:
        report.failed += 1
        report.error(str(exc))
        log.warning("%s: %s", name, exc)
        return None
    report.fetched += 1
    if response.not_modified or (known and response.unchanged):
        report.unchanged += 1
        return []
    try:
        items = list(source.parse(response))
    except SourceError as exc:
        report.failed += 1
        report.error(str(exc))
        log.warning("%s: %s", name, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a scraper bug on one page must not end the run
        report.failed += 1
        report.error(f"{type(exc).__name__} parsing {link.url}: {exc}")
        log.exception("%s: parser crashed on %s", name, link.url)
        return None
    if not items:
        report.failed += 1
        report.error(f"{name}: no item parsed from {link.url}")
        return None
    return items


def _health(report: SourceReport, discovery_failed: bool, attempted: int) -> str:
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
        row = checker.store.conn.execute(
            "SELECT content_hash FROM items WHERE url = ?", (item.url,)
        ).fetchone()
        if row is None:
            new += 1
        elif row[0] == item.content_hash():
            unchanged += 1
        else:
            updated += 1
    return new, updated, unchanged


def _record_state(checker: "FactChecker", name: str, report: SourceReport) -> None:
    now = _now()
    store = checker.store
    with store.transaction() as conn:
        row = conn.execute("SELECT failures, last_success FROM source_state WHERE name = ?", (name,)).fetchone()
        failures = (int(row[0] or 0) if row else 0) + 1 if report.health == "unhealthy" else 0
        last_success = now if report.health != "unhealthy" else (row[1] if row else None)
        items = int(conn.execute("SELECT count(*) FROM items WHERE source = ?", (name,)).fetchone()[0])
        last_error = report.errors[-1] if report.errors else None
        conn.execute(
            "INSERT INTO source_state(name, last_success, last_error, last_error_at, last_run, items, "
            "failures, health) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "last_success = excluded.last_success, "
            "last_error = COALESCE(excluded.last_error, source_state.last_error), "
            "last_error_at = COALESCE(excluded.last_error_at, source_state.last_error_at), "
            "last_run = excluded.last_run, items = excluded.items, failures = excluded.failures, "
            "health = excluded.health",
            (name, last_success, last_error, now if last_error else None, now, items, failures,
             report.health),
        )
