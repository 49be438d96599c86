"""Extraction helpers shared by the scrapers: HTML, JSON-LD ClaimReview, trafilatura, dates.

Scrapers read the site's own structure for the verdict and the claim (that is where the
publisher states them), trafilatura for the main text and metadata when there is no better
place, and schema.org ClaimReview whenever a page carries it, since it is the one structure
publishers maintain for machines.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from factcheck.claimreview import MAX_DEPTH, find_claimreviews, item_from_claimreview, too_deep
from factcheck.dates import parse_date
from factcheck.models import Verdict, VerifiedItem
from factcheck.text import identify_language
from factcheck.urls import canonical_url, published_url

from .base import valid_text

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
#: A ``\uD800``-``\uDFFF`` escape that is not half of a pair: valid JSON, but a string
#: holding it cannot be encoded as UTF-8, so the store would refuse the whole batch.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
#: Longest JSON-LD block read (a ClaimReview is a few KB; a page's whole graph rarely 200 KB).
MAX_JSON_LD_CHARS = 1_000_000


def soup(html: str) -> BeautifulSoup:
    """The parsed page. A lone surrogate (from a JSON answer's ``"\\ud800"``) becomes U+FFFD:
    lxml encodes the text as UTF-8 and raised UnicodeEncodeError on it."""
    return BeautifulSoup(valid_text(html) if isinstance(html, str) else html, "lxml")


def clean(text: str | None) -> str:
    """Collapse whitespace (including no-break spaces) to single spaces."""
    return _SPACE.sub(" ", (text or "").replace("\xa0", " ")).strip()


def text_of(node: Tag | None, separator: str = " ") -> str:
    return clean(node.get_text(separator)) if node is not None else ""


def paragraphs(node: Tag | None) -> str:
    """Text of a block with paragraph breaks kept, for the stored body."""
    if node is None:
        return ""
    lines = [clean(line) for line in node.get_text("\n").split("\n")]
    return "\n".join(line for line in lines if line)


def meta(doc: BeautifulSoup, *names: str) -> str | None:
    """The first non-empty ``<meta property|name=...>`` content among ``names``."""
    for name in names:
        tag = doc.find("meta", attrs={"property": name}) or doc.find("meta", attrs={"name": name})
        if isinstance(tag, Tag):
            content = clean(str(tag.get("content") or ""))
            if content:
                return content
    return None


def json_ld(doc: BeautifulSoup) -> list[Any]:
    """Every usable JSON-LD block of the page; a broken block is logged and skipped.

    Broken means: not JSON (after the usual repair of raw newlines in strings), a number
    too long for Python to convert (ValueError), nesting deeper than
    :data:`~factcheck.claimreview.MAX_DEPTH` (RecursionError in the parser or the walk) or
    a block over :data:`MAX_JSON_LD_CHARS`. Any of these used to escape and lose the whole
    page, its title and text included; now only the block is lost. A lone surrogate escape
    is read as U+FFFD, since the rest of the block is fine.
    """
    blocks = []
    for script in doc.find_all("script", attrs={"type": "application/ld+json"}):
        raw = script.string or script.get_text()
        if not raw or not raw.strip():
            continue
        if len(raw) > MAX_JSON_LD_CHARS:
            log.debug("skipping a JSON-LD block of %d characters", len(raw))
            continue
        if "\\u" in raw:
            raw = _LONE_SURROGATE.sub(r"\\ufffd", raw)
        block = _parse_block(raw)
        if block is not None:
            blocks.append(block)
    return blocks


_BROKEN = object()


def _parse_block(raw: str) -> Any:
    """One JSON-LD block, or None when it is broken (see :func:`json_ld`)."""
    value: Any = _BROKEN
    for text in (raw, raw.replace("\n", " ").replace("\r", " ")):
        try:
            value = json.loads(text)
            break
        except RecursionError:
            log.debug("skipping a JSON-LD block nested too deeply to parse")
            return None
        except ValueError as exc:  # JSONDecodeError, or an integer of over 4,300 digits
            if not isinstance(exc, json.JSONDecodeError):
                log.debug("skipping a JSON-LD block: %s", exc)
                return None
            # a common publisher bug: raw newlines inside strings; try once more without them
    if value is _BROKEN or value is None:
        return None
    if too_deep(value, MAX_DEPTH):
        log.debug("skipping a JSON-LD block nested more than %d levels", MAX_DEPTH)
        return None
    return value


def claimreviews(doc: BeautifulSoup) -> list[dict[str, Any]]:
    return [node for block in json_ld(doc) for node in find_claimreviews(block)]


def claimreview_items(
    doc: BeautifulSoup, page_url: str, *, source: str, publisher: str | None = None,
    overrides: dict[str, Verdict] | None = None, title: str | None = None,
) -> list[VerifiedItem]:
    """Items from a page's ClaimReview JSON-LD, identified by the page that was fetched.

    One review per page is the norm and takes the page URL (the fetched URL is the identity the
    refresh tracks). A page with several reviews keeps each review's own URL when they differ,
    else numbers them so they do not overwrite each other.
    """
    nodes = claimreviews(doc)
    items: list[VerifiedItem] = []
    page = canonical_url(page_url)
    shown = published_url(page_url)
    for n, node in enumerate(nodes):
        try:
            item = item_from_claimreview(node, source=source, fallback_url=page_url, overrides=overrides)
            own = canonical_url(item.url)
        except ValueError as exc:
            log.info("skipping a ClaimReview on %s: %s", page_url, exc)
            continue
        if len(nodes) == 1 or own == page:
            item.url = shown if n == 0 or own != page else f"{shown}?claimreview={n}"
        if publisher and not item.publisher:
            item.publisher = publisher
        if title and (not item.title or item.title == item.claim):
            item.title = title
        items.append(item)
    return items


def trafilatura_doc(html: str, url: str | None = None) -> dict[str, Any]:
    """Main text and metadata (title, date, description, sitename...) as a plain dict."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    except Exception as exc:  # noqa: BLE001 - trafilatura raises assorted errors on odd markup
        log.info("trafilatura failed on %s: %s", url, exc)
        return {}
    if document is None:
        return {}
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    return {k: v for k, v in data.items() if v not in (None, "", [])}




def first_date(*values: Any) -> str | None:
    """The first value that reads as a date with a year; "4 jam lalu" (4 hours ago) does not."""
    for value in values:
        parsed = parse_date(value)
        if parsed:
            return parsed
    return None


def split_prefix(title: str, labels: list[str]) -> tuple[str | None, str]:
    """``("Keliru", "Video ...")`` for ``"Keliru, Video ..."``; the longest known label wins.

    Tempo, Liputan6 and CekFakta put the verdict before a comma or colon instead of brackets.
    """
    lowered = title.lower()
    for label in sorted(labels, key=len, reverse=True):
        if lowered.startswith(label.lower()):
            rest = title[len(label):]
            if not rest or rest[0] in ",:;-–— ":
                return title[: len(label)], rest.lstrip(",:;-–— ").strip()
    return None, title


def page_items(
    source: Any, response: Any, *, labels: list[str] | None = None, title_selector: str = "h1",
    body_selector: str | None = None, require_claimreview: bool = False,
) -> list[VerifiedItem]:
    """Items of an article page on a site without a dedicated structure for the verdict.

    ClaimReview JSON-LD wins when present. Otherwise the title comes from ``title_selector``
    (or trafilatura's metadata), the verdict from a ``[LABEL]`` or ``Label,`` title prefix, and
    the text from ``body_selector`` or trafilatura. A page with neither title nor text is drift.
    """
    from factcheck.verdicts import label_from_title, strip_label

    doc = soup(response.text)
    reviews = claimreview_items(doc, response.url, source=source.name, publisher=source.publisher,
                                overrides=dict(source.verdicts))
    extracted = trafilatura_doc(response.text, response.url)
    if reviews:
        for item in reviews:
            item.text = item.text or str(extracted.get("text") or "")
            item.publisher = source.publisher if source.publisher else item.publisher
        return reviews
    if require_claimreview:
        raise source.drift("page has no ClaimReview JSON-LD", response.url)
    heading = doc.select_one(title_selector) if title_selector else None
    title_full = text_of(heading) or clean(str(extracted.get("title") or "")) or (meta(doc, "og:title") or "")
    body_node = doc.select_one(body_selector) if body_selector else None
    text = paragraphs(body_node) if body_node is not None else str(extracted.get("text") or "")
    if not title_full or not text:
        raise source.drift("page has no title or no main text", response.url)
    label = label_from_title(title_full)
    rest = strip_label(title_full)
    if label is None and labels:
        label, rest = split_prefix(title_full, labels)
    published = first_date(
        meta(doc, "article:published_time", "content_PublishedDate", "og:updated_time", "date"),
        extracted.get("date"),
    )
    description = meta(doc, "og:description", "description")
    language = source.language or identify_language(f"{rest or title_full} {text[:500]}")
    return [source.item(response.url, title=rest or title_full, claim=rest or title_full,
                        verdict_raw=label or "", published=published, text=text,
                        language=language,
                        extra={"description": description} if description else {})]
