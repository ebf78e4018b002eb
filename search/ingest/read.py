"""Read stage: walk source folders, open (gzip-aware) files, detect each format by content.

Everything that can go wrong with a file becomes a ``Rejected`` record with a
``path:line: reason``; nothing here raises for bad input.
"""

from __future__ import annotations

import collections
import importlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from search.ingest import snapshot
from search.ingest.cluster import TaskPool
from search.ingest.decode import head_text, skip_prolog, transcode_bom
from search.ingest.formats.jsonfeed import looks_like_jsonfeed, read_jsonfeed
from search.ingest.formats.jsonl import looks_like_jsonl, read_jsonl
from search.ingest.formats.reuters import looks_like_reuters, read_reuters
from search.ingest.formats.seedtext import looks_like_seed_text, read_seed_text
from search.ingest.rejections import RejectionTally
from search.ingest.walk import walk_sources
from search.model import Article, Rejected

MAX_SINGLE_ARTICLE_BYTES = 5 * 1024 * 1024  # a one-article file (text, html) larger than this is refused
IN_FLIGHT_PER_WORKER = 2  # files read ahead per reading process: keeps both busy, bounds what waits in memory
_MULTI_RECORD_FORMATS = {"jsonl", "reuters", "feed", "jsonfeed", "warc"}

Reader = Callable[[str, bytes], Iterable[Article | Rejected]]
Progress = Callable[[Iterable, int], Iterable]  # wraps an iterable of known length (a bar on a terminal)


