"""Kompas.com Cek Fakta: the ``/cekfakta`` listing and ``/cekfakta/read/{Y}/{M}/{D}/{id}/{slug}`` pages.

No feed or API is known; discovery reads the listing pages (``?page=N``) and keeps links with the
article URL pattern, whose path also gives the date. Titles carry ``[HOAKS]``, ``[KLARIFIKASI]``;
``INFOGRAFIK`` items are infographics of the same verdicts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from factcheck.models import Verdict

from .base import Link, SiteSource
from .discovery import paged_listing
from .extract import page_items

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

V = Verdict
VERDICTS: dict[str, Verdict] = {"hoaks": V.FALSE, "infografik": V.UNKNOWN}
_ARTICLE = re.compile(r"/cekfakta/read/(\d{4})/(\d{2})/(\d{2})/\d+")


class KompasCekFakta(SiteSource):
    """Fact-checks of Kompas.com."""

    name = "kompas"
    publisher = "Kompas.com Cek Fakta"
    base_url = "https://www.kompas.com"
    hosts = ("kompas.com",)
    verdicts = VERDICTS
    description = "kompas.com/cekfakta listing pages"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        async for link in paged_listing(fetcher, self, lambda n: self.url(f"/cekfakta?page={n}"), _ARTICLE):
            m = _ARTICLE.search(link.url)
            if m and not link.published:
                link.published = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
            yield link

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        return page_items(self, response, title_selector="h1.read__title, h1",
                          body_selector="div.read__content")
