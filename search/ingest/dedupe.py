"""Dedupe stage: one article per id, keeping the copy that says more."""

from __future__ import annotations

from collections.abc import Iterable

from search.model import Article


def richer(a: Article, b: Article) -> Article:
    """Of two copies of one story, keep the one that says more."""
    def weight(x: Article) -> tuple:
        return (len(x.body), bool(x.date), len(x.title), bool(x.url), len(x.given))
    return b if weight(b) > weight(a) else a


def dedupe(articles: Iterable[Article]) -> tuple[list[Article], int]:
    """One article per id (the richer copy); returns the survivors and the duplicate count."""
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
