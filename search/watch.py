"""Saved searches and what is new to them: ``newsearch watch add|list|remove|run`` and ``/watch/<name>.atom``.

They live in ``INDEX/watches.sqlite``, beside the generations, so they survive rebuilds and
rollbacks. A saved search remembers every article id it ever matched; after each rebuild or
update, ``record`` adds the ids it matches now and has never matched before, with the time they
were first seen. So a nightly rebuild of the same folder finds nothing new, and a rollback
(which records nothing) announces nothing. The articles matching when a search is saved are
its baseline, never announced. ``run`` prints the matches recorded since that search's last
run and marks them announced; the Atom feed lists recent recorded matches, newest first.

Searches run through a ``Matcher``: the ids a saved search matches now, and a description
(title, date, url, source) of the few that are new — ``EngineMatcher`` on the query engine.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

FILENAME = "watches.sqlite"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FEED_LIMIT = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    name TEXT PRIMARY KEY,
    params TEXT NOT NULL,          -- JSON list of [key, value] search parameters
    created REAL NOT NULL,
    last_run REAL                  -- when `watch run` last printed its news
);
CREATE TABLE IF NOT EXISTS matches (
    watch TEXT NOT NULL REFERENCES watches(name) ON DELETE CASCADE,
    article TEXT NOT NULL,
    seen REAL NOT NULL,            -- when first matched
    baseline INTEGER NOT NULL,     -- matched when the search was saved: never announced
    announced INTEGER NOT NULL DEFAULT 0,
    title TEXT, date TEXT, url TEXT, source TEXT,
    PRIMARY KEY (watch, article)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS matches_news ON matches (watch, baseline, seen);
"""


class WatchError(Exception):
    """A bad name, a duplicate or a missing saved search (the message is for the user)."""


@dataclass(frozen=True)
class Watch:
    name: str
    params: list[tuple[str, str]]
    created: float
    last_run: float | None

    def describe(self) -> str:
        """``NAME  q=… places=…`` for `watch list`."""
        shown = " ".join(f"{k}={v}" for k, v in self.params) or "(every article)"
        return f"{self.name}\t{shown}"


class Matcher(Protocol):
    def ids(self, params: list[tuple[str, str]]) -> list[str]:
        """Every article id the search matches now."""

    def describe(self, ids: list[str]) -> list[dict]:
        """id, title, date, url and source of these articles."""


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise WatchError(f"a saved search name is 1-64 letters, digits, '.', '_' or '-' (got '{name[:70]}')")
    return name


