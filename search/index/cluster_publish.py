"""Story clusters of a generation from its segments' cluster files: only segments without files are worked on.

``publish`` (via ``clusters.publish``):
1. every segment without files (``cluster_segments``) — the new segments of an update, a segment
   merged from small ones, every segment of a rebuild or of an index built before these files —
   gets its signatures by article id from what is at hand (the run's signatures, the files of
   segments merged away, the single ``clusters.npz`` state older code kept), signing its stored
   texts only for ids found nowhere;
2. their live documents are probed against every segment's band index (``probe``), or, when
   they are most of the index (a rebuild), ``lsh.find_edges`` runs once over the whole matrix;
   the verified edges go into the new segments' meta files;
3. the generation's edges are the union of its segments' edges with both ends present and live;
   their components (``lsh.components``, linear passes) are numbered densely over live docs;
4. a cluster's public key is ``clusters.cluster_key`` of its smallest article id. A cluster with
   exactly the members of a cluster of the previous generation (``clusters.npz``, hard-linked
   in by ``update``) keeps its key; only the others read their members' ids (mapped files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.index import cluster_segments, lsh, whoosh_internals
from search.index.cluster_segments import Edges, SegmentFiles
from search.index.minhash import EMPTY

FILENAME = "clusters.npz"
VERSION = 2  # 2: per-segment files; the generation keeps only its cluster numbers and keys
WHOLE_SHARE = 0.25  # probing more than this share of the live docs: one pass over the whole matrix instead


@dataclass
class Layout:
    """A generation's segments in doc-number order (global doc = offset + local doc) and which docs are live."""

    ix: object
    segments: list  # Whoosh segment objects
    ids: list[str]
    offsets: np.ndarray  # int64 [segments + 1]
    live: np.ndarray  # bool [docs]

    @classmethod
    def of(cls, directory: Path) -> Layout:
        ix = whoosh_internals.open_unmapped(directory)
        segments = whoosh_internals.segments(ix)
        sizes = [s.doc_count_all() for s in segments]
        offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        live = np.ones(int(offsets[-1]), dtype=bool)
        for segment, start in zip(segments, offsets[:-1].tolist(), strict=True):
            gone = list(segment.deleted_docs())
            live[start + np.array(gone, dtype=np.int64)] = False
        return cls(ix, segments, [s.segment_id() for s in segments], offsets, live)

    @property
    def size(self) -> int:
        return len(self.live)

    def locate(self, rows: np.ndarray) -> np.ndarray:
        """The segment number of each global doc number."""
        return np.searchsorted(self.offsets, rows, side="right") - 1


@dataclass
class Result:
    cluster: np.ndarray  # int32 [docs], -1 for a deleted doc
    codes: np.ndarray  # uint64 [clusters]: the key of each cluster as a number


def publish(directory: Path, found, settings) -> Result:
    """Cluster the generation in ``directory``; ``found`` is a ``signature_spill.SignatureSpill`` or
    ``clusters.Signed`` with the signatures this run computed (looked up by id)."""
    directory = Path(directory)
    layout = Layout.of(directory)
    views = [cluster_segments.open_files(directory, sid, int(size), settings)
             for sid, size in zip(layout.ids, np.diff(layout.offsets).tolist(), strict=True)]
    missing = [n for n, view in enumerate(views) if view is None]
    if missing:
        from search.index.cluster_sources import Sources

        sources = Sources(directory, found, layout.ids, settings)
        for n in missing:
            views[n] = sources.segment_files(layout, n)
        _find_edges(directory, layout, views, missing, settings)
    with contextlib.suppress(OSError):
        cluster_segments.remove_stale(directory, set(layout.ids))
    result = _numbered(layout, views, _previous(directory, settings))
    save(directory, layout, result, settings)
    return result


# -- edges ------------------------------------------------------------------------------------------
def _find_edges(directory: Path, layout: Layout, views: list[SegmentFiles], missing: list[int], settings) -> None:
    """Probe the live docs of the segments without files, and write those segments' metas with the edges."""
    probe = np.concatenate([np.arange(layout.offsets[n], layout.offsets[n + 1]) for n in missing])
    probe = probe[layout.live[probe]]
    if len(probe) > WHOLE_SHARE * max(int(layout.live.sum()), 1):
        sigs, figs = _matrix(layout, views)
        pairs = lsh.find_edges(sigs, figs, settings, probe=None if len(probe) == layout.live.sum() else probe)
        del sigs, figs
    else:
        pairs = probe_edges(layout, views, probe, settings)
    owner = layout.locate(pairs)  # [E, 2] segment numbers
    keep_in = np.where(np.isin(owner[:, 0], missing), owner[:, 0], owner[:, 1])
    names = np.array(layout.ids, dtype=str)
    for n in missing:
        mine = keep_in == n
        ends, seg = pairs[mine], owner[mine]
        local = ends - layout.offsets[seg]
        edges = Edges(names, *(a.astype(np.int32) for a in (seg[:, 0], local[:, 0], seg[:, 1], local[:, 1])))
        view = views[n]
        view.edges = edges
        cluster_segments.write_meta(directory, view.segment_id, view.size, edges, settings)


