"""The words of an answer: headlines, the lines of the CLI text, and the citation to paste.

One home for human text, so that ``factcheck check``, the HTTP ``message`` and ``citation``
fields and any embedder say the same thing. Everything shown comes from crawled pages and
forwarded messages, so it is cleaned of control and bidi-override characters here, whatever
the store holds.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from .i18n import CATALOGUE, format_date, text, verdict_label
from .models import CheckResult, Hit, Tier
from .text import base_language

if TYPE_CHECKING:  # pragma: no cover
    from .answers import Answer, LinkCheck, Notice

#: Cut a title at this length in a citation: a WhatsApp reply should fit on a phone screen.
CITATION_TITLE_CHARS = 160
CLAIM_SHOWN_CHARS = 200
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean(value: str | None, limit: int | None = None) -> str:
    """One line of display text: no control, format-override or line-break characters."""
    if not value:
        return ""
    value = _BIDI.sub("", value)
    value = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value
    )
    value = " ".join(value.split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def result_headline(result: CheckResult, lang: str) -> str:
    if result.degraded and result.tier is not Tier.MATCH:
        return text("tier.unchecked", lang)
    return text(f"tier.{result.tier.value}", lang)


def headline(answer: "Answer", lang: str) -> str:
    """The one sentence that sums up the answer (the HTTP ``message`` field)."""
    if not answer.split:
        return result_headline(answer.results[0], lang)
    counts = {tier: sum(r.tier is tier for r in answer.results) for tier in Tier}
    return text(
        "message.summary", lang, count=len(answer.claims), match=counts[Tier.MATCH],
        suggestion=counts[Tier.SUGGESTION], none=counts[Tier.NONE],
    )


def notice_text(notice: "Notice", lang: str) -> str:
    params = dict(notice.params)
    if "reason" in params:
        params["reason"] = text(f"reason.{params['reason']}", lang, **params)
    if "filters" in params and isinstance(params["filters"], dict):
        params["filters"] = "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in params["filters"].items()
        )
    return text(f"note.{notice.code}" if notice.code in ("demo", "filters", "repaired")
                else f"warn.{notice.code}", lang, **params)


def verdict_of(hit: Hit, lang: str) -> str:
    return verdict_label(clean(hit.item.verdict_raw), hit.item.verdict, lang)


def written_in(item_language: str | None, lang: str) -> list[str]:
    """``["berbahasa Inggris"]`` for a fact-check in another language than the reader's (a
    lead across languages must say why its words differ from the claim's); nothing for the
    reader's own language or one without a name in the catalogue."""
    code = base_language(item_language)
    if not code or code == lang or f"written.{code}" not in CATALOGUE:
        return []
    return [text(f"written.{code}", lang)]


def hit_lines(hit: Hit, lang: str, verbose: bool = False) -> list[str]:
    """A hit as the CLI shows it: verdict and title, where it came from, a snippet."""
    item = hit.item
    lines = [f"{hit.rank}. [{verdict_of(hit, lang)}] {clean(item.title)}"]
    meta = [clean(item.publisher) or text("hit.no_publisher", lang),
            format_date(item.published, lang), *written_in(item.language, lang), item.url]
    lines.append("   " + " · ".join(meta))
    data = hit.to_dict()
    snippet = clean(data["snippet"])
    if snippet and snippet != clean(item.title):
        lines.append(f"   {snippet}")
    if verbose:
        lines.append("   " + text("hit.scores", lang, dense=f"{hit.dense:.3f}",
                                    score=f"{hit.score:.3f}", keyword=f"{hit.keyword:.1f}"))
    return lines


def result_lines(result: CheckResult, lang: str, verbose: bool = False) -> list[str]:
    """One claim's answer: the headline, the fact-check that answers it, then the others."""
    lines = [result_headline(result, lang)]
    if result.tier is Tier.NONE:
        return lines
    sections = [("section.matches", result.matches),
                ("section.others" if result.matches else "section.related", result.others)]
    for key, hits in sections:
        if not hits:
            continue
        lines += ["", text(key, lang)]
        for hit in hits:
            lines += hit_lines(hit, lang, verbose)
    return lines


def link_line(link: "LinkCheck", lang: str) -> str:
    if link.report is None:
        return f"- {clean(link.url, 200)}: " + text("link.refused", lang,
                                                    reason=clean(link.refused, 200))
    return f"- {clean(link.url, 200)}: {clean(link.report.summary(lang))}"


def answer_lines(answer: "Answer", lang: str, verbose: bool = False) -> list[str]:
    """The whole answer as the CLI prints it to stdout."""
    if not answer.split:
        lines = result_lines(answer.results[0], lang, verbose)
    else:
        total = len(answer.claims)
        lines = [text("message.claims", lang, count=total)]
        for n, (claim, result) in enumerate(zip(answer.claims, answer.results), start=1):
            lines += ["", text("message.claim", lang, n=n, total=total,
                               claim=clean(claim, CLAIM_SHOWN_CHARS))]
            lines += result_lines(result, lang, verbose)
    if answer.links:
        lines += ["", text("links.header", lang)]
        lines += [link_line(link, lang) for link in answer.links]
    return lines


def claim_citation(result: CheckResult, lang: str) -> str:
    """What to paste back into the chat for one claim, in the reader's language."""
    if result.degraded and result.tier is not Tier.MATCH:
        return text("cite.unchecked", lang)
    if result.tier is Tier.NONE or not result.hits:
        return text("cite.none", lang)
    hit = result.hits[0]
    item = hit.item
    return text(
        "cite.match" if result.tier is Tier.MATCH else "cite.suggestion", lang,
        publisher=clean(item.publisher) or text("hit.no_publisher", lang),
        date=format_date(item.published, lang), verdict=verdict_of(hit, lang),
        title=f"\u201c{clean(item.title, CITATION_TITLE_CHARS)}\u201d", url=item.url,
    )


def citation(answer: "Answer", lang: str, only: int | None = None) -> str:
    """The ready-to-paste citation: one claim's, or every claim's with the risky links."""
    if only is not None:
        return claim_citation(answer.results[only], lang)
    if not answer.split:
        parts = [claim_citation(answer.results[0], lang)]
    else:
        parts = [
            text("cite.claim", lang, n=n, claim=clean(claim, 120)) + "\n"
            + claim_citation(result, lang)
            for n, (claim, result) in enumerate(zip(answer.claims, answer.results), start=1)
        ]
    for link in answer.links:
        report = link.report
        if report is not None and (report.lookalike_of or report.debunked
                                   or report.suspicious):
            parts.append(text("cite.link", lang, url=clean(link.url, 120),
                              summary=clean(report.summary(lang))))
    return "\n\n".join(parts)
