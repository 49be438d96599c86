"""The answer a person reads: no false "no match", honest filters, answers kept apart from other
results, links checked, citations to paste, the same text through the CLI and HTTP."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, InvalidInput, Tier
from factcheck.errors import IndexUnusable
from factcheck.i18n import CATALOGUE, VERDICT_WORDS, placeholders, ui_language
from factcheck.models import Verdict
from factcheck.server import make_server
from indexes.faiss_index import INDEX_NAME

from .conftest import SAMPLE
from .fakes import HashEmbedder, UnloadableEmbedder

PY_MODEL = "py:tests.fakes:HashEmbedder"
NO_UI_ENV = {"FACTCHECK_UI_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}
FORWARDED = """Selamat pagi bapak ibu

Vaksin COVID-19 mengandung microchip pelacak 5G, sudah terbukti di luar negeri.

Pemerintah menggratiskan listrik prabayar setahun, daftar di https://pln-go-id.com/daftar

Sebarkan!! Jangan berhenti di kamu"""


@pytest.fixture
def py_index(tmp_path: Path) -> Path:
    """An index the CLI can open by itself: its model is a ``py:`` factory of the test embedder."""
    directory = tmp_path / "idx"
    with FactChecker.open(directory, create=True, model=PY_MODEL) as fc:
        fc.add_items(SAMPLE)
    return directory


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=NO_UI_ENV)


def run(runner: CliRunner, index: Path, *args: str, input: str | None = None):  # noqa: ANN201
    return runner.invoke(cli, ["--index", str(index), *args], input=input)


# -- 1. a failed re-embedding changes nothing; a broken index never says "no match" ----------


@pytest.mark.parametrize("model", ["py:tests.fakes:FailingHalfwayEmbedder", "py:no.such:Model"])
def test_failed_reindex_changes_nothing(runner: CliRunner, py_index: Path, model: str) -> None:
    before = json.loads(run(runner, py_index, "stats", "--json").stdout)
    failed = run(runner, py_index, "reindex", "--model", model)
    assert failed.exit_code == 4 and "Traceback" not in failed.output
    after = json.loads(run(runner, py_index, "stats", "--json").stdout)
    assert (after["model"], after["vectors"], after["indexed_vectors"]) == (
        before["model"], before["vectors"], before["indexed_vectors"]) == (PY_MODEL, 5, 5)
    found = run(runner, py_index, "check", "--json", SAMPLE[1].title)
    assert found.exit_code == 0
    assert json.loads(found.stdout)["matches"][0]["url"] == SAMPLE[1].url
    assert run(runner, py_index, "reindex").exit_code == 0


def test_a_successful_reindex_swaps_model_and_vectors(py_index: Path) -> None:
    small = "py:tests.fakes:SmallHashEmbedder"
    with FactChecker.open(py_index) as fc:
        report = fc.reindex(small)
        assert report.embedded == 5 and fc.model_id == small and fc.index.dim == 32
    with FactChecker.open(py_index) as fc:
        assert (fc.store.get_meta("model"), fc.store.get_meta("dim")) == (small, "32")
        assert len(fc.index) == fc.store.vector_count() == 5
        assert fc.check(SAMPLE[1].title).best.item.url == SAMPLE[1].url


def test_real_st_model_that_cannot_load_changes_nothing(runner: CliRunner, py_index: Path) -> None:
    """The issue's reproduction: a hub name that is not on this machine (offline)."""
    failed = run(runner, py_index, "reindex", "--model", "no-such-org/no-such-model")
    assert failed.exit_code == 4 and "Traceback" not in failed.output
    assert json.loads(run(runner, py_index, "stats", "--json").stdout)["model"] == PY_MODEL


def _strip_vectors(directory: Path) -> None:
    with FactChecker.open(directory, embedder=HashEmbedder(model_id=PY_MODEL)) as fc:
        fc.store.clear_vectors()
    (directory / INDEX_NAME).unlink()


