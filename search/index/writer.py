"""Index stage: turn articles into Whoosh documents and write them into a generation directory.

A full build splits the articles over worker processes; each writes its own
segment and the parent lists them all in one table of contents (what
Whoosh's MpWriter does with ``multisegment=True``, minus pickling every
document through temp files: forked workers already share the article list).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from search.index.schema import SEPARATOR, build_schema
from search.model import Article

WRITER_LIMIT_MB = 256
MIN_DOCS_PER_WORKER = 2000  # below this, process start-up costs more than it saves


def codec() -> W3Codec:
    """Bigger posting blocks and no zlib on them: faster to write and to read, ~20% larger."""
    return W3Codec(blocklimit=256, compression=0)


def to_document(article: Article) -> dict:
    """The Whoosh fields of one article; ``data`` carries what results display."""
    doc = {
        "id": article.id,
        "path": article.path,
        "hash": article.content_hash,
        "title": article.title,
        "body": article.body,
        "data": {
            "source": article.source,
            "url": article.url,
            "authors": article.authors,
            "people": article.people,
            "orgs": article.orgs,
            "places": article.places,
            "topics": article.topics,
        },
    }
    if article.date is not None:
        doc["date"] = article.date.replace(tzinfo=None)  # Whoosh stores naive datetimes; ours are UTC
    for name in ("people", "orgs", "places", "topics", "authors"):
        values = getattr(article, name)
        if values:
            doc[name] = SEPARATOR.join(values)
    if article.source:
        doc["source"] = article.source
    return doc


def create(directory: Path):
    return whoosh_index.create_in(str(directory), build_schema())


def open_index(directory: Path):
    return whoosh_index.open_dir(str(directory))


def write_all(directory: Path, articles: Sequence[Article], procs: int | None = None) -> None:
    """Index a complete set of articles into an empty directory, using all cores."""
    ix = create(directory)
    procs = procs or os.cpu_count() or 1
    procs = max(1, min(procs, len(articles) // MIN_DOCS_PER_WORKER))
    if procs == 1:
        with ix.writer(limitmb=WRITER_LIMIT_MB, codec=codec()) as writer:
            _add_all(writer, articles)
        return
    segments = _write_segments_in_parallel(directory, articles, procs)
    parent = SegmentWriter(ix, codec=codec())
    parent._close_segment()
    parent._commit_toc(segments)
    parent._finish()


def _add_all(writer, articles: Iterable[Article]) -> None:
    for article in articles:
        writer.add_document(**to_document(article))


_SHARED: dict = {}  # what forked workers inherit: (directory, articles)


class _WorkerStorage(FileStorage):
    """Index storage whose spill directory is private to one worker.

    Whoosh names a writer's spill directory after the index ("MAIN.tmp"), so
    parallel writers would share it and the first to finish would delete the
    others' sorted runs.
    """

    def __init__(self, path: str, worker: int):
        super().__init__(path)
        self.worker = worker

    def temp_storage(self, name=None):
        return super().temp_storage(f"{name or 'spill'}-worker{self.worker}")


def _write_segment(worker: int, procs: int):
    directory, articles = _SHARED["job"]
    ix = _WorkerStorage(str(directory), worker).open_index()
    writer = SegmentWriter(ix, _lk=False, limitmb=WRITER_LIMIT_MB, codec=codec())
    _add_all(writer, articles[worker::procs])
    segment = writer._finalize_segment()
    writer._tempstorage.destroy()
    return segment


def _write_segments_in_parallel(directory: Path, articles: Sequence[Article], procs: int) -> list:
    _SHARED["job"] = (directory, articles)
    try:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            return pool.starmap(_write_segment, [(w, procs) for w in range(procs)])
    finally:
        _SHARED.clear()


def link_copy(source: Path, target: Path) -> None:
    """Copy a generation by hard links: instant, and Whoosh never rewrites a segment file."""
    for item in source.iterdir():
        if item.is_file() and not item.name.endswith(".lock"):
            os.link(item, target / item.name)


def apply_changes(directory: Path, gone_paths: Iterable[str], articles: Iterable[Article]) -> None:
    """Remove the articles of changed files, then add or replace (by id) the new ones."""
    ix = open_index(directory)
    with ix.writer(limitmb=WRITER_LIMIT_MB, codec=codec()) as writer:
        for path in gone_paths:
            writer.delete_by_term("path", path)
        for article in articles:
            writer.update_document(**to_document(article))
