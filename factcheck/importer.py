"""Reading verified items from files, so an index can be built without crawling.

Formats: JSON Lines and CSV of plain records, schema.org ClaimReview JSON / JSON-LD (one object,
a list, ``@graph`` or a DataFeed) and Google Fact Check Tools JSON. A bad record is reported with
its line (or position) and skipped; only an unreadable file stops the import.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .claimreview import (
    MAX_DEPTH, find_claimreviews, item_from_claimreview, items_from_google, too_deep,
)
from .dates import parse_date
from .errors import ImportFailed, InvalidInput
from .models import VerifiedItem, Verdict
from .text import identify_language
from .urls import canonical_url, is_http_url, published_url
from .verdicts import label_from_title, normalise, strip_label

FORMATS = ("auto", "jsonl", "csv", "json")

#: Digits of the longest integer read as a number; Python refuses to convert more than 4,300
#: (a guard against quadratic time), and no field of a fact-check needs a tenth of that.
MAX_INT_DIGITS = 400

#: JSON Lines ends records at LF (CRLF and a lone CR are taken too); ``str.splitlines`` would
#: also break at U+2028 and other separators that JSON allows raw inside a string.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "link", "page_url", "article_url", "href"),
    "title": ("title", "headline", "name"),
    "claim": ("claim", "claim_reviewed", "claimreviewed", "vclaim", "text_claim", "summary"),
    "verdict_raw": ("verdict_raw", "verdict", "rating", "label", "textual_rating",
                    "textualrating", "label_klarifikasi", "category"),
    "publisher": ("publisher", "author", "site", "organization"),
    "published": ("published", "date", "date_published", "datepublished", "published_at",
                  "review_date", "tanggal"),
    "language": ("language", "lang", "inlanguage", "language_code"),
    "text": ("text", "content", "body", "explanation"),
    "source": ("source",),
}


@dataclass
class RecordError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParsedFile:
    """Items read from a file, plus the records that had to be skipped."""

    items: list[VerifiedItem] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    format: str = "auto"


def item_from_record(record: dict[str, Any], *, source: str) -> VerifiedItem:
    """A plain flat record (JSONL line or CSV row) as an item; ``ValueError`` says what is wrong."""
    lowered = {str(k).strip().lower(): v for k, v in record.items() if k is not None}

    def pick(name: str) -> str:
        for alias in _ALIASES[name]:
            value = lowered.get(alias)
            if value not in (None, ""):
                return str(value).strip()
        return ""

    url = pick("url")
    if not url:
        raise ValueError("missing url")
    if not is_http_url(url):
        raise ValueError(f"url is not an absolute http(s) URL: {url[:80]!r}")
    title_raw = pick("title")
    claim = pick("claim")
    if not (title_raw or claim):
        raise ValueError("missing title and claim")
    raw = pick("verdict_raw") or label_from_title(title_raw) or ""
    published_raw = pick("published")
    published = parse_date(published_raw)
    if published_raw and published is None:
        raise ValueError(f"unreadable date {published_raw[:40]!r}")
    verdict_value = lowered.get("verdict_class") or lowered.get("normalised_verdict")
    verdict = normalise(raw)
    if verdict_value:
        try:
            verdict = Verdict(str(verdict_value).lower())
        except ValueError as exc:
            raise ValueError(f"unknown verdict class {verdict_value!r}") from exc
    title = strip_label(title_raw) if title_raw else claim
    text = pick("text")
    extra = {k: v for k, v in lowered.items() if k in ("demo", "claimant", "id")}
    return VerifiedItem(
        url=published_url(url), title=title, source=pick("source") or source,
        publisher=pick("publisher"), claim=claim, verdict_raw=raw, verdict=verdict,
        published=published, language=(pick("language")[:2].lower() or
                                       identify_language(f"{title} {claim} {text[:500]}")),
        text=text, extra=extra,
    )


class _HugeNumber:
    """Stands in for an integer too long to convert; a record holding one is skipped."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _HugeNumber:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _HugeNumber(len(text))


def _loads(text: str) -> Any:
    """``json.loads``, except that a huge integer becomes a :class:`_HugeNumber` marker.

    The default ``int`` raised ValueError ("exceeds the limit (4300 digits)") out of the
    parser, which for a JSON document lost every record of the file, not just the one.
    """
    return json.loads(text, parse_int=_parse_int)