def test_an_index_without_vectors_answers_from_keywords_with_a_warning(
        runner: CliRunner, py_index: Path) -> None:
    _strip_vectors(py_index)
    result = run(runner, py_index, "check", "Bendungan Katulampa jebol, Jakarta banjir")
    assert result.exit_code == 0
    assert result.stdout.startswith("BELUM DAPAT DIPASTIKAN")
    assert "TIDAK ADA YANG COCOK" not in result.stdout and "COCOK:" not in result.stdout
    assert "Katulampa" in result.stdout and "pencarian makna tidak tersedia" in result.stderr
    data = json.loads(run(runner, py_index, "check", "--json", "Katulampa jebol").stdout)
    assert data["status"] == "suggestion" and data["degraded"] == "no_vectors"
    assert data["matches"] == [] and data["others"][0]["url"] == SAMPLE[1].url
    assert [n["code"] for n in data["notices"]] == ["keyword_only"]
    assert "belum dapat dipastikan" in data["citation"]


def test_an_index_without_vectors_refuses_to_say_no_match(runner: CliRunner,
                                                          py_index: Path) -> None:
    _strip_vectors(py_index)
    result = run(runner, py_index, "check", "Harga tiket kereta cepat turun drastis")
    assert result.exit_code == 8 and result.stdout == ""
    assert "tidak dapat menjawab dengan benar" in result.stderr
    assert "factcheck reindex" in result.stderr and result.stderr.count("\n") == 1


def test_an_empty_index_refuses_to_say_no_match(runner: CliRunner, tmp_path: Path) -> None:
    """Nothing indexed yet (a refresh that has not run, an import into a new index): "no
    fact-check in the index discusses this claim" would be true of every claim."""
    directory = tmp_path / "empty"
    FactChecker.open(directory, create=True, model=PY_MODEL).close()
    result = run(runner, directory, "check", "Harga tiket kereta cepat turun drastis")
    assert result.exit_code == 8 and result.stdout == ""
    assert "belum berisi cek fakta" in result.stderr and result.stderr.count("\n") == 1
    with FactChecker.open(directory) as fc:
        with pytest.raises(IndexUnusable) as caught:
            fc.check("Harga tiket kereta cepat turun drastis")
        assert caught.value.key == "error.index_empty"
        with pytest.raises(IndexUnusable):
            fc.check_message(FORWARDED)
        with _served(fc) as client:
            response = client.get("/check", params={"q": "Katulampa jebol"})
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "index_unusable"
        fc.add_items(SAMPLE[:1])
        assert fc.check("Harga tiket kereta cepat turun drastis").hits  # answers once it holds one


def test_an_unloadable_model_answers_from_keywords(index_dir: Path) -> None:
    with FactChecker.open(index_dir, create=True, embedder=HashEmbedder()) as fc:
        fc.add_items(SAMPLE)
    with FactChecker.open(index_dir, embedder=UnloadableEmbedder()) as fc:
        answer = fc.answer("Bendungan Katulampa jebol")
        result = answer.results[0]
        assert result.degraded == "model_unavailable" and result.tier is Tier.SUGGESTION
        assert result.matches == [] and result.hits[0].item.title == SAMPLE[1].title
        assert [n.code for n in answer.notices] == ["keyword_only"]
        with pytest.raises(IndexUnusable) as caught:
            fc.answer("zzzz qqqq")
        assert caught.value.exit_code == 8


def test_missing_vectors_of_some_items_are_reported(checker: FactChecker) -> None:
    checker.store.upsert([SAMPLE[0].__class__(url="https://x.example/new", title="Baru")])
    answer = checker.answer("Bendungan Katulampa jebol")
    assert [(n.code, n.params) for n in answer.notices] == [
        ("vectors_missing", {"missing": 1, "total": 6})]
    assert answer.results[0].degraded is None


