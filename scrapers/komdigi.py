"""Komdigi (formerly Kominfo) hoax reports, read from the JSON endpoint behind its listing.

The public list at ``www.komdigi.go.id/berita/berita-hoaks`` is rendered by JavaScript from
``web.komdigi.go.id/api/v1/contents/category/berita-hoaks?perPage=N&page=P``, which returns
``{"data": [...], "last_page": N}`` (possibly wrapped in ``response``). Every record already holds
the title, slug, date and body, so no article page is fetched. Titles carry ``[HOAKS]``,
``[DISINFORMASI]`` or ``[MISINFORMASI]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from factcheck.models import Verdict
from factcheck.verdicts import label_from_title, strip_label

from .base import Link, SiteSource
from .discovery import paged_records
from .extract import clean, first_date, meta, paragraphs, soup, text_of, trafilatura_doc

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem

V = Verdict
VERDICTS: dict[str, Verdict] = {"hoaks": V.FALSE, "disinformasi": V.FALSE, "misinformasi": V.FALSE}


class Komdigi(SiteSource):
    """Hoax reports of the Ministry of Communication and Digital Affairs."""

    name = "komdigi"
    publisher = "Komdigi"
    base_url = "https://www.komdigi.go.id"
    hosts = ("komdigi.go.id",)
    verdicts = VERDICTS
    kind = "government"
    description = "komdigi.go.id berita hoaks via web.komdigi.go.id JSON endpoint"
    api_url: str | None = None
    per_page: int = 50
    options = ("api_url", "per_page")

    def _api(self) -> str:
        if self.api_url:
            return str(self.api_url)
        if self._relocated:
            return self.url("/api/v1/contents/category/berita-hoaks")
        return "https://web.komdigi.go.id/api/v1/contents/category/berita-hoaks"

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        headers = {"Referer": self.url("/berita/berita-hoaks"), "Origin": self.base_url,
                   "Accept": "application/json"}

        def fetch(page: int) -> Awaitable["Response"]:
            return fetcher.get(f"{self._api()}?perPage={int(self.per_page)}&page={page}",
                               headers=headers)

        def body_of(payload: Any) -> dict[str, Any]:
            body = payload.get("response", payload) if isinstance(payload, dict) else None
            return body if isinstance(body, dict) else {}

        def is_last(payload: Any, page: int, _records: list[Any]) -> bool:
            last = body_of(payload).get("last_page")
            return isinstance(last, int) and page >= last

        async for _response, record in paged_records(
            self, fetch, lambda payload: body_of(payload).get("data"), what="hoax endpoint",
            not_a_list="hoax endpoint answer has no data list",
            empty="hoax endpoint lists no reports", is_last=is_last,
        ):
            item = self.record_item(record)
            if item is not None:
                yield Link(item.url, published=item.published, title=item.title, item=item)

    def record_item(self, record: dict[str, Any]) -> "VerifiedItem | None":
        """One JSON record as an item; records without slug or title are skipped."""
        if not isinstance(record, dict):  # a list or a string in the data list: no record
            return None
        slug = clean(str(record.get("slug") or ""))
        title_full = clean(str(record.get("title") or ""))
        if not slug or not title_full:
            return None
        url = self.url(f"/berita/berita-hoaks/detail/{slug}")
        text = clean(str(record.get("body_text") or "")) or paragraphs(soup(str(record.get("body_html") or "")))
        tags = record.get("tags")
        extra = {k: v for k, v in {
            "id": record.get("id"), "excerpt": clean(str(record.get("excerpt") or "")) or None,
            "tags": tags if tags else None,
        }.items() if v}
        return self.item(url, title=strip_label(title_full), claim=strip_label(title_full),
                         verdict_raw=label_from_title(title_full) or "",
                         published=first_date(record.get("published_at")), text=text, extra=extra)

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        """A detail page, for links that did not come with their record."""
        doc = soup(response.text)
        title_full = text_of(doc.find("h1")) or meta(doc, "og:title") or ""
        if not title_full:
            raise self.drift("hoax report page has no title", response.url)
        extracted = trafilatura_doc(response.text, response.url)
        return [self.item(response.url, title=strip_label(title_full), claim=strip_label(title_full),
                          verdict_raw=label_from_title(title_full) or "",
                          published=first_date(meta(doc, "article:published_time"), extracted.get("date")),
                          text=str(extracted.get("text") or ""))]
