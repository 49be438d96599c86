"""Same-claim judgements: score the unseen sets counting *any* fact-check of the claim as right.

    .venv/bin/python bench/judged.py score                       # default model, all unseen sets
    .venv/bin/python bench/judged.py score --model factcheck/e5-small-claims-v2 --json
    .venv/bin/python bench/judged.py export --out /tmp/pairs.jsonl   # pairs still to judge
    .venv/bin/python bench/judged.py misses                      # the strict misses, by kind

The dev sets name one fact-check per claim, but turnbackhoax (and Snopes) often checked the same
hoax twice: "Pemerintah Hapus BBM Pertalite" is answered as well by "PERTALITE DIHAPUS" as by its
own item. Single-item judgements count that as a miss, and, with the true item held out, as a
false match; ``bench/failures.py`` found that to be most of the confident "false matches" and
about 5% of turnbackhoax queries. This bench reports both readings side by side:

* strict: the data set's own single relevant item (what ``quality.py`` reports);
* judged: the item *or* any item judged a fact-check of the same claim in
  ``bench/judgements/<set>.tsv`` (query id, item id, label ``same`` / ``related`` / ``other``).
  Pairs nobody judged count as wrong, so the judged figures can only be under-estimates, and the
  share of needed pairs that are judged is printed beside them.

Judged P@1 and MRR@5 (reciprocal rank of the first fact-check of the claim in the top 5; equal
to AP@5 when a claim has one relevant item) are on the present index; the judged false-match rate
is the share of held-out lookups (own item removed) called a match whose first hit is *not* a
fact-check of the same claim. ``export`` writes, for the named models, every pair those figures
need and no judgement covers yet (the query, the set's own fact-check and the candidate), for a
person to judge. The labels are ids only; the texts stay in ``../shared``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    item_texts, load_judgements, pair_to_judge, table,
)
from pools import Pool  # noqa: E402
from quality import reranked  # noqa: E402
from train_reranker import SETS, load_pools  # noqa: E402

from factcheck.config import thresholds_for  # noqa: E402
from factcheck.embedding import DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.lookup import tier_for  # noqa: E402
from factcheck.models import Tier  # noqa: E402
from factcheck.rerank import bundled_reranker  # noqa: E402
from factcheck.text import detect_language  # noqa: E402

DEPTH = 5


def needed_pairs(pool: Pool, keys: list[str], held_keys: list[str], held_shown: bool
                 ) -> list[str]:
    """Item ids whose judgement the figures need: the present top 5 up to the own item, and the
    held-out first hit when it is shown at all."""
    out = []
    for k in keys[:DEPTH]:
        if k in pool.relevant:
            break
        out.append(k)
    if held_shown and held_keys and held_keys[0] not in out:
        out.append(held_keys[0])
    return out


def rank_of(keys: list[str], relevant: set[str]) -> int:
    """1-based rank of the first relevant key (0: none of them)."""
    return next((i for i, k in enumerate(keys, 1) if k in relevant), 0)


def answers(model: str) -> dict[str, list[dict]]:
    """Per unseen set, each query's present and held-out answer under the model's defaults."""
    model_id = get_embedder(model).model_id
    reranker = bundled_reranker(model_id)
    if reranker is None:
        raise SystemExit(f"no bundled re-ranker for {model_id}: run bench/train_reranker.py")
    th = thresholds_for(model_id, env=False)
    pools = load_pools(model=None if model == DEFAULT_MODEL else model)
    out: dict[str, list[dict]] = {s: [] for s in SETS}
    for p in pools:
        if p.split != "test":
            continue
        lth = th.for_language(detect_language(p.text))
        keys, conf, _ = reranked(reranker, p)
        held_keys, held_conf, _ = reranked(reranker, p.without_relevant())
        own = rank_of(keys, p.relevant)
        out[p.set].append({
            "pool": p, "keys": keys[:DEPTH], "own_rank": own, "tier": tier_for(None, lth, conf),
            "held_keys": held_keys[:1], "held_tier": tier_for(None, lth, held_conf),
        })
    return out


def score(rows: list[dict], judged: dict[tuple[str, str], str]) -> dict[str, float]:
    n = len(rows) or 1
    strict = {"p1": 0.0, "mrr5": 0.0, "fm": 0.0, "match": 0.0}
    loose = dict(strict)
    need = have = 0
    for r in rows:
        p: Pool = r["pool"]
        same = {k for k in r["keys"] + r["held_keys"] if judged.get((p.qid, k)) == "same"}
        for k in needed_pairs(p, r["keys"], r["held_keys"], r["held_tier"] is not Tier.NONE):
            need += 1
            have += (p.qid, k) in judged
        for acc, rel in ((strict, p.relevant), (loose, p.relevant | same)):
            rank = rank_of(r["keys"], rel)
            acc["p1"] += rank == 1
            acc["mrr5"] += 1.0 / rank if rank else 0.0
            acc["match"] += rank == 1 and r["tier"] is Tier.MATCH
            acc["fm"] += r["held_tier"] is Tier.MATCH and not (
                r["held_keys"] and r["held_keys"][0] in rel)
    return {**{f"strict_{k}": v / n for k, v in strict.items()},
            **{f"judged_{k}": v / n for k, v in loose.items()},
            "queries": len(rows), "pairs_needed": need, "pairs_judged": have}


#: what a strict miss is, in the order a query is classified (the first that applies)
MISS_KINDS = ("right", "same claim first", "own item 2nd", "own item 3rd-5th",
              "own item below 5th", "own item not in the pool")


def misses(rows: list[dict], judged: dict[tuple[str, str], str]) -> dict[str, float]:
    """Shares of queries by what their first hit is, for reading a strict P@1 against its reach.

    A first hit judged a fact-check of the same claim is a miss the strict figure cannot win
    back by ranking (the set names one of two checks of the hoax); the rest are ranking or
    retrieval misses, by where the set's own item stands (re-ranked pool; 0 = not in it)."""
    n = len(rows) or 1
    out = dict.fromkeys(MISS_KINDS, 0.0)
    for r in rows:
        p: Pool = r["pool"]
        rank = r["own_rank"]
        if rank == 1:
            kind = "right"
        elif r["keys"] and judged.get((p.qid, r["keys"][0])) == "same":
            kind = "same claim first"
        elif rank == 2:
            kind = "own item 2nd"
        elif 3 <= rank <= DEPTH:
            kind = "own item 3rd-5th"
        elif rank:
            kind = "own item below 5th"
        else:
            kind = "own item not in the pool"
        out[kind] += 1 / n
    return out