def test_http_says_503_instead_of_no_match(py_index: Path) -> None:
    _strip_vectors(py_index)
    with FactChecker.open(py_index) as fc, _served(fc) as client:
        response = client.get("/check", params={"q": "Harga tiket kereta cepat turun drastis"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "index_unusable"
        ok = client.get("/check", params={"q": "Katulampa jebol", "ui_lang": "en"}).json()
        assert ok["degraded"] == "no_vectors" and ok["message"].startswith("CANNOT CONFIRM")


# -- 2. filters: classes, labels, languages, forgiving names, and "matches nothing" ---------


def test_a_publishers_label_is_its_class(checker: FactChecker) -> None:
    labelled = checker.check("listrik gratis", verdicts=["hoaks"], limit=10)
    assert labelled.hits and {h.item.verdict for h in labelled.hits} == {Verdict.FALSE}
    assert [h.item.url for h in labelled.hits] == [
        h.item.url for h in checker.check("listrik gratis", verdicts=["false"], limit=10).hits]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"verdicts": ["bogus"]}, "unknown verdict class 'bogus': use false, misleading"),
    ({"languages": ["xx"]}, "malformed language 'xx'"),
    ({"languages": ["indonesian"]}, "malformed language"),
    ({"publishers": ["Nobody"]}, "no item in this index has publisher 'Nobody'; it holds: "),
    ({"sources": ["nowhere"]}, "no item in this index has source 'nowhere'"),
    ({"languages": ["fr"]}, "no item in this index has language 'fr'; it holds: id, en"),
    ({"max_age": "99999y"}, "bad maximum age"),
])
def test_bad_or_unmatched_filters_are_bad_input(checker: FactChecker, kwargs: dict,
                                                fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment.replace("(", r"\(")):
        checker.answer("banjir", **kwargs)


@pytest.mark.parametrize("typed", ["TurnBackHoax", "turnbackhoax", "MAFINDO",
                                   "turnbackhoax (mafindo)", "Turn Back Hoax"])
def test_publishers_match_forgivingly(checker: FactChecker, typed: str) -> None:
    hits = checker.check("vaksin chip", publishers=[typed], limit=10).hits
    assert hits and {h.item.publisher for h in hits} == {"TurnBackHoax (MAFINDO)"}


def test_language_codes_are_normalised(checker: FactChecker) -> None:
    hits = checker.check("vaccine microchip", languages=["EN-us"], limit=10).hits
    assert hits and {h.item.language for h in hits} == {"en"}


def test_cli_and_http_refuse_bad_filters(runner: CliRunner, py_index: Path) -> None:
    result = run(runner, py_index, "check", "--verdict", "bogus", "banjir")
    assert result.exit_code == 2 and "kelas putusan 'bogus' tidak dikenal" in result.stderr
    result = run(runner, py_index, "check", "--lang", "xx", "banjir")
    assert result.exit_code == 2 and "ISO 639-1" in result.stderr
    result = run(runner, py_index, "check", "--publisher", "Nobody", "banjir")
    assert result.exit_code == 2 and "Komdigi" in result.stderr  # lists what the index holds
    result = run(runner, py_index, "check", "--json", "--verdict", "hoaks", "--publisher",
                 "turnbackhoax", "vaksin chip")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and [h["url"] for h in data["matches"] + data["others"]] == [
        SAMPLE[0].url]
    with FactChecker.open(py_index) as fc, _served(fc) as client:
        for params in ({"q": "banjir", "verdict": "bogus"}, {"q": "banjir", "lang": "xx"},
                       {"q": "banjir", "publisher": "Nobody"}):
            response = client.get("/check", params=params)
            assert response.status_code == 400 and response.json()["error"]["message"]
        assert client.get("/check", params={"q": "banjir", "verdict": "hoaks"}).status_code == 200


# -- 5 and 6: one answer for every interface; the answer apart from the other results ------


