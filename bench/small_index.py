"""Tiers on small indexes: false matches and match / suggestion recall on indexes of 50-1,000
items sampled from the dev sets, and on the full index for comparison.

    .venv/bin/python bench/small_index.py                     # ~25 min warm: both sides, 3 seeds
    .venv/bin/python bench/small_index.py --sets clef2020 --seeds 1 --queries 50
    .venv/bin/python bench/small_index.py --save-records r.json   # later: --load-records r.json
    .venv/bin/python bench/small_index.py --json

For each data set and side (train: turnbackhoax even IDs, CLEF ``train``; test = unseen:
turnbackhoax odd IDs, CLEF ``dev``; the split of ``bench/pools.py``) and each seed:

* **small indexes** of N items (default 50, 200, 500, 999 and 1,000: the old ``min_items``
  boundary, below which the cosine pair used to decide): half of them (at most half of the
  side's fact-checks) are fact-checks of the side's queries, the rest other items of the same
  corpus. Positives are queries whose fact-check is in the index, negatives queries whose
  fact-check is not (a sample of at most ``--queries`` of each);
* **the full index**: the whole corpus less ``--queries`` held-out fact-checks per side; the
  queries of those are the negatives, a sample of the others the positives.

Every query is answered by the real ``FactChecker.check`` three times (index built with the
library, the bundled embedder behind the bench cache, the bundled re-ranker): the default
(hybrid, re-ranked), ``rerank=False`` and ``mode="dense"`` — the last two are where the cosine
pair decides at any size. The re-ranked answer runs with a copy of the re-ranker whose
``min_items`` is 0, so it always carries the confidence (the ranking does not read
``min_items``). Tiers are then re-derived from the answers' signals exactly as
``FactChecker._answer`` does (the confidence from ``min_items`` up, else the first hit's cosine;
the claim language's pair), and the derivation for the shipped library is checked against
``check()`` itself on a sample of every index (the "spot check" line). "before" is the library
before issue 12 (cosine 0.90/0.86 below 1,000 items), "now" the shipped config and re-ranker.

Metrics (``bench/quality.py``'s definitions, extended to small indexes):

* **FMR** (false-match rate): share of the *negatives* (their fact-check is not in the index)
  called a match, over all negatives — quality.py's "FMR held out";
* **wrong**: share of the positives called a match whose first hit is not their fact-check;
* **match recall**: share of positives called a match with the right first hit;
* **shown recall**: share of positives with the right first hit shown as match or suggestion;
* **neg shown**: share of negatives shown at all (match or suggestion).

Calibration, on the train side only: for each signal — the re-ranked first hit's cosine (the
old small-index rule), the margin (that cosine minus the best cosine of the other hits), cosine
+ w * margin, the re-ranker's confidence, and the first hit's cosine of the non-re-ranked
lookups (``rerank=False``, dense mode) — ``match`` is the lowest threshold whose FMR is <= 4% in
*every* (set, size) group (a margin under the 5% target, as ``train_reranker.py`` does),
``suggestion`` the lowest whose "neg shown" is <= 20% in every group; once per claim language
(``detect_language``) with enough negatives and once for all claims. The re-ranked signals are
compared on the small sizes; the non-re-ranked cosines decide at every size, so their pair
must also hold on the full index. The chosen pairs are then evaluated on the unseen side.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, CachingEmbedder, DataSet, Query, log, second_view_cache, table,
)
from pools import split_of  # noqa: E402

from factcheck import FactChecker  # noqa: E402
from factcheck.config import Thresholds, thresholds_for  # noqa: E402
from factcheck.embedding import DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.lookup import tier_for  # noqa: E402
from factcheck.models import Tier  # noqa: E402
from factcheck.rerank import Reranker, bundled_reranker  # noqa: E402
from factcheck.text import detect_language  # noqa: E402

SETS = ("turnbackhoax", "clef2020", "clef2022")
SIDE_NAMES = {("turnbackhoax", "test"): "odd IDs", ("turnbackhoax", "train"): "even IDs",
              ("clef2020", "test"): "dev", ("clef2020", "train"): "train",
              ("clef2022", "test"): "dev", ("clef2022", "train"): "train"}
#: The library before issue 12: below 1,000 items the re-ranked first hit's cosine decided.
BEFORE = Thresholds(match=0.90, suggestion=0.86, confidence_match=0.85,
                    confidence_suggestion=0.31, languages=(("en", 0.90, 0.33), ("id", 0.75, 0.26)))
BEFORE_MIN_ITEMS = 1000
SIZES = (50, 200, 500, 999, 1000)
FMR_TARGET = 0.04  # chosen on train; the goal on unseen data is <= 5%
SHOW_TARGET = 0.20
#: a language gets its own pair when each of its groups holds this many train negatives
MIN_LANGUAGE_NEGATIVES = 150
MARGIN_WEIGHTS = (1.0, 2.0, 4.0)
SPOT_PER_INDEX = 3
#: signal -> (what it reads, which first hit it judges, where it decides)
RERANKED = "re-ranked (default)"
#: one cosine pair for both lookups that are not re-ranked (what config holds)
FALLBACK = "fused cosine|dense cosine"
SIGNALS = {
    "confidence": RERANKED, "cosine": RERANKED, "margin": RERANKED,
    **{f"cos+{w:g}*margin": RERANKED for w in MARGIN_WEIGHTS},
    "fused cosine": "rerank=False", "dense cosine": "mode=dense",
    FALLBACK: "both",
}


@dataclass
class Record:
    """One query answered three ways, reduced to the signals a tier reads."""

    set: str
    side: str  # train / test
    size: int  # requested size; 0 = the full index
    n_items: int  # items actually in the index
    seed: int
    qid: str
    positive: bool  # its fact-check is in the index
    lang: str  # detect_language of the claim ('' when too short to tell)
    right: bool  # re-ranked first hit is one of its fact-checks
    cos1: float  # cosine of the re-ranked first hit
    cos2: float  # best cosine among the other re-ranked hits (limit 10)
    conf: float  # the re-ranker's confidence for the first hit (computed at any size)
    right_fused: bool = False  # the same for check(rerank=False)
    cos_fused: float = 0.0
    right_dense: bool = False  # and for check(mode="dense")
    cos_dense: float = 0.0
    first: str = ""  # the re-ranked first hit's key (bench/judged.py's judgements read it)


# -- sampling ----------------------------------------------------------------------------


def side_queries(ds: DataSet, side: str) -> list[Query]:
    return [q for part, qs in ds.splits.items() for q in qs if split_of(ds.name, part, q) == side]


def sample_small(ds: DataSet, queries: list[Query], size: int, cap: int, rng: random.Random
                 ) -> tuple[set[str], list[Query], list[Query]]:
    """Index keys (half of them the side's fact-checks), positives and negatives."""
    corpus = sorted(ds.key_of(i.url) for i in ds.items)
    known = set(corpus)
    targets = sorted({k for q in queries for k in q.relevant if k in known})
    k = min(size // 2, len(targets) // 2)
    chosen = set(rng.sample(targets, k))
    target_set = set(targets)
    others = [c for c in corpus if c not in target_set]
    chosen.update(rng.sample(others, size - k))
    return chosen, *_split_queries(queries, chosen, cap, rng)


def sample_full(ds: DataSet, by_side: dict[str, list[Query]], cap: int, rng: random.Random
                ) -> tuple[set[str], dict[str, tuple[list[Query], list[Query]]]]:
    """The whole corpus less ``cap`` held-out fact-checks of each side."""
    corpus = {ds.key_of(i.url) for i in ds.items}
    held: set[str] = set()
    for queries in by_side.values():
        targets = sorted({k for q in queries for k in q.relevant if k in corpus})
        held.update(rng.sample(targets, min(cap, len(targets) // 2)))
    index = corpus - held
    return index, {side: _split_queries(qs, index, cap, rng) for side, qs in by_side.items()}


def _split_queries(queries: list[Query], index: set[str], cap: int, rng: random.Random
                   ) -> tuple[list[Query], list[Query]]:
    pos = [q for q in queries if q.relevant & index]
    neg = [q for q in queries if not q.relevant & index]
    return (rng.sample(pos, min(cap, len(pos))), rng.sample(neg, min(cap, len(neg))))


# -- answering ---------------------------------------------------------------------------


class Runner:
    """Builds indexes through the library and answers queries with the real ``check()``."""

    def __init__(self, tmp: Path, model: str = DEFAULT_MODEL) -> None:
        self.tmp = tmp
        self.embedder = CachingEmbedder(get_embedder(model), verbose=True)
        self.second = second_view_cache(verbose=False)
        reranker = bundled_reranker(model)
        if reranker is None:
            sys.exit(f"error: no re-ranker weights for {model}: run "
                     f"bench/train_reranker.py --model {model}")
        self.reranker: Reranker = reranker
        #: same weights, confidence reported at any size (the ranking does not read min_items)
        self.probe = copy.copy(reranker)
        self.probe.min_items = 0
        self.thresholds = thresholds_for(model, env=False)
        self.spot_same = self.spot_total = 0
        self.checks = 0
        self.check_seconds = 0.0
        self.build_seconds = 0.0
        self._n = 0

    def build(self, ds: DataSet, keys: set[str]) -> FactChecker:
        self._n += 1
        t0 = time.perf_counter()
        checker = FactChecker.open(self.tmp / f"{ds.name}-{self._n}", create=True,
                                   embedder=self.embedder, second_view=self.second,
                                   thresholds=self.thresholds, reranker=self.reranker)
        checker.add_items([i for i in ds.items if ds.key_of(i.url) in keys])
        self.build_seconds += time.perf_counter() - t0
        return checker

    def answer(self, checker: FactChecker, ds: DataSet, side: str, size: int, seed: int,
               positives: list[Query], negatives: list[Query]) -> list[Record]:
        n_items = checker.store.count()
        out = []
        t0 = time.perf_counter()
        checker.reranker = self.probe
        labelled = [(q, True) for q in positives] + [(q, False) for q in negatives]
        for q, positive in labelled:
            res = checker.check(q.text, limit=10)
            hits = res.hits
            keys = [ds.key_of(h.item.url) for h in hits]
            rec = Record(
                ds.name, side, size, n_items, seed, q.qid, positive,
                detect_language(res.query) or "", bool(keys) and keys[0] in q.relevant,
                hits[0].dense if hits else 0.0,
                max((h.dense for h in hits[1:]), default=0.0),
                float(res.confidence) if res.confidence is not None else 0.0,
                first=keys[0] if keys else "",
            )
            for field, kw in (("fused", {"rerank": False}), ("dense", {"mode": "dense"})):
                other = checker.check(q.text, limit=1, **kw).hits  # type: ignore[arg-type]
                setattr(rec, f"cos_{field}", other[0].dense if other else 0.0)
                setattr(rec, f"right_{field}",
                        bool(other) and ds.key_of(other[0].item.url) in q.relevant)
            out.append(rec)
        self.checks += 3 * len(labelled)
        self.check_seconds += time.perf_counter() - t0
        # the shipped library must give the tiers this bench derives from the signals
        checker.reranker = self.reranker
        for (q, _), rec in list(zip(labelled, out))[:SPOT_PER_INDEX]:
            got = (checker.check(q.text, limit=10).tier,
                   checker.check(q.text, limit=1, rerank=False).tier,
                   checker.check(q.text, limit=1, mode="dense").tier)
            want = (user_tier(rec, self.thresholds, self.reranker.min_items),
                    cosine_tier(rec.cos_fused, self.thresholds, rec.lang),
                    cosine_tier(rec.cos_dense, self.thresholds, rec.lang))
            self.spot_total += 1
            self.spot_same += got == want
        return out


def collect(sets: list[str], sizes: list[int], seeds: int, cap: int, sides: list[str],
            full: bool, model: str = DEFAULT_MODEL) -> tuple[list[Record], Runner]:
    tmp = Path(tempfile.mkdtemp(prefix="fc-small-"))
    runner = Runner(tmp, model)
    records: list[Record] = []
    for name in sets:
        ds = LOADERS[name]()
        by_side = {side: side_queries(ds, side) for side in sides}
        for seed in range(seeds):
            for side in sides:
                for size in sizes:
                    rng = random.Random(f"{seed}:{name}:{side}:{size}")
                    keys, pos, neg = sample_small(ds, by_side[side], size, cap, rng)
                    checker = runner.build(ds, keys)
                    records += runner.answer(checker, ds, side, size, seed, pos, neg)
                    checker.close()
                log(f"[{name}] seed {seed} {side}: sizes {sizes} answered")
            if full:
                rng = random.Random(f"{seed}:{name}:full")
                keys, split = sample_full(ds, by_side, cap, rng)
                checker = runner.build(ds, keys)
                for side, (pos, neg) in split.items():
                    records += runner.answer(checker, ds, side, 0, seed, pos, neg)
                checker.close()
                log(f"[{name}] seed {seed} full index ({len(keys)} items) answered")
    shutil.rmtree(tmp, ignore_errors=True)
    return records, runner


# -- tiers and rates ---------------------------------------------------------------------


def user_tier(rec: Record, th: Thresholds, min_items: int) -> Tier:
    """The tier ``FactChecker._answer`` gives the default (re-ranked) answer."""
    lth = th.for_language(rec.lang or None)
    confidence = rec.conf if rec.n_items >= min_items else None
    return tier_for(rec.cos1, lth, confidence)


def cosine_tier(cosine: float, th: Thresholds, lang: str) -> Tier:
    """The tier of a lookup that was not re-ranked (``rerank=False``, dense mode)."""
    return tier_for(cosine, th.for_language(lang or None))


def rates(recs: list[Record], tiers: list[Tier], rights: list[bool]) -> dict[str, float]:
    pos = [(t, ok) for r, t, ok in zip(recs, tiers, rights) if r.positive]
    neg = [t for r, t in zip(recs, tiers) if not r.positive]

    def share(xs: list[bool]) -> float:
        return float(np.mean(xs)) if xs else float("nan")

    return {
        "positives": len(pos), "negatives": len(neg),
        "fmr": share([t is Tier.MATCH for t in neg]),
        "neg_shown": share([t is not Tier.NONE for t in neg]),
        "wrong": share([t is Tier.MATCH and not ok for t, ok in pos]),
        "match_recall": share([t is Tier.MATCH and ok for t, ok in pos]),
        "shown_recall": share([t is not Tier.NONE and ok for t, ok in pos]),
        "p1": share([ok for _, ok in pos]),
    }


def signal_value(signal: str, rec: Record) -> float:
    if signal == "cosine":
        return rec.cos1
    if signal == "margin":
        return rec.cos1 - rec.cos2
    if signal == "confidence":
        return rec.conf
    if signal == "fused cosine":
        return rec.cos_fused
    if signal == "dense cosine":
        return rec.cos_dense
    if signal.startswith("cos+"):
        w = float(signal[4:].split("*", 1)[0])
        return rec.cos1 + w * (rec.cos1 - rec.cos2)
    raise ValueError(signal)


def signal_right(signal: str, rec: Record) -> bool:
    return {"fused cosine": rec.right_fused, "dense cosine": rec.right_dense}.get(signal, rec.right)


@dataclass
class Rule:
    """A tier rule over one scalar signal, with a (match, suggestion) pair per language."""

    signal: str
    shared: tuple[float, float]
    languages: dict[str, tuple[float, float]]
    name: str = ""  # shown before the pairs ("config", "chosen")

    def tier(self, rec: Record) -> Tier:
        m, s = self.languages.get(rec.lang, self.shared)
        v = signal_value(self.signal, rec)
        return Tier.MATCH if v >= m else Tier.SUGGESTION if v >= s else Tier.NONE

    def describe(self) -> str:
        parts = [f"{self.shared[0]:g}/{self.shared[1]:g}"]
        parts += [f"{lang} {m:g}/{s:g}" for lang, (m, s) in sorted(self.languages.items())]
        return (f"{self.name}: " if self.name else "") + f"{self.signal} " + ", ".join(parts)


def grid_for(signal: str) -> np.ndarray:
    if signal == "margin":
        return np.round(np.arange(-0.02, 0.2001, 0.0025), 4)
    if signal == "confidence":
        return np.round(np.arange(0.01, 0.9951, 0.01), 2)
    if signal.startswith("cos+"):
        w = float(signal[4:].split("*", 1)[0])
        return np.round(np.arange(0.70, 1.0 + 0.2 * w + 1e-9, 0.0025), 4)
    return np.round(np.arange(0.70, 1.0001, 0.0025), 4)


def pick(signal: str, groups: list[list[Record]]) -> tuple[float, float]:
    """Lowest match threshold with FMR <= FMR_TARGET and lowest suggestion threshold with
    "neg shown" <= SHOW_TARGET, in every group (the negatives of one set and size). A signal
    "a|b" must hold for both signals at once (one pair for two lookups)."""
    grid = grid_for(signal.split("|")[0])
    values = [np.array([signal_value(one, r) for r in g if not r.positive])
              for one in signal.split("|") for g in groups]
    values = [v for v in values if len(v)]

    def lowest(target: float) -> float:
        for t in grid:
            if all((v >= t).mean() <= target for v in values):
                return float(t)
        return float(grid[-1])

    match = lowest(FMR_TARGET)
    return match, min(lowest(SHOW_TARGET), match)


def calibrate(signal: str, train: list[Record], sizes: list[int]) -> Rule:
    """The shared pair holds in every (set, size) group of all claims; a language's pair in
    every (set, size) group where that language has MIN_LANGUAGE_NEGATIVES negatives."""
    recs = [r for r in train if r.size in sizes]
    keys = sorted({(r.set, r.size) for r in recs})
    shared = pick(signal, [[r for r in recs if (r.set, r.size) == k] for k in keys])
    languages = {}
    for lang in sorted({r.lang for r in recs} - {""}):
        groups = [[r for r in recs if r.lang == lang and (r.set, r.size) == k] for k in keys]
        groups = [g for g in groups if sum(not r.positive for r in g) >= MIN_LANGUAGE_NEGATIVES]
        if groups:
            languages[lang] = pick(signal, groups)
    return Rule(signal, shared, languages)


def per_size_pairs(signal: str, train: list[Record], sizes: list[int]) -> list[list[object]]:
    """The pair each size (and language) would get on its own: how much the size matters."""
    rows = []
    for lang in ("id", "en"):
        row: list[object] = [signal, lang]
        for n in sizes:
            g = [r for r in train if r.size == n and r.lang == lang]
            row.append("{:g}/{:g}".format(*pick(signal, [g])) if g else "-")
        rows.append(row)
    return rows


# -- report ------------------------------------------------------------------------------


def row_label(size: int) -> str:
    return "full" if size == 0 else str(size)


def grouped(records: list[Record], side: str) -> dict[tuple[str, int], list[Record]]:
    out: dict[tuple[str, int], list[Record]] = {}
    for r in records:
        if r.side == side:
            out.setdefault((r.set, r.size), []).append(r)
    return dict(sorted(out.items(), key=lambda kv: (SETS.index(kv[0][0]), kv[0][1] == 0,
                                                      kv[0][1])))


def pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1%}"


Policy = Callable[[Record], tuple[Tier, bool]]


def tier_table(records: list[Record], policies: dict[str, Policy], side: str
               ) -> tuple[str, list[dict]]:
    """One row per (set, size) of ``side``; per policy FMR / wrong / match / shown / neg shown."""
    rows, docs = [], []
    for (name, size), recs in grouped(records, side).items():
        n_items = int(np.median([r.n_items for r in recs]))
        row: list[object] = [name, SIDE_NAMES[(name, side)], row_label(size), n_items,
                             sum(r.positive for r in recs), sum(not r.positive for r in recs)]
        doc: dict[str, object] = {"set": name, "split": SIDE_NAMES[(name, side)],
                                  "size": row_label(size), "items": n_items}
        for label, policy in policies.items():
            judged = [policy(r) for r in recs]
            rt = rates(recs, [t for t, _ in judged], [ok for _, ok in judged])
            row += [pct(rt["fmr"]), pct(rt["wrong"]), pct(rt["match_recall"]),
                    pct(rt["shown_recall"]), pct(rt["neg_shown"])]
            doc[label] = rt
        rows.append(row)
        docs.append(doc)
    headers = ["set", "split", "size", "items", "pos", "neg"]
    for label in policies:
        headers += [f"{label}: FMR", "wrong", "match", "shown", "neg shown"]
    return table(headers, rows), docs


def signal_table(rules: list[Rule], records: list[Record], sizes: list[int]
                 ) -> tuple[str, list[dict]]:
    """Per rule: pooled FMR / wrong / match / shown on train and unseen, and the worst (set,
    size) FMR — an honest signal keeps the unseen worst near the train figure."""
    rows, docs = [], []
    for rule in rules:
        row: list[object] = [rule.describe(), SIGNALS[rule.signal]]
        doc: dict[str, object] = {"rule": rule.describe(), "lookup": SIGNALS[rule.signal]}
        for side in ("train", "test"):
            recs = [r for r in records if r.side == side and r.size in sizes]
            if not recs:
                row += ["-"] * 6
                continue
            rt = rates(recs, [rule.tier(r) for r in recs],
                       [signal_right(rule.signal, r) for r in recs])
            worst = max(rates(g, [rule.tier(r) for r in g],
                              [signal_right(rule.signal, r) for r in g])["fmr"]
                        for g in grouped(recs, side).values())
            row += [pct(rt["fmr"]), pct(worst), pct(rt["wrong"]), pct(rt["match_recall"]),
                    pct(rt["shown_recall"]), pct(rt["neg_shown"])]
            doc[side] = {**rt, "worst_fmr": worst}
        rows.append(row)
        docs.append(doc)
    headers = ["rule (match/suggestion)", "lookup"]
    for side in ("train", "unseen"):
        headers += [f"{side}: FMR", "worst", "wrong", "match", "shown", "neg shown"]
    return table(headers, rows), docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="small index sizes, comma-separated (default %(default)s)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--queries", type=int, default=100,
                    help="at most this many positives and negatives per index and side")
    ap.add_argument("--sides", nargs="+", default=["train", "test"], choices=["train", "test"])
    ap.add_argument("--no-full", action="store_true", help="skip the full-index rows")
    ap.add_argument("--save-records", help="write the answered queries' signals (JSON)")
    ap.add_argument("--load-records", help="read them instead of answering again")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--model", default=DEFAULT_MODEL,
                    help="the embedder measured (default: the default model)")
    args = ap.parse_args(argv)
    model = args.model
    reranker = bundled_reranker(model)
    if reranker is None:
        sys.exit(f"error: no re-ranker weights for {model}: run bench/train_reranker.py "
                 f"--model {model}")
    sizes = [int(s) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    spot = "n/a (records loaded)"
    runner = None
    if args.load_records:
        records = [Record(**d) for d in json.loads(Path(args.load_records).read_text())]
    else:
        records, runner = collect(args.sets, sizes, args.seeds, args.queries, args.sides,
                                  not args.no_full, model)
        spot = f"{runner.spot_same}/{runner.spot_total}"
    if args.save_records:
        Path(args.save_records).write_text(json.dumps([asdict(r) for r in records]))
    wall = time.perf_counter() - t0
    now = thresholds_for(model, env=False)
    small = [n for n in sizes if n < BEFORE_MIN_ITEMS]
    every = small + [0]
    policies: dict[str, Policy] = {
        "before": lambda r: (user_tier(r, BEFORE, BEFORE_MIN_ITEMS), r.right),
        "now": lambda r: (user_tier(r, now, reranker.min_items), r.right),
    }
    fallback: dict[str, Policy] = {
        "fused before": lambda r: (cosine_tier(r.cos_fused, BEFORE, r.lang), r.right_fused),
        "fused now": lambda r: (cosine_tier(r.cos_fused, now, r.lang), r.right_fused),
        "dense now": lambda r: (cosine_tier(r.cos_dense, now, r.lang), r.right_dense),
    }
    train = [r for r in records if r.side == "train"]
    shipped = [Rule("cosine", (BEFORE.match, BEFORE.suggestion), {}, "before"),
               Rule("confidence", (now.confidence_match or 1.0, now.confidence_suggestion or 1.0),
                    {lang: (m, s) for lang, m, s in now.languages}, "config")]
    reranked_rules = [replace(calibrate(s, train, small), name="train-picked")
                      for s, lookup in SIGNALS.items() if lookup == RERANKED] if train else []
    chosen = calibrate(FALLBACK, train, every) if train else None
    fallback_rules = [Rule(s, (now.match, now.suggestion),
                           {lang: (m, s_) for lang, m, s_ in now.cosine_languages}, "config")
                      for s in ("fused cosine", "dense cosine")]
    if chosen is not None:
        fallback_rules += [Rule(s, chosen.shared, chosen.languages, "chosen")
                           for s in ("fused cosine", "dense cosine")]
    out = {}
    for side in ("test", "train"):
        out[f"tiers_{side}"] = tier_table(records, policies, side)
        out[f"fallback_{side}"] = tier_table(records, fallback, side)
    signals = signal_table(shipped + reranked_rules, records, small)
    fallback_signals = signal_table(fallback_rules, records, every)
    pairs = [row for s in ("cosine", "fused cosine", "dense cosine")
             for row in per_size_pairs(s, train, every)]
    if args.json:
        print(json.dumps({
            "model": model, "min_items": reranker.min_items, "sizes": sizes,
            "seeds": args.seeds, "queries": args.queries, "wall_s": wall, "spot_check": spot,
            "before": {**BEFORE.as_dict(), "min_items": BEFORE_MIN_ITEMS}, "now": now.as_dict(),
            **{k: v[1] for k, v in out.items()},
            "signals_small": signals[1], "signals_fallback": fallback_signals[1],
        }, indent=2))
        return 0
    print(f"Small-index tiers, model {model}, re-ranker {reranker.version}; sizes "
          f"{sizes} + full, {args.seeds} seeds, <= {args.queries} positives and negatives per "
          f"index and side; {wall:.0f}s")
    if runner is not None:
        print(f"{runner.checks} checks in {runner.check_seconds:.0f}s, index builds "
              f"{runner.build_seconds:.0f}s; spot check (check() tiers == derived): {spot}")
    print("FMR = negatives (fact-check not indexed) called match / negatives; wrong = positives "
          "called match with a wrong first hit / positives; match / shown = positives with the "
          "right first hit called match / shown as match or suggestion; neg shown = negatives "
          "shown at all.")
    print(f"before: below {BEFORE_MIN_ITEMS} items cosine {BEFORE.match}/{BEFORE.suggestion}, "
          f"from it confidence {BEFORE.confidence_match}/{BEFORE.confidence_suggestion}"
          + "".join(f", {lang} {m}/{s}" for lang, m, s in BEFORE.languages))
    print(f"now: confidence from {reranker.min_items} items ({now.confidence_match}/"
          f"{now.confidence_suggestion}" + "".join(f", {lang} {m}/{s}" for lang, m, s in
                                                   now.languages)
          + f"); cosine {now.match}/{now.suggestion} for lookups not re-ranked")
    for side, title in (("test", "Unseen side"), ("train", "Train side")):
        if any(r.side == side for r in records):
            print()
            print(f"{title}, default lookup (hybrid, re-ranked):")
            print(out[f"tiers_{side}"][0])
    print()
    print(signals[0])
    print(f"(small indexes, sizes {small}, pooled over sets and seeds; worst = the highest FMR "
          "of one set and size. train-picked: FMR <= "
          f"{FMR_TARGET:.0%} and neg shown <= {SHOW_TARGET:.0%} in every group. The confidence is "
          "in-sample on the train side: read its unseen columns)")
    for side, title in (("test", "Unseen side"), ("train", "Train side")):
        if any(r.side == side for r in records):
            print()
            print(f"{title}, lookups the cosine pair decides (rerank=False / mode=dense):")
            print(out[f"fallback_{side}"][0])
    print()
    print(fallback_signals[0])
    print(f"(cosine fallback over sizes {small} and the full index; chosen = one pair for both "
          "lookups, the numbers factcheck/config.py should hold)")
    if train:
        print()
        print(table(["signal", "lang", *map(row_label, every)], pairs,
                    title="Pair each size would get on its own (train), match/suggestion"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
