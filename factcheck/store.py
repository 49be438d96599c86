"""The SQLite store: the single source of truth for items and their vectors.

Everything the tool knows lives here, written in transactions under WAL so readers never see a
half-written refresh. Vectors are kept as BLOBs beside the items, which makes the FAISS file a
cache: it can always be rebuilt from this database without re-embedding anything.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .dates import utc_now
from .errors import IndexCorrupt, IndexNotFound, InvalidInput
from .models import VerifiedItem, Verdict
from .text import index_text
from .urls import canonical_url, is_http_url, published_url

if TYPE_CHECKING:  # typing.Self is Python 3.11+; the annotations are never evaluated
    import numpy as np
    from typing_extensions import Self

log = logging.getLogger(__name__)

DB_NAME = "items.db"

#: Files only an index directory holds: one of them beside a missing database is a damaged
#: index, not an absent one (``vectors.faiss`` is :data:`indexes.faiss_index.INDEX_NAME`).
_INDEX_MARKERS = ("vectors.faiss", f"{DB_NAME}-wal")

#: What to do about a damaged store; every "damaged" error ends with it (README, "Recovery").
REPAIR_HINT = (
    "move items.db, items.db-wal and items.db-shm out of the index directory, then install a "
    "good copy with 'factcheck bundle install FILE|URL' or rebuild the index with "
    "'factcheck refresh --full' (and 'factcheck import' of your own files)"
)

#: SQLite's primary result codes for a damaged file: SQLITE_CORRUPT (11), SQLITE_NOTADB (26).
_DAMAGED_CODES = frozenset({11, 26})


def is_damage(exc: BaseException) -> bool:
    """Whether an ``sqlite3`` error says the file is damaged, not that a statement failed.

    Only corruption is singled out: a constraint violation, a lock timeout or a bad FTS query
    keep their own exception types, which callers catch on purpose.
    """
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _DAMAGED_CODES
    message = str(exc).lower()  # pragma: no cover - Python < 3.11 has no error codes
    return "malformed" in message or "not a database" in message


def damaged(path: Path | None, problem: object) -> IndexCorrupt:
    """The :class:`IndexCorrupt` (exit 5) for a damaged store, naming it and the repair."""
    where = path if path is not None else "the in-memory store"
    said = " ".join(str(problem).split())[:200]  # quick_check reports over several lines
    return IndexCorrupt(f"{where} is damaged ({said}): {REPAIR_HINT}")


class _GuardedCursor(sqlite3.Cursor):
    """A cursor whose corruption errors are :class:`IndexCorrupt`, wherever they surface.

    SQLite reports a damaged page only when a statement reaches it, which may be in any
    query of any command (a lookup, a refresh, the HTTP API), or only while rows are read.
    Mapping it here, once, turns all of them into the documented exit 5 instead of a raw
    ``sqlite3.DatabaseError`` traceback.
    """

    def _damage(self, exc: sqlite3.DatabaseError) -> None:
        if is_damage(exc):
            raise damaged(getattr(self.connection, "db_path", None), exc) from exc

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def executemany(self, sql: str, parameters: Any, /) -> Self:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            self._damage(exc)
            raise


class GuardedConnection(sqlite3.Connection):
    """An ``sqlite3`` connection whose statements map corruption to :class:`IndexCorrupt`.

    ``Connection.execute`` does not go through :meth:`cursor`, hence the overrides. Pass it
    as ``factory=`` to :func:`sqlite3.connect` (:meth:`Store.open` does) for any connection
    to an index, so that a damaged page never escapes as a raw ``sqlite3`` error.
    """

    db_path: Path | None = None

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _GuardedCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> Any:
        return self.cursor().executescript(script)


def _connect(target: str, path: Path | None, *, uri: bool = False) -> GuardedConnection:
    conn = sqlite3.connect(target, uri=uri, check_same_thread=False, isolation_level=None,
                           timeout=30, factory=GuardedConnection)
    assert isinstance(conn, GuardedConnection)
    conn.db_path = path
    return conn

#: ``url`` is the canonical URL, the row's identity; ``published_url`` the one to show (schema 4).
_ITEM_COLUMNS = (
    "url", "source", "publisher", "title", "claim", "verdict_raw", "verdict", "published",
    "language", "text", "fetched_at", "extra", "published_url",
)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Statement by statement: ``executescript`` would commit the migration's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _m001_initial(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            publisher TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL,
            claim TEXT NOT NULL DEFAULT '',
            verdict_raw TEXT NOT NULL DEFAULT '',
            verdict TEXT NOT NULL DEFAULT 'unknown',
            published TEXT,
            language TEXT,
            text TEXT NOT NULL DEFAULT '',
            fetched_at TEXT,
            extra TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX items_source ON items(source);
        CREATE INDEX items_publisher ON items(publisher);
        CREATE INDEX items_published ON items(published);
        CREATE VIRTUAL TABLE items_fts USING fts5(
            title, claim, body, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TABLE embeddings (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            content_hash TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE source_state (
            name TEXT PRIMARY KEY,
            last_success TEXT,
            last_error TEXT,
            last_error_at TEXT,
            last_run TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            health TEXT
        );
        CREATE TABLE http_cache (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            checked_at TEXT
        );
        """
    )


