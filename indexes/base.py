"""What the lookup needs from a vector index, so another back-end can replace FAISS."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    """Inner-product search over L2-normalised vectors keyed by store row ids."""

    model_id: str
    dim: int
    version: int  # the store's vectors_version this index reflects

    def __len__(self) -> int: ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]: ...

    def scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]: ...

    def save(self) -> None: ...
