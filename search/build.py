"""Build stage: the rebuild and update runs, from source folders to a published generation.

    read (ingest.read, parallel) → prepare (ingest.prepare: boilerplate, normalise) → dedupe (ingest.dedupe)
    → entities (ingest.entities.annotate) → write (index.writer, state) → publish (index.generations)

Articles flow through these stages in batches spilled to a scratch folder (ingest.batches), and the
writers cut segments of bounded size, so a run's memory is set by ``--memory-mb``, not by the corpus.

Every run holds the index lock, writes into a private work directory and
only then swaps it live, so a failed or killed run leaves the live index as
it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from search import copies, state
from search.index import clusters, integrity, labels, writer
from search.index.carry import carried_articles
from search.index.generations import IndexHome
from search.index.signature_spill import SignatureSpill
from search.ingest import codes
from search.ingest.batches import ArticleStream
from search.ingest.boilerplate import RepeatedParagraphs
from search.ingest.cluster import TaskPool
from search.ingest.entities.annotate import add_entities
from search.ingest.read import FileRecord, Progress, read_files
from search.ingest.rejections import RejectionLog
from search.ingest.walk import Walk, canonical_source, walk_sources
from search.model import Article, Rejected

SHRINK_LIMIT = 0.5  # refuse a new generation with fewer than half the live one's articles
DEFAULT_MEMORY_MB = 1500  # a small machine's share for a build; sets the size of segments (writer.segment_chars)
MEMORY_ENV = "NEWSEARCH_MEMORY_MB"


class ShrinkRefused(Exception):
    """The new generation is far smaller than the live one."""


@dataclass
class RunReport:
    articles: int = 0
    files: int = 0
    rejected: RejectionLog = field(default_factory=lambda: RejectionLog(lambda line: None))
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
    on_reject: Callable[[str], None] = lambda line: print(line, file=sys.stderr)  # `path:line: reason`, counts
    pool: TaskPool | None = None  # a Dask cluster (ingest.cluster.connect): reading and the model run there
    prune: bool = False  # update: also remove the articles of source files that no longer exist
    memory_mb: int = DEFAULT_MEMORY_MB  # what the run's processes may hold together (batches, writers)


def rebuild(home: IndexHome, sources: list[str], options: BuildOptions) -> RunReport:
    """Build a complete new generation from the sources and swap it live."""
    started = time.monotonic()
    report = RunReport(rejected=RejectionLog(options.on_reject))
    with home.lock(), home.scratch(clean_first=True) as scratch:
        live = home.live()
        old_manifest = state.load_json(live / "manifest.json", {}) if live else {}
        walk = walk_sources(sources)
        stream, repeated = ArticleStream(scratch), RepeatedParagraphs()
        records = stream.read(_read(walk, None, report, options, old_manifest), report.rejected, repeated)
        unread = left_unread(old_manifest, records, walk, sources)
        carried = _carry(live, unread, report)  # files not read whole keep the articles they had
        if unread:
            held = copies.load(live)
            carried += [a for path in unread for a in held.get(path, [])]  # and their shadow copies
        _prepare(stream, records, report, options, repeated, carried)
        with _new_generation(home) as (number, work):
            options.status(f"indexing {report.articles} articles …")
            signed = SignatureSpill(scratch / "signatures")
            procs = options.procs or os.cpu_count() or 1
            writer.write_batches(work, _signing(_final(stream, options, home), signed), report.articles, procs,
                                 writer.segment_chars(options.memory_mb, procs))
            manifest = {r.path: r.manifest_entry() for r in records}
            manifest.update({path: old_manifest[path] for path in unread if path in old_manifest})
            state.write_state(work, manifest, repeated, report, number, sources, started, "rebuild")
            copies.save(work, stream.beaten())
            labels.save(work, codes.labels_beside(sources))  # readable names of coded values, if the corpus has them
            clusters.publish(work, signed)  # story clusters of the new generation
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
    report = RunReport(rejected=RejectionLog(options.on_reject))
    with home.lock(), home.scratch(clean_first=True) as scratch:
        live = home.require_live()
        report.generation = home.number_of(live)
        manifest = state.load_json(live / "manifest.json", {})
        walk = walk_sources(sources)
        touched: dict[str, dict] = {}
        stream = ArticleStream(scratch)
        repeated = state.load_pickle(live / "paragraphs.pickle") or RepeatedParagraphs()
        records = stream.read(_changed(_read(walk, manifest, report, options, manifest), manifest, touched),
                              report.rejected, repeated)
        pruned = vanished(manifest, walk, sources) if options.prune else []
        if not records and not touched and not pruned:
            return _finish_report(report, started)
        _prepare(stream, records, report, options, repeated)
        with _new_generation(home) as (number, work):
            writer.link_copy(live, work)
            signed = SignatureSpill(scratch / "signatures")
            shadows = held = copies.load(live)
            if records or pruned:
                gone = [r.path for r in records if r.path in manifest] + pruned
                with writer.open_index(live).searcher() as searcher:
                    chooser = copies.Chooser(searcher, held, gone + [r.path for r in records], _restore(home, options))
                    fresh = _choose(chooser, stream, _final(stream, options, home), report)
                    writer.apply_changes(work, gone, (a for batch in _signing(fresh, signed) for a in batch),
                                         writer.segment_chars(options.memory_mb, 1))
                shadows = chooser.shadows()
            manifest.update({r.path: r.manifest_entry() for r in records})
            manifest.update(touched)
            for path in pruned:
                del manifest[path]
            state.write_state(work, manifest, repeated, report, number, sources, started, "update",
                              _generation_duplicates(home, live, held, shadows, stream))
            copies.save(work, shadows.values())
            labels.save(work, labels.load(live).merged(codes.labels_beside(sources)))
            clusters.publish(work, signed)  # the added and changed articles
            home.publish(number, work)
    report.generation = number
    return _finish_report(report, started)


def _changed(records: Iterable[FileRecord], manifest: dict, touched: dict) -> Iterator[FileRecord]:
    """The records whose content changed; the others only go to ``touched`` (new size/mtime, same bytes)."""
    for record in records:
        if state.content_changed(manifest, record):
            yield record
        else:
            touched[record.path] = record.manifest_entry()


@contextlib.contextmanager
def _new_generation(home: IndexHome) -> Iterator[tuple[int, Path]]:
    """A private work directory for the next generation, removed if anything goes wrong before publish."""
    number, work = home.new_workdir()
    try:
        yield number, work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _read(walk: Walk, manifest: dict | None, report: RunReport, options: BuildOptions,
          indexed: dict) -> Iterator[FileRecord]:
    """The walked files read whole (only those changed since ``manifest``, if given); the rest reported.

    A file that could not be read whole keeps its indexed articles (in ``indexed``), and the message says so.
    """
    report.rejected.extend(walk.problems)
    paths = walk.files if manifest is None else [p for p in walk.files if state.file_changed(manifest.get(str(p)), p)]
    for record in read_files(paths, options.progress, options.pool):
        if record.complete:
            yield record
            continue
        for item in record.items:
            kept = "; its indexed articles are kept" if record.path in indexed else ""
            report.rejected.add(Rejected(item.path, item.line, item.reason + kept))


def _carry(live: Path | None, unread: list[str], report: RunReport) -> list[Article]:
    """The live articles of files not read whole; none if the live generation is itself damaged (rebuild cures it)."""
    try:
        return carried_articles(live, unread)
    except Exception as exc:
        found = integrity.diagnose(live, exc)
        if found is exc:
            raise
        for path in unread:
            report.rejected.add(Rejected(path, 0, f"not read whole, and its indexed articles are lost: {found}"))
        return []


def _under_sources(manifest: dict, sources: list[str]) -> list[str]:
    roots = [str(canonical_source(source)) for source in sources]
    return [p for p in manifest if any(p == root or p.startswith(root.rstrip("/") + "/") for root in roots)]


def left_unread(manifest: dict, records: list[FileRecord], walk: Walk, sources: list[str]) -> list[str]:
    """Indexed files under the sources that still exist but were not read whole this time.

    Unreadable, changed while read, no longer a regular file, or in a folder that cannot be
    listed: a rebuild carries their indexed articles over instead of losing them.
    """
    done = {r.path for r in records}
    gone = set(vanished(manifest, walk, sources))
    return [p for p in _under_sources(manifest, sources) if p not in done and p not in gone]


def vanished(manifest: dict, walk: Walk, sources: list[str]) -> list[str]:
    """Indexed files under the sources that no longer exist (``update --prune`` removes their articles)."""
    seen = {str(p) for p in walk.files}
    gone = []
    for path in _under_sources(manifest, sources):
        if path in seen:
            continue
        try:
            os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            gone.append(path)
        except OSError:
            pass  # cannot tell (e.g. an unreadable folder): keep its articles
    return gone


def _prepare(stream: ArticleStream, records: list[FileRecord], report: RunReport, options: BuildOptions,
             repeated: RepeatedParagraphs, carried: list[Article] = ()) -> None:
    """Articles cleaned with the whole run's paragraph counts and deduplicated (still on disk, batch by batch)."""
    report.files = len(records)
    report.articles = stream.prepare(repeated, report.rejected, carried)
    report.duplicates = stream.duplicates
    needing = stream.needing_entities()
    if needing and options.extract_entities:
        options.status(f"extracting entities from {needing} articles …")


