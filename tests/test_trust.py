from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, InvalidInput
from factcheck.errors import UnsafeURL
from factcheck.trust import (
    check_source, load_trust_list, public_http_url, registrable_domain,
)


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


@pytest.mark.parametrize("url,imitates,why", [
    # an official name spelled out with hyphens inside another registrable domain
    ("https://bkn-go-id.com/seleksi-cpns", "bkn.go.id",
     "spells out bkn.go.id inside bkn-go-id.com"),
    # go.id in the name, but the registrable domain (public suffix list) is id.info
    ("http://pemkot-bandung.go.id.info/bansos", "pemkot-bandung.go.id",
     "go.id appears in the name, but the registered domain is id.info"),
    # an official name as one word of an unrelated domain
    ("https://kuota-gratis-kominfo.xyz/daftar", "kominfo.go.id",
     "name 'kominfo' of kominfo.go.id inside the unrelated domain kuota-gratis-kominfo.xyz"),
    # a fact-checker's name under another ending
    ("https://turnbackhoax.co/artikel/1", "turnbackhoax.id", "(.co instead of .id)"),
    ("https://www.komdigi.blogspot.com/", "komdigi.go.id", "(.blogspot.com instead of .go.id)"),
    ("http://kominfogoid.com/", "kominfo.go.id", "spells out kominfo.go.id"),
    ("https://kompas.com.example.net/x", "kompas.com", "spells out kompas.com inside example.net"),
    ("https://go.id.evil.com/x", "go.id", "not under go.id"),
    ("https://info-bmkg.xyz/gempa", "bmkg.go.id", "name 'bmkg'"),
])
def test_lookalikes_by_registrable_domain(url: str, imitates: str, why: str) -> None:
    report = check_source(url)
    assert report.kind is None and not report.official
    assert report.lookalike_of == imitates
    assert report.lookalike_reason and why in report.lookalike_reason
    summary = report.summary()
    assert f"Warning: it imitates {imitates} but is not that domain: " in summary
    assert why in summary
    data = report.to_dict()
    assert (data["lookalike_of"], data["lookalike_reason"]) == (imitates, report.lookalike_reason)


@pytest.mark.parametrize("url,kind", [
    ("https://x.go.id/", "government"),
    ("https://bandung.go.id/berita", "government"),
    ("https://www.komdigi.go.id/berita/1", "government"),
    ("https://www.kompas.com/read/1", "news"),
    ("https://tempo.co/read/1", "news"),
    ("https://www.liputan6.com/cek-fakta/1", "news"),
    ("https://kompas.tv/nasional/1", "news"),
    # names that merely share letters or a common word with a known one
    ("https://bigo.id/", None),            # the letters of bi.go.id, not its words
    ("https://kompasiana.com/", None),
    ("https://toko-kompas.com/", None),    # kompas is a word; the .com is this shop's own
    ("https://pom-bensin.com/", None),     # pom.go.id: too short a name to claim
    ("https://suaramerdeka.com/", None),
    ("https://tempo-doeloe.com/", None),
    ("https://detik.net/", None),
    ("https://factcheck.org/", None),      # factcheck.afp.com lends no name: a generic word
    ("https://indonesia.travel/", None),   # indonesia.go.id: too generic a name
    ("https://tempo.co.uk/", None),
    ("https://berita-gratis.info/", None),
    ("https://a.blogspot.com/2024/hoaks.html", None),
])
def test_no_false_lookalikes(url: str, kind: str | None) -> None:
    report = check_source(url)
    assert report.kind == kind
    assert report.lookalike_of is None and report.lookalike_reason is None
    assert "Warning" not in report.summary()


def test_registrable_domain_from_public_suffix_list() -> None:
    # private suffixes count: two blogs on blogspot.com are two publishers
    a, b = check_source("https://a.blogspot.com/x"), check_source("https://b.blogspot.com/x")
    assert (a.domain, b.domain) == ("a.blogspot.com", "b.blogspot.com")
    assert registrable_domain("user.github.io") == "user.github.io"
    assert registrable_domain("dinkes.jatimprov.go.id") == "jatimprov.go.id"
    assert registrable_domain("www.republika.co.id") == "republika.co.id"
    assert registrable_domain("pemkot-bandung.go.id.info") == "id.info"
    assert registrable_domain("a.b.example.unknowntld") == "example.unknowntld"
    assert registrable_domain("blogspot.com") == "blogspot.com"  # a bare public suffix
    assert registrable_domain("8.8.8.8") == "8.8.8.8"
    # a user's own trusted suffix is public too
    assert registrable_domain("dinas.pemda.example.org", ["pemda.example.org"]) == (
        "dinas.pemda.example.org")
    report = check_source("https://x.go.id/")
    assert (report.official, report.domain, report.rule) == (True, "x.go.id", "*.go.id")


