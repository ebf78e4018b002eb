"""Index stage: turn articles into Whoosh documents and write them into a generation directory.

A full build splits the articles over worker processes; each writes its own
segment and the parent lists them all in one table of contents (what
Whoosh's MpWriter does with ``multisegment=True``, minus pickling every
document through temp files: forked workers already share the article list).
A worker fills its segment with ``doc_writer`` rather than Whoosh's per-document
``add_document`` (bench/bench_segment_write.py); ``update`` adds its few articles
through Whoosh's own writer, which also applies the deletions.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from whoosh import index as whoosh_index

from search.index import doc_writer, postings_sidecar, segment_columns, whoosh_internals
from search.index.schema import NAME_FIELDS, SEPARATOR, build_schema
from search.model import Article

WRITER_LIMIT_MB = 256
MIN_DOCS_PER_WORKER = 2000  # below this, process start-up costs more than it saves


def codec():
    """Bigger posting blocks and no zlib on them: faster to write and to read, ~20% larger."""
    return whoosh_internals.w3_codec(blocklimit=256, compression=0)


def to_document(article: Article) -> dict:
    """The Whoosh fields of one article; ``data`` carries what results display."""
    doc = {
        "id": article.id,
        "path": article.path,
        "hash": article.content_hash,
        "title": article.title,
        "body": article.body,
        "data": {"url": article.url, **{name: getattr(article, name) for name in NAME_FIELDS}},
    }
    if article.utc_offset:
        doc["data"]["utc_offset"] = article.utc_offset  # the publisher's zone: its day is the article's day
    if article.date is not None:
        doc["date"] = article.date.replace(tzinfo=None)  # Whoosh stores naive datetimes; ours are UTC
    for name in NAME_FIELDS:
        values = getattr(article, name)  # a list, or one string (source)
        if values:
            doc[name] = values if isinstance(values, str) else SEPARATOR.join(values)
    return doc


def create(directory: Path):
    return whoosh_index.create_in(str(directory), build_schema())


def open_index(directory: Path):
    """Opened unmapped: each reader open then costs nothing per segment (``whoosh_internals.open_unmapped``)."""
    return whoosh_internals.open_unmapped(directory)


def write_all(directory: Path, articles: Sequence[Article], procs: int | None = None) -> None:
    """Index a complete set of articles into an empty directory, using all cores."""
    ix = create(directory)
    procs = procs or os.cpu_count() or 1
    procs = max(1, min(procs, len(articles) // MIN_DOCS_PER_WORKER))
    segments = _write_segments_in_parallel(directory, articles, procs)
    whoosh_internals.commit_segments(ix, segments, codec=codec())


def _add_all(writer, articles: Iterable[Article]) -> None:
    for article in articles:
        writer.add_document(**to_document(article))


_SHARED: dict = {}  # what forked workers inherit: (directory, articles)


def _write_segment(worker: int, procs: int):
    """One worker's segment, its columns part and its postings sidecar, all from the articles in hand."""
    directory, articles = _SHARED["job"]
    filler = doc_writer.SegmentFiller(
        whoosh_internals.worker_segment_writer(directory, worker, limitmb=WRITER_LIMIT_MB, codec=codec()))
    for article in articles[worker::procs]:
        filler.add(to_document(article))
    segment = filler.finish()
    segment_columns.save_part(filler.column_part(), directory)
    filler.write_sidecar(directory)
    return segment


def _write_segments_in_parallel(directory: Path, articles: Sequence[Article], procs: int) -> list:
    """One segment per worker process; with one, written in this process (an empty one when there is nothing)."""
    _SHARED["job"] = (directory, articles)
    try:
        if procs == 1:
            return [_write_segment(0, 1)]
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            return pool.starmap(_write_segment, [(w, procs) for w in range(procs)])
    finally:
        _SHARED.clear()


def link_copy(source: Path, target: Path) -> None:
    """Copy a generation for ``update`` by hard links: instant, and safe because Whoosh never
    rewrites a committed file (``whoosh_internals.hardlink_files``)."""
    whoosh_internals.hardlink_files(source, target)


def apply_changes(directory: Path, gone_paths: Iterable[str], articles: Sequence[Article]) -> None:
    """Remove the articles of changed files and the old copies of re-added ids, then add the new ones.

    One reader finds every document to delete (``update_document`` would open a
    reader per article), opened unmapped so it costs nothing per segment
    (``whoosh_internals.open_unmapped``).
    """
    ix = open_index(directory)
    with ix.writer(limitmb=WRITER_LIMIT_MB, codec=codec()) as writer:
        with writer.searcher() as searcher:
            doomed = set()
            for path in gone_paths:
                doomed.update(searcher.document_numbers(path=path))
            for article in articles:
                doomed.update(searcher.document_numbers(id=article.id))
        for docnum in sorted(doomed):
            writer.delete_document(docnum)
        _add_all(writer, articles)
    postings_sidecar.write_missing(directory)  # the new segment's, and a merged one's
