"""Liputan6 Cek Fakta: the ``cek-fakta`` RSS feed (listing page as fallback) and article pages.

Titles read "Cek Fakta: Hoaks ..." or "Cek Fakta: Tidak Benar ...": the verdict is the word(s)
after the column name. Articles are split into pages (``div.article-content-body__item-page``),
one of which has ``data-title="Kesimpulan"``. The pages carry NewsArticle JSON-LD, no ClaimReview.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from factcheck.errors import FetchError, RobotsDisallowed, StructureChanged
from factcheck.models import Verdict
from factcheck.verdicts import label_from_title, strip_label

from .base import Link, SiteSource
from .discovery import feed_links, paged_listing
from .extract import clean, first_date, meta, soup, split_prefix, text_of

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

log = logging.getLogger(__name__)
V = Verdict

VERDICTS: dict[str, Verdict] = {"hoaks": V.FALSE, "tidak benar": V.FALSE, "cek fakta": V.UNKNOWN}
LABELS = ["Hoaks", "Hoax", "Tidak Benar", "Salah", "Keliru", "Menyesatkan", "Disinformasi",
          "Misinformasi", "Sebagian Benar", "Benar", "Fakta", "Penipuan", "Satire", "Klarifikasi"]
_ARTICLE = re.compile(r"/cek-fakta/read/\d+")
_COLUMN = re.compile(r"^\s*cek\s+fakta\s*:\s*", re.I)


class Liputan6CekFakta(SiteSource):
    """Fact-checks of Liputan6.com (KLY)."""

    name = "liputan6"
    publisher = "Liputan6 Cek Fakta"
    base_url = "https://www.liputan6.com"
    hosts = ("liputan6.com",)
    verdicts = VERDICTS
    description = "feed.liputan6.com/rss/cek-fakta, then /cek-fakta listing"
    feed_url: str | None = None
    options = ("feed_url",)

    def _feed(self) -> str:
        if self.feed_url:
            return str(self.feed_url)
        return self.url("/rss/cek-fakta") if self._relocated else "https://feed.liputan6.com/rss/cek-fakta"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        try:
            async for link in feed_links(fetcher, self, self._feed()):
                if _ARTICLE.search(link.url):
                    yield link
            return
        except RobotsDisallowed:
            raise
        except (FetchError, StructureChanged) as exc:
            log.warning("%s: feed unusable (%s); reading the listing page", self.name, exc)
        async for link in paged_listing(
            fetcher, self, lambda n: self.url(f"/cek-fakta?page={n}"), _ARTICLE
        ):
            yield link

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        doc = soup(response.text)
        h1 = doc.select_one("h1.read-page--header--title") or doc.select_one("article h1")
        body = doc.select_one("div.article-content-body")
        if h1 is None or body is None:
            raise self.drift("no h1.read-page--header--title or div.article-content-body", response.url)
        title_full = text_of(h1)
        without_column = _COLUMN.sub("", title_full)
        label, rest = split_prefix(without_column, LABELS)
        if label is None:
            label = label_from_title(without_column)
            rest = strip_label(without_column)
        conclusion = None
        pages = []
        for page in body.select("div.article-content-body__item-page"):
            page_text = clean(page.get_text(" "))
            pages.append(page_text)
            if clean(str(page.get("data-title") or "")).lower() == "kesimpulan":
                conclusion = page_text.removeprefix("Kesimpulan").strip()
        text = "\n\n".join(pages) or clean(body.get_text(" "))
        published = first_date(meta(doc, "article:published_time", "og:updated_time"))
        description = meta(doc, "og:description", "description")
        article = doc.select_one("article[data-article-id]")
        extra = {k: v for k, v in {
            "conclusion": conclusion, "description": description,
            "article_id": article.get("data-article-id") if article else None,
        }.items() if v}
        return [self.item(response.url, title=rest or without_column, claim=rest or without_column,
                          verdict_raw=label or "", published=published, text=text, extra=extra)]
