"""The ranking pipeline: named results, tier decisions, thresholds, and index injection."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from factcheck import FactChecker, FactcheckError, Thresholds, Tier
from factcheck.config import (
    ENV_THRESHOLDS, FALLBACK_THRESHOLDS, MODEL_THRESHOLDS, thresholds_for,
)
from factcheck.embedding import DEFAULT_MODEL
from factcheck.errors import IndexCorrupt, ModelMismatch, RerankerError
from factcheck.lookup import hybrid_search
from factcheck.models import CheckResult
from factcheck.ranking import (
    RERANK_DEPTH, Decision, Fused, FusionParams, QueryVectors, Ranking, RankingPipeline,
    RankingSettings, Reranked, fuse, resolve_thresholds, select_pool, tier_for,
)
from factcheck.rerank import Reranker, bundled_reranker
from factcheck.rerank import RerankerError as RerankerErrorFromRerank
from factcheck.rerank import select_pool as select_pool_tuples
from factcheck.store import Filters
from indexes.base import IndexFactory, VectorIndex
from indexes.faiss_index import INDEX_NAME

from .conftest import SAMPLE
from .fakes import HashEmbedder, UnloadableEmbedder
from .test_rerank import ITEMS, spec

KATULAMPA = "Bendungan Katulampa jebol dan Jakarta banjir besar"


@pytest.fixture
def sample() -> FactChecker:
    fc = FactChecker.in_memory(HashEmbedder())
    fc.add_items(SAMPLE)
    return fc


def pipeline_of(fc: FactChecker, thresholds: Thresholds | None = None,
                reranker: Reranker | None = None) -> RankingPipeline:
    """A pipeline of its own over the checker's store and index."""
    return RankingPipeline(fc.store, fc.index, fc.embedder, thresholds, fc.fusion, reranker,
                           fc.second_view)


def first_cosine(fc: FactChecker, claim: str) -> float:
    [ranking] = fc.ranking.rank_claims([claim], limit=1, filters=None)
    return ranking.hits[0].dense


# -- named results ---------------------------------------------------------------------------


def test_every_step_returns_named_results(sample: FactChecker) -> None:
    pipe = pipeline_of(sample)
    vectors = pipe.embed([KATULAMPA, "listrik gratis"], "hybrid", rerank=True)
    assert isinstance(vectors, QueryVectors) and vectors.degraded is None
    assert vectors.main is not None and vectors.main.shape == (2, sample.embedder.dim)
    assert vectors.second is None  # nothing is re-ranked without a re-ranker
    fused = pipe.retrieve(KATULAMPA, vectors.main_of(0), depth=3, filters=None, mode="hybrid")
    assert len(fused) == 3 and all(isinstance(f, Fused) for f in fused)
    best = fused[0]
    assert sample.store.get_items([best.item_id])[best.item_id].source == "komdigi"
    assert best.score == 1.0 and best.keyword > 0 and best.cosine > 0.9
    assert [f.score for f in fused] == sorted((f.score for f in fused), reverse=True)
    assert best == Fused(best.item_id, best.score, best.cosine, best.keyword)
    with pytest.raises(AttributeError):
        best.extra = 1  # type: ignore[attr-defined]  # slots: only the four named fields
    [ranking] = pipe.rank_claims([KATULAMPA], limit=3, filters=None)
    assert isinstance(ranking, Ranking) and isinstance(ranking.thresholds, Thresholds)
    assert ranking.tier is Tier.MATCH and not ranking.reranked and ranking.confidence is None
    assert [h.rank for h in ranking.hits] == [1, 2, 3]
    assert ranking.hits[0].item.source == "komdigi"


