"""Indonesian and English fact-checks in one index: which claims get a first hit in the other
language, and what the answer then says.

    .venv/bin/python bench/mixed_languages.py                    # ~10 min cold, ~3 min warm
    .venv/bin/python bench/mixed_languages.py --save-records r.json   # re-report: --load-records

A real index mixes languages: turnbackhoax and Tempo next to Snopes and ClaimReview pages. The
confidence behind the tier was trained on pools where claim and fact-check share a language
(turnbackhoax Indonesian to Indonesian, CLEF English to English), so a first hit in the other
language is outside what it was calibrated on: its word-overlap features read "no shared words"
as "unrelated" (``bench/crosslingual.py``). This bench measures how often that situation occurs
for claims whose fact-check is *not* in the index (the side where a lowered bar would cost
false leads) and for claims whose fact-check is.

One index through the library: every turnbackhoax title (Indonesian) plus every CLEF2020
verified claim (English Snopes), less the fact-checks of half of the sampled unseen queries
(turnbackhoax odd IDs, CLEF2020 dev). Those are the **negatives**; the other half, whose
fact-check is indexed, the **positives**. Each is answered by ``FactChecker.check`` with the
bundled re-ranker; a record keeps the claim's language, the first hit's language, whether it is
right, the confidence and the tier. The report gives, per set and side, the shares of first
hits in the other language and their tiers, and the confidence quantiles of those first hits
(the figures a cross-language rule would be calibrated on).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, ROOT, CachingEmbedder, DataSet, Query, log, second_view_cache, split_of, table,
)

from factcheck import FactChecker  # noqa: E402
from factcheck.embedding import DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.models import Tier  # noqa: E402
from factcheck.rerank import bundled_reranker, reranker_file_name  # noqa: E402
from factcheck.text import detect_language, identify_language  # noqa: E402


@dataclass
class Record:
    scenario: str  # "mixed": one index of both sets; "apart": against the other set alone
    set: str
    qid: str
    positive: bool
    claim_lang: str  # factcheck.text.identify_language: what the cross-language rule compares
    first_lang: str
    right: bool
    confidence: float
    tier: str  # the library's answer
    base_tier: str  # the answer without the cross-language rule
    #: the first hit's language differs from the claim's, both known
    crosses: bool


def sample(queries: list[Query], n: int, rng: random.Random) -> list[Query]:
    return rng.sample(queries, min(n, len(queries)))


def _record(checker: FactChecker, name: str, ds: DataSet, q: Query, positive: bool,
            scenario: str) -> Record:
    res = checker.check(q.text, limit=5)
    first = res.hits[0].item if res.hits else None
    claim_lang = identify_language(q.text) or ""
    first_lang = (first.language or "") if first else ""
    conf = float(res.confidence or 0.0)
    below = conf < res.thresholds.get("confidence_suggestion", 0.0)
    base = Tier.NONE if res.tier is Tier.SUGGESTION and below else res.tier
    return Record(
        scenario, name, q.qid, positive, claim_lang, first_lang,
        bool(first) and ds.key_of(first.url) in q.relevant and first.source == f"bench-{name}",
        conf, res.tier.value, base.value,
        # as factcheck.ranking.leads_across_languages reads it (function words first)
        bool(claim_lang and first_lang and claim_lang != first_lang
             and detect_language(q.text) != first_lang))


def collect(model: str, per_set: int, seed: int, side: str) -> list[Record]:
    rng = random.Random(seed)
    sets = {name: LOADERS[name]() for name in ("turnbackhoax", "clef2020")}
    queries: dict[str, list[Query]] = {}
    held: set[str] = set()
    negatives: set[tuple[str, str]] = set()
    for name, ds in sets.items():
        chosen = sample([q for part, qs in ds.splits.items() for q in qs
                         if split_of(name, part, q) == side], per_set, rng)
        queries[name] = chosen
        for q in chosen[: len(chosen) // 2]:
            negatives.add((name, q.qid))
            held.update(ds.url(name, key) for key in q.relevant)
    # a positive whose fact-check is also a negative's is not a positive
    for name, ds in sets.items():
        queries[name] = [q for q in queries[name] if (name, q.qid) in negatives
                         or not {ds.url(name, k) for k in q.relevant} & held]
    tmp = Path(tempfile.mkdtemp(prefix="fc-mixed-"))
    out: list[Record] = []
    embedder = CachingEmbedder(get_embedder(model), verbose=True)
    second = second_view_cache(verbose=False)
    try:
        with FactChecker.open(tmp / "mixed", create=True, embedder=embedder,
                              second_view=second) as checker:
            checker.add_items([i for ds in sets.values() for i in ds.items if i.url not in held])
            log(f"mixed: indexed {checker.store.count()} items ({len(held)} held out)")
            for name, ds in sets.items():
                out += [_record(checker, name, ds, q, (name, q.qid) not in negatives, "mixed")
                        for q in queries[name]]
                log(f"mixed [{name}] {len(queries[name])} claims answered")
        # apart: each set's claims against the other set's index alone (the other language)
        for name, ds in sets.items():
            other = next(o for o in sets.values() if o is not ds)
            with FactChecker.open(tmp / f"apart-{name}", create=True, embedder=embedder,
                                  second_view=second) as checker:
                checker.add_items(other.items)
                out += [_record(checker, name, ds, q, False, "apart") for q in queries[name]]
                log(f"apart [{name}] {len(queries[name])} claims against {other.name} answered")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


#: The bar is the lowest confidence that keeps, in every set, both
#: * ``apart``: at most SHOWN_BUDGET of the claims whose first hit is in another language
#:   (against an index of the other language only: nobody there checked them) shown at all,
#:   the rule ``train_reranker.py`` holds the suggestion threshold to (<= 20% shown), and
#: * ``mixed``: at most ADDED_BUDGET of the claims nobody has checked turned from "no match"
#:   into a suggestion by the bar.
SHOWN_BUDGET = 0.20
ADDED_BUDGET = 0.01


def with_bar(r: Record, bar: float | None) -> str:
    """The tier of a record under a cross-language bar (None: no rule)."""
    if bar is not None and r.base_tier == "none" and r.crosses and r.confidence >= bar:
        return "suggestion"
    return r.base_tier


def calibrate(records: list[Record]) -> float | None:
    """The lowest bar within both budgets (see SHOWN_BUDGET) in every set."""
    groups: list[tuple[list[Record], Callable[[Record, float], bool], float]] = []
    for name in sorted({r.set for r in records}):
        apart = [r for r in records if r.scenario == "apart" and r.set == name and r.crosses]
        mixed = [r for r in records
                 if r.scenario == "mixed" and r.set == name and not r.positive]
        groups.append((apart, lambda r, b: with_bar(r, b) != "none", SHOWN_BUDGET))
        groups.append((mixed, lambda r, b: with_bar(r, b) != r.base_tier, ADDED_BUDGET))
    candidates = sorted({r.confidence for r in records if r.crosses and r.base_tier == "none"})
    for bar in candidates:
        if all(sum(counts(r, bar) for r in rs) <= budget * len(rs)
               for rs, counts, budget in groups if rs):
            return bar
    return None


def write_bar(model: str, bar: float, records: list[Record]) -> Path:
    """Record the bar in the model's bundled re-ranker file (``thresholds.cross_language``)."""
    reranker = bundled_reranker(model)
    if reranker is None:
        sys.exit(f"error: no bundled re-ranker for {model}")
    path = ROOT / "factcheck" / "data" / reranker_file_name(model)
    spec = json.loads(path.read_text(encoding="utf-8"))
    apart = sum(r.scenario == "apart" and r.crosses for r in records)
    mixed = sum(r.scenario == "mixed" and not r.positive for r in records)
    spec["thresholds"]["cross_language"] = {
        "suggestion": math.ceil(bar * 1e4) / 1e4,  # never below the chosen bar
        "chosen_on": f"bench/mixed_languages.py --side train: lowest bar with <= "
                     f"{SHOWN_BUDGET:.0%} shown of {apart} claims against an index of the "
                     f"other language and <= {ADDED_BUDGET:.0%} leads added among {mixed} "
                     f"unchecked claims in a mixed index, per set",
    }
    path.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def report(records: list[Record], bar: float | None) -> None:
    rows = []
    mixed = [r for r in records if r.scenario == "mixed"]
    for name in sorted({r.set for r in mixed}):
        for positive in (True, False):
            group = [r for r in mixed if r.set == name and r.positive == positive]
            if not group:
                continue
            cross = [r for r in group if r.crosses]
            n = len(group)

            def share(rs: list[Record], tier: str, bar: float | None, n: int = n) -> str:
                return f"{100 * sum(with_bar(r, bar) == tier for r in rs) / n:.1f}%"

            shown = [r for r in group
                     if with_bar(r, bar) != "none" and (r.right or not positive)]
            rows.append([
                name, "positive" if positive else "negative", n,
                f"{100 * sum(r.right for r in group) / n:.1f}%" if positive else "",
                f"{100 * len(cross) / n:.1f}%",
                f"{sum(r.right for r in cross)}" if positive else "",
                share(group, "match", bar), share(group, "suggestion", None),
                share(group, "suggestion", bar),
                f"{100 * len(shown) / n:.1f}%",
                share(cross, "none", None), share(cross, "none", bar),
            ])
    print(table(["set", "side", "n", "P@1", "first hit in other lang.", "of which right",
                 "match", "sugg. before", "sugg. with bar", "shown (right if pos.)",
                 "other-lang none before", "with bar"], rows,
                title=f"Mixed index (turnbackhoax + CLEF2020): shares of the side's claims; "
                      f"cross-language bar {bar}"))
    print()
    rows = []
    for name in sorted({r.set for r in records if r.scenario == "apart"}):
        group = [r for r in records if r.scenario == "apart" and r.set == name]
        cross = [r for r in group if r.crosses]
        if not cross:
            continue
        n = len(cross)
        conf = np.array([r.confidence for r in cross])
        rows.append([
            name, len(group), n,
            *(f"{100 * sum(with_bar(r, b) != 'none' for r in cross) / n:.1f}%"
              for b in (None, bar)),
            *(f"{v:.3f}" for v in np.quantile(conf, [0.5, 0.8, 0.9, 0.99])),
        ])
    print(table(["claims of", "n", "languages known, other", "shown before", "shown with bar",
                 "conf p50", "p80", "p90", "p99"], rows,
                title="Claims against an index of the other language only (nobody there "
                      "checked them)"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--per-set", type=int, default=600,
                    help="unseen claims sampled per set (half become negatives)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--side", choices=("train", "test"), default="test",
                    help="which queries: the re-ranker's training side or the unseen one")
    ap.add_argument("--calibrate", action="store_true",
                    help="choose the cross-language bar on these records (use --side train)")
    ap.add_argument("--write", action="store_true",
                    help="with --calibrate: write the bar into the bundled re-ranker file")
    ap.add_argument("--save-records", type=Path)
    ap.add_argument("--load-records", type=Path)
    args = ap.parse_args(argv)
    if args.load_records:
        records = [Record(**r) for r in json.loads(args.load_records.read_text())]
    else:
        records = collect(args.model, args.per_set, args.seed, args.side)
        if args.save_records:
            args.save_records.write_text(json.dumps([asdict(r) for r in records]))
    reranker = bundled_reranker(args.model)
    shipped = (reranker.thresholds.get("cross_language") or {}).get("suggestion") \
        if reranker else None
    bar = shipped
    if args.calibrate:
        bar = calibrate(records)
        log(f"cross-language bar: {bar} (shipped: {shipped})")
        if args.write and bar is not None:
            log(f"written to {write_bar(args.model, bar, records)}")
    if shipped is not None:  # the library's own answers must be what this bench derives
        agree = sum(with_bar(r, shipped) == r.tier for r in records)
        log(f"library tiers agree with the derived ones: {agree}/{len(records)}")
    report(records, bar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