def _m002_refresh_retry(conn: sqlite3.Connection) -> None:
    """Article pages whose fetch failed for a passing reason, retried by the next refreshes.

    An incremental walk stops at known URLs near the top of a listing, so a page that timed out
    once would otherwise never be asked for again once newer articles push it down.
    """
    _run_script(
        conn,
        """
        CREATE TABLE refresh_retry (
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            last_error TEXT,
            first_failed TEXT NOT NULL,
            last_failed TEXT NOT NULL,
            PRIMARY KEY (source, url)
        )
        """
    )


def _m003_second_vectors(conn: sqlite3.Connection) -> None:
    """Vectors of the re-ranker's second embedder (``factcheck.second_view``), float16.

    Kept apart from ``embeddings``: they do not depend on the main model, so a
    ``reindex --model`` keeps them, and an index made before they existed gets them filled in
    by its next write (a reader computes the few it needs meanwhile).
    """
    _run_script(
        conn,
        """
        CREATE TABLE second_vectors (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            content_hash TEXT NOT NULL,
            vector BLOB NOT NULL
        )
        """
    )


def _m004_published_url(conn: sqlite3.Connection) -> None:
    """The item's URL as its publisher spells it (``www.``, trailing slash), beside the key.

    ``url`` stays the canonical URL so that feeds and share links still meet on one row, but
    that spelling is not one to cite. Rows stored before this column stay NULL and show their
    canonical URL until their next upsert fills it in (without re-embedding: the URL is not
    part of the content hash).
    """
    conn.execute("ALTER TABLE items ADD COLUMN published_url TEXT")


#: Ordered migrations; the schema version is the number of migrations applied.
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("initial", _m001_initial),
    ("refresh retry queue", _m002_refresh_retry),
    ("second-view vectors", _m003_second_vectors),
    ("published URLs", _m004_published_url),
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class Filters:
    """Restrictions a lookup applies before ranking."""

    publishers: Sequence[str] = ()
    sources: Sequence[str] = ()
    verdicts: Sequence[str] = ()
    languages: Sequence[str] = ()
    since: str | None = None  # ISO date; items published before it are left out

    def __bool__(self) -> bool:
        return bool(self.publishers or self.sources or self.verdicts or self.languages or self.since)

    def sql(self, alias: str = "items") -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        for column, values in (
            ("publisher", self.publishers), ("source", self.sources),
            ("verdict", self.verdicts), ("language", self.languages),
        ):
            if values:
                clauses.append(
                    f"lower({alias}.{column}) IN ({','.join('?' * len(values))})"
                )
                args.extend(v.lower() for v in values)
        if self.since:
            clauses.append(f"{alias}.published >= ?")
            args.append(self.since)
        return (" AND ".join(clauses) or "1"), args


@dataclass
class UpsertReport:
    """What an upsert did; ``changed_ids`` are the rows whose vectors must be (re)computed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[int] = field(default_factory=list)

    def __iadd__(self, other: "UpsertReport") -> "UpsertReport":
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.changed_ids.extend(other.changed_ids)
        return self


@dataclass(frozen=True)
class SourceState:
    """How a source's refreshes went, as the last one left it (a row of ``source_state``)."""

    name: str
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    last_run: str | None
    items: int  # the source's stored items when its last run ended
    failures: int  # unhealthy runs in a row; a healthy one resets it
    health: str | None