def test_the_checker_answers_what_the_pipeline_ranks(sample: FactChecker) -> None:
    [ranking] = sample.ranking.rank_claims([KATULAMPA], limit=5, filters=Filters())
    result = ranking.result(sample.model_id)
    assert isinstance(result, CheckResult)
    assert result.to_dict() == sample.check(KATULAMPA).to_dict()
    # the checker's ranking attributes are the pipeline's, in both directions
    sample.thresholds = Thresholds(match=0.99, suggestion=0.98)
    assert sample.ranking.thresholds.match == 0.99
    assert sample.check(KATULAMPA).tier is Tier.NONE  # 0.94 is now below both
    sample.ranking.fusion = FusionParams(keyword_weight=0.0, pool=100)
    assert sample.fusion.keyword_weight == 0.0
    assert not hasattr(sample, "_answer") and not hasattr(sample, "_embed_claims")


def test_fuse_agrees_with_the_tuple_form_of_the_benches(sample: FactChecker) -> None:
    vector = sample.embedder.embed_queries(["vaksin covid chip 5G"])[0]
    for mode in ("hybrid", "keyword", "dense"):
        named = fuse(sample.store, sample.index, "vaksin covid chip 5G", vector, limit=10,
                     params=sample.fusion, mode=mode)
        tuples = hybrid_search(sample.store, sample.index, "vaksin covid chip 5G", vector,
                               limit=10, params=sample.fusion, mode=mode)
        assert [(f.item_id, f.score, f.cosine, f.keyword) for f in named] == tuples
        assert named
    keyword_only = fuse(sample.store, sample.index, "vaksin covid chip 5G", vector, limit=10,
                        mode="keyword")
    assert all(f.cosine == 0.0 for f in keyword_only)  # no dense side ran


def test_pool_keeps_what_one_retriever_alone_ranks_high() -> None:
    ranked = [Fused(i, 1.0 - i / 10, 0.1, 5.0) for i in range(8)]
    ranked.append(Fused(8, 0.05, 0.99, 0.0))  # dense alone ranks it first
    ranked.append(Fused(9, 0.01, 0.0, 50.0))  # BM25 alone ranks it first
    chosen = select_pool(ranked, fused=3, extra=1)
    assert [f.item_id for f in chosen] == [0, 1, 2, 8, 9]  # fused order kept
    as_tuples = [(f.item_id, f.score, f.cosine, f.keyword) for f in ranked]
    assert [r[0] for r in select_pool_tuples(as_tuples, 3, 1)] == [0, 1, 2, 8, 9]


# -- tiers ----------------------------------------------------------------------------------


def test_cosine_tiers_on_a_real_index(sample: FactChecker) -> None:
    cosine = first_cosine(sample, KATULAMPA)
    assert 0.5 < cosine < 1.0
    cases = [
        (Thresholds(match=cosine - 0.01, suggestion=cosine - 0.02), Tier.MATCH),
        (Thresholds(match=cosine + 0.01, suggestion=cosine - 0.01), Tier.SUGGESTION),
        (Thresholds(match=cosine + 0.02, suggestion=cosine + 0.01), Tier.NONE),
    ]
    for thresholds, tier in cases:
        [ranking] = pipeline_of(sample, thresholds).rank_claims([KATULAMPA], limit=3,
                                                               filters=None)
        assert ranking.tier is tier, (thresholds, ranking.hits[0].dense)
        assert ranking.thresholds == thresholds


def test_keywords_alone_suggest_at_most(sample: FactChecker) -> None:
    pipe = pipeline_of(sample, Thresholds(match=0.0, suggestion=0.0))  # anything would match
    [found, nothing] = pipe.rank_claims([KATULAMPA, "zzzz qqqq"], limit=3, filters=None,
                                        mode="keyword")
    assert found.hits and found.tier is Tier.SUGGESTION
    assert not nothing.hits and nothing.tier is Tier.NONE
    # the same in hybrid mode when the model cannot embed the claim: keywords only, and why
    broken = FactChecker.in_memory(HashEmbedder())
    broken.add_items(SAMPLE)
    broken.embedder = UnloadableEmbedder()
    vectors = broken.ranking.embed([KATULAMPA], "hybrid", rerank=True)
    assert vectors == QueryVectors(degraded="model_unavailable")
    [ranking] = broken.ranking.rank_claims([KATULAMPA], limit=3, filters=None)
    assert ranking.degraded == "model_unavailable" and ranking.tier is Tier.SUGGESTION


