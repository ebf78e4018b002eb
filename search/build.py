"""Build stage: the rebuild and update runs, from source folders to a published generation.

    files → read (parallel) → clean + boilerplate → dedupe → entities → index → publish

Every run holds the index lock, writes into a private work directory and
only then swaps it live, so a failed or killed run leaves the live index as
it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from search.facets import ENTITY_FIELDS
from search.index import columns, writer
from search.index.generations import IndexHome
from search.ingest.boilerplate import RepeatedParagraphs, is_caption, strip_boilerplate
from search.ingest.normalise import clean_text, normalise, paragraphs
from search.ingest.read import iter_source_files, read_file
from search.model import Article, Rejected

SHRINK_LIMIT = 0.5  # refuse a new generation with fewer than half the live one's articles
CLEANUP_FORMATS = {"seedtext"}  # formats whose text carries page furniture


Progress = Callable[[Iterable, int], Iterable]  # wraps an iterable of known length (a bar on a terminal)


class ShrinkRefused(Exception):
    """The new generation is far smaller than the live one."""


@dataclass
class FileRecord:
    """What one file gave: its identity for the manifest and its records."""

    path: str
    size: int
    mtime_ns: int
    digest: str
    items: list[Article | Rejected]

    def manifest_entry(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "hash": self.digest}


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


# -- read ------------------------------------------------------------------------------------
def read_one(path: Path) -> FileRecord:
    """Read and parse one file (runs in a worker process)."""
    try:
        stat = path.stat()
        raw_digest = _file_digest(path)
    except OSError as exc:
        return FileRecord(str(path), 0, 0, "", [Rejected(str(path), 0, exc.strerror or str(exc))])
    items = [early_normalise(item) for item in read_file(path)]
    return FileRecord(str(path), stat.st_size, stat.st_mtime_ns, raw_digest, items)


def early_normalise(item: Article | Rejected) -> Article | Rejected:
    """Normalise in the worker unless the article must first be compared with its peers."""
    if isinstance(item, Article) and item.format not in CLEANUP_FORMATS:
        return normalise(item)
    return item


def _file_digest(path: Path) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def read_files(paths: list[Path], progress: Progress = lambda items, total: items) -> Iterator[FileRecord]:
    """Parse files on all cores; results come back in input order."""
    if len(paths) < 4:
        yield from progress(map(read_one, paths), len(paths))
        return
    workers = min(os.cpu_count() or 1, len(paths))
    with ProcessPoolExecutor(workers) as pool:
        yield from progress(pool.map(read_one, paths, chunksize=1), len(paths))


# -- prepare ---------------------------------------------------------------------------------
def cleanup_group(article: Article) -> str:
    """Articles of one source share furniture; without a source, the folder stands for it."""
    return article.source or str(Path(article.path).parent)


def prepare(
    articles: list[Article], repeated: RepeatedParagraphs, rejected: list[Rejected]
) -> list[Article]:
    """Strip boilerplate where the format needs it (counting repeats first), then normalise."""
    staged = []
    for article in articles:
        if article.format in CLEANUP_FORMATS:
            article = article.replace(body=clean_text(article.body))
            repeated.add(cleanup_group(article), paragraphs(article.body))
        staged.append(article)
    out = []
    for article in staged:
        if article.format in CLEANUP_FORMATS:
            kept = strip_boilerplate(paragraphs(article.body), cleanup_group(article), repeated)
            if not kept:
                rejected.append(Rejected(article.path, article.line, "no article text left after boilerplate"))
                continue
            captions = [p for p in paragraphs(article.body) if is_caption(p)]
            article = normalise(article.replace(body="\n\n".join(kept), captions=captions))
        out.append(article)
    return out


def richer(a: Article, b: Article) -> Article:
    """Of two copies of one story, keep the one that says more."""
    def weight(x: Article) -> tuple:
        return (len(x.body), bool(x.date), len(x.title), bool(x.url), len(x.given))
    return b if weight(b) > weight(a) else a


def dedupe(articles: Iterable[Article]) -> tuple[list[Article], int]:
    """One article per id (the richer copy); returns the survivors and the duplicate count."""
    by_id: dict[str, Article] = {}
    duplicates = 0
    for article in articles:
        seen = by_id.get(article.id)
        if seen is not None:
            duplicates += 1
            by_id[article.id] = richer(seen, article)
        else:
            by_id[article.id] = article
    return list(by_id.values()), duplicates


def entity_text(article: Article) -> str:
    """What the extractor reads: headline, body, and captions (they name who is pictured)."""
    return "\n\n".join([article.title, article.body, *article.captions])


def add_entities(articles: list[Article], cache_path: Path, with_extraction: bool = True) -> list[Article]:
    """Fill entity fields the format did not give, from the text (cached by content hash)."""
    todo = [i for i, a in enumerate(articles) if not set(ENTITY_FIELDS) <= a.given]
    if not todo or not with_extraction:
        return articles
    from search.ingest.entities import EntityExtractor

    extractor = EntityExtractor(cache_path=cache_path)
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


# -- runs ------------------------------------------------------------------------------------
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
            _write_state(work, manifest, repeated, report, number, sources, started, "rebuild")
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
        manifest = _load_json(live / "manifest.json", {})
        changed = [p for p in iter_source_files(sources) if _changed(manifest.get(str(p)), p)]
        records = [r for r in read_files(changed, options.progress) if _content_changed(manifest, r)]
        touched = refreshed_entries(changed, records, manifest)
        if not records and not touched:
            return _finish_report(report, started)
        repeated = _load_pickle(live / "paragraphs.pickle") or RepeatedParagraphs()
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
            _write_state(work, manifest, repeated, report, number, sources, started, "update")
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


def refreshed_entries(changed: list[Path], records: list[FileRecord], manifest: dict) -> dict:
    """Files whose mtime moved but whose bytes did not: refresh their manifest entries only."""
    reread = {r.path for r in records}
    out = {}
    for path in changed:
        entry = manifest.get(str(path))
        if str(path) not in reread and entry:
            stat = path.stat()
            out[str(path)] = {**entry, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return out


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


def _changed(entry: dict | None, path: Path) -> bool:
    if entry is None:
        return True
    try:
        stat = path.stat()
    except OSError:
        return True
    return stat.st_size != entry["size"] or stat.st_mtime_ns != entry["mtime_ns"]


def _content_changed(manifest: dict, record: FileRecord) -> bool:
    entry = manifest.get(record.path)
    return entry is None or entry.get("hash") != record.digest


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


def _write_state(work: Path, manifest: dict, repeated: RepeatedParagraphs, report: RunReport,
                 number: int, sources: list[str], started: float, kind: str) -> None:
    """Columns for the query engine, then meta.json (what stats shows), the manifest and paragraph counts."""
    columns.build(work)  # numpy facet/date columns, ready when the generation goes live
    total, undated = _count_articles(work)
    meta = {
        "generation": number,
        "kind": kind,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started, 2),
        "articles": total,
        "undated": undated,
        "files": len(manifest),
        "rejected": len(report.rejected),
        "duplicates": report.duplicates,
        "sources": [os.path.abspath(s) for s in sources],
    }
    _atomic_write(work / "manifest.json", json.dumps(manifest).encode())
    _atomic_write(work / "paragraphs.pickle", pickle.dumps(repeated))
    _atomic_write(work / "meta.json", json.dumps(meta, indent=1).encode())


def _count_articles(directory: Path) -> tuple[int, int]:
    """(articles, undated articles) in an index directory, read off its columns."""
    cols = columns.load(directory)
    return int(cols.live.sum()), int((cols.live & (cols.date == columns.NO_DATE)).sum())


def _finish_report(report: RunReport, started: float) -> RunReport:
    report.seconds = time.monotonic() - started
    return report


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _load_json(path: Path, default):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


def _load_pickle(path: Path):
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
