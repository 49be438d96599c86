"""schema.org ClaimReview (JSON-LD) and Google Fact Check Tools records → verified items.

Fact-checkers publish ClaimReview so machines can read their verdicts; it is the one
publisher-independent structure, used by the importer and by the generic page scraper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .dates import parse_date
from .models import VerifiedItem, Verdict
from .text import detect_language
from .urls import is_http_url, published_url
from .verdicts import from_rating, normalise, strip_label


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit(":", 1)[-1].rsplit("/", 1)[-1] for v in values}


def find_claimreviews(data: Any) -> Iterator[dict[str, Any]]:
    """Every ClaimReview node in a JSON-LD document: object, list, ``@graph`` or DataFeed."""
    if isinstance(data, list):
        for element in data:
            yield from find_claimreviews(element)
    elif isinstance(data, dict):
        if "ClaimReview" in _types(data):
            yield data
            return
        for key in ("@graph", "dataFeedElement", "item", "mainEntity", "hasPart"):
            if key in data:
                yield from find_claimreviews(data[key])


def _name(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(filter(None, (_name(v) for v in value)))
    if isinstance(value, dict):
        return str(value.get("name") or value.get("alternateName") or value.get("url") or "")
    return str(value or "")


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None


def rating_verdict(rating: Any, overrides: dict[str, Verdict] | None = None) -> tuple[str, Verdict]:
    """(raw label, class) of a ``reviewRating``: its name first, its numbers when the name is unknown."""
    if isinstance(rating, list):
        rating = rating[0] if rating else {}
    if not isinstance(rating, dict):
        raw = str(rating or "")
        return raw, normalise(raw, overrides)
    raw = str(rating.get("alternateName") or rating.get("name") or "").strip()
    verdict = normalise(raw, overrides)
    value = _number(rating.get("ratingValue"))
    if verdict is Verdict.UNKNOWN and value is not None:
        best = _number(rating.get("bestRating")) or 5.0
        worst = _number(rating.get("worstRating"))
        verdict = from_rating(value, best, 1.0 if worst is None else worst)
        if not raw:
            raw = f"{rating.get('ratingValue')}/{rating.get('bestRating', 5)}"
    return raw, verdict


def item_from_claimreview(
    node: dict[str, Any], *, source: str, fallback_url: str | None = None,
    overrides: dict[str, Verdict] | None = None,
) -> VerifiedItem:
    """One ClaimReview node as an item; raises ``ValueError`` naming what is missing."""
    url = str(node.get("url") or fallback_url or "").strip()
    if not is_http_url(url):
        raise ValueError("ClaimReview has no http(s) url")
    claimed = node.get("claimReviewed")
    if isinstance(claimed, list):  # The Quint and others publish a list of one
        claimed = " / ".join(str(c).strip() for c in claimed if c)
    claim = str(claimed or "").strip()
    headline = str(node.get("headline") or node.get("name") or "").strip()
    raw, verdict = rating_verdict(node.get("reviewRating"), overrides)
    if not (claim or headline):
        raise ValueError("ClaimReview has neither claimReviewed nor headline")
    reviewed = node.get("itemReviewed") if isinstance(node.get("itemReviewed"), dict) else {}
    publisher = _name(node.get("author")) or _name(node.get("publisher"))
    language = node.get("inLanguage")
    if isinstance(language, dict):
        language = language.get("alternateName") or language.get("name")
    title = strip_label(headline) if headline else claim
    return VerifiedItem(
        url=published_url(url), title=title, source=source, publisher=publisher, claim=claim,
        verdict_raw=raw, verdict=verdict,
        published=parse_date(node.get("datePublished") or node.get("dateCreated")),
        language=(str(language)[:2].lower() if language else detect_language(f"{title} {claim}")),
        extra={
            k: v for k, v in {
                "claimant": _name(reviewed.get("author")),
                "claim_date": parse_date(reviewed.get("datePublished")),
                "appearance": _appearances(reviewed.get("appearance")),
            }.items() if v
        },
    )


def _appearances(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    urls = []
    for v in values:
        url = v.get("url") if isinstance(v, dict) else v
        if isinstance(url, str) and is_http_url(url):
            urls.append(url)
    return urls


def items_from_google(record: dict[str, Any], *, source: str) -> list[VerifiedItem]:
    """Items from one Google Fact Check Tools ``claims[]`` record (one per claimReview)."""
    reviews = record.get("claimReview") or []
    if not isinstance(reviews, list) or not reviews:
        raise ValueError("Fact Check Tools claim has no claimReview")
    items = []
    for review in reviews:
        url = str(review.get("url") or "")
        if not is_http_url(url):
            raise ValueError("claimReview has no http(s) url")
        raw = str(review.get("textualRating") or "")
        claim = str(record.get("text") or "")
        title = strip_label(str(review.get("title") or claim))
        if not title:
            raise ValueError("claimReview has neither title nor claim text")
        publisher = review.get("publisher") or {}
        items.append(
            VerifiedItem(
                url=published_url(url), title=title, source=source,
                publisher=str(publisher.get("name") or publisher.get("site") or ""),
                claim=claim, verdict_raw=raw, verdict=normalise(raw),
                published=parse_date(review.get("reviewDate")),
                language=review.get("languageCode") or detect_language(f"{title} {claim}"),
                extra={k: v for k, v in {
                    "claimant": record.get("claimant"),
                    "claim_date": parse_date(record.get("claimDate")),
                }.items() if v},
            )
        )
    return items
