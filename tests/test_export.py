from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, InvalidInput
from factcheck.export import EXPORT_FORMATS, export_items
from factcheck.importer import read_file
from tests.fakes import HashEmbedder


def _snapshot(checker: FactChecker, *, appearances: bool) -> dict[str, tuple]:
    out = {}
    for _, item in checker.store.iter_items():
        extra = item.extra
        out[item.url] = (
            item.title, item.claim or item.title, item.verdict.value, item.verdict_raw,
            item.published, item.publisher, item.language, extra.get("claimant"),
            extra.get("claim_date"), tuple(extra.get("appearance") or ()) if appearances else (),
        )
    return out


@pytest.mark.parametrize("fmt,suffix", [("claimreview", ".jsonld"), ("google", ".json")])
def test_round_trip(
    sample_checker: FactChecker, tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = tmp_path / f"export{suffix}"
    assert export_items(sample_checker, path, fmt=fmt) == 5
    with FactChecker.open(tmp_path / "copy", create=True, embedder=HashEmbedder()) as copy:
        report = copy.import_file(path)
        assert (report.new, report.skipped) == (5, [])
        keep_links = fmt == "claimreview"  # Fact Check Tools JSON has no appearance field
        original = _snapshot(sample_checker, appearances=keep_links)
        assert _snapshot(copy, appearances=keep_links) == original
        hit = copy.check("vaksin chip pelacak").best
        assert hit is not None and hit.item.url.startswith("https://turnbackhoax.id/")


def test_claimreview_shape(sample_checker: FactChecker, tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonld"
    export_items(sample_checker, path)
    feed = json.loads(path.read_text())
    assert feed["@context"] == "https://schema.org" and feed["@type"] == "DataFeed"
    node = next(n for n in feed["dataFeedElement"] if "turnbackhoax" in n["url"])
    assert node["@type"] == "ClaimReview"
    assert node["reviewRating"]["alternateName"] == "SALAH"
    assert node["author"]["name"] == "TurnBackHoax (MAFINDO)"
    assert node["itemReviewed"]["appearance"][0]["url"].startswith("https://www.facebook.com/")


def test_google_shape(sample_checker: FactChecker, tmp_path: Path) -> None:
    path = tmp_path / "claims.json"
    export_items(sample_checker, path, fmt="google")
    claims = json.loads(path.read_text())["claims"]
    claim = next(c for c in claims if c.get("claimant") == "Viral post")
    review = claim["claimReview"][0]
    assert set(review) == {"publisher", "url", "title", "reviewDate", "textualRating",
                           "languageCode"}
    assert review["publisher"] == {"name": "Example Checks", "site": "example.org"}
    assert review["reviewDate"] == "2022-07-20T00:00:00Z"


def test_bad_element_is_skipped_alone(tmp_path: Path) -> None:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [
        {"text": "A", "claimReview": [{"url": "https://a.example/1", "title": "A",
                                       "textualRating": "False"}]},
        {"text": "B", "claimReview": [{"url": "not a url"}]},
        {"text": "C", "claimReview": [{"url": "https://a.example/3", "title": "C",
                                       "textualRating": "True"}]},
    ]}))
    parsed = read_file(path)
    assert [i.title for i in parsed.items] == ["A", "C"]
    assert [e.line for e in parsed.errors] == [2]


def test_export_errors(sample_checker: FactChecker, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        export_items(sample_checker, tmp_path / "x.json", fmt="csv")
    with pytest.raises(InvalidInput):
        export_items(sample_checker, tmp_path, fmt="google")


def test_cli_export_and_import(sample_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--index", str(sample_index), "export", "--format", "google"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["claims"]) == 5
    assert "exported 5 items" in result.stderr
    out = tmp_path / "feed.jsonld"
    result = runner.invoke(cli, ["--index", str(sample_index), "export", str(out)])
    assert result.exit_code == 0 and out.exists()
    result = runner.invoke(cli, ["--index", str(tmp_path / "none"), "export"])
    assert result.exit_code == 3 and result.stderr.startswith("Error: no index")


def test_cli_check_and_export_cite_the_url_as_published(tmp_path: Path) -> None:
    url = "https://www.komdigi.go.id/berita/pengumuman/detail/hoaks-x"
    source = tmp_path / "items.jsonl"
    source.write_text(json.dumps({
        "url": f"{url}#baca", "title": "[HOAKS] Pendaftaran Bansos Lewat Tautan WhatsApp",
        "publisher": "Komdigi", "date": "2024-05-02", "language": "id",
    }), encoding="utf-8")
    runner = CliRunner()
    index = str(tmp_path / "idx")
    result = runner.invoke(cli, ["--index", index, "import", str(source)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--index", index, "check", "--json",
                                 "pendaftaran bansos lewat tautan whatsapp"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cited = [hit["url"] for key in ("results", "matches", "others") for hit in data.get(key, [])]
    assert cited == [url]
    for fmt in EXPORT_FORMATS:
        result = runner.invoke(cli, ["--index", index, "export", "--format", fmt])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        if fmt == "claimreview":
            [node] = data["dataFeedElement"]
            assert node["url"] == url and node["author"]["url"] == "https://www.komdigi.go.id/"
        else:
            [review] = data["claims"][0]["claimReview"]
            assert review["url"] == url and review["publisher"]["site"] == "www.komdigi.go.id"
