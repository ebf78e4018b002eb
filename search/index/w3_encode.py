"""Whoosh 3 posting lists and term infos of a whole field, encoded from numpy arrays.

Byte for byte what Whoosh 2.7.4's ``W3PostingsWriter`` (blocks), ``Positions.encode`` (posting
values) and ``W3TermInfo.to_bytes`` (term infos) write for the same postings
(``tests/test_fast_postings.py``), for an uncompressed codec (``compression=0``, ours). Whoosh
does it one posting and one term at a time through half a dozen Python calls each; measured on
half of Reuters ×1 (one build worker), that was ~9 CPU-s of a 20 CPU-s segment. Here the position
values of a field are built in one numpy buffer, a block is one ``pickle.dumps`` of ready-made
tuples, and the term infos are one structured numpy array.

What it assumes of Whoosh 2.7.4 (``whoosh/codec/whoosh3.py``, ``whoosh/formats.py``):
- a posting list is ``b"W3Bl"``, then per block a big-endian int (the block's byte length, negated
  for the last block), ``pickle.dumps((count, last id, max weight, compression, min length byte,
  max length byte), 2)`` and ``pickle.dumps((delta-coded ids, weights, values), 2)``; weights are
  ``None`` when all are 1.0, one float when all are equal, else a tuple (of the float32 values);
  values are ``None`` for a format with ``fixed_value_size() == 0`` (Existence), else a tuple;
- a block's max weight is the largest weight the writer was given (a float, or the int 0 if none
  is above 0); its lengths are the documents' quantised field lengths (``length_to_byte``), 0
  when the field keeps none; a term's weight is the sum of its float32 weights, block by block;
- ``Positions.encode(positions)`` is ``pack_uint(len) + pickle.dumps(deltas, 2)``, and pickle
  protocol 2 writes a list of small non-negative ints as ``]q\\x00``, then ``K``/``M``/``J`` items
  inside ``(``…``e`` batches of 1000 (one item: the item and ``a``), then ``.``;
- ``W3TermInfo.to_bytes`` of a non-inlined term is ``struct.pack("!BfIBBfII", 0, weight, doc freq,
  min length byte, max length byte, max weight, first id, last id) + pack_long(offset) + pack_int(length)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pickle import dumps

import numpy as np
from whoosh.system import pack_int
from whoosh.util.numeric import _length_byte_cache

MAGIC = b"W3Bl"  # whoosh3.WHOOSH3_HEADER_MAGIC
PICKLE_BATCH = 1000  # pickle's list batch size (pickle.Pickler._BATCHSIZE)
_LIST_HEAD = b"\x80\x02]q\x00"  # protocol 2, EMPTY_LIST, BINPUT 0
_LENGTH_CACHE = np.frombuffer(_length_byte_cache, dtype=np.int32)
_LENGTH_SATURATES = 106374  # length_to_byte gives 255 from here on
TERMINFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"), ("maxlength", "u1"),
                     ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"), ("offset", ">i8"), ("length", ">i4")])


@dataclass
class FieldPostings:
    """One field's postings sorted by (term bytes, doc), as a segment writer would receive them.

    ``weights`` are the weights Whoosh's writer gets (frequency × boost, float64); ``lengths`` each
    posting's document field length as Whoosh reads it back (``byte_to_length``), None for a field
    that keeps none; ``pos_ptr``/``positions`` the absolute positions of each posting, None for a
    format without values (Existence).
    """

    terms: list[bytes]
    term_ptr: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray | None = None
    pos_ptr: np.ndarray | None = None
    positions: np.ndarray | None = None


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``length_to_byte`` of each length, vectorised (0 stays 0)."""
    found = np.searchsorted(_LENGTH_CACHE, lengths, side="left")
    return np.where(lengths >= _LENGTH_SATURATES, 255, found).astype(np.uint8)


