"""Text cleaning shared by the keyword index and the query side.

Forwarded messages carry URLs, hashtags, mentions, emoji and informal spellings; the same
cleaning is applied to stored text and to queries so that both sides meet on the same tokens.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_TWEET_TAIL = re.compile(r"—\s*[^—]*\(@\w+\)\s*\w+ \d{1,2}, \d{4}\s*$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REPEAT = re.compile(r"([a-z])\1{2,}")

#: Informal Indonesian spellings seen in forwarded messages, mapped to the standard word.
INFORMAL: dict[str, str] = {
    "gak": "tidak", "ga": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "tdk": "tidak", "tak": "tidak", "gk": "tidak", "g": "tidak", "yg": "yang", "dgn": "dengan",
    "dg": "dengan", "utk": "untuk", "untk": "untuk", "krn": "karena", "karna": "karena",
    "sdh": "sudah", "udah": "sudah", "udh": "sudah", "blm": "belum", "jd": "jadi", "jgn": "jangan",
    "bs": "bisa", "bgt": "banget", "sm": "sama", "dr": "dari", "pd": "pada", "kpd": "kepada",
    "org": "orang", "tsb": "tersebut", "hrs": "harus", "lg": "lagi", "aja": "saja", "sy": "saya",
    "klo": "kalau", "kalo": "kalau", "dpt": "dapat", "bhw": "bahwa", "sbg": "sebagai",
    "spt": "seperti", "pemkot": "pemerintah kota", "pemprov": "pemerintah provinsi",
    "hoax": "hoaks", "vaksinasi": "vaksin", "covid19": "covid",
}

#: Words that carry no claim content in Indonesian or English; dropped from keyword queries.
STOPWORDS = frozenset(
    """yang dan di ke dari ini itu untuk dengan pada adalah dalam tidak akan juga atau karena
    oleh sudah ada bisa saja kita kami mereka anda saya kamu dia ia para sebagai bahwa agar
    jika kalau lebih telah masih harus hanya sangat banyak semua setelah sejak tersebut tanpa
    hingga namun tetapi tapi pun lagi serta bagi antara seperti atas bawah maka lalu jadi nya
    yg dgn utk the a an of to in and is are was were be been for on at by with from that this
    it as or not but have has had will would can could do does did so if its their they he she
    we you i his her our your them there here what which who whom when where why how than then
    also just about into over after before up down out no yes very more most such only own
    same too s t don rt via pic twitter com http https www amp""".split()
)


def strip_noise(text: str) -> str:
    """Remove URLs, mentions and a tweet's "— Name (@handle) date" tail, keep the words."""
    text = _TWEET_TAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return " ".join(text.replace("#", " ").split())


def fold(text: str) -> str:
    """Lower-case, strip accents and symbols (emoji included) the way the FTS tokenizer does."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Word tokens with informal spellings and stretched letters ("bangettt") normalised."""
    out: list[str] = []
    for tok in _WORD.findall(fold(text)):
        tok = _REPEAT.sub(r"\1", tok)
        out.extend(INFORMAL.get(tok, tok).split())
    return out


def keyword_terms(text: str, limit: int = 64) -> list[str]:
    """Distinct content tokens of a query, in order, for an OR-ed full-text query."""
    seen: dict[str, None] = {}
    for tok in tokens(strip_noise(text)):
        if tok in STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        seen.setdefault(tok, None)
        if len(seen) >= limit:
            break
    return list(seen)


def index_text(text: str) -> str:
    """Stored text as the keyword index should see it: the same token normalisation as queries."""
    return " ".join(tokens(text))


_ID_MARKERS = frozenset(
    "yang dan di ke dari ini itu untuk dengan tidak adalah dalam akan juga sudah ada bisa "
    "karena tersebut bahwa oleh pada kita mereka warga pemerintah salah hoaks".split()
)
_EN_MARKERS = frozenset(
    "the and of to in is are was that this for with from has have not be by on it who".split()
)


def detect_language(text: str) -> str | None:
    """'id' or 'en' from function words; None when the text is too short to tell."""
    words = [w for w in _WORD.findall(text.lower())]
    if len(words) < 3:
        return None
    id_score = sum(w in _ID_MARKERS for w in words)
    en_score = sum(w in _EN_MARKERS for w in words)
    if id_score == en_score:
        return None
    return "id" if id_score > en_score else "en"


#: Share of the identifier's probability a language needs before it is named. At 0.7, on the
#: dev sets' 33,095 real texts, a language other than the set's is named for 0-0.3% of them
#: (some turnbackhoax messages really are English) and none for 1.5% (CLEF2020's Snopes claims)
#: to 27% (CLEF2022's short English headlines).
_IDENTIFY_SURE = 0.7
#: Labels the identifier splits between languages it cannot tell apart on short text, merged
#: into the language this project indexes: Malay into Indonesian, Nigerian Pidgin into English.
_MERGE = {"ms": "id", "pcm": "en"}


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    # loaded on first use only (~0.6 s: the model is xz-compressed inside its wheel)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is written in, or None when unsure.

    :func:`detect_language` stays what the re-ranker's features and the per-language thresholds
    were calibrated on; it only knows Indonesian and English function words, and says nothing
    for a short claim such as "Vaksin COVID-19 mengandung chip pelacak". Comparing a claim's
    language with a fact-check's needs a real identifier: langid.py's model (py3langid, ~100
    languages, inside its wheel), on NFKC-folded (the styled letters of forwarded messages)
    lower-cased text without links, mentions and hash signs (:func:`strip_noise`).
    """
    folded = strip_noise(unicodedata.normalize("NFKC", text)).lower()
    if sum(ch.isalpha() for ch in folded) < 8:
        return None
    probs: dict[str, float] = {}
    for lang, prob in _identifier().rank(folded):
        key = _MERGE.get(lang, lang)
        probs[key] = probs.get(key, 0.0) + float(prob)
    best = max(probs, key=probs.__getitem__)
    return best if probs[best] >= _IDENTIFY_SURE else None


def base_language(code: str | None) -> str:
    """``"en-US"`` -> ``"en"``: the part of a stored language tag that names the language."""
    return (code or "").split("-")[0].strip().lower()
