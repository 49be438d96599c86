"""Hybrid retrieval: BM25 over the full-text index and cosine over the vector index, fused.

Keyword search is strong on Indonesian hoax texts (names, places, numbers repeat verbatim);
dense search rescues paraphrases and crosses languages. Plain reciprocal-rank fusion loses to
BM25 on the turnbackhoax set, so the scores themselves are fused: BM25 scaled by the best BM25
score of the query, cosine min-max scaled over the candidate pool, mixed with a tuned weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexes.base import VectorIndex

from .config import Thresholds
from .models import Tier
from .store import Filters, Store
from .text import keyword_terms


@dataclass(frozen=True)
class FusionParams:
    """Tuned on the dev sets by ``bench/retrieval.py``."""

    keyword_weight: float = 0.6
    pool: int = 100  # candidates taken from each retriever before fusion


def hybrid_search(
    store: Store,
    index: VectorIndex,
    query_text: str,
    query_vector: np.ndarray | None,
    *,
    limit: int,
    filters: Filters | None = None,
    params: FusionParams = FusionParams(),
    mode: str = "hybrid",
) -> list[tuple[int, float, float, float]]:
    """Ranked ``(item id, fused score, cosine, keyword score)``; ``mode`` may be keyword or dense."""
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
        ranked.append((item_id, fused, cos if cos is not None else 0.0, kw))
    ranked.sort(key=lambda r: (-r[1], r[0]))
    return ranked[:limit]


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
