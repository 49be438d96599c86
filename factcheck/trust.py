"""Is the source of a link clear? Who runs its domain, and what the index says about it.

A forwarded message usually carries a link. Before anyone argues about its content, a
reader wants to know whether the link is an official government page, a recognised
fact-checker or news outlet, and whether fact-checkers have already quoted it (often as the
debunked original). Everything here is answered offline from a domain list and the index:
the link is never fetched, and links to private or local hosts are refused outright so that
the API cannot be used to probe a network.

A link is read the way a browser reads it (the WHATWG URL standard, through ``ada-url``): a
reader who taps it lands on that host, whatever another parser thinks. A link written so that
parsers disagree, or that hides its host (a backslash, ``user@`` before the host, a
percent-encoded or mixed-script host name), is reported as suspicious and never as official.
Host names are compared with the trusted ones after folding look-alike letters (Unicode TR39
skeletons), so ``kоmdigi.go.id`` with a Cyrillic ``о`` is a look-alike, not Komdigi.
The same reading decides where factcheck itself may connect (:func:`outgoing_url`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from .errors import InvalidInput, UnsafeURL
from .models import VerifiedItem
from .urls import canonical_url

if TYPE_CHECKING:
    from .api import FactChecker
    from .store import Store

log = logging.getLogger(__name__)

DOMAINS_FILE = "trusted_domains.json"
CONFUSABLES_FILE = "confusables_ascii.json"
KINDS = ("government", "factchecker", "news")
MAX_URL_CHARS = 2048
#: Rows examined per question; keeps a query on a popular domain bounded on a large index.
SCAN_LIMIT = 2000
EXAMPLES = 5

_LOCAL_SUFFIXES = (
    ".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home",
    ".home.arpa", ".corp", ".private", ".test", ".invalid", ".example", ".onion",
)
_BARE_HOST = re.compile(r"^[\w.-]+(:\d+)?(/|\?|#|$)")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
#: What the WHATWG parser drops from anywhere in a URL before reading it.
_TAB_NEWLINE = re.compile("[\t\n\r]")
#: Scripts that TR39's "highly restrictive" level lets a label mix with Latin (Japanese,
#: Chinese, Korean writing); any other mix in one label is how look-alike names are built.
_EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL", "IDEOGRAPHIC"})
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+")
#: Shortest name (the label a publisher registered) that counts as theirs when it turns up
#: elsewhere. Short acronyms (bi, pu, pom, kpu) and short news names (tempo, detik, suara)
#: are ordinary words or other people's names too often to warn about.
_MIN_NAME = {"government": 4, "factchecker": 4, "news": 6}
#: Only these kinds lend their bare name to the "name used inside another domain" rule: a
#: stranger calling itself kominfo is a scam, one calling itself kompas may sell compasses.
_TOKEN_KINDS = frozenset({"government", "factchecker"})
#: Names too generic to imitate anyone (indonesia.go.id vs indonesia.travel).
_GENERIC_NAMES = frozenset(
    "indonesia berita news info portal media online official resmi gov www".split()
)
#: A squashed known domain (kominfogoid) counts only when this long: short ones such as
#: bigoid (bi.go.id) are ordinary names.
_MIN_SQUASHED = 8


# -- the domain list ----------------------------------------------------------------------


@dataclass(frozen=True)
class DomainInfo:
    kind: str
    name: str
    rule: str  # the entry that matched: a domain, or "*.go.id" for a suffix


@dataclass(frozen=True)
class Lookalike:
    imitates: str  # the known domain (or a made-up one under a trusted suffix) it passes for
    reason: str  # one plain sentence a reader can check against the link


@dataclass
class TrustList:
    """Known domains and suffixes; later sources override earlier ones entry by entry."""

    domains: dict[str, dict[str, str]] = field(default_factory=dict)
    suffixes: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def merge(self, data: Mapping[str, Any], origin: str) -> None:
        for key, target in (("domains", self.domains), ("suffixes", self.suffixes)):
            section = data.get(key, {})
            if not isinstance(section, dict):
                raise InvalidInput(f"bad trusted domains file {origin}: {key!r} must be an object")
            for raw_domain, entry in section.items():
                domain = _normalise_domain(str(raw_domain))
                if entry is None or (isinstance(entry, dict) and entry.get("kind") is None):
                    target.pop(domain, None)
                    continue
                if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
                    raise InvalidInput(
                        f"bad trusted domains file {origin}: {raw_domain!r} needs a kind, one of "
                        f"{', '.join(KINDS)} (or null to remove it)"
                    )
                target[domain] = {"kind": str(entry["kind"]), "name": str(entry.get("name") or "")}
        self.sources.append(origin)

    def lookup(self, host: str) -> DomainInfo | None:
        """The most specific entry for ``host``: itself, then each parent, then a suffix."""
        labels = host.split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            entry = self.domains.get(candidate)
            if entry:
                return DomainInfo(entry["kind"], entry["name"], candidate)
        for start in range(1, len(labels)):
            candidate = ".".join(labels[start:])
            entry = self.suffixes.get(candidate)
            if entry:
                return DomainInfo(entry["kind"], entry["name"], f"*.{candidate}")
        return None

    def lookalike(self, host: str) -> str | None:
        """A known domain or suffix that ``host`` imitates without being it (kominfo-go-id.com)."""
        found = self.imitation(host)
        return found.imitates if found else None

    def imitation(self, host: str) -> Lookalike | None:
        """Why ``host`` passes itself off as a known domain, judged by registrable domains.

        Rules, most specific first, so the warning names the likeliest target: a known domain
        spelled out inside another one (bkn-go-id.com, kompas.com.example.net), a trusted
        suffix such as go.id inside a name not under it (pemkot-bandung.go.id.info), a known
        name under another ending (turnbackhoax.co), and an official or fact-checker name used
        as a word of an unrelated domain (kuota-gratis-kominfo.xyz). Whole words only: a name
        that merely contains another's letters (bigo.id, kompasiana.com) is not flagged.

        Before all of these, look-alike letters are folded (:meth:`homoglyph`): a host that
        reads as a known domain once its Cyrillic or Greek letters are folded imitates it,
        even under a trusted suffix, and the rules above then see the folded name.
        """
        found = self.homoglyph(host)
        if found is not None:
            return found
        folded = _folded_host(host)
        if folded != host:  # kominfо-go-id.com: judge the name a reader sees
            found = self._imitation(folded)
            if found is not None:
                return Lookalike(found.imitates, f"{found.reason} (the name is written with "
                                                 f"look-alike letters: {_substitutions(host)})")
        return self._imitation(host)

    def homoglyph(self, host: str) -> Lookalike | None:
        """A known domain (or one under a trusted suffix) that ``host`` spells with look-alike
        letters: equal TR39 skeletons, but not the same name.

        A host with international letters is folded whatever it is under: ``kоmdigi.go.id``
        (Cyrillic о) is a go.id name, but one that passes itself off as Komdigi. A plain ASCII
        host is compared only when it is outside every trusted entry, and then only by the
        few ASCII confusables of TR39 (``rn`` for ``m``, ``1`` for ``l``): a real go.id name
        was vetted by its registry whatever it resembles.
        """
        shown = host_to_unicode(host)
        international = shown != host
        if not international and self._within_known(host):
            return None
        folded = skeleton(shown)
        for domain in sorted(self.domains, key=len, reverse=True):
            if _within(folded, skeleton(domain)) and not _within(host, domain):
                if international:
                    why = (f"{shown} is written with look-alike letters "
                           f"({_substitutions(host)}): it reads as {domain} but is another "
                           f"domain ({host})")
                else:
                    why = (f"{host} reads as {domain} once look-alike letters are folded "
                           "(such as rn for m, or 1 for l), but is another domain")
                return Lookalike(domain, why)
        if not international:
            return None
        for suffix in sorted(self.suffixes, key=len, reverse=True):
            mark = skeleton(suffix)
            if _within(folded, mark) and not _within(host, suffix):
                prefix = folded[: -len(mark)].rstrip(".").rsplit(".", 1)[-1]
                target = f"{prefix}.{suffix}" if prefix else suffix
                return Lookalike(target, f"{shown} is written with look-alike letters "
                                         f"({_substitutions(host)}): it reads as a name under "
                                         f"{suffix} but is not under {suffix} ({host})")
        return None

    def _within_known(self, host: str) -> bool:
        return any(_within(host, d) for d in self.domains) or any(
            _within(host, s) for s in self.suffixes
        )

    def _imitation(self, host: str) -> Lookalike | None:
        """The rules of :meth:`imitation` on one spelling of the host."""
        if any(_within(host, d) for d in self.domains) or any(
            _within(host, s) for s in self.suffixes
        ):
            return None
        registered = registrable_domain(host, self.suffixes)
        public = registered.split(".", 1)[1] if "." in registered else ""
        spans = [(m.group(), m.start()) for m in _TOKEN.finditer(host)]
        tokens = [t for t, _ in spans]
        # Words before the host's own public suffix. A copied domain must have two of its
        # words there: toko-kompas.com ends on its own real .com and shares one word with
        # kompas.com, not the domain, while kompas-com.xyz and bkn-go.id copy two.
        own = len(tokens) - len(_TOKEN.findall(public))
        for domain in self.domains:
            parts = _TOKEN.findall(domain)
            start = _find_run(tokens, parts)
            squashed = "".join(parts)
            if (start is not None and start + 1 < own) or (
                len(squashed) >= _MIN_SQUASHED and _joins_to(tokens[:own], squashed)
            ):
                return Lookalike(domain, f"the name spells out {domain} inside {registered}, "
                                         "a different registered domain")
        for suffix in self.suffixes:
            start = _find_run(tokens, _TOKEN.findall(suffix))
            if start is None or start >= own:
                continue
            target = suffix
            at = spans[start][1]
            if at > 0:
                before = host[:at - 1]
                prefix = before.rsplit(".", 1)[-1] if host[at - 1] == "." else tokens[start - 1]
                target = f"{prefix}.{suffix}" if prefix else suffix
            return Lookalike(target, f"{suffix} appears in the name, but the registered domain "
                                     f"is {registered}, which is not under {suffix}")
        label = registered.split(".", 1)[0]
        names = self._names()
        for name, (domain, _kind) in names.items():
            if name == label and domain != registered:
                theirs = domain.split(".", 1)[1]
                return Lookalike(domain, f"{registered} takes the name of {domain} under another "
                                         f"ending (.{public} instead of .{theirs})")
        for name, (domain, kind) in names.items():
            if kind in _TOKEN_KINDS and name in tokens[:own]:
                return Lookalike(domain, f"it uses the name {name!r} of {domain} inside the "
                                         f"unrelated domain {registered}")
        return None

    def _names(self) -> dict[str, tuple[str, str]]:
        """Registered name (komdigi) → (domain, kind), for names distinctive enough to imitate.

        Subdomain entries (cekfakta.tempo.co, factcheck.afp.com) lend no name: their first
        label is a generic word, and factcheck.org is someone else.
        """
        names: dict[str, tuple[str, str]] = {}
        for domain, entry in self.domains.items():
            if registrable_domain(domain, self.suffixes) != domain or "." not in domain:
                continue
            name = domain.split(".", 1)[0]
            kind = entry["kind"]
            if len(name) >= _MIN_NAME.get(kind, 6) and name not in _GENERIC_NAMES:
                names.setdefault(name, (domain, kind))
        return names


def _find_run(tokens: list[str], parts: list[str]) -> int | None:
    size = len(parts)
    for start in range(len(tokens) - size + 1):
        if tokens[start:start + size] == parts:
            return start
    return None


def _joins_to(tokens: list[str], squashed: str) -> bool:
    """Whether consecutive whole words of the host spell ``squashed`` (kominfo-goid)."""
    for start in range(len(tokens)):
        joined = ""
        for token in tokens[start:]:
            joined += token
            if joined == squashed:
                return True
            if len(joined) >= len(squashed):
                break
    return False


# -- look-alike letters (Unicode TR39) ----------------------------------------------------


@lru_cache(maxsize=1)
def _confusables() -> dict[str, str]:
    """Character → ASCII prototype, from the confusables.txt subset shipped in the package.

    Read once, never downloaded; ``scripts/make_confusables.py`` says where it comes from.
    """
    path = resources.files("factcheck") / "data" / CONFUSABLES_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data["map"])


@lru_cache(maxsize=4096)
def skeleton(text: str) -> str:
    """The TR39 skeleton of ``text``: NFD, each character to its prototype, NFD again.

    Two strings with one skeleton look alike (``kоmdigi`` with a Cyrillic о and ``komdigi``).
    Only prototypes that are ASCII are known here, which is all a comparison with the
    (ASCII) trusted domains needs; other characters are kept as they are.
    """
    table = _confusables()
    mapped = "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def host_to_unicode(host: str) -> str:
    """The host as a reader sees it: each ``xn--`` label decoded from Punycode."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def _folded_host(host: str) -> str:
    """``host`` with its international look-alike letters replaced by the ASCII ones they
    imitate (``kominfо-go-id.com`` → ``kominfo-go-id.com``), or ``host`` when it has none or
    some letter has no ASCII look-alike."""
    shown = host_to_unicode(host)
    if shown == host:
        return host
    table = _confusables()
    folded = "".join(
        ch if ch.isascii() else table.get(ch, ch)
        for ch in unicodedata.normalize("NFD", shown)
    ).lower()
    return folded if re.fullmatch(r"[a-z0-9._-]+", folded) else host