def _like(value: str) -> str:
    """``value`` as a literal inside a ``LIKE ... ESCAPE '\\'`` pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: The host of an item's (canonical) URL, in SQL: what lies between ``://`` and the next ``/``.
_URL_HOST = (
    "substr(url, instr(url, '://') + 3, "
    "instr(substr(url, instr(url, '://') + 3) || '/', '/') - 1)"
)


def drop_sidecars(directory: Path) -> None:
    """Fold the WAL of the closed store in ``directory`` into its ``items.db`` and delete the
    ``-wal`` and ``-shm`` files: a bundle ships, and checks, one self-contained file.

    A plain connection, not :meth:`Store.open`: the file is already closed and verified, and
    nothing but its journal mode is touched.
    """
    conn = sqlite3.connect(str(directory / DB_NAME))
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        (directory / f"{DB_NAME}{suffix}").unlink(missing_ok=True)


#: What can drive a terminal or reorder what it shows: C0 and C1 controls and DEL (ESC starts
#: the sequences that clear a screen or write the clipboard, OSC 52), line and paragraph
#: separators, and the bidi embeddings, overrides, isolates and marks.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_UNSAFE_BODY = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_BIDI_CHARS = re.compile(f"[{_BIDI}]")
_LINE_FIELDS = ("title", "claim", "publisher", "verdict_raw", "source", "language", "published")


def sanitise_item(item: VerifiedItem) -> VerifiedItem:
    """``item`` as it may be stored: crawled and imported text is shown on terminals, so no
    field keeps a character that could move the cursor, clear the screen or set the
    clipboard (:func:`factcheck.render.clean` cleans again when printing, whatever a store
    made by an older version holds).

    One-line fields lose bidi controls, and their other control characters become spaces;
    the body keeps its newlines and tabs (paragraphs matter to snippets and the FTS), its CRs
    become newlines. The URL loses tabs and newlines (as every URL parser drops them) and its
    other controls are percent-encoded. Clean strings are returned untouched, so a clean
    item's content hash, and with it its vector, never changes.
    """
    changes: dict[str, str] = {}
    for name in _LINE_FIELDS:
        value = getattr(item, name)
        if isinstance(value, str) and _UNSAFE_LINE.search(value):
            changes[name] = " ".join(_UNSAFE_LINE.sub(" ", _BIDI_CHARS.sub("", value)).split())
    if _UNSAFE_BODY.search(item.text):
        body = item.text.replace("\r\n", "\n").replace("\r", "\n")
        changes["text"] = _UNSAFE_BODY.sub("", body)
    if _UNSAFE_LINE.search(item.url):
        url = re.sub("[\t\r\n]", "", item.url)
        changes["url"] = "".join(quote(ch, safe="") if _UNSAFE_LINE.match(ch) else ch
                                 for ch in url)
    if not changes:
        return item
    cleaned = replace(item)  # a copy: the caller's item is left as it was
    for name, value in changes.items():
        setattr(cleaned, name, value)
    return cleaned


class Store:
    """Items, their full-text index and their vectors in one SQLite file."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._vocab_ready = False
        #: Set once :meth:`verify` passed; the first write transaction runs it otherwise.
        self._verified = path is None

    @classmethod
    def open(
        cls, directory: Path | None, *, create: bool = False, read_only: bool = False,
    ) -> "Store":
        """Open the store in ``directory`` (``None`` for an in-memory store used by tests).

        Only ``create`` may make a store, in a missing file or an empty one: a reading
        command that found a zero-byte ``items.db`` used to initialise it with the default
        model and then overwrite ``vectors.faiss`` from the empty store, so that every lookup
        said "no match". Without ``create`` an empty or foreign file is :class:`IndexCorrupt`
        (exit 5) and a missing one :class:`IndexNotFound` (exit 3), or :class:`IndexCorrupt`
        when the rest of an index is still there. ``read_only`` opens the file with SQLite's
        ``mode=ro`` (for the HTTP API's readers); a store that needs a migration, or a WAL that
        cannot be read that way, is opened normally instead.
        """
        if directory is None:
            conn = _connect(":memory:", None)
            path = None
        else:
            path = Path(directory) / DB_NAME
            conn = cls._connect_file(Path(directory), path, create=create, read_only=read_only)
        try:
            version = cls._inspect(conn, path, create=create or path is None)
            if read_only and version != SCHEMA_VERSION:
                conn.close()
                return cls.open(directory, create=create)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn, path)
            store._migrate(version)
        except BaseException:
            conn.close()
            raise
        return store

    @staticmethod
    def _connect_file(
        directory: Path, path: Path, *, create: bool, read_only: bool,
    ) -> GuardedConnection:
        try:
            exists = path.exists()
            if exists and not path.is_file():
                raise damaged(path, "not a regular file")
            if not exists:
                if (directory / f"{DB_NAME}-wal").exists():
                    # SQLite would replay the lost database's log into a new one
                    raise damaged(path, f"missing, but {DB_NAME}-wal is still there")
                if not create:
                    left = [n for n in _INDEX_MARKERS if (directory / n).exists()]
                    if left:
                        raise damaged(path, f"missing, but {left[0]} is still there")
                    raise IndexNotFound(
                        f"no index at {directory}: import items or run 'factcheck refresh' "
                        "first (or try 'factcheck check --demo')"
                    )
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # /proc/x, a path under a regular file, no permission
            raise InvalidInput(
                f"cannot {'create' if create else 'read'} the index directory {directory}: "
                f"{exc.strerror or exc}"
            ) from exc
        if read_only:
            try:
                return _connect(f"file:{quote(str(path))}?mode=ro", path, uri=True)
            except sqlite3.Error:  # e.g. a WAL without its -shm file: open it normally
                pass
        try:
            return _connect(str(path), path)
        except sqlite3.Error as exc:
            raise InvalidInput(f"cannot open {path}: {exc}") from exc

    @staticmethod
    def _inspect(conn: sqlite3.Connection, path: Path | None, *, create: bool) -> int:
        """The schema version of an openable factcheck store; refuse anything else unwritten.

        Runs before anything is written (not even ``journal_mode``), so that a reader leaves
        an empty or foreign file exactly as it found it.
        """
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        except sqlite3.OperationalError as exc:  # unreadable (permissions, a locked-out WAL)
            raise InvalidInput(f"cannot read {path}: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise IndexCorrupt(
                f"{path} has schema version {version}, newer than this factcheck "
                f"({SCHEMA_VERSION}); upgrade factcheck"
            )
        if version == 0 and tables:
            raise damaged(path, "an SQLite database, but not a factcheck index")
        if version == 0 and not create:
            raise damaged(path, "empty file, not an index")
        if path is not None and create:
            conn.execute("PRAGMA journal_mode=WAL")
            if version == 0 and path.stat().st_size == 0:
                log.info("%s is empty: starting a new index in it", path)
        elif path is not None and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                conn.execute("PRAGMA journal_mode=WAL")  # e.g. a freshly installed bundle
            except sqlite3.OperationalError:  # read-only: it is read in its own mode
                pass
        return version

    def verify(self) -> None:
        """SQLite's own structural check (``PRAGMA quick_check``); :class:`IndexCorrupt` if it fails.

        It reads every page, about 1 s for 100k items (1.1 GB) when the file is in the page
        cache, which is why lookups do not run it: ``stats`` does, and so does the first
        write of every process (an import, a refresh, a reindex), so that nothing is added to a
        damaged file. Damage inside a row's text is invisible to it (SQLite keeps no
        checksums); a damaged page a query reaches is reported then, as the same error.
        """
        if self.path is None:
            return
        rows = self.conn.execute("PRAGMA quick_check(3)").fetchall()
        problems = [str(r[0]) for r in rows]
        if problems != ["ok"]:
            raise damaged(self.path, "; ".join(problems))
        self._verified = True

    def close(self) -> None:
        self.conn.close()

    def quick_check(self) -> str:
        """The first line of SQLite's full ``PRAGMA quick_check``: ``"ok"`` when sound.

        Unlike :meth:`verify` it raises nothing for a damaged structure, so that a caller
        checking a file it did not make (a downloaded bundle) can word the failure its own
        way; a damaged page the check cannot read still raises :class:`IndexCorrupt`.
        """
        return str(self.conn.execute("PRAGMA quick_check").fetchone()[0])

    def snapshot_to(self, path: Path) -> None:
        """Copy the whole database into a new file at ``path`` in rollback-journal mode.

        SQLite's online backup reads one consistent state, even while a refresh writes in WAL
        mode, and the copy is one self-contained file (no ``-wal`` to ship beside it). Only
        ``path`` is written: the store itself is read, never changed.
        """
        target = sqlite3.connect(str(path))
        try:
            self.conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE/COMMIT, or a SAVEPOINT when nested, so library calls compose."""
        with self._lock:
            if self._depth:
                name = f"sp{self._depth}"
                self.conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield self.conn
                except BaseException:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self.conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            if not self._verified:
                self.verify()  # before the first write: never add to a damaged file
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several reads see one consistent state, even while a writer commits.

        Under WAL a deferred transaction pins the snapshot at its first read, so e.g. the stored
        vectors and the vectors version read inside it always belong together. Inside a write
        transaction it adds nothing (that already is one consistent state).
        """
        with self._lock:
            if self._depth:
                yield self.conn
                return
            self.conn.execute("BEGIN DEFERRED")
            self._depth = 1
            try:
                yield self.conn
            finally:
                self._depth = 0
                self.conn.execute("COMMIT")

    def _migrate(self, version: int) -> None:
        for number, (name, migration) in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("applying migration %d (%s)", number, name)
            with self.transaction():
                migration(self.conn)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def delete_meta(self, key: str) -> None:
        """Forget ``key``; a marker that is absent says as much as a value would (a finished walk)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- items --------------------------------------------------------------------------

    def upsert(self, items: Iterable[VerifiedItem]) -> UpsertReport:
        """Insert or update by canonical URL; an item whose content hash is unchanged is left as is.

        The URL as given is kept too (see :func:`factcheck.urls.published_url`), the latest
        spelling winning. It is not part of the content hash, so a spelling that alone changed
        is written in place: the row still counts as unchanged and nothing is re-embedded.
        """
        report = UpsertReport()
        now = utc_now()
        with self.transaction() as conn:
            for item in items:
                item = sanitise_item(item)
                key = canonical_url(item.url)
                if not is_http_url(key):
                    raise InvalidInput(f"item URL is not an absolute http(s) URL: {item.url[:80]!r}")
                shown = published_url(item.url)
                if shown != item.url:
                    item = replace(item, url=shown)
                digest = item.content_hash()
                row = conn.execute(
                    "SELECT id, content_hash, published_url FROM items WHERE url = ?", (key,)
                ).fetchone()
                values = self._row_values(item, key)
                if row is None:
                    cur = conn.execute(
                        f"INSERT INTO items({', '.join(_ITEM_COLUMNS)}, content_hash, created_at,"
                        f" updated_at) VALUES ({', '.join('?' * (len(_ITEM_COLUMNS) + 3))})",
                        (*values, digest, now, now),
                    )
                    item_id = int(cur.lastrowid or 0)
                    report.new += 1
                elif row[1] == digest:
                    if row[2] != shown:
                        conn.execute(
                            "UPDATE items SET published_url = ?, updated_at = ? WHERE id = ?",
                            (shown, now, int(row[0])),
                        )
                    report.unchanged += 1
                    continue
                else:
                    item_id = int(row[0])
                    assignments = ", ".join(f"{c} = ?" for c in _ITEM_COLUMNS)
                    conn.execute(
                        f"UPDATE items SET {assignments}, content_hash = ?, updated_at = ? "
                        "WHERE id = ?",
                        (*values, digest, now, item_id),
                    )
                    conn.execute("DELETE FROM items_fts WHERE rowid = ?", (item_id,))
                    report.updated += 1
                conn.execute(
                    "INSERT INTO items_fts(rowid, title, claim, body) VALUES (?, ?, ?, ?)",
                    (item_id, index_text(item.title), index_text(item.claim),
                     index_text(item.text[:20000])),
                )
                report.changed_ids.append(item_id)
        return report

    @staticmethod
    def _row_values(item: VerifiedItem, key: str) -> tuple[object, ...]:
        """The ``_ITEM_COLUMNS`` of ``item``, stored under the canonical ``key``."""
        return (
            key, item.source, item.publisher, item.title, item.claim, item.verdict_raw,
            Verdict(item.verdict).value, item.published, item.language, item.text,
            item.fetched_at or utc_now(), json.dumps(item.extra, ensure_ascii=False, default=str),
            item.url,
        )

    @staticmethod
    def _item_from_row(row: sqlite3.Row | tuple[object, ...]) -> VerifiedItem:
        """An item whose ``url`` is the one to show: as published, or canonical for older rows.

        Every reader (lookups, export, the server, the source check) then cites the publisher's
        link without knowing about the key; code that matches items by URL compares
        :func:`factcheck.urls.canonical_url` of both sides.
        """
        (url, source, publisher, title, claim, verdict_raw, verdict, published, language, text,
         fetched_at, extra, shown) = row
        try:
            verdict_value = Verdict(verdict)
        except ValueError:
            verdict_value = Verdict.UNKNOWN
        return VerifiedItem(
            url=str(shown or url), source=str(source), publisher=str(publisher), title=str(title),
            claim=str(claim), verdict_raw=str(verdict_raw), verdict=verdict_value,
            published=published if published is None else str(published),
            language=language if language is None else str(language), text=str(text),
            fetched_at=fetched_at if fetched_at is None else str(fetched_at),
            extra=json.loads(str(extra or "{}")),
        )

    def get_items(self, ids: Sequence[int]) -> dict[int, VerifiedItem]:
        if not ids:
            return {}
        out: dict[int, VerifiedItem] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            rows = self.conn.execute(
                f"SELECT id, {', '.join(_ITEM_COLUMNS)} FROM items "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                out[int(row[0])] = self._item_from_row(row[1:])
        return out

    def get_by_url(self, url: str) -> VerifiedItem | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_ITEM_COLUMNS)} FROM items WHERE url = ?", (canonical_url(url),)
        ).fetchone()
        return self._item_from_row(row) if row else None

    def item_id(self, key: str) -> int | None:
        """The id of the item stored under the canonical URL ``key``, without reading the item.

        ``key`` is taken as it is: a refresh has canonicalised every link once already and asks
        this for each of them.
        """
        row = self.conn.execute("SELECT id FROM items WHERE url = ?", (key,)).fetchone()
        return int(row[0]) if row else None

    def max_item_id(self) -> int:
        """The highest item id, 0 for an empty store.

        Ids only grow, so this marks what was stored before a moment: items with higher ids
        came after it (an unfinished refresh walk uses it to walk past what it stored).
        """
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0])

    def stored_content_hash(self, url: str) -> str | None:
        """The content hash stored for the item at ``url`` (any spelling), ``None`` when unknown.

        Enough to tell what an upsert would do (new, updated, unchanged) without doing it: a
        dry run must not write.
        """
        row = self.conn.execute(
            "SELECT content_hash FROM items WHERE url = ?", (canonical_url(url),)
        ).fetchone()
        return str(row[0]) if row else None

    def iter_items(self, batch: int = 1000) -> Iterator[tuple[int, VerifiedItem]]:
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT id, {', '.join(_ITEM_COLUMNS)} FROM items WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield int(row[0]), self._item_from_row(row[1:])
            last = int(rows[-1][0])

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """Those of ``urls`` (in the caller's spelling) that some stored item has, by canonical URL.

        Matching the spelling would miss a stored item reached through another link to it.
        """
        by_key: dict[str, list[str]] = {}
        for url in urls:
            by_key.setdefault(canonical_url(url), []).append(url)
        keys = list(by_key)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.conn.execute(
                f"SELECT url FROM items WHERE url IN ({','.join('?' * len(chunk))})", chunk
            )
            for (key,) in rows:
                found.update(by_key[key])
        return found

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])

    def filter_ids(self, filters: Filters) -> np.ndarray:
        import numpy as np  # only where vectors are read or written: listings skip it
        where, args = filters.sql()
        rows = self.conn.execute(f"SELECT id FROM items WHERE {where}", args).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def keyword_search(
        self, terms: Sequence[str], limit: int, filters: Filters | None = None,
        weights: tuple[float, float, float] = (1.0, 1.0, 0.3),
    ) -> list[tuple[int, float]]:
        """BM25 over the normalised title, claim and body; higher scores are better."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        # The join costs half the query time at 100k items, so it is made only to filter.
        where, args = filters.sql() if filters else ("1", [])
        join = "JOIN items ON items.id = items_fts.rowid " if filters else ""
        try:
            rows = self.conn.execute(
                "SELECT items_fts.rowid, -bm25(items_fts, ?, ?, ?) AS score FROM items_fts "
                f"{join}WHERE items_fts MATCH ? AND {where} ORDER BY score DESC LIMIT ?",
                (*weights, match, *args, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise InvalidInput(f"keyword search failed: {exc}") from exc
        return [(int(r[0]), float(r[1])) for r in rows]

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many items hold each term (over title, claim and body), for IDF weights.

        Read from a ``fts5vocab`` view of the full-text index, created in the connection's temp
        schema on first use: nothing is stored, so no migration is needed and it never goes stale.
        """
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        with self._lock:
            if not self._vocab_ready:
                self.conn.execute(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.items_vocab "
                    "USING fts5vocab(main, items_fts, row)"
                )
                self._vocab_ready = True
        out: dict[str, int] = {}
        for start in range(0, len(terms), 500):
            chunk = terms[start:start + 500]
            rows = self.conn.execute(
                f"SELECT term, doc FROM temp.items_vocab WHERE term IN "
                f"({','.join('?' * len(chunk))})", chunk,
            )
            out.update((str(t), int(d)) for t, d in rows)
        return out

    def ids_on_domain(self, domain: str, limit: int) -> tuple[int, list[int]]:
        """How many items were published on ``domain`` or its subdomains, and the ids of the
        ``limit`` most recently published, newest first.

        Matched on the host of the stored URL, so ``example.com`` finds ``www.example.com`` and
        ``news.example.com`` but not ``badexample.com``.
        """
        where = f"({_URL_HOST} = ? OR {_URL_HOST} LIKE ? ESCAPE '\\')"
        args = [domain, f"%.{_like(domain)}"]
        count = int(
            self.conn.execute(f"SELECT count(*) FROM items WHERE {where}", args).fetchone()[0]
        )
        rows = self.conn.execute(
            f"SELECT id FROM items WHERE {where} ORDER BY published DESC LIMIT ?",
            (*args, limit),
        ).fetchall()
        return count, [int(r[0]) for r in rows]

    def ids_containing(self, needle: str, limit: int, *, full_text: bool) -> list[int]:
        """Ids of items that may contain ``needle``: in ``extra`` (where links are kept, as the
        text of a page drops them) and, with ``full_text``, as a phrase of the full-text index.

        At most ``limit`` from each, first seen first: candidates for a caller that then reads
        the items and decides, so a false candidate costs only a read.
        """
        ids: dict[int, None] = {}
        rows = self.conn.execute(
            "SELECT id FROM items WHERE extra LIKE ? ESCAPE '\\' LIMIT ?",
            (f"%{_like(needle)}%", limit),
        ).fetchall()
        ids.update((int(r[0]), None) for r in rows)
        phrase = index_text(needle)
        if full_text and phrase:
            rows = self.conn.execute(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?",
                (f'"{phrase}"', limit),
            ).fetchall()
            ids.update((int(r[0]), None) for r in rows)
        return list(ids)

    # -- refresh state ------------------------------------------------------------------

    def queue_retry(self, source: str, url: str, error: str) -> int:
        """Queue ``url`` of ``source`` to be asked for again by later refreshes; its failed runs.

        A page that failed for a passing reason would otherwise be lost once newer articles
        push it below where an incremental walk stops. The count lets the caller give up.
        """
        now = utc_now()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO refresh_retry(source, url, attempts, last_error, first_failed, "
                "last_failed) VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(source, url) DO UPDATE SET "
                "attempts = refresh_retry.attempts + 1, last_error = excluded.last_error, "
                "last_failed = excluded.last_failed",
                (source, url, error, now, now),
            )
            row = conn.execute("SELECT attempts FROM refresh_retry WHERE source = ? AND url = ?",
                               (source, url)).fetchone()
        return int(row[0]) if row else 0

    def drop_retry(self, source: str, url: str) -> None:
        """Take ``url`` off ``source``'s retry queue: it was fetched, or stored another way."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM refresh_retry WHERE source = ? AND url = ?", (source, url))

    def queued_retries(self, source: str, max_attempts: int, limit: int) -> list[str]:
        """URLs queued for ``source`` that failed in fewer than ``max_attempts`` runs, oldest
        failure first, at most ``limit``: the oldest are the likeliest to be lost next."""
        rows = self.conn.execute(
            "SELECT url FROM refresh_retry WHERE source = ? AND attempts < ? ORDER BY first_failed "
            "LIMIT ?", (source, max_attempts, limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def record_source_run(
        self, name: str, *, health: str, succeeded: bool, error: str | None,
    ) -> None:
        """Record how a refresh of source ``name`` ended, for ``factcheck sources``.

        A run that did not succeed adds one to the failures in a row and keeps the time of the
        last success; one that did resets the count. A run without ``error`` keeps the last
        error seen, so the state still says why the source last failed. Read and written in
        one transaction: two refreshes must not lose each other's count.
        """
        now = utc_now()
        with self.transaction() as conn:
            row = conn.execute("SELECT failures, last_success FROM source_state WHERE name = ?",
                               (name,)).fetchone()
            failures = 0 if succeeded else (int(row[0] or 0) if row else 0) + 1
            last_success = now if succeeded else (row[1] if row else None)
            items = int(conn.execute("SELECT count(*) FROM items WHERE source = ?",
                                     (name,)).fetchone()[0])
            conn.execute(
                "INSERT INTO source_state(name, last_success, last_error, last_error_at, last_run, "
                "items, failures, health) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO "
                "UPDATE SET last_success = excluded.last_success, "
                "last_error = COALESCE(excluded.last_error, source_state.last_error), "
                "last_error_at = COALESCE(excluded.last_error_at, source_state.last_error_at), "
                "last_run = excluded.last_run, items = excluded.items, "
                "failures = excluded.failures, health = excluded.health",
                (name, last_success, error, now if error else None, now, items, failures, health),
            )

    def source_states(self) -> dict[str, SourceState]:
        """The recorded state of every source that was ever refreshed into this store."""
        rows = self.conn.execute(
            "SELECT name, last_success, last_error, last_error_at, last_run, items, failures, "
            "health FROM source_state"
        )
        return {
            str(r[0]): SourceState(
                name=str(r[0]), last_success=r[1], last_error=r[2], last_error_at=r[3],
                last_run=r[4], items=int(r[5] or 0), failures=int(r[6] or 0), health=r[7],
            )
            for r in rows
        }

    def source_items(self) -> dict[str, tuple[int, str | None]]:
        """Items per source name as stored now, with the newest publication date among them.

        Counted from the items, not from :meth:`source_states`: imported items have a source
        that never ran a refresh.
        """
        rows = self.conn.execute(
            "SELECT source, count(*), max(published) FROM items GROUP BY source"
        )
        return {str(r[0]): (int(r[1]), r[2]) for r in rows}

    # -- HTTP validators ----------------------------------------------------------------

    def http_validators(self, url: str) -> tuple[str | None, str | None, str | None] | None:
        """The ``(etag, last_modified, content_hash)`` last seen for ``url``, or ``None``.

        Kept in the index rather than beside it, so a conditional GET of the next refresh, on
        this machine or from a bundle installed elsewhere, can skip an unchanged page.
        """
        row = self.conn.execute(
            "SELECT etag, last_modified, content_hash FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def put_http_validators(
        self, url: str, etag: str | None, last_modified: str | None, content_hash: str | None,
    ) -> None:
        """Remember what ``url`` answered with now, replacing what was known about it."""
        now = utc_now()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO http_cache(url, etag, last_modified, content_hash, checked_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified, content_hash = excluded.content_hash, "
                "checked_at = excluded.checked_at",
                (url, etag, last_modified, content_hash, now),
            )

    # -- vectors ------------------------------------------------------------------------

    def pending_embeddings(self, limit: int | None = None) -> list[tuple[int, VerifiedItem, str]]:
        """Items whose stored vector is missing or belongs to older content."""
        return self._pending("embeddings", limit)

    def put_vectors(self, ids: Sequence[int], hashes: Sequence[str], vectors: np.ndarray) -> None:
        import numpy as np  # only where vectors are read or written: listings skip it
        with self.transaction():
            self._put_rows("embeddings", ids, hashes, np.ascontiguousarray(vectors, dtype="<f4"))
            self._bump_vectors_version()

    def pending_second_vectors(self) -> list[tuple[int, VerifiedItem, str]]:
        """Items whose second-view vector is missing or belongs to older content."""
        return self._pending("second_vectors")

    def put_second_vectors(
        self, ids: Sequence[int], hashes: Sequence[str], vectors: np.ndarray
    ) -> None:
        import numpy as np  # only where vectors are read or written: listings skip it
        with self.transaction():
            self._put_rows("second_vectors", ids, hashes, np.ascontiguousarray(vectors, dtype="<f2"))

    def _pending(
        self, table: str, limit: int | None = None, everything: bool = False,
    ) -> list[tuple[int, VerifiedItem, str]]:
        """Items with no row in the vector ``table`` (one of ours), or a row for older content."""
        where = "1" if everything else "v.item_id IS NULL OR v.content_hash != items.content_hash"
        sql = (
            f"SELECT items.id, items.content_hash, {', '.join('items.' + c for c in _ITEM_COLUMNS)} "
            f"FROM items LEFT JOIN {table} AS v ON v.item_id = items.id "
            f"WHERE {where} ORDER BY items.id"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [
            (int(r[0]), self._item_from_row(r[2:]), str(r[1]))
            for r in self.conn.execute(sql).fetchall()
        ]

    def _put_rows(
        self, table: str, ids: Sequence[int], hashes: Sequence[str], vectors: np.ndarray
    ) -> None:
        self.conn.executemany(
            f"INSERT INTO {table}(item_id, content_hash, vector) VALUES (?, ?, ?) "
            "ON CONFLICT(item_id) DO UPDATE SET content_hash = excluded.content_hash, "
            "vector = excluded.vector",
            ((int(i), h, vectors[n].tobytes()) for n, (i, h) in enumerate(zip(ids, hashes))),
        )

    def second_vectors(self, ids: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """Current second-view vectors of ``ids`` (float32); stale or missing ones are left out."""
        import numpy as np  # only where vectors are read or written: listings skip it
        out: dict[int, np.ndarray] = {}
        unique = list(dict.fromkeys(int(i) for i in ids))
        for start in range(0, len(unique), 500):
            part = unique[start:start + 500]
            rows = self.conn.execute(
                "SELECT sv.item_id, sv.vector FROM second_vectors AS sv JOIN items "
                "ON items.id = sv.item_id AND items.content_hash = sv.content_hash "
                f"WHERE sv.item_id IN ({','.join('?' * len(part))})", part,
            )
            for item_id, blob in rows:
                if len(blob) == dim * 2:
                    out[int(item_id)] = np.frombuffer(blob, dtype="<f2").astype(np.float32)
        return out

    def clear_vectors(self) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM embeddings")
            self._bump_vectors_version()

    def all_embedding_inputs(self) -> list[tuple[int, VerifiedItem, str]]:
        """Every item with its content hash: what a re-embedding with another model needs."""
        return self._pending("embeddings", everything=True)

    def replace_vectors(
        self, model: str, dim: int, ids: Sequence[int], hashes: Sequence[str],
        vectors: np.ndarray,
    ) -> None:
        """Swap in a whole new set of vectors and the model that made them, in one transaction.

        A re-embedding computes everything aside and calls this last, so an embedder that fails
        half-way (or a Ctrl-C) leaves the index answering with its old model and vectors.
        """
        import numpy as np  # only where vectors are read or written: listings skip it
        with self.transaction() as conn:
            conn.execute("DELETE FROM embeddings")
            self._put_rows("embeddings", ids, hashes, np.ascontiguousarray(vectors, dtype="<f4"))
            self.set_meta("model", model)
            self.set_meta("dim", str(dim))
            self._bump_vectors_version()

    def _bump_vectors_version(self) -> None:
        version = int(self.get_meta("vectors_version", "0") or 0) + 1
        self.set_meta("vectors_version", str(version))

    @property
    def vectors_version(self) -> int:
        return int(self.get_meta("vectors_version", "0") or 0)

    def all_vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Every stored vector with its item id, for rebuilding the vector index.

        Filled row by row into one preallocated matrix: at 100k items, joining the BLOBs first
        held three copies of 150 MB at once.
        """
        import numpy as np  # only where vectors are read or written: listings skip it
        with self.snapshot():  # the count and the rows must describe the same state
            count = self.vector_count()
            ids = np.empty(count, dtype=np.int64)
            matrix = np.empty((count, dim), dtype=np.float32)
            cursor = self.conn.execute("SELECT item_id, vector FROM embeddings ORDER BY item_id")
            # in chunks: the damage check of a guarded cursor then costs one call per 1024 rows
            rows = (row for chunk in iter(lambda: cursor.fetchmany(1024), []) for row in chunk)
            for n, (item_id, blob) in enumerate(rows):
                if len(blob) != dim * 4:
                    raise IndexCorrupt(
                        f"stored vector of item {item_id} has {len(blob) // 4} dimensions, "
                        f"expected {dim}: run 'factcheck reindex'"
                    )
                ids[n] = item_id
                matrix[n] = np.frombuffer(blob, dtype="<f4")
        return ids, matrix

    def vectors_snapshot(self, dim: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Every stored vector and the vectors version they belong to, read in one snapshot.

        Reading them separately could pair an older set of vectors with a newer version when a
        writer commits in between, and a vector index labelled that way would be trusted as
        current while missing vectors.
        """
        with self.snapshot():
            ids, matrix = self.all_vectors(dim)
            return ids, matrix, self.vectors_version

    def vector_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    # -- statistics ---------------------------------------------------------------------

    FACETS = ("source", "publisher", "verdict", "language")

    def facet_counts(self, column: str) -> dict[str, int]:
        """Items per stored value of a filterable column, most common first."""
        if column not in self.FACETS:
            raise ValueError(f"not a facet column: {column}")
        rows = self.conn.execute(
            f"SELECT {column}, count(*) FROM items GROUP BY {column} ORDER BY count(*) DESC"
        )
        return {str(k or ""): int(n) for k, n in rows}

    def stats(self) -> dict[str, object]:
        """What the store holds, after :meth:`verify`: ``stats`` is where damage is looked for."""
        self.verify()
        grouped = self.facet_counts

        newest = self.conn.execute("SELECT max(published) FROM items").fetchone()[0]
        return {
            "items": self.count(),
            "vectors": self.vector_count(),
            "second_vectors": int(
                self.conn.execute("SELECT count(*) FROM second_vectors").fetchone()[0]
            ),
            "by_source": grouped("source"),
            "by_publisher": grouped("publisher"),
            "by_verdict": grouped("verdict"),
            "by_language": grouped("language"),
            "newest_published": newest,
            "schema_version": self.schema_version,
            "integrity": "ok",  # PRAGMA quick_check passed (a failure raises IndexCorrupt)
        }
