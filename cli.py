"""The ``factcheck`` command: a thin shell over :class:`factcheck.FactChecker`.

Each command is one library call. Data goes to stdout (text, or JSON with ``--json``); messages
and progress go to stderr. Library errors become one line on stderr and a documented exit code:

\b
  0  success (also when no verified item matched: that is an answer)
  1  unexpected error
  2  bad input: empty claim, unreadable or malformed file, bad option
  3  no index at the given place
  4  model mismatch, or the embedding model cannot be loaded
  5  a stored file is damaged beyond automatic repair
  6  a source failed during refresh
  75 another refresh holds the lock (try again later)
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from factcheck import FactChecker, FactcheckError, ImportFailed
from factcheck.models import CheckResult, Tier

_TIER_HEADLINE = {
    Tier.MATCH: "MATCH: a trusted source has already checked this claim.",
    Tier.SUGGESTION: "POSSIBLY RELATED: similar verified items, but none clearly about this claim.",
    Tier.NONE: "NO MATCH: no verified item in the index matches this claim. "
               "Its source is not confirmed; do not share it as fact.",
}


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and their exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FactcheckError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


def _open(ctx: click.Context, **kwargs: Any) -> FactChecker:
    checker = FactChecker.open(ctx.obj["index"], **kwargs)
    ctx.call_on_close(checker.close)
    if checker.repaired:
        click.echo(f"Note: the vector index was {checker.repaired}; rebuilt it from the store.",
                   err=True)
    return checker


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


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
@click.pass_context
def cli(ctx: click.Context, index: str | None, verbose: int) -> None:
    """Has a trusted fact-checker already verified this claim?"""
    ctx.ensure_object(dict)
    ctx.obj["index"] = index
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("claim", required=False)
@click.option("-n", "--limit", default=5, show_default=True, help="Results to show (1-100).")
@click.option("--publisher", multiple=True, help="Only items of this publisher (repeatable).")
@click.option("--source", multiple=True, help="Only items from this source (repeatable).")
@click.option("--verdict", multiple=True,
              help="Only this normalised verdict: false, misleading, mixed, true, satire, "
                   "unproven, unknown (repeatable).")
@click.option("--lang", "languages", multiple=True, help="Only items in this language (id, en).")
@click.option("--max-age", help="Only items published within this age: 30d, 6w, 6m, 2y.")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "dense"]), default="hybrid",
              show_default=True, help="Retrieval mode.")
@click.option("--demo", is_flag=True, help="Use the bundled demo sample instead of an index.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@_fail_cleanly
def check(ctx: click.Context, claim: str | None, limit: int, publisher: tuple[str, ...],
          source: tuple[str, ...], verdict: tuple[str, ...], languages: tuple[str, ...],
          max_age: str | None, mode: str, demo: bool, as_json: bool) -> None:
    """Find verified items similar to CLAIM (or to standard input when CLAIM is - or absent).

    \b
      factcheck check "Vaksin COVID-19 mengandung chip pelacak"
      echo "pesan berantai..." | factcheck check --json
    """
    if claim is None or claim == "-":
        if sys.stdin.isatty():
            raise click.UsageError("give a claim as an argument or on standard input")
        claim = sys.stdin.read()
    if demo:
        from factcheck.demo import open_demo

        checker = open_demo()
        ctx.call_on_close(checker.close)
    else:
        checker = _open(ctx)
    result = checker.check(
        claim, limit=limit, publishers=publisher, sources=source, verdicts=verdict,
        languages=languages, max_age=max_age, mode=mode,
    )
    if as_json:
        _emit_json(result.to_dict())
    else:
        _print_result(result, demo)


def _print_result(result: CheckResult, demo: bool) -> None:
    click.echo(_TIER_HEADLINE[result.tier])
    if demo:
        click.echo("(demo sample: a few dozen real fact-checks, not a full index)", err=True)
    if result.tier is Tier.NONE:
        return
    for hit in result.hits:
        item = hit.item
        label = item.verdict_raw or "no label"
        click.echo("")
        click.echo(f"{hit.rank}. [{label} → {item.verdict.value}] {item.title}")
        meta = " · ".join(filter(None, [item.publisher, item.published, item.url]))
        click.echo(f"   {meta}")
        data = hit.to_dict()
        if data["snippet"] and data["snippet"] != item.title:
            click.echo(f"   {data['snippet']}")
        click.echo(f"   similarity {hit.dense:.3f} · score {hit.score:.3f}")


@cli.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv", "json"]),
              default="auto", show_default=True,
              help="json covers ClaimReview JSON-LD and Google Fact Check Tools JSON.")
@click.option("--source", default="import", show_default=True, help="Source name to record.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@_fail_cleanly
def import_(ctx: click.Context, file: str, fmt: str, source: str, as_json: bool) -> None:
    """Add verified items from FILE: JSONL, CSV, ClaimReview JSON-LD or Fact Check Tools JSON.

    Malformed records are reported with their line number and skipped; the rest is imported.
    """
    checker = _open(ctx, create=True)
    report = checker.import_file(file, fmt=fmt, source=source, progress=_progress("embedding"))
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
    if report.skipped and not (report.new or report.updated or report.unchanged):
        raise ImportFailed(f"no valid record in {file}")


@cli.command()
@click.option("--model", help="Re-embed everything with this model (name, path or st:NAME).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
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
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@_fail_cleanly
def stats(ctx: click.Context, as_json: bool) -> None:
    """What the index holds: items per source, publisher, verdict and language."""
    data = _open(ctx).stats()
    if as_json:
        _emit_json(data)
        return
    click.echo(f"index      {data['path']}")
    click.echo(f"items      {data['items']} ({data['indexed_vectors']} vectors, {data['model']})")
    click.echo(f"newest     {data['newest_published'] or '-'}")
    for key in ("by_source", "by_publisher", "by_verdict", "by_language"):
        groups = data[key]
        assert isinstance(groups, dict)
        click.echo(f"{key[3:]:<10} " + ", ".join(f"{k or '-'}: {v}" for k, v in groups.items()))


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
@click.option("--config", "config_file", type=click.Path(dir_okay=False), envvar="FACTCHECK_SOURCES",
              help="Sources config (TOML) [env FACTCHECK_SOURCES; default: sources.toml in the index].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
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
    from factcheck.errors import SourceError
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
    if not report.ok:
        bad = ", ".join(s.name for s in report.sources if s.health == "unhealthy")
        raise SourceError(f"unhealthy source(s): {bad}")


def _print_refresh_table(report: Any) -> None:
    click.echo(f"{'source':<20} {'new':>5} {'upd':>5} {'same':>5} {'fail':>5} {'secs':>7}  health")
    for s in report.sources:
        click.echo(f"{s.name:<20} {s.new:>5} {s.updated:>5} {s.unchanged:>5} {s.failed:>5} "
                   f"{s.seconds:>7.1f}  {s.health}")
        for error in s.errors[:3]:
            click.echo(f"  ! {error}", err=True)


def _refresh_progress() -> Callable[[str, Any], None] | None:
    if not sys.stderr.isatty():
        return None

    def report(name: str, state: Any) -> None:
        click.echo(f"\r\033[K{name}: {state.new} new, {state.updated} updated, "
                   f"{state.unchanged} unchanged, {state.failed} failed", err=True, nl=False)

    return report


@cli.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), envvar="FACTCHECK_SOURCES",
              help="Sources config (TOML) [env FACTCHECK_SOURCES; default: sources.toml in the index].")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@_fail_cleanly
def sources(ctx: click.Context, config_file: str | None, as_json: bool) -> None:
    """List the sources with their state: items, newest item, last success, last error, health."""
    from factcheck.errors import IndexNotFound
    from factcheck.sources import list_sources, source_status

    config = _sources_config(ctx, config_file)
    try:
        checker = _open(ctx)
    except IndexNotFound:
        rows = [{"name": i.name, "publisher": i.publisher, "enabled": i.enabled, "items": 0,
                 "newest": None, "last_run": None, "last_success": None, "last_error": None,
                 "last_error_at": None, "failures": 0, "health": "never run"}
                for i in list_sources(config)]
    else:
        rows = [s.to_dict() for s in source_status(checker, config)]
    if as_json:
        _emit_json(rows)
        return
    click.echo(f"{'source':<20} {'on':<3} {'items':>6} {'newest':<10} {'last success':<20} health")
    for r in rows:
        on = "yes" if r["enabled"] else "no"
        success = (r["last_success"] or "-")[:19]
        click.echo(f"{r['name']:<20} {on:<3} {r['items']:>6} {r['newest'] or '-':<10} "
                   f"{success:<20} {r['health']}")
        if r["last_error"]:
            click.echo(f"  last error ({(r['last_error_at'] or '')[:19]}): {r['last_error']}")


def main() -> None:
    cli(prog_name="factcheck")


if __name__ == "__main__":
    main()
