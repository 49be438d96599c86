"""``bench/train_reranker.py`` with the size-aware confidence: the size bands and their rule.

The shipped thresholds are chosen so that the held-out false-match rate holds in *every* index
size band; a rule that pooled the bands would let the many full-corpus rows hide a small band
that breaks it, so that is pinned here on hand-made rows, with the rows' size column.
"""

from __future__ import annotations

import math

import numpy as np

from bench import train_reranker as tr
from bench.pools import Pool
from bench.sized_pools import SizedPool
from factcheck.rerank import CONF_FEATURES, FeatureInputs, Reranker
from tests.test_rerank import size_aware_spec


def _pool(qid: str = "1") -> Pool:
    """Two candidates, the first the claim's own fact-check."""
    ranked = [(1, 1.0, 0.9, 2.0), (2, 0.5, 0.8, 1.0)]
    inputs = FeatureInputs(["chip", "vaksin"], {1: ["chip", "vaksin"], 2: ["banjir"]},
                           {"chip": 2.0, "vaksin": 1.0, "banjir": 2.0}, 3.0)
    return Pool("turnbackhoax", "train", "all", qid, "query: vaksin chip", {"a"}, ["a", "b"],
                ranked, inputs)


def test_bands_of_sized_pools() -> None:
    assert tr.size_band(None) == 0  # the full corpus
    assert [tr.size_band(n) for n in (20, 200, 201, 1000, 2000, 5000)] == [
        200, 200, 1000, 1000, 2000, 2000]
    assert tr.band_of(SizedPool(_pool(), 50, 0)) == 200
    assert tr.band_of(SizedPool(_pool(), 50, 0, across=True)) == tr.ACROSS_BAND


def test_match_threshold_holds_in_every_band() -> None:
    # full corpora: 300 held-out rows, 12 leading at 0.5; a small band: 100 rows, 6 at 0.8
    conf = np.array([0.5] * 12 + [0.1] * 288 + [0.8] * 6 + [0.1] * 94)
    false = np.ones(len(conf), dtype=bool)
    bands = np.array([0] * 300 + [200] * 100)
    assert tr._pair(conf, false, 0.04)["match"] == 0.51  # pooled, 6 of 400 is 1.5%
    assert tr._pair(conf, false, 0.04, bands)["match"] == 0.81  # the small band alone: 6%


def test_pick_thresholds_drops_thin_bands_from_a_language_pair() -> None:
    n = 400
    conf = np.full(n + 50, 0.1)
    conf[n:] = 0.9  # a thin English band whose rows all lead: too few to bind the en pair
    held = np.ones(n + 50, dtype=bool)
    langs = np.array(["en"] * (n + 50))
    bands = np.array([0] * n + [200] * 50)
    th = tr.pick_thresholds(conf, held, langs, bands=bands)
    assert th["languages"]["en"]["match"] == 0.11  # type: ignore[index]
    assert th["match"] == 0.91  # the shared pair still holds in the thin band


def test_top_rows_add_the_index_size_only_for_a_size_aware_confidence() -> None:
    reranker = Reranker(size_aware_spec(0.0))
    x, y, held, _, _ = tr.top_rows(reranker, [_pool()], [37])
    assert x.shape == (2, len(CONF_FEATURES) + 1)
    assert np.allclose(x[:, -1], math.log(37))
    assert y.tolist() == [1.0, 0.0] and held.tolist() == [False, True]
    plain, *_ = tr.top_rows(reranker, [_pool()])
    assert plain.shape == (2, len(CONF_FEATURES))


def test_unseen_sized_pools_come_from_the_embedder_that_did_not_see_the_claim() -> None:
    qids = [str(i) for i in range(40)]
    own = [SizedPool(_pool(q), 200, 0) for q in qids]
    twin = [SizedPool(_pool(q), 200, 0) for q in qids]
    half = {q for q in qids if tr.reranker_only("turnbackhoax", q)}
    assert 0 < len(half) < len(qids)
    alone = tr.unseen_sized(own, None)  # the held-back half only
    assert [s.pool.qid for s in alone] == [q for q in qids if q in half]
    assert all(any(s is o for o in own) for s in alone)
    both = tr.unseen_sized(own, twin)  # cross-fitting: every claim once, from the right side
    assert sorted(s.pool.qid for s in both) == sorted(qids)
    for s in both:
        assert any(s is x for x in (own if s.pool.qid in half else twin))


def test_a_stricter_judged_target_raises_the_match_bar() -> None:
    """``--judged-target``: 3 of 100 held-out first hits lead at 0.9 and none is judged the
    same claim; 3% lets them be matches, 2% must not."""
    conf = np.array([0.9] * 3 + [0.1] * 97)
    held = np.ones(100, dtype=bool)
    langs = np.array([""] * 100)
    same = np.zeros(100, dtype=bool)
    loose = tr.pick_thresholds(conf, held, langs, same)
    assert loose == tr.pick_thresholds(conf, held, langs, same, judged_target=0.03)
    strict = tr.pick_thresholds(conf, held, langs, same, judged_target=0.02)
    assert float(loose["match"]) <= 0.9 < float(strict["match"])  # type: ignore[arg-type]
    same[:3] = True  # judged fact-checks of the same claim: not false matches at any target
    assert float(tr.pick_thresholds(conf, held, langs, same, judged_target=0.02)["match"]) <= 0.9  # type: ignore[arg-type]
