"""Local copies of every built-in source's site, each on its own 127.0.0.1 server.

Real saved pages are read from ../shared/data at test time (never copied into the repo);
constructed fixtures come from tests/fixtures/constructed. ``build_sites`` returns the servers
and the per-source options (base URLs and small limits) that point the sources at them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.localserver import LocalServer, Reply

HERE = Path(__file__).resolve().parent
CONSTRUCTED = HERE / "fixtures" / "constructed"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TBH = SHARED_DATA / "turnbackhoax-pages"
MEEDAN = SHARED_DATA / "meedan-fetch-fixtures"
KOMDIGI = SHARED_DATA / "komdigi-hoaks-sample"

XML = "application/xml; charset=utf-8"
JSON = "application/json"

#: What each source should index from its fixtures: (expected new items, a title to look up).
EXPECTED: dict[str, tuple[int, str]] = {
    "turnbackhoax": (5, "Ojol Dilarang Beli Pertalite"),
    "turnbackhoax-legacy": (3, "Minum Air Garam Hangat Sembuhkan Demam Berdarah"),
    "cekfakta": (2, "Bantuan Kuota Internet Gratis 100 GB dari Kemendikbud"),
    "tempo": (1, "Video Kode Rahasia Untuk Menghemat Listrik Prabayar"),
    "kompas": (1, "Foto Banjir Bandang di Bogor Hari Ini"),
    "liputan6": (2, "Presiden Prabowo Minta Warung di Desa Ditutup Agar Masyarakat Belanja di Kopdes"),
    "komdigi": (64, "Gubernur Papua Beri Dana Bantuan Melalui Nomor WhatsApp"),
    "menpan": (1, "Rekrutmen CPNS 2024 Lewat WhatsApp Berbayar"),
    "mafindo-api": (1, "Video Kangguru Memeluk Relawan yang Menyelamatkan Hidupnya"),
}


def constructed(name: str, base: str = "") -> str:
    return (CONSTRUCTED / name).read_text(encoding="utf-8").replace("{BASE}", base)


def komdigi_payload() -> dict[str, Any]:
    """The JSON endpoint's shape, filled with the 64 real rows of the saved sample."""
    with (KOMDIGI / "hasil_topic_modeling_komdigi.sample.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    data = [{
        "id": int(r["id"]), "slug": r["url"].rsplit("/", 1)[-1], "title": r["title"],
        "published_at": r["published_at"], "view_count": int(r["view_count"] or 0),
        "excerpt": r["title_clean"], "body_text": r["title_clean"], "body_html": "", "tags": [],
    } for r in rows]
    return {"response": {"data": data, "current_page": 1, "last_page": 1}}


def _tbh(server: LocalServer) -> dict[str, Any]:
    server.route("/articles?page=1", Reply(body=(TBH / "list_page.html").read_bytes()))
    for path in TBH.glob("[0-9]*.html"):
        article = _tbh_path(path.read_text(encoding="utf-8"))
        if article:
            server.route(article, Reply(body=path.read_bytes()))
    return {"max_pages": 1}


def _tbh_path(html: str) -> str | None:
    import re

    m = re.search(r'"url": "https://turnbackhoax\.id(/articles/[^"]+)"', html)
    return m.group(1) if m else None


def _legacy(server: LocalServer) -> dict[str, Any]:
    server.route("/feed/", Reply(body=constructed("turnbackhoax_legacy_feed.xml"), content_type=XML))
    return {}


def _cekfakta(server: LocalServer) -> dict[str, Any]:
    server.route("/feed/", Reply(body=constructed("cekfakta_feed.xml"), content_type=XML))
    server.route("/focus/9001", constructed("cekfakta_focus_9001.html"))
    server.route("/focus/9000", constructed("cekfakta_focus_9000.html"))
    return {}


def _tempo(server: LocalServer) -> dict[str, Any]:
    page = json.loads((MEEDAN / "tempo_cekfakta_raw.json").read_text(encoding="utf-8"))
    server.route("/2022/06", constructed("tempo_index.html"))
    server.route("/fakta/1752/keliru-video-kode-rahasia-untuk-menghemat-listrik-prabayar", page["page"])
    return {"start_month": "2022-06", "max_pages": 1}


def _kompas(server: LocalServer) -> dict[str, Any]:
    server.route("/cekfakta?page=1", constructed("kompas_listing.html"))
    server.route("/cekfakta/read/2024/09/12/153000182/-hoaks-foto-banjir-bandang-di-bogor-hari-ini",
                 constructed("kompas_article.html"))
    return {"max_pages": 1}


def _liputan6(server: LocalServer) -> dict[str, Any]:
    server.route("/rss/cek-fakta", Reply(body=constructed("liputan6_feed.xml"), content_type=XML))
    for name in ("liputan6_8292010.html", "liputan6_8293157.html"):
        html = (TBH / name).read_text(encoding="utf-8")
        import re

        path = re.search(r'href="https://www\.liputan6\.com(/cek-fakta/read/[^"]+)" rel="canonical"', html)
        assert path, name
        server.route(path.group(1), Reply(body=html))
    return {}


def _komdigi(server: LocalServer) -> dict[str, Any]:
    server.route("/api/v1/contents/category/berita-hoaks",
                 Reply(body=json.dumps(komdigi_payload()), content_type=JSON))
    return {}


def _menpan(server: LocalServer) -> dict[str, Any]:
    server.route("/site/berita-terkini", constructed("menpan_listing.html"))
    server.route("/site/berita-terkini/berita-daerah/hoaks-rekrutmen-cpns-2024-lewat-whatsapp",
                 constructed("menpan_article.html"))
    return {"max_pages": 1}


def _mafindo(server: LocalServer) -> dict[str, Any]:
    record = json.loads((MEEDAN / "mafindo_raw.json").read_text(encoding="utf-8"))

    def api(req):  # type: ignore[no-untyped-def]
        offset = dict(p.split("=", 1) for p in req.body.decode().split("&")).get("offset", "0")
        return Reply(body=json.dumps([record] if offset == "0" else []), content_type=JSON)

    server.route("/api/antihoax/", api)
    return {"api_key": "test-key", "item_url": server.base + "/focus/{id}"}


BUILDERS = {
    "turnbackhoax": _tbh, "turnbackhoax-legacy": _legacy, "cekfakta": _cekfakta, "tempo": _tempo,
    "kompas": _kompas, "liputan6": _liputan6, "komdigi": _komdigi, "menpan": _menpan,
    "mafindo-api": _mafindo,
}


@contextmanager
def build_sites() -> Iterator[tuple[dict[str, LocalServer], dict[str, dict[str, Any]]]]:
    """One server per built-in source, and the options that point each source at its server."""
    if not TBH.exists():
        import pytest

        pytest.skip("needs ../shared/data (saved real pages of the sources; not in the repo)")
    with ExitStack() as stack:
        servers: dict[str, LocalServer] = {}
        options: dict[str, dict[str, Any]] = {}
        for name, build in BUILDERS.items():
            server = stack.enter_context(LocalServer())
            servers[name] = server
            options[name] = {"base_url": server.base, "enabled": True, **build(server)}
        yield servers, options


def toml_config(options: dict[str, dict[str, Any]], fetch: dict[str, Any]) -> str:
    """The same settings as a sources.toml file, for the CLI."""
    lines = ["[fetch]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in fetch.items()]
    for name, opts in options.items():
        lines.append(f'\n[sources."{name}"]')
        lines += [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"
