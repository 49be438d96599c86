"""TurnBackHoax.id (MAFINDO): the current ``/articles/{id}-{slug}`` site and the legacy WordPress feed.

The current site (Laravel) lists articles at ``/articles?page=N`` and gives every article fixed
sections: Narasi (the hoax as it circulated), Penjelasan, Kesimpulan, Hasil Periksa Fakta (the
label) and Referensi, plus a ClaimReview JSON-LD block. Some saved pages nest those sections
oddly (a malformed ``<span>`` swallows a section boundary), so the sections are read by their
``<strong>`` headings in document order rather than by container.

The site is slow and sometimes serves an error page ("Terjadi kesalahan saat mengambil data")
instead of a listing: that is drift/an outage, never the end of the archive.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from bs4 import BeautifulSoup, NavigableString, Tag

from factcheck.dates import parse_date
from factcheck.errors import FetchError, StructureChanged
from factcheck.models import Verdict, VerifiedItem
from factcheck.verdicts import label_from_title, strip_label

from .base import Link, SiteSource
from .discovery import feed_links, paged_listing, wp_rest_links
from .extract import claimreviews, clean, first_date, paragraphs, soup, text_of

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response

log = logging.getLogger(__name__)

V = Verdict

#: MAFINDO's own labels and categories (title prefixes, "Hasil Periksa Fakta", legacy categories,
#: the First Draft types its API uses) beyond the shared vocabulary.
VERDICTS: dict[str, Verdict] = {
    "hasut": V.FALSE, "fitnah / hasut / hoax": V.FALSE, "fitnah/hasut/hoax": V.FALSE,
    "hoax / hasut / fitnah": V.FALSE, "salah kutip": V.MISLEADING, "salah konteks": V.MISLEADING,
    "konten yang salah": V.FALSE, "konten salah": V.FALSE, "konteks yang salah": V.MISLEADING,
    "konten yang menyesatkan": V.MISLEADING, "konten yang dimanipulasi": V.FALSE,
    "konten yang direkayasa": V.FALSE, "konten buatan": V.FALSE, "koneksi yang salah": V.MISLEADING,
    "konten peniru": V.FALSE, "fabricated content": V.FALSE, "imposter content": V.FALSE,
    "false context": V.MISLEADING, "misleading content": V.MISLEADING,
    "manipulated content": V.FALSE, "false connection": V.MISLEADING, "satire or parody": V.SATIRE,
    "satire": V.SATIRE, "benar": V.TRUE, "fakta": V.TRUE,
}

_ARTICLE = re.compile(r"/articles/\d+(-[^/?#]*)?$")
_SECTIONS = ("narasi", "penjelasan", "kesimpulan", "hasil periksa fakta", "referensi")
_ERROR_TEXT = "terjadi kesalahan saat mengambil data"
CLAIM_CHARS = 600


def _short(text: str, limit: int = CLAIM_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _card_dates(html: str) -> dict[str, str]:
    """Card link → date from the list page (``span.text-light-black`` DD/MM/YYYY)."""
    doc = soup(html)
    dates: dict[str, str] = {}
    for card in doc.select("div.news-card-h-alt, div.news-card-h"):
        anchor = card.find("a", href=True)
        when = card.select_one("span.text-light-black")
        if anchor and when:
            parsed = parse_date(text_of(when))
            if parsed:
                dates[str(anchor["href"])] = parsed
    return dates


def sections(main: Tag) -> dict[str, str]:
    """Text under each section heading (Narasi, Penjelasan, ...), whatever the nesting."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for node in main.descendants:
        if not isinstance(node, NavigableString) or isinstance(node.parent, Tag) and node.parent.name in (
            "script", "style"
        ):
            continue
        if type(node) is not NavigableString:  # comments, CDATA and the like
            continue
        text = clean(str(node))
        if not text:
            continue
        parent = node.parent
        if parent is not None and parent.name == "strong" and text.lower().rstrip(":") in _SECTIONS:
            current = text.lower().rstrip(":")
            found.setdefault(current, [])
            continue
        if current is not None:
            found[current].append(text)
    return {k: clean(" ".join(v)) for k, v in found.items()}


