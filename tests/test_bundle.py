from __future__ import annotations

import http.server
import io
import json
import tarfile
import threading
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
    report = install_bundle(f"{base}/index.tar.gz", tmp_path / "target")
    assert report.items == 5 and report.source.endswith("/index.tar.gz")
    with pytest.raises(FetchError, match="limit"):
        install_bundle(f"{base}/index.tar.gz", tmp_path / "t2", max_download=1000)
    with pytest.raises(FetchError, match="HTTP 404"):
        install_bundle(f"{base}/missing.tar.gz", tmp_path / "t2")
    with pytest.raises(UnsafeURL):
        install_bundle("ftp://127.0.0.1/index.tar.gz", tmp_path / "t2")
    assert not (tmp_path / "t2").exists()
    assert _leftovers(tmp_path) == []


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
