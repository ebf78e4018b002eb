"""Story clusters of a generation from its segments' cluster files: only segments without files are worked on.

``publish`` (via ``clusters.publish``):
1. every segment without files (``cluster_segments``) — the new segments of an update, a segment
   merged from small ones, every segment of a rebuild or of an index built before these files —
   gets its signatures by article id from what is at hand (the run's signatures, the files of
   segments merged away, the single ``clusters.npz`` state older code kept), signing its stored
   texts only for ids found nowhere;
2. their live documents are probed against every segment's band index (``probe_edges``), or, when
   they are most of the index (a rebuild), ``lsh.find_edges`` runs once over the whole matrix;
   the verified edges go into the new segments' meta files;
3. the live docs whose stored edges led to a doc gone since the previous generation are probed
   again (``relink``: a big bucket's chain closes over the gap, as a rebuild's chain does);
4. the generation's edges are the union of its segments' edges (and of those re-linked ones) with
   both ends present and live; their components (``lsh.components``, linear passes) are numbered
   densely over live docs;
5. a cluster's public key is ``clusters.cluster_key`` of its smallest article id. A cluster with
   exactly the members of a cluster of the previous generation (``clusters.npz``, hard-linked
   in by ``update``) keeps its key; only the others read their members' ids (mapped files).

×50 Reuters (1.08 M articles, ~30 segments), one update of 100 articles under cProfile: 0.45-0.77 s
here, 3.6-4.0 s before (one ``clusters.npz`` of every signature read and rewritten); the rest of it
is mostly the components (0.1-0.2 s) and opening the segments' files (0.1-0.15 s).

Known limit, as before: a bucket of more than ``lsh.SMALL_BUCKET`` docs is joined as a chain in doc
order, and an update keeps the verified edges it found earlier; where a big bucket's members do not
all verify against their chain neighbours, an update can keep joined what a rebuild's chain (over
another doc order) splits. Exact and lightly edited copies verify; the differential tests hold.
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
    previous = _previous(directory, settings)
    if missing:
        from search.index.cluster_sources import Sources

        sources = Sources(directory, found, layout.ids, settings, previous)
        for n in missing:
            views[n] = sources.segment_files(layout, n)
        _find_edges(directory, layout, views, missing, settings)
    extra = relink(directory, layout, views, previous, missing, settings)
    with contextlib.suppress(OSError):
        cluster_segments.remove_stale(directory, set(layout.ids))
    result = _numbered(layout, views, extra, previous)
    save(directory, layout, result, extra, settings)
    return result


# -- edges ------------------------------------------------------------------------------------------
def _find_edges(directory: Path, layout: Layout, views: list[SegmentFiles], missing: list[int], settings) -> None:
    """Probe the live docs of the segments without files, and write those segments' metas with the edges."""
    probe = np.concatenate([np.arange(layout.offsets[n], layout.offsets[n + 1]) for n in missing])
    probe = probe[layout.live[probe]]
    if len(probe) > WHOLE_SHARE * max(int(layout.live.sum()), 1):
        sigs, figs = _matrix(directory, layout, views)
        pairs = lsh.find_edges(sigs, figs, settings, probe=None if len(probe) == layout.live.sum() else probe)
        del sigs, figs
    else:
        pairs = probe_edges(layout, views, probe, settings)
    owner = layout.locate(pairs)  # [E, 2] segment numbers
    keep_in = np.where(np.isin(owner[:, 0], missing), owner[:, 0], owner[:, 1])  # a new end's segment keeps it
    for n in missing:
        view = views[n]
        view.edges = as_edges(layout, pairs[keep_in == n])
        cluster_segments.write_meta(directory, view.segment_id, view.size, view.edges, settings)


def _matrix(directory: Path, layout: Layout, views: list[SegmentFiles]) -> tuple[np.ndarray, np.ndarray]:
    """Every doc's signatures in global doc order, deleted docs as empty sets (no bucket takes them).

    Read segment by segment into one array, not through the maps: pages touched through a map count
    in the process's peak RSS on top of the copy (×10 Reuters rebuild: 391 MB peak against 346 before
    per-segment files; read: 347 MB)."""
    out = []
    for name in ("sigs", "figs"):
        width = views[0].sigs.shape[1] if name == "sigs" else views[0].figs.shape[1]
        rows = np.empty((layout.size, width), dtype=np.uint32)
        for n, view in enumerate(views):
            rows[layout.offsets[n]:layout.offsets[n + 1]] = np.load(
                cluster_segments.path(directory, view.segment_id, name), allow_pickle=False)
        rows[~layout.live] = EMPTY
        out.append(rows)
    return out[0], out[1]


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


def _ends(layout: Layout, edges: Edges) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of some edges as global doc numbers, -1 where the end's segment is not in the layout."""
    position = {sid: n for n, sid in enumerate(layout.ids)}
    here = np.array([position.get(sid, -1) for sid in edges.segments.tolist()], dtype=np.int64)
    out = []
    for seg, doc in ((edges.a_seg, edges.a_doc), (edges.b_seg, edges.b_doc)):
        n = here[seg]
        out.append(np.where(n >= 0, layout.offsets[np.maximum(n, 0)] + doc, -1))
    return out[0], out[1]


def generation_edges(layout: Layout, edge_sets: list[Edges]) -> np.ndarray:
    """The edges whose two ends are in present segments and live (global doc numbers)."""
    out = [np.zeros((0, 2), dtype=np.int64)]
    for edges in edge_sets:
        if len(edges):
            a, b = _ends(layout, edges)
            both = (a >= 0) & (b >= 0)
            both[both] = layout.live[a[both]] & layout.live[b[both]]
            out.append(np.column_stack([a[both], b[both]]))
    return np.vstack(out)