class TurnBackHoax(SiteSource):
    """Fact-checks of MAFINDO on turnbackhoax.id (current site)."""

    name = "turnbackhoax"
    publisher = "TurnBackHoax (MAFINDO)"
    base_url = "https://turnbackhoax.id"
    hosts = ("turnbackhoax.id",)
    verdicts = VERDICTS
    description = "turnbackhoax.id /articles listing; Narasi/Penjelasan/Kesimpulan/Hasil Periksa Fakta"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        def dates(html: str) -> dict[str, str]:
            return {self.rebase(k): v for k, v in _card_dates(html).items()}

        async for link in paged_listing(
            fetcher, self, lambda n: self.url(f"/articles?page={n}"), _ARTICLE, dates=dates,
            error_marker=_ERROR_TEXT,
        ):
            yield link

    def parse(self, response: "Response") -> Iterable[VerifiedItem]:
        return [parse_article(self, response)]


def parse_article(source: SiteSource, response: "Response") -> VerifiedItem:
    """One TurnBackHoax article, current layout or legacy WordPress layout."""
    doc = soup(response.text)
    main = doc.select_one("section.article--main")
    if main is not None:
        return _parse_current(source, response, doc, main)
    if doc.select_one("div.entry-content") is not None:
        return _parse_legacy(source, response, doc)
    if _ERROR_TEXT in doc.get_text(" ").lower():
        raise source.drift("the site served its error page instead of the article", response.url)
    raise source.drift("no article sections (section.article--main or div.entry-content)", response.url)


def _parse_current(source: SiteSource, response: "Response", doc: BeautifulSoup, main: Tag) -> VerifiedItem:
    h1 = doc.find("h1")
    title_full = text_of(h1) if h1 else ""
    reviews = claimreviews(doc)
    review: dict[str, Any] = reviews[0] if reviews else {}
    if not title_full:
        title_full = clean(str(review.get("claimReviewed") or ""))
    if not title_full:
        raise source.drift("article has no title (h1)", response.url)
    parts = sections(main)
    if not ({"narasi", "penjelasan", "kesimpulan"} & set(parts)):
        raise source.drift("article has none of Narasi/Penjelasan/Kesimpulan", response.url)
    result = main.select_one("span.factcheck-result")
    result_label = text_of(result) or None
    rating = review.get("reviewRating")
    if not isinstance(rating, dict):
        rating = {}
    title_label = label_from_title(title_full)
    raw = next(
        (lab for lab in (title_label, result_label, rating.get("alternateName")) if lab
         and source.verdict(lab) is not Verdict.UNKNOWN),
        title_label or result_label or rating.get("alternateName") or "",
    )
    when = doc.find("time")
    published = first_date(
        when.get("datetime") if isinstance(when, Tag) else None, review.get("datePublished")
    )
    category = text_of(doc.select_one("p a.text-light-blue")) or None
    references = [str(a["href"]) for a in main.select("section.article-references a[href]")]
    origins = [str(a["href"]) for a in main.select("section.article-factcheck span.factcheck-source a[href]")]
    narasi = parts.get("narasi", "")
    body = "\n\n".join(
        f"{name.title()}: {parts[name]}" for name in ("narasi", "penjelasan", "kesimpulan") if parts.get(name)
    )
    extra: dict[str, Any] = {
        k: v for k, v in {
            "category": category, "references": references, "hoax_sources": origins,
            "conclusion": parts.get("kesimpulan"), "labels": [lab for lab in (
                title_label, result_label, rating.get("alternateName")) if lab],
            "canonical": review.get("url"),
        }.items() if v
    }
    return source.item(
        response.url, title=strip_label(title_full), claim=_short(narasi) if narasi else strip_label(title_full),
        verdict_raw=str(raw), published=published, text=body, extra=extra,
    )


