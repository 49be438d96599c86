"""``bench/judged.py``: strict and same-claim-judged figures from one set of answers.

The judged figures are what the note on issue 11 reports beside the strict ones, so their
arithmetic is pinned here on hand-made answers: another fact-check of the same claim first counts
as right only when judged ``same``; a held-out lookup called a match is false only when its first
hit is not judged ``same``; pairs nobody judged count as wrong and show up in the coverage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import judged
from bench.common import JUDGEMENTS, LABELS, load_judgements
from bench.pools import Pool
from factcheck.models import Tier


def _pool(qid: str) -> Pool:
    return Pool("turnbackhoax", "test", "all", qid, "query: teks", {qid}, [], [])


def _row(qid: str, keys: list[str], tier: Tier, held: list[str], held_tier: Tier,
         own_rank: int = 0) -> dict:
    return {"pool": _pool(qid), "keys": keys, "tier": tier, "held_keys": held,
            "held_tier": held_tier, "own_rank": own_rank}


def test_score_counts_judged_same_claim_items_as_right() -> None:
    rows = [
        # own item first, called a match; held out: a judged twin is called a match
        _row("1", ["1", "7"], Tier.MATCH, ["7"], Tier.MATCH),
        # a twin first (judged same), own item second; held out: an unrelated item, a match
        _row("3", ["9", "3"], Tier.MATCH, ["9"], Tier.SUGGESTION),
        # a related (not same) item first, own item third; held out: nothing shown
        _row("5", ["11", "12", "5"], Tier.SUGGESTION, ["11"], Tier.NONE),
        # own item missing; held out: an unjudged item called a match
        _row("8", ["20"], Tier.NONE, ["21"], Tier.MATCH),
    ]
    labels = {("1", "7"): "same", ("3", "9"): "same", ("5", "11"): "related",
              ("5", "12"): "other"}
    s = judged.score(rows, labels)
    assert s["strict_p1"] == pytest.approx(1 / 4)
    assert s["judged_p1"] == pytest.approx(2 / 4)
    assert s["strict_mrr5"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 4)
    assert s["judged_mrr5"] == pytest.approx((1 + 1 + 1 / 3) / 4)
    assert s["strict_match"] == pytest.approx(1 / 4)  # only query 1's own item, called a match
    assert s["judged_match"] == pytest.approx(2 / 4)  # + query 3's twin, called a match
    assert s["strict_fm"] == pytest.approx(2 / 4)  # queries 1 and 8 held out, called a match
    assert s["judged_fm"] == pytest.approx(1 / 4)  # query 1's twin is a right answer
    # needed: q1 held 7; q3 present 9 (held 9 again, once); q5 present 11, 12 (held not shown);
    # q8 present 20, held 21 -> 6 pairs, 4 of them judged
    assert (s["pairs_needed"], s["pairs_judged"]) == (6, 4)


def test_misses_are_classified_by_first_hit_then_own_rank() -> None:
    none = Tier.NONE
    rows = [
        _row("1", ["1"], none, [], none, own_rank=1),
        _row("2", ["9", "2"], none, [], none, own_rank=2),  # a judged twin first
        _row("3", ["8", "3"], none, [], none, own_rank=2),  # a related item first
        _row("4", ["7", "6", "5", "4"], none, [], none, own_rank=4),
        _row("5", ["7"] * 5, none, [], none, own_rank=12),
        _row("6", ["7"], none, [], none, own_rank=0),
        _row("7", [], none, [], none, own_rank=0),  # an empty answer
        _row("8", ["9"], none, [], none, own_rank=0),  # unjudged first hit: not a twin
    ]
    labels = {("2", "9"): "same", ("3", "8"): "related"}
    got = judged.misses(rows, labels)
    assert list(got) == list(judged.MISS_KINDS)
    assert [round(v * 8) for v in got.values()] == [1, 1, 1, 1, 1, 3]
    assert sum(got.values()) == pytest.approx(1.0)


def test_judgement_files_are_read_and_checked(tmp_path: Path) -> None:
    assert load_judgements("turnbackhoax", tmp_path) == {}
    (tmp_path / "turnbackhoax.tsv").write_text(
        "# comment\nquery_id\titem_id\tlabel\n1\t7\tsame\n3\t9\trelated\n", encoding="utf-8")
    assert load_judgements("turnbackhoax", tmp_path) == {("1", "7"): "same",
                                                                ("3", "9"): "related"}
    (tmp_path / "clef2020.tsv").write_text("1\t2\tmaybe\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="unknown label"):
        load_judgements("clef2020", tmp_path)


def test_shipped_judgements_are_well_formed() -> None:
    """Every shipped label parses, and no pair is judged twice with different labels."""
    for path in sorted(JUDGEMENTS.glob("*.tsv")):
        seen: dict[tuple[str, str], str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#") or line.startswith("query_id"):
                continue
            qid, item, label = line.split("\t")[:3]
            assert label in LABELS, (path.name, line)
            assert seen.setdefault((qid, item), label) == label, (path.name, line)
        assert seen, f"{path.name} holds no judgements"
