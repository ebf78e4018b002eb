"""Columns of one Whoosh segment: computed once, when the segment is written, and never again.

A segment's files never change after commit (``whoosh_internals.hardlink_files``),
so the per-document facts drawn from its stored fields — date, content hash,
field lengths, facet values, spelling words — are computed once per segment and
saved beside it as ``colseg-<segment id>.npz``. ``update`` hard-links them into
the next generation with the segment, so it computes only the new segment's
part (measured before this: 52 s of a 118 s profiled ×10 update recomputed every
stored document).

Deletions are the one thing that changes for an old segment: they live in the
table of contents, and the generation's columns mask them out
(``column_assembly.assemble``). What a mask cannot undo — the spelling counts, which
are sums — is kept right by ``DeletedPart``: the words of the documents deleted
so far, read from just those documents.

To add a per-document column: compute it in ``PartRows`` (one entry per local
doc number, for every doc, deleted or not; ``compute_part`` feeds it the stored
documents read back, the build's ``doc_writer`` the documents it is writing), name it in ``DOC_COLUMNS``
with its dtype and empty value, and give ``columns.Columns`` a field of the
same name; ``column_assembly.assemble`` concatenates every name in ``DOC_COLUMNS``
across segments. A multi-valued column (values per document, like a facet)
goes in ``PairColumn`` form: add its name to ``pair_column_names``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.facets import FILTER_FACETS
from search.index import whoosh_internals

PREFIX = "colseg-"
VERSION = 3  # 2: the publisher's day column (local); 3: article ids
NO_DATE = np.iinfo(np.int64).min  # sentinel for undated articles
SPELL_WORD_RE = re.compile(r"[^\W\d_]{3,24}")
SPELLING_FIELDS = ("title", "body")

# name -> (dtype, value for a document without it); one entry per local doc number
DOC_COLUMNS: dict[str, tuple[type, object]] = {
    "date": (np.int64, NO_DATE),  # epoch seconds (stored naive datetimes mean UTC): the instant, for newest/oldest
    "local": (np.int64, NO_DATE),  # the instant on the publisher's clock (date + its UTC offset): the day
    "hash": (np.uint64, 0),  # content hash prefix (copies of one story share it)
    "title_len": (np.float32, 0),  # Whoosh's quantised field length (BM25)
    "body_len": (np.float32, 0),
    "id": (np.str_, ""),  # the article id (story clusters and saved searches map doc numbers to articles by it)
}


def pair_column_names() -> tuple[str, ...]:
    """The multi-valued columns: one per filter facet."""
    return tuple(FILTER_FACETS)


@dataclass
class PairColumn:
    """A multi-valued column of one segment: sorted vocabulary plus (local doc, value id) pairs in doc order."""

    vocab: np.ndarray  # str
    pair_doc: np.ndarray  # int32, local doc numbers, ascending
    pair_val: np.ndarray  # int32 ids into vocab


@dataclass
class Part:
    """Everything the generation's columns need from one segment (all its docs, deleted or not)."""

    segment_id: str
    size: int
    docs: dict[str, np.ndarray]  # DOC_COLUMNS
    pairs: dict[str, PairColumn]
    spell_words: np.ndarray  # str
    spell_freq: np.ndarray  # int64: occurrences over every doc of the segment


@dataclass
class DeletedPart:
    """The deleted docs of a segment already accounted for, and their spelling counts (to subtract)."""

    docs: np.ndarray  # int32, sorted
    spell_words: np.ndarray
    spell_freq: np.ndarray


def part_path(directory: Path, segment_id: str) -> Path:
    return Path(directory) / f"{PREFIX}{segment_id}.npz"


def deleted_path(directory: Path, segment_id: str) -> Path:
    return Path(directory) / f"{PREFIX}{segment_id}.deleted.npz"


def spelling_words(stored: dict) -> list[str]:
    """The surface words a document adds to the spelling vocabulary (its ``SPELLING_FIELDS``)."""
    text = " ".join(stored.get(name) or "" for name in SPELLING_FIELDS)
    return SPELL_WORD_RE.findall(text.lower())


# -- computing ------------------------------------------------------------------------------------
def compute_part(reader, segment_id: str) -> Part:
    """One pass over the stored fields of every document of one segment reader (local doc numbers)."""
    size = reader.doc_count_all()
    rows = PartRows()
    spelling: Counter = Counter()
    for _, stored in whoosh_internals.all_stored_documents(reader):
        rows.add(stored)
        spelling.update(spelling_words(stored))
    lengths = {name: whoosh_internals.field_lengths(reader, name, size) for name in ("title", "body")}
    return rows.part(segment_id, lengths, spelling)


