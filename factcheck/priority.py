"""Bulk embedding at a lower CPU priority, so lookups on the same machine stay fast.

An import, a refresh or a reindex embeds thousands of texts; a lookup embeds one. Both engines
start a thread per core, and on a small server the two fight for the same cores: measured on
2 cores, a lookup's p90 went from 202 ms to 1,693 ms while another process imported. The
writer does not need to be fast at the reader's expense, only to finish, so bulk embedding runs
on one worker thread whose scheduling priority is lowered (Linux niceness is per thread, and the
threads an engine starts from that worker inherit it). When nothing else wants the CPU, a niced
thread runs at full speed; when a lookup arrives, the lookup's threads get the cores first.

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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    """One lazily started worker thread at lowered priority; ``run`` waits for the result."""

    def __init__(self, nice: int | None = None) -> None:
        self._nice = bulk_nice() if nice is None else nice
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._nice > 0 and sys.platform.startswith("linux") and hasattr(os, "setpriority")

    def run(self, fn: Callable[..., T], *args: object) -> T:
        if not self.enabled:
            return fn(*args)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="factcheck-bulk",
                    initializer=_lower_this_thread, initargs=(self._nice,),
                )
            pool = self._pool
        return pool.submit(fn, *args).result()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