def test_decide_uses_the_claim_languages_pair(sample: FactChecker) -> None:
    th = Thresholds(0.9, 0.8, cosine_languages=(("en", 0.3, 0.2),))
    pipe = pipeline_of(sample, th)
    hits = pipe.rank_claims(["They say the covid vaccine has a tracking chip"], limit=1,
                            filters=None)[0].hits
    assert 0.3 < hits[0].dense < 0.8
    english = pipe.decide(hits, "en", None)
    assert english == Decision(Tier.MATCH, Thresholds(0.3, 0.2), None)
    assert pipe.decide(hits, "id", None).tier is Tier.NONE  # the shared pair
    assert pipe.decide([], "en", None).tier is Tier.NONE
    [ranking] = pipe.rank_claims(["They say the covid vaccine has a tracking chip"], limit=1,
                                 filters=None)
    assert ranking.tier is Tier.MATCH and ranking.thresholds.match == 0.3


def test_reranked_confidence_decides_from_min_items_up() -> None:
    fc = FactChecker.in_memory(HashEmbedder())
    fc.add_items(ITEMS)
    th = Thresholds(0.2, 0.1, confidence_match=1.0, confidence_suggestion=1.0)
    small = pipeline_of(fc, th, Reranker(spec(min_items=1000)))
    big = pipeline_of(fc, th, Reranker(spec(min_items=1)))
    claim = "Katanya vaksin covid itu ada chip pelacak yang ditanam"
    vectors = big.embed([claim], "hybrid", rerank=True)
    assert vectors.second is not None  # the second view embeds the claim for the re-ranker
    fused = big.retrieve(claim, vectors.main_of(0), depth=RERANK_DEPTH, filters=None,
                         mode="hybrid")
    pool = big.pool(fused, limit=3)
    reranked = big.rerank(claim, pool, vectors.second_of(0))
    assert isinstance(reranked, Reranked)
    assert sorted(f.item_id for f in reranked.candidates) == sorted(f.item_id for f in pool)
    assert reranked.scores == sorted(reranked.scores, reverse=True)
    assert reranked.confidence is not None and 0.0 < reranked.confidence < 1.0
    assert reranked.language == "id"
    [by_confidence] = big.rank_claims([claim], limit=3, filters=None)
    assert by_confidence.reranked and by_confidence.confidence == reranked.confidence
    assert by_confidence.tier is Tier.NONE  # confidence < 1.0 although the cosine is > 0.2
    [by_cosine] = small.rank_claims([claim], limit=3, filters=None)
    assert by_cosine.reranked and by_cosine.confidence is None
    assert by_cosine.tier is Tier.MATCH  # below min_items the cosine decides
    [plain] = big.rank_claims([claim], limit=3, filters=None, rerank=False)
    assert not plain.reranked and plain.tier is Tier.MATCH


def test_tier_for_is_the_one_rule() -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.7, confidence_suggestion=0.3)
    assert tier_for(0.1, th, 0.7) is Tier.MATCH
    assert tier_for(0.99, th, 0.69) is Tier.SUGGESTION
    assert tier_for(0.99, th, 0.29) is Tier.NONE
    assert tier_for(0.9, th) is Tier.MATCH and tier_for(0.89, th) is Tier.SUGGESTION
    assert tier_for(0.79, th) is Tier.NONE and tier_for(None, th) is Tier.NONE


# -- thresholds: resolved in one place ------------------------------------------------------------


