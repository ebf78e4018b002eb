"""One-segment indexes written two ways, for the tests that compare the build's lean writer with Whoosh's own."""

from __future__ import annotations

from pathlib import Path

from search.index import doc_writer, whoosh_internals, writer
from search.model import Article


def one_segment(directory: Path, articles: list[Article], lean: bool, install=None):
    """A one-segment index written by the lean writer or by Whoosh's ``add_document`` (``install(writer)`` may
    take over the postings of the latter); returns (index, the lean writer's filler or None)."""
    directory.mkdir()
    writer.create(directory)
    w = whoosh_internals.worker_segment_writer(directory, 0, limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec())
    filler = None
    if lean:
        filler = doc_writer.SegmentFiller(w)
        for article in articles:
            filler.add(writer.to_document(article))
        segment = filler.finish()
    else:
        if install:
            install(w)
        for article in articles:
            w.add_document(**writer.to_document(article))
        segment = whoosh_internals.finish_worker_segment(w)
    whoosh_internals.commit_segments(writer.open_index(directory), [segment], codec=writer.codec())
    return writer.open_index(directory), filler
