"""Bulk embedding at a lower CPU priority, so lookups on the same machine stay fast.

An import, a refresh or a reindex embeds thousands of texts; a lookup embeds one. Both engines
start a thread per core, and on a small server the two fight for the same cores: measured on
2 cores, a lookup's p90 went from 202 ms to 1,693 ms while another process imported. The
writer does not need to be fast at the reader's expense, only to finish, so bulk embedding runs
on worker threads whose scheduling priority is lowered (Linux niceness is per thread, and the
threads an engine starts from a worker inherit it). When nothing else wants the CPU, a niced
thread runs at full speed; when a lookup arrives, the lookup's threads get the cores first.

Not ``SCHED_IDLE``: it kept lookups closer to their quiet speed (p90 x1.04 against x1.26 with
niceness, both under the x1.5 target), but on a machine kept busy by other work it leaves the
bulk thread ~0.3% of a core instead of ~10%, and a refresh would stall into its time budgets.

The priority is lowered, never raised (an unprivileged process cannot raise it back), which is
why the work moves to a thread of its own instead of lowering the caller's thread. Where
per-thread niceness does not exist (macOS, Windows) the work runs in the caller's thread as
before. ``FACTCHECK_BULK_NICE=0`` turns it off.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")

#: How much lower than the caller bulk work runs (0-19; 10 leaves a lookup ~90% of a core).
DEFAULT_NICE = 10
ENV_NICE = "FACTCHECK_BULK_NICE"


def bulk_nice() -> int:
    """The niceness increment for bulk work: ``FACTCHECK_BULK_NICE``, else 10."""
    raw = os.environ.get(ENV_NICE, "").strip()
    if not raw:
        return DEFAULT_NICE
    try:
        return max(0, min(19, int(raw)))
    except ValueError:
        log.warning("%s=%r is not a number; using %d", ENV_NICE, raw, DEFAULT_NICE)
        return DEFAULT_NICE


def _lower_this_thread(increment: int) -> None:
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))
    except OSError as exc:  # a sandbox may forbid it: the work still runs, at normal priority
        log.debug("cannot lower the priority of the bulk thread: %s", exc)


class BulkLane:
    """Lazily started worker threads at lowered priority; ``run`` and ``map`` wait for results.

    ``workers`` > 1 with an ``initializer`` that gives each worker a one-thread engine team
    (:func:`factcheck.embedding.single_engine_thread`): an engine's team of threads waits at
    every barrier for its slowest member, so when a lookup takes one core a whole team stalls,
    while independent single-thread workers pulling chunks from one queue keep the other core
    busy. Measured (``bench/contention.py``, 2 cores, 4 lookups/s): the import kept 64% of its
    speed with one niced team of two, 68% with two single-thread workers, which is all the CPU
    the lookups leave it (they take 33% by themselves).
    """

    def __init__(self, nice: int | None = None, workers: int = 1,
                 initializer: Callable[[], object] | None = None) -> None:
        self._nice = bulk_nice() if nice is None else nice
        self._workers = max(1, workers)
        self._initializer = initializer
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """How many tasks run at once (1 where the lane is off: in the caller's thread)."""
        return self._workers if self.enabled else 1

    @property
    def enabled(self) -> bool:
        return self._nice > 0 and sys.platform.startswith("linux") and hasattr(os, "setpriority")

    def _start(self) -> None:
        _lower_this_thread(self._nice)
        if self._initializer is not None:
            self._initializer()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="factcheck-bulk",
                    initializer=self._start,
                )
            return self._pool

    def run(self, fn: Callable[..., T], *args: object) -> T:
        if not self.enabled:
            return fn(*args)
        return self._executor().submit(fn, *args).result()

    def map(self, fn: Callable[[A], T], items: Iterable[A]) -> list[T]:
        """``[fn(x) for x in items]``, the items spread over the workers, results in order.

        Disabled (``FACTCHECK_BULK_NICE=0``, not Linux): in the caller's thread, one by one.
        """
        if not self.enabled:
            return [fn(item) for item in items]
        futures = [self._executor().submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