def _put_ints(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Write each value as pickle writes a non-negative int below 2**31 (``K``/``M``/``J`` + little-endian)."""
    if len(values) and (values.min() < 0 or values.max() >= 2 ** 31):
        raise ValueError("only ints in [0, 2**31) are encoded here")
    wide, wider = values >= 256, values >= 65536
    out[at] = np.where(wider, ord("J"), np.where(wide, ord("M"), ord("K")))
    out[at + 1] = values & 255
    out[at[wide] + 2] = (values[wide] >> 8) & 255
    out[at[wider] + 3] = (values[wider] >> 16) & 255
    out[at[wider] + 4] = values[wider] >> 24


def _int_sizes(values: np.ndarray) -> np.ndarray:
    return 2 + (values >= 256) + 2 * (values >= 65536)


def positions_values(pos_ptr: np.ndarray, positions: np.ndarray) -> list[bytes]:
    """``Positions.encode`` of every posting at once: one buffer built with numpy, then sliced."""
    counts = np.diff(pos_ptr)
    if len(counts) and counts.min() < 1:
        raise ValueError("a posting without positions")
    total = len(positions)
    deltas = positions.astype(np.int64)
    deltas[1:] -= positions[:-1]
    deltas[pos_ptr[:-1]] = positions[pos_ptr[:-1]]  # each posting's first delta is its first position
    sizes = _int_sizes(deltas)
    index = np.arange(total) - np.repeat(pos_ptr[:-1], counts)  # each delta's place in its posting
    batches = -(-counts // PICKLE_BATCH)
    head = 4 + len(_LIST_HEAD) + (counts > 1)  # count, list head, MARK unless there is one item
    size_ptr = np.zeros(total + 1, np.int64)
    np.cumsum(sizes, out=size_ptr[1:])
    lengths = head + np.diff(size_ptr[pos_ptr]) + 2 * (batches - 1) + 2  # + "e(" between batches, "e."/"a."
    starts = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    out = np.empty(int(starts[-1]), np.uint8)
    begin = starts[:-1]
    for k in range(4):  # the count, big-endian
        out[begin + k] = (counts >> (8 * (3 - k))) & 255
    for k, byte in enumerate(_LIST_HEAD):
        out[begin + 4 + k] = byte
    out[begin[counts > 1] + 4 + len(_LIST_HEAD)] = ord("(")
    at = np.repeat(begin + head, counts) + size_ptr[:-1] - np.repeat(size_ptr[pos_ptr[:-1]], counts) \
        + 2 * (index // PICKLE_BATCH)
    _put_ints(out, at, deltas)
    split = (index > 0) & (index % PICKLE_BATCH == 0)  # "e(" closes a batch of 1000 and opens the next
    out[at[split] - 2], out[at[split] - 1] = ord("e"), ord("(")
    end = starts[1:]
    out[end - 2] = np.where(counts > 1, ord("e"), ord("a"))
    out[end - 1] = ord(".")
    data = out.tobytes()
    return [data[a:b] for a, b in zip(begin.tolist(), end.tolist(), strict=True)]


def encode_field(field: FieldPostings, blocklimit: int, start: int) -> tuple[bytes, np.ndarray]:
    """(the field's posting lists, one term info per term) with the lists written from file offset ``start``."""
    term_ptr = np.asarray(field.term_ptr, dtype=np.int64)
    docs = np.asarray(field.docs, dtype=np.int64)
    counts = np.diff(term_ptr)
    if len(counts) and counts.min() < 1:
        raise ValueError("a term without postings")
    nblocks = -(-counts // blocklimit)
    block_term = np.repeat(np.arange(len(counts)), nblocks)
    block_ptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(nblocks, out=block_ptr[1:])
    bstart = term_ptr[block_term] + (np.arange(len(block_term)) - block_ptr[block_term]) * blocklimit
    bend = np.minimum(bstart + blocklimit, term_ptr[block_term + 1])
    is_last = np.zeros(len(block_term), bool)
    is_last[block_ptr[1:] - 1] = True

    weights = np.asarray(field.weights, dtype=np.float64)
    w32 = weights.astype(np.float32)
    bmin, bmax = np.minimum.reduceat(w32, bstart), np.maximum.reduceat(w32, bstart)
    maxweight = np.maximum.reduceat(weights, bstart)
    if field.lengths is not None:
        lengths = np.asarray(field.lengths, dtype=np.int64)
        minlen = np.minimum.reduceat(np.where(lengths > 0, lengths, np.iinfo(np.int64).max), bstart)
        minlen[minlen == np.iinfo(np.int64).max] = 0  # None in Whoosh's block: length_to_byte(None) is 0
        maxlen = np.maximum.reduceat(lengths, bstart)
    else:
        minlen = maxlen = np.zeros(len(bstart), np.int64)
    minbyte, maxbyte = length_bytes(minlen), length_bytes(maxlen)

    delta_ids = docs.copy()
    delta_ids[1:] -= docs[:-1]
    delta_ids[bstart] = docs[bstart]
    values = None
    if field.positions is not None:
        values = positions_values(np.asarray(field.pos_ptr, np.int64), np.asarray(field.positions, np.int64))
    ones = (bmax == 1.0) & (bmin == 1.0)
    pieces = list(_blocks(delta_ids.tolist(), w32.tolist(), values, bstart.tolist(), bend.tolist(),
                          is_last.tolist(), block_ptr[:-1].tolist(), docs[bend - 1].tolist(), maxweight.tolist(),
                          (bmin == bmax).tolist(), ones.tolist(), minbyte.tolist(), maxbyte.tolist()))
    data = b"".join(pieces)
    piece_ends = np.cumsum(np.fromiter(map(len, pieces), np.int64, len(pieces)))
    # pieces per term: its magic, then one per block
    term_piece_end = block_ptr[1:] + np.arange(1, len(counts) + 1) - 1
    term_end = start + piece_ends[term_piece_end]
    term_start = np.concatenate(([start], term_end[:-1]))

    infos = np.zeros(len(counts), TERMINFO)
    infos["weight"] = _term_weights(w32, term_ptr, bstart, block_ptr)
    infos["df"] = counts
    term_minlen = np.minimum.reduceat(np.where(minlen > 0, minlen, np.iinfo(np.int64).max), block_ptr[:-1])
    infos["minlength"] = length_bytes(np.where(term_minlen == np.iinfo(np.int64).max, 0, term_minlen))
    infos["maxlength"] = length_bytes(np.maximum.reduceat(maxlen, block_ptr[:-1]))
    infos["maxweight"] = np.maximum(np.maximum.reduceat(maxweight, block_ptr[:-1]), 0)
    infos["minid"] = docs[term_ptr[:-1]]
    infos["maxid"] = docs[term_ptr[1:] - 1]
    infos["offset"] = term_start
    infos["length"] = term_end - term_start
    return data, infos


def _blocks(delta_ids, w32, values, bstart, bend, is_last, first_block, last_ids, maxweights, equal, ones,
            minbyte, maxbyte) -> Iterator[bytes]:
    """Each term's magic and each block's length, info and data, in file order (one piece per block)."""
    first = set(first_block)
    for b, (a, z) in enumerate(zip(bstart, bend, strict=True)):
        if b in first:
            yield MAGIC
        weight = maxweights[b]
        info = dumps((z - a, last_ids[b], weight if weight > 0 else 0, 0, minbyte[b], maxbyte[b]), 2)
        data = dumps((tuple(delta_ids[a:z]), None if ones[b] else w32[a] if equal[b] else tuple(w32[a:z]),
                      None if values is None else tuple(values[a:z])), 2)
        size = len(info) + len(data)
        yield b"".join((pack_int(-size if is_last[b] else size), info, data))


def _term_weights(w32: np.ndarray, term_ptr: np.ndarray, bstart: np.ndarray, block_ptr: np.ndarray) -> np.ndarray:
    """Each term's total weight as Whoosh adds it up: float32 weights summed in doubles, block by block.

    When every weight is a multiple of 1/1024 (counts × a boost such as 2.5) every partial sum is
    exact and the order does not matter; otherwise the sums are done in Whoosh's order.
    """
    w64 = w32.astype(np.float64)
    if len(w64) == 0:
        return w64
    scaled = w64 * 1024
    if np.array_equal(scaled, np.round(scaled)) and scaled.sum() < 2.0 ** 52:
        return np.add.reduceat(w64, term_ptr[:-1])
    block_sums = [sum(part) for part in np.split(w32, bstart[1:])]
    totals = np.zeros(len(term_ptr) - 1)
    for term, (low, high) in enumerate(zip(block_ptr[:-1].tolist(), block_ptr[1:].tolist(), strict=True)):
        total = 0
        for value in block_sums[low:high]:
            total += value
        totals[term] = total
    return totals