def as_edges(layout: Layout, pairs: np.ndarray) -> Edges:
    """Global doc number pairs as (segment, local doc) ends."""
    seg = layout.locate(pairs).reshape(-1, 2)
    local = pairs.reshape(-1, 2) - layout.offsets[seg]
    return Edges(np.array(layout.ids, dtype=str), *(a.astype(np.int32) for a in (seg[:, 0], local[:, 0], seg[:, 1],
                                                                                   local[:, 1])))


def relink(directory: Path, layout: Layout, views: list[SegmentFiles], previous: dict | None,
           missing: list[int], settings) -> Edges:
    """The edges of live docs re-probed because a doc their stored edges led to is gone since the previous
    generation (deleted, or its segment merged away), with the earlier such edges still valid.

    A bucket bigger than ``lsh.SMALL_BUCKET`` is joined as a chain in doc order; a rebuild chains
    the docs that remain, so the neighbours of a gap must be linked again (found by
    ``tests/test_update_incremental.py``: 48 copies of a story fell apart after a file was pruned).
    """
    if previous is None:
        return Edges.empty()
    carried = previous["extra"]
    a, b = _ends(layout, carried)
    kept = (a >= 0) & (b >= 0)
    carried_pairs = np.column_stack([a[kept], b[kept]])
    gone = _was_live(layout, previous) & ~layout.live
    stale = [cluster_segments.open_files(directory, sid, None, settings)
             for sid in set(previous["segments"].tolist()) - set(layout.ids)]
    probed = np.zeros(layout.size, dtype=bool)
    for n in missing:
        probed[layout.offsets[n]:layout.offsets[n + 1]] = True
    near = []
    for edges in [v.edges for v in views] + [f.edges for f in stale if f is not None] + [carried]:
        if len(edges):
            a, b = _ends(layout, edges)
            for this, other in ((a, b), (b, a)):
                lost = (other < 0) | gone[np.maximum(other, 0)]
                near.append(this[lost & (this >= 0)])
    probe = np.unique(np.concatenate(near)) if near else np.zeros(0, dtype=np.int64)
    probe = probe[layout.live[probe] & ~probed[probe]]
    found = probe_edges(layout, views, probe, settings) if len(probe) else np.zeros((0, 2), dtype=np.int64)
    return as_edges(layout, np.vstack([carried_pairs, found]))


def _was_live(layout: Layout, previous: dict) -> np.ndarray:
    """Per doc: it was live in the previous generation (its segment was there, unchanged in size)."""
    out = np.zeros(layout.size, dtype=bool)
    for n, lo, hi in _same_segments(layout, previous):
        out[layout.offsets[n]:layout.offsets[n + 1]] = previous["cluster"][lo:hi] >= 0
    return out


def _same_segments(layout: Layout, previous: dict) -> list[tuple[int, int, int]]:
    """(segment number here, its first and end doc number in the previous generation) for segments in both."""
    before = {sid: n for n, sid in enumerate(previous["segments"].tolist())}
    offsets, out = previous["offsets"], []
    for n, sid in enumerate(layout.ids):
        o = before.get(sid)
        if o is not None and offsets[o + 1] - offsets[o] == layout.offsets[n + 1] - layout.offsets[n]:
            out.append((n, int(offsets[o]), int(offsets[o + 1])))
    return out


# -- numbering and keys -------------------------------------------------------------------------------
def _numbered(layout: Layout, views: list[SegmentFiles], extra: Edges, previous: dict | None) -> Result:
    """Components over the live docs, numbered densely in doc order, with their keys."""
    labels = lsh.components(layout.size, generation_edges(layout, [v.edges for v in views] + [extra]))
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
    rows = np.flatnonzero(cluster >= 0)  # none when every doc is deleted (an update that pruned them all)
    rows = rows[fresh[cluster[rows]]]
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
    old_cluster = previous["cluster"]
    for n, lo, hi in _same_segments(layout, previous):
        old_of[layout.offsets[n]:layout.offsets[n + 1]] = old_cluster[lo:hi]
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
def save(directory: Path, layout: Layout, result: Result, extra: Edges, settings) -> None:
    """The generation's cluster numbers and keys, its layout (for the next update) and its re-linked edges."""
    tmp = Path(directory) / f".{FILENAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        np.savez(handle, version=np.array(VERSION), settings=np.array(settings.tag()),
                 segments=np.array(layout.ids, dtype=str), offsets=layout.offsets,
                 cluster=result.cluster, codes=result.codes, x_segments=extra.segments, x_a_seg=extra.a_seg,
                 x_a_doc=extra.a_doc, x_b_seg=extra.b_seg, x_b_doc=extra.b_doc)
    os.replace(tmp, Path(directory) / FILENAME)


def _previous(directory: Path, settings) -> dict | None:
    """The clusters of the generation this one was copied from (its ``clusters.npz``), if of this layout."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if int(data["version"]) == VERSION and str(data["settings"]) == settings.tag():
            out = {name: data[name] for name in ("segments", "offsets", "cluster", "codes")}
            out["extra"] = Edges(*(data[f"x_{name}"] for name in ("segments", "a_seg", "a_doc", "b_seg", "b_doc")))
            return out
    return None


def load(directory: Path) -> Result | None:
    """The saved cluster numbers and key codes (also of generations saved by older code, with string keys)."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if "codes" in data.files:
            return Result(data["cluster"], data["codes"])
        return Result(data["cluster"], np.array([int(k, 16) for k in data["keys"].tolist()], dtype=np.uint64))
    return None
