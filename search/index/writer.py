"""Index stage: turn articles into Whoosh documents and write them into a generation directory.

A full build cuts the stream of articles into segments of bounded size, each
written by a worker process of its own; the parent lists them all in one table
of contents (what Whoosh's MpWriter does with ``multisegment=True``). A worker
fills its segment with ``doc_writer`` rather than Whoosh's per-document
``add_document`` (bench/bench_segment_write.py); ``update`` adds its few articles
through Whoosh's own writer, which also applies the deletions.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.writing import MERGE_SMALL, NO_MERGE

from search.index import doc_writer, postings_sidecar, segment_columns, whoosh_internals
from search.index.schema import NAME_FIELDS, SEPARATOR, build_schema
from search.model import Article

WRITER_LIMIT_MB = 256
MIN_DOCS_PER_WORKER = 2000  # below this, process start-up costs more than it saves
# A segment writer process measured on Reuters (bench/bench_scale.py's calibration, one process per segment):
# ~125 MB at fork, ~150 MB more once Whoosh's pool and the postings arrays fill, then ~5.5 KB per document
# (5,000 docs: 225 MB peak; 21,578: 392 MB; 43,156: 496 MB; 86,312: 737 MB).
PARENT_MB = 500  # what a build's parent process keeps of the budget (batches in flight, dedupe keys, signatures)
WRITER_BASE_MB = 275
MIN_WRITER_MB = 400
UNBOUNDED = 1 << 62
SMALL_SEGMENT_DOCS = 10_000  # segments an update may merge (merge_small_only)
WRITER_BYTES_PER_CHAR = 8  # a writer's growth per character of title + body (~6 KB per 775-character Reuters story)


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
    # what ``dedupe.weight`` and ``dedupe.file_order`` read, so ``update`` can weigh this copy against a new one
    doc["data"]["given"], doc["data"]["line"] = sorted(article.given), article.line
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
    write_batches(directory, [list(articles)], len(articles), procs)


def segment_chars(memory_mb: int, procs: int) -> int:
    """Characters of text per segment so that ``procs`` writers fit in what ``memory_mb`` leaves after the parent.

    Text, not documents: a writer's postings grow with the words it indexes, and web articles are
    several times longer than Reuters stories. 1500 MB and two writers: ~30 M characters (38,000 Reuters stories).
    """
    per_writer = max(memory_mb - PARENT_MB, procs * MIN_WRITER_MB) / procs - WRITER_BASE_MB
    return int(per_writer * 2**20 / WRITER_BYTES_PER_CHAR)


def text_size(article: Article) -> int:
    return len(article.title) + len(article.body)


def write_batches(directory: Path, batches: Iterable[list[Article]], total: int, procs: int | None = None,
                  chars: int | None = None) -> None:
    """Index ``total`` articles arriving in batches into an empty directory, on ``procs`` writer processes.

    Each writer process fills one segment of at most ``chars`` characters of text (``segment_chars``)
    and exits (its memory goes back to the system), so a writer's peak is bounded by the setting,
    not by the corpus; the parent lists every segment, in stream order, in one table of contents.
    Batches are pickled to a scratch folder beside the index files for the workers to read.
    """
    ix = create(directory)
    procs = procs or os.cpu_count() or 1
    procs = max(1, min(procs, total // MIN_DOCS_PER_WORKER))
    if procs == 1 and chars is None:  # written in this process (an empty segment when there is nothing)
        segments = [_write_segment(directory, 0, (article for batch in batches for article in batch))]
    else:
        scratch = Path(tempfile.mkdtemp(prefix=".batches-", dir=directory))
        try:
            docs = -(-total // procs) if total else 1  # the share of each writer, at most
            segments = _write_segments_in_parallel(directory, scratch, batches, procs, docs, chars or UNBOUNDED)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    whoosh_internals.commit_segments(ix, segments, codec=codec())


def _add_all(writer, articles: Iterable[Article]) -> None:
    for article in articles:
        writer.add_document(**to_document(article))


def _write_segment(directory: Path, worker: int, articles: Iterable[Article]):
    """One segment, its columns part and its postings sidecar, all from the articles in hand."""
    filler = doc_writer.SegmentFiller(
        whoosh_internals.worker_segment_writer(directory, worker, limitmb=WRITER_LIMIT_MB, codec=codec()))
    for article in articles:
        filler.add(to_document(article))
    segment = filler.finish()
    segment_columns.save_part(filler.column_part(), directory)
    filler.write_sidecar(directory)
    return segment


def _segment_job(directory: Path, scratch: Path, number: int, slices: list[tuple[Path, int, int]]) -> None:
    """A writer process's task: the articles of one segment, read one spilled batch at a time."""
    def articles():
        for path, lo, hi in slices:
            with open(path, "rb") as handle:
                yield from pickle.load(handle)[lo:hi]
    segment = _write_segment(directory, number, articles())
    with open(scratch / f"segment-{number:06d}.pickle", "wb") as out:
        pickle.dump(segment, out)


