from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from factcheck import FactChecker, Verdict, VerifiedItem

from .fakes import HashEmbedder
from .localserver import local_server  # noqa: F401  (a fixture shared by the fetch, scraper and refresh tests)
from .netfaults import dead_port, no_dns  # noqa: F401  (fixtures of the fetch and refresh tests)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test when that folder is not beside the repo."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (third-party data, not in the repo)")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user data or cache directories."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FACTCHECK_HOME", str(home / "index"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))  # no user trusted_domains.json
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # tests never reach a model hub
    for var in ("FACTCHECK_UI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)  # the UI language is the default unless a test sets it


SAMPLE = [
    VerifiedItem(
        url="https://turnbackhoax.id/articles/1-salah-vaksin-covid-berisi-chip",
        title="Vaksin Covid-19 Berisi Chip Pelacak", source="turnbackhoax",
        publisher="TurnBackHoax (MAFINDO)", claim="Vaksin COVID-19 mengandung microchip pelacak 5G",
        verdict_raw="SALAH", verdict=Verdict.FALSE, published="2024-03-01", language="id",
    ),
    VerifiedItem(
        url="https://komdigi.go.id/berita/berita-hoaks/detail/hoaks-banjir-jakarta",
        title="Bendungan Katulampa Jebol Sebabkan Banjir Jakarta", source="komdigi",
        publisher="Komdigi", claim="Bendungan Katulampa jebol dan Jakarta banjir besar",
        verdict_raw="HOAKS", verdict=Verdict.FALSE, published="2020-01-02", language="id",
    ),
    VerifiedItem(
        url="https://cekfakta.tempo.co/fakta/2/keliru-listrik-gratis",
        title="Keliru, Pemerintah Gratiskan Listrik Prabayar Selama Setahun", source="tempo",
        publisher="Tempo Cek Fakta", claim="Pemerintah menggratiskan listrik prabayar setahun",
        verdict_raw="Keliru", verdict=Verdict.FALSE, published="2022-06-22", language="id",
    ),
    VerifiedItem(
        url="https://www.snopes.com/fact-check/5g-covid-chip",
        title="Do COVID-19 Vaccines Contain a 5G Tracking Microchip?", source="snopes",
        publisher="Snopes", claim="COVID-19 vaccines contain a microchip that tracks people via 5G",
        verdict_raw="False", verdict=Verdict.FALSE, published="2021-05-10", language="en",
    ),
    VerifiedItem(
        url="https://cekfakta.tempo.co/fakta/3/benar-bansos-tunai",
        title="Benar, Pemerintah Salurkan Bansos Tunai Rp600 Ribu", source="tempo",
        publisher="Tempo Cek Fakta", claim="Pemerintah menyalurkan bantuan sosial tunai Rp600 ribu",
        verdict_raw="Benar", verdict=Verdict.TRUE, published="2023-01-15", language="id",
    ),
]


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def checker(index_dir: Path, embedder: HashEmbedder) -> FactChecker:
    fc = FactChecker.open(index_dir, create=True, embedder=embedder)
    fc.add_items(SAMPLE)
    yield fc
    fc.close()


@pytest.fixture(autouse=True)
def _no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any httpx request to a host other than the local test servers (127.0.0.1)."""
    import httpx

    allowed = ("127.0.0.1", "localhost")
    async_original = httpx.AsyncHTTPTransport.handle_async_request
    sync_original = httpx.HTTPTransport.handle_request

    async def async_checked(self, request):  # type: ignore[no-untyped-def]
        if request.url.host not in allowed:
            raise AssertionError(f"test tried to reach the network: {request.url}")
        return await async_original(self, request)

    def sync_checked(self, request):  # type: ignore[no-untyped-def]
        if request.url.host not in allowed:
            raise AssertionError(f"test tried to reach the network: {request.url}")
        return sync_original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", async_checked)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", sync_checked)


# -- integrations (serve, source, export, bundle): items with links in text and extra --------


def integration_items() -> list[VerifiedItem]:
    return [
        VerifiedItem(
            url="https://turnbackhoax.id/articles/1-salah-vaksin-chip",
            title="Vaksin COVID-19 mengandung chip pelacak",
            publisher="TurnBackHoax (MAFINDO)", claim="Vaksin COVID-19 berisi microchip 5G.",
            verdict_raw="SALAH", verdict=Verdict.FALSE, published="2024-03-01", language="id",
            text="Klaim beredar di https://www.facebook.com/hoaxpage/posts/123?utm_source=wa . "
                 "Kemenkes melalui kemkes.go.id membantahnya.",
            extra={"claimant": "Akun Facebook", "claim_date": "2024-02-27",
                   "appearance": ["https://www.facebook.com/hoaxpage/posts/123"]},
        ),
        VerifiedItem(
            url="https://cekfakta.tempo.co/fakta/2-bantuan-kominfo-palsu",
            title="Pesan berantai bantuan kuota dari Kominfo",
            publisher="Tempo", claim="Kominfo membagikan kuota internet gratis 100 GB.",
            verdict_raw="Keliru", verdict=Verdict.FALSE, published="2023-11-20", language="id",
            text="Pesan mengarah ke situs kominfo-go-id.com yang bukan situs resmi. "
                 "Lihat rilis https://www.komdigi.go.id/berita/klarifikasi-kuota .",
            extra={"appearance": ["http://kominfo-go-id.com/kuota-gratis"]},
        ),
        VerifiedItem(
            url="https://kompas.com/cekfakta/read/2024/05/01/3-banjir-jakarta",
            title="Video banjir Jakarta adalah rekaman lama",
            publisher="Kompas", claim="Video banjir besar di Jakarta terjadi pekan ini.",
            verdict_raw="Konteks keliru", verdict=Verdict.MISLEADING, published="2024-05-01",
            language="id", text="Video itu diunggah pertama kali pada 2020.",
        ),
        VerifiedItem(
            url="https://komdigi.go.id/berita/klarifikasi-kuota",
            title="Klarifikasi: Komdigi tidak membagikan kuota gratis",
            publisher="Komdigi", claim="", verdict_raw="Hoaks", verdict=Verdict.FALSE,
            published="2023-11-18", language="id", text="Masyarakat diminta waspada.",
        ),
        VerifiedItem(
            url="https://example.org/en/moon-landing",
            title="Moon landing photos were staged", publisher="Example Checks",
            claim="NASA staged the moon landing photos.", verdict_raw="False",
            verdict=Verdict.FALSE, published="2022-07-20", language="en",
            extra={"claimant": "Viral post"},
        ),
    ]


@pytest.fixture
def sample_index(tmp_path: Path, embedder: HashEmbedder) -> Path:
    """An on-disk index of :func:`integration_items`, closed so tests can reopen it."""
    directory = tmp_path / "sample-index"
    with FactChecker.open(directory, create=True, embedder=embedder) as fc:
        fc.add_items(integration_items())
    return directory


@pytest.fixture
def sample_checker(sample_index: Path, embedder: HashEmbedder) -> Iterator[FactChecker]:
    with FactChecker.open(sample_index, embedder=embedder) as fc:
        yield fc
