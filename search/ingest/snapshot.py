"""Read a source file once, as one consistent version, within size limits, without ever blocking.

``update`` used to stat a file, hash it, then read it again to parse it: a file
rewritten in between was indexed half old, half new (11 of 15 trial updates
published an index missing articles).  Here the bytes are read once through one
descriptor (``O_NONBLOCK``: a FIFO that slipped past the walk cannot block),
the digest is of exactly those bytes, and the file is ``fstat``-ed again after
reading: if its size or mtime moved, or fewer bytes came than it claimed, the
read is ``Unstable`` and the caller keeps what it had.

A consistent read can still be a prefix: a writer rewriting the file in place may simply
be between two writes.  So a file modified less than ``settle_seconds()`` ago is watched
that long after reading (through the same descriptor); if it moved, it is ``Unstable``.
A writer that pauses longer than that still wins: write-to-temp-then-rename is the safe
way to drop files into a source folder.

Gzip is inflated while streaming with two limits: an absolute one on the
decompressed size, and a ratio one — deflate cannot exceed ~1032:1, real news
text compresses 3–10:1, so past BOMB_CHECK_BYTES of output a ratio above
BOMB_RATIO is a bomb and is refused there (the old code held 2.1 GB first).
Concatenated gzip members are all read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import zlib
from dataclasses import dataclass

MAX_FILE_BYTES = 1024 * 1024 * 1024  # raw or decompressed; beyond this a file is refused
BOMB_CHECK_BYTES = 16 * 1024 * 1024  # decompressed bytes before the ratio is judged
BOMB_RATIO = 200
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
SETTLE_SECONDS = 0.5  # a file younger than this is watched this long after reading ($NEWSEARCH_SETTLE_SECONDS)


class FileError(Exception):
    """A whole file cannot be read."""


class Unstable(FileError):
    """The file changed while it was being read."""


@dataclass
class Snapshot:
    data: bytes  # decompressed contents
    size: int  # of the file as read (before reading, and unchanged after)
    mtime_ns: int
    digest: str  # of the raw bytes read
    warning: str | None = None  # e.g. a truncated gzip stream: what was read is kept


def take(path: str | os.PathLike) -> Snapshot:
    """The file's bytes as one version; raises OSError, FileError or Unstable."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise FileError("not a regular file; skipped")
        if before.st_size > MAX_FILE_BYTES:
            raise FileError(f"file larger than {MAX_FILE_BYTES:,} bytes")
        raw = _read_all(fd)
        if len(raw) != before.st_size or _moved(fd, before) or _moved_while_settling(fd, before):
            raise Unstable("changed while being read; read again next run")
    finally:
        os.close(fd)
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    data, warning = gunzip(raw) if raw.startswith(GZIP_MAGIC) else (raw, None)
    return Snapshot(data, before.st_size, before.st_mtime_ns, digest, warning)


def settle_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("NEWSEARCH_SETTLE_SECONDS", SETTLE_SECONDS)))
    except ValueError:
        return SETTLE_SECONDS


def _moved(fd: int, before: os.stat_result) -> bool:
    after = os.fstat(fd)
    return (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)


def _moved_while_settling(fd: int, before: os.stat_result) -> bool:
    settle = settle_seconds()
    age = time.time() - before.st_mtime_ns / 1e9
    if age >= settle:
        return False
    time.sleep(min(settle, settle - age))
    return _moved(fd, before)


def _read_all(fd: int) -> bytes:
    parts, total = [], 0
    while chunk := os.read(fd, CHUNK):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise FileError(f"file larger than {MAX_FILE_BYTES:,} bytes")
        parts.append(chunk)
    return b"".join(parts)


def gunzip(raw: bytes) -> tuple[bytes, str | None]:
    """Inflate every gzip member, refusing bombs early; a truncated stream keeps what it gave, with a warning."""
    out: list[bytes] = []
    produced, offset, view = 0, 0, memoryview(raw)
    while offset < len(raw):
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        while not inflater.eof:
            data = inflater.unconsumed_tail
            if not data:
                if offset >= len(raw):
                    out.append(inflater.flush())
                    return b"".join(out), f"truncated gzip stream; read the first {produced:,} bytes"
                data = view[offset:offset + CHUNK]
                offset += len(data)
            try:
                piece = inflater.decompress(data, CHUNK)
            except zlib.error as exc:
                if produced:
                    return b"".join(out), f"corrupt gzip data after {produced:,} bytes ({exc}); kept what came before"
                raise FileError(f"corrupt gzip data ({exc})") from exc
            produced += len(piece)
            out.append(piece)
            _check_size(produced, offset - len(inflater.unconsumed_tail))
        offset -= len(inflater.unused_data)  # the next member starts there
        if not raw[offset:].strip(b"\x00"):  # trailing padding, not another member
            break
    return b"".join(out), None


def _check_size(produced: int, consumed: int) -> None:
    if produced > MAX_FILE_BYTES:
        raise FileError(f"decompresses to more than {MAX_FILE_BYTES:,} bytes")
    if produced > BOMB_CHECK_BYTES and produced > BOMB_RATIO * max(consumed, 1):
        raise FileError(f"refused: decompresses more than {BOMB_RATIO}:1 (a gzip bomb); "
                        f"{produced:,} bytes from the first {consumed:,}")
