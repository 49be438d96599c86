"""Index bundles: one machine crawls and embeds, many machines only look up.

A bundle is a tar.gz holding a consistent copy of the SQLite store (taken with SQLite's
backup API, so a live WAL database can be bundled while a refresh writes), the FAISS file
rebuilt from that very copy, and a manifest with the model, dimension, counts, schema
version and a SHA-256 per file. Installing verifies all of it in a temporary directory
beside the target and only then renames it into place, so a failed or interrupted install
never leaves a half-written index behind.

An archive is untrusted until verified: it is unpacked member by member, only into the sizes
its manifest declares (which must fit the free space, the cap and a sane compression ratio),
and downloads follow the outgoing-URL policy of :func:`factcheck.trust.outgoing_url`. The
checksums only prove that a bundle is whole and self-consistent; that it is the one a
known crawler made takes the archive's own SHA-256, pinned with ``sha256=`` (see
docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

from indexes.faiss_index import INDEX_NAME, FaissIndex

from .atomic import atomic_write, fsync_dir
from .dates import utc_now
from .errors import (
    BundleCorrupt, BundleInvalid, FetchError, IndexCorrupt, InvalidInput, ModelMismatch,
    RefreshLocked, UnsafeURL,
)
from .store import DB_NAME, SCHEMA_VERSION, Store, drop_sidecars

log = logging.getLogger(__name__)

FORMAT = "factcheck-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
DOMAINS = "trusted_domains.json"
#: Files a bundle may carry; anything else in the archive is refused.
ALLOWED = (MANIFEST, DB_NAME, INDEX_NAME, DOMAINS)
DEFAULT_MAX_DOWNLOAD = 2 * 1024**3
DEFAULT_MAX_UNPACKED = 16 * 1024**3
#: Most bytes unpacked per archive byte. A real bundle (SQLite pages, float vectors) unpacks
#: to a few times its size; a bomb (a member of zeros) to a thousand times.
MAX_RATIO = 100
#: Below this, the ratio is not applied: a tiny index compresses well and harms nobody.
RATIO_FLOOR = 16 * 1024**2
#: Kept free beyond the unpacked files: SQLite's checks write a WAL and a journal.
FREE_MARGIN = 64 * 1024**2
MAX_REDIRECTS = 5
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
#: What an index directory may hold besides the index itself; anything else means the
#: target is some other directory, which install must never rename away.
#: Local configuration kept in the index directory: an install carries it over, never replaces it.
_LOCAL_CONFIG = (DOMAINS, "sources.toml")
_INDEX_FILES = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", INDEX_NAME,
                "refresh.lock", *_LOCAL_CONFIG}
_CHUNK = 1 << 20


@dataclass
class BundleInfo:
    """A bundle's manifest: what it holds and the checksums that prove it arrived whole."""

    path: str
    model: str
    dim: int
    items: int
    vectors: int
    schema_version: int
    vectors_version: int
    created: str
    factcheck_version: str
    files: dict[str, dict[str, Any]]
    #: SHA-256 of the archive file itself: not in the manifest (it cannot hold its own hash);
    #: what a reader pins with ``install_bundle(sha256=...)``.
    archive_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class InstallReport:
    path: str
    source: str
    model: str
    items: int
    vectors: int
    replaced: bool  # an existing index was replaced
    previous_model: str | None
    sha256: str = ""  # of the archive installed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- creating -----------------------------------------------------------------------------


