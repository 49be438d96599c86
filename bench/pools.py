"""Candidate pools with re-ranker features for every query of the dev sets, and the split.

Shared by ``train_reranker.py`` (fits the weights) and ``quality.py`` (reports them). A pool is
what ``FactChecker.check`` re-ranks: a selection from the fused list of the library's own
``hybrid_search`` over an index built with the library (``retrieval.build``); embeddings come
from the bench cache, so nothing is re-embedded once the cache is warm.

The split (fixed, by ID, never by result):

* train: CLEF2020 ``train``, CLEF2022 ``train``, turnbackhoax rows with an even ``ID``;
* test:  CLEF2020 ``dev``, CLEF2022 ``dev``, turnbackhoax rows with an odd ``ID``;
* excluded: the 197 CLEF2022 ``train`` tweets that are CLEF2020 ``dev`` tweets (CLEF2022
  ``train`` is CLEF2020 ``train`` + ``dev``): never trained on (``common.split_of``).

The re-ranker and its confidence model never see a test query; turnbackhoax has no official
split, so its halves are by ID parity (IDs are scrape row numbers, spread over the year).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, CachingEmbedder, DataSet, log, query_form, second_view_cache, split_of,
)
from retrieval import build  # noqa: E402

from factcheck import FactChecker  # noqa: E402
from factcheck.lookup import hybrid_search  # noqa: E402
from factcheck.rerank import Candidate, FeatureBuilder, FeatureInputs, select_pool  # noqa: E402

#: The re-ranked pool: fused top RERANK_POOL + the top EXTRA of each retriever alone
#: (``factcheck.rerank.select_pool``). The whole fused list is kept so that the held-out
#: evaluation (true item dropped) selects its pool exactly as the library would.
#: Bump when what a Pool stores changes (FeatureBuilder inputs, select_pool): keys the cache.
POOLS_VERSION = 5
RERANK_POOL = 30
EXTRA = 10
DEPTH = 1000


@dataclass
class Pool:
    set: str
    split: str  # "train", "test" or "excluded" (common.split_of)
    part: str  # the data set's own split name (all/train/dev)
    qid: str
    text: str
    relevant: set[str]
    keys: list[str]
    ranked: list[tuple[int, float, float, float]]  # hybrid_search's whole fused list
    inputs: FeatureInputs | None = None
    keyword_top: list[str] = field(default_factory=list)  # BM25-only ranking (top 10)
    dense_top: list[str] = field(default_factory=list)  # cosine-only ranking (top 10)

    @property
    def feats(self) -> np.ndarray:
        assert self.inputs is not None
        return self.inputs.features(self.candidates)

    @property
    def candidates(self) -> list[Candidate]:
        return [Candidate(r[0], r[3], r[2]) for r in self.ranked]

    def labels(self) -> np.ndarray:
        return np.array([k in self.relevant for k in self.keys], dtype=bool)

    def without_relevant(self) -> "Pool":
        """The pool as it would be if the true item(s) were not in the index."""
        keep = [i for i, k in enumerate(self.keys) if k not in self.relevant]
        return Pool(self.set, self.split, self.part, self.qid, self.text, self.relevant,
                    [self.keys[i] for i in keep], [self.ranked[i] for i in keep], self.inputs,
                    self.keyword_top, self.dense_top)

    def selected(self, fused: int = RERANK_POOL, extra: int = EXTRA) -> "Pool":
        """The pool the library re-ranks (see ``select_pool``)."""
        chosen = {r[0] for r in select_pool(self.ranked, fused, extra)}
        keep = [i for i, r in enumerate(self.ranked) if r[0] in chosen]
        return Pool(self.set, self.split, self.part, self.qid, self.text, self.relevant,
                    [self.keys[i] for i in keep], [self.ranked[i] for i in keep], self.inputs,
                    self.keyword_top, self.dense_top)


def attach_inputs(pool: Pool, fb: FeatureBuilder, second_query: np.ndarray) -> None:
    """What the features read for both situations the benches score: the pool as the library
    selects it, and the same without its relevant item(s)."""
    needed = {c.item_id: c for c in pool.selected().candidates}
    needed.update((c.item_id, c) for c in pool.without_relevant().selected().candidates)
    pool.inputs = fb.inputs(pool.text, list(needed.values()), second_query)


def collect(names: list[str], embedder: CachingEmbedder | None = None,
            with_features: bool = True) -> tuple[list[Pool], dict[str, FactChecker]]:
    """Pools for every query of the named sets; indexes are built in a temp dir kept open."""
    embedder = embedder or CachingEmbedder()
    second = second_view_cache()
    tmp = Path(tempfile.mkdtemp(prefix="fc-pools-"))
    pools: list[Pool] = []
    checkers: dict[str, FactChecker] = {}
    for name in names:
        ds: DataSet = LOADERS[name]()
        checker, secs = build(ds, embedder, tmp / name, second)
        checkers[name] = checker
        keys = {i: ds.key_of(u) for i, u in checker.store.conn.execute("SELECT id, url FROM items")}
        queries = [(part, q) for part, qs in ds.splits.items() for q in qs]
        vectors = embedder.embed_queries([query_form(q.text) for _, q in queries])
        seconds = dict(zip((q.qid for _, q in queries),
                           second.embed_queries([query_form(q.text) for _, q in queries])))
        fb = FeatureBuilder(checker.store, second)
        t0 = time.perf_counter()
        for (part, q), vec in zip(queries, vectors):
            text = query_form(q.text)
            ranked = hybrid_search(checker.store, checker.index, text, vec, limit=DEPTH,
                                   params=checker.fusion)
            pool = Pool(name, split_of(name, part, q), part, q.qid, text, q.relevant,
                        [keys[r[0]] for r in ranked], list(ranked))
            for mode, target in (("keyword", pool.keyword_top), ("dense", pool.dense_top)):
                single = hybrid_search(checker.store, checker.index, text, vec, limit=10,
                                       params=checker.fusion, mode=mode)
                target.extend(keys[r[0]] for r in single)
            pools.append(pool)
        log(f"[{name}] index {secs:.1f}s, {len(queries)} pools "
            f"{time.perf_counter() - t0:.1f}s")
        if with_features:
            t0 = time.perf_counter()
            for pool in pools:
                if pool.set == name:
                    attach_inputs(pool, fb, seconds[pool.qid])
            log(f"[{name}] features {time.perf_counter() - t0:.1f}s")
    return pools, checkers


