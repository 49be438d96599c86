"""CekFakta.com, the fact-check collaboration of AJI, AMSI and MAFINDO.

Discovery is the WordPress-style RSS feed ``/feed/``; items live at ``/focus/{id}``. No page of
the site was available to study, so the parser relies on ClaimReview JSON-LD when the page has
it and on the title prefix ("[HOAKS] ...", "Tidak Benar, ...") plus trafilatura otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from factcheck.models import Verdict

from .base import Link, SiteSource
from .discovery import feed_links
from .extract import page_items

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

V = Verdict
VERDICTS: dict[str, Verdict] = {"hoaks": V.FALSE, "tidak benar": V.FALSE, "keliru": V.FALSE}
LABELS = ["Tidak Benar", "Hoaks", "Hoax", "Salah", "Keliru", "Menyesatkan", "Sebagian Benar",
          "Benar", "Disinformasi", "Misinformasi", "Penipuan", "Satire", "Klarifikasi"]


class CekFaktaCom(SiteSource):
    """The cekfakta.com collaboration feed."""

    name = "cekfakta"
    publisher = "CekFakta.com"
    base_url = "https://cekfakta.com"
    hosts = ("cekfakta.com",)
    verdicts = VERDICTS
    description = "cekfakta.com /feed/ and /focus/{id} pages"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        async for link in feed_links(fetcher, self, self.url("/feed/")):
            yield link

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        return page_items(self, response, labels=LABELS)
