"""MAFINDO's fact-check database API (Yudistira / Global Fact-check Database).

``POST https://yudistira.turnbackhoax.id/api/antihoax/`` with an API key (given on request by
MAFINDO) returns records with ``id, title, content`` (the claim), ``fact``, ``conclusion``,
``classification`` (First Draft types), ``status`` (2 hoax, 1 fact), ``tanggal``, ``references``.
The form fields (``key``, ``limit``, ``offset``) follow MAFINDO's public v2 docs and could not be
checked against the live API here; the record parser is tested on a real saved record. The
source is off by default and needs ``api_key``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from factcheck.errors import InvalidInput
from factcheck.verdicts import label_from_title, strip_label

from .base import Link, SiteSource
from .discovery import paged_records
from .extract import clean, first_date
from .turnbackhoax import VERDICTS, parse_article

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response
    from factcheck.models import VerifiedItem


class MafindoApi(SiteSource):
    """Records of MAFINDO's API (needs an API key)."""

    name = "mafindo-api"
    publisher = "TurnBackHoax (MAFINDO)"
    base_url = "https://yudistira.turnbackhoax.id"
    hosts = ("yudistira.turnbackhoax.id",)
    verdicts = VERDICTS
    kind = "api"
    enabled_by_default = False
    description = "MAFINDO Yudistira API (POST, api_key required)"
    api_key: str | None = None
    item_url: str = "https://gfd.turnbackhoax.id/focus/{id}"
    per_page: int = 50
    options = ("api_key", "item_url", "per_page")

    async def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        if not self.api_key:
            raise InvalidInput(f"source {self.name} needs the option api_key (ask MAFINDO for one)")

        def fetch(page: int) -> Awaitable["Response"]:
            return fetcher.post(self.url("/api/antihoax/"), {
                "key": str(self.api_key), "limit": str(self.per_page),
                "offset": str(page * int(self.per_page)),
            })

        def records_of(payload: Any) -> Any:
            if isinstance(payload, dict):
                return payload.get("data", payload.get("result"))
            return payload

        async for _response, record in paged_records(
            self, fetch, records_of, what="API", first_page=0,
            not_a_list="API answer is not a list of records", empty="API returned no records",
        ):
            item = self.record_item(record)
            if item is not None:
                yield Link(item.url, published=item.published, title=item.title, item=item)

    def record_item(self, record: dict[str, Any]) -> "VerifiedItem | None":
        if not isinstance(record, dict):  # a list or a string in the data list: no record
            return None
        title_full = clean(str(record.get("title") or ""))
        if not title_full or not record.get("id"):
            return None
        label = label_from_title(title_full)
        classification = clean(str(record.get("classification") or "")) or None
        raw = label or classification or ""
        status = str(record.get("status") or "")
        refs = [r.strip() for r in str(record.get("references") or "").splitlines() if r.strip()]
        text = "\n\n".join(p for p in (clean(str(record.get("fact") or "")),
                                       clean(str(record.get("conclusion") or ""))) if p)
        extra = {k: v for k, v in {
            "classification": classification, "status": {"1": "fact", "2": "hoax"}.get(status),
            "references": refs, "source_link": record.get("source_link"),
            "source_issue": record.get("source_issue"), "conclusion": record.get("conclusion"),
        }.items() if v}
        return self.item(
            self.item_url.format(id=record["id"]), title=strip_label(title_full),
            claim=clean(str(record.get("content") or "")) or strip_label(title_full),
            verdict_raw=raw, published=first_date(record.get("tanggal")), text=text, extra=extra,
        )

    def parse(self, response: "Response") -> Iterable["VerifiedItem"]:
        return [parse_article(self, response)]
