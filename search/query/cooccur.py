"""Co-occurrence for entity pages: which values appear with an entity more often than chance.

For a facet value v, ``count`` is the number of the entity's articles that carry v (exact,
the same count the facet sidebar shows for that filter) and ``score`` is the lift: how many
times more often v appears in the entity's articles than in the background (the same search
without the entity):

    score = (count / n) / (background_count / N)

A lift from a handful of articles is noise (one shared article with a value seen once in the
archive gives a lift of N/n), so values need ``MIN_COUNT`` co-occurrences to be ranked. On
Reuters-21578 the places seen most often with ``places=iran`` (177 articles) by raw count are
usa 89, iraq 66, uk 27, kuwait 22; by lift: iraq 90, cyprus 61, kuwait 52, nicaragua 48,
qatar 46, …; usa (on 58% of all articles, lift 0.87) comes 20th.
"""

from __future__ import annotations

import numpy as np

from search.index.columns import Facet

MIN_COUNT = 3  # co-occurrences a value needs before its lift is ranked (or half the entity's articles, if fewer)
LIMIT = 20


def counts(facet: Facet, mask: np.ndarray, hits: np.ndarray | None = None) -> np.ndarray:
    """Articles per value over a hit set (``mask``: bool per doc; ``hits``: its doc numbers if known)."""
    return facet.count(np.flatnonzero(mask) if hits is None else hits, mask)


def archive_counts(facet: Facet) -> np.ndarray:
    """Articles per value over the whole generation (every stored pair belongs to a live doc)."""
    return np.diff(facet.val_ptr)


def cooccurring(facet: Facet, counted: np.ndarray, n: int, background: np.ndarray, total: int,
                exclude: np.ndarray | None = None, limit: int = LIMIT, min_count: int = MIN_COUNT,
                label=lambda value: value) -> list[dict]:
    """Values ranked by lift (ties: more articles, then name), each with its raw count.

    ``counted``/``n``: per-value counts over the entity's articles and how many there are;
    ``background``/``total``: the same over the background hit set. ``exclude``: value ids
    not to list (the entity itself).
    """
    if not n or not total:
        return []
    need = max(1, min(min_count, -(-n // 2)))
    candidates = np.flatnonzero(counted >= need)
    if exclude is not None and len(exclude):
        candidates = candidates[~np.isin(candidates, exclude)]
    if not len(candidates):
        return []
    lift = (counted[candidates] / n) / (np.maximum(background[candidates], counted[candidates]) / total)
    order = np.lexsort((facet.vocab[candidates], -counted[candidates], -lift))[:limit]
    return [{"value": str(facet.vocab[candidates[i]]), "label": label(str(facet.vocab[candidates[i]])),
             "count": int(counted[candidates[i]]), "score": round(float(lift[i]), 2)}
            for i in order.tolist()]
