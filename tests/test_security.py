"""Terminal escapes from crawled and imported text (issue 15, item 2): stripped when stored,
and every human-readable table the CLI prints cleans what an older store may still hold."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, VerifiedItem
from tests.fakes import HashEmbedder

#: Clears the screen, writes the clipboard (OSC 52), colours, reverses text, moves the cursor.
HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[31m\u202e\x9b1A\r"
DANGEROUS = ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\u2066", "\x00")


def _clean(text: str) -> bool:
    return not any(ch in text for ch in DANGEROUS)


def test_upsert_strips_control_and_bidi_characters(tmp_path: Path) -> None:
    item = VerifiedItem(
        url="https://evil.example/x\x1b[2J", title=f"Gempa{HOSTILE} besar", claim=f"klaim{HOSTILE}",
        publisher=f"Evil{HOSTILE}", verdict_raw="SALAH\r\n", source=f"src{HOSTILE}",
        published="2024-01-01\x1b[2J", language="id\x07",
        text=f"Paragraf satu.\r\nParagraf dua\twith tab.{HOSTILE}\nTiga.",
    )
    with FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder()) as checker:
        checker.add_items([item])
        (stored,) = checker.store.get_items([1]).values()
        conn = checker.store.conn
        row = conn.execute("SELECT url, title, claim, publisher, verdict_raw, source, published,"
                           " language, text, published_url FROM items").fetchone()
    assert all(_clean(str(value)) for value in row), row
    assert stored.title == "Gempa ]52;c;cm0gLXJmIH4= [2J [31m 1A besar"
    assert stored.verdict_raw == "SALAH" and stored.publisher.startswith("Evil")
    assert stored.language == "id" and stored.published == "2024-01-01 [2J"
    assert stored.text.startswith("Paragraf satu.\nParagraf dua\twith tab.")  # lines kept
    assert stored.text.endswith("\nTiga.")
    assert stored.url == "https://evil.example/x%1B[2J"


def test_clean_items_are_stored_as_they_are(tmp_path: Path) -> None:
    from factcheck.store import sanitise_item

    item = VerifiedItem(url="https://turnbackhoax.id/articles/9", title="Judul  dengan  spasi",
                        text="Baris satu\n\n\tBaris dua", publisher="TurnBackHoax")
    assert sanitise_item(item) is item  # so no content hash (and vector) moves
    with FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder()) as checker:
        checker.add_items([item])
        assert checker.add_items([item]).unchanged == 1
        (stored,) = checker.store.get_items([1]).values()
    assert (stored.title, stored.text) == (item.title, item.text)


def test_import_stores_no_escapes(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(json.dumps({
        "url": "https://evil.example/y", "title": f"Judul{HOSTILE}", "publisher": f"P{HOSTILE}",
        "verdict": f"HOAKS{HOSTILE}", "claim": f"Klaim{HOSTILE}"}) + "\n", encoding="utf-8")
    with FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder()) as checker:
        checker.import_file(hostile)
        row = checker.store.conn.execute(
            "SELECT title, claim, publisher, verdict_raw FROM items").fetchone()
    assert all(_clean(value) for value in row) and row[0].startswith("Judul")


@pytest.fixture
def dirty_index(sample_index: Path) -> Path:
    """An index written before ingestion cleaned anything: raw escapes in the rows."""
    with FactChecker.open(sample_index, embedder=HashEmbedder()) as checker:
        with checker.store.transaction() as conn:
            conn.execute("UPDATE items SET title = title || ?, publisher = publisher || ?, "
                         "verdict_raw = verdict_raw || ?, published = published || ?",
                         (HOSTILE, HOSTILE, HOSTILE, HOSTILE))
            conn.execute("INSERT OR REPLACE INTO source_state(name, last_error, last_error_at, "
                         "health, items, failures) VALUES (?, ?, ?, ?, 0, 1)",
                         ("turnbackhoax", f"HTTP 500 at /x{HOSTILE}", f"2026{HOSTILE}",
                          f"unhealthy{HOSTILE}"))
    return sample_index


def test_cli_source_output_is_cleaned(dirty_index: Path) -> None:
    runner = CliRunner()
    for url in ("https://komdigi.go.id/", "https://facebook.com/hoaxpage/posts/123"):
        result = runner.invoke(cli, ["--index", str(dirty_index), "source", url])
        assert result.exit_code == 0, result.output
        assert "Komdigi" in result.stdout or "TurnBackHoax" in result.stdout
        assert _clean(result.stdout), repr(result.stdout)


def test_cli_stats_and_sources_are_cleaned(dirty_index: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--index", str(dirty_index), "stats"])
    assert result.exit_code == 0 and "Komdigi" in result.stdout
    assert _clean(result.stdout), repr(result.stdout)
    result = runner.invoke(cli, ["--index", str(dirty_index), "sources"])
    assert result.exit_code == 0, result.output
    assert "HTTP 500 at /x" in result.stdout and _clean(result.stdout), repr(result.stdout)


def test_cli_refresh_table_is_cleaned(sample_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import factcheck.refresh

    source = SimpleNamespace(name=f"evil{HOSTILE}", new=1, updated=0, unchanged=0, failed=1,
                             seconds=0.5, health=f"degraded{HOSTILE}",
                             errors=[f"page https://evil.example/{HOSTILE} failed"])
    report = SimpleNamespace(sources=[source], ok=True, backlog_embedded=0, to_dict=dict,
                             raise_for_health=lambda: None)
    monkeypatch.setattr(factcheck.refresh, "refresh", lambda *a, **k: report)
    result = CliRunner().invoke(cli, ["--index", str(sample_index), "refresh"])
    assert result.exit_code == 0, result.output
    assert "evil" in result.stdout and "failed" in result.stderr
    assert _clean(result.stdout) and _clean(result.stderr), repr(result.output)
