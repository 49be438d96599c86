"""Vector-index back-ends. FAISS is the one shipped; another is one module whose class is an
:class:`IndexFactory` of :class:`VectorIndex` instances (see :mod:`indexes.base`)."""

from typing import TYPE_CHECKING, Any

from .base import IndexFactory, VectorIndex

if TYPE_CHECKING:  # pragma: no cover
    from .faiss_index import FaissIndex

__all__ = ["FaissIndex", "IndexFactory", "VectorIndex"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import indexes`` first does not loop through factcheck's own imports.
    if name == "FaissIndex":
        from .faiss_index import FaissIndex

        return FaissIndex
    raise AttributeError(name)
