from __future__ import annotations

from pathlib import Path

import pytest

from factcheck import FactChecker, Verdict, VerifiedItem

from .fakes import HashEmbedder

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
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # tests never reach a model hub


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
