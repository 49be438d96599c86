"""The ``factcheck`` command: a thin shell over :class:`factcheck.FactChecker`.

Each command is one library call. Data goes to stdout (text, or JSON with ``--json``); messages
and progress go to stderr. Library errors become one line on stderr and a documented exit code:

\b
  0  success (also when no verified item matched: that is an answer)
  1  unexpected error
  2  bad input: empty claim, unreadable or malformed file, bad option, refused URL,
     not a bundle
  3  no index at the given place
  4  model mismatch, or the embedding model cannot be loaded
  5  a stored file is damaged beyond automatic repair, or a bundle fails its checksums
  6  a source failed during refresh, or a bundle download failed
  7  the HTTP API could not start (e.g. the port is in use)
  8  check: the index cannot answer as it should (no vectors, model unloadable) and
     keywords found nothing, or it holds no items yet, so "no match" cannot be claimed;
     run 'factcheck reindex' (or import / refresh into an empty index)
  9  check --image: no OCR engine is installed; run pip install 'factcheck[ocr]'
  75 another refresh holds the lock (try again later)
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from factcheck import FactcheckError, ImportFailed, IndexNotFound
from factcheck.i18n import UI_LANGUAGES, error_text, text, ui_language
from factcheck.render import answer_lines, citation, clean, notice_text

if TYPE_CHECKING:  # the library (numpy, FAISS, SQLite) loads only for commands that use it
    from factcheck import FactChecker


def _ui_lang() -> str:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(dict) if ctx else None
    chosen = obj.get("ui_lang") if obj else None
    return chosen or ui_language()


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and their exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FactcheckError as exc:
            # an error the catalogue has no sentence for stays English throughout, rather than
            # an Indonesian prefix before an English line
            lang = _ui_lang() if exc.key else "en"
            click.echo(f"{text('error.prefix', lang)}: {clean(error_text(exc, lang))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


def _open(ctx: click.Context, *, demo: bool = False, **kwargs: Any) -> FactChecker:
    """The index the command works on (the bundled demo sample with ``demo``), closed on exit."""
    if demo:
        from factcheck.demo import open_demo

        checker = open_demo()
    else:
        from factcheck import FactChecker

        checker = FactChecker.open(ctx.obj["index"], **kwargs)
    ctx.call_on_close(checker.close)
    if checker.repaired:
        click.echo(text("note.repaired", _ui_lang()), err=True)
    return checker


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _json_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--json``: every command whose output is data can print it as JSON."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print the {what} as JSON.")


#: ``--config``: the sources file of ``refresh`` and ``sources``.
_config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), envvar="FACTCHECK_SOURCES",
    help="Sources config (TOML) [env FACTCHECK_SOURCES; default: sources.toml in the index].",
)


def _filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The item filters of a lookup, named and explained the same wherever they appear."""
    for option in reversed([
        click.option("--publisher", multiple=True,
                     help="Only items of this publisher (repeatable; case and punctuation are "
                          "ignored and a prefix is enough: TurnBackHoax)."),
        click.option("--source", multiple=True, help="Only items from this source (repeatable)."),
        click.option("--verdict", multiple=True,
                     help="Only this verdict class: false, misleading, mixed, true, satire, "
                          "unproven, unknown, or a publisher's label such as hoaks (repeatable)."),
        click.option("--lang", "languages", multiple=True,
                     help="Only items in this language, an ISO 639-1 code (id, en)."),
        click.option("--max-age", help="Only items published within this age: 30d, 6w, 6m, 2y."),
    ]):
        fn = option(fn)
    return fn