def test_public_suffix_list_is_read_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from factcheck import trust

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list must not be fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    trust._public_suffixes.cache_clear()
    try:
        assert registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
        assert check_source("https://turnbackhoax.co/").lookalike_of == "turnbackhoax.id"
    finally:
        trust._public_suffixes.cache_clear()


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
    assert result.exit_code == 0 and "adalah domain resmi pemerintah" in result.stdout
    assert "Menyebut kemkes.go.id (1):" in result.stdout
    result = runner.invoke(cli, ["--index", str(sample_index), "--ui-lang", "en", "source",
                                 "https://kemkes.go.id/a"])
    assert result.exit_code == 0 and "official government domain" in result.stdout
    result = runner.invoke(cli, ["--index", str(sample_index), "source", "http://127.0.0.1/"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: refusing") and "Traceback" not in result.output


def test_cli_source_without_index(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "none"), "source",
                                      "https://turnbackhoax.id/articles/1"])
    assert result.exit_code == 0
    assert "pemeriksa fakta yang diakui" in result.stdout
    assert "tidak ada indeks" in result.stderr.lower()


# -- links read as a browser reads them (issue 15, item 1) ---------------------------------


@pytest.mark.parametrize("url,host,code", [
    ("https://evil.com\\@komdigi.go.id/", "evil.com", "backslash"),
    ("https://evil.com\\.@turnbackhoax.id/", "evil.com", "backslash"),
    ("https://komdigi.go.id\\@evil.com/", "komdigi.go.id", "backslash"),  # Python says evil.com
    ("https:\\\\evil.com\\komdigi.go.id", "evil.com", "backslash"),
    ("https://komdigi.go.id@evil.com/", "evil.com", "userinfo"),
    ("https://komdigi.go.id:x@evil.com/", "evil.com", "userinfo"),
    ("https://user@komdigi.go.id/", "komdigi.go.id", "userinfo"),
    ("https://%6b%6fmdigi.go.id/", "komdigi.go.id", "encoded_host"),
    ("https://k\u043emdigi.go.id/", "xn--kmdigi-wqf.go.id", "mixed_script"),
    ("https:komdigi.go.id/berita", "komdigi.go.id", "parsers_disagree"),
    ("http://0x08080808/", "8.8.8.8", "parsers_disagree"),
])
def test_ambiguous_links_are_suspicious_never_official(url: str, host: str, code: str) -> None:
    report = check_source(url)
    assert report.host == host  # the host a browser (WHATWG URL) opens
    assert report.suspicious and not report.official and not report.recognised
    assert report.kind is None
    assert [a.code for a in report.ambiguities][:1] == [code]
    summary = report.summary("en")
    assert summary.startswith("Suspicious link: ") and f"A browser would open {host}" in summary
    assert "official government domain" not in summary and "recognised fact" not in summary
    assert report.summary("id").startswith("Tautan mencurigakan: ")
    data = report.to_dict("en")
    assert data["suspicious"] is True and data["official"] is False
    assert data["suspicious_reasons"][0]["code"] == code


def test_suspicious_reasons_are_plain() -> None:
    summary = check_source("https://evil.com\\@komdigi.go.id/").summary("en")
    assert "backslash (\\), which browsers read as a slash" in summary
    summary = check_source("https://komdigi.go.id@evil.com/").summary("en")
    assert "puts “komdigi.go.id@” in front of the host name" in summary
    assert "seem to lead to komdigi.go.id. A browser would open evil.com" in summary
    summary = check_source("https://k\u043emdigi.go.id/").summary("en")
    assert "mixes letters of different scripts (Cyrillic, Latin)" in summary
    summary = check_source("https:komdigi.go.id/").summary("id")
    assert "program lain: tanpa host" in summary


@pytest.mark.parametrize("url,kind", [
    ("https://www.komdigi.go.id/berita/1", "government"),
    ("komdigi.go.id/berita", "government"),
    ("https://KOMDIGI.go.id./a", "government"),
    ("https://\uff4b\uff4f\uff4d\uff44\uff49\uff47\uff49.go.id/", "government"),  # full-width
    ("https://komdigi.go.id/a\\b", "government"),  # a backslash in the path moves no host
    ("https://komdigi.go.id/x?next=https://evil.com\\@a", "government"),
    ("https://turnbackhoax.id/articles/1#@evil.com", "factchecker"),
    ("https://\u65e5\u672c\u8a9e.jp/", None),  # one script per label is fine
    ("https://xn--80ak6aa92e.com/", None),
])
def test_plain_links_are_not_suspicious(url: str, kind: str | None) -> None:
    report = check_source(url)
    assert not report.suspicious and report.kind == kind
    assert report.official is (kind == "government")


