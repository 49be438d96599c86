from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, InvalidInput
from factcheck.errors import UnsafeURL
from factcheck.trust import check_source, load_trust_list, public_http_url


@pytest.mark.parametrize("url", [
    "ftp://kompas.com/x", "javascript:alert(1)", "file:///etc/passwd", "mailto:a@kompas.com",
    "http://localhost:8000/", "http://127.0.0.1/", "http://127.1/", "http://2130706433/",
    "http://0x7f000001/", "http://10.1.2.3/", "http://192.168.0.1/", "http://169.254.169.254/",
    "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://printer.local/", "http://intranet/", "http://app.localhost/", "localhost:8080/x",
])
def test_refuses_unsafe_urls(url: str) -> None:
    with pytest.raises(UnsafeURL):
        public_http_url(url)


@pytest.mark.parametrize("url", ["", "http://", "http://exa mple.com/", "http://a.com:99999/"])
def test_rejects_unreadable_urls(url: str) -> None:
    with pytest.raises(InvalidInput):
        public_http_url(url)


def test_accepts_bare_domains_and_public_ips() -> None:
    assert public_http_url("www.kompas.com/read/1").host == "kompas.com"
    assert public_http_url("https://8.8.8.8/x").host == "8.8.8.8"
    assert public_http_url("https://KOMINFO.go.id./a").host == "kominfo.go.id"


@pytest.mark.parametrize("url,kind,domain", [
    ("https://www.komdigi.go.id/berita/1", "government", "komdigi.go.id"),
    ("https://dinkes.jatimprov.go.id/a", "government", "jatimprov.go.id"),
    ("https://cekfakta.tempo.co/fakta/1", "factchecker", "cekfakta.tempo.co"),
    ("https://nasional.tempo.co/read/1", "news", "tempo.co"),
    ("https://turnbackhoax.id/articles/1", "factchecker", "turnbackhoax.id"),
    ("https://kompas.com.example.net/x", None, "example.net"),
    ("https://go.id.evil.com/x", None, "evil.com"),
])
def test_domain_classification(url: str, kind: str | None, domain: str) -> None:
    report = check_source(url)
    assert report.kind == kind
    assert report.domain == domain
    assert report.official is (kind == "government")
    assert not report.searched_index


def test_lookalike_warning() -> None:
    report = check_source("http://kominfo-go-id.com/kuota-gratis")
    assert report.kind is None
    assert report.lookalike_of == "kominfo.go.id"
    assert "imitates kominfo.go.id" in report.summary()


def test_quoted_as_appearance_with_tracking_and_www(sample_checker: FactChecker) -> None:
    report = check_source("https://m.facebook.com/hoaxpage/posts/123", sample_checker)
    assert report.quoted_in == []  # another host is another link
    report = check_source("http://facebook.com/hoaxpage/posts/123?fbclid=x", sample_checker)
    assert [r.relation for r in report.quoted_in] == ["appearance"]
    assert report.debunked
    assert report.quoted_in[0].item.url.startswith("https://turnbackhoax.id/")


def test_quoted_in_text_and_indexed_itself(sample_checker: FactChecker) -> None:
    report = check_source("https://www.komdigi.go.id/berita/klarifikasi-kuota", sample_checker)
    assert report.official and report.indexed is not None
    assert [(r.relation, r.item.publisher) for r in report.quoted_in] == [("text", "Tempo")]
    assert report.domain_items == 1
    data = report.to_dict()
    assert data["indexed_item"]["publisher"] == "Komdigi"
    assert json.dumps(data)


def test_domain_statistics_and_mentions(sample_checker: FactChecker) -> None:
    report = check_source("https://www.kemkes.go.id/", sample_checker)
    assert report.domain == "kemkes.go.id" and report.domain_items == 0
    assert report.mentions == 1
    assert report.mention_examples[0].item.publisher.startswith("TurnBackHoax")
    assert not report.link_searched
    report = check_source("https://kompas.com/", sample_checker)
    assert report.domain_items == 1 and report.domain_examples[0].item.publisher == "Kompas"
    # a domain that merely contains another as a substring is not a mention
    assert check_source("https://go-id.com/", sample_checker).mentions == 0


def test_user_file_overrides_and_extends(tmp_path: Path, sample_index: Path) -> None:
    (sample_index / "trusted_domains.json").write_text(json.dumps({
        "domains": {"kompas.com": None, "hoaxwatch.example.org": {"kind": "factchecker",
                                                                  "name": "Hoax Watch"}},
    }))
    with FactChecker.open(sample_index, embedder=_fake()) as checker:
        assert check_source("https://kompas.com/x", checker).kind is None
        report = check_source("https://hoaxwatch.example.org/a", checker)
        assert (report.kind, report.name) == ("factchecker", "Hoax Watch")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"domains": {"x.com": {"kind": "friend"}}}))
    with pytest.raises(InvalidInput, match="needs a kind"):
        load_trust_list(bad)


def _fake():
    from tests.fakes import HashEmbedder

    return HashEmbedder()


def test_cli_source(sample_index: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--index", str(sample_index), "source", "--json",
                                 "https://facebook.com/hoaxpage/posts/123"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["debunked"] and data["quoted_in"][0]["relation"] == "appearance"
    result = runner.invoke(cli, ["--index", str(sample_index), "source", "https://kemkes.go.id/a"])
    assert result.exit_code == 0 and "official government domain" in result.stdout
    result = runner.invoke(cli, ["--index", str(sample_index), "source", "http://127.0.0.1/"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: refusing") and "Traceback" not in result.output


def test_cli_source_without_index(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "none"), "source",
                                      "https://turnbackhoax.id/articles/1"])
    assert result.exit_code == 0
    assert "recognised fact-checker" in result.stdout
    assert "no index" in result.stderr.lower()