def _final(stream: ArticleStream, options: BuildOptions, home: IndexHome) -> Iterator[list[Article]]:
    """The kept articles with their entities, one batch at a time."""
    return stream.final(home.entity_cache, options.extract_entities, options.pool)


def _signing(batches: Iterable[list[Article]], signed: SignatureSpill) -> Iterator[list[Article]]:
    """The batches as they pass to the writers, each signed for the story clusters on the way (to disk:
    kept in memory until publish they were ~0.5 GB at ×50)."""
    for batch in batches:
        signed.add(clusters.sign(batch))
        yield batch


def _restore(home: IndexHome, options: BuildOptions) -> Callable[[list[Article]], list[Article]]:
    """A shadow copy coming back gets its entities as a read copy does (from the entity cache when seen before)."""
    return lambda batch: add_entities(batch, home.entity_cache, options.extract_entities, options.pool)


def _choose(chooser: copies.Chooser, stream: ArticleStream, batches: Iterable[list[Article]],
            report: RunReport) -> Iterator[list[Article]]:
    """The batches as ``update`` indexes them: each new copy against the copies already held of its id."""
    for batch in batches:
        yield chooser.choose(batch)
    yield from chooser.finish(a for batch in stream.beaten() for a in batch)  # known once the batches are read
    report.articles -= chooser.beaten
    report.duplicates += chooser.beaten


def _generation_duplicates(home: IndexHome, live: Path, held: copies.Shadows, shadows: copies.Shadows,
                           stream: ArticleStream) -> int:
    """The duplicates a rebuild of the folder would count: the shadow copies, plus the copies the URL rule
    dropped (the live generation's, and this run's among the files it read)."""
    by_url = max(0, home.read_meta(live).get("duplicates", 0) - copies.count(held))
    return copies.count(shadows) + by_url + stream.duplicates - stream.beaten_count


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
    report.rejected.finish()
    report.seconds = time.monotonic() - started
    return report
