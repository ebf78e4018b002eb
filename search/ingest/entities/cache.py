"""The entity cache: the model's raw spans per (model tag, content hash), in SQLite.

It stores raw spans, not canonical lists, so improving ``canonicalise`` never
requires running the model again.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3

# SQLite's storage failures, as the errno the index writer would see for the same trouble
_STORAGE_ERRORS = {"SQLITE_FULL": errno.ENOSPC, "SQLITE_IOERR": errno.EIO, "SQLITE_READONLY": errno.EROFS}


class SpanCache:
    """SQLite map (tag, content_hash) -> JSON list of raw [text, label] spans.

    WAL mode and one transaction per chunk: a killed process loses at most
    the chunk in flight, and a second process can read meanwhile.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.db = sqlite3.connect(self.path, timeout=60)
        try:
            self._setup()
        except sqlite3.Error:
            self.db.close()
            raise

    def _setup(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS entity_cache (tag TEXT NOT NULL, hash TEXT NOT NULL,"
            " ents TEXT NOT NULL, PRIMARY KEY (tag, hash)) WITHOUT ROWID"
        )
        self.db.commit()

    def get_many(self, tag: str, hashes: list[str]) -> dict[str, list[tuple[str, str]]]:
        found = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT hash, ents FROM entity_cache WHERE tag = ? AND hash IN ({marks})", [tag, *part]
            )
            found.update((h, [tuple(e) for e in json.loads(js)]) for h, js in rows)
        return found

    def put_many(self, tag: str, rows: dict[str, list[tuple[str, str]]]) -> None:
        """Store a chunk in one transaction; a full or failing disk is an OSError, like the index writer's."""
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO entity_cache (tag, hash, ents) VALUES (?, ?, ?)",
                    [(tag, h, json.dumps(ents, ensure_ascii=False)) for h, ents in rows.items()],
                )
        except sqlite3.OperationalError as exc:
            code = _storage_errno(exc)
            if code is None:
                raise
            raise OSError(code, f"{os.strerror(code)} (entity cache {self.path}: {exc})") from exc

    def close(self) -> None:
        self.db.close()


def _storage_errno(exc: sqlite3.OperationalError) -> int | None:
    name = getattr(exc, "sqlite_errorname", None) or ""
    code = _STORAGE_ERRORS.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
    if code is None and "disk is full" in str(exc):
        code = errno.ENOSPC
    return code
