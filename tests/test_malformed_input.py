"""Malformed records and pages (issue 15, items 10-11): one bad record or block costs only itself."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from factcheck import FactChecker
from factcheck.claimreview import find_claimreviews, item_from_claimreview, rating_verdict
from factcheck.dates import parse_date
from factcheck.fetch import Response
from factcheck.importer import read_file
from factcheck.models import Verdict
from factcheck.store import Store
from scrapers.base import SiteSource
from scrapers.discovery import feed_entries, parse_sitemap
from scrapers.extract import claimreview_items, json_ld, soup

from .fakes import HashEmbedder

GOOD = json.dumps({"url": "https://a.id/good", "title": "Baris yang sah"})
REVIEW = {
    "@context": "https://schema.org", "@type": "ClaimReview",
    "url": "https://cekfakta.tempo.co/fakta/1", "claimReviewed": "Kode rahasia listrik",
    "headline": "Keliru, Kode Rahasia", "datePublished": "2022-06-22",
    "author": {"@type": "Organization", "name": "Tempo"},
    "reviewRating": {"@type": "Rating", "alternateName": "Keliru"},
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# -- item 10: the importer ---------------------------------------------------------------------


def test_huge_number_is_one_skipped_line_and_the_next_line_is_kept(tmp_path: Path) -> None:
    big = '{"url": "https://a.id/1", "title": "x", "id": ' + "9" * 4400 + "}"
    parsed = read_file(_write(tmp_path, "a.jsonl", f"{big}\n{GOOD}\n"))
    assert [i.url for i in parsed.items] == ["https://a.id/good"]
    [error] = parsed.errors
    assert error.line == 1 and "4400 digits" in error.message


def test_huge_number_in_a_json_document_costs_only_its_record(tmp_path: Path) -> None:
    body = '[{"url": "https://a.id/1", "title": "x", "id": ' + "9" * 5000 + "}, " + GOOD + "]"
    parsed = read_file(_write(tmp_path, "a.json", body))
    assert [i.url for i in parsed.items] == ["https://a.id/good"]
    assert parsed.errors[0].line == 1 and "digits" in parsed.errors[0].message


def test_lone_surrogate_is_one_skipped_line_and_the_import_goes_on(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl",
                  '{"url": "https://a.id/3", "title": "bad \\ud800 x"}\n' + GOOD + "\n")
    parsed = read_file(path)
    assert [i.url for i in parsed.items] == ["https://a.id/good"]
    assert parsed.errors[0].line == 1 and "surrogate" in parsed.errors[0].message
    with FactChecker.open(tmp_path / "idx", create=True, embedder=HashEmbedder()) as fc:
        report = fc.import_file(path)
    assert (report.new, len(report.skipped)) == (1, 1)


def test_bare_cr_in_a_csv_header_is_read_as_a_line_break(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", 'url,title\rfoo\n"https://a.id/5",lima\n')
    parsed = read_file(path)
    assert [i.url for i in parsed.items] == ["https://a.id/5"]
    assert [e.line for e in parsed.errors] == [2]  # "foo": no absolute URL, skipped


def test_unreadable_csv_row_is_skipped_with_its_line(tmp_path: Path) -> None:
    import csv

    previous = csv.field_size_limit(131072)  # the default; other modules may raise it globally
    try:
        _unreadable_csv_row(tmp_path)
    finally:
        csv.field_size_limit(previous)


def _unreadable_csv_row(tmp_path: Path) -> None:
    huge = "x" * 200_000  # over the csv module's field limit
    path = _write(tmp_path, "a.csv",
                  f'url,title\nhttps://a.id/1,satu\nhttps://a.id/2,"{huge}"\nhttps://a.id/3,tiga\n')
    parsed = read_file(path)
    assert [i.url for i in parsed.items] == ["https://a.id/1", "https://a.id/3"]
    assert [e.line for e in parsed.errors] == [3] and "CSV" in parsed.errors[0].message


def test_deep_nesting_bad_ports_and_u2028_cost_one_line_each(tmp_path: Path) -> None:
    lines = [
        "[" * 30_000 + "]" * 30_000,                                    # RecursionError in json
        '{"url": "https://a.id/1", "title": "x", "extra": ' + "[" * 100 + "]" * 100 + "}",
        json.dumps({"url": "https://a.id:99999/x", "title": "port"}),  # canonical_url ValueError
        json.dumps({"url": "http://[::1/x", "title": "ipv6"}),
        json.dumps({"url": "https://a.id/sep", "title": "a\u2028b"}, ensure_ascii=False),
        GOOD,
    ]
    parsed = read_file(_write(tmp_path, "a.jsonl", "\n".join(lines)))
    assert [i.url for i in parsed.items] == ["https://a.id/sep", "https://a.id/good"]
    assert [e.line for e in parsed.errors] == [1, 2, 3, 4]
    Store.open(None).upsert(parsed.items)  # what was kept is storable


def test_recursive_json_document_is_one_clear_failure(tmp_path: Path) -> None:
    from factcheck.errors import ImportFailed

    with pytest.raises(ImportFailed, match="nested too deeply"):
        read_file(_write(tmp_path, "a.json", "[" * 50_000 + "]" * 50_000))


# -- item 11: JSON-LD, ClaimReview, dates, feeds, sitemaps, links ------------------------------


def _page(*blocks: str) -> str:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return f"<html><head>{scripts}</head><body><h1>Judul</h1></body></html>"


@pytest.mark.parametrize("broken", [
    "[" * 30_000 + "]" * 30_000,                                  # RecursionError in json
    json.dumps({"@graph": [REVIEW]})[:-1] + ', "n": ' + "9" * 5000 + "}",  # ValueError
    json.dumps(json.loads("[" * 200 + json.dumps(REVIEW) + "]" * 200)),   # deep, but parsable
])
def test_one_broken_json_ld_block_costs_only_itself(broken: str) -> None:
    other = dict(REVIEW, url="https://cekfakta.tempo.co/fakta/2")
    doc = soup(_page(broken, json.dumps(other)))
    assert len(json_ld(doc)) == 1
    [item] = claimreview_items(doc, "https://cekfakta.tempo.co/fakta/2", source="t")
    assert item.verdict_raw == "Keliru" and item.claim == "Kode rahasia listrik"


def test_lone_surrogate_in_json_ld_is_replaced_not_fatal() -> None:
    block = json.dumps(dict(REVIEW, claimReviewed="Kode \ud800 rahasia"))
    [item] = claimreview_items(soup(_page(block)), "https://cekfakta.tempo.co/fakta/1", source="t")
    assert item.claim == "Kode \ufffd rahasia"
    Store.open(None).upsert([item])


def test_bad_review_url_skips_that_review_only() -> None:
    bad = dict(REVIEW, url="https://cekfakta.tempo.co:99999/x")
    doc = soup(_page(json.dumps([bad, dict(REVIEW, url="https://cekfakta.tempo.co/fakta/3")])))
    [item] = claimreview_items(doc, "https://cekfakta.tempo.co/fakta/3", source="t")
    assert item.url.startswith("https://cekfakta.tempo.co/fakta/3")  # the page survives


def test_claimreview_walk_and_fields_survive_strange_shapes() -> None:
    deep: object = REVIEW
    for _ in range(5000):
        deep = {"@graph": [deep]}
    assert list(find_claimreviews(deep)) == []  # beyond the depth bound: not looked into
    assert list(find_claimreviews({"@graph": [[[REVIEW]]]})) == [REVIEW]
    strange = dict(REVIEW, author=[[[[{"name": "x"}]]]], headline={"a": 1}, inLanguage=["id"])
    item = item_from_claimreview(strange, source="t")
    assert item.title and item.publisher == ""
    # NaN used to pass every comparison of the scale and read as "true"
    assert rating_verdict({"ratingValue": "NaN", "bestRating": 5, "worstRating": 1})[1] is Verdict.UNKNOWN
    assert rating_verdict({"ratingValue": "1e999"})[1] is Verdict.UNKNOWN


@pytest.mark.parametrize("value", [
    "2024 " + "9" * 40 + " h",  # decimal.InvalidOperation inside dateutil
    "2024 " + "1" * 5000, {"a": "2024-01-01"}, ["2024-01-01"],
    "2024-01-01 " + "x" * 10_000, float("nan"), float("inf"),
])
def test_parse_date_never_raises(value: object) -> None:
    assert parse_date(value) is None


def test_parse_date_still_reads_real_dates() -> None:
    assert parse_date("Selasa, 2 Agustus 2024 pukul 14:05 WIB") == "2024-08-02"
    assert parse_date("2024-03-01T10:00:00+07:00") == "2024-03-01"


def _response(body: bytes, content_type: str = "application/xml") -> Response:
    return Response("https://example.org/feed", "https://example.org/feed", 200,
                    httpx.Headers({"content-type": content_type}), body)


@pytest.mark.parametrize("body", [
    b"<rss><channel><item><title>&#xD800;</title></item></channel></rss>",
    b'<?encoding="\xca"?>',  # UnicodeDecodeError inside feedparser
    b"<>&#xD800;",  # UnicodeEncodeError inside feedparser
    b"<rss><channel><item><title>&#1114112;</title><link>https://a.id/1</link></item></channel></rss>",
])
def test_feed_that_feedparser_cannot_read_is_no_feed(body: bytes) -> None:
    assert isinstance(feed_entries(_response(body)), list)


def test_sitemap_with_an_undeclared_prefix_is_invalid_not_a_crash() -> None:
    assert parse_sitemap(b"<image:image><loc>https://a.id/1</loc></image:image>")[0] == "invalid"


def test_sitemap_entry_lxml_cannot_decode_is_skipped() -> None:
    body = (b"<?l?><sitemapindex><sitemap><loc>&#xD800;</loc></sitemap>"
            b"<sitemap><loc>https://a.id/s.xml</loc></sitemap></sitemapindex>")
    assert parse_sitemap(body) == ("index", [("https://a.id/s.xml", None)])


def test_html_with_a_lone_surrogate_parses() -> None:
    assert soup("<p>a\ud800b</p>").get_text() == "a\ufffdb"  # a JSON API's body_html


class _Site(SiteSource):
    name = "site"
    publisher = "Site"
    base_url = "https://site.example"
    hosts = ("site.example",)


def test_unparsable_links_are_nobodys_articles() -> None:
    source = _Site()
    for href in ("http://[::1/x", "http://[zz]/"):
        url = source.rebase(href, "https://site.example/list")
        assert source.owns(url) is False


def test_items_of_a_site_hold_valid_unicode_and_options_are_checked() -> None:
    from scrapers.base import valid_text

    item = _Site().item("https://site.example/a", title="Judul \ud800", text="x\udfff")
    assert item.title == "Judul \ufffd" and item.text == "x\ufffd"
    assert valid_text("ascii") == "ascii"
    from factcheck.errors import InvalidInput

    for bad in ({"max_pages": "x"}, {"max_pages": 0}, {"base_url": 5}):
        with pytest.raises(InvalidInput):
            _Site(**bad)


def test_json_api_nested_too_deeply_is_drift() -> None:
    from factcheck.errors import StructureChanged

    response = _response(b"[" * 50_000 + b"]" * 50_000, "application/json")
    with pytest.raises(StructureChanged, match="nested too deeply"):
        _Site().json_of(response, "API")


def test_api_records_that_are_not_objects_are_skipped() -> None:
    from scrapers.komdigi import Komdigi
    from scrapers.mafindo import MafindoApi
    from scrapers.turnbackhoax import TurnBackHoaxLegacy

    assert Komdigi().record_item(["not", "a", "record"]) is None  # type: ignore[arg-type]
    assert MafindoApi(api_key="k").record_item("nope") is None  # type: ignore[arg-type]
    assert TurnBackHoaxLegacy()._post_item({"title": "x", "content": 0}, "https://turnbackhoax.id/x") is None
