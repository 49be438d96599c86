"""Damaged, empty and misplaced stores (issue 15, items 7-9): reading never writes, damage is exit 5."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker
from factcheck.errors import IndexCorrupt, IndexNotFound, InvalidInput
from factcheck.store import DB_NAME, Store

from .conftest import SAMPLE
from .fakes import HashEmbedder

PAGE = 4096


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.is_file()}


def _index(directory: Path, items: int = 200) -> Path:
    """An on-disk index with enough rows for several pages per table, checkpointed."""
    with FactChecker.open(directory, create=True, embedder=HashEmbedder()) as fc:
        fc.add_items([replace(SAMPLE[n % len(SAMPLE)], url=f"https://a.id/{n}",
                              text="lorem ipsum dolor " * 60) for n in range(items)])
    conn = sqlite3.connect(directory / DB_NAME)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return directory


def _items_pages(path: Path) -> list[int]:
    """Page numbers (1-based) of the items table's b-tree, read with SQLite's dbstat."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT pageno FROM dbstat WHERE name = 'items' ORDER BY pageno").fetchall()
    finally:
        conn.close()
    return [int(r[0]) for r in rows]


def _zero_page(path: Path, pageno: int) -> None:
    data = bytearray(path.read_bytes())
    data[(pageno - 1) * PAGE:pageno * PAGE] = bytes(PAGE)
    path.write_bytes(bytes(data))


# -- item 8: a zero-byte or missing items.db ----------------------------------------------------


def test_zero_byte_store_is_damaged_and_nothing_is_rewritten(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx", items=5)
    (directory / DB_NAME).write_bytes(b"")
    before = _digest(directory)
    assert "vectors.faiss" in before
    for opener in (lambda: Store.open(directory),
                   lambda: FactChecker.open(directory, embedder=HashEmbedder())):
        with pytest.raises(IndexCorrupt, match="empty file, not an index") as caught:
            opener()
        assert caught.value.exit_code == 5 and "bundle install" in str(caught.value)
    assert _digest(directory) == before  # no -wal, no migration, vectors.faiss untouched


def test_only_a_writer_may_start_over_in_an_empty_file(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    directory.mkdir()
    (directory / DB_NAME).write_bytes(b"")
    with FactChecker.open(directory, create=True, embedder=HashEmbedder()) as fc:
        assert fc.add_items(SAMPLE).new == len(SAMPLE)
    with FactChecker.open(directory, embedder=HashEmbedder()) as fc:
        assert fc.store.count() == len(SAMPLE)


def test_missing_store_is_absent_or_damaged_as_fits(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound):
        Store.open(tmp_path / "nothing-here")
    directory = _index(tmp_path / "idx", items=3)
    (directory / DB_NAME).unlink()
    with pytest.raises(IndexCorrupt, match="vectors.faiss is still there"):
        Store.open(directory)
    assert not (directory / DB_NAME).exists()


def test_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = _digest(tmp_path)
    for create in (False, True):
        with pytest.raises(IndexCorrupt, match="not a factcheck index"):
            Store.open(tmp_path, create=create)
    assert _digest(tmp_path) == before


def test_cli_reading_commands_leave_an_empty_store_alone(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx", items=3)
    (directory / DB_NAME).write_bytes(b"")
    before = _digest(directory)
    runner = CliRunner()
    for args in (["stats"], ["check", "vaksin chip"], ["source", "https://komdigi.go.id/x"],
                 ["sources"], ["export"]):
        result = runner.invoke(cli, ["--index", str(directory), *args])
        assert result.exit_code == 5, (args, result.output)
        assert "Traceback" not in result.output
    assert _digest(directory) == before


# -- item 7: index paths that cannot be an index ------------------------------------------------


def test_unusable_index_paths_are_exit_2(tmp_path: Path) -> None:
    regular = tmp_path / "regular"
    regular.write_text("x")
    items = tmp_path / "one.jsonl"
    items.write_text('{"url": "https://a.id/1", "title": "satu"}\n')
    runner = CliRunner()
    for where in ("/proc/factcheck-test/x", str(regular / "sub")):
        with pytest.raises(InvalidInput, match="cannot create the index directory"):
            Store.open(Path(where), create=True)
        result = runner.invoke(cli, ["--index", where, "import", str(items)])
        assert result.exit_code == 2, result.output
        assert "cannot create the index directory" in result.output
    # a reading command under a regular file finds no index there (exit 3), and writes nothing
    result = runner.invoke(cli, ["--index", str(regular / "sub"), "stats"])
    assert result.exit_code == 3 and regular.read_text() == "x"


# -- item 9: corruption is IndexCorrupt everywhere, found by quick_check where it matters ------


def test_damaged_page_is_index_corrupt_for_stats_import_and_reads(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx")
    db = directory / DB_NAME
    pages = _items_pages(db)
    assert len(pages) > 3
    _zero_page(db, pages[len(pages) // 2])  # a leaf of the items table
    with FactChecker.open(directory, embedder=HashEmbedder()) as fc:  # opening reads no row
        with pytest.raises(IndexCorrupt, match="is damaged") as caught:
            fc.stats()
        assert caught.value.exit_code == 5
        with pytest.raises(IndexCorrupt):  # a read that reaches the page, mid-iteration
            list(fc.store.iter_items())
        with pytest.raises(IndexCorrupt):  # the first write checks first
            fc.add_items([replace(SAMPLE[0], url="https://b.id/new")])
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM items WHERE url = 'https://b.id/new'").fetchone() == (0,)
    conn.close()


def test_cli_on_a_damaged_store_exits_5_without_traceback(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx")
    db = directory / DB_NAME
    pages = _items_pages(db)
    _zero_page(db, pages[len(pages) // 2])
    items = tmp_path / "more.jsonl"
    items.write_text('{"url": "https://c.id/1", "title": "baru"}\n')
    runner = CliRunner()
    for args in (["stats"], ["import", str(items)]):
        result = runner.invoke(cli, ["--index", str(directory), *args])
        assert result.exit_code == 5, (args, result.output)
        assert "is damaged" in result.output and "refresh --full" in result.output


def test_garbage_header_is_index_corrupt(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx", items=3)
    db = directory / DB_NAME
    data = bytearray(db.read_bytes())
    data[:100] = b"\x00" * 100  # "file is not a database"
    db.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="not a database"):
        Store.open(directory)


def test_stats_reports_integrity_and_other_sqlite_errors_keep_their_type() -> None:
    store = Store.open(None)
    store.upsert(SAMPLE)
    assert store.stats()["integrity"] == "ok"
    with pytest.raises(sqlite3.IntegrityError):  # not corruption: callers may catch it
        store.conn.execute("INSERT INTO items(url) VALUES (NULL)")
    with pytest.raises(sqlite3.OperationalError):
        store.conn.execute("SELECT * FROM no_such_table")


def test_read_only_store_reads_and_maps_damage(tmp_path: Path) -> None:
    directory = _index(tmp_path / "idx", items=20)
    store = Store.open(directory, read_only=True)
    try:
        assert store.count() == 20
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("DELETE FROM items")
    finally:
        store.close()