class PartRows:
    """A segment's per-document columns gathered one stored document at a time, in local doc order (the build
    writes its segment's part from the documents in hand, ``doc_writer``; ``compute_part`` reads them back)."""

    def __init__(self):
        self.ids: list[str] = []
        self.dates: list = []
        self.offsets: list[int] = []
        self.hashes: list[int] = []
        self.values: dict[str, list[tuple[int, str]]] = {name: [] for name in pair_column_names()}

    def add(self, stored: dict) -> None:
        docnum = len(self.ids)
        data = stored.get("data") or {}
        self.ids.append(stored.get("id") or "")
        self.dates.append(stored.get("date"))
        self.offsets.append(60 * int(data.get("utc_offset") or 0))
        self.hashes.append(hash64(stored.get("hash") or stored.get("id") or ""))
        for name, found in self.values.items():
            raw = data.get(name)
            if raw:
                items = [raw] if isinstance(raw, str) else raw
                found.extend((docnum, value) for value in dict.fromkeys(items) if value)

    def part(self, segment_id: str, lengths: dict[str, np.ndarray], spelling: Counter) -> Part:
        """The part, given the title and body lengths as Whoosh reads them back and the spelling counts."""
        size = len(self.ids)
        docs = {name: np.full(size, empty, dtype=dtype) for name, (dtype, empty) in DOC_COLUMNS.items()}
        dated = np.array([d is not None for d in self.dates], dtype=bool)
        if dated.any():
            when = np.array([d for d in self.dates if d is not None], dtype="datetime64[s]").astype(np.int64)
            docs["date"][dated] = when
            docs["local"][dated] = when + np.array(self.offsets, np.int64)[dated]
        docs["hash"] = np.array(self.hashes, dtype=np.uint64)
        docs["id"] = np.array(self.ids, dtype=str)
        docs["title_len"] = np.asarray(lengths["title"], np.float32)
        docs["body_len"] = np.asarray(lengths["body"], np.float32)
        words, freq = _counter_arrays(spelling)
        return Part(segment_id, size, docs, {name: _pairs(found) for name, found in self.values.items()}, words, freq)


def compute_deleted(reader, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spelling counts of just these (deleted) documents of a segment."""
    spelling: Counter = Counter()
    for docnum in docs.tolist():
        spelling.update(spelling_words(reader.stored_fields(docnum)))
    return _counter_arrays(spelling)


def hash64(text: str) -> int:
    try:
        return int(text[:16], 16)
    except ValueError:
        import hashlib

        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _pairs(found: list[tuple[int, str]]) -> PairColumn:
    vocab = sorted({value for _, value in found})
    ids = {value: i for i, value in enumerate(vocab)}
    pair_doc = np.fromiter((d for d, _ in found), dtype=np.int32, count=len(found))
    pair_val = np.fromiter((ids[v] for _, v in found), dtype=np.int32, count=len(found))
    return PairColumn(np.array(vocab, dtype=str), pair_doc, pair_val)  # found is in doc order already


def _counter_arrays(counter: Counter) -> tuple[np.ndarray, np.ndarray]:
    words = sorted(counter)
    return np.array(words, dtype=str), np.array([counter[w] for w in words], dtype=np.int64)


# -- files ----------------------------------------------------------------------------------------
def save_part(part: Part, directory: Path) -> None:
    arrays = {"version": np.array(VERSION), "size": np.array(part.size),
              "spell_words": part.spell_words, "spell_freq": part.spell_freq}
    arrays.update({f"doc.{name}": column for name, column in part.docs.items()})
    for name, column in part.pairs.items():
        arrays.update({f"pair.{name}.vocab": column.vocab, f"pair.{name}.doc": column.pair_doc,
                       f"pair.{name}.val": column.pair_val})
    _atomic_savez(part_path(directory, part.segment_id), arrays)


def load_part(directory: Path, segment_id: str) -> Part | None:
    """The saved part, or None when it is missing, damaged or from another layout version."""
    try:
        with np.load(part_path(directory, segment_id), allow_pickle=False) as data:
            if int(data["version"]) != VERSION:
                return None
            docs = {name: data[f"doc.{name}"] for name in DOC_COLUMNS}
            pairs = {name: PairColumn(data[f"pair.{name}.vocab"], data[f"pair.{name}.doc"], data[f"pair.{name}.val"])
                     for name in pair_column_names()}
            return Part(segment_id, int(data["size"]), docs, pairs, data["spell_words"], data["spell_freq"])
    except (OSError, KeyError, ValueError):
        return None


def save_deleted(deleted: DeletedPart, directory: Path, segment_id: str) -> None:
    _atomic_savez(deleted_path(directory, segment_id), {
        "version": np.array(VERSION), "docs": deleted.docs,
        "spell_words": deleted.spell_words, "spell_freq": deleted.spell_freq})


def load_deleted(directory: Path, segment_id: str) -> DeletedPart | None:
    try:
        with np.load(deleted_path(directory, segment_id), allow_pickle=False) as data:
            if int(data["version"]) != VERSION:
                return None
            return DeletedPart(data["docs"], data["spell_words"], data["spell_freq"])
    except (OSError, KeyError, ValueError):
        return None


def remove_stale(directory: Path, segment_ids: set[str]) -> None:
    """Drop the parts of segments no longer in the index (merged away), hard-linked in from an older generation."""
    for path in Path(directory).glob(f"{PREFIX}*.npz"):
        segment_id = path.name[len(PREFIX):].split(".", 1)[0]
        if segment_id not in segment_ids:
            path.unlink(missing_ok=True)


def _atomic_savez(path: Path, arrays: dict) -> None:
    """Write beside, then rename: a hard-linked older copy of ``path`` keeps its own inode and content."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(tmp, path)
