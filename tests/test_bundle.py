from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck import FactChecker, FetchError, InvalidInput, ModelMismatch, VerifiedItem
from factcheck.bundle import create_bundle, install_bundle, read_manifest
from factcheck.errors import BundleCorrupt, BundleInvalid, UnsafeURL
from tests.fakes import HashEmbedder
from tests.localserver import Reply


def OtherEmbedder() -> HashEmbedder:  # noqa: N802 - reads like the class it stands for
    return HashEmbedder(dim=32, model_id="test-other")


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".install-" in p.name or ".old-" in p.name)


def test_create_and_install_round_trip(sample_index: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "out" / "index.tar.gz"
    info = create_bundle(sample_index, bundle)
    assert (info.model, info.dim, info.items, info.vectors) == ("test-hash", 64, 5, 5)
    assert set(info.files) == {"items.db", "vectors.faiss"}
    assert read_manifest(bundle).files == info.files
    target = tmp_path / "lookup" / "index"
    report = install_bundle(bundle, target)
    assert (report.items, report.model, report.replaced) == (5, "test-hash", False)
    assert _leftovers(target.parent) == []
    with FactChecker.open(target, embedder=HashEmbedder()) as copy:
        assert copy.repaired is None  # the vector index arrived consistent with the store
        hit = copy.check("kuota internet gratis Kominfo").best
        assert hit is not None and "kominfo" in hit.item.url
        assert copy.stats()["items"] == 5


def test_bundle_of_a_live_wal_database(tmp_path: Path) -> None:
    directory = tmp_path / "live"
    writer = FactChecker.open(directory, create=True, embedder=HashEmbedder())
    try:
        writer.add_items([
            VerifiedItem(url=f"https://turnbackhoax.id/articles/{n}", title=f"Hoaks nomor {n}")
            for n in range(30)
        ])
        assert (directory / "items.db-wal").exists()  # writes still sit in the WAL
        info = create_bundle(directory, tmp_path / "live.tar.gz")
    finally:
        writer.close()
    assert info.items == 30 and info.vectors == 30
    install_bundle(tmp_path / "live.tar.gz", tmp_path / "copy")
    with FactChecker.open(tmp_path / "copy", embedder=HashEmbedder()) as copy:
        assert copy.store.count() == 30 and len(copy.index) == 30


def _rewrite(bundle: Path, dest: Path, change: dict[str, bytes | None]) -> Path:
    """Copy a bundle, replacing (or with None dropping) some members."""
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(dest, "w:gz") as out:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                if change[member.name] is None:
                    continue
                data = change[member.name]  # type: ignore[assignment]
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        for name, data in change.items():
            if data is not None and name not in src.getnames():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                out.addfile(info, io.BytesIO(data))
    return dest


def test_bad_checksum_leaves_existing_index_untouched(sample_index: Path, tmp_path: Path) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    with tarfile.open(bundle.path, "r:gz") as tar:
        db = bytearray(tar.extractfile("items.db").read())  # type: ignore[union-attr]
    db[-10] ^= 0xFF
    bad = _rewrite(Path(bundle.path), tmp_path / "bad.tar.gz", {"items.db": bytes(db)})
    target = tmp_path / "existing"
    install_bundle(bundle.path, target)
    before = (target / "items.db").read_bytes()
    with pytest.raises(BundleCorrupt, match="checksum mismatch for items.db"):
        install_bundle(bad, target)
    assert (target / "items.db").read_bytes() == before
    assert _leftovers(tmp_path) == []
    with pytest.raises(BundleCorrupt):
        install_bundle(bad, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("change,message", [
    ({"manifest.json": None}, "no manifest.json"),
    ({"../evil": b"x"}, "unexpected member"),
    ({"manifest.json": b"{not json"}, "bad bundle manifest"),
    ({"vectors.faiss": None}, "manifest lists"),
])
def test_refuses_malformed_bundles(sample_index: Path, tmp_path: Path, change, message) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    bad = _rewrite(Path(bundle.path), tmp_path / "bad.tar.gz", change)
    with pytest.raises(BundleInvalid, match=message):
        install_bundle(bad, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_not_a_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"hello world" * 10)
    with pytest.raises(BundleInvalid):
        install_bundle(junk, tmp_path / "target")
    with pytest.raises(InvalidInput, match="no bundle file"):
        install_bundle(tmp_path / "missing.tar.gz", tmp_path / "target")


def test_wrong_model_refused_unless_replace(sample_index: Path, tmp_path: Path) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    other = tmp_path / "other"
    with FactChecker.open(other, create=True, embedder=OtherEmbedder()) as checker:
        checker.add_items([VerifiedItem(url="https://x.example/1", title="Satu dua tiga")])
    (other / "trusted_domains.json").write_text('{"domains": {}}')
    with pytest.raises(ModelMismatch, match="--replace"):
        install_bundle(bundle.path, other)
    with FactChecker.open(other, embedder=OtherEmbedder()) as checker:
        assert checker.store.count() == 1
    report = install_bundle(bundle.path, other, replace=True)
    assert report.replaced and report.previous_model == "test-other"
    assert (other / "trusted_domains.json").read_text() == '{"domains": {}}'  # local config kept
    with FactChecker.open(other, embedder=HashEmbedder()) as checker:
        assert checker.store.count() == 5


def test_refuses_to_replace_a_foreign_directory(sample_index: Path, tmp_path: Path) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    home = tmp_path / "documents"
    home.mkdir()
    (home / "thesis.docx").write_text("precious")
    with pytest.raises(InvalidInput, match="not a factcheck index"):
        install_bundle(bundle.path, home, replace=True)
    assert (home / "thesis.docx").read_text() == "precious"


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_install_from_url(sample_index: Path, tmp_path: Path, file_server) -> None:
    base, root = file_server
    create_bundle(sample_index, root / "index.tar.gz")
    report = install_bundle(f"{base}/index.tar.gz", tmp_path / "target", allow_loopback=True)
    assert report.items == 5 and report.source.endswith("/index.tar.gz")
    with pytest.raises(FetchError, match="limit"):
        install_bundle(f"{base}/index.tar.gz", tmp_path / "t2", max_download=1000,
                       allow_loopback=True)
    with pytest.raises(FetchError, match="HTTP 404"):
        install_bundle(f"{base}/missing.tar.gz", tmp_path / "t2", allow_loopback=True)
    with pytest.raises(UnsafeURL):
        install_bundle("ftp://127.0.0.1/index.tar.gz", tmp_path / "t2")
    assert not (tmp_path / "t2").exists()
    assert _leftovers(tmp_path) == []


def _forge(bundle: Path, dest: Path, members: dict[str, bytes],
           declared: dict[str, int] | None = None) -> Path:
    """A bundle whose manifest lists ``members`` (their real checksums), with sizes as
    ``declared`` says where it says anything."""
    with tarfile.open(bundle, "r:gz") as src:
        manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
        data = {m.name: src.extractfile(m).read()  # type: ignore[union-attr]
                for m in src if m.name != "manifest.json"}
    data.update(members)
    for name, body in data.items():
        manifest["files"][name] = {"sha256": hashlib.sha256(body).hexdigest(),
                                   "size": (declared or {}).get(name, len(body))}
    with tarfile.open(dest, "w:gz") as out:
        for name, body in [("manifest.json", json.dumps(manifest).encode()), *data.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    return dest


def test_a_member_larger_than_declared_is_stopped(sample_index: Path, tmp_path: Path) -> None:
    bundle = Path(create_bundle(sample_index, tmp_path / "b.tar.gz").path)
    with tarfile.open(bundle, "r:gz") as tar:
        db = tar.extractfile("items.db").read()  # type: ignore[union-attr]
    lying = _forge(bundle, tmp_path / "lying.tar.gz", {"items.db": db}, {"items.db": 4096})
    with pytest.raises(BundleCorrupt, match="manifest declares 4096"):
        install_bundle(lying, tmp_path / "target")
    assert not (tmp_path / "target").exists() and _leftovers(tmp_path) == []


def test_a_copy_stops_at_the_declared_size(tmp_path: Path) -> None:
    """Even a reader that yields more than the tar header said is cut off at the limit."""
    from factcheck.bundle import _copy

    with pytest.raises(BundleCorrupt, match="larger than the 10 bytes"):
        _copy(io.BytesIO(b"x" * 10_000_000), tmp_path / "items.db", 10, "b.tar.gz")
    assert (tmp_path / "items.db").stat().st_size <= 10


def test_a_bomb_is_refused_before_anything_is_written(sample_index: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """32 MiB of zeros pack into a few KiB: the manifest is honest, the ratio is not."""
    from factcheck import bundle as bundle_module

    bundle = Path(create_bundle(sample_index, tmp_path / "b.tar.gz").path)
    bomb = _forge(bundle, tmp_path / "bomb.tar.gz", {"items.db": bytes(32 * 1024 * 1024)})
    assert bomb.stat().st_size < 200_000
    written: list[str] = []
    real_copy = bundle_module._copy
    monkeypatch.setattr(bundle_module, "_copy",
                        lambda fh, dest, *a: written.append(dest.name) or real_copy(fh, dest, *a))
    with pytest.raises(BundleInvalid, match="more than 100 times its size"):
        install_bundle(bomb, tmp_path / "target")
    assert written == [] and not (tmp_path / "target").exists()


def test_unpacking_must_fit_the_free_space(sample_index: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from factcheck import bundle as bundle_module

    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    real = shutil.disk_usage
    monkeypatch.setattr(bundle_module.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=1024 * 1024))
    with pytest.raises(BundleInvalid, match="bytes are free beside the index"):
        install_bundle(bundle.path, tmp_path / "target")
    assert not (tmp_path / "target").exists() and _leftovers(tmp_path) == []


def test_the_manifest_must_come_first(sample_index: Path, tmp_path: Path) -> None:
    bundle = Path(create_bundle(sample_index, tmp_path / "b.tar.gz").path)
    with tarfile.open(bundle, "r:gz") as src:
        members = [(m.name, src.extractfile(m).read()) for m in src]  # type: ignore[union-attr]
    late = tmp_path / "late.tar.gz"
    with tarfile.open(late, "w:gz") as out:
        for name, body in members[1:] + members[:1]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    with pytest.raises(BundleInvalid, match="no manifest.json at its start"):
        install_bundle(late, tmp_path / "target")


def test_pinned_checksum(sample_index: Path, tmp_path: Path) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    digest = hashlib.sha256(Path(bundle.path).read_bytes()).hexdigest()
    assert bundle.archive_sha256 == digest == read_manifest(bundle.path).archive_sha256
    assert "archive_sha256" not in json.dumps(_manifest(Path(bundle.path)))
    with pytest.raises(BundleCorrupt, match=f"not the pinned {'0' * 64}"):
        install_bundle(bundle.path, tmp_path / "target", sha256="0" * 64)
    assert not (tmp_path / "target").exists()
    with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
        install_bundle(bundle.path, tmp_path / "target", sha256="abc")
    report = install_bundle(bundle.path, tmp_path / "target", sha256=digest.upper())
    assert report.sha256 == digest


def _manifest(bundle: Path) -> dict:
    with tarfile.open(bundle, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


def test_no_install_lock_is_left_behind(sample_index: Path, tmp_path: Path) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    target = tmp_path / "lookup" / "index"
    install_bundle(bundle.path, target)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a bundle")
    with pytest.raises(BundleInvalid):
        install_bundle(junk, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["index"]


def test_install_lock_serialises_installs(tmp_path: Path) -> None:
    """A waiter whose lock file was deleted by the holder locks the new file, not the old."""
    from factcheck.bundle import _install_lock

    path = tmp_path / ".index.install.lock"
    order: list[str] = []
    entered = threading.Event()

    def second() -> None:
        entered.wait(5)
        with _install_lock(path):
            order.append("second in")
            time.sleep(0.05)
            order.append("second out")

    thread = threading.Thread(target=second)
    thread.start()
    with _install_lock(path):
        entered.set()
        time.sleep(0.2)
        order.append("first out")
    thread.join(5)
    with _install_lock(path):
        order.append("third")
    assert order == ["first out", "second in", "second out", "third"]
    assert not path.exists()


def test_a_url_needs_allow_loopback_for_this_machine(sample_index: Path, tmp_path: Path,
                                                     local_server) -> None:
    local_server.route("/index.tar.gz", Reply(body=b"never sent"))
    for url in (local_server.url("/index.tar.gz"),
                local_server.url("/index.tar.gz").replace("127.0.0.1", "localhost")):
        with pytest.raises(UnsafeURL, match="refusing"):
            install_bundle(url, tmp_path / "target")
    assert local_server.requests == []  # refused before connecting


def test_redirects_follow_the_outgoing_policy(sample_index: Path, tmp_path: Path,
                                              local_server) -> None:
    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    body = Path(bundle.path).read_bytes()
    port = local_server.url("/").split(":")[2].rstrip("/")
    local_server.route("/index.tar.gz", Reply(body=body, content_type="application/gzip"))
    local_server.route("/moved", Reply(302, headers={"Location": "index.tar.gz"}))
    local_server.route("/to-localhost", Reply(301, headers={
        "Location": f"http://localhost:{port}/index.tar.gz"}))
    local_server.route("/to-any", Reply(302, headers={
        "Location": f"http://0.0.0.0:{port}/index.tar.gz"}))
    local_server.route("/backslash", Reply(302, headers={
        "Location": f"http://localhost:{port}\\@example.com/index.tar.gz"}))
    local_server.route("/loop", Reply(302, headers={"Location": "/loop"}))
    report = install_bundle(local_server.url("/moved"), tmp_path / "a", allow_loopback=True)
    assert report.items == 5 and report.sha256 == bundle.archive_sha256
    install_bundle(local_server.url("/to-localhost"), tmp_path / "b", allow_loopback=True)
    with pytest.raises(UnsafeURL, match="private, loopback or link-local address: 0.0.0.0"):
        install_bundle(local_server.url("/to-any"), tmp_path / "c", allow_loopback=True)
    with pytest.raises(UnsafeURL, match="ambiguous URL"):
        install_bundle(local_server.url("/backslash"), tmp_path / "c", allow_loopback=True)
    with pytest.raises(FetchError, match="more than 5 redirects"):
        install_bundle(local_server.url("/loop"), tmp_path / "c", allow_loopback=True)
    paths = [r.path for r in local_server.requests]
    assert paths.count("/index.tar.gz") == 2 and not (tmp_path / "c").exists()


def test_outgoing_policy_refuses_a_downgrade_and_private_names() -> None:
    from factcheck.trust import outgoing_url

    first = outgoing_url("https://crawler.example.org/index.tar.gz", resolve=False)
    with pytest.raises(UnsafeURL, match="from https to plain http"):
        outgoing_url("http://crawler.example.org/index.tar.gz", previous=first, resolve=False)
    assert outgoing_url("https://mirror.example.org/b.tar.gz", previous=first,
                        resolve=False).href == "https://mirror.example.org/b.tar.gz"
    for url in ("http://169.254.169.254/latest", "http://10.0.0.1/x", "http://0.0.0.0/x",
                "http://intranet.local/x", "http://[fe80::1]/x"):
        with pytest.raises(UnsafeURL):
            outgoing_url(url, allow_loopback=True, resolve=False)
    for url in ("http://[::1]/x", "http://127.0.0.2/x", "http://localhost/x"):
        with pytest.raises(UnsafeURL):
            outgoing_url(url, resolve=False)
        assert outgoing_url(url, allow_loopback=True, resolve=False).href == url
    assert outgoing_url("https://u:secret@crawler.example.org/b", resolve=False).href == (
        "https://u:secret@crawler.example.org/b")  # credentials are allowed for downloads
    with pytest.raises(UnsafeURL, match="ambiguous"):
        outgoing_url("https://crawler.example.org\\@evil.example/b", resolve=False)


def test_cli_bundle_pins_and_prints_the_checksum(sample_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bundle = tmp_path / "b.tar.gz"
    result = runner.invoke(cli, ["--index", str(sample_index), "bundle", "create", str(bundle)])
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert result.exit_code == 0 and f"--sha256 {digest}" in result.stdout
    assert f"sha256     {digest}" in runner.invoke(cli, ["bundle", "info", str(bundle)]).stdout
    target = tmp_path / "installed"
    result = runner.invoke(cli, ["--index", str(target), "bundle", "install", "--sha256",
                                 "f" * 64, str(bundle)])
    assert result.exit_code == 5 and "not the pinned" in result.stderr
    assert not target.exists()
    result = runner.invoke(cli, ["--index", str(target), "bundle", "install", "--sha256",
                                 digest, str(bundle)])
    assert result.exit_code == 0 and f"sha256 {digest}" in result.stdout


def test_cli_bundle_info_cleans_the_manifest(sample_index: Path, tmp_path: Path) -> None:
    bundle = Path(create_bundle(sample_index, tmp_path / "b.tar.gz").path)
    manifest = _manifest(bundle)
    manifest["model"] = "test-hash\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
    manifest["created"] = "2026\u202e-01-01"
    evil = _rewrite(bundle, tmp_path / "evil.tar.gz",
                    {"manifest.json": json.dumps(manifest).encode()})
    out = CliRunner().invoke(cli, ["bundle", "info", str(evil)]).stdout
    assert "test-hash" in out and not any(ch in out for ch in "\x1b\x07\u202e")


def test_cli_bundle(sample_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bundle = tmp_path / "b.tar.gz"
    result = runner.invoke(cli, ["--index", str(sample_index), "bundle", "create", str(bundle),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == 5
    result = runner.invoke(cli, ["bundle", "info", str(bundle)])
    assert result.exit_code == 0 and "test-hash" in result.stdout
    target = tmp_path / "installed"
    result = runner.invoke(cli, ["--index", str(target), "bundle", "install", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "installed 5 items" in result.stdout
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("junk")
    result = runner.invoke(cli, ["--index", str(target), "bundle", "install", str(junk)])
    assert result.exit_code == 2 and result.stderr.startswith("Error:")
    assert "Traceback" not in result.output


def test_install_waits_out_no_refresh(sample_index: Path, tmp_path: Path) -> None:
    """A running refresh would write into the directory being swapped out: install refuses."""
    from filelock import FileLock

    from factcheck import RefreshLocked
    from factcheck.refresh import REFRESH_LOCK_NAME

    bundle = create_bundle(sample_index, tmp_path / "b.tar.gz")
    target = tmp_path / "live"
    install_bundle(bundle.path, target)
    before = (target / "items.db").stat().st_ino  # a swap would bring a new file
    (target / "sources.toml").write_text("[fetch]\ndelay = 5\n", encoding="utf-8")
    with FileLock(str(target / REFRESH_LOCK_NAME)):
        with pytest.raises(RefreshLocked, match="refresh is running"):
            install_bundle(bundle.path, target)
    assert (target / "items.db").stat().st_ino == before
    assert _leftovers(tmp_path) == []
    assert install_bundle(bundle.path, target).replaced  # once the refresh is over, it installs
    assert (target / "items.db").stat().st_ino != before
    assert "delay = 5" in (target / "sources.toml").read_text(encoding="utf-8")  # config kept
