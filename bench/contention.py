"""Lookups while the index is being written: does an import on the same machine slow answers?

Two processes, as on a server that refreshes hourly: a *reader* with the 10k index open asks
real claims at a fixed rate (``checker.check``, hybrid, real query embedding), and a *writer*
runs ``factcheck import`` of real items into another index (store + embedding + vector index;
the embedding is what competes for the cores). Three runs, each in fresh processes:

1. writer alone: items per second of the whole ``factcheck import`` command;
2. both at once: the reader's latency while the writer runs, and the writer's items per second;
3. reader alone: the latency of the very same lookups (same claims, same order, same rate)
   without the writer. Claims differ in length by 10x and more, so a quiet run over other
   claims is no baseline (an earlier version compared 81 quiet lookups with ~200 busy ones,
   half of them other claims, and reported a p90 ratio of 2.3 where the same claims gave 1.15).

Targets (issue 15, item 12): p90 during the import <= 1.5x the quiet p90, and the import keeps
>= 70% of its quiet throughput. The reader's index is ``bench/speed.py``'s 10k index of real
items and vectors (built on first use); the writer imports CLEF2022 claims, which the reader's
index does not hold. Run it on an otherwise idle machine: other load (and other cgroups, which
niceness does not reach) makes every figure meaningless.

    .venv/bin/python bench/contention.py                 # ~2.5 min on an idle machine
    .venv/bin/python bench/contention.py --bulk-nice 0      # the writer as before: no lane
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, load_clef2022, log, table  # noqa: E402
from speed import PY, SPEED, _child, _claims  # noqa: E402

READER = """
import json, sys, time
sys.path.insert(0, "bench")
from speed import _claims
from factcheck import FactChecker
import os
directory, rate, seconds, ready = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
count = int(sys.argv[5])  # at most this many lookups (0: no limit)
stop = ready + ".stop"
claims = _claims(300, seed=123)
with FactChecker.open(directory) as fc:
    for claim in claims[:5]:  # warm: models loaded, pages cached
        fc.check(claim, limit=10)
    open(ready, "w").close()
    latencies, start, i, cpu0 = [], time.monotonic(), 0, time.process_time()
    while time.monotonic() - start < seconds and not os.path.exists(stop) and (not count or i < count):
        due = start + i / rate
        time.sleep(max(0.0, due - time.monotonic()))
        t0 = time.perf_counter()
        fc.check(claims[(i + 5) % len(claims)], limit=10)
        latencies.append(time.perf_counter() - t0)
        i += 1
print(json.dumps({"latencies": latencies, "cpu_s": time.process_time() - cpu0,
                  "wall_s": time.monotonic() - start}))
"""


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _write_items(path: Path, n: int) -> None:
    items = load_clef2022().items[:n]
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps({"url": item.url, "title": item.title, "claim": item.claim,
                                  "verdict": item.verdict_raw or item.verdict.value,
                                  "publisher": item.publisher or "Snopes"},
                                 ensure_ascii=False) + "\n")


def _start_reader(rate: float, seconds: float, work: Path,
                  count: int = 0) -> tuple[subprocess.Popen, Path]:
    ready = work / f"ready-{time.monotonic_ns()}"
    proc = subprocess.Popen([PY, "-c", READER, str(SPEED / "idx10000"), str(rate), str(seconds),
                             str(ready), str(count)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit("the reader failed to start")
        time.sleep(0.05)
    return proc, ready


def _reader_result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=600)
    if proc.returncode:
        raise SystemExit(f"the reader failed ({proc.returncode})")
    result: dict = json.loads(out.strip().splitlines()[-1])
    return result


def _import(items_file: Path, work: Path, bulk_nice: str | None) -> float:
    """Seconds of one whole ``factcheck import`` into a fresh index."""
    index = Path(tempfile.mkdtemp(prefix="writer-", dir=work))
    env = dict(os.environ)
    if bulk_nice is not None:
        env["FACTCHECK_BULK_NICE"] = bulk_nice
    t0 = time.perf_counter()
    subprocess.run([PY, "cli.py", "--index", str(index), "import", str(items_file)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1000, help="items the writer imports")
    ap.add_argument("--rate", type=float, default=4.0, help="reader lookups per second")
    ap.add_argument("--bulk-nice", help="FACTCHECK_BULK_NICE for the writer (0: as before "
                    "issue 15 item 12, bulk embedding at the lookups' priority)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    SPEED.mkdir(parents=True, exist_ok=True)
    _claims(2)  # fail early without ../shared
    log("building/reusing the 10k index ...")
    _child(["build10k", "10000"])
    with tempfile.TemporaryDirectory(prefix="contention-", dir=SPEED) as tmp:
        work = Path(tmp)
        items_file = work / "items.jsonl"
        _write_items(items_file, args.items)

        log(f"writer alone: import of {args.items} items ...")
        alone_s = _import(items_file, work, args.bulk_nice)
        log("both at once ...")
        reader, ready = _start_reader(args.rate, 3600, work)
        busy_s = _import(items_file, work, args.bulk_nice)
        Path(str(ready) + ".stop").touch()  # the reader stops when the import has ended
        during = _reader_result(reader)["latencies"]
        # the same claims in the same order, alone: claims differ in length (a 2,000-character
        # message takes 10x a tweet), so a quiet run over other claims is no baseline
        log(f"reader alone: the same {len(during)} lookups at {args.rate}/s ...")
        reader, _ = _start_reader(args.rate, 3600, work, count=len(during))
        alone = _reader_result(reader)
        quiet = alone["latencies"]
        # the share of the machine the lookups take by themselves: what the import cannot have
        reader_share = alone["cpu_s"] / (alone["wall_s"] * (os.cpu_count() or 1))

    quiet_p50, quiet_p90 = _pct(quiet, 50) * 1000, _pct(quiet, 90) * 1000
    busy_p50, busy_p90 = _pct(during, 50) * 1000, _pct(during, 90) * 1000
    alone_rate = args.items / alone_s
    busy_rate = args.items / busy_s
    result = {
        "items": args.items, "rate_per_s": args.rate, "bulk_nice": args.bulk_nice,
        "cpus": os.cpu_count(),
        "quiet_p50_ms": quiet_p50, "quiet_p90_ms": quiet_p90, "quiet_n": len(quiet),
        "during_p50_ms": busy_p50, "during_p90_ms": busy_p90, "during_n": len(during),
        "p90_ratio": busy_p90 / quiet_p90,
        "import_alone_items_s": alone_rate, "import_with_lookups_items_s": busy_rate,
        "throughput_ratio": busy_rate / alone_rate,
        "reader_cpu_share": reader_share,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Lookups during an import, {os.cpu_count()} CPUs; reader: 10k index, {args.rate}/s; "
          f"writer: factcheck import of {args.items} CLEF2022 claims")
    print(table(["", "p50 ms", "p90 ms", "lookups"], [
        ["reader alone", f"{quiet_p50:.0f}", f"{quiet_p90:.0f}", len(quiet)],
        ["reader during the import", f"{busy_p50:.0f}", f"{busy_p90:.0f}", len(during)],
    ]))
    print(table(["", "items/s"], [
        ["import alone", f"{alone_rate:.1f}"],
        [f"import with {args.rate:g} lookups/s", f"{busy_rate:.1f}"],
    ]))
    print(f"p90 during / quiet: {result['p90_ratio']:.2f} (target <= 1.5); import throughput "
          f"kept: {result['throughput_ratio']:.0%} (target >= 70%); the lookups alone take "
          f"{reader_share:.0%} of the CPUs, so the import can keep at most "
          f"{1 - reader_share:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