def test_public_http_url_uses_the_browser_host() -> None:
    target = public_http_url("https://evil.com\\@komdigi.go.id/path?q=1")
    assert (target.host, target.href) == ("evil.com", "https://evil.com/@komdigi.go.id/path?q=1")
    assert target.canonical.startswith("https://evil.com/")
    assert public_http_url("https://k\u043emdigi.go.id/").canonical == (
        "https://xn--kmdigi-wqf.go.id/")
    with pytest.raises(UnsafeURL):  # urlsplit reads evil.com; a browser opens 127.0.0.1
        public_http_url("https://127.0.0.1\\@evil.com/")
    with pytest.raises(UnsafeURL):
        public_http_url("http://komdigi.go.id@169.254.169.254/")


def test_cli_and_http_source_say_suspicious(sample_checker: FactChecker) -> None:
    url = "https://evil.com\\@komdigi.go.id/"
    result = CliRunner().invoke(cli, ["source", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Tautan mencurigakan:") and "resmi pemerintah" not in \
        result.stdout
    import threading

    import httpx

    from factcheck.server import make_server

    server = make_server(sample_checker, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
            data = client.get("/source", params={"url": url, "ui_lang": "en"}).json()
    finally:
        server.shutdown()
        server.server_close()
    assert (data["host"], data["official"], data["suspicious"]) == ("evil.com", False, True)
    assert data["summary"].startswith("Suspicious link:")


# -- look-alike letters (TR39 skeletons, issue 15, item 3) ---------------------------------


@pytest.mark.parametrize("url,imitates,letters", [
    ("https://turnbackh\u043eax.id/", "turnbackhoax.id", "Cyrillic 'о' for 'o'"),
    ("https://k\u043emdigi.go.id/", "komdigi.go.id", "Cyrillic 'о' for 'o'"),
    ("https://www.k\u043emdigi.go.id/berita", "komdigi.go.id", "Cyrillic 'о' for 'o'"),
    ("https://cekfakt\u0430.com/", "cekfakta.com", "Cyrillic 'а' for 'a'"),
    ("https://kemk\u0435s.go.id/", "kemkes.go.id", "Cyrillic 'е' for 'e'"),
    ("https://\u03bfkezone.com/", "okezone.com", "Greek 'ο' for 'o'"),
    ("https://kominf\u043e-go-id.com/", "kominfo.go.id", "Cyrillic 'о' for 'o'"),
    ("https://dinas.g\u043e.id/", "dinas.go.id", "Cyrillic 'о' for 'o'"),
])
def test_homoglyph_lookalikes(url: str, imitates: str, letters: str) -> None:
    report = check_source(url)
    assert report.lookalike_of == imitates and not report.official and report.kind is None
    assert letters in (report.lookalike_reason or "")
    assert f"Warning: it imitates {imitates} but is not that domain" in report.summary()
    assert f"meniru {imitates}" in report.summary("id")


def test_ascii_confusables_of_tr39() -> None:
    report = check_source("https://kornpas.com/")  # rn for m
    assert report.lookalike_of == "kompas.com"
    assert "once look-alike letters are folded" in (report.lookalike_reason or "")
    # a real name under a trusted suffix was vetted by its registry: no ASCII folding there
    assert check_source("https://brnkg.go.id/").official


def test_no_known_domains_share_a_skeleton() -> None:
    from factcheck.trust import skeleton

    trust = load_trust_list()
    names = [*trust.domains, *trust.suffixes]
    assert len({skeleton(n) for n in names}) == len(names)
    for name in trust.domains:
        assert trust.homoglyph(name) is None and trust.homoglyph("www." + name) is None


def test_skeletons_follow_tr39() -> None:
    from factcheck.trust import host_to_unicode, mixed_scripts, skeleton

    assert skeleton("k\u043emdigi") == skeleton("komdigi")
    assert skeleton("paypa\u04cf") == skeleton("paypal")  # Cyrillic palochka for l
    assert skeleton("\u00f6") != skeleton("o")  # accents are kept, as in TR39
    assert host_to_unicode("xn--kmdigi-wqf.go.id") == "k\u043emdigi.go.id"
    assert mixed_scripts("xn--kmdigi-wqf.go.id") == ["Cyrillic", "Latin"]
    assert mixed_scripts("komdigi.go.id") == []