def _write_segments_in_parallel(directory: Path, scratch: Path, batches: Iterable[list[Article]], procs: int,
                                docs: int, chars: int) -> list:
    """Cut the stream into segment jobs of at most ``docs`` documents and ``chars`` characters as batches
    arrive (a document larger than ``chars`` makes a segment of its own); each job runs in a forked process."""
    writers = _Writers(directory, scratch, procs)
    job: list[tuple[Path, int, int]] = []
    filled = size = 0
    try:
        for number, batch in enumerate(batches):
            path = scratch / f"{number:06d}.pickle"
            with open(path, "wb") as out:
                pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
            lo = 0
            for at, article in enumerate(batch):
                filled, size = filled + 1, size + text_size(article)
                if filled >= docs or size >= chars:
                    job.append((path, lo, at + 1))
                    writers.submit(job)
                    job, filled, size, lo = [], 0, 0, at + 1
            if lo < len(batch):
                job.append((path, lo, len(batch)))
        if job:
            writers.submit(job)
        return writers.finish()
    finally:
        writers.stop()


class _Writers:
    """At most ``procs`` segment writer processes, each forked from the main thread for one segment.

    One process per segment gives its memory back when the segment is done. Forked from the
    main thread (not from a pool's helper thread) because ``lifeline`` ties each child's life to
    the thread that forked it. A child hands its segment back as a pickle in ``scratch``.
    """

    def __init__(self, directory: Path, scratch: Path, procs: int):
        self.directory, self.scratch, self.procs = directory, scratch, procs
        self.waiting: list[tuple[int, list]] = []
        self.running: dict[int, multiprocessing.Process] = {}
        self.jobs = 0

    def submit(self, slices: list[tuple[Path, int, int]]) -> None:
        self.waiting.append((self.jobs, slices))
        self.jobs += 1
        self._step(block=False)

    def finish(self) -> list:
        while self.waiting or self.running:
            self._step(block=True)
        out = []
        for number in range(self.jobs):
            with open(self.scratch / f"segment-{number:06d}.pickle", "rb") as handle:
                out.append(pickle.load(handle))
        return out

    def stop(self) -> None:
        for process in self.running.values():
            process.kill()
            process.join()

    def _step(self, block: bool) -> None:
        if self.running:
            sentinels = {process.sentinel: number for number, process in self.running.items()}
            ready = multiprocessing.connection.wait(list(sentinels), timeout=None if block else 0)
            for sentinel in ready:
                number = sentinels[sentinel]
                process = self.running.pop(number)
                process.join()
                if process.exitcode != 0:
                    raise RuntimeError(f"index segment writer {number} failed (exit code {process.exitcode})")
        while self.waiting and len(self.running) < self.procs:
            number, slices = self.waiting.pop(0)
            process = _FORK.Process(target=_segment_job, args=(self.directory, self.scratch, number, slices))
            process.start()
            self.running[number] = process


_FORK = multiprocessing.get_context("fork")


def link_copy(source: Path, target: Path) -> None:
    """Copy a generation for ``update`` by hard links: instant, and safe because Whoosh never
    rewrites a committed file (``whoosh_internals.hardlink_files``)."""
    whoosh_internals.hardlink_files(source, target)


def apply_changes(directory: Path, gone_paths: Iterable[str], articles: Iterable[Article],
                  chars: int | None = None) -> None:
    """Remove the articles of changed files and the old copies of re-added ids, then add the new ones.

    One reader per new segment finds every document to delete (``update_document`` would open a
    reader per article), opened unmapped so it costs nothing per segment
    (``whoosh_internals.open_unmapped``). The new articles go into segments of at most
    ``chars`` characters of text (one commit each), so a huge update is bounded like a rebuild.
    """
    gone = list(gone_paths)
    chunks = _chunked(articles, chars or UNBOUNDED)
    first = next(chunks, [])
    for number, chunk in enumerate(itertools.chain([first], chunks)):
        ix = open_index(directory)
        with ix.writer(limitmb=WRITER_LIMIT_MB, codec=codec()) as writer:
            writer.mergetype = merge_small_only if number == 0 else NO_MERGE  # later chunks stay as cut
            with writer.searcher() as searcher:
                doomed = set()
                for path in gone if number == 0 else ():
                    doomed.update(searcher.document_numbers(path=path))
                for article in chunk:
                    doomed.update(searcher.document_numbers(id=article.id))
            for docnum in sorted(doomed):
                writer.delete_document(docnum)
            _add_all(writer, chunk)
    postings_sidecar.write_missing(directory)  # the new segments', and a merged one's


def merge_small_only(writer, segments: list) -> list:
    """Whoosh's ``MERGE_SMALL`` over the segments of at most ``SMALL_SEGMENT_DOCS`` documents only.

    ``MERGE_SMALL`` merges every segment up to the first point where the running total of
    documents falls below a Fibonacci number; with the dozens of equal segments a bounded
    rebuild writes (×100 Reuters: ~50 of 40k), that point falls mid-list and one ``update``
    would rewrite a million documents. Small segments (what updates add) still merge as before.
    """
    small = [s for s in segments if s.doc_count_all() <= SMALL_SEGMENT_DOCS]
    kept = {id(s) for s in MERGE_SMALL(writer, small)}
    return [s for s in segments if s.doc_count_all() > SMALL_SEGMENT_DOCS or id(s) in kept]


def _chunked(articles: Iterable[Article], chars: int) -> Iterator[list[Article]]:
    chunk, size = [], 0
    for article in articles:
        chunk.append(article)
        size += text_size(article)
        if size >= chars:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
