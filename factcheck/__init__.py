"""factcheck: has a trusted fact-checker already verified this claim?

The public API is :class:`FactChecker`; everything else is reachable from it.
"""

import logging
from typing import TYPE_CHECKING, Any

from .errors import (
    EmbedderUnavailable,
    FactcheckError,
    FetchError,
    ImportFailed,
    IndexCorrupt,
    IndexNotFound,
    IndexUnusable,
    InvalidInput,
    ModelMismatch,
    OCRUnavailable,
    RefreshLocked,
    SourceError,
)
from .models import CheckResult, Hit, MessageResult, Tier, Verdict, VerifiedItem

if TYPE_CHECKING:  # pragma: no cover
    from .api import FactChecker, ImportReport, ReindexReport
    from .config import Thresholds
    from .store import UpsertReport

#: Loaded on first use, so that ``factcheck.models`` or ``factcheck.errors`` (used by scrapers,
#: the vector-index back-ends and plug-ins) import without numpy, SQLite or FAISS.
_LAZY = {
    "FactChecker": ".api", "ImportReport": ".api", "ReindexReport": ".api",
    "Thresholds": ".config", "UpsertReport": ".store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'factcheck' has no attribute {name!r}")


logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "CheckResult", "EmbedderUnavailable", "FactChecker", "FactcheckError", "FetchError", "Hit",
    "ImportFailed", "ImportReport", "MessageResult", "IndexCorrupt", "IndexNotFound", "IndexUnusable", "InvalidInput",
    "ModelMismatch", "OCRUnavailable", "RefreshLocked", "ReindexReport", "SourceError", "Thresholds", "Tier",
    "UpsertReport", "Verdict", "VerifiedItem", "__version__",
]
