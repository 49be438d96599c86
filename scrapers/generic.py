"""Generic sources a user points at any site: an RSS/Atom feed, a sitemap, a URL list, ClaimReview pages.

They are not enabled by default; each configured instance has its own name, for example in the
sources config file::

    [sources.afp-id]
    type = "feed"
    url = "https://example.org/feed/"
    publisher = "Example Fact Check"

Pages are parsed with :func:`scrapers.extract.page_items`: ClaimReview JSON-LD when present,
else the title prefix and trafilatura's main text. ``claimreview`` sources accept only pages that
carry ClaimReview and report the others as drift.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from factcheck.errors import InvalidInput
from factcheck.urls import is_http_url

from .base import Link, SiteSource
from .discovery import feed_links, sitemap_links
from .extract import page_items

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem


class _Generic(SiteSource):
    name = "generic"
    publisher = ""
    kind: ClassVar[str] = "generic"
    enabled_by_default = False
    url_option: str | None = None
    urls: list[str] | None = None
    file: str | None = None
    pattern: str | None = None
    require_claimreview: bool = False
    options: ClassVar[tuple[str, ...]] = (
        "name", "publisher", "url", "urls", "file", "pattern", "language", "require_claimreview",
    )

    def __init__(self, **options: Any) -> None:
        if "url" in options:
            options["url_option"] = options.pop("url")
        name = options.pop("name", None)
        publisher = options.pop("publisher", None)
        language = options.pop("language", None)
        url_option = options.pop("url_option", None)
        super().__init__(**options)
        self.name = str(name or type(self).name)  # type: ignore[misc]
        self.publisher = str(publisher or "")  # type: ignore[misc]
        # a site the user points at may be in any language: unless the config names one, each
        # page's is identified from its text ("" tells page_items to), never assumed Indonesian
        self.language = str(language or "")  # type: ignore[misc]
        self.url_option = url_option
        first = url_option or (self.urls[0] if self.urls else None)
        if first and not self.base_url:
            parts = urlsplit(str(first))
            self.base_url = f"{parts.scheme}://{parts.netloc}"
        self._relocated = False
        self._pattern = re.compile(self.pattern) if self.pattern else None

    def accept(self, url: str) -> bool:
        return self._pattern is None or bool(self._pattern.search(url))

    def _need_url(self) -> str:
        if not self.url_option or not is_http_url(str(self.url_option)):
            raise InvalidInput(f"source {self.name}: option 'url' must be an http(s) URL")
        return str(self.url_option)

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        items = page_items(self, response, require_claimreview=self.require_claimreview)
        if not self.publisher:
            return items
        for item in items:
            item.publisher = self.publisher
        return items


class FeedSource(_Generic):
    """Articles listed by an RSS or Atom feed."""

    name = "feed"
    description = "any RSS/Atom feed"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        async for link in feed_links(fetcher, self, self._need_url()):
            if self.accept(link.url):
                yield link


class SitemapSource(_Generic):
    """Articles listed by an XML sitemap or sitemap index, newest ``lastmod`` first."""

    name = "sitemap"
    description = "any XML sitemap or sitemap index"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        async for link in sitemap_links(fetcher, self, self._need_url(), accept=self.accept):
            yield link


class UrlListSource(_Generic):
    """A fixed list of article URLs, given inline (``urls``) or one per line in ``file``."""

    name = "urllist"
    description = "a list of URLs (inline or a file)"

    def _urls(self) -> list[str]:
        urls = list(self.urls or [])
        if self.file:
            lines = Path(str(self.file)).expanduser().read_text(encoding="utf-8").splitlines()
            urls += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        return urls

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        urls = self._urls()
        if not urls:
            raise self.drift("the URL list is empty", str(self.file or "urls"))
        for url in urls:
            if is_http_url(url) and self.accept(url):
                yield Link(url)


class ClaimReviewSource(UrlListSource):
    """Pages that must carry schema.org ClaimReview, listed inline, in a file, a feed or a sitemap."""

    name = "claimreview"
    description = "ClaimReview pages from a URL list, feed or sitemap"
    require_claimreview = True
    via: str = "urls"  # "urls", "feed" or "sitemap" (then 'url' is the feed or sitemap)
    options = _Generic.options + ("via",)

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        if self.via == "feed":
            async for link in feed_links(fetcher, self, self._need_url()):
                if self.accept(link.url):
                    yield link
        elif self.via == "sitemap":
            async for link in sitemap_links(fetcher, self, self._need_url(), accept=self.accept):
                yield link
        else:
            async for link in super().discover(fetcher):
                yield link
