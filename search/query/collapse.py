"""One result per story cluster: the first of each cluster in the requested order, with its similar count.

Totals and facet counts keep counting articles; only the result list (and its pager) is
collapsed. The first ``k`` distinct clusters are found from a growing prefix of the ordered
hits (``order(k)`` is a partial sort), so a page costs a top-k, not a full sort, unless a few
clusters hold most of the hits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from search.index.clusters import Column
    from search.query.answer import Result
    from search.query.hits import HitSet
    from search.query.params import SearchParams

GROW = 4  # how much longer the next prefix is when a prefix held too few distinct clusters


def first_of_each(docs: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """``docs`` (in order) keeping only the first doc of each cluster."""
    if not len(docs):
        return docs
    _, first = np.unique(cluster[docs], return_index=True)
    return docs[np.sort(first)]


def collapsed_order(order: Callable[[int], np.ndarray], hits: int, cluster: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` hits in order, one per cluster (``order(n)``: the first n hits in order)."""
    want = max(k, 1)
    while True:
        docs = order(want)
        firsts = first_of_each(docs, cluster)
        if len(firsts) >= k or len(docs) >= hits:
            return firsts[:k]
        want *= GROW


def members_in(hits: np.ndarray, clusters: Column) -> np.ndarray:
    """Hits per cluster number (index: cluster number); ``np.count_nonzero`` of it: the collapsed results."""
    labels = clusters.cluster[hits]
    return np.bincount(labels[labels >= 0], minlength=len(clusters))


def page(hit_set: HitSet, clusters: Column, params: SearchParams) -> tuple[np.ndarray, np.ndarray, int]:
    """The docs of the requested page, the hits per cluster, and how many results the whole list holds."""
    hits, k = hit_set.hits, params.page * params.per_page
    similar = members_in(hits, clusters)
    if params.collapse and not params.cluster:
        docs, shown = collapsed_order(hit_set.order, len(hits), clusters.cluster, k), np.count_nonzero(similar)
    else:
        docs, shown = hit_set.order(k), len(hits)
    return docs[(params.page - 1) * params.per_page:], similar, int(shown)


def tag(result: Result, doc: int, clusters: Column, similar: np.ndarray) -> Result:
    """A result with its cluster id and how many other articles of that cluster are among the hits."""
    number = int(clusters.cluster[doc])
    result["cluster"] = clusters.key(number) if number >= 0 else ""
    result["similar"] = int(similar[number]) - 1 if number >= 0 else 0
    return result
