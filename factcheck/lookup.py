"""The fusion of :mod:`factcheck.ranking` in its older form, for callers written against it.

Retrieval, fusion and tiers moved to :mod:`factcheck.ranking` (:class:`~factcheck.ranking.
RankingPipeline`); this module keeps the names ``bench/`` and other scripts import, and
:func:`hybrid_search`'s ``(item id, fused score, cosine, keyword score)`` tuples, which the
benches store in their caches. New code uses :func:`factcheck.ranking.fuse` and its
:class:`~factcheck.ranking.Fused` results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ranking import FusionParams, fuse, tier_for
from .store import Filters, Store

if TYPE_CHECKING:
    import numpy as np

    from indexes.base import VectorIndex


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
    """Ranked ``(item id, fused score, cosine, keyword score)``: :func:`factcheck.ranking.fuse`."""
    return [
        (f.item_id, f.score, f.cosine, f.keyword)
        for f in fuse(store, index, query_text, query_vector, limit=limit, filters=filters,
                      params=params, mode=mode)
    ]


__all__ = ["FusionParams", "hybrid_search", "tier_for"]