def create_bundle(index_dir: str | Path, dest: str | Path) -> BundleInfo:
    """Package the index in ``index_dir`` into the tar.gz ``dest`` (written atomically)."""
    from . import __version__

    index_dir = Path(index_dir).expanduser()
    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a directory; give a file name such as index.tar.gz")
    dest.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(index_dir)
    work = Path(tempfile.mkdtemp(prefix=".bundle-", dir=dest.parent))
    try:
        store.snapshot_to(work / DB_NAME)  # consistent even mid-refresh; one self-contained file
    finally:
        store.close()
    try:
        copy = Store.open(work)
        try:
            model = copy.get_meta("model")
            if not model:
                raise InvalidInput(f"the index at {index_dir} has no items yet: nothing to bundle")
            dim = int(copy.get_meta("dim") or 0)
            ids, vectors = copy.all_vectors(dim)
            FaissIndex.build(work / INDEX_NAME, model, dim, ids, vectors,
                             copy.vectors_version).save()
            info = BundleInfo(
                path=str(dest), model=model, dim=dim, items=copy.count(),
                vectors=copy.vector_count(), schema_version=copy.schema_version,
                vectors_version=copy.vectors_version,
                created=utc_now(),
                factcheck_version=__version__, files={},
            )
        finally:
            copy.close()
        drop_sidecars(work)
        names = [DB_NAME, INDEX_NAME]
        if (index_dir / DOMAINS).is_file():
            shutil.copyfile(index_dir / DOMAINS, work / DOMAINS)
            names.append(DOMAINS)
        for name in names:
            info.files[name] = {"sha256": _sha256(work / name),
                                "size": (work / name).stat().st_size}
        manifest = {"format": FORMAT, "bundle_version": BUNDLE_VERSION, **info.to_dict()}
        del manifest["path"], manifest["archive_sha256"]
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        with atomic_write(dest) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name in (MANIFEST, *names):
                tar.add(work / name, arcname=name, recursive=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info.archive_sha256 = _sha256(dest)
    log.info("bundled %d items (%s) into %s", info.items, info.model, dest)
    return info


# -- installing ---------------------------------------------------------------------------


def install_bundle(
    source: str | Path, index_dir: str | Path, *, replace: bool = False,
    max_download: int = DEFAULT_MAX_DOWNLOAD, max_unpacked: int = DEFAULT_MAX_UNPACKED,
    timeout: float = 60.0, sha256: str | None = None, allow_loopback: bool = False,
) -> InstallReport:
    """Install a bundle file or http(s) URL as the index in ``index_dir``.

    An existing index built with another model is only replaced with ``replace=True``; a
    directory that is not an index is never touched. Nothing changes unless every check passes.

    ``sha256`` pins the archive: anything else is refused (:class:`BundleCorrupt`) before a
    byte is unpacked. A URL is fetched under :func:`factcheck.trust.outgoing_url`, with
    loopback hosts only when ``allow_loopback`` (tests, a local mirror).
    """
    pin = _check_pin(sha256)
    target = Path(index_dir).expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _install_lock(target.parent / f".{target.name}.install.lock"):
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.install-", dir=target.parent))
        try:
            text = str(source)
            if "://" in text:
                archive = _download(text, work / "bundle.tar.gz", max_download, timeout,
                                    allow_loopback)
            else:
                archive = Path(text).expanduser()
                if not archive.is_file():
                    raise InvalidInput(f"no bundle file at {archive}")
            digest = _sha256(archive)
            if pin is not None and digest != pin:
                raise BundleCorrupt(
                    f"{text}: the bundle's SHA-256 is {digest}, not the pinned {pin}; it is "
                    "another file than the one you trust, and nothing was installed"
                )
            staged = work / "index"
            staged.mkdir()
            info, digests = _extract(archive, staged, max_unpacked, text)
            _verify(staged, info, digests, text)
            previous = _existing_model(target)
            if previous is not None and previous != info.model and not replace:
                raise ModelMismatch(
                    f"the index at {target} was built with {previous}, the bundle with "
                    f"{info.model}; use --replace to replace it"
                )
            for name in _LOCAL_CONFIG:
                if (target / name).is_file():
                    shutil.copyfile(target / name, staged / name)
            with _index_quiet(target):
                _swap(staged, target, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    log.info("installed %d items (%s) into %s", info.items, info.model, target)
    return InstallReport(
        path=str(target), source=text, model=info.model, items=info.items,
        vectors=info.vectors, replaced=previous is not None, previous_model=previous,
        sha256=digest,
    )


def _check_pin(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    pin = sha256.strip().lower()
    if not _SHA256.fullmatch(pin):
        raise InvalidInput(f"--sha256 takes 64 hexadecimal digits, not {sha256[:80]!r}")
    return pin


@contextmanager
def _install_lock(path: Path) -> Iterator[None]:
    """One install at a time into one target, and no lock file left behind afterwards.

    The holder deletes the lock file before it lets go; whoever was waiting on the deleted
    file sees that the path no longer names what it locked and locks anew. Without
    ``fcntl`` (Windows) the lock is filelock's, whose file stays (docs/security.md).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        with FileLock(str(path)):
            yield
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)  # the file was deleted by the holder we waited for: lock the new one
    try:
        yield
    finally:
        try:
            os.unlink(path)
        finally:
            os.close(fd)


@contextmanager
def _index_quiet(target: Path) -> Iterator[None]:
    """Hold the refresh and write locks of an existing index while it is swapped out.

    A refresh writing into the old directory during the swap would lose its work with it, so an
    install waits for a short write to end and refuses while a whole refresh is running.
    """
    if not (target / DB_NAME).exists():
        yield
        return
    from filelock import Timeout

    from .api import WRITE_LOCK_NAME
    from .refresh import REFRESH_LOCK_NAME

    refresh_lock = FileLock(str(target / REFRESH_LOCK_NAME))
    try:
        refresh_lock.acquire(timeout=0)
    except Timeout:
        raise RefreshLocked(
            f"a refresh is running on {target}; install the bundle after it ends"
        ) from None
    try:
        with FileLock(str(target / WRITE_LOCK_NAME)):
            yield
    finally:
        refresh_lock.release()


def read_manifest(path: str | Path) -> BundleInfo:
    """A bundle's manifest without installing it (for ``bundle info``)."""
    path = Path(path).expanduser()
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.getmember(MANIFEST)
            fh = tar.extractfile(member)
            if fh is None or member.size > 1_000_000:
                raise BundleInvalid(f"{path} has an unusable manifest")
            info = _parse_manifest(fh.read(), str(path))
        info.archive_sha256 = _sha256(path)
        return info
    except KeyError as exc:
        raise BundleInvalid(f"{path} is not a factcheck bundle (no {MANIFEST})") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BundleInvalid(f"{path} is not a factcheck bundle: {exc}") from exc


def _download(url: str, dest: Path, limit: int, timeout: float, allow_loopback: bool) -> Path:
    """Fetch ``url`` into ``dest``, following redirects one by one under the outgoing policy.

    httpx is never left to follow a redirect itself: each Location is resolved as a browser
    resolves it and judged like the first URL (public host, no https to http), and the
    request goes to its unambiguous serialisation.
    """
    import httpx

    from .trust import join_url, outgoing_url

    if not url.lower().startswith(("http://", "https://")):
        raise UnsafeURL(f"bundles are downloaded over http(s) only, not {url[:60]!r}")
    current = outgoing_url(url, allow_loopback=allow_loopback)
    try:
        with httpx.Client(follow_redirects=False, timeout=timeout) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                with client.stream("GET", current.href) as response:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        current = outgoing_url(join_url(current.href, location),
                                               allow_loopback=allow_loopback, previous=current)
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"cannot download {url}: HTTP {response.status_code}")
                    _receive(response, url, dest, limit)
                    return dest
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from exc
    raise FetchError(f"cannot download {url}: more than {MAX_REDIRECTS} redirects")


def _receive(response: Any, url: str, dest: Path, limit: int) -> None:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit():
        if int(declared) > limit:
            raise FetchError(f"{url} is {int(declared)} bytes, more than the {limit}-byte limit")
        free = shutil.disk_usage(dest.parent).free
        if int(declared) + FREE_MARGIN > free:
            raise FetchError(f"{url} is {int(declared)} bytes, but only {free} bytes are free "
                             f"in {dest.parent}")
    size = 0
    with dest.open("wb") as fh:
        for chunk in response.iter_bytes(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url} is larger than the {limit}-byte limit")
            fh.write(chunk)


def _extract(
    archive: Path, staged: Path, max_unpacked: int, where: str,
) -> tuple[BundleInfo, dict[str, str]]:
    """Copy the members the manifest lists out one by one; never ``extractall`` an untrusted
    archive. Returns the manifest and the SHA-256 of each file as it was written.

    The manifest comes first, so that nothing is written before the sizes are known: their
    total must fit ``max_unpacked``, :data:`MAX_RATIO` times the archive and the free space,
    and each member must be exactly as large as declared. A member that turns out larger is
    cut off at its declared size, so no archive writes more than its manifest announced.
    """
    seen: set[str] = set()
    digests: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = iter(tar)
            first = next(members, None)
            if first is None or first.name != MANIFEST:
                raise BundleInvalid(
                    f"{archive} is not a factcheck bundle (no {MANIFEST} at its start)"
                )
            if not first.isreg() or first.size > 1_000_000:
                raise BundleInvalid(f"{archive} has an oversized or unusable manifest")
            fh = tar.extractfile(first)
            assert fh is not None
            info = _parse_manifest(fh.read(1_000_001), where)
            sizes = {name: int(entry["size"]) for name, entry in info.files.items()}
            _check_room(archive, staged, sum(sizes.values()), max_unpacked)
            for member in members:
                name = member.name
                if (name not in ALLOWED or name == MANIFEST or name in seen
                        or not member.isreg() or member.issparse()):
                    raise BundleInvalid(
                        f"{archive} is not a factcheck bundle (unexpected member {name[:80]!r})"
                    )
                if name not in sizes:
                    raise BundleInvalid(f"{archive} holds {name}, which its manifest does not "
                                        "list")
                seen.add(name)
                if member.size != sizes[name]:
                    raise BundleCorrupt(
                        f"{where}: {name} is {member.size} bytes but the manifest declares "
                        f"{sizes[name]} (the bundle is damaged or was altered); nothing was "
                        "installed"
                    )
                fh = tar.extractfile(member)
                assert fh is not None
                digests[name] = _copy(fh, staged / name, sizes[name], where)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BundleInvalid(f"{archive} is not a readable factcheck bundle: {exc}") from exc
    except OSError as exc:
        raise BundleInvalid(f"cannot read {archive}: {exc}") from exc
    return info, digests


def _check_room(archive: Path, staged: Path, total: int, max_unpacked: int) -> None:
    """Refuse, before writing anything, a manifest whose files would not fit."""
    if total > max_unpacked:
        raise BundleInvalid(f"{archive} declares {total} unpacked bytes, more than the "
                            f"{max_unpacked}-byte limit")
    packed = archive.stat().st_size
    if total > max(RATIO_FLOOR, packed * MAX_RATIO):
        raise BundleInvalid(f"{archive} declares {total} unpacked bytes from {packed} bytes, "
                            f"more than {MAX_RATIO} times its size: not a real bundle")
    free = shutil.disk_usage(staged).free
    if total + FREE_MARGIN > free:
        raise BundleInvalid(f"{archive} unpacks to {total} bytes, but only {free} bytes are "
                            f"free beside the index; nothing was installed")


def _parse_manifest(raw: bytes, where: str) -> BundleInfo:
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError("not a factcheck bundle manifest")
        if int(data.get("bundle_version", 0)) > BUNDLE_VERSION:
            raise ValueError(f"bundle version {data['bundle_version']} is newer than this "
                             "factcheck understands; upgrade factcheck")
        files = data["files"]
        if not isinstance(files, dict) or DB_NAME not in files or INDEX_NAME not in files:
            raise ValueError("the manifest lists no database or vector index")
        for name, entry in files.items():
            if name not in ALLOWED or name == MANIFEST:
                raise ValueError(f"unexpected file {name!r}")
            if not isinstance(entry.get("sha256"), str) or len(entry["sha256"]) != 64:
                raise ValueError(f"no sha256 for {name}")
            size = entry.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError(f"no size for {name}")
        return BundleInfo(
            path=where, model=str(data["model"]), dim=int(data["dim"]), items=int(data["items"]),
            vectors=int(data["vectors"]), schema_version=int(data["schema_version"]),
            vectors_version=int(data["vectors_version"]), created=str(data.get("created", "")),
            factcheck_version=str(data.get("factcheck_version", "")), files=files,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleInvalid(f"{where}: bad bundle manifest ({exc})") from exc


def _verify(staged: Path, info: BundleInfo, digests: dict[str, str], where: str) -> None:
    """Everything unpacked agrees with the manifest, and the index it makes opens cleanly."""
    present = {p.name for p in staged.iterdir()}
    if present != set(info.files):
        raise BundleInvalid(
            f"{where}: the archive holds {sorted(present)} but the manifest lists "
            f"{sorted(info.files)}"
        )
    for name, entry in info.files.items():
        if digests.get(name) != entry["sha256"].lower():
            raise BundleCorrupt(
                f"{where}: checksum mismatch for {name} (the bundle is damaged or was altered); "
                "nothing was installed"
            )
    if info.schema_version > SCHEMA_VERSION:
        raise BundleInvalid(
            f"{where} was made with schema version {info.schema_version}, newer than this "
            f"factcheck ({SCHEMA_VERSION}); upgrade factcheck"
        )
    try:
        store = Store.open(staged)
    except IndexCorrupt as exc:
        raise BundleCorrupt(f"{where}: the bundled database is unreadable ({exc})") from exc
    try:
        check = store.quick_check()
        if check != "ok":
            raise BundleCorrupt(f"{where}: the bundled database is damaged ({check})")
        if store.get_meta("model") != info.model or store.count() != info.items:
            raise BundleCorrupt(f"{where}: the database does not match the manifest")
        vectors_version = store.vectors_version
    finally:
        store.close()
    drop_sidecars(staged)
    try:
        index = FaissIndex.load(staged / INDEX_NAME)
    except IndexCorrupt as exc:
        raise BundleCorrupt(f"{where}: {exc}") from exc
    if (index.model_id, index.dim, index.version) != (info.model, info.dim, vectors_version):
        raise BundleCorrupt(f"{where}: the vector index does not match the database")


def _existing_model(target: Path) -> str | None:
    """The model of the index already at ``target``; refuses a directory that is not one."""
    if not target.exists():
        return None
    if not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a directory")
    strangers = sorted(
        p.name for p in target.iterdir() if p.name not in _INDEX_FILES and not p.name.startswith(".")
    )
    if strangers:
        raise InvalidInput(
            f"{target} holds other files ({', '.join(strangers[:3])}); refusing to replace a "
            "directory that is not a factcheck index"
        )
    if not (target / DB_NAME).exists():
        return None
    store = Store.open(target)
    try:
        return store.get_meta("model") or ""
    finally:
        store.close()


def _swap(staged: Path, target: Path, work: Path) -> None:
    """Rename the verified index into place; the old one is moved aside, then deleted."""
    old: Path | None = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
        os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _copy(fh: IO[bytes], dest: Path, limit: int, where: str) -> str:
    """Write ``fh`` to ``dest``, stopping as soon as it passes ``limit`` bytes; its SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        while True:
            chunk = fh.read(min(_CHUNK, limit - size + 1))
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise BundleCorrupt(f"{where}: {dest.name} is larger than the {limit} bytes "
                                    "its manifest declares; nothing was installed")
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
