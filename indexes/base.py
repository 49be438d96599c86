"""What factcheck needs from a vector index, so another back-end can replace FAISS.

A back-end is one module with one class: its instances are :class:`VectorIndex` (searched by
:class:`factcheck.ranking.RankingPipeline`, kept current by :class:`factcheck.FactChecker`),
and the class itself is the :class:`IndexFactory` that ``FactChecker.open(index_factory=...)``
takes: it makes an empty index, builds one from stored vectors and loads a saved one.
``indexes.faiss_index.FaissIndex`` is the default; the store keeps every vector, so an index
file is only ever a cache that a back-end may rebuild from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class VectorIndex(Protocol):
    """Inner-product search over L2-normalised vectors keyed by store row ids."""

    model_id: str
    dim: int
    version: int  # the store's vectors_version this index reflects
    path: Path | None  # the file it is saved to (None: in memory only)

    def __len__(self) -> int: ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (item id, cosine) pairs, best first, optionally only among ``allowed``."""
        ...

    def scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """The cosine of the query with each given item that has a vector."""
        ...

    def upsert(self, ids: list[int], vectors: np.ndarray, version: int) -> None:
        """Replace the vectors of known ids, add the others, and record ``version``."""
        ...

    def save(self) -> None:
        """Write the index to ``path`` atomically (nothing when ``path`` is None)."""
        ...


class IndexFactory(Protocol):
    """Makes the :class:`VectorIndex` of one back-end; a back-end's class is one.

    ``file_name`` is the file it saves to in an index directory. ``load`` raises
    :class:`factcheck.errors.IndexCorrupt` for a damaged file (the caller then rebuilds it from
    the store) and :meth:`build` / ``__call__`` raise :class:`factcheck.errors.ModelMismatch`
    for vectors of another dimension.
    """

    file_name: str

    def __call__(self, path: Path | None, model_id: str, dim: int) -> VectorIndex:
        """An empty index."""
        ...

    def build(
        self, path: Path | None, model_id: str, dim: int, ids: np.ndarray, vectors: np.ndarray,
        version: int,
    ) -> VectorIndex:
        """An index of ``vectors`` (row ``n`` is item ``ids[n]``) reflecting ``version``."""
        ...

    def load(self, path: Path) -> VectorIndex:
        """The index saved at ``path``."""
        ...
