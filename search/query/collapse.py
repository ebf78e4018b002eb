"""One result per story cluster: the first of each cluster in the requested order, with its similar count.

Totals and facet counts keep counting articles; only the result list (and its pager) is
collapsed. The first ``k`` distinct clusters are found from a growing prefix of the ordered
hits (``order(k)`` is a partial sort), so a page costs a top-k, not a full sort, unless a few
clusters hold most of the hits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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


def members_in(hits: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Hits per cluster number (index: cluster number)."""
    labels = cluster[hits]
    return np.bincount(labels[labels >= 0], minlength=int(cluster.max()) + 1 if len(cluster) else 0)


def groups(hits: np.ndarray, cluster: np.ndarray) -> int:
    """How many clusters the hits fall into (the number of collapsed results)."""
    return int(np.count_nonzero(members_in(hits, cluster)))
