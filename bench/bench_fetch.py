"""Pages per second through the polite fetcher against a local server on 127.0.0.1.

The politeness delay, not the machine, bounds a real refresh: this prints the rate at the
default settings (one request at a time per host, 2 s apart) and, for comparison, with the delay
shrunk, for one host and for several hosts (one local server each).

    python bench/bench_fetch.py [--pages 5] [--hosts 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factcheck.fetch import Fetcher, FetchConfig  # noqa: E402
from tests.localserver import LocalServer, Reply  # noqa: E402

PAGE = ("<html><body><h1>[HOAKS] Judul</h1>" + "<p>Isi artikel. </p>" * 400 + "</body></html>").encode()


async def run(config: FetchConfig, servers: list[LocalServer], pages: int) -> float:
    urls = [s.url(f"/p/{i}") for s in servers for i in range(pages)]
    async with Fetcher(config) as fetcher:
        await asyncio.gather(*(fetcher.get(s.url("/robots.txt")) for s in servers), return_exceptions=True)
        started = time.perf_counter()
        await asyncio.gather(*(fetcher.get(u) for u in urls))
        return len(urls) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5, help="pages per host at the default delay")
    parser.add_argument("--hosts", type=int, default=4)
    args = parser.parse_args()
    servers = [LocalServer().start() for _ in range(args.hosts)]
    for server in servers:
        for i in range(300):
            server.route(f"/p/{i}", Reply(body=PAGE))
        server.robots("User-agent: *\nAllow: /\n")
    default = FetchConfig()
    rows = [
        ("default (delay 2 s, 1/host)", default, servers[:1], args.pages),
        (f"default, {args.hosts} hosts", default, servers, args.pages),
        ("delay 0.1 s, 1/host", replace(default, delay=0.1), servers[:1], 30),
        ("no delay, 1/host", replace(default, delay=0.0), servers[:1], 300),
        (f"no delay, 4/host, {args.hosts} hosts", replace(default, delay=0.0, per_host=4), servers, 300),
    ]
    print(f"{'setting':<34} {'pages':>6} {'pages/s':>9}")
    try:
        for label, config, hosts, pages in rows:
            rate = asyncio.run(run(config, hosts, pages))
            print(f"{label:<34} {pages * len(hosts):>6} {rate:>9.2f}")
    finally:
        for server in servers:
            server.stop()
    print(f"\npage size {len(PAGE)} bytes; User-Agent {default.user_agent}")


if __name__ == "__main__":
    main()
