"""Process-level faults: kill -9 mid-refresh, two refreshes at once, lookups during a refresh,
and a missing or corrupt vector-index file. The refresh runs as the real CLI in a subprocess
(``python -m cli``) against a fixture site on 127.0.0.1, with the hashing embedder named by its
``py:`` model spec.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker
from factcheck.refresh import UNFINISHED_KEY
from tests.killrun import FETCH, create_index, finish, inspect, kill_rounds, start_refresh, table, wait_for_feed
from tests.localserver import LocalServer
from tests.refreshsite import HASH_MODEL, SOURCE, FixtureSite

KILL_ROUNDS = 20


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with LocalServer() as server:
        yield FixtureSite(server, page_delay=0.03)


def test_py_model_spec_names_the_embedder(tmp_path: Path) -> None:
    create_index(tmp_path / "idx")
    with FactChecker.open(tmp_path / "idx") as checker:
        assert checker.model_id == HASH_MODEL
        assert type(checker.embedder).__name__ == "HashEmbedder"


def test_kill_9_at_random_points_loses_nothing(
    tmp_path: Path, site: FixtureSite, capsys: pytest.CaptureFixture[str],
) -> None:
    index, config = tmp_path / "idx", tmp_path / "sources.toml"
    create_index(index)
    site.write_config(config, FETCH, batch=3)
    results = kill_rounds(index, config, site, KILL_ROUNDS, new_per_round=6, seed=4)
    with capsys.disabled():
        print("\nkill -9 rounds\n" + table(results))
    assert len(results) == KILL_ROUNDS
    assert sum(r.killed for r in results) >= KILL_ROUNDS // 2  # most kills land mid-run
    assert sum(r.items_after > r.items_before for r in results if r.killed) >= 3  # and mid-write
    for r in results:
        assert r.items_after >= r.items_before, r
        assert r.integrity == "ok" and r.lookup_ok and r.vectors_match, r

    # the next refresh carries on: everything ever published ends up in the index
    done = finish(index, config)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["ok"] and report["totals"]["failed"] == 0
    count, integrity, lookup_ok, repaired, vectors_ok = inspect(index, site)
    assert count == len(site.articles) and integrity == "ok" and lookup_ok and vectors_ok
    with FactChecker.open(index) as checker:
        assert checker.store.pending_embeddings() == []
        assert checker.store.get_meta(UNFINISHED_KEY + SOURCE) is None
        assert {i.url for _, i in checker.store.iter_items()} == {site.url(a) for a in site.articles}
    assert not list(index.glob(".vectors.faiss-*.tmp"))  # temporary files of killed writers are cleared


def test_two_refreshes_and_lookups_during_a_refresh(tmp_path: Path, site: FixtureSite) -> None:
    index, config = tmp_path / "idx", tmp_path / "sources.toml"
    create_index(index)
    site.write_config(config, FETCH, batch=2)
    site.publish(3)
    assert finish(index, config).returncode == 0
    site.page_delay = 0.1
    site.publish(16)  # about two seconds of walking

    feeds = len(site.server.hits("/feed.xml"))
    proc = start_refresh(index, config)
    wait_for_feed(site, feeds, proc)
    runner = CliRunner()

    second = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config)])
    assert second.exit_code == 75, second.output
    assert "another refresh is running" in second.stderr

    counts, notes = [], []
    while proc.poll() is None:
        vectors_before = _vector_count(index)
        with FactChecker.open(index) as checker:
            counts.append(checker.store.count())
            notes.append(checker.repaired)
            hit = checker.check(site.articles[0].title, limit=1).hits[0]
            assert hit.item.url == site.url(site.articles[0])
            # the index a reader opens is one consistent state, never older than before it opened
            # (the refresh goes on committing meanwhile, so the live count may be higher)
            assert vectors_before <= len(checker.index) <= checker.store.vector_count()
        looked_up = runner.invoke(cli, ["--index", str(index), "check", "--json", site.articles[1].title])
        assert looked_up.exit_code == 0, looked_up.output
        assert "rebuilt" not in looked_up.stderr  # a running writer is not a damaged index
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert len(counts) >= 5, counts  # lookups really ran while the refresh was writing
    assert counts == sorted(counts) and counts[0] >= 3 and len(set(counts)) > 1, counts
    assert notes == [None] * len(notes)
    assert inspect(index, site)[0] == 19


def _vector_count(index: Path) -> int:
    conn = sqlite3.connect(str(index / "items.db"))
    try:
        return int(conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["missing", "corrupt", "truncated"])
def test_missing_or_corrupt_vector_index_is_rebuilt_with_a_message(
    tmp_path: Path, damage: str,
) -> None:
    index, config = tmp_path / "idx", tmp_path / "sources.toml"
    with LocalServer() as server:
        site = FixtureSite(server)
        site.publish(6)
        create_index(index)
        site.write_config(config, FETCH)
        runner = CliRunner(env={"FACTCHECK_UI_LANG": "id"})
        first = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config)])
        assert first.exit_code == 0, first.output
        vectors = index / "vectors.faiss"
        if damage == "missing":
            vectors.unlink()
        elif damage == "corrupt":
            vectors.write_bytes(b"this is not a vector index" * 10)
        else:
            vectors.write_bytes(vectors.read_bytes()[:100])

        looked_up = runner.invoke(cli, ["--index", str(index), "check", site.articles[0].title])
        assert looked_up.exit_code == 0, looked_up.output
        assert "Catatan: berkas indeks vektor" in looked_up.stderr
        assert "dibangun ulang dari penyimpanan" in looked_up.stderr
        assert site.url(site.articles[0]) in looked_up.stdout

        # the same damage found by a refresh is reported in its JSON report, and nothing is lost
        vectors.write_bytes(b"garbage")
        site.publish(2)
        again = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config), "--json"])
        assert again.exit_code == 0, again.output
        report = json.loads(again.stdout)
        assert report["index_repaired"].startswith("unreadable")
        assert report["sources"][0]["new"] == 2
        count, integrity, lookup_ok, repaired, vectors_ok = inspect(index, site)
        assert (count, integrity, lookup_ok, repaired, vectors_ok) == (8, "ok", True, None, True)


def test_bad_py_model_specs_are_clear_errors() -> None:
    from factcheck import EmbedderUnavailable
    from factcheck.embedding import get_embedder

    for spec, message in [("py:tests.fakes", "py:package.module:Factory"),
                          ("py:tests.nowhere:X", "cannot load"),
                          ("py:tests.fakes:Missing", "cannot load"),
                          ("py:json:dumps", "failed to start")]:
        with pytest.raises(EmbedderUnavailable, match=message):
            get_embedder(spec)
    embedder = get_embedder(HASH_MODEL)
    assert embedder.model_id == HASH_MODEL and embedder.dim == 64


def test_quiet_refresh_prints_nothing_unless_a_source_is_unhealthy(tmp_path: Path) -> None:
    index, config = tmp_path / "idx", tmp_path / "sources.toml"
    with LocalServer() as server:
        site = FixtureSite(server)
        site.publish(2)
        create_index(index)
        site.write_config(config, FETCH)
        runner = CliRunner()
        quiet = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config), "-q"])
        assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.output
        server.route("/feed.xml", "<html>redesigned</html>")
        broken = runner.invoke(cli, ["--index", str(index), "refresh", "--config", str(config), "-q"])
        assert broken.exit_code == 6
        assert SOURCE in broken.stdout and "unhealthy" in broken.stdout
        assert "unhealthy source(s): fixture" in broken.stderr