def export(models: list[str], out: Path) -> int:
    written = 0
    with open(out, "w", encoding="utf-8") as fh:
        for name in SETS:
            texts = item_texts(name)
            judged = load_judgements(name)
            todo: dict[tuple[str, str], Pool] = {}
            for model in models:
                for r in answers(model)[name]:
                    p = r["pool"]
                    for k in needed_pairs(p, r["keys"], r["held_keys"],
                                          r["held_tier"] is not Tier.NONE):
                        if (p.qid, k) not in judged:
                            todo[(p.qid, k)] = p
            for (qid, k), p in sorted(todo.items()):
                fh.write(json.dumps(pair_to_judge(name, qid, p.text, sorted(p.relevant)[0], k,
                                                  texts), ensure_ascii=False) + "\n")
                written += 1
    print(f"{written} pairs to judge -> {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="strict and judged figures for a model")
    s.add_argument("--model", default=DEFAULT_MODEL)
    s.add_argument("--json", action="store_true")
    e = sub.add_parser("export", help="pairs the figures need that nobody judged yet")
    e.add_argument("--model", action="append", help="repeatable (default: the default model)")
    e.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("misses", help="what the strict misses are, by kind")
    m.add_argument("--model", default=DEFAULT_MODEL)
    args = ap.parse_args(argv)
    if args.cmd == "export":
        return export(args.model or [DEFAULT_MODEL], args.out)
    per = answers(args.model)
    if args.cmd == "misses":
        shares = {name: misses(rows, load_judgements(name)) for name, rows in per.items() if rows}
        print(f"Unseen sets, {args.model}: each query by its re-ranked first hit")
        print(table(["set", "queries"] + list(MISS_KINDS),
                    [[name, len(per[name])] + [f"{100 * v:.1f}%" for v in sh.values()]
                     for name, sh in shares.items()]))
        return 0
    results = [{"set": name, **score(rows, load_judgements(name))}
               for name, rows in per.items() if rows]
    if args.json:
        json.dump({"model": args.model, "sets": results}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    print(f"Unseen sets, {args.model}, at its default thresholds: strict = the set's own item, "
          "judged = or any item judged a fact-check of the same claim")
    print(table(
        ["set", "queries", "P@1 strict", "P@1 judged", "MRR@5 strict", "MRR@5 judged",
         "FMR strict", "FMR judged", "match strict", "match judged", "pairs judged"],
        [[r["set"], r["queries"], f"{r['strict_p1']:.4f}", f"{r['judged_p1']:.4f}",
          f"{r['strict_mrr5']:.4f}", f"{r['judged_mrr5']:.4f}", pct(r["strict_fm"]),
          pct(r["judged_fm"]), pct(r["strict_match"]), pct(r["judged_match"]),
          f"{r['pairs_judged']}/{r['pairs_needed']}"] for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
