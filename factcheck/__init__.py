"""factcheck: has a trusted fact-checker already verified this claim?

The public API is :class:`FactChecker`; everything else is reachable from it.
"""

import logging

from .api import FactChecker, ImportReport, ReindexReport
from .config import Thresholds
from .errors import (
    EmbedderUnavailable,
    FactcheckError,
    FetchError,
    ImportFailed,
    IndexCorrupt,
    IndexNotFound,
    InvalidInput,
    ModelMismatch,
    RefreshLocked,
    SourceError,
)
from .models import CheckResult, Hit, MessageResult, Tier, Verdict, VerifiedItem
from .store import UpsertReport

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "CheckResult", "MessageResult", "EmbedderUnavailable", "FactChecker", "FactcheckError", "FetchError", "Hit",
    "ImportFailed", "ImportReport", "IndexCorrupt", "IndexNotFound", "InvalidInput",
    "ModelMismatch", "RefreshLocked", "ReindexReport", "SourceError", "Thresholds", "Tier",
    "UpsertReport", "Verdict", "VerifiedItem", "__version__",
]
