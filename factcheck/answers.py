"""The answer to what a person pasted: one object that the CLI, the HTTP API and embedders share.

A pasted text may be one claim or a forwarded message with several claims and links; whether
to split it, which links to look up and which warnings to attach is decided once, by
:meth:`factcheck.api.FactChecker.answer`, so that every interface answers the same text the
same way. This module holds the result and its JSON form; the sentences come from
:mod:`factcheck.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import CheckResult, Tier, strongest_tier

if TYPE_CHECKING:  # pragma: no cover
    from .trust import SourceReport


@dataclass(frozen=True)
class Notice:
    """Something the reader must know to read the answer right: a code plus its values.

    ``code`` is stable for programs; the sentence is made in the reader's language.
    """

    code: str  # demo, filters, vectors_missing, keyword_only
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, lang: str) -> dict[str, Any]:
        from .render import notice_text

        return {"code": self.code, **self.params, "message": notice_text(self, lang)}


@dataclass
class LinkCheck:
    """A link found in the message and what is known about its source (nothing is fetched)."""

    url: str
    report: "SourceReport | None" = None
    #: Why the link was not looked up (not http(s), a private host, unreadable).
    refused: str | None = None

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        if self.report is None:
            return {"url": self.url, "checked": False, "refused": self.refused}
        return {"url": self.url, "checked": True, **self.report.to_dict(lang)}


@dataclass
class Answer:
    """Answers for each claim of a text, the links it carried and the notices that go with it."""

    text: str
    claims: list[str]
    results: list[CheckResult]
    #: True when the text was read as a forwarded message and answered claim by claim.
    split: bool
    links: list[LinkCheck] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: The text read from an image (:meth:`FactChecker.answer_image`), None for a pasted text:
    #: a person must be able to see what the answer was about when the OCR misread it.
    ocr_text: str | None = None

    @property
    def tier(self) -> Tier:
        return strongest_tier(self.results)

    @property
    def degraded(self) -> str | None:
        return next((r.degraded for r in self.results if r.degraded), None)

    def to_dict(self, lang: str) -> dict[str, Any]:
        """The stable JSON document: one claim keeps the single-claim shape, a split message
        lists its claims; both carry the citation and the sentence a person would read."""
        from .render import citation, headline

        common = {
            "message": headline(self, lang),
            "citation": citation(self, lang),
            "links": [link.to_dict(lang) for link in self.links],
            "notices": [n.to_dict(lang) for n in self.notices],
            "ui_lang": lang,
        }
        if self.ocr_text is not None:
            common["ocr_text"] = self.ocr_text
        if not self.split:
            return {**self.results[0].to_dict(), "split": False, **common}
        return {
            "status": self.tier.value,
            "split": True,
            **common,
            "claims": [
                {"claim": c, **r.to_dict(), "citation": citation(self, lang, only=n)}
                for n, (c, r) in enumerate(zip(self.claims, self.results))
            ],
            "dropped": self.dropped,
        }
