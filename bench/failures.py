"""A sample of the default answer's misses on an unseen set, printed for a person to judge.

    .venv/bin/python bench/failures.py                       # 40 turnbackhoax misses, default model
    .venv/bin/python bench/failures.py --held-out 30         # + the 30 most confident false matches
    .venv/bin/python bench/failures.py --model factcheck/e5-small-claims-v2 --set clef2020 --n 20

Figures say how often; this says why. Each miss is an unseen query whose re-ranked first hit is
not its judged fact-check: the claim as it circulated, the judged fact-check (with its rank in
the re-ranked pool, or "not in the pool") and the first hit shown instead. ``--held-out N``
adds the N held-out lookups (judged fact-check removed from the index, as ``quality.py``'s
false-match rate does) whose first hit got the highest confidence. Reading them is how the
note of 2026-12-07 found that on turnbackhoax many "misses" and most confident "false matches"
are another fact-check of the same hoax, which single-item judgements count as wrong.

Uses the cached pools of ``train_reranker.load_pools`` (built on first use) and the model's
bundled re-ranker. The sample is seeded (``--seed``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import item_texts  # noqa: E402
from quality import reranked  # noqa: E402
from train_reranker import SETS, load_pools  # noqa: E402

from factcheck.embedding import DEFAULT_MODEL, get_embedder  # noqa: E402
from factcheck.rerank import bundled_reranker  # noqa: E402
from factcheck.render import clean  # noqa: E402


def one_line(text: str) -> str:
    return clean(text, 160)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--set", default="turnbackhoax", choices=SETS)
    ap.add_argument("--n", type=int, default=40, help="misses to sample (default 40)")
    ap.add_argument("--held-out", type=int, default=0, metavar="N",
                    help="also list the N most confident held-out lookups")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="the sample as JSON on stdout")
    args = ap.parse_args(argv)
    model_id = get_embedder(args.model).model_id
    reranker = bundled_reranker(model_id)
    if reranker is None:
        ap.error(f"no bundled re-ranker for {model_id}: run bench/train_reranker.py --model")
    pools = [p for p in load_pools(model=None if args.model == DEFAULT_MODEL else args.model)
             if p.set == args.set and p.split == "test"]
    text = item_texts(args.set)

    misses: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for p in pools:
        keys, conf, _ = reranked(reranker, p)
        rank = next((i + 1 for i, k in enumerate(keys) if k in p.relevant), None)
        if rank != 1:
            misses.append({"claim": one_line(p.text), "rank": rank, "confidence": round(conf, 3),
                           "judged": one_line(text[sorted(p.relevant)[0]]),
                           "first": one_line(text[keys[0]]) if keys else ""})
        if args.held_out:
            keys_h, conf_h, _ = reranked(reranker, p.without_relevant())
            if keys_h:
                held.append({"claim": one_line(p.text), "confidence": round(conf_h, 3),
                             "judged": one_line(text[sorted(p.relevant)[0]]),
                             "first": one_line(text[keys_h[0]])})
    sample = random.Random(args.seed).sample(misses, min(args.n, len(misses)))
    held = sorted(held, key=lambda r: -r["confidence"])[: args.held_out]
    if args.json:
        json.dump({"model": model_id, "set": args.set, "queries": len(pools),
                   "misses": len(misses), "sample": sample, "held_out": held},
                  sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    out = [f"# {args.set} unseen, {model_id}: {len(misses)} of {len(pools)} first hits miss "
           f"the judged fact-check; {len(sample)} sampled (seed {args.seed})", ""]
    for i, m in enumerate(sample, 1):
        where = f"rank {m['rank']}" if m["rank"] else "not in the pool"
        out += [f"{i}. claim: {m['claim']}", f"   judged ({where}): {m['judged']}",
                f"   first hit (confidence {m['confidence']:.2f}): {m['first']}", ""]
    if held:
        out += [f"# the {len(held)} most confident held-out lookups (judged fact-check removed)",
                ""]
        for i, h in enumerate(held, 1):
            out += [f"{i}. claim: {h['claim']}", f"   judged (removed): {h['judged']}",
                    f"   first hit (confidence {h['confidence']:.2f}): {h['first']}", ""]
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
