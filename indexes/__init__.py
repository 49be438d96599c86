"""Vector-index back-ends. FAISS is the one shipped; others implement :class:`VectorIndex`."""

from typing import TYPE_CHECKING, Any

from .base import VectorIndex

if TYPE_CHECKING:  # pragma: no cover
    from .faiss_index import FaissIndex

__all__ = ["VectorIndex", "FaissIndex"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import indexes`` first does not loop through factcheck's own imports.
    if name == "FaissIndex":
        from .faiss_index import FaissIndex

        return FaissIndex
    raise AttributeError(name)
