"""Canonical URLs: the identity of a stored item.

The same fact-check reached through a feed, a share link and a sitemap must land on one row,
so tracking parameters, fragments, default ports and host case are normalised away.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_", "igshid", "_ga", "ref_src")
_TRACKING_KEYS = {"amp", "share", "s_cid", "page_from", "source"}


def canonical_url(url: str) -> str:
    """Normalise ``url`` so that equivalent links compare equal."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    port = parts.port
    netloc = host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_KEYS
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    if path.endswith("/amp"):
        path = path[: -len("/amp")] or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def is_http_url(url: str) -> bool:
    """True for absolute http(s) URLs with a host: the only kind factcheck stores or fetches."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
