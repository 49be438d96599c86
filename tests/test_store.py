from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from factcheck.errors import IndexCorrupt, IndexNotFound
from factcheck.models import Verdict, VerifiedItem
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


# -- the store owns the schema (issue 14): every query other modules need is a Store method ------

_ISO_SECOND = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"


def _on_disk(tmp_path: Path, items: list[VerifiedItem] | None = None) -> Store:
    store = Store.open(tmp_path, create=True)
    store.upsert(SAMPLE if items is None else items)
    return store


def test_utc_now_is_one_second_precise_utc_iso_string() -> None:
    import re

    from factcheck.dates import utc_now

    assert re.fullmatch(_ISO_SECOND, utc_now())


def test_item_lookups_by_key_and_the_highest_id_read_without_writing(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    assert store.max_item_id() == 0
    report = store.upsert(SAMPLE)
    changes = store.conn.total_changes
    key = canonical_url(SAMPLE[3].url)  # www.snopes.com: the key differs from the spelling
    assert key != SAMPLE[3].url
    item_id = store.item_id(key)
    assert item_id is not None and store.get_items([item_id])[item_id].title == SAMPLE[3].title
    assert store.item_id("https://snopes.com/nothing-here") is None
    assert store.max_item_id() == max(report.changed_ids)
    # any spelling finds the stored content hash; an unknown URL has none
    assert store.stored_content_hash(SAMPLE[3].url) == SAMPLE[3].content_hash()
    assert store.stored_content_hash("https://snopes.com/nothing-here") is None
    assert store.conn.total_changes == changes  # reading never writes
    store.close()


def test_delete_meta_forgets_the_key_only(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    store.set_meta("refresh.unfinished.a", "7")
    store.set_meta("refresh.unfinished.b", "9")
    store.delete_meta("refresh.unfinished.a")
    store.delete_meta("never.set")  # absent: nothing to do, no error
    store.close()
    store = Store.open(tmp_path)  # committed, not just visible to this connection
    assert store.get_meta("refresh.unfinished.a") is None
    assert store.get_meta("refresh.unfinished.b") == "9"
    store.close()


def test_retry_queue_counts_runs_and_serves_the_oldest_failures_first(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    assert store.queue_retry("tempo", "https://a.id/1", "timeout") == 1
    assert store.queue_retry("tempo", "https://a.id/1", "reset") == 2
    assert store.queue_retry("tempo", "https://a.id/2", "timeout") == 1
    assert store.queue_retry("komdigi", "https://a.id/1", "timeout") == 1  # per source
    store.conn.execute("UPDATE refresh_retry SET first_failed = '2000-01-01T00:00:00+00:00' "
                       "WHERE url = 'https://a.id/2'")
    assert store.queued_retries("tempo", 5, 10) == ["https://a.id/2", "https://a.id/1"]
    assert store.queued_retries("tempo", 5, 1) == ["https://a.id/2"]
    assert store.queued_retries("tempo", 2, 10) == ["https://a.id/2"]  # 1 failed twice: given up
    last = store.conn.execute("SELECT last_error FROM refresh_retry WHERE source = 'tempo' "
                              "AND url = 'https://a.id/1'").fetchone()[0]
    assert last == "reset"
    store.drop_retry("tempo", "https://a.id/2")
    store.drop_retry("tempo", "https://a.id/never")
    assert store.queued_retries("tempo", 5, 10) == ["https://a.id/1"]
    assert store.queued_retries("komdigi", 5, 10) == ["https://a.id/1"]
    store.close()


def test_retry_queue_writes_roll_back_with_an_enclosing_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    store.queue_retry("tempo", "https://a.id/1", "timeout")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.queue_retry("tempo", "https://a.id/2", "timeout")
            store.drop_retry("tempo", "https://a.id/1")
            raise RuntimeError("interrupted")
    assert store.queued_retries("tempo", 5, 10) == ["https://a.id/1"]
    store.close()


def test_source_runs_count_failures_in_a_row_and_keep_the_last_error(tmp_path: Path) -> None:
    import re

    from factcheck.store import SourceState

    store = _on_disk(tmp_path)
    assert store.source_states() == {}
    store.record_source_run("tempo", health="unhealthy", succeeded=False, error="listing: 503")
    store.record_source_run("tempo", health="unhealthy", succeeded=False, error=None)
    state = store.source_states()["tempo"]
    assert isinstance(state, SourceState)
    assert (state.failures, state.last_success, state.health) == (2, None, "unhealthy")
    assert state.last_error == "listing: 503" and state.items == 2
    assert state.last_run is not None and re.fullmatch(_ISO_SECOND, state.last_run)
    error_at = state.last_error_at
    assert error_at is not None and re.fullmatch(_ISO_SECOND, error_at)
    store.record_source_run("tempo", health="degraded", succeeded=True, error=None)
    state = store.source_states()["tempo"]
    assert (state.failures, state.health) == (0, "degraded")
    assert state.last_success == state.last_run
    assert (state.last_error, state.last_error_at) == ("listing: 503", error_at)  # kept
    store.record_source_run("tempo", health="unhealthy", succeeded=False, error=None)
    state = store.source_states()["tempo"]
    assert state.failures == 1 and state.last_success is not None  # the success is remembered
    store.record_source_run("nowhere", health="ok", succeeded=True, error=None)
    assert store.source_states()["nowhere"].items == 0
    store.close()


def test_source_items_count_what_is_stored_per_source(tmp_path: Path) -> None:
    store = _on_disk(tmp_path)
    assert store.source_items() == {
        "turnbackhoax": (1, "2024-03-01"), "komdigi": (1, "2020-01-02"),
        "tempo": (2, "2023-01-15"), "snopes": (1, "2021-05-10"),
    }
    assert Store.open(tmp_path / "empty", create=True).source_items() == {}
    store.close()


def test_http_validators_are_remembered_and_replaced(tmp_path: Path) -> None:
    store = Store.open(tmp_path, create=True)
    url = "https://cekfakta.tempo.co/fakta/2"
    assert store.http_validators(url) is None
    store.put_http_validators(url, '"v1"', "Mon, 01 Jan 2024 00:00:00 GMT", "abc")
    store.put_http_validators(url, None, None, "def")  # a later answer without validators
    store.put_http_validators("https://other.id/", '"x"', None, None)
    store.close()
    store = Store.open(tmp_path)
    assert store.http_validators(url) == (None, None, "def")
    assert store.http_validators("https://other.id/") == ('"x"', None, None)
    assert store.http_validators("https://cekfakta.tempo.co/fakta/") is None  # exact URL only
    store.close()


def test_ids_on_domain_match_the_host_and_its_subdomains_only(tmp_path: Path) -> None:
    store = _on_disk(tmp_path, [*SAMPLE, replace(SAMPLE[0], url="https://badtempo.co/x"),
                                replace(SAMPLE[0], url="https://tempoxco/x")])
    newest = store.item_id(canonical_url(SAMPLE[4].url))  # tempo, published 2023
    older = store.item_id(canonical_url(SAMPLE[2].url))  # tempo, published 2022
    assert store.ids_on_domain("tempo.co", 5) == (2, [newest, older])
    assert store.ids_on_domain("tempo.co", 1) == (2, [newest])  # the count is not limited
    assert store.ids_on_domain("cekfakta.tempo.co", 5)[0] == 2
    assert store.ids_on_domain("snopes.com", 5)[0] == 1  # www. is a subdomain
    assert store.ids_on_domain("co", 5)[0] == 3  # a suffix: every host under it, not tempoxco
    assert store.ids_on_domain("tempo_co", 5) == (0, [])  # LIKE wildcards are literal
    assert store.ids_on_domain("nowhere.example", 5) == (0, [])
    store.close()


def test_ids_containing_search_extra_and_optionally_the_full_text(tmp_path: Path) -> None:
    linked = replace(SAMPLE[1], extra={"appearance": ["https://fb.com/post_1"]})
    store = _on_disk(tmp_path, [linked, SAMPLE[0], SAMPLE[2]])
    komdigi = store.item_id(canonical_url(SAMPLE[1].url))
    chip = store.item_id(canonical_url(SAMPLE[0].url))
    assert store.ids_containing("fb.com/post_1", 10, full_text=False) == [komdigi]
    assert store.ids_containing("fb.com/post%1", 10, full_text=False) == []  # literal %
    assert store.ids_containing("fb.com/postX1", 10, full_text=False) == []  # literal _
    assert store.ids_containing("chip pelacak", 10, full_text=False) == []
    assert store.ids_containing("Chip Pelacak", 10, full_text=True) == [chip]
    assert store.ids_containing("pelacak chip", 10, full_text=True) == []  # a phrase, in order
    both = replace(SAMPLE[2], url="https://x.id/1", extra={"link": "chip pelacak"})
    store.upsert([both])
    found = store.ids_containing("chip pelacak", 10, full_text=True)
    assert sorted(found) == sorted([chip, store.item_id("https://x.id/1")])
    assert len(found) == len(set(found))
    assert len(store.ids_containing("chip pelacak", 1, full_text=True)) == 2  # limit per kind
    store.close()


def test_snapshot_to_copies_one_consistent_self_contained_file(tmp_path: Path) -> None:
    store = _on_disk(tmp_path / "idx")
    store.set_meta("model", "m")
    writer = sqlite3.connect(tmp_path / "idx" / DB_NAME, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process mid-refresh: not committed
    writer.execute("INSERT INTO meta(key, value) VALUES ('half', 'written')")
    copy = tmp_path / "copy" / DB_NAME
    copy.parent.mkdir()
    store.snapshot_to(copy)
    writer.execute("ROLLBACK")
    writer.close()
    assert sorted(p.name for p in copy.parent.iterdir()) == [DB_NAME]
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == len(SAMPLE)
    assert conn.execute("SELECT value FROM meta WHERE key = 'half'").fetchone() is None
    conn.close()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # source untouched
    assert store.count() == len(SAMPLE)
    store.close()


def test_quick_check_says_ok_or_what_is_damaged(tmp_path: Path) -> None:
    store = _on_disk(tmp_path, [replace(SAMPLE[n % len(SAMPLE)], url=f"https://a.id/{n}",
                                        text="lorem ipsum dolor " * 60) for n in range(200)])
    assert store.quick_check() == "ok"
    store.close()
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [int(r[0]) for r in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'items' ORDER BY pageno")]
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    data = bytearray(db.read_bytes())
    leaf = pages[len(pages) // 2]
    data[(leaf - 1) * size:leaf * size] = bytes(size)
    db.write_bytes(bytes(data))
    store = Store.open(tmp_path)
    try:
        result = store.quick_check()
    except IndexCorrupt:  # pragma: no cover - some SQLite builds fail the read itself
        result = "raised"
    assert result != "ok"
    store.close()


def test_drop_sidecars_folds_the_wal_into_one_file(tmp_path: Path) -> None:
    import shutil

    from factcheck.store import drop_sidecars

    store = _on_disk(tmp_path / "idx")
    live = tmp_path / "idx"
    assert (live / f"{DB_NAME}-wal").stat().st_size > 0  # the rows are still in the WAL
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (DB_NAME, f"{DB_NAME}-wal"):
        shutil.copyfile(live / name, copy / name)
    store.close()
    drop_sidecars(copy)
    assert sorted(p.name for p in copy.iterdir()) == [DB_NAME]
    conn = sqlite3.connect(copy / DB_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == len(SAMPLE)
    conn.close()