def _matrix(layout: Layout, views: list[SegmentFiles]) -> tuple[np.ndarray, np.ndarray]:
    """Every doc's signatures in global doc order, deleted docs as empty sets (no bucket takes them)."""
    sigs = np.concatenate([np.asarray(v.sigs) for v in views]) if views else np.zeros((0, 0), np.uint32)
    figs = np.concatenate([np.asarray(v.figs) for v in views]) if views else np.zeros((0, 0), np.uint32)
    sigs[~layout.live] = EMPTY
    figs[~layout.live] = EMPTY
    return sigs, figs


def probe_edges(layout: Layout, views: list[SegmentFiles], probe: np.ndarray, settings) -> np.ndarray:
    """Verified pairs (i < j, global doc numbers) touching a probed doc, as ``lsh.find_edges(probe=…)`` over
    the whole matrix finds them: per band, each segment's sorted keys are searched for the probed docs' keys,
    and the bucket members (live, in doc order) pair up as there (all pairs of a small bucket, a chain through
    a big one)."""
    probe_sigs, _ = gather(layout, views, probe)
    usable = lsh.has_set(probe_sigs)
    probe, probe_sigs = probe[usable], probe_sigs[usable]
    probed = np.zeros(layout.size, dtype=bool)
    probed[probe] = True
    bands, rows = settings.bands
    found = []
    for band in range(bands):
        wanted = np.unique(lsh.band_key(probe_sigs[:, band * rows:(band + 1) * rows], settings, band))
        keys, members = [], []
        for n, view in enumerate(views):
            column = view.keys[band]
            lo, hi = np.searchsorted(column, wanted, "left"), np.searchsorted(column, wanted, "right")
            count = hi - lo
            if not count.any():
                continue
            at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
            keys.append(np.repeat(wanted, count))
            members.append(np.asarray(view.docs[band])[at].astype(np.int64) + layout.offsets[n])
        if not keys:
            continue
        keys, members = np.concatenate(keys), np.concatenate(members)
        alive = layout.live[members]
        keys, members = keys[alive], members[alive]
        order = np.lexsort((members, keys))
        pairs = lsh.pairs_in_buckets(keys[order], members[order])
        found.append(pairs[probed[pairs].any(axis=1)])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.vstack(found)
    rows_used = np.unique(pairs)
    sigs, figs = gather(layout, views, rows_used)
    codes = lsh.pair_codes(np.searchsorted(rows_used, pairs), len(rows_used))
    kept = lsh.verified(codes, sigs, figs, settings)
    return rows_used[np.column_stack(np.divmod(kept, len(rows_used)))].reshape(-1, 2)


def gather(layout: Layout, views: list[SegmentFiles], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sigs, figs) of some global doc numbers, read from each segment's mapped arrays."""
    seg = layout.locate(rows)
    width_s, width_f = views[0].sigs.shape[1], views[0].figs.shape[1]
    sigs = np.empty((len(rows), width_s), dtype=np.uint32)
    figs = np.empty((len(rows), width_f), dtype=np.uint32)
    for n in np.unique(seg).tolist():
        mine = np.flatnonzero(seg == n)
        local = rows[mine] - layout.offsets[n]
        sigs[mine], figs[mine] = views[n].sigs[local], views[n].figs[local]
    return sigs, figs


def generation_edges(layout: Layout, views: list[SegmentFiles]) -> np.ndarray:
    """The edges of every segment whose two ends are in present segments and live (global doc numbers)."""
    position = {sid: n for n, sid in enumerate(layout.ids)}
    out = [np.zeros((0, 2), dtype=np.int64)]
    for view in views:
        edges = view.edges
        if not len(edges):
            continue
        here = np.array([position.get(sid, -1) for sid in edges.segments.tolist()], dtype=np.int64)
        a_seg, b_seg = here[edges.a_seg], here[edges.b_seg]
        present = (a_seg >= 0) & (b_seg >= 0)
        a = layout.offsets[a_seg[present]] + edges.a_doc[present]
        b = layout.offsets[b_seg[present]] + edges.b_doc[present]
        both = layout.live[a] & layout.live[b]
        out.append(np.column_stack([a[both], b[both]]))
    return np.vstack(out)


