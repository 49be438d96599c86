"""Claim extraction from forwarded messages, and check_message over an index."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from factcheck import FactChecker
from factcheck.claims import SplitOptions, extract_urls, is_noise, looks_like_message, split_message
from factcheck.models import Tier, VerifiedItem
from factcheck.text import keyword_terms
from tests.fakes import HashEmbedder

MESSAGE = """Assalamualaikum wr wb 🙏🙏

BREAKING!!!
Vaksin COVID-19 mengandung chip pelacak yg bisa dikendalikan dr jarak jauh. Sdh terbukti di luar negeri!!! https://bit.ly/abc123

Mulai 1 Juli semua pengguna WhatsApp akan dikenai biaya Rp 5.000 per bulan. Pesan ini dari Kominfo.

======
Sebarkan ke semua grup!! Jangan berhenti di kamu 🙏
#viral #info"""


def test_split_message_keeps_claims_drops_noise_and_sets_urls_aside() -> None:
    msg = split_message(MESSAGE)
    assert msg.claims == [
        "BREAKING!!! Vaksin COVID-19 mengandung chip pelacak yg bisa dikendalikan dr jarak jauh. "
        "Sdh terbukti di luar negeri!!!",
        "Mulai 1 Juli semua pengguna WhatsApp akan dikenai biaya Rp 5.000 per bulan. "
        "Pesan ini dari Kominfo.",
    ]
    assert msg.urls == ["https://bit.ly/abc123"]
    assert "Assalamualaikum wr wb 🙏🙏" in msg.dropped
    assert any("Sebarkan" in d for d in msg.dropped)
    assert "#viral #info" in msg.dropped
    assert msg.is_multi


@pytest.mark.parametrize("line", [
    "Assalamualaikum wr wb", "Selamat pagi semuanya 🙏", "SEBARKAN!!!", "Tolong di share ya",
    "Jangan berhenti di kamu", "🙏🙏🙏", "=====", "#viral #fyp", "Semoga bermanfaat",
    "Please share this with everyone", "Aamiin", "Kirimkan pesan ini ke 10 grup",
    "Kirim ke semua kontak anda",
])
def test_noise_lines(line: str) -> None:
    assert is_noise(line)


@pytest.mark.parametrize("line", [
    "Vaksin COVID-19 mengandung chip pelacak",
    "Share price of Garuda drops 90% after the minister resigns",  # 'share' inside a claim
    "Pemerintah bagikan bantuan Rp 600 ribu untuk semua warga yang punya KTP lewat link ini",
    "Kirim pesan ke BUNDA INUL DARATISTA di WhatsApp.",  # the scam itself (turnbackhoax 2024)
])
def test_claims_are_not_noise(line: str) -> None:
    assert not is_noise(line)


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    sentence = "Presiden mengumumkan kebijakan baru soal subsidi bahan bakar minyak hari ini."
    msg = split_message(" ".join([sentence] * 12), SplitOptions(max_chars=200))
    assert len(msg.claims) >= 4
    assert all(len(c) <= 200 for c in msg.claims)
    assert all(c.endswith(".") for c in msg.claims)  # never cut inside a sentence


def test_short_headline_is_carried_into_the_next_paragraph() -> None:
    msg = split_message("AWAS!!\nMinyak goreng curah mengandung plastik berbahaya bagi anak")
    assert msg.claims == ["AWAS!! Minyak goreng curah mengandung plastik berbahaya bagi anak"]


def test_urls_deduplicated_and_trailing_punctuation_removed() -> None:
    text, urls = extract_urls("lihat https://a.example/x, dan https://a.example/x. juga www.b.example")
    assert urls == ["https://a.example/x", "www.b.example"]
    assert "http" not in text


def test_max_claims_bounds_spam_walls() -> None:
    text = "\n".join(f"Klaim nomor {i} tentang banjir besar di kota {i}" for i in range(30))
    msg = split_message(text, SplitOptions(max_claims=5))
    assert len(msg.claims) == 5 and len(msg.dropped) >= 25


def test_looks_like_message() -> None:
    assert looks_like_message(MESSAGE)
    assert not looks_like_message("Vaksin COVID-19 mengandung chip pelacak")
    one_long = "Vaksin COVID-19 mengandung chip pelacak yang dikendalikan dari jauh " * 5
    assert not looks_like_message(one_long)  # long, but a single claim


def test_empty_and_noise_only_messages() -> None:
    assert split_message("").claims == []
    assert split_message("Assalamualaikum 🙏\nSebarkan!!").claims == []


ITEMS = [
    VerifiedItem(url="https://f.example/chip", title="Vaksin COVID-19 Mengandung Chip Pelacak",
                 language="id"),
    VerifiedItem(url="https://f.example/wa", title="WhatsApp Berbayar Rp 5.000 per Bulan Mulai 1 Juli",
                 language="id"),
    VerifiedItem(url="https://f.example/banjir", title="Video Banjir Bandang di Garut Tahun Ini",
                 language="id"),
]


def test_check_message_answers_each_claim_with_its_own_item() -> None:
    checker = FactChecker.in_memory(HashEmbedder())
    checker.add_items(ITEMS)
    result = checker.check_message(MESSAGE, limit=2)
    assert [r.hits[0].item.url for r in result.results] == [
        "https://f.example/chip", "https://f.example/wa",
    ]
    assert result.urls == ["https://bit.ly/abc123"]
    data = result.to_dict()
    assert set(data) == {"status", "claims", "urls", "dropped"}
    assert [c["claim"] for c in data["claims"]] == result.claims
    assert all({"query", "status", "matches", "others"} <= set(c) for c in data["claims"])
    assert result.tier in (Tier.MATCH, Tier.SUGGESTION, Tier.NONE)


def test_check_message_embeds_all_claims_in_one_batch() -> None:
    embedder = HashEmbedder()
    checker = FactChecker.in_memory(embedder)
    checker.add_items(ITEMS)
    calls = embedder.calls
    checker.check_message(MESSAGE)
    assert embedder.calls == calls + 1


def test_check_message_without_claims_checks_the_whole_text() -> None:
    checker = FactChecker.in_memory(HashEmbedder())
    checker.add_items(ITEMS)
    result = checker.check_message("Sebarkan!! 🙏")
    assert result.claims == ["Sebarkan!! 🙏"] and len(result.results) == 1


DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "turnbackhoax-2024-narasi"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"turnbackhoax data not found at {DATA}")
def test_joined_real_narratives_split_back_into_their_parts() -> None:
    """Two or three real narratives joined as paragraphs come back as claims, each narrative
    wholly inside claims of its own (retrieval of each is measured by bench/quality.py)."""
    csv.field_size_limit(sys.maxsize)
    with open(DATA / "politics_hoax_text.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if 60 <= len(r["HOAX_TEXT"]) <= 350][:60]
    for i in range(0, 60, 3):
        parts = [r["HOAX_TEXT"].strip() for r in rows[i:i + 3]]
        message = "Selamat pagi 🙏\n\n" + "\n\n".join(parts) + "\n\nhttps://x.example/1\nSebarkan!!"
        msg = split_message(message)
        assert msg.urls[-1] == "https://x.example/1"  # the narratives carry links of their own
        claim_terms = set(keyword_terms(" ".join(msg.claims), limit=10_000))
        for part in parts:
            terms = set(keyword_terms(extract_urls(part)[0], limit=10_000))
            assert len(terms & claim_terms) >= 0.9 * len(terms), part
