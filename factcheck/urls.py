"""Two spellings of an item's URL: the canonical one it is stored under, and the one to show.

The same fact-check reached through a feed, a share link and a sitemap must land on one row,
so the canonical URL normalises tracking parameters, fragments, default ports, host case,
``www.``, trailing slashes and AMP paths away. That spelling is an identity, not an address: a
reader who follows a citation, or a tool that matches it against the publisher's own link,
needs the URL as published, which only loses what never identified the page (tracking
parameters, the fragment, the AMP view).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_", "igshid", "_ga", "ref_src")
_TRACKING_KEYS = {"amp", "share", "s_cid", "page_from", "source"}


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith(_TRACKING_PREFIXES) or key in _TRACKING_KEYS


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
        if not _is_tracking(k)
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    if path.endswith("/amp"):
        path = path[: -len("/amp")] or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def published_url(url: str) -> str:
    """The link to cite for ``url``: the publisher's spelling, less what only tracked or framed it.

    ``www.``, the path, its trailing slash and the order and encoding of the remaining query
    parameters are kept exactly, since any of them may be what the publisher's server (or a
    reader comparing links) expects. Scheme and host case and a default port are settled, as a
    browser does. An AMP path (``.../amp`` or ``.../amp/``) is a view of the article, not the
    article, so it is dropped; the result always has the same :func:`canonical_url` as ``url``.
    Anything but an absolute http(s) URL is returned stripped and otherwise untouched, for the
    caller's own check to refuse.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return url
    netloc = f"[{host}]" if ":" in host else host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    # filtered as raw text, so the kept parameters keep their order and their encoding
    query = "&".join(
        pair for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote_plus(pair.split("=", 1)[0]))
    )
    path = parts.path or "/"
    shown = urlunsplit((scheme, netloc, path, query, ""))
    for suffix in ("/amp", "/amp/"):
        if path.endswith(suffix):
            article = path[: -len(suffix)] + ("/" if suffix.endswith("/") else "")
            candidate = urlunsplit((scheme, netloc, article or "/", query, ""))
            # odd paths (``//amp``) normalise differently; the stored identity must not move
            if canonical_url(candidate) == canonical_url(url):
                shown = candidate
            break
    return shown


def is_http_url(url: str) -> bool:
    """True for absolute http(s) URLs with a host: the only kind factcheck stores or fetches."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
