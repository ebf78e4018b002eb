"""Entities stage: fill the entity fields a format did not give, from the article's text."""

from __future__ import annotations

import hashlib
from pathlib import Path

from search.facets import ENTITY_FIELDS
from search.ingest.cluster import TaskPool
from search.ingest.entities.extract import EntityExtractor
from search.model import Article


def entity_text(article: Article) -> str:
    """What the extractor reads: headline, body, and captions (they name who is pictured)."""
    return "\n\n".join([article.title, article.body, *article.captions])


def add_entities(articles: list[Article], cache_path: Path, with_extraction: bool = True,
                 pool: TaskPool | None = None) -> list[Article]:
    """Fill entity fields the format did not give, from the text (cached by content hash; model runs on ``pool``)."""
    todo = [i for i, a in enumerate(articles) if a.needs_entities]
    if not todo or not with_extraction:
        return articles
    extractor = EntityExtractor(cache_path=cache_path, pool=pool)
    try:
        texts = (entity_text(articles[i]) for i in todo)
        items = ((hashlib.blake2b(t.encode(), digest_size=16).hexdigest(), t) for t in texts)
        for i, found in zip(todo, extractor.extract_many(items), strict=True):
            article = articles[i]
            missing = {k: found.get(k, []) for k in ENTITY_FIELDS if k not in article.given}
            articles[i] = article.replace(**missing)
    finally:
        extractor.close()
    return articles
