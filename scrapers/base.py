"""The contract between a source and the refresh machinery.

A source knows two things about one site: where its newest pages are (``discover``) and how to
turn one fetched page into verified items (``parse``). Fetching, politeness, storage and
embedding are not its business, so a new source is one small module.

:class:`SiteSource` is an optional base class for sources that scrape one site: it holds the
configurable base URL (tests point it at 127.0.0.1), rebases the site's own absolute links onto
it, applies the publisher's verdict vocabulary and stamps items with the source's name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit, urlunsplit

from factcheck.errors import InvalidInput, StructureChanged
from factcheck.models import Verdict, VerifiedItem
from factcheck.urls import published_url
from factcheck.verdicts import normalise

if TYPE_CHECKING:  # pragma: no cover
    from factcheck.fetch import Fetcher, Response

log = logging.getLogger(__name__)

#: In a Python string every surrogate code point is a lone one (pairs are single characters).
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD.

    JSON (an API answer, a JSON-LD block) may escape one (``"\\ud800"``); such a string
    cannot be encoded as UTF-8, and the store, failing on it, refused the whole batch of a
    refresh with it.
    """
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


@dataclass
class Link:
    """A page a source wants fetched, newest first, with what the listing already told us.

    When the listing itself carries the whole item (a JSON API, a full-text feed), ``item`` is
    set and the page is not fetched at all.
    """

    url: str
    published: str | None = None  # YYYY-MM-DD when the listing shows it
    title: str | None = None
    item: VerifiedItem | None = None


@runtime_checkable
class Source(Protocol):
    """What every built-in or plug-in source provides."""

    name: str
    publisher: str

    def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:
        """Yield article links, newest first; the caller stops when it reaches known URLs.

        Raise ``StructureChanged`` when a listing lacks what the source expects, so that a
        redesigned site shows up as an unhealthy source and not as "nothing new".
        """
        ...

    def parse(self, response: "Response") -> Iterable[VerifiedItem]:
        """Turn one fetched page into items; raise ``StructureChanged`` when the structure is missing."""
        ...


class SiteSource:
    """Shared plumbing for a source that scrapes one site.

    Subclasses set the class attributes and implement ``discover`` and ``parse``. Options given
    to ``__init__`` override attributes of the same name (``base_url``, ``max_pages``, and
    whatever a subclass declares in ``options``); unknown options are an error, not a silent
    typo.
    """

    name: ClassVar[str]
    publisher: ClassVar[str]
    base_url: str = ""
    #: Hosts of the real site; their absolute links are rebased onto ``base_url``.
    hosts: ClassVar[tuple[str, ...]] = ()
    #: The publisher's own labels (lower-cased) on top of :data:`factcheck.verdicts.COMMON_LABELS`.
    verdicts: ClassVar[Mapping[str, Verdict]] = {}
    language: ClassVar[str] = "id"
    kind: ClassVar[str] = "site"
    enabled_by_default: ClassVar[bool] = True
    description: ClassVar[str] = ""
    #: Listing pages walked at most in one run; discovery is lazy, so this is only a bound.
    max_pages: int = 50
    #: Extra option names a subclass accepts (besides base_url and max_pages).
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        allowed = {"base_url", "max_pages", *self.options}
        unknown = set(options) - allowed
        if unknown:
            raise InvalidInput(f"source {self.name}: unknown option(s) {', '.join(sorted(unknown))}")
        for key, value in options.items():
            if value is not None:
                setattr(self, key, value)
        if not isinstance(self.base_url, str):
            raise InvalidInput(f"source {self.name}: base_url must be a string, "
                               f"not {self.base_url!r}"[:200])
        self.base_url = self.base_url.rstrip("/")
        pages = self.max_pages
        if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
            # int("x") used to escape as a ValueError, and the source was dropped with a log line
            raise InvalidInput(f"source {self.name}: max_pages must be a whole number, 1 or "
                               f"more, not {pages!r}"[:200])
        # links are only moved when the site is configured somewhere else (a mirror, a test server)
        self._relocated = self.base_url != str(type(self).base_url).rstrip("/")

    # -- helpers for subclasses ---------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL on the configured site for a path such as ``/articles?page=2``."""
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def rebase(self, url: str, page_url: str | None = None) -> str:
        """Resolve ``url`` against ``page_url`` and move links to the real site onto ``base_url``.

        In production this only settles the scheme and host spelling (``http://`` card links on an
        https site), so one article has one identity; under test the saved pages keep their real
        absolute links, which must never be followed off 127.0.0.1.
        """
        try:
            absolute = urljoin(page_url or self.base_url + "/", url.strip())
            parts = urlsplit(absolute)
        except ValueError:
            # "http://[::1/x" (an unclosed IPv6 host): not a link anyone can follow. It is
            # returned as written, so that owns() and is_http_url() refuse it downstream,
            # instead of a ValueError ending the whole listing.
            return url.strip()
        host = (parts.hostname or "").lower()
        bare = host[4:] if host.startswith("www.") else host
        if any(bare == h or bare == (h[4:] if h.startswith("www.") else h) for h in self.hosts):
            base = urlsplit(self.base_url)
            base_path = base.path.rstrip("/")
            path = parts.path
            if base_path and not path.startswith(base_path + "/") and path != base_path:
                path = base_path + path
            return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on the configured site (links elsewhere are not articles of ours)."""
        try:
            return (urlsplit(url).netloc.lower()) == urlsplit(self.base_url).netloc.lower()
        except ValueError:  # an unparsable link is nobody's article
            return False

    def verdict(self, raw: str | None) -> Verdict:
        return normalise(raw, self.verdicts)

    def item(self, response_url: str, **fields: Any) -> VerifiedItem:
        """A VerifiedItem stamped with this source's name, publisher and language."""
        fields.setdefault("publisher", self.publisher)
        fields.setdefault("language", self.language)
        raw = fields.get("verdict_raw") or ""
        fields.setdefault("verdict", self.verdict(raw))
        for key, value in fields.items():
            if isinstance(value, str):
                fields[key] = valid_text(value)
        return VerifiedItem(url=valid_text(published_url(response_url)), source=self.name,
                            **fields)

    def drift(self, what: str, url: str) -> StructureChanged:
        """The error to raise when a page lacks ``what``: it names the source and the URL."""
        return StructureChanged(f"{self.name}: {what} at {url} (has the site changed?)")

    def json_of(self, response: "Response", what: str) -> Any:
        """The JSON body of an API answer; an answer that is not JSON is drift, not a crash."""
        try:
            return response.json()
        except ValueError:  # not JSON, or an integer of over 4,300 digits
            raise self.drift(f"{what} did not answer JSON", response.url) from None
        except RecursionError:
            raise self.drift(f"{what} answered JSON nested too deeply", response.url) from None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "publisher": self.publisher, "kind": self.kind,
            "base_url": self.base_url, "enabled_by_default": self.enabled_by_default,
            "description": self.description,
        }

    # -- the contract -------------------------------------------------------------------

    def discover(self, fetcher: "Fetcher") -> AsyncIterator[Link]:  # pragma: no cover
        raise NotImplementedError

    def parse(self, response: "Response") -> Iterable[VerifiedItem]:  # pragma: no cover
        raise NotImplementedError
