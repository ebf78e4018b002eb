"""Build stage: the rebuild and update runs, from source folders to a published generation.

    read (ingest.read, parallel) → prepare (ingest.prepare: boilerplate, normalise) → dedupe (ingest.dedupe)
    → entities (ingest.entities.annotate) → write (index.writer, state) → publish (index.generations)

Every run holds the index lock, writes into a private work directory and
only then swaps it live, so a failed or killed run leaves the live index as
it was.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from search import state
from search.facets import ENTITY_FIELDS
from search.index import clusters, writer
from search.index.generations import IndexHome
from search.ingest.boilerplate import RepeatedParagraphs
from search.ingest.dedupe import dedupe
from search.ingest.entities.annotate import add_entities
from search.ingest.prepare import prepare
from search.ingest.read import FileRecord, Progress, iter_source_files, read_files
from search.model import Article, Rejected

SHRINK_LIMIT = 0.5  # refuse a new generation with fewer than half the live one's articles


class ShrinkRefused(Exception):
    """The new generation is far smaller than the live one."""


@dataclass
class RunReport:
    articles: int = 0
    files: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    seconds: float = 0.0
    generation: int | None = None

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.files} files, {len(self.rejected)} rejected, "
            f"{self.duplicates} duplicates, {self.seconds:.1f} s, generation {self.generation}"
        )


@dataclass
class BuildOptions:
    force: bool = False
    extract_entities: bool = True
    procs: int | None = None
    progress: Progress = lambda items, total: items
    status: Callable[[str], None] = lambda message: None  # phase messages, for a terminal
    on_reject: Callable[[Rejected], None] = lambda r: print(r, file=sys.stderr)


def rebuild(home: IndexHome, sources: list[str], options: BuildOptions) -> RunReport:
    """Build a complete new generation from the sources and swap it live."""
    started = time.monotonic()
    report = RunReport()
    with home.lock():
        home.clean_stale()
        records = list(read_files(list(iter_source_files(sources)), options.progress))
        articles, repeated = _collect(records, report, options, RepeatedParagraphs(), home)
        with _new_generation(home) as (number, work):
            options.status(f"indexing {len(articles)} articles …")
            writer.write_all(work, articles, options.procs)
            manifest = {r.path: r.manifest_entry() for r in records}
            state.write_state(work, manifest, repeated, report, number, sources, started, "rebuild")
            clusters.publish(work, articles)  # story clusters of the new generation
            _guard_shrink(home, report.articles, options.force)
            home.publish(number, work)
    report.generation = number
    return _finish_report(report, started)


def update(home: IndexHome, sources: list[str], options: BuildOptions) -> RunReport:
    """Ingest new and changed files into a hard-linked copy of the live generation and swap it live.

    Unchanged files (same size and mtime, or same bytes) are not read again, so a
    second run over the same sources changes nothing.
    """
    started = time.monotonic()
    if home.live() is None:
        return rebuild(home, sources, options)
    report = RunReport()
    with home.lock():
        home.clean_stale()
        live = home.require_live()
        report.generation = home.number_of(live)
        manifest = state.load_json(live / "manifest.json", {})
        changed = [p for p in iter_source_files(sources) if state.file_changed(manifest.get(str(p)), p)]
        records = [r for r in read_files(changed, options.progress) if state.content_changed(manifest, r)]
        touched = state.refreshed_entries(changed, records, manifest)
        if not records and not touched:
            return _finish_report(report, started)
        repeated = state.load_pickle(live / "paragraphs.pickle") or RepeatedParagraphs()
        articles, repeated = _collect(records, report, options, repeated, home)
        articles, known_duplicates = _drop_known_duplicates(live, records, articles)
        report.articles, report.duplicates = len(articles), report.duplicates + known_duplicates
        with _new_generation(home) as (number, work):
            writer.link_copy(live, work)
            if records:
                gone = [r.path for r in records if r.path in manifest]
                writer.apply_changes(work, gone, articles)
            manifest.update({r.path: r.manifest_entry() for r in records})
            manifest.update(touched)
            state.write_state(work, manifest, repeated, report, number, sources, started, "update")
            clusters.publish(work, articles, previous=live)  # signs only the added and changed articles
            home.publish(number, work)
    report.generation = number
    return _finish_report(report, started)


@contextlib.contextmanager
def _new_generation(home: IndexHome) -> Iterator[tuple[int, Path]]:
    """A private work directory for the next generation, removed if anything goes wrong before publish."""
    number, work = home.new_workdir()
    try:
        yield number, work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _collect(records: list[FileRecord], report: RunReport, options: BuildOptions,
             repeated: RepeatedParagraphs, home: IndexHome) -> tuple[list[Article], RepeatedParagraphs]:
    """Rejections reported, articles cleaned, deduplicated and given their entities."""
    raw: list[Article] = []
    for record in records:
        for item in record.items:
            if isinstance(item, Rejected):
                report.rejected.append(item)
                options.on_reject(item)
            else:
                raw.append(item)
    report.files = len(records)
    before = len(report.rejected)
    articles = prepare(raw, repeated, report.rejected)
    for item in report.rejected[before:]:
        options.on_reject(item)
    articles, report.duplicates = dedupe(articles)
    needing = sum(not set(ENTITY_FIELDS) <= a.given for a in articles)
    if needing and options.extract_entities:
        options.status(f"extracting entities from {needing} articles …")
    articles = add_entities(articles, home.entity_cache, options.extract_entities)
    report.articles = len(articles)
    return articles, repeated


def _drop_known_duplicates(live: Path, records: list[FileRecord], articles: list[Article]):
    """Articles already in the live index from another file, with the same content, are duplicates."""
    changed_paths = {r.path for r in records}
    ix = writer.open_index(live)
    kept, duplicates = [], 0
    with ix.searcher() as searcher:
        for article in articles:
            stored = searcher.document(id=article.id)
            if stored and stored.get("hash") == article.content_hash and stored.get("path") not in changed_paths:
                duplicates += 1
            else:
                kept.append(article)
    return kept, duplicates


def _guard_shrink(home: IndexHome, new_count: int, force: bool) -> None:
    live = home.live()
    if live is None or force:
        return
    live_count = home.read_meta(live).get("articles", 0)
    if live_count and new_count < live_count * SHRINK_LIMIT:
        raise ShrinkRefused(
            f"new generation has {new_count} articles, live one has {live_count}: "
            f"refusing to swap (use --force to override)"
        )


def _finish_report(report: RunReport, started: float) -> RunReport:
    report.seconds = time.monotonic() - started
    return report
