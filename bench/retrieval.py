"""Retrieval quality of ``FactChecker.check``: MAP@5, P@1 and Success@10 per mode and data set.

Every number goes through the real library path: an index is built with ``FactChecker.open`` +
``add_items`` (items = the fact-check targets), and each query is answered by
``checker.check(query, limit=10, mode=...)`` for mode keyword (BM25 only), dense and hybrid.
Embeddings come from the default embedder through a disk cache (``bench/.cache``), so only the
first run pays for embedding (~10 min for all three sets on 2 cores).

MAP@5 is the CLEF CheckThat! definition (trectools ``get_map(depth=5)``): for each query the sum
of precision@k at every rank k <= 5 holding a relevant item, divided by the number of relevant
items of the query; averaged over queries.

    .venv/bin/python bench/retrieval.py                       # all sets, all queries
    .venv/bin/python bench/retrieval.py --sets clef2020 --sample 200
    .venv/bin/python bench/retrieval.py --sweep               # tune FusionParams on these sets
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, CachingEmbedder, DataSet, Query, log, query_form, second_view_cache, table,
)

from factcheck import FactChecker  # noqa: E402
from factcheck.embedding import get_embedder  # noqa: E402
from factcheck.lookup import FusionParams, hybrid_search  # noqa: E402

MODES = ("keyword", "dense", "hybrid")
#: (set, split) -> minimum hybrid MAP@5
TARGETS = {("turnbackhoax", "all"): 0.82, ("clef2020", "dev"): 0.80}
SWEEP_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SWEEP_POOLS = (25, 50, 100, 200)


# -- metrics -----------------------------------------------------------------------------


def average_precision(ranked: list[str], relevant: set[str], depth: int = 5) -> float:
    hits, total = 0, 0.0
    for k, key in enumerate(ranked[:depth], start=1):
        if key in relevant:
            hits += 1
            total += hits / k
    return total / len(relevant) if relevant else 0.0


def metrics(runs: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    n = len(runs) or 1
    return {
        "map@5": sum(average_precision(r, rel) for r, rel in runs) / n,
        "p@1": sum(1.0 for r, rel in runs if r[:1] and r[0] in rel) / n,
        "success@10": sum(1.0 for r, rel in runs if rel & set(r[:10])) / n,
        "queries": len(runs),
    }


# -- index -------------------------------------------------------------------------------


def build(ds: DataSet, embedder: CachingEmbedder, directory: Path,
          second_view: CachingEmbedder | None = None) -> tuple[FactChecker, float]:
    """An index of the data set built through the library; every item also gets its
    second-view vector (the re-ranker reads it), from the cache when ``second_view`` is one."""
    t0 = time.perf_counter()
    checker = FactChecker.open(directory, create=True, embedder=embedder, second_view=second_view)
    checker.add_items(ds.items)
    checker.embed_second_view()  # add_items skips them while no valid re-ranker is bundled
    return checker, time.perf_counter() - t0


def sample_splits(ds: DataSet, n: int | None, seed: int) -> dict[str, list[Query]]:
    if not n:
        return ds.splits
    out = {}
    for split, queries in ds.splits.items():
        out[split] = random.Random(f"{seed}:{ds.name}:{split}").sample(queries, n) \
            if len(queries) > n else queries
    return out


def evaluate(checker: FactChecker, ds: DataSet, queries: list[Query], mode: str) -> dict[str, float]:
    runs = []
    t0 = time.perf_counter()
    for q in queries:
        result = checker.check(q.text, limit=10, mode=mode)
        runs.append(([ds.key_of(h.item.url) for h in result.hits], q.relevant))
    out = metrics(runs)
    out["ms_per_query"] = 1000 * (time.perf_counter() - t0) / max(1, len(queries))
    return out


# -- sweep -------------------------------------------------------------------------------


class _MemoStore:
    """Answers keyword searches from one search at the largest pool (a prefix is the same)."""

    def __init__(self, store: object, pool: int) -> None:
        self._store, self._pool, self._memo = store, pool, {}

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def keyword_search(self, terms, limit, filters=None, **kw):  # type: ignore[no-untyped-def]
        key = tuple(terms)
        if key not in self._memo:
            self._memo[key] = self._store.keyword_search(terms, max(limit, self._pool), filters, **kw)
        return self._memo[key][:limit]


class _MemoIndex:
    """Answers vector searches from one search at the largest pool, caching exact scores."""

    def __init__(self, index: object, pool: int) -> None:
        self._index, self._pool, self._top, self._scores = index, pool, {}, {}

    def __len__(self) -> int:
        return len(self._index)

    def __getattr__(self, name: str) -> object:
        return getattr(self._index, name)

    def search(self, query, k, allowed=None):  # type: ignore[no-untyped-def]
        key = query.tobytes()
        if key not in self._top:
            self._top[key] = self._index.search(query, max(k, self._pool), allowed)
        return self._top[key][:k]

    def scores(self, query, ids):  # type: ignore[no-untyped-def]
        known = self._scores.setdefault(query.tobytes(), {})
        todo = [i for i in ids if i not in known]
        if todo:
            known.update(self._index.scores(query, todo))
        return {i: known[i] for i in ids if i in known}


def sweep(checker: FactChecker, ds: DataSet, queries: list[Query],
          weights=SWEEP_WEIGHTS, pools=SWEEP_POOLS) -> dict[tuple[float, int], float]:
    """MAP@5 of the real ``hybrid_search`` for each (keyword_weight, pool)."""
    store, index = _MemoStore(checker.store, max(pools)), _MemoIndex(checker.index, max(pools))
    keys = {i: ds.key_of(url) for i, url in checker.store.conn.execute("SELECT id, url FROM items")}
    texts = [query_form(q.text) for q in queries]
    vectors = checker.embedder.embed_queries(texts)
    out = {}
    for pool in pools:
        for w in weights:
            params = FusionParams(keyword_weight=w, pool=pool)
            runs = []
            for q, text, vec in zip(queries, texts, vectors):
                ranked = hybrid_search(store, index, text, vec, limit=10, params=params)
                runs.append(([keys[r[0]] for r in ranked], q.relevant))
            out[(w, pool)] = metrics(runs)["map@5"]
    return out


class _TruncatingEmbedder:
    """Emulates a core change: queries are cut to ``chars`` characters before embedding."""

    def __init__(self, inner: CachingEmbedder, chars: int) -> None:
        self.inner, self.chars = inner, chars
        self.model_id, self.dim = inner.model_id, inner.dim

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries([t[:self.chars] for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", choices=list(LOADERS), default=list(LOADERS))
    ap.add_argument("--sample", type=int, help="at most N queries per split (fixed seed)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--sweep", action="store_true",
                    help="also sweep FusionParams keyword_weight x pool (tuning: dev/train sets)")
    ap.add_argument("--weights", type=float, nargs="+", default=list(SWEEP_WEIGHTS),
                    help="keyword_weight values for --sweep (default 0.3 .. 0.9)")
    ap.add_argument("--pools", type=int, nargs="+", default=list(SWEEP_POOLS),
                    help="pool sizes for --sweep (default 25 50 100 200)")
    ap.add_argument("--json", action="store_true", help="print one JSON document, no tables")
    ap.add_argument("--embed-chars", type=int,
                    help="experiment: embed only the first N characters of each query (the "
                         "keyword side still sees the whole claim); check() itself uses 2000")
    ap.add_argument("--model", help="embedder model id (default: the default model), e.g. "
                                    "factcheck/e5-small-claims-v1")
    args = ap.parse_args(argv)

    embedder = CachingEmbedder(get_embedder(args.model) if args.model else None)
    if args.embed_chars:
        embedder = _TruncatingEmbedder(embedder, args.embed_chars)
    default = FusionParams()
    results: list[dict] = []
    sweeps: dict[str, dict[tuple[float, int], float]] = {}
    builds = []
    with tempfile.TemporaryDirectory(prefix="fc-bench-") as tmp:
        for name in args.sets:
            ds = LOADERS[name]()
            splits = sample_splits(ds, args.sample, args.seed)
            log(f"[{name}] {len(ds.items)} items; queries: "
                + ", ".join(f"{s}={len(q)}" for s, q in splits.items()))
            misses0 = embedder.misses
            checker, secs = build(ds, embedder, Path(tmp) / name, second_view_cache(False))
            builds.append({"set": name, "items": checker.store.count(), "build_s": secs,
                           "embedded": embedder.misses - misses0})
            # embed every query in one batch (cached); check() then finds them in the cache
            embedder.embed_queries([query_form(q.text) for qs in splits.values() for q in qs])
            for split, queries in splits.items():
                for mode in MODES:
                    log(f"[{name}/{split}] {mode} ...")
                    m = evaluate(checker, ds, queries, mode)
                    results.append({"set": name, "split": split, "mode": mode, **m})
                if args.sweep:
                    log(f"[{name}/{split}] sweep ...")
                    s = sweeps[f"{name}/{split}"] = sweep(checker, ds, queries, args.weights,
                                                              args.pools)
                    cfg = (default.keyword_weight, default.pool)
                    if cfg in s and abs(s[cfg] - results[-1]["map@5"]) > 1e-6:
                        log(f"warning: sweep at the default {cfg} gives MAP@5 {s[cfg]:.4f}, "
                            f"check() gave {results[-1]['map@5']:.4f} (ties ordered differently)")
            checker.close()

    checks = _checks(results)
    if args.json:
        print(json.dumps({
            "fusion_default": {"keyword_weight": default.keyword_weight, "pool": default.pool},
            "sample": args.sample, "seed": args.seed, "embed_chars": args.embed_chars,
            "builds": builds, "results": results,
            "targets": checks,
            "sweep": {k: [{"keyword_weight": w, "pool": p, "map@5": v}
                          for (w, p), v in s.items()] for k, s in sweeps.items()},
            "recommended": _recommend(sweeps) if sweeps else None,
        }, indent=2))
        return 0

    print(f"Retrieval quality via FactChecker.check(limit=10); fusion default "
          f"keyword_weight={default.keyword_weight} pool={default.pool}; model "
          f"{embedder.model_id}"
          + (f"; queries embedded from their first {args.embed_chars} chars"
             if args.embed_chars else "")
          + (f"; sample {args.sample}/split, seed {args.seed}"
                                    if args.sample else "; all queries"))
    print()
    print(table(["set", "items", "build s", "newly embedded"],
                [[b["set"], b["items"], f"{b['build_s']:.1f}", b["embedded"]] for b in builds]))
    print()
    print(table(
        ["set", "split", "queries", "mode", "MAP@5", "P@1", "Success@10", "ms/query"],
        [[r["set"], r["split"], r["queries"], r["mode"], r["map@5"], r["p@1"], r["success@10"],
          f"{r['ms_per_query']:.1f}"] for r in results],
    ))
    print()
    print(table(["target", "measured", "result"],
                [[c["target"], c["measured"], "PASS" if c["pass"] else "FAIL"] for c in checks]))
    if sweeps:
        _print_sweep(sweeps)
    return 0


def _checks(results: list[dict]) -> list[dict]:
    by = {(r["set"], r["split"], r["mode"]): r["map@5"] for r in results}
    out = []
    for (name, split), goal in TARGETS.items():
        if (name, split, "hybrid") in by:
            v = by[(name, split, "hybrid")]
            out.append({"target": f"hybrid MAP@5 {name}/{split} >= {goal:.2f}",
                        "measured": f"{v:.4f}", "pass": v >= goal})
    for (name, split, mode), v in by.items():
        if mode == "hybrid" and (name, split, "keyword") in by:
            kw = by[(name, split, "keyword")]
            out.append({"target": f"hybrid >= keyword MAP@5 on {name}/{split}",
                        "measured": f"{v:.4f} vs {kw:.4f} ({v - kw:+.4f})", "pass": v >= kw})
    return out


def _recommend(sweeps: dict[str, dict[tuple[float, int], float]]) -> dict:
    """The setting with the smallest worst-case loss to each set's own best (then best mean).

    Each data set counts once (its splits are averaged), so the larger set cannot dominate.
    """
    per_set: dict[str, dict[tuple[float, int], list[float]]] = {}
    for key, s in sweeps.items():
        for cfg, v in s.items():
            per_set.setdefault(key.split("/")[0], {}).setdefault(cfg, []).append(v)
    avg = {n: {c: float(np.mean(v)) for c, v in d.items()} for n, d in per_set.items()}
    configs = sorted(next(iter(avg.values())))

    def score(cfg: tuple[float, int]) -> tuple[float, float]:
        regret = max(max(d.values()) - d[cfg] for d in avg.values())
        mean = float(np.mean([d[cfg] for d in avg.values()]))
        return (round(regret, 4), -mean)

    best = min(configs, key=score)
    regret, neg_mean = score(best)
    return {"keyword_weight": best[0], "pool": best[1], "max_regret": regret,
            "mean_map@5": -neg_mean,
            "per_set": {n: d[best] for n, d in avg.items()},
            "per_set_best": {n: dict(zip(("keyword_weight", "pool", "map@5"),
                                         (*max(d, key=d.get), max(d.values()))))
                             for n, d in avg.items()}}


def _print_sweep(sweeps: dict[str, dict[tuple[float, int], float]]) -> None:
    for key, s in sweeps.items():
        weights = sorted({w for w, _ in s})
        pools = sorted({p for _, p in s})
        best = max(s, key=s.get)
        print()
        print(table(
            ["keyword_weight"] + [f"pool={p}" for p in pools],
            [[f"{w:.1f}"] + [s[(w, p)] for p in pools] for w in weights],
            title=f"Sweep MAP@5 (hybrid) {key}: best keyword_weight={best[0]} pool={best[1]} "
                  f"MAP@5={s[best]:.4f}",
        ))
    rec = _recommend(sweeps)
    print()
    print(f"Recommended default (smallest worst-case loss vs each set's best, sets weighted "
          f"equally): keyword_weight={rec['keyword_weight']} pool={rec['pool']} "
          f"(max loss {rec['max_regret']:.4f}, mean MAP@5 {rec['mean_map@5']:.4f})")
    print(table(["set", "MAP@5 at recommended", "set's own best", "best at"],
                [[n, rec["per_set"][n], b["map@5"], f"w={b['keyword_weight']} pool={b['pool']}"]
                 for n, b in rec["per_set_best"].items()]))


if __name__ == "__main__":
    sys.exit(main())
