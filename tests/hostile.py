"""A hostile source folder: every good record must be indexed, every bad one reported, nothing may hang.

``write_hostile_corpus`` returns what a correct run must show: the ids of the
good records and the ``path:line`` (or ``path``) prefixes that must appear on
stderr.  The bad records sit between good ones, so a reader that gives up on
a file loses good records and the test sees it.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

GIVEN = {"people": [], "orgs": [], "places": []}  # entity fields given: no extraction needed


@dataclass
class Hostile:
    root: Path
    good_ids: set[str] = field(default_factory=set)
    reported: list[str] = field(default_factory=list)  # stderr must contain each of these prefixes


def good(record_id: str, **extra) -> bytes:
    record = {"id": record_id, "title": f"Good {record_id}", "body": f"Sound record {record_id} about harbours.",
              "date": "2024-05-06", **GIVEN, **extra}
    return json.dumps(record).encode()


def _lines(hostile: Hostile, name: str, lines: list[tuple[str | None, bytes]]) -> Path:
    """Write a JSONL file of (good id or None for a bad line, raw line)."""
    path = hostile.root / name
    path.write_bytes(b"\n".join(raw for _, raw in lines) + b"\n")
    for number, (record_id, _) in enumerate(lines, start=1):
        if record_id is None:
            hostile.reported.append(f"{path}:{number}: ")
        else:
            hostile.good_ids.add(record_id)
    return path


def gzip_bomb(megabytes: int) -> bytes:
    """A ~1 KB-per-MB gzip stream of spaces, built by repeating one fully flushed deflate block (no CRC trailer)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b" " * (1 << 20)
    first = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    return first + block * (megabytes - 1)


def write_hostile_corpus(root: Path, *, specials: bool = True, bomb: bool = True) -> Hostile:
    """Bad dates, deep JSON, NUL bytes, bad UTF-8, a gzip bomb, a truncated gzip; FIFO and /dev/zero if ``specials``."""
    root.mkdir(parents=True, exist_ok=True)
    hostile = Hostile(root)
    deep = b'{"body": "x", "nested": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _lines(hostile, "dates.jsonl", [
        ("d1", good("d1")),
        (None, json.dumps({"body": "first day", "date": "0001-01-01T00:00:00+05:00"}).encode()),
        ("d2", good("d2")),
        (None, json.dumps({"body": "last day", "date": "9999-12-31T23:00:00-05:00"}).encode()),
        ("d3", good("d3")),
        (None, deep),
        ("d4", good("d4")),
        (None, b'{"body": "raw \x00 NUL byte"'),
        ("d5", good("d5")),
        (None, b'{"body": "bad \xff\xfe utf-8"}'),
        ("d6", good("d6")),
        (None, b"[1, 2, 3]"),
        ("d7", good("d7")),
    ])
    # A NUL byte in the first line must cost that line only, not make the file "binary".
    _lines(hostile, "nul-first.jsonl", [(None, b"\x00\x00\x00"), ("n1", good("n1")), ("n2", good("n2"))])
    if bomb:
        (root / "bomb.jsonl.gz").write_bytes(gzip_bomb(1200))
        hostile.reported.append(f"{root / 'bomb.jsonl.gz'}: ")
    whole = gzip.compress(b"\n".join(good(f"t{i}") for i in range(50)) + b"\n")
    (root / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    hostile.reported.append(f"{root / 'cut.jsonl.gz'}: ")
    (root / "junk.bin").write_bytes(bytes(range(256)) * 8)
    hostile.reported.append(f"{root / 'junk.bin'}: ")
    if specials:
        os.mkfifo(root / "pipe.jsonl")
        hostile.reported.append(f"{root / 'pipe.jsonl'}: ")
        (root / "zero.jsonl").symlink_to("/dev/zero")
        hostile.reported.append(f"{root / 'zero.jsonl'}: ")
    return hostile
