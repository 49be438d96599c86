"""Shared fixtures: a small on-disk index built with the hashing embedder (no real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck import FactChecker, Verdict, VerifiedItem
from tests.fakes import HashEmbedder


def sample_items() -> list[VerifiedItem]:
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
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def index_dir(tmp_path: Path, embedder: HashEmbedder) -> Path:
    directory = tmp_path / "index"
    with FactChecker.open(directory, create=True, embedder=embedder) as checker:
        checker.add_items(sample_items())
    return directory


@pytest.fixture
def checker(index_dir: Path, embedder: HashEmbedder):
    with FactChecker.open(index_dir, embedder=embedder) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's own config (trusted_domains.json) and index out of every test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("FACTCHECK_HOME", str(tmp_path / "no-index"))
