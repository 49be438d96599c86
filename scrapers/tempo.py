"""Tempo Cek Fakta (cekfakta.tempo.co): monthly archive pages and article pages.

The archive is ``/{YYYY}/{MM}``; cards are ``article.text-card`` with ``h2.title a`` and
``h4.date``. The verdict is the first word(s) of the title ("Keliru, ...") and the verdict image
(``/images/cekfakta/keliru_teks.png``); the claim is the lead block before PEMERIKSAAN FAKTA and
the conclusion follows a KESIMPULAN heading. Old ``/fakta/{id}`` URLs may redirect to the home
page (a soft 404), which the parser reports as drift instead of storing the home page.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import TYPE_CHECKING

from factcheck.models import Verdict
from factcheck.verdicts import label_from_title, strip_label

from .base import Link, SiteSource
from .extract import clean, first_date, meta, soup, split_prefix, text_of

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

V = Verdict

VERDICTS: dict[str, Verdict] = {
    "keliru": V.FALSE, "sesat": V.MISLEADING, "menyesatkan": V.MISLEADING,
    "tidak terbukti": V.UNPROVEN, "sebagian benar": V.MIXED, "benar": V.TRUE,
    "fakta atau hoaks": V.UNKNOWN,  # an old column name, not a verdict
}
#: Title prefixes Tempo uses, longest first when matching.
LABELS = ["Keliru", "Menyesatkan", "Sesat", "Tidak Terbukti", "Sebagian Benar", "Benar"]
_IMAGE = re.compile(r"/cekfakta/([a-z_]+?)(?:_teks)?\.(?:png|jpe?g|svg|webp)", re.I)
_ARTICLE = re.compile(r"/fakta/\d+")


def _month_back(year: int, month: int, steps: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - steps
    return index // 12, index % 12 + 1


class TempoCekFakta(SiteSource):
    """Fact-checks of Tempo on cekfakta.tempo.co."""

    name = "tempo"
    publisher = "Tempo Cek Fakta"
    base_url = "https://cekfakta.tempo.co"
    hosts = ("cekfakta.tempo.co",)
    verdicts = VERDICTS
    description = "cekfakta.tempo.co monthly archive /{YYYY}/{MM}"
    max_pages = 24  # months walked back at most
    start_month: str | None = None  # "YYYY-MM"; default: this month
    options = ("start_month",)

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        if self.start_month:
            year, month = (int(x) for x in str(self.start_month).split("-")[:2])
        else:
            today = date.today()
            year, month = today.year, today.month
        seen: set[str] = set()
        for step in range(self.max_pages):
            y, m = _month_back(year, month, step)
            response = await fetcher.get(self.url(f"/{y:04d}/{m:02d}"))
            links = self.index_links(response.text, response.url)
            if not links and step == 0:
                raise self.drift("monthly index has no article cards (article.text-card)", response.url)
            for link in links:
                if link.url not in seen:
                    seen.add(link.url)
                    yield link

    def index_links(self, html: str, page_url: str) -> list[Link]:
        """Cards of a monthly index page, in page order, with their dates when absolute."""
        doc = soup(html)
        container = doc.select_one("main.main-left") or doc
        links: list[Link] = []
        for card in container.select("article.text-card"):
            anchor = card.select_one("h2 a[href], h3 a[href], a[href]")
            if anchor is None:
                continue
            url = self.rebase(str(anchor["href"]), page_url)
            if not _ARTICLE.search(url):
                continue
            links.append(Link(url, published=first_date(text_of(card.select_one("h4.date"))),
                              title=text_of(anchor) or None))
        return links

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        doc = soup(response.text)
        article = doc.select_one("article.detail-artikel")
        h1 = article.select_one("h1") if article else None
        if article is None or h1 is None:
            raise self.drift("no article.detail-artikel with h1 (soft 404 to the home page?)", response.url)
        title_full = text_of(h1)
        label, rest = split_prefix(title_full, LABELS)
        if label is None:
            label = label_from_title(title_full)
            rest = strip_label(title_full)
        body = article.select_one("div.detail-in")
        image_label = None
        if body is not None:
            for img in body.find_all("img", src=True):
                m = _IMAGE.search(str(img["src"]))
                if m:
                    image_label = m.group(1).replace("_", " ")
                    break
        raw = label or (image_label.title() if image_label else "")
        lead = body.select_one("div.fw-bolder") if body else None
        text = clean(body.get_text(" ")) if body else ""
        conclusion = None
        m = re.search(r"\bKESIMPULAN\b\s*(.+)", text)
        if m:
            conclusion = clean(m.group(1))[:2000]
        published = first_date(meta(doc, "article:published_time", "og:updated_time"),
                               text_of(article.select_one("h4.date")))
        extra = {k: v for k, v in {"conclusion": conclusion, "verdict_image": image_label}.items() if v}
        return [self.item(response.url, title=rest or title_full, claim=text_of(lead) or rest,
                          verdict_raw=raw, published=published, text=text, extra=extra)]
