"""One exception tree for the whole library.

Callers (the CLI, the HTTP API, other tools) catch :class:`FactcheckError` and show
``str(error)`` as a one-line message; ``exit_code`` tells a command-line shell which
documented status to use, and ``http_status`` with ``http_code`` tell the HTTP API which status
and error code to answer, so both mappings live next to the error and not in each caller.
"""

from __future__ import annotations


class FactcheckError(Exception):
    """Base of every error factcheck raises on purpose.

    ``key`` names the sentence in :mod:`factcheck.i18n` that says the same to a person in their
    language, ``params`` fills it; ``str(error)`` stays the English line for logs.
    """

    exit_code = 1
    http_status = 500
    http_code = "internal_error"

    def __init__(self, message: str = "", *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class InvalidInput(FactcheckError):
    """The caller gave something unusable: an empty claim, a bad filter, an unknown format."""

    exit_code = 2
    http_status = 400
    http_code = "invalid_input"


class IndexNotFound(FactcheckError):
    """No index exists at the requested place."""

    exit_code = 3
    http_status = 503
    http_code = "unavailable"


class ModelMismatch(FactcheckError):
    """The vector index was built with another embedding model or dimension."""

    exit_code = 4
    http_status = 503
    http_code = "unavailable"


class IndexCorrupt(FactcheckError):
    """A stored file is unreadable and could not be repaired automatically."""

    exit_code = 5
    http_status = 503
    http_code = "index_damaged"


class RerankerError(FactcheckError):
    """A re-ranker weights file is missing, malformed or for other features."""

    exit_code = 5


class ImportFailed(FactcheckError):
    """A whole import file could not be read, or none of its records was valid (single bad
    records are skipped, not raised). ``report`` holds what was read, skipped records included,
    when the file itself could be parsed."""

    exit_code = 2
    http_status = 400
    http_code = "invalid_input"
    report: object = None


class EmbedderUnavailable(FactcheckError):
    """The embedding back-end or model cannot be loaded here."""

    exit_code = 4
    http_status = 503
    http_code = "unavailable"


class RefreshLocked(FactcheckError):
    """Another refresh holds the index lock."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply try again later


class SourceError(FactcheckError):
    """A source failed or no longer looks the way its scraper expects."""

    exit_code = 6


class FetchError(SourceError):
    """A page could not be fetched after the polite retries."""

    def __init__(
        self, message: str, *, url: str | None = None, status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status  # the last HTTP status seen, or None for a network fault
        #: True when asking again later may well succeed (timeouts, resets, 5xx, 429), so a
        #: refresh queues the page for its next runs; False for 4xx, size caps, redirect loops.
        self.transient = transient


class RobotsDisallowed(FetchError):
    """robots.txt of the host forbids the URL for our User-Agent; never retried."""


class IndexUnusable(FactcheckError):
    """The index cannot answer as it should (no vectors, model unloadable) and a keyword-only
    search found nothing: saying "no match" then would be a claim the tool cannot back."""

    exit_code = 8
    http_status = 503
    http_code = "index_unusable"


class StructureChanged(SourceError):
    """A page or listing lacks what its scraper requires: the site changed (drift)."""


class UnsafeURL(InvalidInput):
    """A URL factcheck will not look at: not http(s), or pointing at a private or local host."""

    http_status = 400
    http_code = "unsafe_url"


class BundleInvalid(InvalidInput):
    """A file is not a factcheck index bundle, or its manifest is unusable."""


class BundleCorrupt(IndexCorrupt):
    """A bundle's files do not match the checksums in its manifest."""


class ServeFailed(FactcheckError):
    """The HTTP API could not start (e.g. the address is in use)."""

    exit_code = 7


class OCRUnavailable(FactcheckError):
    """No OCR engine is installed, so text cannot be read from an image.

    Not bad input (the same image works once ``pip install 'factcheck[ocr]'`` is done), so it has
    its own exit code: a script can tell "install the extra" from "send another image".
    """

    exit_code = 9
    http_status = 501
    http_code = "ocr_unavailable"
