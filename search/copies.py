"""Shadow copies: the copies of an article a generation does not show, kept so ``update`` chooses as a rebuild does.

A rebuild keeps one copy per article id (``ingest.dedupe``: the richer, ties to the copy read first).
``update`` reads only new and changed files, so on its own it could neither weigh a new copy against
the indexed one of another file, nor bring a beaten copy back when the file of the indexed copy
changes, loses the article or is pruned, without reading every unchanged file again. So each
generation keeps its beaten copies (``shadows.pickle``: source path -> the prepared articles it lost),
written by a rebuild and carried forward by each update; a file read again replaces its own.
Its size follows the duplicates, not the archive, and an update touches only the ids it reads.

Not covered: dedupe's second rule (same URL, different ids, different files). Finding the
indexed copy of a URL needs a URL lookup the index does not have; ``update`` applies that rule
among the files it reads only, as before.
"""

from __future__ import annotations

import functools
import os
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from search.index.carry import article_from_stored
from search.ingest.dedupe import file_order, richer
from search.model import Article

SHADOWS_FILE = "shadows.pickle"
Shadows = dict[str, list[Article]]


def load(generation: Path | None) -> Shadows:
    """A generation's shadow copies by path (none for a generation written before they were kept, or damaged:
    then ``update`` chooses between what it reads and what is shown only)."""
    out: Shadows = defaultdict(list)
    if generation is None:
        return {}
    try:
        with open(generation / SHADOWS_FILE, "rb") as handle:
            while True:
                for article in pickle.load(handle):
                    out[article.path].append(article)
    except EOFError:
        return dict(out)
    except Exception:  # damaged: a corrupt pickle raises almost anything (ValueError, KeyError, MemoryError…)
        return {}


def save(work: Path, batches: Iterable[list[Article]]) -> None:
    """Written one pickled batch after another, so a rebuild never holds all of them."""
    tmp = work / (SHADOWS_FILE + ".tmp")
    with open(tmp, "wb") as out:
        for batch in batches:
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, work / SHADOWS_FILE)


def count(shadows: Shadows) -> int:
    return sum(len(copies) for copies in shadows.values())


def best(copies: list[Article]) -> Article:
    """``dedupe``'s choice among copies of one id read in any order: its ``richer`` fold over them in file order."""
    return functools.reduce(richer, sorted(copies, key=lambda a: file_order(a.path, a.line)))


class Chooser:
    """``update``'s half of the id rule: which copy of each id it reads, or whose indexed copy goes, is shown.

    ``searcher`` reads the live generation; ``gone`` are the paths whose indexed articles are removed
    (changed and pruned files); ``restore`` prepares a shadow copy for the index (its entities).
    """

    def __init__(self, searcher, shadows: Shadows, gone: Iterable[str], restore: Callable[[list], list]):
        self.searcher, self.gone, self.restore = searcher, set(gone), restore
        self.kept: Shadows = defaultdict(list)  # the new generation's shadow copies
        self.held: dict[str, list[Article]] = defaultdict(list)  # id -> shadow copies still in the running
        for path, copies in shadows.items():
            if path not in self.gone:
                for article in copies:
                    self.held[article.id].append(article)
        self.orphans: dict[str, None] = {}  # ids whose indexed copy leaves with its file
        for path in sorted(self.gone):
            self.orphans.update(dict.fromkeys(fields["id"] for fields in searcher.documents(path=path)))
        self.beaten = 0  # copies read this run that a copy already held beat

    def choose(self, batch: list[Article]) -> list[Article]:
        """The articles to index for a batch of new copies (one per id): new winners and restored shadows."""
        out, restored = [], []
        for article in batch:
            self.orphans.pop(article.id, None)
            stored = self.searcher.document(id=article.id)
            indexed = article_from_stored(stored) if stored and stored.get("path") not in self.gone else None
            copies = [article, *([indexed] if indexed else []), *self.held.pop(article.id, [])]
            winner = best(copies)
            self._shadow(c for c in copies if c is not winner)
            if winner is article:
                out.append(article)
            else:
                self.beaten += 1
                if winner is not indexed:
                    restored.append(winner)
        return out + (self.restore(restored) if restored else [])

    def finish(self, beaten_this_run: Iterable[Article]) -> Iterator[list[Article]]:
        """Shadow copies that come back because their id's indexed copy left; then the rest are kept."""
        back = []
        for article_id in self.orphans:
            copies = self.held.pop(article_id, [])
            if copies:
                winner = best(copies)
                back.append(winner)
                self._shadow(c for c in copies if c is not winner)
        for copies in self.held.values():
            self._shadow(copies)
        self._shadow(beaten_this_run)
        if back:
            yield self.restore(back)

    def _shadow(self, copies: Iterable[Article]) -> None:
        for article in copies:
            self.kept[article.path].append(article)

    def shadows(self) -> Shadows:
        return {path: sorted(copies, key=lambda a: a.line) for path, copies in sorted(self.kept.items())}
