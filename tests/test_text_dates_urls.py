from __future__ import annotations

import pytest

from factcheck.dates import parse_date
from factcheck.models import Verdict
from factcheck.text import detect_language, keyword_terms, strip_noise, tokens
from factcheck.urls import canonical_url, is_http_url, published_url
from factcheck.verdicts import from_rating, label_from_title, normalise, strip_label


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2 Jan 2024", "2024-01-02"),
        ("17 Agustus 2023", "2023-08-17"),
        ("Senin, 3 Oktober 2022 14:05 WIB", "2022-10-03"),
        ("2024-09-17T10:00:00+07:00", "2024-09-17"),
        ("05/04/2021", "2021-04-05"),
        (1620518400, "2021-05-09"),
        ("bukan tanggal", None),
        ("", None),
    ],
)
def test_parse_date(raw: object, expected: str | None) -> None:
    assert parse_date(raw) == expected


def test_canonical_url_merges_equivalent_links() -> None:
    a = canonical_url("https://WWW.Kompas.com/cekfakta/read/2024/01/02/x/?utm_source=wa&page=2#top")
    b = canonical_url("https://kompas.com/cekfakta/read/2024/01/02/x?page=2")
    assert a == b == "https://kompas.com/cekfakta/read/2024/01/02/x?page=2"
    assert canonical_url("http://example.org:80/") == "http://example.org/"
    assert is_http_url("https://a.id/x") and not is_http_url("ftp://a.id") and not is_http_url("x")


def test_informal_indonesian_is_normalised() -> None:
    assert tokens("Vaksin gak aman bangettt yg dgn chip 😱") == [
        "vaksin", "tidak", "aman", "banget", "yang", "dengan", "chip",
    ]
    terms = keyword_terms("SEBARKAN!! https://bit.ly/x @admin #VaksinChip yg bahaya")
    assert "https" not in terms and "admin" not in terms and "yang" not in terms
    assert "vaksinchip" in terms and "bahaya" in terms


def test_tweet_tail_is_removed() -> None:
    text = "Masks do nothing pic.twitter.com/abc — Some One (@someone) January 14, 2020"
    assert "someone" not in strip_noise(text).lower()


def test_language_detection() -> None:
    assert detect_language("Pemerintah akan menutup jalan tol ini karena banjir") == "id"
    assert detect_language("The government is closing this road because of the flood") == "en"
    assert detect_language("ok") is None


@pytest.mark.parametrize(
    ("raw", "verdict"),
    [
        ("[SALAH]", Verdict.FALSE), ("HOAKS", Verdict.FALSE), ("Keliru", Verdict.FALSE),
        ("Menyesatkan", Verdict.MISLEADING), ("Sebagian Benar", Verdict.MIXED),
        ("Benar", Verdict.TRUE), ("[SATIR]", Verdict.SATIRE), ("Tidak Terbukti", Verdict.UNPROVEN),
        ("Mostly False", Verdict.MISLEADING), ("something odd", Verdict.UNKNOWN), ("", Verdict.UNKNOWN),
    ],
)
def test_verdict_normalisation(raw: str, verdict: Verdict) -> None:
    assert normalise(raw) is verdict


def test_title_labels_and_ratings() -> None:
    assert label_from_title("[HOAKS] Vaksin MMR Sebabkan Autisme") == "HOAKS"
    assert label_from_title("{DISINFORMASI} Foo bar") == "DISINFORMASI"
    assert strip_label("[SALAH] Ojol Dilarang Beli Pertalite") == "Ojol Dilarang Beli Pertalite"
    assert label_from_title("Tanpa label") is None
    assert from_rating(1, 5, 1) is Verdict.FALSE
    assert from_rating(5, 5, 1) is Verdict.TRUE
    assert from_rating(3, 5, 1) is Verdict.MIXED
    assert from_rating(9, 5, 1) is Verdict.UNKNOWN


def test_relative_and_zoned_dates() -> None:
    assert parse_date("4 jam lalu") is None
    assert parse_date("Rabu, 22 Juni 2022 11:16 WIB") == "2022-06-22"
    assert parse_date("2022-06-22T11:16:00+07:00") == "2022-06-22"


def test_published_url_keeps_the_publishers_spelling() -> None:
    link = " https://WWW.Komdigi.go.id:443/berita/detail/hoaks-x/?utm_source=wa&id=%207&fbclid=z#top "
    shown = published_url(link)
    assert shown == "https://www.komdigi.go.id/berita/detail/hoaks-x/?id=%207"
    assert canonical_url(shown) == canonical_url(link)
    # an AMP view is not the article; the trailing-slash convention of the link is kept
    assert published_url("https://www.kompas.com/cekfakta/read/x/amp/") == (
        "https://www.kompas.com/cekfakta/read/x/")
    assert published_url("https://www.kompas.com/cekfakta/read/x/amp?amp=1") == (
        "https://www.kompas.com/cekfakta/read/x")
    assert published_url("http://127.0.0.1:8123/a/") == "http://127.0.0.1:8123/a/"
    assert published_url("https://a.id") == "https://a.id/"
    assert published_url(" ftp://a.id/x#y ") == "ftp://a.id/x#y"  # left for the caller to refuse
