"""Index home: generations on disk, the live pointer, the lock.

Layout of an index directory::

    current -> generations/g000007     symlink to the live generation
    generations/g000006/  g000007/      complete generations (the last few are kept)
    generations/.tmp-g000008-1234/      a generation being built (removed if its builder died)
    generations/.tmp-scratch-1234/      the batches a running build spilled (likewise)
    entity-cache.sqlite                 survives rebuilds
    .lock                               held (flock) by the one running rebuild/update

A generation becomes live by one atomic ``rename`` of a fresh symlink over
``current``; until then readers keep using the old one, so a killed build
never harms the live index.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from search import lifeline

KEEP_GENERATIONS = 3
INDEX_ENV = "NEWSEARCH_INDEX"
_GEN_RE = re.compile(r"^g(\d{6,})$")


class Locked(Exception):
    """Another rebuild/update holds the index lock."""


class NoIndex(Exception):
    """There is no live generation."""


def default_root() -> Path:
    """Where an index lives when no ``--index`` is given: ``$NEWSEARCH_INDEX``, else ``./index``."""
    return Path(os.environ.get(INDEX_ENV) or "index")


def generation_name(number: int) -> str:
    return f"g{number:06d}"


class IndexHome:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.generations = self.root / "generations"
        self.current = self.root / "current"
        self.entity_cache = self.root / "entity-cache.sqlite"

    # -- reading -------------------------------------------------------------
    def live(self) -> Path | None:
        """Directory of the live generation, or None when nothing was ever published."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        path = (self.root / target).resolve()
        return path if path.is_dir() else None

    def require_live(self) -> Path:
        live = self.live()
        if live is None:
            raise NoIndex(f"no index at {self.root} (run 'newsearch rebuild SOURCE' first)")
        return live

    def numbers(self) -> list[int]:
        """Numbers of the complete generations on disk, oldest first."""
        if not self.generations.is_dir():
            return []
        found = (_GEN_RE.match(p.name) for p in self.generations.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    @staticmethod
    def number_of(path: Path) -> int:
        return int(_GEN_RE.match(path.name).group(1))

    @staticmethod
    def read_meta(generation: Path) -> dict:
        try:
            return json.loads((generation / "meta.json").read_text())
        except (OSError, ValueError):
            return {}

    # -- writing (only under the lock) --------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive, non-blocking; released by the kernel even if the holder is killed.

        Only this process holds it: forked workers close the descriptor and die with
        this process (search.lifeline), so a SIGKILL of the main process alone frees it.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise Locked(f"another rebuild/update holds {self.root / '.lock'}") from exc
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            lifeline.protect_lock(handle.fileno())
            try:
                yield
            finally:
                lifeline.release_lock(handle.fileno())
                fcntl.flock(handle, fcntl.LOCK_UN)

    def clean_stale(self) -> None:
        """Remove half-built generations and stray temp links left by killed runs."""
        if self.generations.is_dir():
            for path in self.generations.iterdir():
                if path.name.startswith(".tmp-"):
                    shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.root / ".current.tmp").unlink()

    def new_workdir(self) -> tuple[int, Path]:
        """A fresh, private directory for the next generation."""
        self.generations.mkdir(parents=True, exist_ok=True)
        number = max(self.numbers(), default=0) + 1
        work = self.generations / f".tmp-{generation_name(number)}-{os.getpid()}"
        work.mkdir()
        return number, work

    @contextlib.contextmanager
    def scratch(self, clean_first: bool = False) -> Iterator[Path]:
        """A private folder for a run's spilled batches, removed after it (or by ``clean_stale`` if the run died).

        ``clean_first``: remove what killed runs left behind before making it (under the lock).
        """
        if clean_first:
            self.clean_stale()
        self.generations.mkdir(parents=True, exist_ok=True)
        folder = self.generations / f".tmp-scratch-{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def publish(self, number: int, work: Path) -> Path:
        """Make a finished work directory the live generation (rename + atomic symlink swap)."""
        final = self.generations / generation_name(number)
        _fsync_tree(work)
        os.rename(work, final)
        self._point_current_to(final)
        self.prune()
        return final

    def rollback(self) -> Path:
        """Make the newest generation older than the live one live again."""
        live = self.require_live()
        older = [n for n in self.numbers() if n < self.number_of(live)]
        if not older:
            raise NoIndex("no previous generation to roll back to")
        target = self.generations / generation_name(older[-1])
        self._point_current_to(target)
        return target

    def make_live(self, number: int) -> Path:
        """Point ``current`` at a complete generation already on disk (a replica receiving one it has)."""
        target = self.generations / generation_name(number)
        if not target.is_dir():
            raise NoIndex(f"no generation {number} at {self.generations}")
        self._point_current_to(target)
        return target

    def prune(self, keep: int = KEEP_GENERATIONS) -> None:
        """Delete old generations, never the live one."""
        live = self.live()
        live_number = self.number_of(live) if live else None
        for number in self.numbers()[:-keep]:
            if number != live_number:
                shutil.rmtree(self.generations / generation_name(number), ignore_errors=True)

    def _point_current_to(self, generation: Path) -> None:
        tmp = self.root / ".current.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.path.relpath(generation, self.root), tmp)
        os.replace(tmp, self.current)
        _fsync_dir(self.root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush a generation's files so a crash right after the swap cannot expose empty files."""
    for child in path.iterdir():
        if child.is_file():
            fd = os.open(child, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)
