"""Load test of ``factcheck serve`` on 127.0.0.1 with the real default model.

Starts the API in a child process on the demo index (built in a cache directory on first
use), then runs N concurrent keep-alive clients x M requests against /check and prints
requests/s and latency percentiles. Bounded: it stops at --max-seconds whatever is left.

    python bench/bench_serve.py --clients 4 --requests 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import logging, sys
from factcheck.demo import open_demo
from factcheck.server import ServeOptions, serve
checker = open_demo(sys.argv[1])
serve(checker, "127.0.0.1", 0,
      ServeOptions(workers=int(sys.argv[2]), query_cache=int(sys.argv[3])),
      on_ready=lambda url: print(url, flush=True))
"""


def queries() -> list[str]:
    """Paraphrase-like probes from the demo sample, plus claims the index does not hold."""
    path = ROOT / "factcheck" / "data" / "demo_items.jsonl"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        out.append(record.get("claim") or record["title"])
        out.append(f"Beredar pesan: {record['title'].split(']')[-1].strip().lower()}! sebarkan")
    out += ["Harga beras naik 50 persen minggu depan", "Besok ada pemadaman listrik se-Jawa",
            "Minum air kelapa menyembuhkan kanker dalam 3 hari"]
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    parser.add_argument("--workers", type=int, default=8, help="server readers")
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--query-cache", type=int, default=0,
                        help="server query-vector cache size (0, the default here, measures "
                             "the model on every request; the server's own default is 1024)")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(),
                                                            "factcheck-bench"))
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, args.cache_dir, str(args.workers),
         str(args.query_cache)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        url = (proc.stdout.readline() if proc.stdout else "").strip()
        if not url.startswith("http://127.0.0.1:"):
            sys.exit(f"server did not start (got {url!r})")
        with httpx.Client(base_url=url, trust_env=False, timeout=60) as c:
            health = c.get("/health").json()
            t0 = time.perf_counter()
            c.get("/check", params={"q": "warm up the model"}).raise_for_status()
            warm = time.perf_counter() - t0
        print(f"index: {health['items']} items, model {health['model']}; "
              f"first query (model load) {warm * 1000:.0f} ms", file=sys.stderr)

        probes = queries()
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        deadline = time.monotonic() + args.max_seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            mine: list[float] = []
            codes: dict[int, int] = {}
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as c:
                for _ in range(args.requests):
                    if time.monotonic() > deadline:
                        break
                    q = rng.choice(probes)
                    start = time.perf_counter()
                    r = c.get("/check", params={"q": q, "limit": args.limit})
                    mine.append(time.perf_counter() - start)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
            with lock:
                latencies.extend(mine)
                for k, v in codes.items():
                    statuses[k] = statuses.get(k, 0) + v

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(10)

    n = len(latencies)
    ms = [x * 1000 for x in latencies]
    print(f"GET /check  clients={args.clients} requests={n} statuses={statuses} "
          f"cpus={os.cpu_count()} query_cache={args.query_cache}")
    print(f"throughput  {n / elapsed:.1f} requests/s over {elapsed:.1f} s")
    print(f"latency ms  p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}")


if __name__ == "__main__":
    main()
