"""What the live index holds: counts, date range, sources, and the last run's outcome.

Counts come from the generation's numpy columns (``columns.npz``), so stats
cost the same on a million articles as on ten.
"""

from __future__ import annotations

import time

import numpy as np

from search.index import columns
from search.index.generations import IndexHome

_ISO = "%Y-%m-%dT%H:%M:%SZ"


def collect_stats(home: IndexHome) -> dict:
    live = home.require_live()
    meta = home.read_meta(live)
    cols = columns.load(live)
    dated = cols.date[cols.live & (cols.date != columns.NO_DATE)]
    dates = [time.strftime(_ISO, time.gmtime(int(d))) for d in (dated.min(), dated.max())] if len(dated) else None
    documents = int(cols.live.sum())
    return {
        "index": str(home.root),
        "generation": meta.get("generation", home.number_of(live)),
        "built_at": meta.get("built_at"),
        "build_seconds": meta.get("build_seconds"),
        "last_run": meta.get("kind"),
        "documents": documents,
        "undated": documents - len(dated),
        "date_range": dates,
        "sources": source_counts(cols),
        "files": meta.get("files"),
        "rejected_last_run": meta.get("rejected"),
        "duplicates_last_run": meta.get("duplicates"),
        "generations_on_disk": home.numbers(),
    }


def source_counts(cols: columns.Columns) -> dict[str, int]:
    """Articles per source, most first; articles without a source count as "(none)"."""
    facet = cols.facets["source"]
    counts = np.bincount(facet.pair_val[cols.live[facet.pair_doc]], minlength=len(facet.vocab))
    out = {str(facet.vocab[i]): int(counts[i]) for i in np.argsort(-counts, kind="stable") if counts[i]}
    has_source = np.zeros(cols.size, bool)
    has_source[facet.pair_doc] = True
    none = int((cols.live & ~has_source).sum())
    if none:
        out["(none)"] = none
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


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
