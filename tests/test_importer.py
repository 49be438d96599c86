from __future__ import annotations

import json
from pathlib import Path

import pytest

from factcheck import FactChecker, ImportFailed, InvalidInput, Verdict
from factcheck.importer import read_file

from .conftest import shared_data

CLAIMREVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://cekfakta.tempo.co/fakta/1752/keliru-video-kode-rahasia",
    "claimReviewed": "Video kode rahasia untuk menghemat listrik prabayar",
    "headline": "Keliru, Video Kode Rahasia untuk Menghemat Listrik Prabayar",
    "datePublished": "2022-06-22",
    "author": {"@type": "Organization", "name": "Tempo Cek Fakta"},
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1,
                     "alternateName": "Keliru"},
    "itemReviewed": {"@type": "Claim", "author": {"name": "Facebook user"},
                     "appearance": [{"url": "https://facebook.com/post/1"}]},
}


def test_jsonl_good_and_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        "\n".join([
            json.dumps({"url": "https://a.id/1", "title": "[HOAKS] Satu", "date": "2 Jan 2024"}),
            "{not json",
            json.dumps({"title": "no url"}),
            json.dumps({"url": "https://a.id/2", "title": "Dua", "date": "tanggal aneh"}),
            "",
            json.dumps({"url": "javascript:alert(1)", "title": "x"}),
            json.dumps({"url": "https://a.id/3", "claim": "Tiga", "verdict": "Menyesatkan"}),
        ]),
        encoding="utf-8",
    )
    parsed = read_file(path)
    assert parsed.format == "jsonl"
    assert [i.url for i in parsed.items] == ["https://a.id/1", "https://a.id/3"]
    assert parsed.items[0].verdict_raw == "HOAKS" and parsed.items[0].verdict is Verdict.FALSE
    assert parsed.items[0].title == "Satu" and parsed.items[0].published == "2024-01-02"
    assert parsed.items[1].title == "Tiga" and parsed.items[1].verdict is Verdict.MISLEADING
    assert [(e.line, e.message.split(" ")[0]) for e in parsed.errors] == [
        (2, "invalid"), (3, "missing"), (4, "unreadable"), (6, "url"),
    ]


def test_csv_with_aliases_and_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "link,headline,label,published_at,publisher\n"
        "https://komdigi.go.id/x,Banjir Jakarta,HOAKS,2020-05-01 10:00:00,Komdigi\n"
        "https://komdigi.go.id/y,,,,\n"
        "https://komdigi.go.id/z,Too,many,2020-01-01,fields,here\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    assert len(parsed.items) == 1 and parsed.items[0].publisher == "Komdigi"
    assert [e.line for e in parsed.errors] == [3, 4]


def test_csv_without_url_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("title,verdict\nfoo,bar\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="no url column"):
        read_file(path)


@pytest.mark.parametrize(
    "document",
    [
        CLAIMREVIEW,
        [CLAIMREVIEW],
        {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, CLAIMREVIEW]},
        {"@type": "DataFeed", "dataFeedElement": [{"@type": "DataFeedItem", "item": [CLAIMREVIEW]}]},
    ],
    ids=["object", "list", "graph", "datafeed"],
)
def test_claimreview_shapes(tmp_path: Path, document: object) -> None:
    path = tmp_path / "cr.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    parsed = read_file(path)
    assert not parsed.errors
    (item,) = parsed.items
    assert item.verdict_raw == "Keliru" and item.verdict is Verdict.FALSE
    assert item.publisher == "Tempo Cek Fakta" and item.published == "2022-06-22"
    assert item.extra["appearance"] == ["https://facebook.com/post/1"]
    assert item.language == "id"


def test_numeric_rating_without_name(tmp_path: Path) -> None:
    doc = dict(CLAIMREVIEW, reviewRating={"ratingValue": "5", "bestRating": "5", "worstRating": "1"})
    path = tmp_path / "cr.jsonld"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (item,) = read_file(path).items
    assert item.verdict is Verdict.TRUE and item.verdict_raw == "5/5"


def test_google_fact_check_tools_shape(tmp_path: Path) -> None:
    doc = {"claims": [{
        "text": "Drinking hot water cures COVID-19", "claimant": "WhatsApp", "claimDate": "2020-03-01",
        "claimReview": [{"publisher": {"name": "Kompas", "site": "kompas.com"},
                         "url": "https://kompas.com/cekfakta/read/1", "title": "[HOAKS] Air panas",
                         "reviewDate": "2020-03-03T00:00:00Z", "textualRating": "Hoaks",
                         "languageCode": "id"}],
    }]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (item,) = read_file(path).items
    assert item.title == "Air panas" and item.verdict is Verdict.FALSE
    assert item.extra["claimant"] == "WhatsApp" and item.published == "2020-03-03"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\xff\xfe\x00garbage", "not UTF-8"), (b"{broken", "not valid JSON")],
)
def test_unusable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message):
        read_file(path)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        read_file(tmp_path / "x", fmt="xml")
    with pytest.raises(ImportFailed, match="cannot read"):
        read_file(tmp_path / "missing.jsonl")


