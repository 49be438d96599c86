"""schema.org ClaimReview (JSON-LD) and Google Fact Check Tools records → verified items.

Fact-checkers publish ClaimReview so machines can read their verdicts; it is the one
publisher-independent structure, used by the importer and by the generic page scraper.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from .dates import parse_date
from .models import VerifiedItem, Verdict
from .text import identify_language
from .urls import canonical_url, is_http_url, published_url
from .verdicts import from_rating, normalise, strip_label


#: Deepest nesting of lists and objects read from a JSON-LD block or an import record. Real
#: ClaimReview markup nests five or six levels; a block nested thousands deep is broken or
#: hostile, and walking it recursively raised RecursionError out of the page parser.
MAX_DEPTH = 64

_CONTAINERS = ("@graph", "dataFeedElement", "item", "mainEntity", "hasPart")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit(":", 1)[-1].rsplit("/", 1)[-1] for v in values
            if isinstance(v, (str, int, float))}


def find_claimreviews(data: Any) -> Iterator[dict[str, Any]]:
    """Every ClaimReview node in a JSON-LD document: object, list, ``@graph`` or DataFeed.

    Walked with an explicit stack, in document order, and no deeper than :data:`MAX_DEPTH`:
    a recursive walk of a deeply nested block ended the whole page in RecursionError.
    """
    stack: list[tuple[Iterator[Any], int]] = [(iter([data]), 0)]
    while stack:
        children, depth = stack[-1]
        node = next(children, _END)
        if node is _END:
            stack.pop()
            continue
        if depth >= MAX_DEPTH:
            continue
        if isinstance(node, list):
            stack.append((iter(node), depth + 1))
        elif isinstance(node, dict):
            if "ClaimReview" in _types(node):
                yield node
                continue
            stack.append((iter([node[k] for k in _CONTAINERS if k in node]), depth + 1))


_END = object()


def _name(value: Any, depth: int = 0) -> str:
    """The name of an author or publisher: a string, an object's name, or a list of them."""
    if isinstance(value, list):
        if depth > 2:  # a list of lists of lists is no name anyone published
            return ""
        return ", ".join(filter(None, (_name(v, depth + 1) for v in value)))
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName") or value.get("url") or ""
        return value if isinstance(value, str) else _scalar(value)
    return _scalar(value)


def _scalar(value: Any) -> str:
    """A JSON scalar as text; an object or list where a string belongs reads as nothing."""
    if isinstance(value, (dict, list)) or value is None:
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    """A rating number, or None: also for NaN and infinities, which every comparison of the
    scale would pass or fail at random (NaN made a rating of "NaN" read as true)."""
    if isinstance(value, (dict, list)) or value is None:
        return None
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def rating_verdict(rating: Any, overrides: dict[str, Verdict] | None = None) -> tuple[str, Verdict]:
    """(raw label, class) of a ``reviewRating``: its name first, its numbers when the name is unknown."""
    if isinstance(rating, list):
        rating = rating[0] if rating else {}
    if not isinstance(rating, dict):
        raw = _scalar(rating or "")
        return raw, normalise(raw, overrides)
    raw = _scalar(rating.get("alternateName") or rating.get("name") or "").strip()
    verdict = normalise(raw, overrides)
    value = _number(rating.get("ratingValue"))
    if verdict is Verdict.UNKNOWN and value is not None:
        best = _number(rating.get("bestRating")) or 5.0
        worst = _number(rating.get("worstRating"))
        verdict = from_rating(value, best, 1.0 if worst is None else worst)
        if not raw:
            raw = f"{_scalar(rating.get('ratingValue'))}/{_scalar(rating.get('bestRating', 5))}"
    return raw, verdict


def item_from_claimreview(
    node: dict[str, Any], *, source: str, fallback_url: str | None = None,
    overrides: dict[str, Verdict] | None = None,
) -> VerifiedItem:
    """One ClaimReview node as an item; raises ``ValueError`` naming what is missing."""
    url = _scalar(node.get("url") or fallback_url or "").strip()
    if not is_http_url(url):
        raise ValueError("ClaimReview has no http(s) url")
    canonical_url(url)  # an unusable host or port is a ValueError here, not in the store
    claimed = node.get("claimReviewed")
    if isinstance(claimed, list):  # The Quint and others publish a list of one
        claimed = " / ".join(_scalar(c).strip() for c in claimed if c)
    claim = _scalar(claimed or "").strip()
    headline = _scalar(node.get("headline") or node.get("name") or "").strip()
    raw, verdict = rating_verdict(node.get("reviewRating"), overrides)
    if not (claim or headline):
        raise ValueError("ClaimReview has neither claimReviewed nor headline")
    reviewed = node.get("itemReviewed")
    if not isinstance(reviewed, dict):
        reviewed = {}
    publisher = _name(node.get("author")) or _name(node.get("publisher"))
    language = node.get("inLanguage")
    if isinstance(language, dict):
        language = language.get("alternateName") or language.get("name")
    title = strip_label(headline) if headline else claim
    return VerifiedItem(
        url=published_url(url), title=title, source=source, publisher=publisher, claim=claim,
        verdict_raw=raw, verdict=verdict,
        published=parse_date(node.get("datePublished") or node.get("dateCreated")),
        language=(_scalar(language)[:2].lower() or identify_language(f"{title} {claim}")),
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
        try:
            if isinstance(url, str) and is_http_url(url):
                urls.append(url)
        except ValueError:  # "http://[::1" and the like: no link, and no reason to lose the item
            continue
    return urls


def items_from_google(record: dict[str, Any], *, source: str) -> list[VerifiedItem]:
    """Items from one Google Fact Check Tools ``claims[]`` record (one per claimReview)."""
    reviews = record.get("claimReview") or []
    if not isinstance(reviews, list) or not reviews:
        raise ValueError("Fact Check Tools claim has no claimReview")
    items = []
    for review in reviews:
        url = _scalar(review.get("url") or "")
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
                language=_scalar(review.get("languageCode")) or identify_language(f"{title} {claim}"),
                extra={k: v for k, v in {
                    "claimant": record.get("claimant"),
                    "claim_date": parse_date(record.get("claimDate")),
                }.items() if v},
            )
        )
    return items
