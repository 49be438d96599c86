"""Recognise a "soft 404": an article URL that answers 200 with the home page or an error page.

Many CMSs answer a removed or mistyped article with ``200 OK`` and the front page (or redirect
there). A generic extractor would happily turn that page into a "verified item" titled with the
site's name, so the refresh checks every fetched article page against these signs first and
counts a match as a failed page instead of storing it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/home", "/beranda"})
_HEAD_LIMIT = 64 * 1024  # canonical links and titles are in the head; do not scan 10 MB bodies
_CANONICAL = re.compile(
    r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>|<meta\b[^>]*\bproperty=[\"']og:url[\"'][^>]*>",
    re.IGNORECASE,
)
_HREF = re.compile(r"\b(?:href|content)=[\"']([^\"']+)[\"']", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
#: Error-page titles; deliberately narrow, because headlines say "404" or "tidak ditemukan" too.
_ERROR_TITLE = re.compile(
    r"^\W*404\b|\b404 not found\b|\berror 404\b|\bpage not found\b|"
    r"\b(?:halaman|laman) (?:tidak|tak) ditemukan\b",
    re.IGNORECASE,
)


def _is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path.rstrip("/") + "/" in {p.rstrip("/") + "/" for p in _HOME_PATHS} and not parts.query


def page_title(html: str) -> str:
    """The ``<title>`` of an HTML page, whitespace collapsed ("" when there is none)."""
    match = _TITLE.search(html[:_HEAD_LIMIT])
    return " ".join(match.group(1).split()) if match else ""


def soft_404_reason(requested_url: str, final_url: str, html: str) -> str | None:
    """Why the page at ``final_url`` (asked for as ``requested_url``) is not a real article.

    ``None`` when nothing suggests a soft 404. Only article requests should be checked: a
    listing or the home page itself legitimately is the home page.
    """
    if _is_home(requested_url):
        return None
    if _is_home(final_url):
        return f"redirected to the home page {final_url}"
    head = html[:_HEAD_LIMIT]
    for tag in _CANONICAL.findall(head):
        href = _HREF.search(tag)
        if href and _is_home(href.group(1).strip()):
            return f"the page declares the home page as its canonical URL ({href.group(1).strip()})"
    title = page_title(head)
    if title and _ERROR_TITLE.search(title):
        return f"the page title says it is an error page ({title[:80]!r})"
    return None
