"""The ``newsearch`` command: rebuild, update, search, serve, stats, rollback.

Exit codes (DESIGN.md): 0 done, 1 done with rejected inputs, 2 usage or fatal
error, 3 shrink guard refused the swap, 75 another run holds the lock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from search.facets import FACETS, FILTER_FACETS
from search.index import integrity
from search.index.generations import IndexHome, Locked, NoIndex, default_root
from search.index.integrity import CorruptGeneration
from search.query.params import SORTS

EXIT_OK, EXIT_REJECTED, EXIT_FATAL, EXIT_SHRINK, EXIT_LOCKED = 0, 1, 2, 3, 75
EXIT_MEANINGS = {  # the README's exit-code table says the same (tests/test_docs.py keeps them in step)
    EXIT_OK: "done",
    EXIT_REJECTED: "done, but some inputs were rejected (each listed on stderr as path:line: reason)",
    EXIT_FATAL: "usage error or fatal error; the live index is untouched",
    EXIT_SHRINK: "refused to swap: the new generation has fewer than half the live one's articles "
                 "(--force overrides)",
    EXIT_LOCKED: "another rebuild/update holds the lock; nothing changed",
}
QUERY_SYNTAX = """\
query syntax:
  nato summit                     articles with both words
  "interest rates"                the exact phrase
  nato OR eu, ukraine -russia     either word; leave a word out (also AND, NOT, ( groups ))
  people:putin, title:election    search one field: title body people orgs places source topics authors
  infla*, st?rm                   words that start with "infla"; one unknown letter
  date:2025-09, date:>=1987-03    a period; also date:[1987-03-01 TO 1987-03-15]
"""
EXAMPLES = {
    "rebuild": """\
  newsearch rebuild --index /srv/news/index /data/news
  newsearch rebuild --quiet feeds/ archive-2024.jsonl.gz    # one summary line, as under cron
  newsearch rebuild --scheduler tcp://10.0.0.5:8786 /data/news  # read and extract on a Dask cluster""",
    "update": """\
  newsearch update --index /srv/news/index /data/news
  */10 * * * * newsearch update --index /srv/news/index /data/news    # crontab""",
    "search": """\
  newsearch search nato summit --from 2024-01-01 --to 2024-06-30
  newsearch search --people "Vladimir Putin" --sort newest 'gas OR oil'
  newsearch search --json --per-page 50 '"interest rates"' | jq '.results[].title'""",
    "serve": """\
  newsearch serve                                  # http://127.0.0.1:8080/, indexes seeds/ if needed
  newsearch serve --host 0.0.0.0 --port 8000 --workers 2""",
    "stats": """\
  newsearch stats --index /srv/news/index
  newsearch stats --json | jq .documents""",
    "rollback": """\
  newsearch rollback --index /srv/news/index""",
    "watch": """\
  newsearch watch add iran-oil --places iran 'oil OR crude'
  newsearch watch list
  newsearch watch run            # crontab after the update: mails one line per new article
  newsearch watch remove iran-oil""",
}


QUIET_HELP = "no progress bar and no phase lines (rejected records are still listed on stderr)"


def package_version() -> str:
    try:
        return metadata.version("newsearch")
    except metadata.PackageNotFoundError:  # run from a checkout that was never pip-installed
        return "unknown (not installed)"


