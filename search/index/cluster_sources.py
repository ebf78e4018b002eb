"""Signatures for a segment that has no story-cluster files yet, found by article id where they already are.

In order: the signatures the run computed (a rebuild's or an update's ``SignatureSpill``),
the files of segments merged away in this run (their files are still in the folder,
hard-linked from the previous generation; only the docs live there, per the previous
generation's cluster numbers: a deleted doc may be an older version of a changed article),
and the single ``clusters.npz`` state that code before per-segment files kept (an index
migrating on its first update). Only ids
found nowhere are signed again from the segment's stored title and body. Deleted docs get
the empty signature: they are never probed nor paired.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from search.index import cluster_segments, segment_columns, whoosh_internals
from search.index.cluster_segments import SegmentFiles
from search.index.minhash import EMPTY
from search.index.signature_spill import SignatureSpill

Fetch = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # rows -> (sigs, figs)


class Table:
    """Some signatures findable by id: ids sorted once, rows fetched on demand."""

    def __init__(self, ids: np.ndarray, fetch: Fetch):
        self.order = np.argsort(ids, kind="stable")
        self.ids = np.asarray(ids)[self.order]
        self.fetch = fetch

    def find(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``wanted`` found here, their rows); the last row of equal ids (the newest) wins."""
        if not len(self.ids) or not len(wanted):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = np.searchsorted(self.ids, wanted, side="right") - 1
        hit = (at >= 0) & (self.ids[np.maximum(at, 0)] == wanted)
        return np.flatnonzero(hit), self.order[at[hit]]


class Sources:
    def __init__(self, directory: Path, found, present: list[str], settings, previous: dict | None):
        self.directory, self.settings, self.present = Path(directory), settings, set(present)
        self.found, self.previous = found, previous
        self._tables: list[Table] = []
        self._more = self._load_tables()

    def _load_tables(self) -> Iterator[Table]:
        found = self.found
        if isinstance(found, SignatureSpill):
            if len(found):
                yield Table(found.take_ids(), found.read)
        elif found is not None and len(found.ids):
            yield Table(found.ids, lambda rows, f=found: (f.sigs[rows], f.figs[rows]))
        before = {} if self.previous is None else \
            {sid: n for n, sid in enumerate(self.previous["segments"].tolist())}
        for sid in sorted(set(before) & cluster_segments.present_ids(self.directory) - self.present):
            files = cluster_segments.open_files(self.directory, sid, None, self.settings)
            offsets = self.previous["offsets"]
            lo, hi = offsets[before[sid]], offsets[before[sid] + 1]
            if files is None or files.size != hi - lo:
                continue
            live = np.flatnonzero(self.previous["cluster"][lo:hi] >= 0)  # a deleted doc may be an old version
            ids = np.char.decode(np.asarray(files.ids[live]), "utf-8")
            yield Table(ids, lambda rows, f=files, at=live: (f.sigs[at[rows]], f.figs[at[rows]]))
        old = _old_state(self.directory, self.settings)
        if old is not None:
            ids, sigs, figs = old
            yield Table(ids, lambda rows: (sigs[rows], figs[rows]))

    def tables(self) -> Iterator[Table]:
        yield from self._tables
        for table in self._more:
            self._tables.append(table)
            yield table

    def segment_files(self, layout, n: int) -> SegmentFiles:
        """Write the arrays of segment ``n`` of the layout (no meta yet) and return them mapped."""
        segment, sid = layout.segments[n], layout.ids[n]
        size = int(layout.offsets[n + 1] - layout.offsets[n])
        ids = _segment_ids(self.directory, sid, size) if size else np.zeros(0, dtype=str)
        if ids is None:
            ids = _stored_ids(layout.ix, segment)
        num_perm, figure_perm = self.settings.num_perm, self.settings.figure_perm
        sigs = np.full((size, num_perm), EMPTY, dtype=np.uint32)
        figs = np.full((size, figure_perm), EMPTY, dtype=np.uint32)
        todo = np.flatnonzero(layout.live[layout.offsets[n]:layout.offsets[n + 1]])
        for table in self.tables():
            if not len(todo):
                break
            at, rows = table.find(ids[todo])
            if len(at):
                sigs[todo[at]], figs[todo[at]] = table.fetch(rows)
                todo = np.delete(todo, at)
        if len(todo):
            sigs[todo], figs[todo] = _signed_from_store(layout.ix, segment, todo, self.settings)
        cluster_segments.write_arrays(self.directory, sid, ids, sigs, figs, self.settings)
        del sigs, figs
        return cluster_segments.open_arrays(self.directory, sid)


def _segment_ids(directory: Path, segment_id: str, size: int) -> np.ndarray | None:
    """The segment's article ids from its columns part (``segment_columns``): only that member is read."""
    with contextlib.suppress(OSError, KeyError, ValueError), \
            np.load(segment_columns.part_path(directory, segment_id), allow_pickle=False) as data:
        if int(data["version"]) == segment_columns.VERSION and int(data["size"]) == size:
            return data["doc.id"]
    return None


def _stored_ids(ix, segment) -> np.ndarray:
    reader = whoosh_internals.segment_reader(ix, segment)
    try:
        return np.array([stored.get("id") or "" for _, stored in whoosh_internals.all_stored_documents(reader)],
                        dtype=str)
    finally:
        reader.close()


def _signed_from_store(ix, segment, docs: np.ndarray, settings) -> tuple[np.ndarray, np.ndarray]:
    """Sign some docs of a segment from their stored title and body."""
    from search.index.clusters import signatures

    reader = whoosh_internals.segment_reader(ix, segment)
    try:
        texts = [(stored.get("title") or "", stored.get("body") or "")
                 for stored in (reader.stored_fields(d) for d in docs.tolist())]
    finally:
        reader.close()
    return signatures(texts, settings)


def _old_state(directory: Path, settings) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The signatures an older generation's ``clusters.npz`` kept (ids sorted), when signed the same way."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / "clusters.npz") as data:
        if "sigs" in data.files and str(data["settings"]) == settings.tag():
            return data["ids"], data["sigs"], data["figs"]
    return None