def _progress(label: str) -> Callable[[int, int], None] | None:
    """A progress line on stderr for interactive runs; nothing under cron or in a pipe."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        click.echo(f"\r{label}: {done}/{total}", err=True, nl=done >= total)

    return report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="factcheck")
@click.option(
    "--index", "index", envvar="FACTCHECK_HOME", type=click.Path(file_okay=False),
    help="Index directory [env FACTCHECK_HOME; default: the user data directory].",
)
@click.option("-v", "--verbose", count=True, help="Log more to stderr (-vv for debug).")
@click.option("--ui-lang", "ui_lang", type=click.Choice(UI_LANGUAGES, case_sensitive=False),
              help="Language of messages: id (default) or en [env FACTCHECK_UI_LANG, else the "
                   "locale].")
@click.pass_context
def cli(ctx: click.Context, index: str | None, verbose: int, ui_lang: str | None) -> None:
    """Has a trusted fact-checker already verified this claim?"""
    ctx.ensure_object(dict)
    ctx.obj["index"] = index
    ctx.obj["ui_lang"] = ui_lang.lower() if ui_lang else None
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("claim", required=False)
@click.option("-n", "--limit", default=5, show_default=True, help="Results to show (1-100).")
@_filter_options
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "dense"]), default="hybrid",
              show_default=True, help="Retrieval mode.")
@click.option("--demo", is_flag=True, help="Use the bundled demo sample instead of an index.")
@click.option("--split/--no-split", default=None,
              help="Answer each claim of a long forwarded message separately (default: "
                   "automatic, when the text is long and holds two or more claims).")
@click.option("--cite", is_flag=True,
              help="Print only the citation to paste back into the chat.")
@click.option("--image", "image", metavar="FILE",
              help="Check the text of a screenshot or poster (PNG, JPEG or WebP; - reads the "
                   "image from standard input). Needs pip install 'factcheck[ocr]'.")
@click.option("--ui-lang", "ui_lang", type=click.Choice(UI_LANGUAGES, case_sensitive=False),
              help="Language of the answer: id (default) or en.")
@click.option("--verbose", "show_scores", is_flag=True, help="Also show the raw scores.")
@_json_option("result")
@click.pass_context
@_fail_cleanly
def check(ctx: click.Context, claim: str | None, limit: int, publisher: tuple[str, ...],
          source: tuple[str, ...], verdict: tuple[str, ...], languages: tuple[str, ...],
          max_age: str | None, mode: str, demo: bool, split: bool | None, cite: bool,
          image: str | None, ui_lang: str | None, show_scores: bool, as_json: bool) -> None:
    """Find verified items similar to CLAIM (or to standard input when CLAIM is - or absent).

    A pasted forwarded message (several paragraphs, links, "sebarkan!") is split into its
    claims and each is answered; the links it carries get a source check. A single claim
    keeps the single-claim output and JSON schema. With --image the text is read from a
    screenshot or poster first (the JSON then carries it as "ocr_text").

    \b
      factcheck check "Vaksin COVID-19 mengandung chip pelacak"
      factcheck check --cite "Vaksin MMR bikin anak jadi autis"
      echo "pesan berantai..." | factcheck check --json
      factcheck check --image tangkapan-layar.png
    """
    if ui_lang:
        ctx.obj["ui_lang"] = ui_lang.lower()
    lang = _ui_lang()
    data = None
    if image is not None:
        if claim is not None:
            raise click.UsageError("give a claim or --image, not both")
        data = _read_image(image)
    elif claim is None or claim == "-":
        if sys.stdin.isatty():
            raise click.UsageError("give a claim as an argument or on standard input")
        claim = sys.stdin.read()
    checker = _open(ctx, demo=demo)
    options: dict[str, Any] = {
        "split": split, "limit": limit, "publishers": publisher, "sources": source,
        "verdicts": verdict, "languages": languages, "max_age": max_age, "mode": mode,
    }
    if data is not None:
        answer = checker.answer_image(data, **options)
    else:
        answer = checker.answer(claim or "", **options)
    if as_json:
        _emit_json(answer.to_dict(lang))
        return
    if answer.ocr_text is not None:
        click.echo(text("note.ocr_text", lang, text=clean(answer.ocr_text, 300)), err=True)
    for notice in answer.notices:
        click.echo(clean(notice_text(notice, lang)), err=True)
    if cite:
        click.echo(citation(answer, lang))
        return
    for line in answer_lines(answer, lang, verbose=show_scores):
        click.echo(line)


def _read_image(path: str) -> bytes:
    """The image's bytes, read no further than the size limit (a 4 GB file is refused after
    10 MB, not loaded), from standard input for ``-``."""
    from factcheck.errors import InvalidInput
    from factcheck.ocr import MAX_IMAGE_BYTES

    if path == "-":
        if sys.stdin.isatty():
            raise click.UsageError("--image - reads the image from standard input; pipe one in")
        return sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError as exc:
        raise InvalidInput(f"no image file {path}", key="error.image_missing",
                           path=path) from exc
    except OSError as exc:
        raise InvalidInput(f"cannot open the image file {path}: {exc.strerror or exc}",
                           key="error.image_file", path=path,
                           reason=exc.strerror or type(exc).__name__) from exc


@cli.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv", "json"]),
              default="auto", show_default=True,
              help="json covers ClaimReview JSON-LD and Google Fact Check Tools JSON.")
@click.option("--source", default="import", show_default=True, help="Source name to record.")
@_json_option("report")
@click.pass_context
@_fail_cleanly
def import_(ctx: click.Context, file: str, fmt: str, source: str, as_json: bool) -> None:
    """Add verified items from FILE: JSONL, CSV, ClaimReview JSON-LD or Fact Check Tools JSON.

    Malformed records are reported with their line number and skipped; the rest is imported.
    """
    checker = _open(ctx, create=True)
    try:
        report = checker.import_file(file, fmt=fmt, source=source,
                                     progress=_progress("embedding"))
    except ImportFailed as exc:  # every record was bad: show which and why, then fail
        for error in getattr(exc.report, "skipped", ()):
            click.echo(f"skipped {file}:{error}", err=True)
        raise
    for error in report.skipped:
        click.echo(f"skipped {file}:{error}", err=True)
    if as_json:
        _emit_json({
            "path": report.path, "format": report.format, "new": report.new,
            "updated": report.updated, "unchanged": report.unchanged,
            "skipped": [{"line": e.line, "error": e.message} for e in report.skipped],
        })
    else:
        click.echo(f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
                   f"{len(report.skipped)} skipped")


@cli.command()
@click.option("--model", help="Re-embed everything with this model (name, path or st:NAME).")
@_json_option("report")
@click.pass_context
@_fail_cleanly
def reindex(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """Rebuild the vector index from the store, or re-embed it with another model."""
    checker = _open(ctx)  # opens with the index's own model; reindex(model) switches
    report = checker.reindex(model, progress=_progress("embedding"))
    if as_json:
        _emit_json(report.__dict__)
    else:
        how = "from stored vectors" if report.rebuilt_from_store else f"{report.embedded} embedded"
        click.echo(f"{report.items} items indexed with {report.model} ({how})")


@cli.command()
@_json_option("list")
@click.pass_context
@_fail_cleanly
def stats(ctx: click.Context, as_json: bool) -> None:
    """What the index holds: items per source, publisher, verdict and language."""
    from factcheck.index_stats import CURRENT, index_stats

    data = index_stats(_index_dir(ctx))
    if as_json:
        _emit_json(data)
        return
    click.echo(f"index      {clean(str(data['path']))}")
    click.echo(f"items      {data['items']} ({data['indexed_vectors']} vectors, "
               f"{clean(str(data['model']))}; {data['second_vectors']} second-view vectors)")
    if data["vector_index"] != CURRENT:
        click.echo(f"vectors    {data['vector_index']}: rebuilt from the stored vectors by the "
                   "next lookup or write")
    click.echo(f"newest     {clean(str(data['newest_published'] or '')) or '-'}")
    for key in ("by_source", "by_publisher", "by_verdict", "by_language"):
        groups = data[key]
        assert isinstance(groups, dict)
        click.echo(f"{key[3:]:<10} " + ", ".join(f"{clean(k) or '-'}: {v}"
                                                 for k, v in groups.items()))


def _sources_config(ctx: click.Context, path: str | None) -> Any:
    from factcheck.sources import config_path, load_config

    return load_config(path or config_path(ctx.obj["index"]))


@cli.command()
@click.option("-s", "--source", "names", multiple=True,
              help="Refresh only this source (repeatable); see 'factcheck sources'.")
@click.option("--since", help="Ignore items published before this date (YYYY-MM-DD).")
@click.option("--full", is_flag=True,
              help="Walk every listing to its end instead of stopping at known items "
                   "(known pages are re-checked with conditional GETs).")
@click.option("--dry-run", is_flag=True, help="Fetch and parse, but write nothing to the index.")
@_config_option
@_json_option("report")
@click.option("-q", "--quiet", is_flag=True,
              help="For cron: print nothing unless something went wrong (errors only).")
@click.pass_context
@_fail_cleanly
def refresh(ctx: click.Context, names: tuple[str, ...], since: str | None, full: bool,
            dry_run: bool, config_file: str | None, as_json: bool, quiet: bool) -> None:
    """Fill the index from the trusted sources over the internet, politely.

    \b
      factcheck refresh
      factcheck refresh --source turnbackhoax --source komdigi --json
      factcheck refresh --quiet          # from cron or a systemd timer

    Incremental: each source is walked newest first and the walk stops at items already in
    the index. Progress goes to stderr when it is a terminal; the report goes to stdout.

    \b
    Exit status: 0 every source worked (pages may have failed: see "fail");
    6 a source is unhealthy (its listing failed or yielded nothing), the other sources
    were still refreshed; 75 another refresh is running on this index.
    """
    from factcheck.refresh import refresh as run_refresh

    if quiet:
        logging.getLogger().setLevel(logging.ERROR)
    config = _sources_config(ctx, config_file)
    checker = _open(ctx, create=True)
    progress = None if quiet else _refresh_progress()
    try:
        report = run_refresh(checker, list(names) or None, since=since, full=full,
                             dry_run=dry_run, config=config, progress=progress)
    finally:
        if progress is not None:
            click.echo("\r\033[K", err=True, nl=False)  # clear the progress line
    if as_json:
        _emit_json(report.to_dict())
    elif not quiet or not report.ok:
        _print_refresh_table(report)
        if report.backlog_embedded:
            click.echo(f"(embedded {report.backlog_embedded} item(s) an interrupted run left "
                       "without vectors)", err=True)
        if dry_run:
            click.echo("(dry run: nothing was written)", err=True)
    report.raise_for_health()


def _print_refresh_table(report: Any) -> None:
    click.echo(f"{'source':<20} {'new':>5} {'upd':>5} {'same':>5} {'fail':>5} {'secs':>7}  health")
    for s in report.sources:
        click.echo(f"{clean(s.name):<20} {s.new:>5} {s.updated:>5} {s.unchanged:>5} "
                   f"{s.failed:>5} {s.seconds:>7.1f}  {clean(s.health)}")
        for error in s.errors[:3]:
            click.echo(f"  ! {clean(str(error))}", err=True)


def _refresh_progress() -> Callable[[str, Any], None] | None:
    if not sys.stderr.isatty():
        return None

    def report(name: str, state: Any) -> None:
        click.echo(f"\r\033[K{name}: {state.new} new, {state.updated} updated, "
                   f"{state.unchanged} unchanged, {state.failed} failed", err=True, nl=False)

    return report


@cli.command()
@_config_option
@_json_option("list")
@click.pass_context
@_fail_cleanly
def sources(ctx: click.Context, config_file: str | None, as_json: bool) -> None:
    """List the sites and feeds that 'refresh' crawls, with their state: items, newest item,
    last success, last error, health. (To judge one link's source, see 'factcheck source'.)"""
    from factcheck.sources import list_sources, source_status

    from factcheck.store import Store

    config = _sources_config(ctx, config_file)
    try:  # the store alone, read-only: no vector index, model or repair for a listing
        store = Store.open(_index_dir(ctx), read_only=True)
    except IndexNotFound:
        rows = [{"name": i.name, "publisher": i.publisher, "enabled": i.enabled, "items": 0,
                 "newest": None, "last_run": None, "last_success": None, "last_error": None,
                 "last_error_at": None, "failures": 0, "health": "never run"}
                for i in list_sources(config)]
    else:
        ctx.call_on_close(store.close)
        rows = [s.to_dict() for s in source_status(store, config)]
    if as_json:
        _emit_json(rows)
        return
    click.echo(f"{'source':<20} {'on':<3} {'items':>6} {'newest':<10} {'last success':<20} health")
    for r in rows:
        on = "yes" if r["enabled"] else "no"
        success = clean(str(r["last_success"] or "-"))[:19]
        click.echo(f"{clean(str(r['name'])):<20} {on:<3} {r['items']:>6} "
                   f"{clean(str(r['newest'] or '')) or '-':<10} {success:<20} "
                   f"{clean(str(r['health']))}")
        if r["last_error"]:
            click.echo(f"  last error ({clean(str(r['last_error_at'] or ''))[:19]}): "
                       f"{clean(str(r['last_error']))}")


@cli.command()
@click.argument("url")
@click.option("--domains", "domains_file", type=click.Path(dir_okay=False, exists=True),
              help="A trusted domains JSON file that overrides the bundled and user lists.")
@_json_option("report")
@click.pass_context
@_fail_cleanly
def source(ctx: click.Context, url: str, domains_file: str | None, as_json: bool) -> None:
    """Is the source of URL clear? Its domain's standing and what the index says about it.

    Official government domains (go.id, ministries) and recognised fact-checkers and news
    outlets are named; the index is searched for fact-checks quoting the link (often as the
    debunked original) and for items on or mentioning its domain. Nothing is fetched.

    \b
      factcheck source https://kominfo-go-id.com/kuota-gratis
    """
    from factcheck.trust import check_source, load_trust_list, public_http_url, user_domain_files

    public_http_url(url)  # refuse a bad link before opening anything
    try:
        checker: FactChecker | None = _open(ctx)
    except IndexNotFound:
        click.echo(text("note.no_index", _ui_lang()), err=True)
        checker = None
    trust = None
    if domains_file:
        index_dir = checker.store.path.parent if checker and checker.store.path else None
        trust = load_trust_list(*user_domain_files(index_dir), domains_file)
    report = check_source(url, checker, trust=trust)
    lang = _ui_lang()
    if as_json:
        _emit_json(report.to_dict(lang))
        return
    click.echo(clean(report.summary(lang)))
    for title, refs in ((text("source.quoted_in", lang), report.quoted_in),
                        (text("source.published_on", lang, domain=report.domain,
                              count=report.domain_items), report.domain_examples),
                        (text("source.mentioning", lang, domain=report.domain,
                              count=report.mentions), report.mention_examples)):
        if refs:
            click.echo(f"\n{title}:")
            for ref in refs:
                label = clean(ref.item.verdict_raw) or ref.item.verdict.value
                click.echo(f"  [{label}] {clean(ref.item.title)}")
                meta = [ref.relation, ref.item.publisher, ref.item.published, ref.item.url]
                click.echo(f"     {' · '.join(clean(m) for m in meta if m)}")


@cli.command()
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["claimreview", "google"]),
              default="claimreview", show_default=True,
              help="claimreview: schema.org ClaimReview JSON-LD DataFeed; google: Google Fact "
                   "Check Tools JSON ({\"claims\": [...]}).")
