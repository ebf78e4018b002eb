"""Streaming ingest: a run's articles pass through in batches spilled to disk, never all in memory at once.

The stages that judge across articles keep only what they need between passes:

1. ``read``: each batch of read articles is cleaned and its paragraphs counted
   (``prepare.count_repeats``), then pickled to the scratch folder;
2. ``prepare``: with the counts of the whole run, each batch is stripped and
   normalised (``prepare.finish``), its dedupe keys recorded (``StreamDedupe``),
   and pickled again;
3. ``final``: each batch loses the copies ``dedupe`` would drop, gets its
   entities, and is pickled once more for the index writers.

Same articles, same choices as ``prepare`` + ``dedupe`` over the whole list
(``tests/test_stream_build.py``); the parent's memory is a batch plus ~80 bytes
of dedupe keys per article. Measured at Reuters ×10 before this: the article
list alone was ~0.9 GB of a 2.06 GB peak.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from search.ingest.boilerplate import RepeatedParagraphs
from search.ingest.cluster import TaskPool
from search.ingest.dedupe import StreamDedupe
from search.ingest.entities.annotate import add_entities
from search.ingest.prepare import count_repeats, finish
from search.ingest.read import FileRecord
from search.ingest.rejections import RejectionLog
from search.model import Article, Rejected

BATCH_ARTICLES = 5000  # articles per spilled batch: ~20-40 MB of Reuters or web text in memory at once


class Spill:
    """Lists of articles pickled one file per batch in a private scratch folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def put(self, articles: list[Article]) -> Path:
        path = self.folder / f"batch-{self._count:06d}.pickle"
        self._count += 1
        with open(path, "wb") as out:
            pickle.dump(articles, out, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    @staticmethod
    def get(path: Path) -> list[Article]:
        with open(path, "rb") as handle:
            return pickle.load(handle)


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    chunk: list[Article] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ArticleStream:
    """The articles of one run, from read files to index-ready batches, one batch in memory at a time."""

    def __init__(self, scratch: Path, batch_articles: int = BATCH_ARTICLES):
        self.spill = Spill(scratch)
        self.batch_articles = batch_articles
        self._raw: list[Path] = []
        self._prepared: list[tuple[Path, int]] = []  # (file, articles in it)
        self._keys = StreamDedupe()
        self._needs_entities: list[np.ndarray] = []  # per stream position: the format did not give every entity
        self.kept: np.ndarray | None = None  # stream positions dedupe keeps, ascending
        self._beaten = np.zeros(0, dtype=np.int64)  # stream positions of copies another copy of their id beat
        self._beaten_batches: list[Path] = []  # those copies, spilled by ``final`` batch by batch
        self.duplicates = 0

    def read(self, records: Iterable[FileRecord], rejected: RejectionLog,
             repeated: RepeatedParagraphs) -> list[FileRecord]:
        """Pass 1: report rejections, count paragraphs, spill; returns the records without their items."""
        done = []
        pending: list[Article] = []
        for record in records:
            for item in record.items:
                if isinstance(item, Rejected):
                    rejected.add(item)
                else:
                    pending.append(item)
            rejected.add_counts(record.more_rejected)
            record.items = []
            done.append(record)
            if len(pending) >= self.batch_articles:
                self._raw.append(self.spill.put(count_repeats(pending, repeated)))
                pending = []
        if pending:
            self._raw.append(self.spill.put(count_repeats(pending, repeated)))
        return done

    def prepare(self, repeated: RepeatedParagraphs, rejected: RejectionLog, carried: list[Article] = ()) -> int:
        """Pass 2: strip and normalise with the whole run's counts, then the carried articles; returns the count."""
        for path in self._raw:
            self._add_prepared(finish(Spill.get(path), repeated, rejected))
            path.unlink()
        self._raw = []
        for chunk in _chunks(carried, self.batch_articles):
            self._add_prepared(chunk)
        positions, self.duplicates = self._keys.survivors()
        self._beaten = self._keys.id_losers
        self._keys = StreamDedupe()  # decided: the keys (~80 bytes per article) are not needed any more
        self.kept = np.sort(positions)
        return len(self.kept)

    def _add_prepared(self, articles: list[Article]) -> None:
        self._keys.add(articles)
        self._needs_entities.append(np.array([a.needs_entities for a in articles], dtype=bool))
        self._prepared.append((self.spill.put(articles), len(articles)))

    def needing_entities(self) -> int:
        """Kept articles whose format did not give every entity field."""
        flags = np.concatenate(self._needs_entities) if self._needs_entities else np.zeros(0, dtype=bool)
        return int(flags[self.kept].sum())

    def _kept_batches(self) -> Iterator[list[Article]]:
        start = 0
        for path, size in self._prepared:
            lo, hi = np.searchsorted(self.kept, [start, start + size])
            articles = Spill.get(path)
            yield [articles[i - start] for i in self.kept[lo:hi].tolist()]
            lo, hi = np.searchsorted(self._beaten, [start, start + size])
            if hi > lo:
                self._beaten_batches.append(self.spill.put([articles[i - start] for i in self._beaten[lo:hi].tolist()]))
            start += size

    @property
    def beaten_count(self) -> int:
        return len(self._beaten)

    def beaten(self) -> Iterator[list[Article]]:
        """After ``final``: the copies another copy of their id beat (a generation's shadow copies), batch by batch."""
        for path in self._beaten_batches:
            yield Spill.get(path)
            path.unlink()
        self._beaten_batches = []

    def final(self, entity_cache: Path, extract: bool = True, pool: TaskPool | None = None) -> Iterator[list[Article]]:
        """Pass 3: the kept articles with their entities, batch by batch (each prepared file removed once read)."""
        for (path, _), batch in zip(self._prepared, self._kept_batches(), strict=True):
            path.unlink()
            if batch:
                yield add_entities(batch, entity_cache, extract, pool)
        self._prepared = []
