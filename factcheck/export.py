"""Writing the index back out in the two shapes other fact-check tools read.

schema.org ClaimReview (as a JSON-LD DataFeed) is what search engines and the fact-check
community exchange; Google Fact Check Tools JSON is what many bots and dashboards already
parse. Both are read back by :mod:`factcheck.importer`, so an export is also a portable,
model-independent backup of the verified items (without their vectors or body text).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .atomic import atomic_write
from urllib.parse import urlsplit

from .dates import utc_now
from .errors import InvalidInput
from .models import VerifiedItem

if TYPE_CHECKING:
    from .api import FactChecker

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("claimreview", "google")


def claimreview(item: VerifiedItem) -> dict[str, Any]:
    """One item as a schema.org ClaimReview node."""
    node: dict[str, Any] = {
        "@type": "ClaimReview",
        "url": item.url,
        "headline": item.title,
        "claimReviewed": item.claim or item.title,
    }
    if item.published:
        node["datePublished"] = item.published
    if item.language:
        node["inLanguage"] = item.language
    if item.publisher:
        node["author"] = {"@type": "Organization", "name": item.publisher, "url": _site(item.url)}
    node["reviewRating"] = {
        "@type": "Rating", "alternateName": item.verdict_raw or item.verdict.value,
    }
    reviewed: dict[str, Any] = {"@type": "Claim"}
    extra = item.extra
    if extra.get("claimant"):
        reviewed["author"] = {"@type": "Thing", "name": str(extra["claimant"])}
    if extra.get("claim_date"):
        reviewed["datePublished"] = str(extra["claim_date"])
    appearances = extra.get("appearance")
    if isinstance(appearances, str):
        appearances = [appearances]
    if isinstance(appearances, list) and appearances:
        reviewed["appearance"] = [
            {"@type": "CreativeWork", "url": str(u)} for u in appearances if isinstance(u, str)
        ]
    if len(reviewed) > 1:
        node["itemReviewed"] = reviewed
    return node


def google_claim(item: VerifiedItem) -> dict[str, Any]:
    """One item as a Fact Check Tools ``claims[]`` record with a single claimReview."""
    review: dict[str, Any] = {
        "publisher": {"name": item.publisher, "site": urlsplit(item.url).hostname or ""},
        "url": item.url,
        "title": item.title,
        "textualRating": item.verdict_raw or item.verdict.value,
    }
    if item.published:
        review["reviewDate"] = _timestamp(item.published)
    if item.language:
        review["languageCode"] = item.language
    claim: dict[str, Any] = {"text": item.claim or item.title}
    if item.extra.get("claimant"):
        claim["claimant"] = str(item.extra["claimant"])
    if item.extra.get("claim_date"):
        claim["claimDate"] = _timestamp(str(item.extra["claim_date"]))
    claim["claimReview"] = [review]
    return claim


def export_items(
    checker: "FactChecker", dest: str | Path | IO[str], *, fmt: str = "claimreview",
    sources: tuple[str, ...] = (),
) -> int:
    """Write every item (or those of ``sources``) to ``dest``; returns how many were written.

    A path is written to a temporary file and renamed, so an interrupted export never leaves
    a truncated file that a later import would half-read; ``"-"`` means standard output.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
    wanted = {s.lower() for s in sources}
    items = (
        item for _, item in checker.store.iter_items()
        if not wanted or item.source.lower() in wanted
    )
    if dest == "-":
        return _write(sys.stdout, items, fmt)
    if not isinstance(dest, (str, Path)):
        return _write(dest, items, fmt)
    path = Path(dest).expanduser()
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give a file name")
    with atomic_write(path, "w", encoding="utf-8") as fh:
        return _write(fh, items, fmt)


def _write(fh: IO[str], items: Iterator[VerifiedItem], fmt: str) -> int:
    """Streamed element by element, so a large index never sits in memory as one document."""
    if fmt == "claimreview":
        head = {
            "@context": "https://schema.org", "@type": "DataFeed",
            "dateModified": utc_now(),
        }
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "dataFeedElement": [\n')
        convert = claimreview
    else:
        fh.write('{"claims": [\n')
        convert = google_claim
    count = 0
    for item in items:
        if count:
            fh.write(",\n")
        fh.write(json.dumps(convert(item), ensure_ascii=False))
        count += 1
    fh.write("\n]}\n")
    return count


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _timestamp(day: str) -> str:
    """Fact Check Tools dates are RFC 3339 timestamps; a stored date becomes midnight UTC."""
    return f"{day}T00:00:00Z" if len(day) == 10 else day
