"""Dedupe stage: one article per story, keeping the copy that says more.

Two copies are one story when they share an id (the same item re-read, a
JSONL record given twice), or when they come from different files and point
to the same URL with no other story of their file pointing there: a feed
item and its saved page, or one site's RSS and Atom feeds.  Items of one
feed that share a link but carry distinct guids stay distinct (a bulletin
page linked from every item): the guid is their identity.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from search.model import Article


def weight(x: Article) -> tuple:
    """How much a copy says: the first difference decides (``richer``)."""
    return (len(x.body), bool(x.date), len(x.title), bool(x.url), len(x.given))


def richer(a: Article, b: Article) -> Article:
    """Of two copies of one story, keep the one that says more (``a``, the earlier, on a tie)."""
    return b if weight(b) > weight(a) else a


def file_order(path: str, line: int) -> tuple:
    """Where a copy stands in a rebuild's reading order: the walk's (folders read depth first, names sorted),
    then its line. ``update`` breaks ties with it, as a rebuild breaks them by which copy it read first."""
    return Path(path).parts, line


def _by_id(articles: Iterable[Article]) -> tuple[list[Article], int]:
    by_id: dict[str, Article] = {}
    duplicates = 0
    for article in articles:
        seen = by_id.get(article.id)
        if seen is not None:
            duplicates += 1
            by_id[article.id] = richer(seen, article)
        else:
            by_id[article.id] = article
    return list(by_id.values()), duplicates


def _same_url_groups(articles: list[Article]) -> list[list[int]]:
    """Positions of articles that are one story by URL: one per file, from two files or more."""
    by_url: dict[str, list[int]] = defaultdict(list)
    for i, article in enumerate(articles):
        if article.url:
            by_url[article.url].append(i)
    groups = []
    for members in by_url.values():
        paths = [articles[i].path for i in members]
        if len(members) > 1 and len(set(paths)) == len(paths):
            groups.append(members)
    return groups


def dedupe(articles: Iterable[Article]) -> tuple[list[Article], int]:
    """One article per story (the richer copy); returns the survivors and the duplicate count.

    Copies are taken in file order (``file_order``), whatever order they come in."""
    survivors, duplicates = _by_id(sorted(articles, key=lambda a: file_order(a.path, a.line)))
    merged: dict[int, Article] = {}
    dropped: set[int] = set()
    for members in _same_url_groups(survivors):
        best = survivors[members[0]]
        for i in members[1:]:
            best = richer(best, survivors[i])
        merged[members[0]] = best
        dropped.update(members[1:])
        duplicates += len(members) - 1
    out = [merged.get(i, a) for i, a in enumerate(survivors) if i not in dropped]
    return out, duplicates


# -- the same choice over a stream of batches, from compact keys ----------------------------------------
def _digest(text: str) -> tuple[int, int]:
    """Two 64-bit halves of a 128-bit hash: ids and URLs compared without keeping the strings."""
    raw = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


class StreamDedupe:
    """``dedupe``'s choice for articles seen batch by batch, holding ~80 bytes per article instead of the article.

    ``add`` records each article's keys in stream order (id and URL as 128-bit hashes, path as a
    number, the ``richer`` weight, the line); ``survivors`` decides in file order, as ``dedupe``
    does, and returns the stream positions ``dedupe`` would keep, in the order it would return
    them (``tests/test_stream_build.py`` checks both on the same articles). At Reuters ×100
    (2.16 M articles) the keys take ~190 MB; the articles ~8 GB.
    """

    _COLUMNS = ("id_hi", "id_lo", "url_hi", "url_lo", "has_url", "path", *(f"w{i}" for i in range(5)), "line")

    def __init__(self):
        self._parts: list[np.ndarray] = []
        self._paths: dict[str, int] = {}
        self.id_losers = np.zeros(0, dtype=np.int64)  # after ``survivors``: positions of copies another copy of
        # their id beat (what ``update`` may need back, ``search.copies``); copies the URL rule drops are not here

    def add(self, articles: Iterable[Article]) -> None:
        rows = []
        for article in articles:
            url = _digest(article.url) if article.url else (0, 0)
            path = self._paths.setdefault(article.path, len(self._paths))
            rows.append((*_digest(article.id), *url, bool(article.url), path, *weight(article), article.line))
        self._parts.append(np.array(rows, dtype=np.uint64).reshape(-1, len(self._COLUMNS)))

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def survivors(self) -> tuple[np.ndarray, int]:
        """(stream positions of the kept articles in ``dedupe``'s output order, number of duplicates)."""
        if not len(self):
            return np.zeros(0, dtype=np.int64), 0
        table = np.vstack(self._parts)
        self._parts = []
        # decided in file order (carried articles come last in a stream; update compares in this order too)
        path_rank = np.empty(len(self._paths), dtype=np.uint64)
        path_rank[[self._paths[p] for p in sorted(self._paths, key=lambda p: file_order(p, 0))]] = \
            np.arange(len(self._paths), dtype=np.uint64)
        col = {name: table[:, i] for i, name in enumerate(self._COLUMNS)}
        in_file_order = np.lexsort((np.arange(len(table)), col["line"], path_rank[col["path"]]))
        table = table[in_file_order]
        self._parts = [table]  # not two copies of the keys while deciding
        col = {name: table[:, i] for i, name in enumerate(self._COLUMNS)}
        weights = [col[f"w{i}"].astype(np.int64) for i in range(5)]
        position = np.arange(len(table))
        # by id: slot at the first copy, holding the earliest copy of greatest weight (``richer`` keeps ties)
        firsts, best = _richest_per_group(position, weights, col["id_hi"], col["id_lo"])
        beaten = np.ones(len(table), dtype=bool)
        beaten[best] = False
        self.id_losers = np.sort(in_file_order[beaten])
        slot_order = np.argsort(firsts, kind="stable")
        slots = best[slot_order]  # one row per surviving id, in first-seen order
        # by URL: slots sharing a URL, one per file, become the richest of them at the first one's place
        slot_number = np.arange(len(slots))
        with_url = slot_number[col["has_url"][slots] == 1]
        rows = slots[with_url]
        url_hi, url_lo = col["url_hi"][rows], col["url_lo"][rows]
        order = np.lexsort((with_url, col["path"][rows], url_lo, url_hi))
        url_hi, url_lo, paths, members = url_hi[order], url_lo[order], col["path"][rows][order], with_url[order]
        new_url = np.r_[True, (url_hi[1:] != url_hi[:-1]) | (url_lo[1:] != url_lo[:-1])]
        group = np.cumsum(new_url) - 1
        same_path = np.r_[False, ~new_url[1:] & (paths[1:] == paths[:-1])]
        sizes = np.bincount(group)
        usable = (sizes > 1) & (np.bincount(group, weights=same_path) == 0)
        take = usable[group]
        keep = np.ones(len(slots), dtype=bool)
        if take.any():
            members, group = members[take], group[take]
            first_member, richest = _richest_per_group(
                members, [w[slots[members]] for w in weights], group.astype(np.uint64), np.zeros(len(group), np.uint64))
            keep[members] = False
            keep[first_member] = True
            slots = slots.copy()
            slots[first_member] = slots[richest]
        kept = slots[keep]
        return in_file_order[kept], len(table) - len(kept)


def _richest_per_group(order: np.ndarray, weights: list[np.ndarray], hi: np.ndarray,
                       lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group of equal (hi, lo): the smallest ``order`` and the ``order`` of the earliest heaviest member."""
    sort = np.lexsort((order, *(-w for w in reversed(weights)), lo, hi))
    hi, lo = hi[sort], lo[sort]
    starts = np.flatnonzero(np.r_[True, (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])])
    return np.minimum.reduceat(order[sort], starts) if len(sort) else order[:0], order[sort][starts]
