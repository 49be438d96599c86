"""Turn the filters a person types into the exact values the store holds, or say why not.

A filter that matches nothing silently turns every lookup into "no match", which reads as "no
trusted source checked this": so a class nobody has, a malformed language or a publisher the
index does not hold is bad input with the allowed values listed, and names are matched the way
a person remembers them ("TurnBackHoax" for "TurnBackHoax (MAFINDO)", "komdigi" for "Komdigi").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from .errors import InvalidInput
from .models import Verdict
from .store import Filters, Store
from .verdicts import normalise

#: ISO 639-1: a language filter must be a real code, not any two letters.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la
    lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
    om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv
    sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()
)
_LANGUAGE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]{2,8})*$")
_AGE = re.compile(r"^\s*(\d{1,6})\s*([dwmy]?)\s*$", re.IGNORECASE)
MAX_AGE_YEARS = 200
_SHOWN_VALUES = 12


def resolve_filters(
    store: Store, *, publishers: Iterable[str] = (), sources: Iterable[str] = (),
    verdicts: Iterable[str] = (), languages: Iterable[str] = (),
    max_age: str | int | None = None, today: date | None = None,
) -> Filters:
    """The store's own values for what was asked; raises :class:`InvalidInput` naming the fix."""
    verdict_values = tuple(dict.fromkeys(verdict_class(v) for v in _clean(verdicts)))
    language_values = tuple(dict.fromkeys(language_code(v) for v in _clean(languages)))
    filters = Filters(
        publishers=_match_names(store, "publisher", _clean(publishers)),
        sources=_match_names(store, "source", _clean(sources)),
        verdicts=verdict_values,
        languages=language_values,
        since=since_date(max_age, today),
    )
    for column, values in (("verdict", verdict_values), ("language", language_values)):
        if values:
            held = store.facet_counts(column)
            present = {k.lower() for k in held}
            missing = [v for v in values if v not in present]
            if len(missing) == len(values):
                raise _unmatched(column, missing[0], held)
    return filters


def verdict_class(value: str) -> str:
    """A normalised class (``false``) or a publisher's label that maps to one (``hoaks``)."""
    key = value.strip().lower()
    try:
        return Verdict(key).value
    except ValueError:
        pass
    mapped = normalise(key)
    if mapped is not Verdict.UNKNOWN:
        return str(mapped.value)  # mypy reads .value of the narrowed members as Any
    allowed = ", ".join(v.value for v in Verdict)
    raise InvalidInput(
        f"unknown verdict class {value[:40]!r}: use {allowed}, or a publisher's label such as "
        "hoaks, salah, keliru",
        key="error.verdict", value=repr(value[:40]), allowed=allowed,
    )


def language_code(value: str) -> str:
    """The ISO 639-1 code of ``id``, ``EN``, ``en-US``; anything else is malformed."""
    match = _LANGUAGE.match(value.strip())
    code = match.group(1).lower() if match else ""
    if code not in ISO_639_1:
        raise InvalidInput(
            f"malformed language {value[:20]!r}: use an ISO 639-1 code such as id or en",
            key="error.language", value=repr(value[:20]),
        )
    return code


def since_date(max_age: str | int | None, today: date | None = None) -> str | None:
    """ISO date for a maximum age such as ``30``, ``30d``, ``6w``, ``6m`` or ``2y``."""
    if max_age is None or max_age == "":
        return None
    match = _AGE.match(str(max_age))
    days = 0
    if match:
        n, unit = int(match.group(1)), (match.group(2) or "d").lower()
        days = n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    if not match or days > MAX_AGE_YEARS * 366:
        raise InvalidInput(
            f"bad maximum age {str(max_age)[:20]!r}: use e.g. 30d, 6w, 6m or 2y "
            f"(at most {MAX_AGE_YEARS} years)",
            key="error.max_age", value=repr(str(max_age)[:20]), max_years=MAX_AGE_YEARS,
        )
    return ((today or date.today()) - timedelta(days=days)).isoformat()


def fold_name(name: str) -> str:
    """``TurnBackHoax (MAFINDO)`` -> ``turnbackhoax mafindo``: case and punctuation away."""
    return " ".join(re.findall(r"[^\W_]+", name.casefold()))


def name_matches(wanted: str, stored: str) -> bool:
    """Whether a typed name means a stored one: equal, a prefix, or a run of its words."""
    want, have = fold_name(wanted), fold_name(stored)
    if not want or not have:
        return False
    if have.replace(" ", "").startswith(want.replace(" ", "")):
        return True
    return f" {want} " in f" {have} "


def _match_names(store: Store, column: str, wanted: list[str]) -> tuple[str, ...]:
    if not wanted:
        return ()
    held = store.facet_counts(column)
    chosen: dict[str, None] = {}
    for value in wanted:
        exact = [k for k in held if k.casefold() == value.casefold()]
        found = exact or [k for k in held if k and name_matches(value, k)]
        if not found:
            raise _unmatched(column, value, held)
        chosen.update(dict.fromkeys(found))
    return tuple(chosen)


def _unmatched(column: str, value: str, held: dict[str, int]) -> InvalidInput:
    names = [k for k in held if k][:_SHOWN_VALUES]
    available = ", ".join(names) + (", …" if len(held) > len(names) else "") if names else "-"
    return InvalidInput(
        f"no item in this index has {column} {value[:60]!r}; it holds: {available}",
        key="error.filter_unmatched", field_key=f"field.{column}", value=repr(value[:60]),
        available=available,
    )


def _clean(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]
