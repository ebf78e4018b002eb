"""``newsearch watch add|list|remove|run``, and recording saved searches' news after a rebuild or update.

    newsearch watch add iran-oil --places iran "oil OR crude"
    newsearch watch list
    newsearch watch run          # cron: mails what is new to each saved search, one line per article
    newsearch watch remove iran-oil
"""

from __future__ import annotations

import argparse
import sys

from search.facets import FILTER_FACETS
from search.index.generations import IndexHome
from search.watch import EngineMatcher, WatchError, Watches, line

EXIT_OK, EXIT_FATAL = 0, 2


def add_parser(watch: argparse.ArgumentParser, index_help: str) -> None:
    """Fill the ``watch`` command's parser (``watch`` already has --index)."""
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--index", default=argparse.SUPPRESS, metavar="DIR", help=index_help)
        return sub

    add = action("add", "save a search: NAME, then filters and query words as for 'newsearch search'")
    add.add_argument("name", metavar="NAME", help="letters, digits, '.', '_' or '-' (also the feed's URL)")
    add.add_argument("--from", dest="from_", metavar="DATE", help="earliest date")
    add.add_argument("--to", metavar="DATE", help="latest date, inclusive")
    for facet in FILTER_FACETS:
        add.add_argument(f"--{facet}", action="append", default=[], metavar="VALUE", help=f"filter by {facet}")
    add.add_argument("query", nargs="*", help="query words (empty: every article)")
    action("list", "list the saved searches")
    remove = action("remove", "forget a saved search and what it matched")
    remove.add_argument("name", metavar="NAME")
    action("run", "print the articles new to each saved search since its last run (one line each)")


def params_of(args) -> list[tuple[str, str]]:
    out = [("q", " ".join(args.query))] if args.query else []
    out += [(key, value) for key, value in (("from", args.from_), ("to", args.to)) if value]
    out += [(facet, value) for facet in FILTER_FACETS for value in getattr(args, facet)]
    return out


def run(args, home: IndexHome) -> int:
    from search.query.engine import SearchEngine
    from search.query.errors import QueryError
    from search.query.params import SearchParams

    watches = Watches(home.root)
    try:
        if args.watch_command == "add":
            params = params_of(args)
            grouped: dict[str, list[str]] = {}
            for key, value in params:
                grouped.setdefault(key, []).append(value)
            SearchParams.from_mapping(grouped)  # a bad date or query fails here, before anything is saved
            found = watches.add(args.name, params, EngineMatcher(SearchEngine(home.root)))
            print(f"saved '{args.name}': {found} articles match now; new ones are recorded after each rebuild/update")
        elif args.watch_command == "list":
            for watch in watches.list():
                print(watch.describe())
        elif args.watch_command == "remove":
            watches.remove(args.name)
            print(f"removed '{args.name}'")
        else:
            for name, article in watches.run():
                print(line(name, article))
    except (WatchError, QueryError) as exc:
        print(f"newsearch: {exc}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def record(home: IndexHome) -> dict[str, int]:
    """After a published rebuild/update: every saved search's never-seen matches (none if none are saved)."""
    watches = Watches(home.root)
    if not watches.list():
        return {}
    from search.query.engine import SearchEngine

    return watches.record(EngineMatcher(SearchEngine(home.root)))