def test_confidence_thresholds_come_from_the_reranker_file_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_THRESHOLDS, raising=False)
    table = MODEL_THRESHOLDS[DEFAULT_MODEL]
    assert table.confidence_match is None and not table.languages  # not kept twice
    reranker = bundled_reranker(DEFAULT_MODEL)
    assert reranker is not None
    th = resolve_thresholds(DEFAULT_MODEL)
    assert th.confidence_match == reranker.thresholds["match"]
    assert th.confidence_suggestion == reranker.thresholds["suggestion"]
    assert {lang: (m, s) for lang, m, s in th.languages} == {
        lang: (pair["match"], pair["suggestion"])
        for lang, pair in reranker.thresholds["languages"].items()}
    assert (th.match, th.suggestion, th.cosine_languages) == (
        table.match, table.suggestion, table.cosine_languages)
    assert thresholds_for(DEFAULT_MODEL) == th  # the old name, the same answer
    assert resolve_thresholds("test-hash") == FALLBACK_THRESHOLDS  # no re-ranker, no table row
    monkeypatch.setenv(ENV_THRESHOLDS, "confidence_match=0.5")
    overridden = resolve_thresholds(DEFAULT_MODEL)
    assert overridden.confidence_match == 0.5 and not overridden.languages
    assert resolve_thresholds(DEFAULT_MODEL, env=False) == th


def test_settings_for_a_model() -> None:
    plain = RankingSettings.for_model("test-hash")
    assert plain == RankingSettings(FALLBACK_THRESHOLDS, FusionParams(), None)
    own = Reranker(spec())
    given = RankingSettings.for_model("test-hash", reranker=own, rerank=False,
                                      thresholds=Thresholds(0.5, 0.4))
    assert given.reranker is own and given.thresholds == Thresholds(0.5, 0.4)
    assert RankingSettings.for_model(DEFAULT_MODEL, rerank=False).reranker is None


def test_reranker_error_lives_in_errors() -> None:
    assert RerankerErrorFromRerank is RerankerError
    assert issubclass(RerankerError, FactcheckError) and RerankerError.exit_code == 5
    with pytest.raises(RerankerError):
        Reranker(spec(format=1))


# -- the vector index is injected --------------------------------------------------------------


