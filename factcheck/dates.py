"""Publication dates as ISO strings, from the formats Indonesian and English sites use.

dateutil does the parsing; Indonesian month names are taught to it through its ``parserinfo``
so "2 Agustus 2024" and "2 Aug 2024" give the same date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from dateutil import parser as _parser


class _BilingualInfo(_parser.parserinfo):
    MONTHS = [
        ("Jan", "January", "Januari"),
        ("Feb", "February", "Februari", "Peb", "Pebruari"),
        ("Mar", "March", "Maret"),
        ("Apr", "April"),
        ("May", "Mei"),
        ("Jun", "June", "Juni"),
        ("Jul", "July", "Juli"),
        ("Aug", "August", "Agu", "Agus", "Agustus", "Ags"),
        ("Sep", "Sept", "September"),
        ("Oct", "October", "Okt", "Oktober"),
        ("Nov", "November", "Nop", "Nopember"),
        ("Dec", "December", "Des", "Desember"),
    ]
    WEEKDAYS = [
        ("Mon", "Monday", "Senin"),
        ("Tue", "Tuesday", "Selasa"),
        ("Wed", "Wednesday", "Rabu"),
        ("Thu", "Thursday", "Kamis"),
        ("Fri", "Friday", "Jumat", "Jum'at"),
        ("Sat", "Saturday", "Sabtu"),
        ("Sun", "Sunday", "Minggu", "Ahad"),
    ]
    JUMP = _parser.parserinfo.JUMP + ["pukul"]


#: Indonesian time zones, so "14:05 WIB" parses without a warning.
_TZINFOS = {"WIB": 7 * 3600, "WITA": 8 * 3600, "WIT": 9 * 3600}


_INFO = _BilingualInfo(dayfirst=True)
_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")
#: Longest text read as a date. "Selasa, 2 Agustus 2024 pukul 14:05 WIB" is 38 characters;
#: a whole paragraph in a date field is not a date, and dateutil's fuzzy parse of a long text
#: costs time for nothing.
MAX_DATE_CHARS = 120


def utc_now() -> str:
    """The current UTC time as an ISO string to the second, e.g. ``2024-08-02T07:05:00+00:00``.

    One spelling for every timestamp the tool writes (stored rows, refresh state, bundle and
    export metadata), so that they sort and compare as plain strings.
    """
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def parse_date(value: object) -> str | None:
    """``YYYY-MM-DD`` for a date-like value, or ``None`` when it cannot be read.

    ISO strings keep their ordering (year first); other strings are read day-first, the
    Indonesian and European convention. Unix timestamps in seconds are accepted too.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value), timezone.utc).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None  # an object or list where a date belongs (JSON-LD, imports) is no date
    text = value.strip().replace(",", " ")
    if len(text) > MAX_DATE_CHARS or not _YEAR.search(text):
        return None  # "4 jam lalu" (4 hours ago) would otherwise read as today
    try:
        iso_like = len(text) >= 8 and text[:4].isdigit() and text[4] in "-/"
        parsed: datetime = _parser.parse(
            text, parserinfo=None if iso_like else _INFO, fuzzy=True, tzinfos=_TZINFOS
        )
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        # ArithmeticError: dateutil reads seconds with Decimal, and some mangled times
        # ("12:30:0.5e99999") raise decimal.InvalidOperation
        return None
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed.date().isoformat()
