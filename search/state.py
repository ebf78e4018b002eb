"""A generation's state files beside its index: meta.json, manifest.json, paragraphs.pickle.

meta.json is what ``stats`` and ``/healthz`` show; the manifest (size, mtime
and hash per source file) lets ``update`` skip unchanged files; the paragraph
counts let boilerplate detection continue across runs.  Written atomically,
read forgivingly (a missing or damaged file reads as absent).
"""

from __future__ import annotations

import json
import os
import pickle
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from search.index import columns
from search.ingest.boilerplate import RepeatedParagraphs
from search.ingest.read import FileRecord

if TYPE_CHECKING:
    from search.build import RunReport


def file_changed(entry: dict | None, path: Path) -> bool:
    if entry is None:
        return True
    try:
        stat = path.stat()
    except OSError:
        return True
    return stat.st_size != entry["size"] or stat.st_mtime_ns != entry["mtime_ns"]


def content_changed(manifest: dict, record: FileRecord) -> bool:
    entry = manifest.get(record.path)
    return entry is None or entry.get("hash") != record.digest


def write_state(work: Path, manifest: dict, repeated: RepeatedParagraphs, report: RunReport,
                 number: int, sources: list[str], started: float, kind: str, duplicates: int | None = None) -> None:
    """Columns for the query engine, then meta.json (what stats shows), the manifest and paragraph counts."""
    cols = columns.build(work)  # numpy facet/date columns, ready when the generation goes live
    total, undated = _count_articles(cols)
    meta = {
        "generation": number,
        "kind": kind,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started, 2),
        "articles": total,
        "undated": undated,
        "files": len(manifest),
        "rejected": len(report.rejected),
        "duplicates": report.duplicates if duplicates is None else duplicates,  # of the generation
        "sources": [os.path.abspath(s) for s in sources],
    }
    atomic_write(work / "manifest.json", json.dumps(manifest).encode())
    atomic_write(work / "paragraphs.pickle", pickle.dumps(repeated))
    atomic_write(work / "meta.json", json.dumps(meta, indent=1).encode())


def _count_articles(cols: columns.Columns) -> tuple[int, int]:
    """(articles, undated articles), read off a generation's columns."""
    return int(cols.live.sum()), int((cols.live & (cols.date == columns.NO_DATE)).sum())


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def load_json(path: Path, default):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


def load_pickle(path: Path):
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