def _parse_legacy(source: SiteSource, response: "Response", doc: BeautifulSoup) -> VerifiedItem:
    """The WordPress (MH theme) article: ``h1.entry-title``, ``div.entry-content``."""
    h1 = doc.select_one("h1.entry-title") or doc.find("h1")
    title_full = text_of(h1)
    if not title_full:
        raise source.drift("legacy article has no h1.entry-title", response.url)
    content = doc.select_one("div.entry-content")
    body = paragraphs(content)
    label = label_from_title(title_full) or ""
    when = doc.select_one("span.entry-meta-date")
    meta_time = doc.find("meta", attrs={"property": "article:published_time"})
    published = first_date(
        meta_time.get("content") if isinstance(meta_time, Tag) else None, text_of(when), _date_from_url(response.url)
    )
    categories = text_of(doc.select_one("span.entry-meta-categories")) or None
    return source.item(
        response.url, title=strip_label(title_full), claim=_legacy_claim(body, title_full),
        verdict_raw=label, published=published, text=body,
        extra={k: v for k, v in {"category": categories}.items() if v},
    )


def _date_from_url(url: str) -> str | None:
    m = re.search(r"/(\d{4})/(\d{2})/(\d{2})/", url)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


_NARASI = re.compile(r"narasi\s*:?\s*(.+?)(?:penjelasan|kesimpulan|referensi|$)", re.I | re.S)


def _legacy_claim(body: str, title: str) -> str:
    m = _NARASI.search(body)
    if m and clean(m.group(1)):
        return _short(clean(m.group(1)))
    return strip_label(title)


class TurnBackHoaxLegacy(SiteSource):
    """The legacy WordPress turnbackhoax.id: RSS ``/feed/``, falling back to ``/wp-json``.

    The site moved to ``/articles/`` in 2025; this source stays for mirrors and old archives and
    is off unless asked for.
    """

    name = "turnbackhoax-legacy"
    publisher = "TurnBackHoax (MAFINDO)"
    base_url = "https://turnbackhoax.id"
    hosts = ("turnbackhoax.id",)
    verdicts = VERDICTS
    enabled_by_default = False
    description = "legacy WordPress turnbackhoax.id: /feed/ then /wp-json/wp/v2/posts"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        try:
            async for link in feed_links(fetcher, self, self.url("/feed/"), self._entry_item):
                yield link
            return
        except (FetchError, StructureChanged) as exc:
            if isinstance(exc, FetchError) and exc.__class__.__name__ == "RobotsDisallowed":
                raise
            log.warning("%s: feed unusable (%s); trying WordPress REST", self.name, exc)
        async for link in wp_rest_links(fetcher, self, self.url("/wp-json/wp/v2/posts"), self._post_item):
            yield link

    def parse(self, response: "Response") -> Iterable[VerifiedItem]:
        return [parse_article(self, response)]

    def _from_html(self, url: str, title_full: str, html: str, published: str | None) -> VerifiedItem | None:
        title_full = clean(title_full)
        if not title_full or not html:
            return None
        body = paragraphs(soup(html))
        return self.item(
            url, title=strip_label(title_full), claim=_legacy_claim(body, title_full),
            verdict_raw=label_from_title(title_full) or "", published=published or _date_from_url(url),
            text=body,
        )

    def _entry_item(self, entry: Any, url: str) -> VerifiedItem | None:
        content = entry.get("content")
        html = content[0].get("value") if content else entry.get("summary", "")
        published = parse_date(entry.get("published") or entry.get("updated"))
        return self._from_html(url, entry.get("title", ""), html or "", published)

    def _post_item(self, post: dict[str, Any], url: str) -> VerifiedItem | None:
        title, html = (_rendered(post.get(key)) for key in ("title", "content"))
        return self._from_html(url, soup(title).get_text(), html, parse_date(post.get("date")))


def _rendered(field: Any) -> str:
    """``field["rendered"]`` of a WordPress REST post, or "" when the answer has another shape."""
    value = field.get("rendered", "") if isinstance(field, dict) else ""
    return value if isinstance(value, str) else ""
