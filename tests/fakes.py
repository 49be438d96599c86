"""Test doubles: a deterministic embedder so most tests need no real model."""

from __future__ import annotations

import hashlib

import numpy as np

from factcheck.text import tokens


class HashEmbedder:
    """Bag of hashed tokens plus character trigrams: similar wording gives similar vectors.

    Fast and deterministic; it stands in for a real model wherever the test is about storage,
    filtering or plumbing rather than semantic quality.
    """

    def __init__(self, dim: int = 64, model_id: str = "test-hash") -> None:
        self.dim = dim
        self.model_id = model_id
        self.calls = 0
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = tokens(text)
        feats = words + [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feat in feats:
            h = int.from_bytes(hashlib.md5(feat.encode()).digest()[:4], "little")
            vec[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norm = np.linalg.norm(vec)
        if norm == 0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


class FailingHalfwayEmbedder(HashEmbedder):
    """Loads, then dies after a few batches: a re-embedding interrupted half-way."""

    def __init__(self) -> None:
        super().__init__(dim=32, model_id="test-failing")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.calls >= 1:  # the first call (the probe) works, the run does not
            raise RuntimeError("out of memory in the middle of the run")
        return self._encode(texts)


class UnloadableEmbedder(HashEmbedder):
    """Stands for a model whose weights are gone: every query fails as 'unavailable'."""

    def __init__(self) -> None:
        super().__init__(model_id="test-hash")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        from factcheck.errors import EmbedderUnavailable

        raise EmbedderUnavailable("cannot load the model test-hash: weights missing")


class SmallHashEmbedder(HashEmbedder):
    """Another model for ``reindex --model``: other vectors, another dimension."""

    def __init__(self) -> None:
        super().__init__(dim=32, model_id="test-small")
