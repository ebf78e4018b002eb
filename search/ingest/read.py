"""Read stage: walk source folders, open (gzip-aware) files, detect each format by content.

Everything that can go wrong with a file becomes a ``Rejected`` record with a
``path:line: reason``; nothing here raises for bad input.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from search.ingest.formats.jsonl import looks_like_jsonl, read_jsonl
from search.ingest.formats.reuters import looks_like_reuters, read_reuters
from search.ingest.formats.seedtext import looks_like_seed_text, read_seed_text
from search.model import Article, Rejected

MAX_FILE_BYTES = 1024 * 1024 * 1024  # decompressed; beyond this a file is refused
MAX_SINGLE_ARTICLE_BYTES = 5 * 1024 * 1024  # a one-article file (text, html) larger than this is refused
_GZIP_MAGIC = b"\x1f\x8b"
_MULTI_RECORD_FORMATS = {"jsonl", "reuters", "feed"}

Reader = Callable[[str, bytes], Iterable[Article | Rejected]]
Progress = Callable[[Iterable, int], Iterable]  # wraps an iterable of known length (a bar on a terminal)


class FileError(Exception):
    """A whole file cannot be read."""


def is_documentation(name: str) -> bool:
    """README/LICENSE/Markdown files describe a corpus; they are not articles."""
    upper = name.upper()
    return upper.startswith(("README", "LICENSE", "COPYING")) or upper.endswith(".MD")


def iter_source_files(sources: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Every article file under the sources, recursively, in a stable order.

    Hidden files and documentation files (README, LICENSE, *.md) inside folders
    are skipped; a file named explicitly is always read.
    """
    for source in sources:
        root = Path(source)
        if root.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith(".") and not is_documentation(name):
                    yield Path(dirpath) / name


def load_bytes(path: Path) -> tuple[bytes, str | None]:
    """File contents, gunzipped if compressed, plus a warning if a gzip stream was cut short."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileError(f"file larger than {MAX_FILE_BYTES:,} bytes")
    if not data.startswith(_GZIP_MAGIC):
        return data, None
    return _gunzip(data)


def _gunzip(data: bytes) -> tuple[bytes, str | None]:
    """Decompress, keeping what a truncated or corrupt stream still yields."""
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error as exc:
        raise FileError(f"corrupt gzip data ({exc})") from exc
    if len(out) > MAX_FILE_BYTES:
        raise FileError(f"decompresses to more than {MAX_FILE_BYTES:,} bytes")
    if not inflater.eof:
        return out, f"truncated gzip stream; read the first {len(out):,} bytes"
    return out, None


def detect_format(data: bytes) -> str | None:
    """Name of the reader for these bytes, judged by content (extensions lie)."""
    head = data[:8192]
    if b"\x00" in head:
        return None
    for name, looks_like in _detectors():
        if looks_like(head):
            return name
    return None


def _detectors() -> list[tuple[str, Callable[[bytes], bool]]]:
    from search.ingest.formats.feed import looks_like_feed
    from search.ingest.formats.html import looks_like_html

    return [
        ("reuters", looks_like_reuters),
        ("seedtext", looks_like_seed_text),
        ("feed", looks_like_feed),
        ("html", looks_like_html),
        ("jsonl", looks_like_jsonl),
    ]


def _reader(name: str) -> Reader:
    from search.ingest.formats.feed import read_feed
    from search.ingest.formats.html import read_html

    return {
        "reuters": read_reuters,
        "seedtext": read_seed_text,
        "feed": read_feed,
        "html": read_html,
        "jsonl": read_jsonl,
    }[name]


def read_file(path: Path) -> Iterator[Article | Rejected]:
    """All articles of one file, and a Rejected for each bad record (or for the whole file)."""
    shown = str(path)
    try:
        data, warning = load_bytes(path)
    except (OSError, FileError) as exc:
        yield Rejected(shown, 0, getattr(exc, "strerror", None) or str(exc))
        return
    if warning:
        yield Rejected(shown, 0, warning)
    if not data.strip():
        yield Rejected(shown, 0, "empty file")
        return
    name = detect_format(data)
    if name is None:
        yield Rejected(shown, 0, "binary file or unknown format (not seed text, JSONL, Reuters SGML, feed or HTML)")
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
    """What one file gave: its identity for the manifest and its records."""

    path: str
    size: int
    mtime_ns: int
    digest: str
    items: list[Article | Rejected]

    def manifest_entry(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "hash": self.digest}


def read_one(path: Path) -> FileRecord:
    """Read and parse one file (runs in a worker process)."""
    try:
        stat = path.stat()
        raw_digest = _file_digest(path)
    except OSError as exc:
        return FileRecord(str(path), 0, 0, "", [Rejected(str(path), 0, exc.strerror or str(exc))])
    items = list(read_file(path))
    return FileRecord(str(path), stat.st_size, stat.st_mtime_ns, raw_digest, items)


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