def iter_source_files(sources: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """The regular files under the sources (see walk.walk_sources, which also names what it skipped)."""
    yield from walk_sources(sources).files


def detect_format(data: bytes) -> str | None:
    """Name of the reader for these bytes, judged by content (extensions lie)."""
    from search.ingest.formats.warc import looks_like_warc

    head = data[:8192]
    if looks_like_warc(head):  # before the binary test: a crawl holds images too
        return "warc"
    if b"\x00" in head:
        return _line_format_despite_nul(head)
    for name, looks_like in _detectors():
        if looks_like(head):
            return name
    return None


def _line_format_despite_nul(head: bytes) -> str | None:
    """JSONL whose bad lines carry NUL bytes: each such line is one bad record, not a binary file.

    Binary data has NULs on most lines; the rest of such a head must still look like JSONL.
    """
    lines = [line for line in head.split(b"\n")[:-1] if line.strip()]
    clean = [line for line in lines if b"\x00" not in line]
    if len(clean) * 2 >= len(lines) > 0 and looks_like_jsonl(b"\n".join(clean)):
        return "jsonl"
    return None


def _detectors() -> list[tuple[str, Callable[[bytes], bool]]]:
    return [
        ("reuters", looks_like_reuters),
        ("seedtext", looks_like_seed_text),
        ("feed", lambda head: _page_format("feed", "looks_like_feed")(head)),
        ("html", lambda head: _page_format("html", "looks_like_html")(head)),
        ("jsonfeed", looks_like_jsonfeed),
        ("jsonl", looks_like_jsonl),
    ]


def _reader(name: str) -> Reader:
    light = {"reuters": read_reuters, "seedtext": read_seed_text, "jsonfeed": read_jsonfeed, "jsonl": read_jsonl}
    return light.get(name) or _page_format(name, f"read_{name}")


def _page_format(module: str, name: str) -> Callable:
    """A function of the feed, html or warc reader, imported when first needed: they import feedparser,
    trafilatura and warcio (0.17 CPU-s in each read worker, for a folder of Reuters SGML that needs none)."""
    return getattr(importlib.import_module(f"search.ingest.formats.{module}"), name)


def unknown_format_reason(data: bytes) -> str:
    """Why no reader takes these bytes, as plainly as the bytes allow."""
    if b"\x00" in data[:8192]:
        return "binary file (not seed text, JSONL, Reuters SGML, RSS/Atom/JSON feed, HTML or WARC)"
    text = head_text(data[:8192])
    if not text[skip_prolog(text):].strip():
        return "no content: the file holds only comments or an XML declaration"
    return "unknown format (not seed text, JSONL, Reuters SGML, RSS/Atom/JSON feed, HTML or WARC)"


def read_file(path: Path) -> Iterator[Article | Rejected]:
    """All articles of one file, and a Rejected for each bad record (or for the whole file)."""
    try:
        shot = snapshot.take(path)
    except (OSError, snapshot.FileError) as exc:
        yield Rejected(str(path), 0, getattr(exc, "strerror", None) or str(exc))
        return
    yield from parse(str(path), shot.data, shot.warning)


def parse(shown: str, data: bytes, warning: str | None = None) -> Iterator[Article | Rejected]:
    """The records of one file's bytes: detect the format, run its reader."""
    if warning:
        yield Rejected(shown, 0, warning)
    if not data.strip():
        yield Rejected(shown, 0, "empty file")
        return
    data = transcode_bom(data)
    name = detect_format(data)
    if name is None:
        yield Rejected(shown, 0, unknown_format_reason(data))
        return
    if name not in _MULTI_RECORD_FORMATS and len(data) > MAX_SINGLE_ARTICLE_BYTES:
        yield Rejected(shown, 1, f"article too large ({len(data):,} bytes > {MAX_SINGLE_ARTICLE_BYTES:,})")
        return
    try:
        yield from _reader(name)(shown, data)
    except Exception as exc:  # a reader bug must not stop the run; report it like bad input
        yield Rejected(shown, 0, f"{name} reader failed: {type(exc).__name__}: {exc}")


# -- many files, on all cores ---------------------------------------------------------------
@dataclass
class FileRecord:
    """What one file gave: its identity for the manifest, its articles and (bounded) rejections.

    ``complete`` is False when the file could not be read whole as one version
    (unreadable, too large, changed while read): its indexed articles must stay.
    """

    path: str
    size: int
    mtime_ns: int
    digest: str
    items: list[Article | Rejected]
    complete: bool = True
    more_rejected: Counter = field(default_factory=Counter)  # by reason kind, beyond those in items

    def manifest_entry(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "hash": self.digest}


def read_one(path: Path) -> FileRecord:
    """Read and parse one file (runs in a worker process): one read, one version, bounded rejections."""
    shown = str(path)
    try:
        shot = snapshot.take(path)
    except (OSError, snapshot.FileError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return FileRecord(shown, 0, 0, "", [Rejected(shown, 0, reason)], complete=False)
    articles: list[Article | Rejected] = []
    tally = RejectionTally()
    for item in parse(shown, shot.data, shot.warning):
        if isinstance(item, Rejected):
            tally.add(item)
        else:
            articles.append(item)
    return FileRecord(shown, shot.size, shot.mtime_ns, shot.digest, [*tally.listed, *articles],
                      more_rejected=tally.more)
def read_files(paths: list[Path], progress: Progress = lambda items, total: items,
               pool: TaskPool | None = None) -> Iterator[FileRecord]:
    """Parse files on all cores, or as tasks of a cluster's ``pool``; results come back in input order."""
    if pool is not None:
        yield from progress(pool.map(read_one, paths), len(paths))
        return
    if len(paths) < 4:
        yield from progress(map(read_one, paths), len(paths))
        return
    workers = min(os.cpu_count() or 1, len(paths))
    with ProcessPoolExecutor(workers) as pool:
        yield from progress(_in_order(pool, paths, IN_FLIGHT_PER_WORKER * workers), len(paths))


def _in_order(pool: ProcessPoolExecutor, paths: list[Path], window: int) -> Iterator[FileRecord]:
    """``pool.map(read_one, paths)`` with at most ``window`` files read ahead of the consumer.

    ``Executor.map`` submits every file at once, so a consumer slower than the readers (a
    streaming build spilling batches) would collect every file's articles in memory.
    """
    pending: collections.deque = collections.deque()
    for path in paths:
        pending.append(pool.submit(read_one, path))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