class BruteForceIndex:
    """A second back-end in a few lines: numpy brute force, saved as one small file."""

    file_name = "vectors.brute"

    def __init__(self, path: Path | None, model_id: str, dim: int) -> None:
        self.path, self.model_id, self.dim, self.version = path, model_id, dim, 0
        self.ids: list[int] = []
        self.matrix = np.zeros((0, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, path: Path | None, model_id: str, dim: int, ids: np.ndarray,
              vectors: np.ndarray, version: int) -> BruteForceIndex:
        index = cls(path, model_id, dim)
        index.upsert([int(i) for i in ids], vectors, version)
        return index

    def upsert(self, ids: list[int], vectors: np.ndarray, version: int) -> None:
        if len(ids) and np.asarray(vectors).shape[1] != self.dim:
            raise ModelMismatch("wrong dimension")
        for item_id, vector in zip(ids, np.asarray(vectors, dtype=np.float32)):
            if item_id in self.ids:
                self.matrix[self.ids.index(item_id)] = vector
            else:
                self.ids.append(item_id)
                self.matrix = np.vstack([self.matrix, vector[None, :]])
        self.version = version

    def search(self, query: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        sims = self.matrix @ np.asarray(query, dtype=np.float32)
        keep = None if allowed is None else {int(i) for i in allowed}
        order = sorted(range(len(self.ids)), key=lambda r: (-sims[r], self.ids[r]))
        hits = [(self.ids[r], float(sims[r])) for r in order
                if keep is None or self.ids[r] in keep]
        return hits[:k]

    def scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        sims = self.matrix @ np.asarray(query, dtype=np.float32)
        return {i: float(sims[self.ids.index(i)]) for i in ids if i in self.ids}

    def save(self) -> None:
        if self.path is None:
            return
        header = json.dumps({"model": self.model_id, "dim": self.dim, "version": self.version,
                             "ids": self.ids}).encode()
        self.path.write_bytes(struct.pack("<Q", len(header)) + header + self.matrix.tobytes())

    @classmethod
    def load(cls, path: Path) -> BruteForceIndex:
        try:
            raw = path.read_bytes()
            (n,) = struct.unpack("<Q", raw[:8])
            header = json.loads(raw[8:8 + n])
        except (OSError, ValueError, struct.error) as exc:
            raise IndexCorrupt(str(exc)) from exc
        index = cls(path, header["model"], header["dim"])
        index.ids = list(header["ids"])
        index.matrix = np.frombuffer(raw[8 + n:], dtype=np.float32).reshape(-1, header["dim"])
        index.matrix = index.matrix.copy()
        index.version = header["version"]
        return index


def test_a_second_backend_is_one_class(tmp_path: Path) -> None:
    factory: IndexFactory = BruteForceIndex  # the class itself is the factory
    made: VectorIndex = BruteForceIndex(None, "m", 4)
    assert len(made) == 0
    claims = [KATULAMPA, "vaksin covid chip 5G", "listrik prabayar gratis setahun"]
    with FactChecker.open(tmp_path / "faiss", create=True, embedder=HashEmbedder()) as faiss_fc:
        faiss_fc.add_items(SAMPLE)
        expected = [faiss_fc.check(c).to_dict() for c in claims]
    directory = tmp_path / "brute"
    with FactChecker.open(directory, create=True, embedder=HashEmbedder(),
                          index_factory=factory) as fc:
        assert isinstance(fc.index, BruteForceIndex) and fc.index_factory is BruteForceIndex
        fc.add_items(SAMPLE)
        assert fc.ranking.index is fc.index and len(fc.index) == len(SAMPLE)
        assert [fc.check(c).to_dict() for c in claims] == expected
        assert fc.check_message("\n".join(claims)).results
    assert (directory / BruteForceIndex.file_name).exists()
    assert not (directory / INDEX_NAME).exists()  # FAISS was never asked
    with FactChecker.open(directory, embedder=HashEmbedder(), index_factory=factory) as again:
        assert again.repaired is None  # its own file, loaded by its own back-end
        assert isinstance(again.index, BruteForceIndex)
        assert [again.check(c).to_dict() for c in claims] == expected
        report = again.reindex()  # rebuilt from the store through the back-end too
        assert report.rebuilt_from_store and isinstance(again.index, BruteForceIndex)
    (directory / BruteForceIndex.file_name).write_bytes(b"\x00\x01")
    with FactChecker.open(directory, embedder=HashEmbedder(), index_factory=factory) as mended:
        assert mended.repaired is not None and isinstance(mended.index, BruteForceIndex)
        assert [mended.check(c).to_dict() for c in claims] == expected


def test_in_memory_takes_a_backend_too() -> None:
    fc = FactChecker.in_memory(HashEmbedder(), index_factory=BruteForceIndex)
    fc.add_items(SAMPLE)
    assert isinstance(fc.index, BruteForceIndex)
    best = fc.check("bansos tunai 600 ribu").best
    assert best is not None and best.item.verdict.value == "true"
    default = FactChecker.in_memory(HashEmbedder())
    assert type(default.index).__name__ == "FaissIndex"


def test_replacing_the_index_is_seen_by_the_pipeline(sample: FactChecker) -> None:
    before = sample.check(KATULAMPA)
    ids, vectors, version = sample.store.vectors_snapshot(sample.index.dim)
    sample.index = BruteForceIndex.build(None, sample.model_id, sample.index.dim, ids,
                                         vectors, version)
    assert sample.ranking.index is sample.index
    after = sample.check(KATULAMPA)
    assert [h.item.url for h in after.hits] == [h.item.url for h in before.hits]
    assert replace(after, hits=[]) == replace(before, hits=[])
