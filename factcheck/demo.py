"""The bundled demo sample, built into a throw-away index on first use.

It lets a fresh install answer a claim offline in one command. The sample is a few dozen real,
published fact-checks recorded as facts (see ``data/DEMO.md``); it is not a usable index.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from filelock import FileLock
from platformdirs import user_cache_dir

from .api import FactChecker
from .model_ids import DEFAULT_MODEL
from .rerank import model_slug

DEMO_FILE = "demo_items.jsonl"


def demo_path() -> Path:
    return Path(str(resources.files("factcheck") / "data" / DEMO_FILE))


def open_demo(cache_dir: str | Path | None = None) -> FactChecker:
    """Open (building it the first time) the demo index in the user cache directory."""
    from . import __version__

    base = Path(cache_dir) if cache_dir else Path(user_cache_dir("factcheck", appauthor=False))
    # keyed by the default model too: a demo built before the default changed keeps its own
    directory = base / f"demo-{__version__}-{model_slug(DEFAULT_MODEL)}"
    directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory / ".build.lock")):
        checker = FactChecker.open(directory, create=True)
        if checker.store.count() == 0:
            checker.import_file(demo_path(), source="demo")
    checker.demo = True
    return checker
