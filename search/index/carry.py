"""Articles carried over from the live generation for files that could not be read this time.

A rebuild used to drop the articles of a file it could not read whole (made
unreadable, rewritten mid-run, a read error): the new generation silently
lost them.  Every field a result shows is stored, so the live generation's
documents of such a file become Articles again and go into the new one as
they were, entity fields included: ``CARRIED_FORMAT`` tells extraction they are
found already, while ``given`` stays what the format gave, as dedupe weighs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from search.facets import ENTITY_FIELDS
from search.index.schema import SEPARATOR
from search.index.writer import open_index
from search.model import CARRIED_FORMAT, Article

_ARTICLE_FIELDS = {f.name for f in dataclasses.fields(Article)}


def carried_articles(generation: Path | None, paths: Iterable[str]) -> list[Article]:
    """The stored articles of ``paths`` in ``generation`` (none if there is no live generation)."""
    wanted = set(paths)
    if generation is None or not wanted:
        return []
    out = []
    with open_index(generation).searcher() as searcher:
        for path in sorted(wanted):
            for fields in searcher.documents(path=path):
                out.append(article_from_stored(fields))
    return out


def article_from_stored(fields: dict) -> Article:
    """An Article from one stored document (the inverse of writer.to_document)."""
    data = dict(fields.get("data") or {})
    values = {k: v for k, v in data.items() if k in _ARTICLE_FIELDS}
    for name, value in values.items():
        if isinstance(value, str) and SEPARATOR in value:
            values[name] = value.split(SEPARATOR)
    date = fields.get("date")
    if isinstance(date, datetime) and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return Article(**{
        **values,
        "body": fields.get("body", ""),
        "title": fields.get("title", ""),
        "date": date,
        "id": fields["id"],
        "content_hash": fields.get("hash", ""),
        "path": fields.get("path", ""),
        "given": frozenset(data.get("given", ENTITY_FIELDS)),  # as read: dedupe weighs a copy by it
        "format": CARRIED_FORMAT,
    })
