from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from factcheck.errors import IndexCorrupt, IndexNotFound
from factcheck.models import Verdict
from factcheck.store import DB_NAME, SCHEMA_VERSION, Filters, Store
from factcheck.urls import canonical_url

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
    item = store.get_by_url("https://WWW.turnbackhoax.id/articles/1#x")
    assert item is not None and item.url == "https://turnbackhoax.id/articles/1"  # the latest
    with pytest.raises(InvalidInput, match="http"):
        store.upsert([replace(SAMPLE[1], url="file:///etc/passwd")])
    assert store.count() == 1


KOMDIGI = "https://www.komdigi.go.id/berita/pengumuman/detail/hoaks-x"


def test_items_keep_the_url_as_published_under_the_canonical_key() -> None:
    store = Store.open(None)
    first = store.upsert([replace(SAMPLE[1], url=f" {KOMDIGI}/?utm_source=wa#top")])
    [(item_id, item)] = list(store.iter_items())
    assert item.url == f"{KOMDIGI}/"  # www. and the trailing slash, less the tracking
    assert store.get_items([item_id])[item_id].url == item.url
    assert store.get_by_url("https://komdigi.go.id/berita/pengumuman/detail/hoaks-x") == item
    assert store.conn.execute("SELECT url FROM items").fetchone()[0] == canonical_url(KOMDIGI)
    assert store.known_urls([KOMDIGI, "http://komdigi.go.id/other"]) == {KOMDIGI}
    # another spelling of the same link is the same row; only its URL is rewritten, in place
    again = store.upsert([replace(SAMPLE[1], url=KOMDIGI)])
    assert (again.new, again.updated, again.unchanged, again.changed_ids) == (0, 0, 1, [])
    assert store.count() == 1 and first.changed_ids == [item_id]
    assert store.get_by_url(KOMDIGI).url == KOMDIGI  # type: ignore[union-attr]
    [(_, pending, _)] = store.pending_embeddings()
    assert pending.url == KOMDIGI


def test_schema_3_index_keeps_its_rows_and_learns_their_published_urls(
    tmp_path: Path, embedder: object,
) -> None:
    from factcheck import FactChecker

    canonical = canonical_url(KOMDIGI)
    old = replace(SAMPLE[1], url=canonical)  # what schema 3 stored and showed
    with FactChecker.open(tmp_path, create=True, embedder=embedder) as fc:  # type: ignore[arg-type]
        fc.add_items([old, SAMPLE[0]])
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("ALTER TABLE items DROP COLUMN published_url")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with FactChecker.open(tmp_path, embedder=embedder) as fc:  # type: ignore[arg-type]
        assert fc.store.schema_version == SCHEMA_VERSION
        hit = fc.check(old.title).best
        assert hit is not None and hit.item.url == canonical  # old rows show their key
        assert fc.store.pending_embeddings() == []
        embedded = embedder.embedded  # type: ignore[attr-defined]
        report = fc.add_items([replace(old, url=KOMDIGI)])
        assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
        assert embedder.embedded == embedded  # type: ignore[attr-defined]  # no re-embedding
        hit = fc.check(old.title).best
        assert hit is not None and hit.item.url == KOMDIGI
        assert fc.store.get_by_url(SAMPLE[0].url).url == SAMPLE[0].url  # type: ignore[union-attr]
