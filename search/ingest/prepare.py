"""Prepare stage: strip page furniture where a format carries it, then normalise.

Boilerplate is judged across articles (a paragraph repeated in several
articles of one source is furniture), so this runs after all files are read.
"""

from __future__ import annotations

from pathlib import Path

from search.ingest.boilerplate import RepeatedParagraphs, is_caption, strip_boilerplate
from search.ingest.normalise import clean_text, normalise, paragraphs
from search.model import Article, Rejected

CLEANUP_FORMATS = {"seedtext"}  # formats whose text carries page furniture


def cleanup_group(article: Article) -> str:
    """Articles of one source share furniture; without a source, the folder stands for it."""
    return article.source or str(Path(article.path).parent)


def prepare(
    articles: list[Article], repeated: RepeatedParagraphs, rejected: list[Rejected]
) -> list[Article]:
    """Strip boilerplate where the format needs it (counting repeats first), then normalise every article.

    The one place articles are normalised: a title derived from the text and
    the content hash must see the text after boilerplate is gone.
    """
    return finish(count_repeats(articles, repeated), repeated, rejected)


def count_repeats(articles: list[Article], repeated: RepeatedParagraphs) -> list[Article]:
    """The first half of ``prepare``: clean the text of formats with furniture and count their paragraphs.

    A streaming build runs it on every batch before ``finish`` runs on any, so the
    counts are those of the whole run, as when ``prepare`` sees all articles at once.
    """
    staged = []
    for article in articles:
        if article.format in CLEANUP_FORMATS:
            article = article.replace(body=clean_text(article.body))
            repeated.add(cleanup_group(article), paragraphs(article.body))
        staged.append(article)
    return staged


def finish(staged: list[Article], repeated: RepeatedParagraphs, rejected: list[Rejected]) -> list[Article]:
    """The second half of ``prepare``: strip repeated paragraphs and captions, normalise."""
    out = []
    for article in staged:
        if article.format in CLEANUP_FORMATS:
            kept = strip_boilerplate(paragraphs(article.body), cleanup_group(article), repeated)
            if not kept:
                rejected.append(Rejected(article.path, article.line, "no article text left after boilerplate"))
                continue
            captions = [p for p in paragraphs(article.body) if is_caption(p)]
            article = article.replace(body="\n\n".join(kept), captions=captions)
        out.append(normalise(article))
    return out
