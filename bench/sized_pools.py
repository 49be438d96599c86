"""Training pools from indexes of 20 to 2,000 items: what a confidence that knows the index
size learns from.

The same claim scored against a small index leads the rest by more, and takes more of the
softmax, than against the full corpus, because little else in a small index is near it. A
confidence fitted on full-corpus pools alone therefore reads a loose first hit in a small index
as a match (``bench/small_index.py``). This module gives ``train_reranker.py --sizes`` pools of
small indexes, built and searched through the library exactly as ``pools.collect`` does the
full ones, each with the number of items its index holds.

Only the *train* side is read (``pools.split_of``): each index holds half fact-checks of
training claims and half other items of the same corpus (``small_index.sample_small``, the
sampling the evaluation uses on the unseen side), and every training claim whose fact-check is
in it gives a pool (at most ``MAX_QUERIES`` per index). The held-out situation is that pool
without its fact-check (``Pool.without_relevant``), as for the full corpus. Training claims are
also searched in small indexes of a corpus in the other language (``ACROSS``), where nothing
is relevant.

Cached in ``bench/.cache`` keyed by this code, ``pools.py`` and the model's vectors; the first
run builds 90 indexes (~2 min with a warm embedding cache).
"""

from __future__ import annotations

import hashlib
import pickle
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CACHE, LOADERS, ROOT, CachingEmbedder, DataSet, Query, log, query_form, second_view_cache,
)
from pools import DEPTH, Pool, attach_inputs, split_of  # noqa: E402
from retrieval import build  # noqa: E402
from small_index import sample_small, side_queries  # noqa: E402

from factcheck import FactChecker  # noqa: E402
from factcheck.lookup import hybrid_search  # noqa: E402
from factcheck.rerank import FeatureBuilder  # noqa: E402

SETS = ("turnbackhoax", "clef2020", "clef2022")
SIZES = (20, 50, 200, 500, 1000, 2000)
SEEDS = 3
MAX_QUERIES = 400
#: Claims against a small index of a corpus in another language, where nobody checked them: in
#: a small index such a first hit leads the rest as a right one does, and only these rows teach
#: the confidence that it is not a match. corpus -> the corpus its claims are searched in.
ACROSS = {"turnbackhoax": "clef2020", "clef2020": "turnbackhoax", "clef2022": "turnbackhoax"}
ACROSS_SIZES = (20, 50, 200, 1000)
ACROSS_QUERIES = 150


@dataclass
class SizedPool:
    """A training pool, the number of items in the index it was searched in, and whether that
    index is of another language's corpus (then nothing in it is relevant)."""

    pool: Pool
    n_items: int
    seed: int
    across: bool = False


def collect_sized(embedder: CachingEmbedder, sets: tuple[str, ...] = SETS,
                  sizes: tuple[int, ...] = SIZES, seeds: int = SEEDS) -> list[SizedPool]:
    second = second_view_cache(verbose=False)
    tmp = Path(tempfile.mkdtemp(prefix="fc-sized-"))
    out: list[SizedPool] = []
    n = 0
    for name in sets:
        ds = LOADERS[name]()
        other = LOADERS[ACROSS[name]]()
        corpus = sorted(other.key_of(i.url) for i in other.items)
        train = side_queries(ds, "train")
        t0 = time.perf_counter()
        for seed in range(seeds):
            # (corpus indexed, its keys, the claims searched, the other corpus' name or "")
            jobs: list[tuple[DataSet, set[str], list[Query], str]] = []
            for size in sizes:
                rng = random.Random(f"sized:{seed}:{name}:{size}")
                keys, positives, _ = sample_small(ds, train, size, MAX_QUERIES, rng)
                jobs.append((ds, keys, positives, ""))
            for size in ACROSS_SIZES:
                rng = random.Random(f"across:{seed}:{name}:{size}")
                keys = set(rng.sample(corpus, size))
                jobs.append((other, keys, rng.sample(train, min(ACROSS_QUERIES, len(train))),
                             other.name))
            for indexed, keys, queries, across in jobs:
                n += 1
                items = [i for i in indexed.items if indexed.key_of(i.url) in keys]
                checker, _ = build(DataSet(indexed.name, items), embedder, tmp / f"{name}-{n}",
                                   second)
                out += _pools(checker, ds, queries, embedder, second, seed, across)
                checker.close()
        log(f"[{name}] {seeds} x {len(sizes)} sized indexes, {seeds} x {len(ACROSS_SIZES)} of "
            f"{ACROSS[name]} {time.perf_counter() - t0:.0f}s")
    return out


def _pools(checker: FactChecker, ds: DataSet, queries: list[Query], embedder: CachingEmbedder,
           second: CachingEmbedder, seed: int, across: str = "") -> list[SizedPool]:
    """``across``: the index is of that corpus, whose keys are prefixed so none is relevant."""
    keys = {i: f"{across}:{ds.key_of(u)}" if across else ds.key_of(u)
            for i, u in checker.store.conn.execute("SELECT id, url FROM items")}
    n_items = checker.store.count()
    texts = [query_form(q.text) for q in queries]
    vectors = embedder.embed_queries(texts)
    seconds = second.embed_queries(texts)
    fb = FeatureBuilder(checker.store, second)
    part_of = {id(q): part for part, qs in ds.splits.items() for q in qs}
    out = []
    for q, text, vec, sec in zip(queries, texts, vectors, seconds):
        part = part_of[id(q)]
        ranked = hybrid_search(checker.store, checker.index, text, vec, limit=DEPTH,
                               params=checker.fusion)
        pool = Pool(ds.name, split_of(ds.name, part, q), part, q.qid, text, q.relevant,
                    [keys[r[0]] for r in ranked], list(ranked))
        attach_inputs(pool, fb, sec)
        out.append(SizedPool(pool, n_items, seed, bool(across)))
    return out


def load_sized(embedder: CachingEmbedder, refresh: bool = False) -> list[SizedPool]:
    """The sized training pools for ``embedder``'s vectors, from the cache when there."""
    code = "".join((ROOT / p).read_text() for p in (
        "bench/sized_pools.py", "bench/pools.py", "factcheck/text.py", "factcheck/lookup.py",
        "factcheck/store.py")) + embedder.cache_key
    path = CACHE / f"sized-pools-{hashlib.sha256(code.encode()).hexdigest()[:16]}.pkl"
    if path.exists() and not refresh:
        return pickle.loads(path.read_bytes())
    pools = collect_sized(embedder)
    path.write_bytes(pickle.dumps(pools))
    return pools


if __name__ == "__main__":
    import sized_pools  # pickled under its module name, not __main__'s  # noqa: E402

    from factcheck.embedding import get_embedder

    model = sys.argv[1] if len(sys.argv) > 1 else None
    got = sized_pools.load_sized(CachingEmbedder(get_embedder(model) if model else None))
    log(f"{len(got)} sized pools")
