"""The source registry: built-in scrapers, plug-ins from entry points, and user configuration.

Built-ins are registered the same way a plug-in is, by a ``module:Class`` reference loaded only
when used (so ``factcheck --help`` never imports bs4 or trafilatura). Another package adds a
source with an entry point::

    [project.entry-points."factcheck.sources"]
    mysite = "mypkg.mysite:MySiteSource"

The optional config file (TOML; ``$FACTCHECK_SOURCES`` or ``sources.toml`` in the index
directory) changes options of a source, enables or disables it, defines generic sources and
tunes the fetcher::

    [fetch]
    delay = 3.0

    [refresh]
    batch = 50    # items per transaction; smaller loses less work to a crash

    [sources.turnbackhoax]
    base_url = "https://turnbackhoax.id"

    [sources.my-feed]
    type = "feed"
    url = "https://example.org/feed/"
    publisher = "Example"
    enabled = true
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from scrapers.base import Source

    from .api import FactChecker
    from .fetch import FetchConfig
    from .store import Store

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "factcheck.sources"
ENV_CONFIG = "FACTCHECK_SOURCES"
CONFIG_NAME = "sources.toml"

#: Built-in sources, by name; loaded lazily.
BUILTIN: dict[str, str] = {
    "turnbackhoax": "scrapers.turnbackhoax:TurnBackHoax",
    "turnbackhoax-legacy": "scrapers.turnbackhoax:TurnBackHoaxLegacy",
    "cekfakta": "scrapers.cekfakta:CekFaktaCom",
    "tempo": "scrapers.tempo:TempoCekFakta",
    "kompas": "scrapers.kompas:KompasCekFakta",
    "liputan6": "scrapers.liputan6:Liputan6CekFakta",
    "komdigi": "scrapers.komdigi:Komdigi",
    "menpan": "scrapers.menpan:Menpan",
    "mafindo-api": "scrapers.mafindo:MafindoApi",
}

#: Generic source types a config entry can instantiate under its own name.
GENERIC: dict[str, str] = {
    "feed": "scrapers.generic:FeedSource",
    "sitemap": "scrapers.generic:SitemapSource",
    "urllist": "scrapers.generic:UrlListSource",
    "urls": "scrapers.generic:UrlListSource",  # the spelling the README long used; same source
    "claimreview": "scrapers.generic:ClaimReviewSource",
}


@dataclass
class SourcesConfig:
    """What the config file says: per-source options and fetcher settings."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetch: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    refresh: dict[str, Any] = field(default_factory=dict)

    def fetch_config(self) -> "FetchConfig":
        from .fetch import FetchConfig

        return FetchConfig.from_mapping(self.fetch)

    def batch(self) -> int:
        """``[refresh] batch``: items stored per transaction (and vector-index save) in a refresh."""
        from .refresh import BATCH

        unknown = set(self.refresh) - {"batch"}
        if unknown:
            raise InvalidInput(f"unknown refresh setting(s): {', '.join(sorted(unknown))}")
        value = self.refresh.get("batch", BATCH)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidInput(f"[refresh] batch must be a positive integer, not {value!r}")
        return value


def config_path(index_dir: str | Path | None = None) -> Path | None:
    """``$FACTCHECK_SOURCES``, else ``sources.toml`` in the index directory, if it exists."""
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    if index_dir is not None:
        candidate = Path(index_dir) / CONFIG_NAME
        if candidate.exists():
            return candidate
    return None


def load_config(path: str | Path | None = None) -> SourcesConfig:
    """Read a sources config file; no path means no configuration (built-in defaults)."""
    if path is None:
        return SourcesConfig()
    path = Path(path).expanduser()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: the same parser, a dependency there
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read sources config {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"sources config {path} is not valid TOML: {exc}") from exc
    sources = data.get("sources", {})
    fetch = data.get("fetch", {})
    refresh = data.get("refresh", {})
    if not isinstance(refresh, dict):
        raise InvalidInput(f"{path}: [refresh] must be a table")
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise InvalidInput(f"{path}: [sources.NAME] entries must be tables")
    if not isinstance(fetch, dict):
        raise InvalidInput(f"{path}: [fetch] must be a table")
    config = SourcesConfig(sources={k: dict(v) for k, v in sources.items()}, fetch=dict(fetch),
                           path=str(path), refresh=dict(refresh))
    try:
        _check_config(config)
    except InvalidInput as exc:
        raise InvalidInput(f"sources config {path}: {exc}") from exc
    return config


def _check_config(config: SourcesConfig) -> None:
    """Refuse a bad value when the file is read, before any command opens or creates an index.

    Checked late, ``delay = "fast"`` only failed inside the refresh, where it looked like an
    unhealthy source (exit 6) instead of the config error it is (exit 2).
    """
    if config.fetch:  # only then is the fetcher (httpx) imported: 'factcheck sources' stays light
        config.fetch_config()
    if config.refresh:
        config.batch()
    for name, table in config.sources.items():
        if "enabled" in table and not isinstance(table["enabled"], bool):
            raise InvalidInput(f"[sources.{name}] enabled must be true or false, "
                               f"not {table['enabled']!r}"[:200])
        kind = table.get("type")
        if kind is not None and (not isinstance(kind, str) or kind not in GENERIC):
            raise InvalidInput(f"[sources.{name}] type must be one of {', '.join(GENERIC)}, "
                               f"not {kind!r}"[:200])


def _load(reference: str) -> Callable[..., Any]:
    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _plugins() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN:
            log.warning("plug-in source %r (%s) shadows a built-in; ignored", ep.name, ep.value)
            continue
        found[ep.name] = ep
    return found


