"""Dedupe stage: one article per story, keeping the copy that says more.

Two copies are one story when they share an id (the same item re-read, a
JSONL record given twice), or when they come from different files and point
to the same URL with no other story of their file pointing there: a feed
item and its saved page, or one site's RSS and Atom feeds.  Items of one
feed that share a link but carry distinct guids stay distinct (a bulletin
page linked from every item): the guid is their identity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from search.model import Article


def richer(a: Article, b: Article) -> Article:
    """Of two copies of one story, keep the one that says more."""
    def weight(x: Article) -> tuple:
        return (len(x.body), bool(x.date), len(x.title), bool(x.url), len(x.given))
    return b if weight(b) > weight(a) else a


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
    """One article per story (the richer copy); returns the survivors and the duplicate count."""
    survivors, duplicates = _by_id(articles)
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