def test_http_and_cli_answer_a_message_the_same(runner: CliRunner, py_index: Path) -> None:
    cli_data = json.loads(run(runner, py_index, "check", "--json", input=FORWARDED).stdout)
    with FactChecker.open(py_index) as fc:
        library = fc.answer(FORWARDED).to_dict("id")
        with _served(fc) as client:
            posted = client.post("/check", json={"text": FORWARDED}).json()
            got = client.get("/check", params={"q": FORWARDED}).json()
    assert cli_data["split"] is True and len(cli_data["claims"]) == 2
    assert cli_data == library == posted == got
    forced = run(runner, py_index, "check", "--json", "--no-split", input=FORWARDED)
    assert json.loads(forced.stdout)["split"] is False


def test_under_a_match_other_hits_are_not_answers(runner: CliRunner, py_index: Path) -> None:
    result = run(runner, py_index, "check", "-n", "4", SAMPLE[1].claim)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("COCOK")
    answer_at = lines.index("Cek fakta untuk klaim ini:")
    others_at = lines.index("Hasil lain (belum tentu membahas klaim ini):")
    assert answer_at < others_at
    assert lines[answer_at + 1].startswith("1. [HOAKS (salah)] Bendungan Katulampa")
    assert all(not line.startswith(("2.", "3.", "4.")) for line in lines[:others_at])
    data = json.loads(run(runner, py_index, "check", "--json", "-n", "4", SAMPLE[1].claim).stdout)
    assert [h["rank"] for h in data["matches"]] == [1]
    assert [h["rank"] for h in data["others"]] == [2, 3, 4]


def test_a_suggestion_has_no_answer_only_related_results(checker: FactChecker) -> None:
    checker.thresholds = checker.thresholds.__class__(match=1.01, suggestion=0.0)
    result = checker.check("Bendungan Katulampa jebol")
    assert result.tier is Tier.SUGGESTION and result.matches == [] and result.others


# -- links in a message ---------------------------------------------------------------------


def test_links_in_a_message_get_the_source_check(checker: FactChecker) -> None:
    answer = checker.answer(FORWARDED)
    (link,) = answer.links
    assert link.url == "https://pln-go-id.com/daftar" and link.report is not None
    assert link.report.lookalike_of == "pln.co.id" or link.report.lookalike_of
    data = answer.to_dict("id")
    assert data["links"][0]["checked"] is True and data["links"][0]["lookalike_of"]
    assert "pln-go-id.com" in data["citation"]  # a lookalike is worth telling the chat


def test_a_refused_link_is_reported_not_raised(checker: FactChecker) -> None:
    answer = checker.answer("Cek di http://192.168.1.1/admin soal vaksin chip")
    assert answer.links[0].report is None and "private" in (answer.links[0].refused or "")
    assert answer.to_dict("en")["links"][0] == {
        "url": "http://192.168.1.1/admin", "checked": False, "refused": answer.links[0].refused}


# -- citations and the UI language ---------------------------------------------------------


def test_cite_prints_a_short_citation_with_the_exact_url(runner: CliRunner, py_index: Path,
                                                         tmp_path: Path) -> None:
    item = tmp_path / "www.jsonl"
    url = "https://www.komdigi.go.id/berita/berita-hoaks/detail/hoaks-uji-coba-sirene"
    item.write_text(json.dumps({"url": url, "title": "[HOAKS] Uji Coba Sirene Tsunami Malam Ini",
                                "publisher": "Komdigi", "date": "2025-08-17"}) + "\n")
    assert run(runner, py_index, "import", str(item)).exit_code == 0
    result = run(runner, py_index, "check", "--cite", "Uji coba sirene tsunami malam ini")
    assert result.exit_code == 0
    assert result.stdout == (
        "Sudah dicek: Komdigi (17 Agustus 2025) menilai klaim ini HOAKS (salah).\n"
        "\u201cUji Coba Sirene Tsunami Malam Ini\u201d\n" + url + "\n")
    english = run(runner, py_index, "check", "--cite", "--ui-lang", "en",
                  "Uji coba sirene tsunami malam ini")
    assert english.stdout.startswith("Checked: Komdigi (17 August 2025) rated this claim "
                                     "HOAKS (false).")
    none = run(runner, py_index, "check", "--cite", "Harga cabai naik jadi sejuta sekilo")
    assert "Belum ada sumber tepercaya" in none.stdout and "137/2018" in none.stdout
    assert len(none.stdout) < 400