@dataclass(frozen=True)
class SourceInfo:
    """A registered source as ``factcheck sources`` lists it."""

    name: str
    publisher: str
    kind: str
    origin: str  # builtin, plugin or config
    enabled: bool
    base_url: str
    description: str = ""


def _factories(config: SourcesConfig) -> dict[str, tuple[str, Callable[..., Any]]]:
    """name → (origin, factory) for every source the registry knows; loaded lazily by name."""
    factories: dict[str, tuple[str, Callable[..., Any]]] = {}
    for name, ref in BUILTIN.items():
        factories[name] = ("builtin", lambda ref=ref: _load(ref))
    for name, ep in _plugins().items():
        factories[name] = ("plugin", lambda ep=ep: ep.load())
    for name, options in config.sources.items():
        kind = options.get("type")
        if kind is None:
            if name not in factories:
                raise InvalidInput(f"sources config: [sources.{name}] is not a known source and has no type")
            continue
        if kind not in GENERIC:
            raise InvalidInput(f"sources config: [sources.{name}] type must be one of {', '.join(GENERIC)}")
        factories[name] = ("config", lambda ref=GENERIC[kind]: _load(ref))
    return factories


def _instantiate(name: str, origin: str, loader: Callable[..., Any], config: SourcesConfig) -> "Source":
    table = config.sources.get(name, {})
    options = {k: v for k, v in table.items() if k not in ("enabled", "type", "budget")}
    if origin == "config":
        options["name"] = name
    factory = loader()
    source = factory(**options)
    if "budget" in table:  # the refresh's time budget for this source, not a scraper option
        from .fetch import positive_seconds

        source.budget = positive_seconds(f"[sources.{name}] budget", table["budget"])
    return source  # type: ignore[no-any-return]


def _enabled(name: str, source: Any, config: SourcesConfig) -> bool:
    options = config.sources.get(name, {})
    if "enabled" in options:
        return bool(options["enabled"])
    if name in config.sources and options.get("type"):
        return True  # a generic source someone configured is meant to run
    return bool(getattr(source, "enabled_by_default", True))


def get_sources(
    names: Iterable[str] | None = None, *, config: SourcesConfig | None = None,
) -> list["Source"]:
    """Source objects: the named ones, or every enabled one. Unknown names are an error."""
    config = config or SourcesConfig()
    factories = _factories(config)
    wanted = list(names) if names is not None else None
    if wanted is not None:
        unknown = [n for n in wanted if n not in factories]
        if unknown:
            raise InvalidInput(f"unknown source(s): {', '.join(unknown)}; see 'factcheck sources'")
    result = []
    for name, (origin, loader) in factories.items():
        if wanted is not None and name not in wanted:
            continue
        try:
            source = _instantiate(name, origin, loader, config)
        except InvalidInput:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not stop the others
            log.error("cannot load source %s: %s", name, exc)
            if wanted is not None:
                raise InvalidInput(f"cannot load source {name}: {exc}") from exc
            continue
        if wanted is None and not _enabled(name, source, config):
            continue
        result.append(source)
    return result


def list_sources(config: SourcesConfig | None = None) -> list[SourceInfo]:
    """Every registered source, enabled or not, with where it comes from."""
    config = config or SourcesConfig()
    infos = []
    for name, (origin, loader) in _factories(config).items():
        try:
            source = _instantiate(name, origin, loader, config)
        except Exception as exc:  # noqa: BLE001
            log.error("cannot load source %s: %s", name, exc)
            infos.append(SourceInfo(name, "", "broken", origin, False, "", f"cannot load: {exc}"))
            continue
        infos.append(SourceInfo(
            name=name, publisher=str(getattr(source, "publisher", "")),
            kind=str(getattr(source, "kind", "plugin")), origin=origin,
            enabled=_enabled(name, source, config), base_url=str(getattr(source, "base_url", "")),
            description=str(getattr(source, "description", "")),
        ))
    return infos


@dataclass
class SourceStatus:
    """A source's state in one index: what it holds and how its last runs went."""

    name: str
    publisher: str
    enabled: bool
    items: int
    newest: str | None
    last_run: str | None
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    failures: int
    health: str  # ok, degraded, unhealthy, never run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_status(
    index: "FactChecker | Store", config: SourcesConfig | None = None,
) -> list[SourceStatus]:
    """Health of every registered source (and of any source with items or state in the index).

    Takes the store alone as well as a checker: the state is all in SQLite, so ``factcheck
    sources`` needs no vector index, no model and no numpy work to answer.
    """
    store = index.store if hasattr(index, "store") else index
    counts = store.source_items()
    states = store.source_states()
    infos = {info.name: info for info in list_sources(config)}
    names = list(infos) + sorted((set(states) | set(counts)) - set(infos))
    result = []
    for name in names:
        info = infos.get(name)
        state = states.get(name)
        items, newest = counts.get(name, (0, None))
        result.append(SourceStatus(
            name=name, publisher=info.publisher if info else "", enabled=info.enabled if info else False,
            items=items, newest=newest,
            last_run=state.last_run if state else None,
            last_success=state.last_success if state else None,
            last_error=state.last_error if state else None,
            last_error_at=state.last_error_at if state else None,
            failures=state.failures if state else 0,
            health=(state.health or "unknown") if state else "never run",
        ))
    return result


def options_for(config: SourcesConfig, name: str) -> Mapping[str, Any]:
    return config.sources.get(name, {})
