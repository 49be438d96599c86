"""Answer quality in one run: retrieval per mode, tier calibration, long-message extraction.

    .venv/bin/python bench/quality.py            # ~3 min cold, seconds when bench/.cache is warm
    .venv/bin/python bench/quality.py --json

1. Retrieval: MAP@5 / P@1 for BM25 only, dense only, the fused hybrid and the re-ranked hybrid
   (what ``FactChecker.check`` returns by default), per data set and split. Rows are marked
   ``unseen`` when the re-ranker never trained on them (bench/pools.py gives the split).
2. Calibration at the default thresholds (``factcheck.config``): with each query's true item
   held out of the index, how often a "match" (or anything at all) is still claimed; with it
   present, how often the first hit is the true item *and* is called a match (or shown).
   The "judged" columns read the same answers with ``bench/judgements``: a first hit judged a
   fact-check of the same claim is right, not a false match (``bench/judged.py``).
   The old cosine thresholds on the fused ranking are shown beside it for comparison.
3. Long messages: forwarded-style messages built from two or three turnbackhoax narratives
   (unseen half), with a greeting, a link and "sebarkan!"; each narrative must be answered by
   its own fact-check in ``FactChecker.check_message``.

Pools and features come from ``bench/pools.py`` (cached by code hash); the re-ranked order is
computed with the library's own ``Reranker`` and cross-checked against ``FactChecker.check`` on a
sample of queries, so the table is the library's behaviour and not a re-implementation.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LOADERS, CachingEmbedder, index_size, load_judgements, second_view_cache, table,
)
from pools import Pool, collect  # noqa: E402
from retrieval import average_precision, build  # noqa: E402
from train_reranker import fit_ranker, load_pools, make_reranker  # noqa: E402

from factcheck.config import thresholds_for  # noqa: E402
from factcheck.embedding import DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.lookup import tier_for  # noqa: E402
from factcheck.models import Tier  # noqa: E402
from factcheck.rerank import Reranker, bundled_reranker  # noqa: E402
from factcheck.text import detect_language  # noqa: E402

#: Targets of issue 5 (MAP@5 of the default answer, i.e. re-ranked, on the unseen side).
TARGETS = {("turnbackhoax", "odd IDs"): 0.86, ("clef2020", "dev"): 0.85}
#: Issue 2's target is on all 3,746 turnbackhoax queries; measured cross-fitted (below).
CROSSFIT_TARGET = 0.82
FMR_MAX, RECALL_MIN = 0.05, 0.85


def groups(pools: list[Pool]) -> dict[tuple[str, str], list[Pool]]:
    out: dict[tuple[str, str], list[Pool]] = {}
    for p in pools:
        if p.set == "turnbackhoax":
            out.setdefault((p.set, "all"), []).append(p)
            part = "odd IDs" if p.split == "test" else "even IDs"
            out.setdefault((p.set, part), []).append(p)
        elif p.split == "excluded":  # CLEF2022 train tweets that are CLEF2020 dev tweets
            out.setdefault((p.set, f"{p.part} = clef2020 dev"), []).append(p)
        else:
            out.setdefault((p.set, p.part), []).append(p)
    return out


def reranked(reranker: Reranker, pool: Pool, n_items: int | None = None
             ) -> tuple[list[str], float, float]:
    """(keys in re-ranked order, confidence, cosine of the new first hit) for a pool searched
    in an index of ``n_items`` items (None: the whole corpus of its set)."""
    p = pool.selected(reranker.pool, reranker.extra)
    if not p.keys:
        return [], 0.0, 0.0
    feats = p.feats
    scores = reranker.score(feats)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    conf = reranker.confidence(scores[order], feats[order],
                               n_items=n_items or index_size(pool.set))
    return [p.keys[i] for i in order], conf, p.candidates[order[0]].cosine


def retrieval_rows(pools: list[Pool], reranker: Reranker) -> list[dict]:
    rows = []
    for (name, part), ps in groups(pools).items():
        seen = {p.split for p in ps}
        runs = {"keyword": [], "dense": [], "hybrid": [], "reranked": []}
        for p in ps:
            runs["keyword"].append((p.keyword_top, p.relevant))
            runs["dense"].append((p.dense_top, p.relevant))
            runs["hybrid"].append((p.keys[:10], p.relevant))
            runs["reranked"].append((reranked(reranker, p)[0][:10], p.relevant))
        row = {"set": name, "split": part, "queries": len(ps),
               "reranker": "unseen" if seen <= {"test", "excluded"} else
                           "trained" if seen == {"train"} else "half trained"}
        for mode, rr in runs.items():
            row[f"{mode}_map5"] = float(np.mean([average_precision(r, rel) for r, rel in rr]))
            row[f"{mode}_p1"] = float(np.mean([bool(r) and r[0] in rel for r, rel in rr]))
        rows.append(row)
    return rows


def crossfit_row(pools: list[Pool], reranker: Reranker) -> dict:
    """MAP@5 of the method on *all* turnbackhoax queries with none of them seen in training.

    The shipped ranker trained on the even IDs, so it answers the odd ones; a mirror ranker,
    trained the same way on CLEF train + the odd IDs, answers the even ones. Their union is the
    honest all-3,746 figure (the shipped ranker's own score on the even IDs is not)."""
    train = [p for p in pools if p.set != "turnbackhoax" and p.split == "train"]
    odd = [p for p in pools if p.set == "turnbackhoax" and p.split == "test"]
    even = [p for p in pools if p.set == "turnbackhoax" and p.split == "train"]
    mirror = make_reranker(reranker.model_id, fit_ranker(train + odd))
    answered = [(p, reranked(reranker, p)[0]) for p in odd]
    answered += [(p, reranked(mirror, p)[0]) for p in even]
    aps = [average_precision(keys[:10], p.relevant) for p, keys in answered]
    p1 = [bool(keys) and keys[0] in p.relevant for p, keys in answered]
    return {"set": "turnbackhoax", "split": "all, cross-fitted", "queries": len(aps),
            "reranked_map5": float(np.mean(aps)), "reranked_p1": float(np.mean(p1))}


def calibration_rows(pools: list[Pool], reranker: Reranker,
                     model: str = DEFAULT_MODEL) -> list[dict]:
    th = thresholds_for(model, env=False)
    rows = []
    for (name, part), ps in groups(pools).items():
        if name == "turnbackhoax" and part == "even IDs":
            continue
        judged = load_judgements(name)
        stats = {k: [] for k in ("fm", "fm_j", "fshow", "rec", "rec_j", "shown", "c_fm",
                                 "c_show", "c_rec")}
        for p in ps:
            keys, conf, _ = reranked(reranker, p)
            lth = th.for_language(detect_language(p.text))
            tier = tier_for(None, lth, conf)
            ok = bool(keys) and keys[0] in p.relevant
            same = ok or (bool(keys) and judged.get((p.qid, keys[0])) == "same")
            stats["rec"].append(ok and tier is Tier.MATCH)
            stats["rec_j"].append(same and tier is Tier.MATCH)
            stats["shown"].append(ok and tier is not Tier.NONE)
            keys_h, conf_h, _ = reranked(reranker, p.without_relevant())
            tier_h = tier_for(None, lth, conf_h)
            stats["fm"].append(tier_h is Tier.MATCH)
            stats["fm_j"].append(tier_h is Tier.MATCH and not (
                keys_h and judged.get((p.qid, keys_h[0])) == "same"))
            stats["fshow"].append(tier_h is not Tier.NONE)
            # the fusion alone with the cosine thresholds, for comparison
            c_tier = tier_for(p.candidates[0].cosine if p.candidates else None, th)
            stats["c_rec"].append(ok_fused(p) and c_tier is Tier.MATCH)
            held = p.without_relevant()
            c_tier_h = tier_for(held.candidates[0].cosine if held.candidates else None, th)
            stats["c_fm"].append(c_tier_h is Tier.MATCH)
            stats["c_show"].append(c_tier_h is not Tier.NONE)
        rows.append({"set": name, "split": part, "queries": len(ps),
                     **{k: float(np.mean(v)) for k, v in stats.items()}})
    return rows


def ok_fused(p: Pool) -> bool:
    return bool(p.keys) and p.keys[0] in p.relevant  # the fused order, no re-ranking


# -- long messages -----------------------------------------------------------------------

GREETINGS = ["Assalamualaikum wr wb 🙏", "Selamat pagi bapak ibu", "Info dari grup sebelah:", ""]
OUTROS = ["Sebarkan!! Jangan berhenti di kamu 🙏🙏", "Mohon dishare ke keluarga", "#viral #info",
          "Semoga bermanfaat. Tetap waspada!"]


def build_messages(n: int, seed: int = 5) -> list[tuple[str, list[str]]]:
    """``n`` messages of 2-3 unseen (odd-ID) turnbackhoax narratives each, with their IDs."""
    ds = LOADERS["turnbackhoax"]()
    pool = [q for q in ds.splits["all"] if int(q.qid) % 2 == 1 and 40 <= len(q.text) <= 600]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        picked = rng.sample(pool, rng.choice((2, 3)))
        parts = [rng.choice(GREETINGS)]
        for q in picked:
            parts.append(q.text.strip())
        parts.append(f"https://example.invalid/{rng.randrange(10**6)}")  # set aside, not searched
        parts.append(rng.choice(OUTROS))
        out.append(("\n\n".join(p for p in parts if p), [q.qid for q in picked]))
    return out


def message_rows(n: int, embedder: CachingEmbedder) -> dict:
    import tempfile

    ds = LOADERS["turnbackhoax"]()
    with tempfile.TemporaryDirectory(prefix="fc-msg-") as tmp:
        checker, _ = build(ds, embedder, Path(tmp) / "tbh", second_view_cache())
        messages = build_messages(n)
        found_top1 = found_top3 = total = claims = url_ok = 0
        latency = []
        for text, ids in messages:
            t0 = time.perf_counter()
            res = checker.check_message(text, limit=3)
            latency.append(time.perf_counter() - t0)
            claims += len(res.claims)
            url_ok += any(u.startswith("https://example.invalid/") for u in res.urls)
            tops = [ds.key_of(r.hits[0].item.url) for r in res.results if r.hits]
            top3 = {ds.key_of(h.item.url) for r in res.results for h in r.hits[:3]}
            for qid in ids:
                total += 1
                found_top1 += qid in tops
                found_top3 += qid in top3
        checker.close()
    return {"messages": len(messages), "narratives": total, "claims": claims,
            "top1": found_top1 / total, "top3": found_top3 / total,
            "urls_set_aside": url_ok / len(messages),
            "ms_per_message": 1000 * float(np.median(latency))}


# -- consistency with the library --------------------------------------------------------


def spot_check(pools: list[Pool], reranker: Reranker, checkers: dict, n: int = 40) -> float:
    """Share of sampled queries whose top-5 from ``FactChecker.check`` equals the pool's."""
    rng = random.Random(3)
    same = 0
    sample = rng.sample(pools, min(n, len(pools)))
    for p in sample:
        checker = checkers[p.set]
        checker.reranker = reranker
        res = checker.check(p.text, limit=5)
        got = [h.item.url.rsplit("/", 1)[1] for h in res.hits]
        same += got == reranked(reranker, p)[0][:5]
    return same / len(sample)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--messages", type=int, default=150, help="long messages to build")
    ap.add_argument("--weights", help="a re-ranker JSON file (default: the bundled one)")
    ap.add_argument("--model", default=DEFAULT_MODEL,
                    help="the embedder measured (default: the default model)")
    args = ap.parse_args(argv)
    model = get_embedder(args.model).model_id
    reranker = Reranker.load(args.weights) if args.weights else bundled_reranker(model)
    if reranker is None:
        sys.exit(f"error: no re-ranker weights for {model}: run bench/train_reranker.py "
                 f"--model {model}")
    t0 = time.perf_counter()
    pools = load_pools(model=None if model == DEFAULT_MODEL else model)
    embedder = CachingEmbedder(get_embedder(model))
    retrieval = retrieval_rows(pools, reranker)
    crossfit = crossfit_row(pools, reranker)
    calibration = calibration_rows(pools, reranker, model)
    messages = message_rows(args.messages, embedder)
    _, checkers = collect(["clef2020"], embedder, with_features=False)
    spot = spot_check([p for p in pools if p.set == "clef2020"], reranker, checkers)
    for c in checkers.values():
        c.close()
    th = thresholds_for(model, env=False)
    checks = []
    by = {(r["set"], r["split"]): r for r in retrieval}
    for key, goal in TARGETS.items():
        if key in by:
            v = by[key]["reranked_map5"]
            checks.append((f"re-ranked MAP@5 {key[0]}/{key[1]} >= {goal}", f"{v:.4f}", v >= goal))
    checks.append((f"re-ranked MAP@5 turnbackhoax/all, cross-fitted >= {CROSSFIT_TARGET} (issue 2)",
                   f"{crossfit['reranked_map5']:.4f}", crossfit["reranked_map5"] >= CROSSFIT_TARGET))
    for r in calibration:
        if r["set"] == "turnbackhoax" and r["split"] == "odd IDs":
            checks.append((f"false-match rate (held out) turnbackhoax unseen <= {FMR_MAX:.0%}",
                           f"{r['fm']:.1%}", r["fm"] <= FMR_MAX))
            checks.append((f"top-1 match recall (present) turnbackhoax unseen >= {RECALL_MIN:.0%}",
                           f"{r['rec']:.1%}", r["rec"] >= RECALL_MIN))
    checks.append(("long messages: each narrative's item first for one of its claims",
                   f"{messages['top1']:.1%}", messages["top1"] >= 0.85))
    checks.append(("bench re-ranking == FactChecker.check (sampled)", f"{spot:.0%}", spot == 1.0))
    if args.json:
        print(json.dumps({"reranker": {k: reranker.spec.get(k) for k in
                                       ("version", "trained_on", "split", "thresholds")},
                          "retrieval": retrieval, "crossfit": crossfit,
                          "calibration": calibration,
                          "messages": messages, "spot_check": spot,
                          "checks": [{"target": a, "measured": b, "pass": c}
                                     for a, b, c in checks]}, indent=2))
        return 0
    print(f"Answer quality, model {model}, re-ranker {reranker.version} "
          f"(pool {reranker.pool}); {time.perf_counter() - t0:.0f}s")
    print(f"Re-ranker training split: {reranker.spec.get('split')}")
    print()
    print(table(
        ["set", "split", "re-ranker", "queries", "BM25", "dense", "hybrid", "re-ranked",
         "P@1 hybrid", "P@1 re-ranked"],
        [[r["set"], r["split"], r["reranker"], r["queries"], r["keyword_map5"], r["dense_map5"],
          r["hybrid_map5"], r["reranked_map5"], r["hybrid_p1"], r["reranked_p1"]]
         for r in retrieval],
        title="MAP@5 per mode (BM25 only / dense only / fused hybrid / re-ranked = default)",
    ))
    print(f"turnbackhoax all 3,746, cross-fitted (odd IDs by the shipped ranker, even IDs by a "
          f"mirror trained on the odd ones): re-ranked MAP@5 {crossfit['reranked_map5']:.4f}, "
          f"P@1 {crossfit['reranked_p1']:.4f}")
    print()
    print(table(
        ["set", "split", "queries", "FMR held out", "judged", "shown held out", "top-1 match",
         "judged", "top-1 shown", "cosine FMR", "cosine shown", "cosine top-1 match"],
        [[r["set"], r["split"], r["queries"], f"{r['fm']:.1%}", f"{r['fm_j']:.1%}",
          f"{r['fshow']:.1%}", f"{r['rec']:.1%}", f"{r['rec_j']:.1%}", f"{r['shown']:.1%}",
          f"{r['c_fm']:.1%}", f"{r['c_show']:.1%}", f"{r['c_rec']:.1%}"] for r in calibration],
        title=f"Tiers at the defaults: confidence match >= {th.confidence_match}, suggestion >= "
              f"{th.confidence_suggestion}"
              + "".join(f"; {lang} claims {m}/{s}" for lang, m, s in th.languages)
              + f"; cosine columns = fused ranking with cosine thresholds {th.match}/"
              f"{th.suggestion}; judged = another fact-check of the same claim counts as right "
              "(bench/judgements, bench/judged.py)",
    ))
    print()
    print(table(
        ["messages", "narratives", "claims found", "own item 1st", "own item in top 3",
         "URL set aside", "ms/message"],
        [[messages["messages"], messages["narratives"], messages["claims"],
          f"{messages['top1']:.1%}", f"{messages['top3']:.1%}",
          f"{messages['urls_set_aside']:.0%}", f"{messages['ms_per_message']:.0f}"]],
        title="Long forwarded messages (2-3 unseen turnbackhoax narratives + greeting, link, "
              "call to forward) through FactChecker.check_message",
    ))
    print()
    print(table(["target", "measured", "result"],
                [[a, b, "PASS" if c else "FAIL"] for a, b, c in checks]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
