"""What an index holds, read without loading it.

``factcheck stats`` is a listing: it should answer in a fraction of a second and change
nothing. Opening a :class:`factcheck.FactChecker` imports numpy and FAISS, loads the vector
index and repairs it when it is behind the store, which is a write. This reads the store
(read-only, with SQLite's ``quick_check``) and the vector file's header, and says how the
vector index stands instead of fixing it; the next lookup or write repairs it as before.
"""

from __future__ import annotations

from pathlib import Path

from indexes.faiss_file import INDEX_NAME, read_header

from .errors import IndexCorrupt
from .store import Store

#: ``vector_index`` values: the file answers lookups as it is, or why it does not
CURRENT, STALE, MISSING, UNREADABLE, OTHER_MODEL = (
    "current", "stale", "missing", "unreadable", "other model")


def index_stats(directory: Path) -> dict[str, object]:
    """The store's :meth:`~factcheck.store.Store.stats` plus the model and the vector index.

    Raises :class:`~factcheck.errors.IndexNotFound` or :class:`~factcheck.errors.IndexCorrupt`
    for a missing or damaged store, like every command that reads one.
    """
    store = Store.open(Path(directory), read_only=True)
    try:
        data = store.stats()
        model = store.get_meta("model")
        dim = int(store.get_meta("dim") or 0) or None
        wanted_version = store.vectors_version
    finally:
        store.close()
    state, indexed = _vector_index(Path(directory) / INDEX_NAME, model, wanted_version,
                                   int(data["vectors"]))  # type: ignore[call-overload]
    data.update(model=model, dim=dim, indexed_vectors=indexed, vector_index=state,
                path=str(directory))
    return data


def _vector_index(path: Path, model: str | None, version: int, stored: int) -> tuple[str, int]:
    if not path.exists():
        return (MISSING if stored else CURRENT), 0
    try:
        header = read_header(path)
    except IndexCorrupt:
        return UNREADABLE, 0
    if model is not None and header["model"] != model:
        return OTHER_MODEL, header["count"]
    return (CURRENT if header["version"] == version else STALE), header["count"]
