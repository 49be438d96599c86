from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from factcheck.errors import IndexCorrupt, IndexNotFound
from factcheck.models import Verdict
from factcheck.store import SCHEMA_VERSION, Filters, Store

from .conftest import SAMPLE


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="no index at"):
        Store.open(tmp_path / "nowhere")


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    assert store.schema_version == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    # reopening applies nothing twice
    assert Store.open(tmp_path).schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(IndexCorrupt, match="newer than this factcheck"):
        Store.open(tmp_path)


def test_garbage_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "items.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexCorrupt):
        Store.open(tmp_path)


def test_upsert_is_idempotent_and_tracks_changes() -> None:
    store = Store.open(None)
    first = store.upsert(SAMPLE)
    assert (first.new, first.updated, first.unchanged) == (len(SAMPLE), 0, 0)
    again = store.upsert(SAMPLE)
    assert (again.new, again.updated, again.unchanged) == (0, 0, len(SAMPLE))
    assert again.changed_ids == []
    changed = replace(SAMPLE[0], verdict_raw="MANIPULASI")
    third = store.upsert([changed])
    assert (third.new, third.updated) == (0, 1)
    assert store.count() == len(SAMPLE)
    assert store.get_by_url(SAMPLE[0].url).verdict_raw == "MANIPULASI"  # type: ignore[union-attr]


def test_keyword_search_uses_normalised_text() -> None:
    store = Store.open(None)
    store.upsert(SAMPLE)
    hits = store.keyword_search(["katulampa", "jebol"], 5)
    assert hits and store.get_items([hits[0][0]])[hits[0][0]].source == "komdigi"
    assert hits[0][1] > 0


def test_filters_restrict_rows() -> None:
    store = Store.open(None)
    store.upsert(SAMPLE)
    assert len(store.filter_ids(Filters(publishers=["tempo cek fakta"]))) == 2
    assert len(store.filter_ids(Filters(languages=["en"]))) == 1
    assert len(store.filter_ids(Filters(verdicts=["true"]))) == 1
    assert len(store.filter_ids(Filters(since="2023-01-01"))) == 2
    assert not Filters()


def test_pending_embeddings_follow_content_hash() -> None:
    import numpy as np

    store = Store.open(None)
    report = store.upsert(SAMPLE)
    pending = store.pending_embeddings()
    assert [p[0] for p in pending] == report.changed_ids
    store.put_vectors([p[0] for p in pending], [p[2] for p in pending], np.ones((len(pending), 4)))
    assert store.pending_embeddings() == []
    store.upsert([replace(SAMPLE[1], title="Bendungan Katulampa Tidak Jebol")])
    assert len(store.pending_embeddings()) == 1
    ids, matrix = store.all_vectors(4)
    assert matrix.shape == (len(SAMPLE), 4)
    with pytest.raises(IndexCorrupt):
        store.all_vectors(8)


def test_failed_transaction_leaves_nothing() -> None:
    store = Store.open(None)
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():
            store.upsert(SAMPLE[:2])
            store.conn.execute("INSERT INTO items(url) VALUES (NULL)")
    assert store.count() == 0


def test_stats_groups() -> None:
    store = Store.open(None)
    store.upsert(SAMPLE)
    stats = store.stats()
    assert stats["items"] == len(SAMPLE)
    assert stats["by_verdict"] == {Verdict.FALSE.value: 4, Verdict.TRUE.value: 1}
    assert stats["newest_published"] == "2024-03-01"


def test_upsert_canonicalises_urls_and_refuses_others() -> None:
    from factcheck.errors import InvalidInput

    store = Store.open(None)
    store.upsert([replace(SAMPLE[0], url="https://www.turnbackhoax.id/articles/1/?utm_source=wa")])
    report = store.upsert([replace(SAMPLE[0], url="https://turnbackhoax.id/articles/1")])
    assert report.unchanged == 1 and store.count() == 1
    assert store.get_by_url("https://WWW.turnbackhoax.id/articles/1#x") is not None
    with pytest.raises(InvalidInput, match="http"):
        store.upsert([replace(SAMPLE[1], url="file:///etc/passwd")])
    assert store.count() == 1
