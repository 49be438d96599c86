"""The vector-index file's name and header, readable without FAISS or numpy.

:class:`indexes.faiss_index.FaissIndex` writes the file; listings (``factcheck stats``) only
need its header (model, dimension, version, row count) and should not pay for importing FAISS.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, BinaryIO

from factcheck.errors import IndexCorrupt

INDEX_NAME = "vectors.faiss"
MAGIC = b"FCVEC01\n"
#: a header is a few dozen bytes of JSON; anything larger is not ours
MAX_HEADER = 64 * 1024


def read_header(path: Path) -> dict[str, Any]:
    """The header of a saved vector index: ``model``, ``dim``, ``version``, ``count``."""
    try:
        with path.open("rb") as fh:
            return read_header_from(fh)
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise IndexCorrupt(f"vector index {path} is unreadable ({exc})") from exc


def read_header_from(fh: BinaryIO) -> dict[str, Any]:
    """The header at the start of an open index file, which is left at the id map.

    Raises ``ValueError``, ``KeyError``, ``TypeError`` or ``struct.error`` on a file that is
    not a vector index of ours; the callers turn them into :class:`IndexCorrupt`.
    """
    if fh.read(len(MAGIC)) != MAGIC:
        raise ValueError("bad magic")
    header_len, count = struct.unpack("<QQ", fh.read(16))
    if header_len > MAX_HEADER:
        raise ValueError("oversized header")
    header = json.loads(fh.read(header_len))
    if not isinstance(header, dict) or int(header.get("count", count)) != count:
        raise ValueError("header disagrees with the id map")
    return {"model": str(header["model"]), "dim": int(header["dim"]),
            "version": int(header["version"]), "count": count}
