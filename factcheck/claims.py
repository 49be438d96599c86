"""Split a long forwarded message into the claims worth checking.

A forwarded WhatsApp message is rarely one claim: it opens with a greeting, carries two or three
stories in separate paragraphs, a link or two, and ends with "sebarkan!". Checking the whole
message as one query lets the longest story drown the others, and checking every sentence on its
own loses the context a headline needs. So the message is cut at line breaks (the paragraphs the
sender wrote), long paragraphs are cut again at sentence ends into pieces of bounded length,
and the lines that carry no claim (greetings, calls to forward, sign-offs, bare hashtags or
emoji) are dropped. URLs are set aside rather than searched: they are evidence the caller may
want to look up, not words a fact-check title shares.

Everything here is plain string work, so it is cheap and deterministic; the caller decides what
to do with the claims (:meth:`factcheck.api.FactChecker.check_message` checks each one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import fold, keyword_terms

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”]+", re.IGNORECASE)
#: A sentence ends at . ! ? or … followed by space; the next one starts with a letter, digit or quote.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[A-ZÀ-Ý0-9])")
_LINE_BREAK = re.compile(r"\s*(?:\r?\n|\u2028|\u2029)\s*")
#: Separator lines such as "=====", "-----" or "***" that forwarded messages use between stories.
_RULE = re.compile(r"^[\W_]*$")

#: Phrases (folded) that mark a line as a greeting, a sign-off or a call to forward.
_NOISE_PATTERNS = [
    # greetings and sign-offs
    r"^(?:assalamu.?alaikum|asalamualaikum|assalamualaikum|salam|selamat (?:pagi|siang|sore|malam)|"
    r"pagi|halo+|hai+|hi+|hello|dear|good (?:morning|evening|afternoon)|shalom|om swastiastu)\b",
    r"^(?:wassalam|wasalam|terima ?kasih|makasih|thanks?|thank you|semoga bermanfaat|salam sehat|"
    r"tetap waspada|stay safe|god bless|tuhan memberkati|amin+|aamiin+)\b",
    # calls to forward or share
    r"\b(?:sebarkan|sebar ?luaskan|viralkan|bagikan|teruskan|share|forward(?:kan)?|copas)"
    r" (?:ke|kpd|kepada|to|this|ini|pesan|info|berita|sebanyak|seluas)\b",
    # "kirim" only with "this message" or a crowd: "kirim pesan ke <name> di WhatsApp" is the
    # scam itself, not a call to forward it
    r"\bkirim(?:kan)? (?:(?:pesan|info|berita) )?(?:ini|sebanyak|ke (?:\d+|semua|seluruh|teman|"
    r"grup|group|keluarga|kontak|saudara|orang))\b",
    r"\b(?:jangan (?:berhenti|putus) di (?:anda|kamu|sini|hp)|please share|pls share|"
    r"tolong (?:di ?)?(?:share|sebarkan|viralkan)|mohon (?:di ?)?(?:sebarkan|share|viralkan|teruskan)"
    r"|share (?:ya|yuk|sebanyak)|sebarkan!|viralkan!)",
    r"^(?:info|berita|pesan) (?:dari|dr) (?:grup|group|sebelah|teman)\b",
    r"^(?:fyi|cek|lihat|baca|klik|link|sumber|source)\b\W*$",
]
#: A bare call such as "SEBARKAN!!!" or "Share" is noise only when the line has little else.
_BARE_CALL = re.compile(
    r"\b(?:sebarkan|sebar ?luaskan|viralkan|bagikan|teruskan|share|forward(?:kan)?|copas|"
    r"(?:di ?)?share|disebarkan|diviralkan)\b"
)
_NOISE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS))


@dataclass(frozen=True)
class SplitOptions:
    """Bounds that keep a message's claims checkable: not too short to mean anything, not so long
    that one paragraph swamps its own point, and not so many that a spam wall costs seconds."""

    max_chars: int = 400  # a claim longer than this is cut at sentence ends
    min_terms: int = 3  # fewer content words than this: not a claim on its own
    max_claims: int = 12
    #: A one-line text shorter than this, or with fewer claims than two, is one claim.
    single_below_chars: int = 280


@dataclass
class ExtractedMessage:
    """The claims of a message in their order, plus what was set aside."""

    claims: list[str]
    urls: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # greetings, calls to forward, fragments

    @property
    def is_multi(self) -> bool:
        return len(self.claims) > 1


def extract_urls(text: str) -> tuple[str, list[str]]:
    """The text with its URLs removed, and the URLs (in order, without duplicates)."""
    urls: dict[str, None] = {}
    for match in _URL.finditer(text):
        urls.setdefault(match.group(0).rstrip(".,;:!?)]}"), None)
    return _URL.sub(" ", text), list(urls)


def is_noise(line: str) -> bool:
    """A greeting, sign-off, call to forward or a line without words (emoji, rules, hashtags)."""
    folded = " ".join(fold(line).split())
    if _RULE.match(folded) or not re.search(r"[^\W\d_]", folded):
        return True
    stripped = re.sub(r"#\w+", " ", folded)
    if not re.search(r"[^\W\d_]{2,}", stripped):
        return True
    terms = len(keyword_terms(line))
    if _BARE_CALL.search(folded) and terms <= 3:
        return True
    return bool(_NOISE.search(folded)) and terms <= 8


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph, cut where a sentence end is followed by a new sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _pack(sentences: list[str], max_chars: int) -> list[str]:
    """Consecutive sentences joined into pieces of at most ``max_chars`` (a longer sentence
    stays whole: cutting inside a sentence would split the claim itself)."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def split_message(text: str, options: SplitOptions = SplitOptions()) -> ExtractedMessage:
    """The claims of ``text``: paragraphs, long ones cut at sentence ends, noise lines dropped.

    A short line that is not noise (a headline such as "BREAKING!! Vaksin berbahaya") is kept in
    front of the paragraph that follows it, because alone it is often too thin to search.
    """
    body, urls = extract_urls(text or "")
    lines = [line.strip() for line in _LINE_BREAK.split(body)]
    claims: list[str] = []
    dropped: list[str] = []
    carry = ""
    for line in lines:
        if not line:
            continue
        kept = []
        for sentence in split_sentences(line):
            if is_noise(sentence):
                dropped.append(sentence)
            else:
                kept.append(sentence)
        if not kept:
            continue
        paragraph = " ".join(kept)
        if carry:
            paragraph = f"{carry} {paragraph}"
            carry = ""
        if len(keyword_terms(paragraph)) < options.min_terms:
            carry = paragraph
            continue
        claims.extend(_pack(split_sentences(paragraph), options.max_chars))
    if carry:
        if claims and len(claims[-1]) + len(carry) < options.max_chars:
            claims[-1] = f"{claims[-1]} {carry}"
        elif len(keyword_terms(carry)) >= 1 and not claims:
            claims.append(carry)
        else:
            dropped.append(carry)
    if len(claims) > options.max_claims:
        dropped.extend(claims[options.max_claims:])
        claims = claims[:options.max_claims]
    return ExtractedMessage(claims=claims, urls=urls, dropped=dropped)


def looks_like_message(text: str, options: SplitOptions = SplitOptions()) -> bool:
    """Whether ``text`` is a multi-claim message rather than one claim: it holds two or more
    claims and either has several lines (a pasted message) or is long.

    The CLI and :meth:`FactChecker.check_message` use this to decide on their own: a claim typed
    on one line stays one query (the single-claim answer and JSON schema), while a long pasted
    message with two or more claims is answered per claim.
    """
    text = text or ""
    if "\n" not in text.strip() and len(" ".join(text.split())) < options.single_below_chars:
        return False
    return split_message(text, options).is_multi
