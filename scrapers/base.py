"""The contract between a source and the refresh machinery.

A source knows two things about one site: where its newest pages are (``discover``) and how to
turn one fetched page into verified items (``parse``). Fetching, politeness, storage and
embedding are not its business, so a new source is one small module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from factcheck.models import VerifiedItem

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response


@dataclass
class Link:
    """A page a source wants fetched, newest first, with what the listing already told us."""

    url: str
    published: str | None = None
    title: str | None = None


class Source(Protocol):
    """What every built-in or plug-in source provides."""

    name: ClassVar[str]
    publisher: ClassVar[str]

    def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        """Yield article links, newest first; the caller stops when it reaches known URLs."""
        ...

    def parse(self, response: "Response") -> Iterable[VerifiedItem]:
        """Turn one fetched page into items; raise ``SourceError`` when the structure is missing."""
        ...