@click.option("--source", multiple=True, help="Only items from this source (repeatable).")
@click.pass_context
@_fail_cleanly
def export(ctx: click.Context, file: str, fmt: str, source: tuple[str, ...]) -> None:
    """Write the index's items to FILE (default: standard output) for other fact-check tools.

    'factcheck import' reads both formats back. Vectors and article bodies are not exported.

    \b
      factcheck export items.jsonld
      factcheck export --format google claims.json
    """
    from factcheck.export import export_items

    count = export_items(_open(ctx), file, fmt=fmt, sources=source)
    click.echo(f"exported {count} items" + ("" if file == "-" else f" to {file}"), err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the API to the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.option("--max-limit", default=20, show_default=True, type=click.IntRange(1, 100),
              help="Most results one /check may ask for.")
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Requests worked on at once.")
@click.option("--demo", is_flag=True, help="Serve the bundled demo sample instead of an index.")
@click.pass_context
@_fail_cleanly
def serve(ctx: click.Context, host: str, port: int, max_limit: int, workers: int,
          demo: bool) -> None:
    """Serve the web page at / and the read-only JSON API (/check, /check/image, /source;
    schema at /openapi.json).

    \b
      factcheck serve --port 8000
      curl 'http://127.0.0.1:8000/check?q=vaksin+mengandung+chip&limit=3'
      curl 'http://127.0.0.1:8000/source?url=https://kominfo-go-id.com/kuota'
    """
    from factcheck.server import ServeOptions, is_loopback
    from factcheck.server import serve as run_server

    checker = _open(ctx, demo=demo)
    if not is_loopback(host):
        click.echo(f"Warning: listening on {host} exposes the API to the network; it has no "
                   "authentication.", err=True)

    def ready(url: str) -> None:
        click.echo(f"Serving {checker.store.count()} items ({checker.model_id}) on {url} "
                   "- Ctrl-C stops it.", err=True)

    try:
        run_server(checker, host, port, ServeOptions(max_limit=max_limit, workers=workers),
                   on_ready=ready)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


def _index_dir(ctx: click.Context) -> Path:
    from factcheck.config import default_home

    return Path(ctx.obj["index"]).expanduser() if ctx.obj["index"] else default_home()


@cli.group()
def bundle() -> None:
    """Ship an index: one machine crawls and embeds, many machines only look up."""


@bundle.command(name="create")
@click.argument("file", type=click.Path(dir_okay=False))
@_json_option("manifest")
@click.pass_context
@_fail_cleanly
def bundle_create(ctx: click.Context, file: str, as_json: bool) -> None:
    """Package the index (store, vector index, manifest with checksums) into FILE (.tar.gz).

    Safe while a refresh is writing: the database is copied with SQLite's backup API.
    """
    from factcheck.bundle import create_bundle

    info = create_bundle(_index_dir(ctx), file)
    if as_json:
        _emit_json(info.to_dict())
    else:
        click.echo(f"bundled {info.items} items ({info.vectors} vectors, {clean(info.model)}) "
                   f"into {clean(info.path)}")
        click.echo(f"sha256 {info.archive_sha256} (publish it where readers get the URL: "
                   f"bundle install --sha256 {info.archive_sha256} URL)")


@bundle.command(name="install")
@click.argument("source", metavar="FILE|URL")
@click.option("--replace", is_flag=True,
              help="Replace an existing index even if it was built with another model.")
@click.option("--max-size", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Largest download accepted, in MiB.")
@click.option("--sha256", "sha256", metavar="HEX",
              help="Install only a bundle file with this SHA-256 (as 'bundle create' prints "
                   "it); anything else is refused with exit 5.")
@click.option("--allow-loopback", is_flag=True,
              help="Allow a download from (or a redirect to) this machine: 127.0.0.1, ::1, "
                   "localhost. Private and link-local addresses stay refused.")
@_json_option("report")
@click.pass_context
@_fail_cleanly
def bundle_install(ctx: click.Context, source: str, replace: bool, max_size: int,
                   sha256: str | None, allow_loopback: bool, as_json: bool) -> None:
    """Install a bundle file or http(s) URL as the index, after verifying its checksums.

    The bundle is unpacked and verified beside the index and then renamed into place, so a
    failed install leaves the existing index as it was. Restart a running 'factcheck serve'
    afterwards so that it opens the new files. A URL is fetched under the outgoing-URL
    policy of docs/security.md (public hosts only, no redirect to plain http).
    """
    from factcheck.bundle import install_bundle

    report = install_bundle(source, _index_dir(ctx), replace=replace,
                            max_download=max_size * 1024 * 1024, sha256=sha256,
                            allow_loopback=allow_loopback)
    if as_json:
        _emit_json(report.to_dict())
    else:
        what = (f"replaced the {clean(report.previous_model)} index" if report.replaced
                else "new index")
        click.echo(f"installed {report.items} items ({clean(report.model)}) into "
                   f"{clean(report.path)} ({what}; sha256 {report.sha256})")


@bundle.command(name="info")
@click.argument("file", type=click.Path(dir_okay=False))
@_json_option("manifest")
@_fail_cleanly
def bundle_info(file: str, as_json: bool) -> None:
    """Show a bundle's manifest without installing it."""
    from factcheck.bundle import read_manifest

    info = read_manifest(file)
    if as_json:
        _emit_json(info.to_dict())
        return
    click.echo(f"model      {clean(info.model)} (dim {info.dim})")
    click.echo(f"items      {info.items} ({info.vectors} vectors)")
    click.echo(f"created    {clean(info.created)} by factcheck {clean(info.factcheck_version)}")
    click.echo(f"schema     {info.schema_version}")
    for name, entry in info.files.items():
        click.echo(f"file       {clean(name)} {clean(str(entry.get('size')))} bytes sha256 "
                   f"{clean(str(entry.get('sha256')))}")
    click.echo(f"sha256     {info.archive_sha256} (pin it: bundle install --sha256 "
               f"{info.archive_sha256})")


def main() -> None:
    cli(prog_name="factcheck")


if __name__ == "__main__":
    main()
