"""A numpy sidecar of each segment's postings: what a cold query reads instead of Whoosh's pickled blocks.

Whoosh stores a term's postings as pickled blocks (ids, weights, encoded
positions); every cold read unpickles them, positions included, and that was
most of a cold query (i15a's profile; phrase queries the slowest). So every
segment gets, once, a file ``MAIN_<segment id>.postings`` holding per field a
sorted array of its terms and flat arrays of doc ids, weights and positions
with their offsets. A query memory-maps it and slices (``search/query/sidecar.py``).
A build worker saves its segment's from the arrays it built the segment from
(``doc_writer``); any other segment's is read back from its postings (``write_segment``).

The name follows Whoosh's segment-file pattern (``MAIN_<id>.<ext>``), so the
sidecar lives and dies with its segment: ``update`` hard-links it with the
segment's own files, and Whoosh's ``clean_files`` deletes it when a merge drops
the segment. A segment without one (an index written before this module, or a
segment a merge just made) is read the Whoosh way until ``write_missing`` runs.

Layout: ``MAGIC``, an 8-byte little-endian header length, a JSON header
(per field and array: dtype, byte offset, item count), then the raw arrays,
each aligned to 64 bytes. Postings of a term are in doc order; positions are
absolute. Weights are Whoosh's posting weights (term count × field boost).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np

from search.index import whoosh_internals
from search.index.schema import QUERY_FIELDS

MAGIC = b"NSPOSTINGS1\n"
SUFFIX = ".postings"
ALIGN = 64
# Each field's arrays: terms (S<n>, sorted as Whoosh sorts bytes), term_ptr (int64 [T+1], into docs/weights),
# docs (int32, segment-local), weights (float32), pos_ptr (int64 [P+1], into positions), positions (int32).
ARRAYS = ("terms", "term_ptr", "docs", "weights", "pos_ptr", "positions")


def path_for(directory: Path, segid: str) -> Path:
    """The sidecar of a segment (``segid`` as ``whoosh_internals.segment_id`` gives it)."""
    return Path(directory) / f"{segid}{SUFFIX}"


def write_missing(directory: Path) -> list[str]:
    """Write the sidecar of every segment of the index that has none; returns the segment ids written."""
    directory = Path(directory)
    written = []
    with whoosh_internals.open_unmapped(directory).reader() as reader:
        for leaf, _ in whoosh_internals.segment_leaves(reader):
            segid = whoosh_internals.segment_id(leaf)
            if not path_for(directory, segid).exists():
                write_segment(directory, leaf)
                written.append(segid)
    return written


def write_segment(directory: Path, leaf) -> Path:
    """Write one segment's sidecar from its postings (atomically: a temp file renamed into place)."""
    segid = whoosh_internals.segment_id(leaf)
    fields = {name: _field_arrays(leaf, name) for name in QUERY_FIELDS if name in leaf.schema}
    target = path_for(directory, segid)
    temp = target.with_name(f".{target.name}.tmp")
    save(temp, fields)
    os.replace(temp, target)
    return target


def _field_arrays(leaf, fieldname: str) -> dict[str, np.ndarray]:
    """The six arrays of one field, read through ``whoosh_internals.blocks`` (deleted docs included)."""
    terms = list(leaf.lexicon(fieldname))
    term_counts, id_parts, weight_parts, delta_lists = [], [], [], []
    for term in terms:
        count = 0
        for ids, weights, values, fmt in whoosh_internals.blocks(leaf.postings(fieldname, term)):
            id_parts.append(ids)
            weight_parts.append(weights)
            delta_lists.extend(whoosh_internals.position_deltas(values, fmt))
            count += len(ids)
        term_counts.append(count)
    term_ptr = _offsets(term_counts)
    lengths = np.fromiter(map(len, delta_lists), dtype=np.int64, count=len(delta_lists))
    deltas = np.fromiter(itertools.chain.from_iterable(delta_lists), dtype=np.int64, count=int(lengths.sum()))
    pos_ptr = _offsets(lengths)
    running = np.cumsum(deltas)  # deltas → absolute positions, restarting at each posting
    before = np.repeat(np.concatenate(([0], running))[pos_ptr[:-1]], lengths)
    width = max((len(t) for t in terms), default=1)
    return {
        "terms": np.array(terms, dtype=f"S{width}"),
        "term_ptr": term_ptr,
        "docs": np.concatenate(id_parts).astype(np.int32) if id_parts else np.zeros(0, np.int32),
        "weights": np.concatenate(weight_parts).astype(np.float32) if weight_parts else np.zeros(0, np.float32),
        "pos_ptr": pos_ptr,
        "positions": (running - before).astype(np.int32),
    }


def _offsets(counts) -> np.ndarray:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=out[1:])
    return out


def save(path: Path, fields: dict[str, dict[str, np.ndarray]]) -> None:
    header: dict[str, dict[str, list]] = {}
    position = 0
    for name, arrays in fields.items():
        header[name] = {}
        for key in ARRAYS:
            array = arrays[key]
            header[name][key] = [array.dtype.str, position, len(array)]
            position += -(-array.nbytes // ALIGN) * ALIGN
    head = json.dumps(header).encode()
    start = -(-(len(MAGIC) + 8 + len(head)) // ALIGN) * ALIGN
    with open(path, "wb") as out:
        out.write(MAGIC + len(head).to_bytes(8, "little") + head)
        out.write(b"\0" * (start - out.tell()))
        for name, arrays in fields.items():
            for key in ARRAYS:
                array = np.ascontiguousarray(arrays[key])
                out.seek(start + header[name][key][1])
                out.write(array.tobytes())
        out.truncate(start + position)


def read_header(data) -> tuple[int, dict]:
    """(start of the arrays, header) of a sidecar's bytes (a memory map); ValueError if it is not one."""
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError("not a postings sidecar")
    size = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
    end = len(MAGIC) + 8 + size
    header = json.loads(bytes(data[len(MAGIC) + 8:end]))
    return -(-end // ALIGN) * ALIGN, header