def _substitutions(host: str, most: int = 3) -> str:
    """The look-alike letters of ``host`` in words: ``Cyrillic 'о' for 'o'``."""
    table = _confusables()
    found: list[str] = []
    for ch in unicodedata.normalize("NFD", host_to_unicode(host)):
        if ch.isascii() or ch not in table:
            continue
        script = unicodedata.name(ch, "").split(" ", 1)[0].title() or "a"
        words = f"{script} {ch!r} for {table[ch].lower()!r}"
        if words not in found:
            found.append(words)
    return ", ".join(found[:most]) or "look-alike letters"


def _script(ch: str) -> str | None:
    """The script of a letter, from its Unicode name (LATIN, CYRILLIC, GREEK, ...); None for
    digits, marks and punctuation, which every script shares."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else None
    if not unicodedata.category(ch).startswith("L"):
        return None
    word = unicodedata.name(ch, "").split(" ", 1)[0]
    return "CJK" if word in _EAST_ASIAN else (word or None)


def mixed_scripts(host: str) -> list[str]:
    """The scripts of the first label of ``host`` that mixes scripts, [] when none does.

    Latin with Chinese, Japanese or Korean writing is allowed, as TR39's "highly restrictive"
    level allows it; Latin with Cyrillic or Greek in one label is how look-alikes are made.
    """
    for label in host_to_unicode(host).split("."):
        scripts = {s for s in map(_script, label) if s}
        if len(scripts) > 1 and not (scripts <= {"LATIN", "CJK"}):
            return sorted(s.title() for s in scripts)
    return []


def load_trust_list(*extra: str | Path | None) -> TrustList:
    """The bundled list, then each existing user file in order (missing files are skipped)."""
    trust = TrustList()
    bundled = resources.files("factcheck") / "data" / DOMAINS_FILE
    trust.merge(json.loads(bundled.read_text(encoding="utf-8")), "bundled")
    for path in extra:
        if path is None:
            continue
        path = Path(path).expanduser()
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"bad trusted domains file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"bad trusted domains file {path}: expected a JSON object")
        trust.merge(data, str(path))
    return trust


def user_domain_files(index_dir: str | Path | None) -> list[Path]:
    """Where users keep their own list: the config directory, then the index (which wins)."""
    from platformdirs import user_config_dir

    files = [Path(user_config_dir("factcheck", appauthor=False)) / DOMAINS_FILE]
    if index_dir is not None:
        files.append(Path(index_dir) / DOMAINS_FILE)
    return files


# -- URL checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ambiguity:
    """One way a link hides or blurs where it leads; any of them makes the link suspicious."""

    code: str  # backslash | userinfo | encoded_host | mixed_script | parsers_disagree
    params: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        from .i18n import text as say

        params = dict(self.params)
        if self.code == "parsers_disagree" and not params.get("other"):
            params["other"] = say("source.no_host", lang)
        return say(f"source.why.{self.code}", lang, **params)


@dataclass(frozen=True)
class PublicURL:
    url: str  # as given (with http:// added to a bare domain)
    canonical: str
    host: str  # lower-case ASCII (IDNA), without www.
    #: The link as a browser serialises it (WHATWG): what to request, never the text as given.
    href: str = ""
    ambiguities: tuple[Ambiguity, ...] = ()

    @property
    def suspicious(self) -> bool:
        return bool(self.ambiguities)


def public_http_url(url: str, *, allow_loopback: bool = False) -> PublicURL:
    """Validate a link that is about to be looked up: http(s), a public host name or address.

    The link is parsed as a browser parses it (WHATWG URL: backslashes are slashes, the host
    follows the last ``@`` of the authority, percent-encoded and international host names are
    decoded and IDNA-mapped, numeric IPv4 forms are read as addresses), so the host judged is
    the host a reader would land on. What makes that reading differ from a naive one is kept
    in ``ambiguities``.

    Raises :class:`UnsafeURL` for other schemes and for local, private, loopback or
    link-local hosts (loopback ones are let through with ``allow_loopback``, for tests and
    local mirrors), and :class:`InvalidInput` for anything unreadable.
    """
    text = (url or "").strip()
    if not text:
        raise InvalidInput("the URL is empty")
    if len(text) > MAX_URL_CHARS:
        raise InvalidInput(f"the URL is longer than {MAX_URL_CHARS} characters")
    scheme = _SCHEME.match(text)
    if text[:2] in ("//", "\\\\", "/\\", "\\/"):
        text = "http:" + text
    elif scheme is None or (_BARE_HOST.match(text) and scheme.group(1).lower()
                            not in ("http", "https")):
        if not _BARE_HOST.match(text):
            named = text.split(":", 1)[0][:20]
            raise UnsafeURL(f"only http(s) links can be checked, not {named!r}")
        text = "http://" + text
    elif scheme.group(1).lower() not in ("http", "https"):
        raise UnsafeURL(f"only http(s) links can be checked, not {scheme.group(1)[:20]!r}")
    parsed = _whatwg(text)
    if parsed.protocol not in ("http:", "https:"):
        raise UnsafeURL(f"only http(s) links can be checked, not {parsed.protocol[:-1][:20]!r}")
    raw_host = parsed.hostname
    host = _normalise_domain(raw_host)
    if not host:
        raise InvalidInput("the URL has no host name")
    _refuse_private(host, allow_loopback=allow_loopback)
    href = parsed.href
    ambiguities = _ambiguities(text, host, parsed)
    canonical = canonical_url(href)
    return PublicURL(text, canonical, host[4:] if host.startswith("www.") else host, href,
                     ambiguities)


def outgoing_url(
    url: str, *, allow_loopback: bool = False, previous: PublicURL | None = None,
    resolve: bool = True,
) -> PublicURL:
    """The one policy for a URL that factcheck itself requests (a bundle download and each
    redirect it is sent to); ``factcheck source`` judges links by the same reading.

    On top of :func:`public_http_url`: a link that parsers read differently (a backslash, a
    percent-encoded or mixed-script host, a disagreement) is refused, since the request must
    go where the reader thinks it goes; credentials before the host (``user:pass@``) are
    allowed, as a download may need them. A redirect from https to plain http is refused.
    With ``resolve``, a host name whose addresses include a private, loopback or link-local
    one is refused too (loopback with ``allow_loopback``). The request must then be made to
    ``href``, the unambiguous serialisation, never to the text as given.
    """
    target = public_http_url(url, allow_loopback=allow_loopback)
    blurred = [a for a in target.ambiguities if a.code != "userinfo"]
    if blurred:
        raise UnsafeURL(f"refusing an ambiguous URL ({blurred[0].message('en').rstrip('.')}): "
                        f"{target.href[:200]}")
    if previous is not None and previous.href.startswith("https:") and \
            target.href.startswith("http:"):
        raise UnsafeURL(f"refusing a redirect from https to plain http: {target.href[:200]}")
    if resolve:
        _refuse_private_addresses(_normalise_domain(_whatwg(target.href).hostname),
                                  allow_loopback)
    return target


def join_url(base: str, location: str) -> str:
    """``location`` (a redirect's Location header) resolved against ``base``, as a browser
    resolves it. One that names a host (``https://…``, ``//…``) is returned as written, with
    ``base``'s scheme before a bare ``//``, so that :func:`outgoing_url` judges its authority
    as sent rather than after the parser has tidied it."""
    from ada_url import join_url as _join

    location = location.strip()
    if _SCHEME.match(location):
        return location
    if location[:2] in ("//", "\\\\", "/\\", "\\/"):
        return base.split(":", 1)[0] + ":" + location
    try:
        return str(_join(base, location))
    except ValueError as exc:
        raise InvalidInput(f"unreadable redirect location {location[:200]!r}") from exc


def _whatwg(text: str) -> Any:
    """``text`` parsed by ada, the WHATWG URL parser of Node.js (imported on first use)."""
    from ada_url import URL

    try:
        return URL(text)
    except ValueError as exc:
        raise InvalidInput(f"unreadable URL: {text[:200]!r}") from exc


def _ambiguities(text: str, host: str, parsed: Any) -> tuple[Ambiguity, ...]:
    """What in ``text`` makes the host a browser opens (``host``) hard to see or to agree on.

    The authority is found as the WHATWG parser finds it for http(s): after the scheme and
    any run of slashes or backslashes, up to the first ``/``, ``\\``, ``?`` or ``#``.
    """
    raw = _TAB_NEWLINE.sub("", text)
    after = raw.split(":", 1)[1] if ":" in raw else raw
    slashes = re.match(r"[/\\]*", after)
    lead = slashes.group() if slashes else ""
    rest = after[len(lead):]
    end = re.search(r"[/\\?#]", rest)
    authority = rest[: end.start()] if end else rest
    found: list[Ambiguity] = []
    if "\\" in lead or (end is not None and end.group() == "\\"):
        found.append(Ambiguity("backslash"))
    if "@" in authority:
        userinfo = parsed.username + (f":{parsed.password}" if parsed.password else "")
        found.append(Ambiguity("userinfo", {"userinfo": userinfo[:80]}))
    if "%" in authority.rsplit("@", 1)[-1]:
        found.append(Ambiguity("encoded_host"))
    scripts = mixed_scripts(host)
    if scripts:
        found.append(Ambiguity("mixed_script", {"scripts": ", ".join(scripts)}))
    if not found:
        naive = _naive_host(text)
        if not _same_host(naive, host):
            found.append(Ambiguity("parsers_disagree", {"host": host, "other": naive or ""}))
    return tuple(found)


def _naive_host(text: str) -> str | None:
    """The host Python's ``urlsplit`` (and many other tools) would read from ``text``."""
    try:
        raw = urlsplit(text).hostname
        return _normalise_domain(raw) if raw else None
    except (ValueError, InvalidInput):
        return None


def _normalise_domain(host: str) -> str:
    host = host.strip().strip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInput(f"invalid international domain name {host!r}") from exc
    return host


def _refuse_private(host: str, *, allow_loopback: bool = False) -> None:
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[0-9a-fx.]+", host) and not re.search(r"[g-wyz]", host):
            try:  # 127.1, 2130706433, 0x7f000001: forms the resolver accepts as IPv4
                address = ipaddress.IPv4Address(socket.inet_aton(host))
            except OSError:
                address = None
    if address is not None:
        if allow_loopback and _is_loopback(address):
            return
        mapped = getattr(address, "ipv4_mapped", None)
        if not address.is_global or (mapped is not None and not mapped.is_global):
            raise UnsafeURL(f"refusing a private, loopback or link-local address: {host}")
        return
    if allow_loopback and (host == "localhost" or host.endswith(".localhost")):
        return
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        raise UnsafeURL(f"refusing a local host name: {host}")
    if "." not in host:
        raise UnsafeURL(f"refusing a host name without a domain: {host}")
    labels = host.split(".")
    if not all(re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", lab) for lab in labels):
        raise InvalidInput(f"invalid host name {host!r}")
    if labels[-1].isdigit():
        raise UnsafeURL(f"refusing a numeric host name: {host}")


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _refuse_private_addresses(host: str, allow_loopback: bool) -> None:
    """Refuse a host name that resolves to a private, loopback or link-local address.

    The check and the connection resolve the name separately, so a name that changes its
    answer in between is not caught (docs/security.md); it stops the plain cases, such as a
    public server redirecting to a name of an internal machine. A name that does not
    resolve is left for the request to fail on, with its own message.
    """
    try:
        ipaddress.ip_address(host)
        return  # an address was judged by _refuse_private already
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if allow_loopback and _is_loopback(ip):
            continue
        mapped = getattr(ip, "ipv4_mapped", None)
        if not ip.is_global or (mapped is not None and not mapped.is_global):
            raise UnsafeURL(f"refusing {host}: it resolves to the private, loopback or "
                            f"link-local address {ip}")


def _same_host(a: str | None, b: str) -> bool:
    if a == b:
        return True
    try:
        return a is not None and ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


@lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List snapshot shipped in the package: parsed once, never downloaded.

    Private rules are kept on purpose (blogspot.com, github.io): each blog there is its own
    publisher, so a.blogspot.com says nothing about b.blogspot.com.
    """
    return PublicSuffixList()


def registrable_domain(host: str, suffixes: Iterable[str] = ()) -> str:
    """The name a publisher registered (kompas.com, jatimprov.go.id, a.blogspot.com).

    From the Public Suffix List, plus ``suffixes`` (the trust list's own, which a user may
    extend with ones the list lacks) taken as public too; the longest match wins. An address
    or a bare public suffix is its own registrable domain.
    """
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    found = _public_suffixes().privatesuffix(host) or host
    for suffix in suffixes:
        if host.endswith("." + suffix):
            candidate = f"{host[: -len(suffix) - 1].rsplit('.', 1)[-1]}.{suffix}"
            if candidate.count(".") > found.count("."):
                found = candidate
    return found


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


# -- what the index knows -----------------------------------------------------------------


@dataclass
class ItemRef:
    """A stored fact-check that relates to the link, and how."""

    item: VerifiedItem
    relation: str  # appearance | reference | text | published | mention

    def to_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "relation": self.relation, "url": item.url, "title": item.title,
            "verdict": item.verdict.value, "verdict_raw": item.verdict_raw,
            "publisher": item.publisher, "published": item.published,
        }


@dataclass
class SourceReport:
    """The answer to "is the source clear?" for one link."""

    url: str
    canonical_url: str
    host: str
    domain: str  # the registered domain the index statistics are about
    kind: str | None  # government | factchecker | news | None (not recognised)
    name: str | None
    rule: str | None
    lookalike_of: str | None
    indexed: ItemRef | None  # the link is itself a stored fact-check
    quoted_in: list[ItemRef]
    domain_items: int  # stored items published on the domain
    domain_examples: list[ItemRef]
    mentions: int  # stored items whose text or links mention the domain
    mention_examples: list[ItemRef]
    searched_index: bool
    link_searched: bool = False  # False for a bare domain: only the domain was looked up
    lookalike_reason: str | None = None  # why it looks like lookalike_of, in one sentence
    #: How the link hides or blurs its host; when any, ``kind`` is None: never official.
    ambiguities: list[Ambiguity] = field(default_factory=list)

    @property
    def suspicious(self) -> bool:
        return bool(self.ambiguities)

    @property
    def official(self) -> bool:
        return self.kind == "government" and not self.suspicious

    @property
    def recognised(self) -> bool:
        return self.kind is not None and not self.suspicious

    @property
    def debunked(self) -> bool:
        """Fact-checkers cite the link as the claim's appearance: it spread what they checked."""
        return any(ref.relation == "appearance" for ref in self.quoted_in)

    def summary(self, lang: str = "en") -> str:
        """The standing of the link in one or two sentences, in ``lang`` (see factcheck.i18n)."""
        from .i18n import text as say

        if self.suspicious:
            out = say("source.suspicious", lang, host=self.host,
                      reason=" ".join(a.message(lang) for a in self.ambiguities))
        else:
            kind = self.kind if self.kind in ("government", "factchecker", "news") else "unknown"
            out = say(f"source.{kind}", lang, host=self.host, name=self.name or "")
        if self.lookalike_of:
            out += " " + say("source.lookalike", lang, imitates=self.lookalike_of)
            if self.lookalike_reason and lang == "en":  # the reason is worded in English only
                out = out[:-1] + f": {self.lookalike_reason}."
        if self.indexed:
            out += " " + say("source.indexed", lang, verdict=self.indexed.item.verdict.value)
        if self.quoted_in:
            how = "source.quoted_as_source" if self.debunked else "source.quoted_as_reference"
            out += " " + say(how, lang, count=len(self.quoted_in))
        elif self.searched_index and self.link_searched:
            out += " " + say("source.not_quoted", lang)
        return out

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "url": self.url, "canonical_url": self.canonical_url, "host": self.host,
            "domain": self.domain, "kind": self.kind, "name": self.name, "rule": self.rule,
            "official": self.official, "recognised": self.recognised,
            "lookalike_of": self.lookalike_of, "lookalike_reason": self.lookalike_reason,
            "suspicious": self.suspicious,
            "suspicious_reasons": [{"code": a.code, "message": a.message(lang)}
                                   for a in self.ambiguities],
            "debunked": self.debunked, "summary": self.summary(lang),
            "searched_index": self.searched_index,
            "indexed_item": self.indexed.to_dict() if self.indexed else None,
            "quoted_in": [r.to_dict() for r in self.quoted_in],
            "domain_items": {"count": self.domain_items,
                             "examples": [r.to_dict() for r in self.domain_examples]},
            "mentions": {"count": self.mentions,
                         "examples": [r.to_dict() for r in self.mention_examples]},
        }


def check_source(
    url: str, checker: "FactChecker | None" = None, *, trust: TrustList | None = None,
    examples: int = EXAMPLES,
) -> SourceReport:
    """Classify a link's domain and collect what the index holds about the link and domain.

    ``checker`` may be ``None`` to answer from the domain list alone. Without ``trust`` the
    bundled list is extended by the user's files (config directory, then the index directory).

    The host judged is the one a browser opens. A suspicious link (one that hides or blurs
    its host) and a look-alike written with another script's letters get no kind at all, so
    neither is ever called official, whatever domain list entry the host falls under.
    """
    target = public_http_url(url)
    if trust is None:
        index_dir = checker.store.path.parent if checker and checker.store.path else None
        trust = load_trust_list(*user_domain_files(index_dir))
    info = trust.lookup(target.host)
    domain = info.rule if info and not info.rule.startswith("*.") else registrable_domain(
        target.host, trust.suffixes)
    imitation = trust.homoglyph(target.host)
    if imitation is None and info is None:
        imitation = trust.imitation(target.host)
    if imitation is not None or target.suspicious:
        info = None
    report = SourceReport(
        url=target.url, canonical_url=target.canonical, host=target.host, domain=domain,
        kind=info.kind if info else None, name=info.name if info else None,
        rule=info.rule if info else None,
        lookalike_of=imitation.imitates if imitation else None,
        indexed=None, quoted_in=[], domain_items=0, domain_examples=[], mentions=0,
        mention_examples=[], searched_index=checker is not None,
        lookalike_reason=imitation.reason if imitation else None,
        ambiguities=list(target.ambiguities),
    )
    if checker is not None:
        _search_index(report, checker, examples)
    return report


def _search_index(report: SourceReport, checker: "FactChecker", examples: int) -> None:
    store = checker.store
    item = store.get_by_url(report.canonical_url)
    if item is not None:
        report.indexed = ItemRef(item, "published")
    host_path = report.canonical_url.split("://", 1)[1]
    needle = host_path.rstrip("/") if host_path.count("/") > 1 or "?" in host_path else ""
    if needle:
        report.link_searched = True
        for candidate in _candidates(store, needle, with_fts=True):
            relation = _quotes(candidate, report.canonical_url)
            if relation:
                report.quoted_in.append(ItemRef(candidate, relation))
    quoted = {ref.item.url for ref in report.quoted_in}

    domain = report.domain
    report.domain_items, newest = store.ids_on_domain(domain, examples)
    found = store.get_items(newest)
    report.domain_examples = [ItemRef(found[i], "published") for i in newest if i in found]

    mention = re.compile(
        r"(?<![\w-])(?:[\w-]+\.)*" + re.escape(domain) + r"(?![\w-])(?!\.[a-z])", re.IGNORECASE
    )
    for candidate in _candidates(store, domain, with_fts=True):
        if _within(_host_of(candidate.url), domain) or candidate.url in quoted:
            continue
        if any(mention.search(s) for s in _strings(candidate)):
            report.mentions += 1
            if len(report.mention_examples) < examples:
                report.mention_examples.append(ItemRef(candidate, "mention"))


def _candidates(store: "Store", needle: str, *, with_fts: bool) -> Iterator[VerifiedItem]:
    """Items that may contain ``needle``: links kept in ``extra``, or the words of the text."""
    ids = store.ids_containing(needle, SCAN_LIMIT, full_text=with_fts)
    items = store.get_items(ids)
    for item_id in ids:
        if item_id in items:
            yield items[item_id]


def _quotes(item: VerifiedItem, canonical: str) -> str | None:
    """How ``item`` cites the link: as the claim's appearance, another reference, or in text."""
    appearances = item.extra.get("appearance")
    if isinstance(appearances, str):
        appearances = [appearances]
    if isinstance(appearances, list) and any(
        isinstance(u, str) and _same_url(u, canonical) for u in appearances
    ):
        return "appearance"
    for key, value in item.extra.items():
        if key == "appearance":
            continue
        if any(_same_url(u, canonical) for s in _walk_strings(value) for u in _urls_in(s)):
            return "reference"
    for text in (item.claim, item.title, item.text):
        if any(_same_url(u, canonical) for u in _urls_in(text)):
            return "text"
    return None


def _same_url(candidate: str, canonical: str) -> bool:
    candidate = candidate.strip().rstrip(".,;:!?")
    if candidate.lower().startswith("www."):
        candidate = "http://" + candidate
    try:
        other = canonical_url(candidate)
    except ValueError:
        return False
    return other.split("://", 1)[-1] == canonical.split("://", 1)[-1]


def _urls_in(text: str) -> list[str]:
    return _URL_IN_TEXT.findall(text or "")


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk_strings(v)


def _strings(item: VerifiedItem) -> Iterable[str]:
    yield item.title
    yield item.claim
    yield item.text
    yield from _walk_strings(item.extra)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
