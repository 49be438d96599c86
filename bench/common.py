"""Shared pieces of the benchmarks: data-set loaders, a caching embedder and table printing.

The data sets live outside the repository, in ``<workspace>/shared/data`` (see each SOURCE.md);
nothing from there is copied into the repo. Computed embeddings are cached in
``bench/.cache/embeddings.sqlite`` (git-ignored), keyed by model id, kind (query/passage) and
the SHA-256 of the exact text, so reruns only embed what they have not seen.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from factcheck.embedding import Embedder, get_embedder  # noqa: E402
from factcheck.models import Verdict, VerifiedItem  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "bench" / ".cache"
csv.field_size_limit(sys.maxsize)


def data_dir(name: str) -> Path:
    """The folder of one shared data set; exits with a clear message when it is absent."""
    path = DATA / name
    if not path.is_dir():
        sys.exit(
            f"error: data set {name!r} not found at {path}.\n"
            f"The benchmarks read the shared data from {DATA} (never copied into the repo); "
            "mount or fetch it there first."
        )
    return path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- data sets ---------------------------------------------------------------------------


@dataclass
class Query:
    qid: str
    text: str
    relevant: set[str]


@dataclass
class DataSet:
    """A corpus of verified items (each with a key) and query splits with relevance judgements."""

    name: str
    items: list[VerifiedItem]
    splits: dict[str, list[Query]] = field(default_factory=dict)

    @staticmethod
    def url(name: str, key: str) -> str:
        return f"https://bench.invalid/{name}/{key}"

    def key_of(self, url: str) -> str:
        return url.rsplit("/", 1)[1]


def _item(name: str, key: str, title: str, claim: str = "", text: str = "",
          language: str = "en", publisher: str = "") -> VerifiedItem:
    return VerifiedItem(
        url=DataSet.url(name, key), title=title.strip(), claim=claim.strip(), text=text.strip(),
        source=f"bench-{name}", publisher=publisher, verdict=Verdict.UNKNOWN, language=language,
        fetched_at="2025-01-01T00:00:00+00:00",
    )


def load_turnbackhoax() -> DataSet:
    """Query = the [NARASI] hoax text, target = the fact-check title of the same ID."""
    base = data_dir("turnbackhoax-2024-narasi")
    name = "turnbackhoax"
    items: list[VerifiedItem] = []
    queries: list[Query] = []
    for fname in ("politics_hoax_text.csv", "scam_hoax_text.csv", "others_hoax_text.csv"):
        with open(base / fname, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                key = row["ID"].strip()
                items.append(_item(name, key, row["TITLE"], language="id", publisher="MAFINDO"))
                queries.append(Query(key, row["HOAX_TEXT"], {key}))
    return DataSet(name, items, {"all": queries})


def _read_tsv(path: Path, header: bool, columns: int = 2) -> list[list[str]]:
    """TAB-separated, no quoting (claims contain ``"``). A few verified claims hold a line
    break inside a quoted field; with QUOTE_NONE such a row arrives as two short rows, which
    are joined back (with a space) until the row has ``columns`` fields."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    out: list[list[str]] = []
    pending: list[str] | None = None
    for r in rows[1:] if header else rows:
        if not r:
            continue
        if pending is not None:
            pending[-1] += " " + r[0]
            pending.extend(r[1:])
            r = pending
        if len(r) < columns:
            pending = r
            continue
        pending = None
        out.append(r)
    return out


def _qrels(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in _read_tsv(path, header=False):
        qid, _, doc, rel = row[:4]
        if int(rel) > 0:
            out.setdefault(qid.strip(), set()).add(doc.strip())
    return out


def _unquote(field: str) -> str:
    """A field the writer CSV-quoted (``"a ""b"" c"``) back to its text; others unchanged."""
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def load_clef2020() -> DataSet:
    base = data_dir("clef2020-task2")
    name = "clef2020"
    items = [
        _item(name, r[0].strip(), title=_unquote(r[2]), claim=_unquote(r[1]))
        for r in _read_tsv(base / "verified_claims.docs.tsv", header=True, columns=3)
    ]
    splits: dict[str, list[Query]] = {}
    for split in ("dev", "train"):
        texts = {r[0].strip(): r[1] for r in _read_tsv(base / split / "tweets.queries.tsv", True)}
        qrels = _qrels(base / split / "tweet-vclaim-pairs.qrels")
        splits[split] = [Query(q, texts[q], rel) for q, rel in qrels.items() if q in texts]
    return DataSet(name, items, splits)


def load_clef2022() -> DataSet:
    base = data_dir("clef2022-task2a-en")
    name = "clef2022"
    items = []
    with open(base / "vclaims.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                o = json.loads(line)
                items.append(_item(name, o["vclaim_id"], title=o.get("title") or o["vclaim"],
                                   claim=o.get("vclaim", ""), text=o.get("subtitle") or ""))
    texts = {
        r[0].strip(): r[1]
        for r in _read_tsv(base / "train" / "CT2022-Task2A-EN-Train-Dev_Queries.tsv", False)
    }
    splits = {}
    for split, fname in (("dev", "CT2022-Task2A-EN-Dev_QRELs.tsv"),
                         ("train", "CT2022-Task2A-EN-Train_QRELs.tsv")):
        qrels = _qrels(base / "train" / fname)
        splits[split] = [Query(q, texts[q], rel) for q, rel in qrels.items() if q in texts]
    return DataSet(name, items, splits)


LOADERS = {"turnbackhoax": load_turnbackhoax, "clef2020": load_clef2020, "clef2022": load_clef2022}


# -- the train/test split ------------------------------------------------------------------


def _side(ds_name: str, part: str, qid: str) -> str:
    if ds_name == "turnbackhoax":  # no official split: halves by ID parity
        return "train" if int(qid) % 2 == 0 else "test"
    return "train" if part == "train" else "test"


def _same_text(text: str) -> str:
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=1)
def test_texts() -> frozenset[str]:
    """Every test query of every set, as compared across sets."""
    return frozenset(_same_text(q.text) for name, load in LOADERS.items()
                     for part, qs in load().splits.items() for q in qs
                     if _side(name, part, q.qid) == "test")


def split_of(ds_name: str, part: str, q: Query) -> str:
    """``train``, ``test``, or ``excluded``: a training query that is a test query elsewhere.

    CLEF2022 2A ``train`` is CLEF2020 ``train`` + ``dev`` (the very same 997 tweets), so
    training on it taught every model CLEF2020 ``dev``; those queries train nothing and are
    reported apart (they are unseen, but the same queries as CLEF2020 ``dev``).
    """
    side = _side(ds_name, part, q.qid)
    if side == "train" and _same_text(q.text) in test_texts():
        return "excluded"
    return side


def reranker_only(ds_name: str, qid: str) -> bool:
    """Half of the training queries, fixed by a salted hash of their id: with ``train_embedder.py
    --hold-back`` the embedder never trains on them, so the re-ranker can learn from features
    of queries the embedder has not seen (the distribution it meets at answer time). The salt
    keeps this half independent of train_reranker.py's cross-fitting folds."""
    return int(hashlib.md5(f"reranker-only:{ds_name}:{qid}".encode()).hexdigest(), 16) % 2 == 1


def mirror_path(model_id: str) -> Path:
    """Where ``train_embedder.py --hold-back --mirror`` writes the cross-fitting twin of a
    held-back tuned model: trained on the half the model left to the re-ranker, so that
    ``train_reranker.py --cross-fit`` has features of an unseen embedder for every training
    query. Bench cache: it trains the re-ranker and is never served."""
    from factcheck import tuned_e5

    return CACHE / f"{tuned_e5.ARTEFACTS[model_id].stem}-mirror.npz"


#: Same-claim judgements (``bench/judged.py``): one file per data set, ``query id, item id,
#: label``; ``same`` = the item is a fact-check of the claim the query's own item checks.
JUDGEMENTS = ROOT / "bench" / "judgements"
LABELS = ("same", "related", "other")


def load_judgements(name: str, directory: Path = JUDGEMENTS) -> dict[tuple[str, str], str]:
    """``(query id, item id) -> label`` from ``bench/judgements/<name>.tsv`` (may be absent)."""
    path = directory / f"{name}.tsv"
    out: dict[tuple[str, str], str] = {}
    if not path.exists():
        return out
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "query_id":
                continue
            qid, item, label = (c.strip() for c in row[:3])
            if label not in LABELS:
                raise SystemExit(f"{path}: unknown label {label!r} for {qid}/{item}")
            out[(qid, item)] = label
    return out


@functools.lru_cache(maxsize=None)
def index_size(name: str) -> int:
    """Items in the index of the whole corpus (``pools.collect``'s): what a size-aware
    confidence reads for the full-corpus pools."""
    ds = LOADERS[name]()
    return len({ds.key_of(i.url) for i in ds.items})


def item_texts(name: str) -> dict[str, str]:
    """Item key -> the text a person reads for it (the claim, else the title)."""
    ds = LOADERS[name]()
    return {ds.key_of(i.url): i.claim or i.title for i in ds.items}


def pair_to_judge(set_name: str, qid: str, query: str, own: str, key: str,
                  texts: dict[str, str]) -> dict[str, str]:
    """One (query, candidate) pair for a person to judge: the JSON-lines record that
    ``judged.py export`` and ``train_reranker.py --unjudged`` write."""
    from factcheck.render import clean

    return {"set": set_name, "query_id": qid, "item_id": key,
            "query": clean(query.removeprefix("query: "), 600),
            "own_fact_check": clean(texts[own], 300), "candidate": clean(texts[key], 300)}


# -- caching embedder --------------------------------------------------------------------


class CachingEmbedder:
    """Wraps a real embedder (same ``model_id``); embeds only texts missing from the disk cache."""

    def __init__(self, inner: Embedder | None = None, path: Path | None = None,
                 chunk: int = 256, verbose: bool = True) -> None:
        self.inner = inner or get_embedder(None)
        self.model_id = self.inner.model_id
        # a model whose weights can change under one id (factcheck/tuned_e5.py) keys by content
        self._key = getattr(self.inner, "cache_key", self.model_id)
        self.cache_key = self._key
        self.dim = self.inner.dim
        self.chunk = chunk
        self.verbose = verbose
        self.hits = 0
        self.misses = 0
        self.embed_seconds = 0.0
        path = path or CACHE / "embeddings.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vec (model TEXT, kind TEXT, hash TEXT, v BLOB, "
            "PRIMARY KEY (model, kind, hash))"
        )
        self._db.commit()

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _lookup(self, kind: str, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            part = unique[start:start + 500]
            rows = self._db.execute(
                f"SELECT hash, v FROM vec WHERE model = ? AND kind = ? AND hash IN "
                f"({','.join('?' * len(part))})", (self._key, kind, *part),
            )
            for h, blob in rows:
                found[h] = np.frombuffer(blob, dtype="<f4")
        return found

    def _embed(self, kind: str, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        hashes = [self._hash(t) for t in texts]
        found = self._lookup(kind, hashes)
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts):
            if h not in found:
                missing.setdefault(h, t)
        self.hits += len(texts) - sum(1 for h in hashes if h in missing)
        if missing:
            todo = list(missing.items())
            fn = self.inner.embed_queries if kind == "q" else self.inner.embed_passages
            t0 = time.perf_counter()
            for start in range(0, len(todo), self.chunk):
                part = todo[start:start + self.chunk]
                vectors = np.asarray(fn([t for _, t in part]), dtype="<f4")
                self._db.executemany(
                    "INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)",
                    [(self._key, kind, h, v.tobytes()) for (h, _), v in zip(part, vectors)],
                )
                self._db.commit()
                for (h, _), v in zip(part, vectors):
                    found[h] = v
                self.misses += len(part)
                if self.verbose and len(todo) > self.chunk:
                    rate = (start + len(part)) / (time.perf_counter() - t0)
                    log(f"  embedded {start + len(part)}/{len(todo)} uncached {kind} texts "
                        f"({rate:.0f}/s)")
            self.embed_seconds += time.perf_counter() - t0
        return np.vstack([found[h] for h in hashes]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed("q", texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed("p", texts)


def second_view_cache(verbose: bool = True) -> CachingEmbedder:
    """The re-ranker's second embedder behind the same disk cache."""
    from factcheck.second_view import SecondView

    return CachingEmbedder(SecondView(), verbose=verbose)


def query_form(text: str) -> str:
    """The exact string ``FactChecker.check`` embeds for a claim (so the cache hits)."""
    return " ".join((text or "").split())[:2000]


# -- output ------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[object]], title: str | None = None) -> str:
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                               for c, w in zip(r, widths)))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _numeric(text: str) -> bool:
    try:
        float(text.rstrip("%x"))
        return True
    except ValueError:
        return False
