"""Attention over time: per-period counts of several queries on one shared axis, and their share of all articles.

A busier month holds more articles about everything; ``share`` divides each period's count by
the number of all (dated) articles in that period, so a rise in share is a rise in attention.
Every series gets the same buckets (the span of all series' dated hits), so they line up in
one chart, one JSON document and one CSV table.
"""

from __future__ import annotations

import numpy as np

from search.index.columns import NO_DATE
from search.query.histogram import bucket_units, histogram

INTERVALS = ("day", "week", "month", "year")
MEASURES = ("count", "share")
MAX_SERIES = 6


def auto_interval(dates: np.ndarray) -> str:
    """The interval the histogram would choose for these dates."""
    return histogram(dates)["interval"]


def timeline(all_dates: np.ndarray, series_dates: list[np.ndarray], interval: str | None = None) -> dict:
    """``{"interval", "series": [{"buckets": [{"start", "count", "share"}]}]}`` for dates in epoch seconds.

    ``all_dates``: the date of every live article (the denominators); ``series_dates``: the
    dates of each query's hits. Undated articles count nowhere.
    """
    dated = [d[d != NO_DATE] for d in series_dates]
    joined = np.concatenate(dated) if dated else np.zeros(0, dtype=np.int64)
    interval = interval or auto_interval(joined)
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    if not len(joined):
        return {"interval": interval, "series": [{"buckets": []} for _ in series_dates]}
    units, to_day = bucket_units(joined, interval)
    low, high = int(units.min()), int(units.max())
    width = high - low + 1
    everything = all_dates[all_dates != NO_DATE]
    all_units = bucket_units(everything, interval)[0] - low
    in_range = (all_units >= 0) & (all_units < width)
    totals = np.bincount(all_units[in_range], minlength=width)
    starts = [str(s) for s in to_day(np.arange(low, high + 1))]
    out = []
    for dates in dated:
        counts = np.bincount(bucket_units(dates, interval)[0] - low, minlength=width) if len(dates) \
            else np.zeros(width, dtype=np.int64)
        share = np.divide(counts, totals, out=np.zeros(width), where=totals > 0)
        out.append({"buckets": [{"start": s, "count": int(c), "share": round(float(f), 6)}
                                for s, c, f in zip(starts, counts.tolist(), share.tolist(), strict=True)]})
    return {"interval": interval, "series": out}
