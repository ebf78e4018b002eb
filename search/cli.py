"""The ``newsearch`` command: rebuild, update, search, serve, stats, rollback.

Exit codes (DESIGN.md): 0 done, 1 done with rejected inputs, 2 usage or fatal
error, 3 shrink guard refused the swap, 75 another run holds the lock.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from search.index.generations import IndexHome, Locked, NoIndex

EXIT_OK, EXIT_REJECTED, EXIT_FATAL, EXIT_SHRINK, EXIT_LOCKED = 0, 1, 2, 3, 75


def default_index() -> str:
    return os.environ.get("NEWSEARCH_INDEX") or "index"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsearch", description="Full-text faceted search over news archives.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--index", default=default_index(), metavar="DIR",
                         help="index directory (default: $NEWSEARCH_INDEX, else ./index)")
        return sub

    rebuild = command("rebuild", "build a new generation from SOURCE folders/files and swap it in atomically")
    rebuild.add_argument("--force", action="store_true", help="swap even if the new generation is far smaller")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar, no per-record messages")
    rebuild.add_argument("--no-entities", action="store_true", help="skip entity extraction (given fields only)")
    rebuild.add_argument("sources", nargs="+", metavar="SOURCE")

    update = command("update", "add new and changed articles from SOURCE to the live index")
    update.add_argument("--quiet", action="store_true", help="no progress bar, no per-record messages")
    update.add_argument("sources", nargs="+", metavar="SOURCE")

    search = command("search", "search the index (same results as the web API)")
    search.add_argument("--json", action="store_true", help="print the JSON answer")
    search.add_argument("--from", dest="from_", metavar="DATE", help="earliest date (anything dateutil reads)")
    search.add_argument("--to", metavar="DATE", help="latest date, inclusive")
    for facet in ("people", "orgs", "places", "source", "topics"):
        search.add_argument(f"--{facet}", action="append", default=[], metavar="VALUE",
                            help=f"filter by {facet} (repeatable: OR within, AND across facets)")
    search.add_argument("--sort", choices=("relevance", "newest", "oldest"), default="relevance")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--per-page", type=int, default=10)
    search.add_argument("query", nargs="*", help="query words (empty: browse everything)")

    serve = command("serve", "serve the web UI and JSON API (indexes seeds/ first if there is no index)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    serve.add_argument("--threads", type=int, default=4, help="threads per process")

    stats = command("stats", "show what the live index holds")
    stats.add_argument("--json", action="store_true")

    command("rollback", "make the previous generation live again")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    home = IndexHome(args.index)
    handler = {
        "rebuild": run_build,
        "update": run_build,
        "search": run_search,
        "serve": run_serve,
        "stats": run_stats,
        "rollback": run_rollback,
    }[args.command]
    try:
        return handler(args, home)
    except Locked as exc:
        print(f"newsearch: {exc}; nothing changed", file=sys.stderr)
        return EXIT_LOCKED
    except NoIndex as exc:
        print(f"newsearch: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("newsearch: interrupted; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:
        # The reader went away (``newsearch search … | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def run_build(args, home: IndexHome) -> int:
    from search import build

    missing = [s for s in args.sources if not Path(s).exists()]
    if missing:
        print(f"newsearch: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_FATAL
    options = build.BuildOptions(
        force=getattr(args, "force", False),
        extract_entities=not getattr(args, "no_entities", False),
        progress=_progress_bar(args.quiet),
        status=(lambda message: print(message, file=sys.stderr, flush=True)) if _on_terminal(args.quiet) else
        (lambda message: None),
        on_reject=(lambda r: None) if args.quiet else (lambda r: print(r, file=sys.stderr)),
    )
    run = build.rebuild if args.command == "rebuild" else build.update
    try:
        report = run(home, args.sources, options)
    except build.ShrinkRefused as exc:
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_SHRINK
    except OSError as exc:
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    print(report.summary())
    return EXIT_REJECTED if report.rejected else EXIT_OK


def _on_terminal(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def _progress_bar(quiet: bool):
    """A bar on a terminal; nothing under cron or with --quiet."""
    if not _on_terminal(quiet):
        return lambda items, total: items
    from tqdm import tqdm

    return lambda items, total: tqdm(items, total=total, unit="file", desc="reading", file=sys.stderr)


def run_stats(args, home: IndexHome) -> int:
    from search.stats import collect_stats, format_stats

    stats = collect_stats(home)
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return EXIT_OK


def run_rollback(args, home: IndexHome) -> int:
    with home.lock():
        target = home.rollback()
    print(f"generation {home.number_of(target)} is live again")
    return EXIT_OK


def run_search(args, home: IndexHome) -> int:
    from search.query import QueryError, SearchEngine, SearchParams
    from search.terminal import format_table

    engine = SearchEngine(home.root)
    try:
        params = SearchParams.from_mapping({
            "q": " ".join(args.query), "from": args.from_, "to": args.to, "sort": args.sort,
            "page": args.page, "per_page": args.per_page,
            **{facet: getattr(args, facet) for facet in ("people", "orgs", "places", "source", "topics")},
        })
        answer = engine.search(params)
    except QueryError as exc:
        print(f"newsearch: {exc}", file=sys.stderr)
        return EXIT_FATAL
    if args.json:
        print(json.dumps(answer, indent=1, ensure_ascii=False))
    else:
        print(format_table(answer, emphasis=sys.stdout.isatty()))
    return EXIT_OK


def run_serve(args, home: IndexHome) -> int:
    from search.serve import serve

    return serve(home, args.host, args.port, args.threads, workers=args.workers)