def _record_problem(value: Any) -> str | None:
    """Why a parsed record cannot be used as it is: a huge number, or nesting too deep.

    Walked without recursion, so that the check itself survives what it looks for.
    """
    if too_deep(value, MAX_DEPTH):
        return f"nested more than {MAX_DEPTH} levels deep"
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, _HugeNumber):
            return f"a number with {node.digits} digits (at most {MAX_INT_DIGITS} are read)"
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _check_item(item: VerifiedItem) -> VerifiedItem:
    """Refuse what the store would fail on, so that it costs this record and not the import.

    A lone surrogate (``"\\ud800"`` is valid JSON, but not Unicode) made the store's UTF-8
    encoding fail inside the batch transaction, losing the valid records around it; a URL
    whose port is out of range failed the same way when it was canonicalised.
    """
    for name in ("url", "title", "claim", "verdict_raw", "publisher", "text", "source",
                 "language", "published"):
        value = getattr(item, name)
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"{name} is not valid Unicode (lone surrogate "
                    f"U+{ord(value[exc.start]):04X} at character {exc.start + 1})"
                ) from None
    try:
        json.dumps(item.extra, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a column is not valid Unicode (lone surrogate)") from None
    # raises ValueError for an unusable host or port; the store refuses what is left
    if not is_http_url(canonical_url(item.url)):
        raise ValueError(f"url is not an absolute http(s) URL: {item.url[:80]!r}")
    return item


def _items_from_json_value(value: Any, *, source: str) -> list[VerifiedItem]:
    """A JSON value holding ClaimReview(s), Fact Check Tools claims or a plain record."""
    if isinstance(value, dict) and isinstance(value.get("claims"), list):
        items: list[VerifiedItem] = []
        for claim in value["claims"]:
            items.extend(items_from_google(claim, source=source))
        return items
    if isinstance(value, dict) and "claimReview" in value:
        return items_from_google(value, source=source)
    reviews = list(find_claimreviews(value))
    if reviews:
        return [item_from_claimreview(node, source=source) for node in reviews]
    if isinstance(value, dict):
        return [item_from_record(value, source=source)]
    raise ValueError("expected a JSON object")


def detect_format(path: Path, head: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".json", ".jsonld"):
        return "json"
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first = _LINE_BREAK.split(stripped, 1)[0].strip()
        try:
            _loads(first)
            return "jsonl"
        except (ValueError, RecursionError):
            return "json"
    return "csv"


def read_file(path: str | Path, *, fmt: str = "auto", source: str = "import") -> ParsedFile:
    """Parse a whole file; raises :class:`ImportFailed` only when the file itself is unusable."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path} is not UTF-8 text: {exc}") from exc
    if not text.strip():
        raise ImportFailed(f"{path} is empty")
    if fmt == "auto":
        fmt = detect_format(path, text[:4096])
    result = ParsedFile(format=fmt)
    records: Iterator[tuple[int, Any]]
    if fmt == "jsonl":
        records = _jsonl_records(text, result)
    elif fmt == "csv":
        records = _csv_records(text, path, result)
    else:
        try:
            value = _loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed(f"{path} is not valid JSON: {exc}") from exc
        except RecursionError:
            raise ImportFailed(f"{path}: JSON nested too deeply to read") from None
        reviews = list(find_claimreviews(value))
        if isinstance(value, list) and not reviews:
            records = ((n, v) for n, v in enumerate(value, start=1))
        elif isinstance(value, dict) and isinstance(value.get("claims"), list):
            # one bad Fact Check Tools claim must not cost the rest of the file
            records = ((n, v) for n, v in enumerate(value["claims"], start=1))
        elif len(reviews) > 1:
            records = ((n, v) for n, v in enumerate(reviews, start=1))
        else:
            records = iter([(1, value)])
    for line, value in records:
        try:
            if isinstance(value, dict) and fmt == "csv":
                items = [item_from_record(value, source=source)]
            else:
                problem = _record_problem(value)
                if problem:
                    raise ValueError(problem)
                items = _items_from_json_value(value, source=source)
            result.items.extend(_check_item(item) for item in items)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            result.errors.append(RecordError(line, str(exc)[:300]))
    return result


def _jsonl_records(text: str, result: ParsedFile) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(RecordError(number, f"invalid JSON ({exc.msg})"))
            continue
        except RecursionError:
            result.errors.append(RecordError(number, "invalid JSON (nested too deeply)"))
            continue
        yield number, value


def _csv_records(text: str, path: Path, result: ParsedFile) -> Iterator[tuple[int, Any]]:
    """Rows of a CSV file; a row the csv module cannot read is one skipped record.

    ``newline=""`` hands line breaks to the csv module as its documentation asks: with the
    default, a bare CR (a file saved on an old Mac, or a stray one in the header) raised
    "new-line character seen in unquoted field" and stopped the whole import.
    """
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ImportFailed(f"{path}: unreadable CSV header ({exc})") from exc
    if not fieldnames:
        raise ImportFailed(f"{path} has no CSV header")
    headers = {h.strip().lower() for h in fieldnames if h}
    if not headers & set(_ALIASES["url"]):
        shown = ", ".join(sorted(headers))[:200]
        raise ImportFailed(f"{path} has no url column (header: {shown})")
    rows = iter(reader)
    while True:
        before = reader.reader.line_num  # DictReader's own count stops at a failed row
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
            result.errors.append(RecordError(before + 1, f"unreadable CSV row ({exc})"))
            if reader.reader.line_num == before:  # nothing consumed: it would fail for ever
                return
            continue
        if None in row:
            result.errors.append(RecordError(reader.line_num, "more fields than the header"))
            continue
        yield reader.line_num, row
