"""Claims in one language, fact-checks in another: what the default answer says (a small probe).

    .venv/bin/python bench/crosslingual.py                 # default model
    .venv/bin/python bench/crosslingual.py --model factcheck/e5-small-claims-v2

None of the dev sets pairs a claim with a fact-check in another language (CLEF is English to
English, turnbackhoax Indonesian to Indonesian), so the re-ranker's confidence has never seen a
cross-language match. The SemEval-2025 Task 7 trial sample has 50 real pairs: 30 monolingual
(English, Korean, Spanish) and 20 crosslingual (Korean and Spanish posts answered by English
fact-checks). This indexes its 50 fact-checks (original language) with the library, checks each
post's original text through ``FactChecker.check`` and counts, per kind, how often the first hit
is the paired fact-check and which tier each right and wrong first hit gets. Twenty pairs are a
probe, not a benchmark: it shows whether a failure path exists, not how large it is.
"""

from __future__ import annotations

import argparse
import ast
import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir, table  # noqa: E402

from factcheck import FactChecker  # noqa: E402
from factcheck.embedding import get_embedder  # noqa: E402
from factcheck.models import Verdict, VerifiedItem  # noqa: E402

#: SemEval's ISO 639-3 codes -> the index's ISO 639-1
LANGS = {"eng": "en", "spa": "es", "kor": "ko"}


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def original(cell: str) -> tuple[str, str]:
    """(original text, ISO 639-3 language) of a ``(original, english, [(lang, p)])`` cell."""
    if not cell:
        return "", ""
    value = ast.literal_eval(cell)
    return value[0], (value[2][0][0] if value[2] else "")


def english(cell: str) -> str:
    """The English translation SemEval ships beside the original (the original when English)."""
    return ast.literal_eval(cell)[1] if cell else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="embedder (default: the default model)")
    ap.add_argument("--translated", action="store_true",
                    help="index every fact-check in English (SemEval's translation): every "
                         "Korean and Spanish post then meets its fact-check across languages")
    args = ap.parse_args(argv)
    base = data_dir("semeval2025-task7-trial")
    items = []
    for r in rows(base / "trial_fact_checks.csv"):
        claim, lang = original(r["claim"])
        title, _ = original(r["title"])
        if args.translated:
            claim, title, lang = english(r["claim"]), english(r["title"]), "eng"
        items.append(VerifiedItem(
            url=f"https://bench.invalid/semeval/{r['fact_check_id']}", title=title or claim,
            claim=claim, source="bench-semeval", publisher="SemEval trial",
            verdict=Verdict.UNKNOWN, language=LANGS.get(lang, ""),
            fetched_at="2025-01-01T00:00:00+00:00"))
    posts = {r["post_id"]: r for r in rows(base / "trial_posts.csv")}
    counts: Counter[tuple[str, str]] = Counter()
    embedder = get_embedder(args.model)
    with tempfile.TemporaryDirectory(prefix="fc-xling-") as tmp, \
            FactChecker.open(Path(tmp), create=True, embedder=embedder) as checker:
        checker.add_items(items)
        for pair in rows(base / "trial_data_mapping.csv"):
            post = posts[pair["post_id"]]
            text, _ = original(post["text"])
            if not text and post["ocr"] not in ("", "[]"):
                text = ast.literal_eval(post["ocr"])[0][0]
            result = checker.check(text, limit=5)
            first = result.hits[0].item.url.rsplit("/", 1)[1] if result.hits else None
            right = first == pair["fact_check_id"]
            post_lang, check_lang = pair["pair_lang"].split("-")
            if args.translated:
                check_lang = "eng"
            kind = "monolingual" if post_lang == check_lang else "crosslingual"
            counts[(kind, "pairs")] += 1
            counts[(kind, f"{'right' if right else 'wrong'}/{result.tier.value}")] += 1
            counts[(kind, "first right")] += right
    out = []
    for kind in ("monolingual", "crosslingual"):
        n = counts[(kind, "pairs")]
        out.append([kind, n, counts[(kind, "first right")],
                    *(counts[(kind, f"right/{t}")] for t in ("match", "suggestion", "none")),
                    *(counts[(kind, f"wrong/{t}")] for t in ("match", "suggestion", "none"))])
    print(table(["pairs", "n", "first right", "right: match", "suggestion", "none",
                 "wrong: match", "suggestion", "none"], out,
                title=f"SemEval-2025 Task 7 trial, 50 fact-checks indexed"
                      f"{' in English' if args.translated else ''}, model {embedder.model_id}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
