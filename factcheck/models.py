"""Plain data objects shared by the store, the lookup, the scrapers and the CLI.

They are dataclasses so that callers can ``dataclasses.asdict`` them into JSON and so that
scrapers outside this package can build them without importing anything heavy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    """Normalised verdict scale; the publisher's own label is always kept beside it."""

    FALSE = "false"
    MISLEADING = "misleading"
    MIXED = "mixed"
    TRUE = "true"
    SATIRE = "satire"
    UNPROVEN = "unproven"
    UNKNOWN = "unknown"


class Tier(str, Enum):
    """How strongly the best hit answers the claim."""

    MATCH = "match"
    SUGGESTION = "suggestion"
    NONE = "none"


@dataclass
class VerifiedItem:
    """One fact-check, government clarification or ClaimReview, identified by its canonical URL."""

    url: str
    title: str
    source: str = "import"
    publisher: str = ""
    claim: str = ""
    verdict_raw: str = ""
    verdict: Verdict = Verdict.UNKNOWN
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD) or datetime
    language: str | None = None
    text: str = ""
    fetched_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of everything that matters for search; unchanged hash means no re-embedding."""
        payload = json.dumps(
            [self.title, self.claim, self.text, self.verdict_raw, self.publisher,
             self.published, self.language],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def embedding_text(self) -> str:
        """The text the dense index sees: the title and the claim, which is what a query resembles."""
        parts = [self.title.strip()]
        claim = self.claim.strip()
        if claim and claim.lower() not in self.title.lower():
            parts.append(claim)
        return ". ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data


@dataclass
class Hit:
    """A stored item returned for a claim, with the scores that ranked it."""

    item: VerifiedItem
    score: float
    dense: float
    keyword: float
    rank: int

    def to_dict(self, snippet_chars: int = 240) -> dict[str, Any]:
        item = self.item
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "dense_score": round(self.dense, 4),
            "keyword_score": round(self.keyword, 4),
            "url": item.url,
            "title": item.title,
            "claim": item.claim,
            "verdict": item.verdict.value,
            "verdict_raw": item.verdict_raw,
            "publisher": item.publisher,
            "source": item.source,
            "published": item.published,
            "language": item.language,
            "snippet": snippet(item, snippet_chars),
        }


@dataclass
class CheckResult:
    """The answer for one claim: a tier and the ranked hits behind it."""

    query: str
    tier: Tier
    hits: list[Hit]
    model: str
    thresholds: dict[str, float]
    #: Probability that the first hit is a fact-check of this claim (None when not re-ranked).
    confidence: float | None = None
    reranked: bool = False
    #: Why the semantic side could not take part (``no_vectors``, ``model_unavailable``), when
    #: it could not: the hits then come from keywords alone and none is called a match.
    degraded: str | None = None

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def matches(self) -> list[Hit]:
        """The hits that answer the claim: the first one, and only under a match.

        Confidence is calibrated for the first hit alone, so the hits after it are never
        presented as answers, however close their scores.
        """
        return self.hits[:1] if self.tier is Tier.MATCH else []

    @property
    def others(self) -> list[Hit]:
        """Every hit that is not an answer: leads to read, not verdicts about this claim."""
        return self.hits[len(self.matches):]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "status": self.tier.value,
            "model": self.model,
            "thresholds": self.thresholds,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "reranked": self.reranked,
            "degraded": self.degraded,
            "matches": [h.to_dict() for h in self.matches],
            "others": [h.to_dict() for h in self.others],
        }


@dataclass
class MessageResult:
    """The answers for a forwarded message: one :class:`CheckResult` per claim, in order.

    ``urls`` are the links the message carried (set aside, not searched) and ``dropped`` the
    lines that carried no claim (greetings, calls to forward, bare hashtags).
    """

    text: str
    claims: list[str]
    results: list[CheckResult]
    urls: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def tier(self) -> Tier:
        return strongest_tier(self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.tier.value,
            "claims": [{"claim": c, **r.to_dict()} for c, r in zip(self.claims, self.results)],
            "urls": self.urls,
            "dropped": self.dropped,
        }


def snippet(item: VerifiedItem, limit: int = 240) -> str:
    """A short excerpt for display: the claim when known, else the start of the text."""
    base = item.claim or item.text or item.title
    base = " ".join(base.split())
    if len(base) <= limit:
        return base
    cut = base[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def strongest_tier(results: list[CheckResult]) -> Tier:
    """The strongest tier among a message's claims: it is "answered" if any claim is."""
    tiers = {r.tier for r in results}
    for tier in (Tier.MATCH, Tier.SUGGESTION):
        if tier in tiers:
            return tier
    return Tier.NONE
