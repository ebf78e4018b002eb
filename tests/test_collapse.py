"""Collapsing a result list to one article per cluster."""

from __future__ import annotations

import numpy as np

from search.index.clusters import Column
from search.query.collapse import collapsed_order, first_of_each, members_in

# docs 0..9; clusters: {0,3,4}, {1,7}, and the rest alone
CLUSTER = np.array([0, 1, 2, 0, 0, 5, 6, 1, 8, 9], dtype=np.int32)


def test_first_of_each_keeps_order():
    assert first_of_each(np.array([4, 7, 3, 1, 2]), CLUSTER).tolist() == [4, 7, 2]


def test_collapsed_order_grows_its_prefix_until_k_clusters():
    ranked = np.array([3, 0, 4, 7, 1, 9, 2])  # the order a query gives
    asked = []

    def order(n):
        asked.append(n)
        return ranked[:n]

    assert collapsed_order(order, len(ranked), CLUSTER, 3).tolist() == [3, 7, 9]
    assert asked == [3, 12]  # the first 3 held one cluster only
    assert collapsed_order(lambda n: ranked[:n], len(ranked), CLUSTER, 10).tolist() == [3, 7, 9, 2]


def test_members_and_groups_count_hits_per_cluster():
    hits = np.array([0, 1, 3, 5, 7])
    counts = members_in(hits, Column(CLUSTER, np.arange(10, dtype=np.uint64)))
    assert counts[0] == 2 and counts[1] == 2 and counts[5] == 1
    assert np.count_nonzero(counts) == 3  # the collapsed results
