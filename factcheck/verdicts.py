"""Map publishers' verdict labels onto the normalised :class:`~factcheck.models.Verdict` scale.

The raw label is always kept; this module only adds the class. Labels nobody has mapped are
classed ``UNKNOWN`` (and the caller counts them) instead of being guessed from similar words,
because a wrong "true" is worse than an honest "unknown".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .models import Verdict

V = Verdict

#: Labels shared by the Indonesian and English fact-check vocabularies, lower-cased.
COMMON_LABELS: dict[str, Verdict] = {
    # Indonesian
    "salah": V.FALSE, "hoaks": V.FALSE, "hoax": V.FALSE, "hoaxs": V.FALSE, "keliru": V.FALSE,
    "tidak benar": V.FALSE, "fitnah": V.FALSE, "penipuan": V.FALSE, "disinformasi": V.FALSE,
    "misinformasi": V.FALSE, "manipulasi": V.FALSE, "konten manipulasi": V.FALSE,
    "konten palsu": V.FALSE, "konten tiruan": V.FALSE, "palsu": V.FALSE, "bohong": V.FALSE,
    "menyesatkan": V.MISLEADING, "konten menyesatkan": V.MISLEADING,
    "konteks keliru": V.MISLEADING, "koneksi keliru": V.MISLEADING,
    "sebagian benar": V.MIXED, "benar sebagian": V.MIXED, "perlu konteks": V.MIXED,
    "benar": V.TRUE, "fakta": V.TRUE, "sesuai fakta": V.TRUE,
    "satir": V.SATIRE, "satire": V.SATIRE, "parodi": V.SATIRE, "satir/parodi": V.SATIRE,
    "tidak terbukti": V.UNPROVEN, "belum terbukti": V.UNPROVEN, "klarifikasi": V.UNPROVEN,
    # English (ClaimReview alternateName, Snopes, First Draft types)
    "false": V.FALSE, "fake": V.FALSE, "fabricated": V.FALSE, "fabricated content": V.FALSE,
    "pants on fire": V.FALSE, "scam": V.FALSE, "manipulated": V.FALSE,
    "manipulated content": V.FALSE, "impostor": V.FALSE, "impostor content": V.FALSE,
    "incorrect": V.FALSE, "mostly false": V.MISLEADING, "misleading": V.MISLEADING,
    "false context": V.MISLEADING, "false connection": V.MISLEADING,
    "missing context": V.MISLEADING, "miscaptioned": V.MISLEADING, "out of context": V.MISLEADING,
    "half true": V.MIXED, "mixture": V.MIXED, "partly false": V.MIXED, "partly true": V.MIXED,
    "mostly true": V.MIXED, "true": V.TRUE, "correct": V.TRUE, "correct attribution": V.TRUE,
    "unproven": V.UNPROVEN, "unverified": V.UNPROVEN, "unsupported": V.UNPROVEN,
    "clarification": V.UNPROVEN, "labeled satire": V.SATIRE,
}

_BRACKET = re.compile(r"^\s*[\[\{(]\s*([^\]\})]{2,40}?)\s*[\]\})]")


def label_from_title(title: str) -> str | None:
    """The verdict prefix of a title such as ``[HOAKS] ...`` or ``{DISINFORMASI} ...``, if any."""
    m = _BRACKET.match(title)
    return m.group(1).strip() if m else None


def strip_label(title: str) -> str:
    """A title without its leading verdict prefix, for display and for matching."""
    m = _BRACKET.match(title)
    return title[m.end():].strip() if m else title.strip()


def normalise(raw: str | None, overrides: Mapping[str, Verdict] | None = None) -> Verdict:
    """The normalised class of a raw label; ``overrides`` holds a publisher's own vocabulary."""
    if not raw:
        return V.UNKNOWN
    key = " ".join(re.sub(r"[\[\]{}()\"'“”]", " ", raw).lower().split()).strip(" .:-")
    if overrides and key in overrides:
        return overrides[key]
    if key in COMMON_LABELS:
        return COMMON_LABELS[key]
    try:
        return Verdict(key)
    except ValueError:
        return V.UNKNOWN


def from_rating(value: float, best: float = 5.0, worst: float = 1.0) -> Verdict:
    """Class of a numeric ClaimReview ``reviewRating`` (ratingValue between worstRating and bestRating)."""
    if best == worst:
        return V.UNKNOWN
    share = (value - worst) / (best - worst)
    if share < 0 or share > 1:
        return V.UNKNOWN
    if share <= 0.2:
        return V.FALSE
    if share < 0.5:
        return V.MISLEADING
    if share < 0.8:
        return V.MIXED
    return V.TRUE
