"""Reading verified items from files, so an index can be built without crawling.

Formats: JSON Lines and CSV of plain records, schema.org ClaimReview JSON / JSON-LD (one object,
a list, ``@graph`` or a DataFeed) and Google Fact Check Tools JSON. A bad record is reported with
its line (or position) and skipped; only an unreadable file stops the import.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .claimreview import find_claimreviews, item_from_claimreview, items_from_google
from .dates import parse_date
from .errors import ImportFailed, InvalidInput
from .models import VerifiedItem, Verdict
from .text import detect_language
from .urls import is_http_url, published_url
from .verdicts import label_from_title, normalise, strip_label

FORMATS = ("auto", "jsonl", "csv", "json")

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
                                       detect_language(f"{title} {claim} {text[:500]}")),
        text=text, extra=extra,
    )


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
        first = stripped.splitlines()[0].strip()
        try:
            json.loads(first)
            return "jsonl"
        except ValueError:
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
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed(f"{path} is not valid JSON: {exc}") from exc
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
                result.items.append(item_from_record(value, source=source))
            else:
                result.items.extend(_items_from_json_value(value, source=source))
        except (ValueError, TypeError, AttributeError) as exc:
            result.errors.append(RecordError(line, str(exc)))
    return result


def _jsonl_records(text: str, result: ParsedFile) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(RecordError(number, f"invalid JSON ({exc.msg})"))


def _csv_records(text: str, path: Path, result: ParsedFile) -> Iterator[tuple[int, Any]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise ImportFailed(f"{path} has no CSV header")
    headers = {h.strip().lower() for h in reader.fieldnames if h}
    if not headers & set(_ALIASES["url"]):
        raise ImportFailed(f"{path} has no url column (header: {', '.join(sorted(headers))})")
    try:
        for row in reader:
            if None in row:
                result.errors.append(RecordError(reader.line_num, "more fields than the header"))
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportFailed(f"{path}: CSV error at line {reader.line_num}: {exc}") from exc