def exit_codes_text() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<3} {meaning}" for code, meaning in EXIT_MEANINGS.items())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsearch", description="Full-text faceted search over news archives.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  newsearch rebuild --index /srv/news/index /data/news\n"
               "  newsearch search --index /srv/news/index nato summit\n"
               "  newsearch serve --index /srv/news/index\n\n"
               "'newsearch COMMAND --help' shows each command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, *extra: str) -> argparse.ArgumentParser:
        epilog = "\n\n".join([*extra, "examples:\n" + EXAMPLES[name]])
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--index", default=str(default_root()), metavar="DIR",
                         help="index directory (default: $NEWSEARCH_INDEX, else ./index)")
        return sub

    sources_help = "folders (walked recursively) and files: seed text, JSONL, Reuters SGML, RSS/Atom, HTML; .gz too"
    rebuild = command("rebuild", "build a new generation from SOURCE folders/files and swap it in atomically",
                      exit_codes_text())
    rebuild.add_argument("--force", action="store_true", help="swap even if the new generation is far smaller")
    rebuild.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    rebuild.add_argument("--no-entities", action="store_true", help="skip entity extraction (given fields only)")
    scheduler_help = ("read files and extract entities on a Dask cluster: the scheduler's address "
                      "(tcp://host:8786), or 'local' for one started on this machine; the index is the same")
    rebuild.add_argument("--scheduler", metavar="ADDRESS", help=scheduler_help)
    memory_help = ("memory the run's processes may use together, in MB: sets the documents per index segment "
                   "(default: $NEWSEARCH_MEMORY_MB, else %(default)s)")
    rebuild.add_argument("--memory-mb", type=int, default=_memory_default(), metavar="N", help=memory_help)
    rebuild.add_argument("sources", nargs="+", metavar="SOURCE", help=sources_help)

    update = command("update", "add new and changed articles from SOURCE to the live index", exit_codes_text())
    update.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    update.add_argument("--prune", action="store_true",
                        help="also remove the articles of source files under SOURCE that no longer exist")
    update.add_argument("--scheduler", metavar="ADDRESS", help=scheduler_help)
    update.add_argument("--memory-mb", type=int, default=_memory_default(), metavar="N", help=memory_help)
    update.add_argument("sources", nargs="+", metavar="SOURCE", help=sources_help)

    search = command("search", "search the index (same results as the web API)", QUERY_SYNTAX.rstrip())
    search.add_argument("--json", action="store_true", help="print the JSON answer (the /api/search shape)")
    search.add_argument("--from", dest="from_", metavar="DATE", help="earliest date (anything dateutil reads)")
    search.add_argument("--to", metavar="DATE", help="latest date, inclusive")
    for facet in FACETS:
        if facet.filterable:
            search.add_argument(f"--{facet.name}", action="append", default=[], metavar="VALUE",
                                help=f"filter: {facet.help} (repeatable: OR within a facet, AND across)")
    search.add_argument("--sort", choices=SORTS, default=SORTS[0],
                        help=f"result order (default: {SORTS[0]})")
    search.add_argument("--page", type=int, default=1, metavar="N", help="page of results to show (default: 1)")
    search.add_argument("--per-page", type=int, default=10, metavar="N", help="results per page (default: 10)")
    search.add_argument("query", nargs="*", help="query words (empty: browse everything)")

    serve = command("serve", "serve the web UI and JSON API (indexes seeds/ first if there is no index)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default: 8080)")
    serve.add_argument("--workers", type=int, default=None, metavar="N", help="processes (default: one per core)")
    serve.add_argument("--threads", type=int, default=4, metavar="N", help="threads per process (default: 4)")
    serve.add_argument("--base-url", metavar="URL", default=None,
                       help="public origin for feed and OpenSearch links, e.g. https://news.example.org "
                            "(default: $NEWSEARCH_BASE_URL, else the address served on; never the Host header)")

    stats = command("stats", "show what the live index holds")
    stats.add_argument("--json", action="store_true", help="print the numbers as JSON")

    command("rollback", "make the previous generation live again")

    from search import cli_watch

    watch = command("watch", "saved searches: add, list, remove; run prints what is new to each since its last run")
    cli_watch.add_parser(watch, "index directory (default: $NEWSEARCH_INDEX, else ./index)")
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
        "watch": run_watch,
    }[args.command]
    try:
        return handler(args, home)
    except Locked as exc:
        print(f"newsearch: {exc}; nothing changed", file=sys.stderr)
        return EXIT_LOCKED
    except (NoIndex, CorruptGeneration) as exc:
        print(f"newsearch: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("newsearch: interrupted; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:
        # The reader went away (``newsearch search … | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # e.g. rollback on a read-only index
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    except Exception as exc:  # a bug: exit 2 (fatal), never 1, which cron scripts read as "done, some rejected"
        traceback.print_exc()
        print(f"newsearch: internal error ({type(exc).__name__}: {exc}); the live index is untouched",
              file=sys.stderr)
        return EXIT_FATAL


@contextlib.contextmanager
def reading_live(home: IndexHome) -> Iterator[None]:
    """A failure while reading the live generation is reported as its corruption if it is damaged."""
    try:
        yield
    except Exception as exc:
        found = integrity.diagnose(home.live(), exc)
        if found is exc:
            raise
        raise found from exc


def run_build(args, home: IndexHome) -> int:
    from search import build
    from search.ingest import cluster

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
        on_reject=lambda line: print(line, file=sys.stderr),  # --quiet never hides an error
        prune=getattr(args, "prune", False),
        memory_mb=args.memory_mb,
    )
    run = build.rebuild if args.command == "rebuild" else build.update
    try:
        with reading_live(home), cluster.connect(args.scheduler) as options.pool:
            report = run(home, args.sources, options)  # an update over a damaged live generation names it
    except cluster.ClusterError as exc:
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    except build.ShrinkRefused as exc:
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_SHRINK
    except OSError as exc:
        print(f"newsearch: {exc}; the live index is untouched", file=sys.stderr)
        return EXIT_FATAL
    print(report.summary())
    _record_watches(home)
    return EXIT_REJECTED if report.rejected else EXIT_OK


def _record_watches(home: IndexHome) -> None:
    """Saved searches note their never-seen matches; a failure here never fails the build that went live."""
    from search import cli_watch

    try:
        cli_watch.record(home)
    except Exception as exc:  # noqa: BLE001 - the new generation is live; report and carry on
        print(f"newsearch: saved searches not updated: {exc}", file=sys.stderr)


def run_watch(args, home: IndexHome) -> int:
    from search import cli_watch

    return cli_watch.run(args, home)


def _memory_default() -> int:
    from search.build import DEFAULT_MEMORY_MB, MEMORY_ENV

    value = os.environ.get(MEMORY_ENV, "")
    return int(value) if value.isdigit() else DEFAULT_MEMORY_MB


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

    with reading_live(home):
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
            **{facet: getattr(args, facet) for facet in FILTER_FACETS},
        })
        with reading_live(home):
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

    return serve(home, args.host, args.port, args.threads, workers=args.workers, base_url=args.base_url)