class Watches:
    """The saved searches of one index home."""

    def __init__(self, index_root: str | Path):
        self.path = Path(index_root) / FILENAME

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        return db

    def _read(self, fn):
        if not self.path.exists():
            return fn(None)
        db = self._connect()
        try:
            return fn(db)
        finally:
            db.close()

    # -- the saved searches -------------------------------------------------------------------
    def add(self, name: str, params: list[tuple[str, str]], matcher: Matcher) -> int:
        """Save a search; its current matches become its baseline. Returns their number."""
        check_name(name)
        now = time.time()
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO watches (name, params, created) VALUES (?, ?, ?)",
                           (name, json.dumps([list(p) for p in params]), now))
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                raise WatchError(f"a saved search named '{name}' exists (remove it first)") from None
            added = _insert(db, name, matcher, matcher.ids(params), now, baseline=True)
            db.execute("COMMIT")
            return added
        finally:
            db.close()

    def remove(self, name: str) -> None:
        db = self._connect()
        try:
            if not db.execute("DELETE FROM watches WHERE name = ?", (name,)).rowcount:
                raise WatchError(f"no saved search named '{name}'")
        finally:
            db.close()

    def list(self) -> list[Watch]:
        def read(db):
            if db is None:
                return []
            rows = db.execute("SELECT name, params, created, last_run FROM watches ORDER BY name")
            return [Watch(n, [tuple(p) for p in json.loads(p)], c, r) for n, p, c, r in rows]
        return self._read(read)

    def get(self, name: str) -> Watch:
        for watch in self.list():
            if watch.name == name:
                return watch
        raise WatchError(f"no saved search named '{name}'")

    # -- news ---------------------------------------------------------------------------------
    def record(self, matcher: Matcher) -> dict[str, int]:
        """After a rebuild/update: every saved search's matches it never had before. Returns new counts."""
        out = {}
        now = time.time()
        for watch in self.list():
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                out[watch.name] = _insert(db, watch.name, matcher, matcher.ids(watch.params), now, baseline=False)
                db.execute("COMMIT")
            finally:
                db.close()
        return out

    def run(self) -> list[tuple[str, dict]]:
        """(name, article) for every match recorded since each search's last run, oldest first; marks them."""
        out = []
        now = time.time()
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            for (name,) in db.execute("SELECT name FROM watches ORDER BY name").fetchall():
                rows = db.execute(
                    "SELECT article, title, date, url, source FROM matches "
                    "WHERE watch = ? AND baseline = 0 AND announced = 0 ORDER BY seen, date, article", (name,))
                out += [(name, _article(row)) for row in rows.fetchall()]
                db.execute("UPDATE matches SET announced = 1 WHERE watch = ? AND announced = 0", (name,))
                db.execute("UPDATE watches SET last_run = ? WHERE name = ?", (now, name))
            db.execute("COMMIT")
        finally:
            db.close()
        return out

    def news(self, name: str, limit: int = FEED_LIMIT) -> list[dict]:
        """A saved search's recorded new matches (never its baseline), newest first."""
        self.get(name)

        def read(db):
            rows = db.execute(
                "SELECT article, title, date, url, source, seen FROM matches WHERE watch = ? AND baseline = 0 "
                "ORDER BY seen DESC, date DESC, article LIMIT ?", (name, limit))
            return [{**_article(row[:5]), "seen": row[5]} for row in rows.fetchall()]
        return self._read(read)


def _insert(db: sqlite3.Connection, name: str, matcher: Matcher, ids: Iterable[str], now: float,
            baseline: bool) -> int:
    """Record the ids this search never matched before; only those are described (read from the index)."""
    known = {row[0] for row in db.execute("SELECT article FROM matches WHERE watch = ?", (name,))}
    new = [i for i in dict.fromkeys(ids) if i not in known]
    if not new:
        return 0
    described = {a["id"]: a for a in matcher.describe(new)}
    db.executemany(
        "INSERT OR IGNORE INTO matches (watch, article, seen, baseline, announced, title, date, url, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((name, i, now, int(baseline), int(baseline), a.get("title") or "", a.get("date"), a.get("url") or "",
          a.get("source") or "") for i in new for a in [described.get(i, {})]))
    return len(new)


def _article(row) -> dict:
    article, title, date, url, source = row
    return {"id": article, "title": title, "date": date, "url": url, "source": source}


def line(name: str, article: dict) -> str:
    """One line of `watch run` output: ``name  day  title  id  url``."""
    day = (article.get("date") or "")[:10] or "undated"
    parts = [name, day, article.get("title") or "(untitled)", article["id"]]
    if article.get("url"):
        parts.append(article["url"])
    return "\t".join(parts)


class EngineMatcher:
    """Saved searches run on the live generation through the query engine."""

    def __init__(self, engine):
        self.engine = engine

    def ids(self, params: list[tuple[str, str]]) -> list[str]:
        from search.query.params import SearchParams
        from search.query.research import hit_ids

        grouped: dict[str, list[str]] = {}
        for key, value in params:
            grouped.setdefault(key, []).append(value)
        return hit_ids(self.engine, SearchParams.from_mapping(grouped))

    def describe(self, ids: list[str]) -> list[dict]:
        found = (self.engine.article(i) for i in ids)
        return [{k: a.get(k) for k in ("id", "title", "date", "url", "source")} for a in found if a]


def saved_params(args: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The search parameters worth saving: the query and filters, not paging or sort."""
    return [(k, v) for k, v in args if k not in ("page", "per_page", "sort")]
