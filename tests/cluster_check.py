"""A generation's story clusters by article id, for tests that compare an updated index with a rebuilt one."""

from __future__ import annotations

from pathlib import Path

from search.index import clusters, columns


def cluster_keys(live: Path) -> dict[str, str]:
    """Every live article's public cluster key."""
    ids = columns.load_ids(live)
    column = clusters.load_column(live, len(ids))
    assert ((column.cluster >= 0) == (ids != "")).all()  # a cluster for every live doc, none for a deleted one
    return {i: column.key(int(n)) for i, n in zip(ids.tolist(), column.cluster.tolist(), strict=True) if i}


def cluster_sets(live: Path) -> set[frozenset[str]]:
    """The clusters as sets of article ids."""
    groups: dict[str, set[str]] = {}
    for article, key in cluster_keys(live).items():
        groups.setdefault(key, set()).add(article)
    return {frozenset(members) for members in groups.values()}