def test_real_claimreview_pages_and_komdigi_sample(tmp_path: Path) -> None:
    """ClaimReview JSON-LD cut from real saved pages, and the real komdigi CSV sample."""
    from bs4 import BeautifulSoup

    for name in ("boom_live_raw.html", "the_quint_raw.html"):
        html = shared_data("meedan-fetch-fixtures", name).read_text(encoding="utf-8")
        blocks = [
            json.loads(s.string)
            for s in BeautifulSoup(html, "html.parser").find_all("script", type="application/ld+json")
            if s.string and "ClaimReview" in s.string
        ]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(blocks), encoding="utf-8")
        parsed = read_file(path)
        assert parsed.items and not parsed.errors
        assert all(i.url.startswith("https://") and i.verdict_raw for i in parsed.items)
    komdigi = read_file(shared_data("komdigi-hoaks-sample", "hasil_topic_modeling_komdigi.sample.csv"))
    assert len(komdigi.items) >= 60
    labels = {i.verdict_raw for i in komdigi.items}
    assert {"HOAKS", "DISINFORMASI"} <= labels
    assert all(i.published for i in komdigi.items)


def test_import_file_into_index(tmp_path: Path, embedder: object) -> None:
    path = tmp_path / "cr.json"
    path.write_text(json.dumps(CLAIMREVIEW), encoding="utf-8")
    fc = FactChecker.open(tmp_path / "idx", create=True, embedder=embedder)  # type: ignore[arg-type]
    first = fc.import_file(path)
    second = fc.import_file(path)
    assert (first.new, second.new, second.unchanged) == (1, 0, 1)
    assert fc.check("kode rahasia listrik prabayar").best.item.url == CLAIMREVIEW["url"]  # type: ignore[union-attr]


def test_a_file_of_only_bad_records_fails_in_the_library(tmp_path: Path, embedder: object) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{oops\n{"title": "no url"}\n', encoding="utf-8")
    with FactChecker.open(tmp_path / "idx", create=True, embedder=embedder) as fc:  # type: ignore[arg-type]
        with pytest.raises(ImportFailed, match="no valid record") as caught:
            fc.import_file(bad)
        assert [e.line for e in caught.value.report.skipped] == [1, 2]  # type: ignore[attr-defined]
        assert fc.store.count() == 0


def test_imported_items_are_cited_as_published(tmp_path: Path, embedder: object) -> None:
    url = "https://www.komdigi.go.id/berita/pengumuman/detail/hoaks-x"
    record = {"url": f"{url}?utm_source=whatsapp", "title": "[HOAKS] Pendaftaran Bansos Lewat Tautan",
              "publisher": "Komdigi", "date": "2024-05-02"}
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps(record), encoding="utf-8")
    assert [i.url for i in read_file(first).items] == [url]
    with FactChecker.open(tmp_path / "idx", create=True, embedder=embedder) as fc:  # type: ignore[arg-type]
        assert fc.import_file(first).new == 1
        hit = fc.check("pendaftaran bansos lewat tautan").best
        assert hit is not None and hit.item.url == url and hit.to_dict()["url"] == url
        # the same report through a link without www. is the same item, not a second one
        second = tmp_path / "second.jsonl"
        second.write_text(json.dumps({**record, "url": url.replace("www.", "")}), encoding="utf-8")
        report = fc.import_file(second)
        assert (report.new, report.unchanged, fc.store.count()) == (0, 1, 1)


def test_an_item_without_a_language_gets_the_one_its_text_is_in(tmp_path: Path) -> None:
    """The answer compares a fact-check's language with the claim's (a first hit in another
    language is shown from a lower bar), so an import without one must not leave it empty
    where the text says it, nor guess where it does not."""
    rows = [
        {"url": "https://a.example/1", "title": "Vaksin COVID-19 mengandung chip pelacak"},
        {"url": "https://a.example/2", "title": "The vaccine does not contain a tracking chip"},
        {"url": "https://a.example/3", "title": "Hoaks", "language": "ID"},
        {"url": "https://a.example/4", "title": "OK 2024"},
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    parsed = read_file(path)
    assert not parsed.errors
    assert [i.language for i in parsed.items] == ["id", "en", "id", None]
