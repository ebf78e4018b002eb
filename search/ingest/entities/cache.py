"""The entity cache: the model's raw spans per (model tag, content hash), in SQLite.

It stores raw spans, not canonical lists, so improving ``canonicalise`` never
requires running the model again.
"""

from __future__ import annotations

import json
import os
import sqlite3


class SpanCache:
    """SQLite map (tag, content_hash) -> JSON list of raw [text, label] spans.

    WAL mode and one transaction per chunk: a killed process loses at most
    the chunk in flight, and a second process can read meanwhile.
    """

    def __init__(self, path: str | os.PathLike):
        self.db = sqlite3.connect(os.fspath(path), timeout=60)
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
        with self.db:  # one transaction
            self.db.executemany(
                "INSERT OR REPLACE INTO entity_cache (tag, hash, ents) VALUES (?, ?, ?)",
                [(tag, h, json.dumps(ents, ensure_ascii=False)) for h, ents in rows.items()],
            )

    def close(self) -> None:
        self.db.close()
