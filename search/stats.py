"""What the live index holds: counts, date range, sources, and the last run's outcome."""

from __future__ import annotations

from collections import Counter

from .generations import IndexHome
from .index import open_index

_ISO = "%Y-%m-%dT%H:%M:%SZ"


def collect_stats(home: IndexHome) -> dict:
    live = home.require_live()
    meta = home.read_meta(live)
    ix = open_index(live)
    sources: Counter = Counter()
    stamps = []
    with ix.searcher() as searcher:
        for fields in searcher.reader().all_stored_fields():
            sources[(fields.get("data") or {}).get("source") or "(none)"] += 1
            if fields.get("date"):
                stamps.append(fields["date"])
        documents = searcher.doc_count()
    dates = [min(stamps).strftime(_ISO), max(stamps).strftime(_ISO)] if stamps else None
    return {
        "index": str(home.root),
        "generation": meta.get("generation", home.number_of(live)),
        "built_at": meta.get("built_at"),
        "build_seconds": meta.get("build_seconds"),
        "last_run": meta.get("kind"),
        "documents": documents,
        "undated": meta.get("undated"),
        "date_range": dates or None,
        "sources": dict(sources.most_common()),
        "files": meta.get("files"),
        "rejected_last_run": meta.get("rejected"),
        "duplicates_last_run": meta.get("duplicates"),
        "generations_on_disk": home.numbers(),
    }


def format_stats(stats: dict) -> str:
    lines = [
        f"index        {stats['index']}",
        f"generation   {stats['generation']} ({stats['last_run']}, built {stats['built_at']}, "
        f"{stats['build_seconds']} s)",
        f"documents    {stats['documents']}  (undated {stats['undated']})",
        f"date range   {' … '.join(stats['date_range']) if stats['date_range'] else '-'}",
        f"files        {stats['files']}",
        f"last run     {stats['rejected_last_run']} rejected, {stats['duplicates_last_run']} duplicates",
        f"generations  {', '.join(map(str, stats['generations_on_disk']))}",
        "sources:",
    ]
    lines += [f"  {count:>8}  {name}" for name, count in stats["sources"].items()]
    return "\n".join(lines)
