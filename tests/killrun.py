"""Run ``factcheck refresh`` as a real subprocess and kill -9 it at random moments.

Shared by tests/test_refresh_process.py (which asserts) and bench/bench_refresh.py (which
prints the table quoted in the docs). Each round publishes new articles on a fixture site,
starts the CLI against it, waits until the refresh has asked for the feed, sleeps a random
fraction of the expected run time and sends SIGKILL. Then, as a user's next lookup would, it
opens the index, runs ``PRAGMA integrity_check``, counts the items and looks a claim up.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from factcheck import FactChecker
from factcheck.store import DB_NAME
from factcheck.urls import canonical_url
from tests.refreshsite import HASH_MODEL, FixtureSite

ROOT = Path(__file__).resolve().parents[1]
FETCH = {"delay": 0.0, "backoff": 0.05, "jitter": 0.0, "timeout": 5.0, "retries": 1,
         "allowed_hosts": ["127.0.0.1"]}


@dataclass
class Round:
    """What one kill -9 round found."""

    number: int
    kill_after: float  # seconds after the feed request
    killed: bool  # False when the refresh had already finished
    items_before: int
    items_after: int
    integrity: str
    lookup_ok: bool
    repaired: str | None  # the vector-index repair the next open made, if any
    vectors_match: bool  # vector index rows == stored vectors after opening

    @property
    def ok(self) -> bool:
        return (self.items_after >= self.items_before and self.integrity == "ok"
                and self.lookup_ok and self.vectors_match)


def create_index(index: Path) -> None:
    """An empty index that uses the deterministic hashing embedder, named by its model spec."""
    FactChecker.open(index, create=True, model=HASH_MODEL).close()


def refresh_command(index: Path, config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cli", "--index", str(index), "refresh", "--config", str(config),
            *extra]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["HF_HUB_OFFLINE"] = "1"
    env.pop("FACTCHECK_SOURCES", None)
    return env


def start_refresh(index: Path, config: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(refresh_command(index, config, *extra), cwd=ROOT, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_feed(site: FixtureSite, seen: int, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    """Block until the refresh has asked for the feed (it is past start-up and walking)."""
    deadline = time.monotonic() + limit
    while len(site.server.hits("/feed.xml")) <= seen:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise RuntimeError(f"refresh exited early ({proc.returncode}): {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("refresh never asked for the feed")
        time.sleep(0.01)


def inspect(index: Path, site: FixtureSite) -> tuple[int, str, bool, str | None, bool]:
    """Open the index as the next lookup would: (items, integrity, lookup ok, repair, vectors ok)."""
    conn = sqlite3.connect(str(index / DB_NAME))
    try:
        integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
    with FactChecker.open(index) as checker:
        count = checker.store.count()
        lookup_ok = True
        if count:  # the most recently stored item must be found by its title
            row = checker.store.conn.execute(
                "SELECT url, title FROM items ORDER BY id DESC LIMIT 1").fetchone()
            hits = checker.check(str(row[1]), limit=3).hits
            lookup_ok = bool(hits) and canonical_url(hits[0].item.url) == row[0]  # row[0]: the key
        vectors_ok = len(checker.index) == checker.store.vector_count()
        return count, integrity, lookup_ok, checker.repaired, vectors_ok


def kill_rounds(
    index: Path, config: Path, site: FixtureSite, rounds: int, *, new_per_round: int,
    base: float = 0.25, per_item: float = 0.05, seed: int = 1,
) -> list[Round]:
    """``rounds`` refreshes, each killed with SIGKILL at a random moment of its walk.

    The moment is ``uniform(0, base + per_item * items left to fetch)`` seconds after the feed
    request: about the length of the walk, so that kills land while pages are fetched, items
    committed, vectors committed and the index file renamed, and a few land after the end.
    """
    rng = random.Random(seed)
    results: list[Round] = []
    for number in range(1, rounds + 1):
        site.publish(new_per_round)
        before = inspect(index, site)[0]
        feeds = len(site.server.hits("/feed.xml"))
        proc = start_refresh(index, config, "--quiet")
        wait_for_feed(site, feeds, proc)
        delay = rng.uniform(0.0, base + per_item * (len(site.articles) - before))
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        count, integrity, lookup_ok, repaired, vectors_ok = inspect(index, site)
        results.append(Round(number, round(delay, 3), killed, before, count, integrity, lookup_ok,
                             repaired, vectors_ok))
    return results


def finish(index: Path, config: Path, timeout: float = 120.0) -> subprocess.CompletedProcess[bytes]:
    """One refresh left to run to the end."""
    return subprocess.run(refresh_command(index, config, "--json"), cwd=ROOT, env=subprocess_env(),
                          capture_output=True, timeout=timeout)


def table(results: list[Round]) -> str:
    lines = [f"{'run':>3} {'kill at':>8} {'killed':>6} {'before':>6} {'after':>6} "
             f"{'integrity':>9} {'lookup':>6}  repair on next open"]
    for r in results:
        lines.append(f"{r.number:>3} {r.kill_after:>7.2f}s {'yes' if r.killed else 'no':>6} "
                     f"{r.items_before:>6} {r.items_after:>6} {r.integrity:>9} "
                     f"{'ok' if r.lookup_ok else 'FAIL':>6}  {r.repaired or '-'}")
    killed = sum(r.killed for r in results)
    drops = sum(r.items_after < r.items_before for r in results)
    lines.append(f"{len(results)} runs, {killed} killed mid-run, {drops} item-count drops, "
                 f"{sum(not r.ok for r in results)} failed checks")
    return "\n".join(lines)
