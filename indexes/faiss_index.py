"""FAISS inner-product index over normalised vectors, saved as one file beside the database.

One file holds a small JSON header (model id, dimension, the store's vectors version), the row →
item-id map and the serialised FAISS index, so a single atomic rename replaces all of it: a
reader sees the old index or the new one, never a mix. The store keeps every vector too, so a
missing, stale or damaged file is rebuilt from it without re-embedding.
"""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import faiss
import numpy as np

from factcheck.atomic import atomic_write
from factcheck.errors import IndexCorrupt, ModelMismatch

from .faiss_file import INDEX_NAME, MAGIC, read_header_from

log = logging.getLogger(__name__)


def _single_query_threads() -> None:
    """Search one query on one thread.

    FAISS parallelises over queries with OpenMP; a lookup has one query, so extra threads only
    contend (measured at 100k items on 2 busy cores: p50 19-25 ms with 2 threads, 1.8 ms with 1).
    OpenMP's thread count is per process, which is why this is set here and not per index.
    """
    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)


class FaissIndex:
    """Exact (flat) inner-product search; at 100k × 384 a query costs a few milliseconds."""

    #: the file in an index directory (:class:`indexes.base.IndexFactory`)
    file_name = INDEX_NAME

    def __init__(self, path: Path | None, model_id: str, dim: int) -> None:
        self.path = path
        self.model_id = model_id
        self.dim = dim
        self.version = 0
        self._index = faiss.IndexFlatIP(dim)
        self._ids = np.zeros(0, dtype=np.int64)
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    # -- building -----------------------------------------------------------------------

    @classmethod
    def build(
        cls, path: Path | None, model_id: str, dim: int, ids: np.ndarray, vectors: np.ndarray,
        version: int,
    ) -> "FaissIndex":
        index = cls(path, model_id, dim)
        if len(ids):
            index._check_dim(vectors)
            index._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            index._ids = np.asarray(ids, dtype=np.int64)
        index._row_of = {int(i): n for n, i in enumerate(index._ids)}
        index.version = version
        return index

    def _check_dim(self, vectors: np.ndarray) -> None:
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ModelMismatch(
                f"vectors of dimension {vectors.shape[-1]} do not fit an index of dimension "
                f"{self.dim} ({self.model_id}): run 'factcheck reindex --model ...' to rebuild"
            )

    def upsert(self, ids: list[int], vectors: np.ndarray, version: int) -> None:
        """Replace the vectors of known ids in place and append the new ones."""
        if not ids:
            self.version = version
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._check_dim(vectors)
        matrix = self._matrix()
        fresh_rows: list[int] = []
        for n, item_id in enumerate(ids):
            row = self._row_of.get(int(item_id))
            if row is None:
                fresh_rows.append(n)
            else:
                matrix[row] = vectors[n]
        if fresh_rows:
            self._index.add(vectors[fresh_rows])
            new_ids = np.asarray([ids[n] for n in fresh_rows], dtype=np.int64)
            start = len(self._ids)
            self._ids = np.concatenate([self._ids, new_ids])
            for offset, item_id in enumerate(new_ids):
                self._row_of[int(item_id)] = start + offset
        self.version = version

    def _matrix(self) -> np.ndarray:
        n = int(self._index.ntotal)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        flat = faiss.rev_swig_ptr(self._index.get_xb(), n * self.dim)
        return flat.reshape(n, self.dim)

    # -- searching ----------------------------------------------------------------------

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (item id, cosine) pairs, optionally only among ``allowed`` item ids."""
        n = len(self)
        if n == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        _single_query_threads()
        if allowed is not None:
            rows = np.fromiter(
                (self._row_of[int(i)] for i in allowed if int(i) in self._row_of), dtype=np.int64
            )
            if len(rows) == 0:
                return []
            # faiss's Python layer takes the fields as keywords (and keeps the selector alive);
            # its stubs only know the bare SWIG constructor
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))  # type: ignore[call-arg]
            scores, found = self._index.search(q, min(k, len(rows)), params=params)
        else:
            scores, found = self._index.search(q, min(k, n))
        return [
            (int(self._ids[row]), float(score))
            for row, score in zip(found[0], scores[0])
            if row >= 0
        ]

    def scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Exact cosine of the query with each given item (items without a vector are left out)."""
        rows = [(i, self._row_of[i]) for i in ids if i in self._row_of]
        if not rows:
            return {}
        matrix = self._matrix()
        q = np.asarray(query, dtype=np.float32).reshape(self.dim)
        sims = matrix[[r for _, r in rows]] @ q
        return {i: float(s) for (i, _), s in zip(rows, sims)}

    # -- persistence --------------------------------------------------------------------

    def save(self) -> None:
        """Replace the file atomically: a reader opens the old index or the new one."""
        if self.path is None:
            return
        header = json.dumps(
            {"model": self.model_id, "dim": self.dim, "version": self.version, "count": len(self)}
        ).encode()
        blob = faiss.serialize_index(self._index)
        with atomic_write(self.path) as fh:
            fh.write(MAGIC)
            fh.write(struct.pack("<QQ", len(header), len(self._ids)))
            fh.write(header)
            fh.write(self._ids.astype("<i8").tobytes())
            fh.write(blob.tobytes())

    @classmethod
    def load(cls, path: Path) -> "FaissIndex":
        """Read a saved index; any damage is an :class:`IndexCorrupt` the caller can repair."""
        try:
            with path.open("rb") as fh:
                header = read_header_from(fh)
                count = header["count"]
                ids = np.fromfile(fh, dtype="<i8", count=count).astype(np.int64)
                if len(ids) != count:
                    raise ValueError("truncated id map")
                # Read straight into a writable buffer: one copy of the vectors, not three.
                raw = np.fromfile(fh, dtype=np.uint8)
            faiss_index = faiss.deserialize_index(raw)  # downcast to its own class
            del raw
            if not isinstance(faiss_index, faiss.IndexFlatIP):
                raise ValueError(f"a {type(faiss_index).__name__}, not a flat inner-product index")
            if faiss_index.ntotal != count or faiss_index.d != int(header["dim"]):
                raise ValueError("row count or dimension disagrees with the header")
        except (OSError, ValueError, KeyError, struct.error, RuntimeError) as exc:
            raise IndexCorrupt(f"vector index {path} is unreadable ({exc})") from exc
        index = cls(path, str(header["model"]), int(header["dim"]))
        index._index = faiss_index
        index._ids = ids
        index._row_of = {int(i): n for n, i in enumerate(ids)}
        index.version = int(header["version"])
        return index
