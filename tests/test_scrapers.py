"""Parsers on real saved pages (../shared/data) and on constructed fixtures (tests/fixtures/constructed)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from factcheck.errors import InvalidInput, StructureChanged
from factcheck.fetch import FetchConfig, Fetcher, Response
from factcheck.models import Verdict
from factcheck.sources import SourcesConfig, get_sources, list_sources
from scrapers.discovery import feed_entries, listing_links, parse_sitemap, sitemap_links
from scrapers.generic import ClaimReviewSource, SitemapSource
from scrapers.komdigi import Komdigi
from scrapers.liputan6 import Liputan6CekFakta
from scrapers.mafindo import MafindoApi
from scrapers.tempo import TempoCekFakta
from scrapers.turnbackhoax import _ARTICLE, TurnBackHoax, TurnBackHoaxLegacy, _card_dates
from tests.localserver import LocalServer, Logged, Reply
from tests.sites import CONSTRUCTED, KOMDIGI, MEEDAN, SHARED_DATA, TBH, constructed

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason="needs ../shared/data (third-party saved pages, not in the repo)"
)


def response(url: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> Response:
    content = body.encode("utf-8") if isinstance(body, str) else body
    return Response(url, url, 200, httpx.Headers({"content-type": content_type}), content)


# -- turnbackhoax.id (real saved pages) ------------------------------------------------------

TBH_EXPECTED = {
    "36483": ("SALAH", Verdict.FALSE, "2026-08-31"),
    "36590": ("SALAH", Verdict.FALSE, "2026-09-09"),
    "36603": ("SALAH", Verdict.FALSE, "2026-09-10"),
    "36729": ("SALAH", Verdict.FALSE, "2026-09-17"),
    "36730": ("SALAH", Verdict.FALSE, "2026-09-17"),
    "36731": ("PENIPUAN", Verdict.FALSE, "2026-09-17"),
    "36737": ("PENIPUAN", Verdict.FALSE, "2026-09-18"),
    "36738": ("SALAH", Verdict.FALSE, "2026-09-18"),
    "archive_32490": ("PENIPUAN", Verdict.FALSE, "2026-02-23"),
    "archive_35310": ("PARODI", Verdict.SATIRE, "2026-06-22"),
    "archive_35850": ("PENIPUAN", Verdict.FALSE, "2026-07-27"),
}


@needs_shared
@pytest.mark.parametrize("stem", sorted(TBH_EXPECTED))
def test_turnbackhoax_articles(stem: str) -> None:
    html = (TBH / f"{stem}.html").read_text(encoding="utf-8")
    [item] = TurnBackHoax().parse(response(f"https://turnbackhoax.id/articles/{stem}", html))
    raw, verdict, published = TBH_EXPECTED[stem]
    assert (item.verdict_raw, item.verdict, item.published) == (raw, verdict, published)
    assert not item.title.startswith("[") and item.title
    assert item.source == "turnbackhoax" and item.publisher == "TurnBackHoax (MAFINDO)"
    assert item.claim and "Narasi:" in item.text and "Kesimpulan:" in item.text
    assert item.extra["references"] and item.extra["category"]
    assert "Salah" in item.extra["labels"]  # Hasil Periksa Fakta and ClaimReview are kept too


@needs_shared
def test_turnbackhoax_odd_nesting_keeps_sections_apart() -> None:
    from scrapers.extract import soup
    from scrapers.turnbackhoax import sections

    for stem in ("36483", "36590"):
        main = soup((TBH / f"{stem}.html").read_text(encoding="utf-8")).select_one("section.article--main")
        parts = sections(main)
        assert {"narasi", "penjelasan", "kesimpulan", "hasil periksa fakta", "referensi"} <= set(parts)
        assert parts["kesimpulan"].startswith("Faktanya") or "Faktanya" in parts["kesimpulan"]


@needs_shared
def test_turnbackhoax_list_page_and_error_page() -> None:
    source = TurnBackHoax()
    html = (TBH / "list_page.html").read_text(encoding="utf-8")
    links = listing_links(source, html, "https://turnbackhoax.id/articles?page=1", _ARTICLE)
    ids = [link.url.rsplit("/", 1)[-1].split("-")[0] for link in links]
    assert ids == ["36738", "36737", "36731", "36730", "36729", "36727", "36706", "36701", "36700", "36682"]
    dates = _card_dates(html)
    assert dates[links[0].url] == "2026-09-18"
    error = (TBH / "error_page.html").read_text(encoding="utf-8")
    with pytest.raises(StructureChanged, match="error page"):
        TurnBackHoax().parse(response("https://turnbackhoax.id/articles/1-x", error))
    assert listing_links(source, error, "https://turnbackhoax.id/articles?page=1", _ARTICLE) == []


@needs_shared
def test_turnbackhoax_listing_error_page_is_drift(local_server: LocalServer) -> None:
    local_server.route("/articles?page=1", Reply(body=(TBH / "error_page.html").read_bytes()))
    source = TurnBackHoax(base_url=local_server.base)

    async def go() -> None:
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            async for _ in source.discover(fetcher):
                pass

    with pytest.raises(StructureChanged, match="turnbackhoax.*error page"):
        asyncio.run(go())


def test_rebase_keeps_tests_on_localhost() -> None:
    source = TurnBackHoax(base_url="http://127.0.0.1:9999")
    assert source.rebase("https://turnbackhoax.id/articles/1-a") == "http://127.0.0.1:9999/articles/1-a"
    assert source.rebase("https://cdc.gov/x") == "https://cdc.gov/x"
    real = TempoCekFakta()
    assert real.rebase("http://cekfakta.tempo.co/fakta/1/a") == "https://cekfakta.tempo.co/fakta/1/a"
    assert real.rebase("//cekfakta.tempo.co/fakta/2/b") == "https://cekfakta.tempo.co/fakta/2/b"


# -- Tempo (real saved article and monthly index) ---------------------------------------------


@needs_shared
def test_tempo_article_and_index() -> None:
    page = json.loads((MEEDAN / "tempo_cekfakta_raw.json").read_text(encoding="utf-8"))
    [item] = TempoCekFakta().parse(response(page["url"], page["page"]))
    assert item.title == "Video Kode Rahasia Untuk Menghemat Listrik Prabayar"
    assert (item.verdict_raw, item.verdict, item.published) == ("Keliru", Verdict.FALSE, "2022-06-22")
    assert item.claim.startswith("Sebuah video tentang adanya kode rahasia")
    assert "keliru" in item.extra["conclusion"]
    html = (MEEDAN / "tempo_cekfakta_index_page.html").read_text(encoding="utf-8")
    links = TempoCekFakta().index_links(html, "https://cekfakta.tempo.co/2022/03")
    assert len(links) == 30 and all(link.url.startswith("https://cekfakta.tempo.co/fakta/") for link in links)
    dated = [link.published for link in links if link.published]
    assert "2022-03-29" in dated and all(d.startswith("2022-03") for d in dated)  # "4 jam lalu" stays None


def test_tempo_soft_404_is_drift() -> None:
    home = "<html><body><main class='main-left'><h1 class='titlebox'>Cek Fakta</h1></main></body></html>"
    with pytest.raises(StructureChanged, match="tempo"):
        TempoCekFakta().parse(response("https://cekfakta.tempo.co/", home))


# -- Liputan6 (real saved articles) -----------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("name,date", [("liputan6_8292010", "2026-09-15"), ("liputan6_8293157", "2026-09-16")])
def test_liputan6_articles(name: str, date: str) -> None:
    html = (TBH / f"{name}.html").read_text(encoding="utf-8")
    [item] = Liputan6CekFakta().parse(response("https://www.liputan6.com/cek-fakta/read/1/x", html))
    assert (item.verdict_raw, item.verdict, item.published) == ("Hoaks", Verdict.FALSE, date)
    assert not item.title.lower().startswith(("cek fakta", "hoaks"))
    assert item.extra["conclusion"] and item.extra["article_id"] in name


# -- MAFINDO API, komdigi (real saved records) ---------------------------------------------------


@needs_shared
def test_mafindo_api_record() -> None:
    record = json.loads((MEEDAN / "mafindo_raw.json").read_text(encoding="utf-8"))
    item = MafindoApi(api_key="k").record_item(record)
    assert item is not None and item.url == "https://gfd.turnbackhoax.id/focus/6897"
    assert (item.verdict_raw, item.verdict, item.published) == ("SALAH", Verdict.FALSE, "2021-05-09")
    assert item.claim.startswith("“Kangaroo") and item.extra["classification"] == "False Context"
    assert item.extra["status"] == "hoax" and item.extra["references"]


@needs_shared
def test_komdigi_records_from_saved_sample() -> None:
    with (KOMDIGI / "hasil_topic_modeling_komdigi.sample.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    source = Komdigi()
    labels = set()
    for row in rows:
        item = source.record_item({"slug": row["url"].rsplit("/", 1)[-1], "title": row["title"],
                                   "published_at": row["published_at"]})
        assert item is not None and item.url == row["url"]  # as published, www. included
        assert item.title == row["title_clean"].strip() or row["label_klarifikasi"] == "TANPA_LABEL"
        assert item.published == row["published_at"][:10]
        labels.add((item.verdict_raw.upper(), item.verdict))
        if row["label_klarifikasi"] == "TANPA_LABEL":
            assert item.verdict_raw == "" and item.verdict is Verdict.UNKNOWN
    assert ("HOAKS", Verdict.FALSE) in labels and ("DISINFORMASI", Verdict.FALSE) in labels


def test_komdigi_endpoint_without_data_is_drift(local_server: LocalServer) -> None:
    local_server.route("/api/v1/contents/category/berita-hoaks", Reply(body='{"message": "moved"}',
                                                                       content_type="application/json"))

    async def go() -> None:
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            async for _ in Komdigi(base_url=local_server.base).discover(fetcher):
                pass

    with pytest.raises(StructureChanged, match="komdigi.*no data list"):
        asyncio.run(go())


def _komdigi_record(n: int) -> dict:
    return {"title": f"[HOAKS] Klaim nomor {n}", "slug": f"klaim-{n}", "created_at": "2024-05-01",
            "content": f"<p>Penjelasan klaim {n}.</p>"}


def test_komdigi_walks_pages_until_the_last(local_server: LocalServer) -> None:
    def page(request: Logged) -> Reply:
        number = int(parse_qs(urlsplit(request.path).query)["page"][0])
        records = [_komdigi_record(number * 10 + i) for i in range(2)]
        return Reply(body=json.dumps({"response": {"data": records, "last_page": 2}}),
                     content_type="application/json")

    local_server.route("/api/v1/contents/category/berita-hoaks", page)

    async def go() -> list:
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            return [link async for link in Komdigi(base_url=local_server.base).discover(fetcher)]

    links = asyncio.run(go())
    assert [link.item.title for link in links] == [f"Klaim nomor {n}" for n in (10, 11, 20, 21)]
    pages = [parse_qs(urlsplit(r.path).query)["page"][0] for r in local_server.requests
             if "berita-hoaks" in r.path]
    assert pages == ["1", "2"]  # last_page said 2: page 3 is never asked for


def test_mafindo_pages_by_offset_until_an_empty_page(local_server: LocalServer) -> None:
    offsets: list[str] = []

    def page(request: Logged) -> Reply:
        offset = parse_qs(request.body.decode())["offset"][0]
        offsets.append(offset)
        records = [] if offset == "4" else [
            {"id": 100 + int(offset) + i, "title": f"[SALAH] Klaim {int(offset) + i}",
             "content": "isi"}
            for i in range(2)]
        return Reply(body=json.dumps(records), content_type="application/json")

    local_server.route("/api/antihoax/", page)

    async def go() -> list:
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            source = MafindoApi(base_url=local_server.base, api_key="k", per_page=2)
            return [link async for link in source.discover(fetcher)]

    links = asyncio.run(go())
    assert offsets == ["0", "2", "4"]
    assert [link.item.url.rsplit("/", 1)[1] for link in links] == ["100", "101", "102", "103"]


def test_an_empty_first_page_of_an_api_is_drift(local_server: LocalServer) -> None:
    local_server.route("/api/antihoax/", Reply(body="[]", content_type="application/json"))

    async def go() -> None:
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            async for _ in MafindoApi(base_url=local_server.base, api_key="k").discover(fetcher):
                pass

    with pytest.raises(StructureChanged, match="API returned no records"):
        asyncio.run(go())


# -- generic: ClaimReview pages and sitemaps (real saved) ----------------------------------------


@needs_shared
@pytest.mark.parametrize("name,claim,raw", [
    ("boom_live_raw.html", "In Karnataka, teacher is teaching Namaz", "False"),
    ("the_quint_raw.html", "Last Tweets of Sushant Singh Rajput", "False"),
])
def test_claimreview_pages(name: str, claim: str, raw: str) -> None:
    source = ClaimReviewSource(name="cr", urls=["https://example.org/a"])
    html = (MEEDAN / name).read_bytes()
    items = list(source.parse(response("https://example.org/a", html)))
    assert len(items) == 1
    assert items[0].claim.startswith(claim) and items[0].verdict_raw == raw
    assert items[0].verdict is Verdict.FALSE and items[0].url == "https://example.org/a"


def test_claimreview_source_rejects_pages_without_it() -> None:
    source = ClaimReviewSource(name="cr", urls=["https://example.org/a"])
    with pytest.raises(StructureChanged, match="cr: page has no ClaimReview"):
        source.parse(response("https://example.org/a", "<html><h1>x</h1><p>text</p></html>"))


@needs_shared
def test_sitemap_index_and_urlset() -> None:
    kind, entries = parse_sitemap((MEEDAN / "newtral_sitemap_main.xml").read_bytes())
    assert kind == "index" and len(entries) > 5 and entries[0][0].endswith("-sitemap.xml")
    assert entries == sorted(entries, key=lambda e: e[1] or "", reverse=True)
    kind, urls = parse_sitemap((MEEDAN / "newtral_sitemap_sub_tree.xml").read_bytes())
    assert kind == "urlset" and len(urls) > 100
    assert urls[0][1] >= urls[-1][1]


@needs_shared
def test_sitemap_walk_is_lazy_and_newest_first(local_server: LocalServer) -> None:
    main = (MEEDAN / "newtral_sitemap_main.xml").read_text(encoding="utf-8")
    local_server.route("/sitemap_index.xml", Reply(body=main, content_type="application/xml"))
    newest = parse_sitemap(main.encode())[1][0][0].split("newtral.es", 1)[1]
    local_server.route(newest, Reply(body=(MEEDAN / "newtral_sitemap_sub_tree.xml").read_bytes(),
                                                  content_type="application/xml"))
    source = SitemapSource(name="newtral", url=local_server.url("/sitemap_index.xml"))
    source.hosts = ("newtral.es",)  # type: ignore[misc]
    source.base_url = local_server.base

    async def go() -> list[str]:
        out = []
        async with Fetcher(FetchConfig(delay=0, backoff=0.01)) as fetcher:
            async for link in sitemap_links(fetcher, source, source._need_url()):
                out.append(link.published or "")
                if len(out) == 20:
                    break
        return out

    dates = asyncio.run(go())
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2022")
    assert local_server.hits("/post-sitemap2.xml") == []  # never needed


# -- constructed fixtures ---------------------------------------------------------------------


def test_legacy_feed_items_and_unknown_label() -> None:
    entries = feed_entries(response("https://turnbackhoax.id/feed/", constructed("turnbackhoax_legacy_feed.xml"),
                                    "application/xml"))
    source = TurnBackHoaxLegacy()
    items = [source._entry_item(e, e["link"]) for e in entries]
    assert [i.verdict for i in items if i] == [Verdict.FALSE, Verdict.SATIRE, Verdict.UNKNOWN]
    assert items[0] is not None and items[0].claim.startswith("Minum air garam")
    assert items[0].published == "2024-12-30" and items[2] is not None and items[2].verdict_raw == "SEBAGIAN SALAH"


def test_legacy_falls_back_to_wordpress_rest(local_server: LocalServer) -> None:
    local_server.route("/wp-json/wp/v2/posts", Reply(body=constructed("turnbackhoax_legacy_wp.json"),
                                                     content_type="application/json"))

    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(FetchConfig(delay=0, backoff=0.01, retries=0)) as fetcher:
            return [link async for link in TurnBackHoaxLegacy(base_url=local_server.base).discover(fetcher)]

    links = asyncio.run(go())
    assert [link.item.verdict_raw for link in links] == ["SALAH", "DISINFORMASI"]
    assert links[0].url.startswith(local_server.base) and links[0].published == "2024-12-30"


@pytest.mark.parametrize("module,cls,fixture,url,raw,verdict,published", [
    ("scrapers.cekfakta", "CekFaktaCom", "cekfakta_focus_9001.html", "https://cekfakta.com/focus/9001",
     "Hoaks", Verdict.FALSE, "2024-09-10"),
    ("scrapers.cekfakta", "CekFaktaCom", "cekfakta_focus_9000.html", "https://cekfakta.com/focus/9000",
     "Tidak Benar", Verdict.FALSE, "2024-09-09"),
    ("scrapers.kompas", "KompasCekFakta", "kompas_article.html",
     "https://www.kompas.com/cekfakta/read/2024/09/12/153000182/x", "HOAKS", Verdict.FALSE, "2024-09-12"),
    ("scrapers.menpan", "Menpan", "menpan_article.html",
     "https://www.menpan.go.id/site/berita-terkini/berita-daerah/x", "HOAKS", Verdict.FALSE, "2024-08-20"),
])
def test_constructed_article_pages(module: str, cls: str, fixture: str, url: str, raw: str,
                                   verdict: Verdict, published: str) -> None:
    import importlib

    source = getattr(importlib.import_module(module), cls)()
    [item] = source.parse(response(url, constructed(fixture)))
    assert (item.verdict_raw, item.verdict, item.published) == (raw, verdict, published)
    assert item.title and not item.title.startswith("[") and item.text
    assert item.source == source.name


def test_constructed_fixtures_are_marked() -> None:
    assert "written by hand" in (CONSTRUCTED / "README.md").read_text(encoding="utf-8")


# -- registry -----------------------------------------------------------------------------------


def test_registry_lists_builtins_and_config(tmp_path: Path) -> None:
    names = {info.name: info for info in list_sources()}
    assert {"turnbackhoax", "cekfakta", "tempo", "kompas", "liputan6", "komdigi", "menpan"} <= set(names)
    assert names["turnbackhoax-legacy"].enabled is False and names["turnbackhoax"].enabled is True
    enabled = {s.name for s in get_sources()}
    assert "mafindo-api" not in enabled and "turnbackhoax" in enabled
    config = SourcesConfig(sources={"my-feed": {"type": "feed", "url": "https://example.org/feed/",
                                                "publisher": "Example"}})
    [feed] = get_sources(["my-feed"], config=config)
    assert feed.name == "my-feed" and feed.publisher == "Example"
    with pytest.raises(InvalidInput, match="unknown source"):
        get_sources(["nope"])
    with pytest.raises(InvalidInput, match="unknown option"):
        get_sources(["tempo"], config=SourcesConfig(sources={"tempo": {"base_ulr": "x"}}))


def test_entry_point_plugins_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    import factcheck.sources as registry

    ep = EntryPoint(name="plug", value="scrapers.cekfakta:CekFaktaCom", group=registry.ENTRY_POINT_GROUP)
    broken = EntryPoint(name="broken", value="no_such_module:X", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep, broken])
    infos = {i.name: i for i in list_sources()}
    assert infos["plug"].origin == "plugin" and infos["broken"].kind == "broken"
    loaded = get_sources()  # the broken plug-in is logged and skipped, the others load
    assert sum(type(s).__name__ == "CekFaktaCom" for s in loaded) == 2  # built-in + plug-in
    with pytest.raises(InvalidInput, match="cannot load source broken"):
        get_sources(["broken"])


def test_an_api_answering_html_is_drift_naming_source_and_url() -> None:
    page = response("https://komdigi.go.id/api/hoaks", b"<html>maintenance</html>", "text/html")
    with pytest.raises(StructureChanged, match=r"komdigi: hoax endpoint did not answer JSON at "
                                                r"https://komdigi.go.id/api/hoaks"):
        Komdigi().json_of(page, "hoax endpoint")
    assert Komdigi().json_of(response("https://komdigi.go.id/api", b'{"data": []}',
                                      "application/json"), "x") == {"data": []}


ENGLISH_PAGE = """<html><head><title>Fact check: no, the vaccine does not contain a chip</title>
</head><body><article><h1>Fact check: no, the vaccine does not contain a chip</h1>
<p>Posts shared on social media claim that the vaccines being given to people around the world
contain a tracking chip that can be read by phones. This is false: the ingredients of every
approved vaccine are published, and none of them is a chip or could work as one.</p>
<p>Health authorities in several countries have published the full list of what is in the
vaccines, and independent experts who examined them found nothing of the kind.</p>
</article></body></html>"""


def test_a_generic_source_identifies_each_pages_language_unless_configured() -> None:
    """A site the user points at is not assumed Indonesian: the answer compares an item's
    language with the claim's, so a wrong one would show English checks as cross-language."""
    url = "https://factcheck.example/vaccine-chip"
    found = list(SitemapSource(name="mine", url=url).parse(response(url, ENGLISH_PAGE)))
    assert [i.language for i in found] == ["en"]
    configured = SitemapSource(name="mine", url=url, language="id")
    assert [i.language for i in configured.parse(response(url, ENGLISH_PAGE))] == ["id"]
