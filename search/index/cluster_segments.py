"""Story-cluster files of one Whoosh segment: written once beside it, never rewritten, read by memory map.

Per segment ``<id>`` (``clseg-<id>.*``): the signatures of its documents in local doc order
(``sigs``, ``figs``), their ids (UTF-8 bytes: their order is the code-point order of the
strings), per LSH band the sorted band keys of its non-empty documents with their local
doc numbers (``keys``, ``docs``), and last the ``.npz`` meta: settings tag, size and the
edges found when the segment was written. A probe looks a band key up with one
``searchsorted`` per band per segment in the mapped arrays, touching a few pages of each,
so an update reads what its own documents lead to, not every row (the one ``clusters.npz``
of every signature it replaces was read whole and rewritten whole by each update: ×50
Reuters, 0.5 GB, 2.6 of the 4.2 s an update spent on clusters).

Edges are (segment, local doc) pairs, both ends named, so one segment's file can hold
edges to any other; a generation's edges are the union over its segments of the edges
whose ends are both present and live. Like ``segment_columns``' parts, the files are
hard-linked into the next generation with the segment (``whoosh_internals.hardlink_files``),
and dropped when their segment is merged away (``remove_stale``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.index import lsh

PREFIX = "clseg-"
VERSION = 1
ARRAYS = ("sigs", "figs", "ids", "keys", "docs")  # one .npy each; the .npz meta is written last


@dataclass
class Edges:
    """Similar pairs as (segment, local doc) ends: ``segments`` names the segment ids the columns index."""

    segments: np.ndarray  # str: segment ids
    a_seg: np.ndarray  # int32 into segments
    a_doc: np.ndarray  # int32
    b_seg: np.ndarray
    b_doc: np.ndarray

    @classmethod
    def empty(cls) -> Edges:
        none = np.zeros(0, dtype=np.int32)
        return cls(np.zeros(0, dtype=str), none, none, none, none)

    def __len__(self) -> int:
        return len(self.a_doc)


@dataclass
class SegmentFiles:
    """One segment's mapped arrays (only the pages a probe or a gather touches are read)."""

    segment_id: str
    size: int
    sigs: np.ndarray  # uint32 [size, num_perm]
    figs: np.ndarray  # uint32 [size, FIGURE_PERM]
    ids: np.ndarray  # bytes [size]: article ids, UTF-8
    keys: np.ndarray  # uint64 [bands, usable]: per band, the band keys of the non-empty docs, sorted
    docs: np.ndarray  # int32 [bands, usable]: their local doc numbers
    edges: Edges


def path(directory: Path, segment_id: str, name: str) -> Path:
    return Path(directory) / (f"{PREFIX}{segment_id}.npz" if name == "meta" else f"{PREFIX}{segment_id}.{name}.npy")


def band_index(sigs: np.ndarray, settings) -> tuple[np.ndarray, np.ndarray]:
    """Per band, the sorted keys of the rows with a non-empty signature and their row numbers (stable order)."""
    usable = np.flatnonzero(lsh.has_set(sigs)).astype(np.int32)
    bands, rows = settings.bands
    keys = np.empty((bands, len(usable)), dtype=np.uint64)
    docs = np.empty((bands, len(usable)), dtype=np.int32)
    for band in range(bands):
        band_keys = lsh.band_key(sigs[usable, band * rows:(band + 1) * rows], settings, band)
        order = np.argsort(band_keys, kind="stable")
        keys[band], docs[band] = band_keys[order], usable[order]
    return keys, docs


def write_arrays(directory: Path, segment_id: str, ids: np.ndarray, sigs: np.ndarray, figs: np.ndarray,
                 settings) -> None:
    """Everything but the meta (edges come after every new segment's arrays exist to be probed)."""
    keys, docs = band_index(sigs, settings)
    encoded = np.char.encode(np.asarray(ids, dtype=str), "utf-8") if len(ids) else np.zeros(0, dtype="S1")
    arrays = {"sigs": sigs, "figs": figs, "ids": encoded, "keys": keys, "docs": docs}
    for name, array in arrays.items():
        _atomic(path(directory, segment_id, name), lambda handle, a=array: np.save(handle, a))


def write_meta(directory: Path, segment_id: str, size: int, edges: Edges, settings) -> None:
    """The meta last: a segment whose meta carries the current version and settings has complete files."""
    arrays = {"version": np.array(VERSION), "settings": np.array(settings.tag()), "size": np.array(size),
              "segments": edges.segments, "a_seg": edges.a_seg, "a_doc": edges.a_doc,
              "b_seg": edges.b_seg, "b_doc": edges.b_doc}
    _atomic(path(directory, segment_id, "meta"), lambda handle: np.savez(handle, **arrays))


def open_files(directory: Path, segment_id: str, size: int | None, settings) -> SegmentFiles | None:
    """The segment's files, or None when any is missing, damaged, of another version, settings or size
    (``size`` None: any)."""
    try:
        with np.load(path(directory, segment_id, "meta"), allow_pickle=False) as meta:
            saved = int(meta["size"])
            if int(meta["version"]) != VERSION or str(meta["settings"]) != settings.tag() or size not in (None, saved):
                return None
            edges = Edges(meta["segments"], meta["a_seg"], meta["a_doc"], meta["b_seg"], meta["b_doc"])
        files = open_arrays(directory, segment_id)
    except (OSError, KeyError, ValueError):
        return None
    if files.size != saved:
        return None
    files.edges = edges
    return files


def open_arrays(directory: Path, segment_id: str) -> SegmentFiles:
    """The segment's arrays, mapped (edges empty: they are in the meta)."""
    arrays = {name: np.load(path(directory, segment_id, name), mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    size = len(arrays["sigs"])
    if len(arrays["figs"]) != size or len(arrays["ids"]) != size:
        raise ValueError(f"{segment_id}: cluster arrays of different lengths")
    return SegmentFiles(segment_id, size, edges=Edges.empty(), **arrays)


def remove_stale(directory: Path, segment_ids: set[str]) -> None:
    """Drop the files of segments no longer in the index (merged away), hard-linked in from an older generation."""
    for item in Path(directory).glob(f"{PREFIX}*"):
        if item.name[len(PREFIX):].split(".", 1)[0] not in segment_ids:
            item.unlink(missing_ok=True)


def present_ids(directory: Path) -> set[str]:
    """The segment ids that have cluster files in the folder (current or stale)."""
    return {item.name[len(PREFIX):].split(".", 1)[0] for item in Path(directory).glob(f"{PREFIX}*.npz")}


def _atomic(target: Path, write) -> None:
    """Write beside, then rename: a hard-linked older copy keeps its own inode and content."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        write(handle)
    os.replace(tmp, target)
