"""Newest-first discovery helpers: feeds, sitemaps, listing pages and WordPress REST.

Every helper yields :class:`~scrapers.base.Link` objects newest first and lazily, so the refresh
can stop at the first already-known URL without having fetched the rest of the archive. A
listing that should contain links but does not raises ``StructureChanged``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import feedparser
from lxml import etree

from factcheck.dates import parse_date
from factcheck.models import VerifiedItem

from .base import Link, SiteSource
from .extract import clean, soup

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response

log = logging.getLogger(__name__)


# -- feeds ------------------------------------------------------------------------------


def feed_entries(response: "Response") -> list[Any]:
    """Entries of an RSS/Atom feed (feedparser), newest first; empty when it is not a feed.

    feedparser raises on some broken feeds instead of flagging them (``&#xD800;`` is a
    ValueError from ``chr``, a stray byte in a declared encoding a UnicodeDecodeError): such a
    body is no feed either, which the caller reports as drift rather than a crash.
    """
    try:
        parsed = feedparser.parse(response.content,
                                  response_headers={"content-location": response.url})
    except Exception as exc:  # noqa: BLE001 - a third-party parser's assorted errors on odd input
        log.info("unreadable feed at %s: %s: %s", response.url, type(exc).__name__, exc)
        return []
    if parsed.bozo and not parsed.entries:
        return []
    entries = list(parsed.entries)
    entries.sort(key=lambda e: _entry_date(e) or "", reverse=True)
    return entries


def _entry_date(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return f"{value.tm_year:04d}-{value.tm_mon:02d}-{value.tm_mday:02d}"
    return parse_date(entry.get("published") or entry.get("updated"))


async def feed_links(
    fetcher: "Fetcher", source: SiteSource, url: str,
    to_item: Callable[[Any, str], VerifiedItem | None] | None = None,
) -> AsyncIterator[Link]:
    """Links of a feed; ``to_item`` may build the whole item from an entry (full-text feeds)."""
    response = await fetcher.get(url)
    entries = feed_entries(response)
    if not entries:
        raise source.drift("no feed entries", response.url)
    for entry in entries:
        href = entry.get("link")
        if not href:
            continue
        link = source.rebase(href, response.url)
        item = to_item(entry, link) if to_item else None
        yield Link(link, published=_entry_date(entry), title=clean(entry.get("title")), item=item)


# -- sitemaps ---------------------------------------------------------------------------

_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def parse_sitemap(content: bytes) -> tuple[str, list[tuple[str, str | None]]]:
    """``("index"|"urlset", [(loc, lastmod), ...])`` newest first (no lastmod sorts last)."""
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                recover=True))
    except etree.XMLSyntaxError:
        return "invalid", []
    if root is None or not isinstance(root.tag, str):
        return "invalid", []
    # not etree.QName(root): recovering from broken XML can leave a tag such as "image:image"
    # (an undeclared prefix), for which QName raises ValueError
    tag = root.tag.rsplit("}", 1)[-1]
    kind = "index" if tag == "sitemapindex" else "urlset" if tag == "urlset" else "invalid"
    child = "sitemap" if kind == "index" else "url"
    entries = []
    for node in root.iter(_NS + child, child):
        try:
            loc = node.findtext(_NS + "loc") or node.findtext("loc")
            lastmod = node.findtext(_NS + "lastmod") or node.findtext("lastmod")
        except UnicodeError:  # recovering lxml keeps invalid UTF-8, and fails when it is read
            continue
        if loc and loc.strip():
            entries.append((loc.strip(), lastmod.strip() if lastmod else None))
    entries.sort(key=lambda e: e[1] or "", reverse=True)
    return kind, entries


async def sitemap_links(
    fetcher: "Fetcher", source: SiteSource, url: str, *, accept: Callable[[str], bool] | None = None,
    max_sitemaps: int = 50,
) -> AsyncIterator[Link]:
    """Walk a sitemap or sitemap index newest first (by ``lastmod``), fetching sub-sitemaps lazily."""
    todo = [url]
    seen = 0
    yielded = False
    while todo and seen < max_sitemaps:
        current = todo.pop(0)
        seen += 1
        response = await fetcher.get(current)
        kind, entries = parse_sitemap(response.content)
        if kind == "invalid":
            raise source.drift("not a sitemap", response.url)
        if kind == "index":
            # newest sub-sitemaps first, before anything still queued
            todo[:0] = [source.rebase(loc, response.url) for loc, _ in entries]
            continue
        for loc, lastmod in entries:
            link = source.rebase(loc, response.url)
            if accept is None or accept(link):
                yielded = True
                yield Link(link, published=parse_date(lastmod))
    if not yielded:
        raise source.drift("sitemap lists no article URLs", url)


# -- listing pages ----------------------------------------------------------------------


def listing_links(source: SiteSource, html: str, page_url: str, pattern: re.Pattern[str]) -> list[Link]:
    """Article links on a listing page, in page order (listings show newest first).

    Only links on the source's own site whose path matches ``pattern`` count; duplicates (image
    link and title link of the same card) are collapsed.
    """
    doc = soup(html)
    links: list[Link] = []
    seen: set[str] = set()
    for anchor in doc.find_all("a", href=True):
        url = source.rebase(str(anchor["href"]), page_url)
        if not source.owns(url) or not pattern.search(url) or url in seen:
            continue
        seen.add(url)
        title = clean(anchor.get_text(" ")) or None
        links.append(Link(url, title=title))
    return links


async def paged_listing(
    fetcher: "Fetcher", source: SiteSource, page_url: Callable[[int], str], pattern: re.Pattern[str],
    *, first_page: int = 1, dates: Callable[[str], dict[str, str]] | None = None,
    error_marker: str | None = None,
) -> AsyncIterator[Link]:
    """Walk numbered listing pages until one has no new article links (or ``max_pages``).

    An empty *first* page is drift (or the site is serving an error page), never "nothing new";
    a page containing ``error_marker`` (the site's own error message) is an error on any page.
    """
    seen: set[str] = set()
    for number in range(first_page, first_page + source.max_pages):
        response = await fetcher.get(page_url(number))
        if error_marker and error_marker in response.text.lower():
            raise source.drift("the site served its error page instead of the listing", response.url)
        links = [link for link in listing_links(source, response.text, response.url, pattern)
                 if link.url not in seen]
        if not links:
            if number == first_page:
                raise source.drift("listing page has no article links", response.url)
            log.info("%s: listing ends at page %d", source.name, number)
            return
        when = dates(response.text) if dates else {}
        for link in links:
            seen.add(link.url)
            link.published = link.published or when.get(link.url)
            yield link


# -- paged JSON APIs -------------------------------------------------------------------


async def paged_records(
    source: SiteSource, fetch_page: Callable[[int], Awaitable["Response"]],
    records_of: Callable[[Any], Any], *, what: str, not_a_list: str, empty: str,
    first_page: int = 1, is_last: Callable[[Any, int, list[Any]], bool] | None = None,
) -> AsyncIterator[tuple["Response", Any]]:
    """Each record of a paged JSON API, with the response it came in, newest page first.

    One walk for every API (komdigi, MAFINDO, WordPress REST): page numbers from
    ``first_page`` up to ``max_pages``; an answer that is not a list of records is drift on any
    page, an empty *first* page is drift too (a live archive is never empty), an empty later
    page or ``is_last(payload, page, records)`` ends the walk.
    """
    for page in range(first_page, first_page + source.max_pages):
        response = await fetch_page(page)
        payload = source.json_of(response, what)
        records = records_of(payload)
        if not isinstance(records, list):
            raise source.drift(not_a_list, response.url)
        if not records:
            if page == first_page:
                raise source.drift(empty, response.url)
            return
        for record in records:
            yield response, record
        if is_last is not None and is_last(payload, page, records):
            return


# -- WordPress REST ---------------------------------------------------------------------


async def wp_rest_links(
    fetcher: "Fetcher", source: SiteSource, api_url: str,
    to_item: Callable[[dict[str, Any], str], VerifiedItem | None], *, per_page: int = 50,
) -> AsyncIterator[Link]:
    """Posts from ``/wp-json/wp/v2/posts`` newest first; each post becomes a whole item."""
    sep = "&" if "?" in api_url else "?"

    def fetch(page: int) -> Awaitable["Response"]:
        return fetcher.get(f"{api_url}{sep}per_page={per_page}&page={page}&orderby=date&order=desc")

    async for response, post in paged_records(
        source, fetch, lambda posts: posts, what="WordPress REST",
        not_a_list="WordPress REST answer is not a list of posts",
        empty="WordPress REST lists no posts",
        is_last=lambda _payload, _page, posts: len(posts) < per_page,
    ):
        href = post.get("link") if isinstance(post, dict) else None
        if not href or not isinstance(href, str):
            continue
        link = source.rebase(str(href), response.url)
        yield Link(link, published=parse_date(post.get("date")), item=to_item(post, link))
