"""menpan.go.id news: the ministry (KemenPAN-RB) behind circular SE 137/2018 on hoaxes.

A government source: its news (``/site/berita-terkini/{section}/{slug}``) carries official
statements and clarifications. Most items are news, not verdicts; they are stored with the
label their title gives (``[HOAKS]``, "Klarifikasi") or none, and are then classed unknown.
The listing is a Joomla-style page walked with ``?start=N`` offsets.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from factcheck.models import Verdict

from .base import Link, SiteSource
from .discovery import listing_links
from .extract import page_items

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

V = Verdict
VERDICTS: dict[str, Verdict] = {"hoaks": V.FALSE, "klarifikasi": V.UNPROVEN}
LABELS = ["Hoaks", "Hoax", "Klarifikasi", "Disinformasi"]
_ARTICLE = re.compile(r"/site/berita-terkini/[^/?#]+/[^/?#]+$")


class Menpan(SiteSource):
    """News of the Ministry of Administrative and Bureaucratic Reform."""

    name = "menpan"
    publisher = "KemenPAN-RB"
    base_url = "https://www.menpan.go.id"
    hosts = ("menpan.go.id",)
    verdicts = VERDICTS
    kind = "government"
    description = "menpan.go.id /site/berita-terkini news listing"
    page_size: int = 10
    options = ("page_size",)

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        seen: set[str] = set()
        for page in range(self.max_pages):
            start = page * int(self.page_size)
            url = self.url("/site/berita-terkini" + (f"?start={start}" if start else ""))
            response = await fetcher.get(url)
            links = [lk for lk in listing_links(self, response.text, response.url, _ARTICLE)
                     if lk.url not in seen]
            if not links:
                if page == 0:
                    raise self.drift("news listing has no article links", response.url)
                return
            for link in links:
                seen.add(link.url)
                yield link

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        return page_items(self, response, labels=LABELS)