def test_citation_of_a_message_names_each_claim(checker: FactChecker) -> None:
    data = checker.answer(FORWARDED).to_dict("en")
    assert data["citation"].startswith("Claim 1: Vaksin COVID-19")
    assert "Claim 2: Pemerintah" in data["citation"]
    assert [c["citation"] for c in data["claims"]] == [
        checker.answer(claim, split=False).to_dict("en")["citation"]
        for claim in checker.answer(FORWARDED).claims]


def test_shown_text_is_free_of_control_characters(runner: CliRunner, py_index: Path,
                                                  tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(json.dumps({
        "url": "https://evil.example/x", "title": "Gempa \x1b]52;c;cm0gLXJmIH4=\x07besar\x1b[2J "
        "\u202eesok pagi", "publisher": "Evil\x1b[31m", "verdict": "SALAH\r\n"}) + "\n")
    assert run(runner, py_index, "import", str(hostile)).exit_code == 0
    for args in ([], ["--cite"]):
        out = run(runner, py_index, "check", *args, "Gempa besar esok pagi").stdout
        assert "Gempa" in out
        assert not any(ch in out for ch in "\x1b\x07\r\u202e")


def test_catalogue_is_complete_in_both_languages() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == {"id", "en"}, key
        assert placeholders(entry["id"]) == placeholders(entry["en"]), key
        assert entry["id"].strip() and entry["en"].strip(), key
    assert all(CATALOGUE[k]["id"] != CATALOGUE[k]["en"] for k in CATALOGUE
               if k.startswith(("tier.", "cite.", "error.")))
    assert all(set(words) == {"id", "en"} for words in VERDICT_WORDS.values())
    assert set(VERDICT_WORDS) == set(Verdict)


@pytest.mark.parametrize(("explicit", "env", "expected"), [
    (None, {}, "id"),
    (None, {"LANG": "en_US.UTF-8"}, "en"),
    (None, {"LANG": "C.UTF-8"}, "id"),
    (None, {"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
    (None, {"FACTCHECK_UI_LANG": "en", "LANG": "id_ID"}, "en"),
    (None, {"FACTCHECK_UI_LANG": "fr"}, "id"),
    ("EN", {"FACTCHECK_UI_LANG": "id"}, "en"),
])
def test_ui_language_resolution(explicit: str | None, env: dict[str, str], expected: str) -> None:
    assert ui_language(explicit, env) == expected


def test_an_unknown_ui_language_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="UI language 'fr' is not available"):
        ui_language("fr", {})


def test_env_picks_the_cli_language(py_index: Path) -> None:
    english = CliRunner(env={**NO_UI_ENV, "FACTCHECK_UI_LANG": "en"})
    result = run(english, py_index, "check", "Bendungan Katulampa jebol")
    assert result.stdout.startswith("MATCH")


# -- helpers --------------------------------------------------------------------------------


class _served:
    """The HTTP API for ``checker`` on a free port of 127.0.0.1, with a client for it."""

    def __init__(self, checker: FactChecker) -> None:
        self.server = make_server(checker, "127.0.0.1", 0)

    def __enter__(self) -> httpx.Client:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.client = httpx.Client(base_url=self.server.url, trust_env=False, timeout=10)
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.shutdown()
        self.server.server_close()


def test_a_suspicious_link_is_named_in_the_citation(checker: FactChecker) -> None:
    answer = checker.answer("Cek di https://evil.com\\@komdigi.go.id/kuota soal vaksin chip")
    (link,) = answer.links
    assert link.report is not None and link.report.suspicious and not link.report.official
    assert "evil.com" in answer.to_dict("en")["citation"]
