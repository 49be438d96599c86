"""Vector-index back-ends. FAISS is the one shipped; others implement :class:`VectorIndex`."""

from .base import VectorIndex
from .faiss_index import FaissIndex

__all__ = ["VectorIndex", "FaissIndex"]