# -- numbering and keys -------------------------------------------------------------------------------
def _numbered(layout: Layout, views: list[SegmentFiles], previous: dict | None) -> Result:
    """Components over the live docs, numbered densely in doc order, with their keys."""
    labels = lsh.components(layout.size, generation_edges(layout, views))
    has_live = np.zeros(int(labels.max()) + 1 if len(labels) else 0, dtype=bool)
    has_live[labels[layout.live]] = True
    number = np.cumsum(has_live) - 1
    cluster = np.where(layout.live, number[labels], -1).astype(np.int32)
    count = int(has_live.sum())
    codes = np.zeros(count, dtype=np.uint64)
    fresh = np.ones(count, dtype=bool)
    if previous is not None:
        kept, old = _unchanged(layout, cluster, count, previous)
        codes[kept], fresh[kept] = previous["codes"][old], False
    rows = np.flatnonzero((cluster >= 0) & fresh[np.maximum(cluster, 0)])
    if len(rows):
        ids = _ids(layout, views, rows)
        order = np.argsort(ids, kind="stable")
        first = np.full(count, len(rows), dtype=np.int64)
        np.minimum.at(first, cluster[rows][order], np.arange(len(rows)))
        todo = np.flatnonzero(fresh)
        codes[todo] = [key_code(i) for i in ids[order[first[todo]]].tolist()]
    return Result(cluster, codes)


def _unchanged(layout: Layout, cluster: np.ndarray, count: int, previous: dict) -> tuple[np.ndarray, np.ndarray]:
    """The clusters whose members are exactly those of a cluster of the previous generation, and that cluster."""
    old_of = np.full(layout.size, -1, dtype=np.int64)
    before = {sid: n for n, sid in enumerate(previous["segments"].tolist())}
    offsets, old_cluster = previous["offsets"], previous["cluster"]
    for n, sid in enumerate(layout.ids):
        o = before.get(sid)
        size = int(layout.offsets[n + 1] - layout.offsets[n])
        if o is not None and int(offsets[o + 1] - offsets[o]) == size:
            old_of[layout.offsets[n]:layout.offsets[n + 1]] = old_cluster[offsets[o]:offsets[o] + size]
    live = layout.live
    members, old = cluster[live], old_of[live]
    low = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(count, -1, dtype=np.int64)
    np.minimum.at(low, members, old)
    np.maximum.at(high, members, old)
    sizes = np.bincount(members, minlength=count)
    old_sizes = np.bincount(old_cluster[old_cluster >= 0], minlength=len(previous["codes"]))
    same = (low == high) & (low >= 0)
    same[same] = sizes[same] == old_sizes[low[same]]
    kept = np.flatnonzero(same)
    return kept, low[kept]


def _ids(layout: Layout, views: list[SegmentFiles], rows: np.ndarray) -> np.ndarray:
    """The article ids (UTF-8 bytes: ordered as the strings are) of some global doc numbers."""
    seg = layout.locate(rows)
    parts = []
    for n in range(len(views)):
        mine = slice(*np.searchsorted(seg, [n, n + 1]))  # rows ascending: each segment's rows are one run
        if mine.start < mine.stop:
            parts.append(np.asarray(views[n].ids[rows[mine] - layout.offsets[n]]))
    width = max((p.dtype.itemsize for p in parts), default=1)
    return np.concatenate([p.astype(f"S{width}") for p in parts]) if parts else np.zeros(0, dtype="S1")


def key_code(smallest_id: bytes | str) -> int:
    """``clusters.cluster_key`` as a number (its 16 hex digits)."""
    raw = smallest_id.encode() if isinstance(smallest_id, str) else smallest_id
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


# -- the generation's file ----------------------------------------------------------------------------
def save(directory: Path, layout: Layout, result: Result, settings) -> None:
    tmp = Path(directory) / f".{FILENAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        np.savez(handle, version=np.array(VERSION), settings=np.array(settings.tag()),
                 segments=np.array(layout.ids, dtype=str), offsets=layout.offsets,
                 cluster=result.cluster, codes=result.codes)
    os.replace(tmp, Path(directory) / FILENAME)


def _previous(directory: Path, settings) -> dict | None:
    """The clusters of the generation this one was copied from (its ``clusters.npz``), if of this layout."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if int(data["version"]) == VERSION and str(data["settings"]) == settings.tag():
            return {name: data[name] for name in ("segments", "offsets", "cluster", "codes")}
    return None


def load(directory: Path) -> Result | None:
    """The saved cluster numbers and key codes (also of generations saved by older code, with string keys)."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if "codes" in data.files:
            return Result(data["cluster"], data["codes"])
        return Result(data["cluster"], np.array([int(k, 16) for k in data["keys"].tolist()], dtype=np.uint64))
    return None
