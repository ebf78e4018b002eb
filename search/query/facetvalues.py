"""Every value of one facet over a hit set: paged, filtered by "contains", exact counts.

The search answer lists only the top values of each facet (fast, for the sidebar); this is
the rest, for ``/api/facets/<facet>`` and the ``/facets/<facet>`` page, the way Blacklight's
facet "more" page and Datasette's facet lists work: most frequent first (ties by value),
selected values always listed so they can be unticked, ``contains`` matching the value or
its label case-insensitively.  It works on the per-value count array the hit set already
computes (one masked ``np.bincount``), so a page costs a sort of the non-zero counts.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

MAX_CONTAINS_CHARS = 100
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


class FacetValue(TypedDict):
    value: str
    label: str
    count: int
    selected: bool


class FacetValuesPage(TypedDict):
    facet: str
    total_values: int
    page: int
    per_page: int
    contains: str
    values: list[FacetValue]


def distinct(counts: np.ndarray) -> int:
    """How many values occur in the hit set (``facet_values`` in the search answer)."""
    return int(np.count_nonzero(counts))


def values_page(name: str, vocab: np.ndarray, counts: np.ndarray, selected: np.ndarray, label,
                contains: str = "", page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> FacetValuesPage:
    """One page of a facet's values; ``label(value) -> str``; ``selected`` are value ids.

    ``total_values`` counts the values that pass ``contains`` (all of them without it), so
    ``ceil(total_values / per_page)`` is the number of pages.
    """
    needle = " ".join(contains.split())[:MAX_CONTAINS_CHARS].casefold()
    chosen = {int(i) for i in np.asarray(selected).tolist()}
    ids = np.union1d(np.flatnonzero(counts), np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
    if needle and len(ids):
        ids = ids[[_matches(needle, str(vocab[i]), label) for i in ids.tolist()]]
    order = np.lexsort((vocab[ids], -counts[ids])) if len(ids) else ids
    ranked = ids[order]
    start = (page - 1) * per_page
    shown = ranked[start:start + per_page].tolist()
    return {
        "facet": name,
        "total_values": int(len(ranked)),
        "page": page,
        "per_page": per_page,
        "contains": needle,
        "values": [{"value": str(vocab[i]), "label": label(str(vocab[i])), "count": int(counts[i]),
                    "selected": i in chosen} for i in shown],
    }


def _matches(needle: str, value: str, label) -> bool:
    if needle in value.casefold():
        return True
    shown = label(value)
    return shown != value and needle in shown.casefold()
