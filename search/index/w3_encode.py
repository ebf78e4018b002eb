"""Whoosh 3 posting lists and term infos of a whole field, encoded from numpy arrays.

Byte for byte what Whoosh 2.7.4's ``W3PostingsWriter`` (blocks), ``Positions.encode`` (posting
values) and ``W3TermInfo.to_bytes`` (term infos) write for the same postings
(``tests/test_fast_postings.py``), for an uncompressed codec (``compression=0``, ours). Whoosh
does it one posting and one term at a time through half a dozen Python calls each. Here a field's
blocks are laid out in one byte buffer and each pickle opcode is written for all blocks or all
postings at once (``w3_pickle``); the term infos are one structured numpy array. Measured on the
segment of one build worker of Reuters ×1 (864k postings, bench/bench_flush.py): 3.2 CPU-s
through Whoosh's writer (not counting its pool), 0.8 here, files identical.

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

import numpy as np
from whoosh.formats import Positions
from whoosh.util.numeric import _length_byte_cache

from search.index import w3_pickle

MAGIC = b"W3Bl"  # whoosh3.WHOOSH3_HEADER_MAGIC
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

    def parts(self, max_postings: int) -> Iterator[FieldPostings]:
        """The field cut into runs of whole terms of at most ``max_postings`` postings (a longer term alone)."""
        term_ptr = np.asarray(self.term_ptr, np.int64)
        low = 0
        while low < len(term_ptr) - 1:
            high = max(low + 1, int(np.searchsorted(term_ptr, term_ptr[low] + max_postings, side="right")) - 1)
            first, last = int(term_ptr[low]), int(term_ptr[high])
            pos_ptr = positions = None
            if self.positions is not None:
                pos_ptr = np.asarray(self.pos_ptr[first:last + 1], np.int64)
                positions = self.positions[pos_ptr[0]:pos_ptr[-1]]
                pos_ptr = pos_ptr - pos_ptr[0]
            yield FieldPostings(self.terms[low:high], term_ptr[low:high + 1] - first, self.docs[first:last],
                                self.weights[first:last], None if self.lengths is None else self.lengths[first:last],
                                pos_ptr, positions)
            low = high

    @classmethod
    def read(cls, leaf, name: str) -> FieldPostings:
        """A field's postings as Whoosh reads them from a segment (public API, slow): what the tests and
        ``bench/bench_flush.py`` write again to compare with Whoosh's own files."""
        fieldobj = leaf.schema[name]
        positional = isinstance(fieldobj.format, Positions)
        terms, counts, docs, weights, positions = [], [], [], [], []
        for term in leaf.lexicon(name):
            matcher = leaf.postings(name, term)
            terms.append(term)
            counts.append(0)
            while matcher.is_active():
                counts[-1] += 1
                docs.append(matcher.id())
                weights.append(matcher.weight())
                if positional:
                    positions.append(matcher.value_as("positions"))
                matcher.next()
        lengths = np.array([leaf.doc_field_length(d, name) for d in docs], np.int64) if fieldobj.scorable else None
        return cls(terms=terms, term_ptr=w3_pickle.exclusive_cumsum(np.array(counts, np.int64)),
                   docs=np.array(docs, np.int64), weights=np.array(weights, np.float64), lengths=lengths,
                   pos_ptr=w3_pickle.exclusive_cumsum(np.array(list(map(len, positions)), np.int64))
                   if positional else None,
                   positions=np.array([x for p in positions for x in p], np.int64) if positional else None)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``length_to_byte`` of each length, vectorised (0 stays 0)."""
    found = np.searchsorted(_LENGTH_CACHE, lengths, side="left")
    return np.where(lengths >= _LENGTH_SATURATES, 255, found).astype(np.uint8)


def _position_deltas(pos_ptr: np.ndarray, positions: np.ndarray) -> np.ndarray:
    deltas = positions.astype(np.int64)
    deltas[1:] -= positions[:-1]
    first = pos_ptr[:-1][np.diff(pos_ptr) > 0]
    deltas[first] = positions[first]  # each posting's first delta is its first position
    return deltas


@dataclass
class _Blocks:
    """The blocks of a field: each block's postings ``start``/``end``, each term's blocks from ``ptr``, each
    posting's block (``of_posting``) and place in it (``index``)."""

    start: np.ndarray
    end: np.ndarray
    ptr: np.ndarray
    of_posting: np.ndarray
    index: np.ndarray

    @classmethod
    def cut(cls, term_ptr: np.ndarray, blocklimit: int) -> _Blocks:
        counts = np.diff(term_ptr)
        nblocks = -(-counts // blocklimit)
        ptr = w3_pickle.exclusive_cumsum(nblocks)
        term = np.repeat(np.arange(len(counts)), nblocks)
        start = term_ptr[term] + (np.arange(len(term)) - ptr[term]) * blocklimit
        end = np.minimum(start + blocklimit, term_ptr[term + 1])
        of_posting = np.repeat(np.arange(len(start)), end - start)
        return cls(start, end, ptr, of_posting, np.arange(int(term_ptr[-1])) - start[of_posting])

    def within(self, sizes: np.ndarray) -> np.ndarray:
        """Each posting's offset inside its block's run of ``sizes``."""
        ends = w3_pickle.exclusive_cumsum(sizes)
        return ends[:-1] - ends[self.start][self.of_posting]

    def sums(self, sizes: np.ndarray) -> np.ndarray:
        return np.add.reduceat(sizes, self.start)


def encode_field(field: FieldPostings, blocklimit: int, start: int) -> tuple[bytes, np.ndarray]:
    """(the field's posting lists, one term info per term) with the lists written from file offset ``start``."""
    term_ptr = np.asarray(field.term_ptr, dtype=np.int64)
    docs = np.asarray(field.docs, dtype=np.int64)
    if len(term_ptr) < 2 or np.diff(term_ptr).min() < 1:
        raise ValueError("no terms, or a term without postings")
    blocks = _Blocks.cut(term_ptr, blocklimit)
    count = blocks.end - blocks.start
    weights = np.asarray(field.weights, dtype=np.float64)
    w32 = weights.astype(np.float32)
    maxweight = np.maximum.reduceat(weights, blocks.start)
    if field.lengths is not None:
        lengths = np.asarray(field.lengths, dtype=np.int64)
        minlen = np.minimum.reduceat(np.where(lengths > 0, lengths, _NONE), blocks.start)
        maxlen = np.maximum.reduceat(lengths, blocks.start)
    else:
        minlen = np.full(len(count), _NONE)
        maxlen = np.zeros(len(count), np.int64)
    values = None
    if field.positions is not None:
        pos_ptr = np.asarray(field.pos_ptr, np.int64)
        values = w3_pickle.Utf8IntLists(pos_ptr, _position_deltas(pos_ptr, np.asarray(field.positions, np.int64)))
    data, block_pos = _write_blocks(blocks, count, docs, w32, maxweight, minlen, maxlen, values)

    infos = np.zeros(len(term_ptr) - 1, TERMINFO)
    infos["weight"] = _term_weights(w32, term_ptr, blocks.start, blocks.ptr)
    infos["df"] = np.diff(term_ptr)
    term_minlen = np.minimum.reduceat(minlen, blocks.ptr[:-1])
    infos["minlength"] = length_bytes(np.where(term_minlen == _NONE, 0, term_minlen))
    infos["maxlength"] = length_bytes(np.maximum.reduceat(maxlen, blocks.ptr[:-1]))
    infos["maxweight"] = np.maximum(np.maximum.reduceat(maxweight, blocks.ptr[:-1]), 0)
    infos["minid"] = docs[term_ptr[:-1]]
    infos["maxid"] = docs[term_ptr[1:] - 1]
    infos["offset"] = start + block_pos[blocks.ptr[:-1]]
    infos["length"] = block_pos[blocks.ptr[1:]] - block_pos[blocks.ptr[:-1]]
    return data, infos


def _put_4(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """The four bytes of each 4-byte value, in its dtype's byte order."""
    raw = values.view(np.uint8).reshape(-1, 4)
    for k in range(4):
        out[at + k] = raw[:, k]


_NONE = np.iinfo(np.int64).max  # no length: None in Whoosh's block statistics


def _write_blocks(blocks: _Blocks, count, docs, w32, maxweight, minlen, maxlen, values) -> tuple[bytes, np.ndarray]:
    """Every block of the field (with each term's magic) in one buffer; returns it and each block's offset.

    The data pickle's memo: the ids tuple is 0, a weights tuple 1; then per value (``bytes`` as
    ``codecs.encode(str, "latin1")``) the global ``_codecs.encode`` (first value only, got back by
    the others), the string, ``"latin1"`` (first only, got back by the others), the argument tuple
    and the result; then the values tuple and the outer tuple.
    """
    p = w3_pickle
    bstart, post = blocks.start, blocks.of_posting
    first = np.zeros(len(count), bool)
    first[blocks.ptr[:-1]] = True
    last = np.zeros(len(count), bool)
    last[blocks.ptr[1:] - 1] = True
    mark = p.tuple_open_sizes(count)
    bmin, bmax = np.minimum.reduceat(w32, bstart), np.maximum.reduceat(w32, bstart)
    kind = np.where((bmin == 1.0) & (bmax == 1.0), 0, np.where(bmin == bmax, 1, 2))  # None, one float, tuple
    no_weight = maxweight <= 0  # the block's maximum stays Whoosh's initial int 0
    delta_ids = docs.copy()
    delta_ids[1:] -= docs[:-1]
    delta_ids[bstart] = docs[bstart]
    last_ids = docs[blocks.end - 1]
    minbyte, maxbyte = length_bytes(np.where(minlen == _NONE, 0, minlen)), length_bytes(maxlen)

    info_size = 3 + p.int_sizes(count) + p.int_sizes(last_ids) + np.where(no_weight, 2, 9) + 10
    id_sizes = p.int_sizes(delta_ids)
    ids_size = mark + blocks.sums(id_sizes) + 3
    weight_size = np.where(kind == 0, 1, np.where(kind == 1, 9, mark + 9 * count + 3))
    base = 1 + (kind == 2)  # the memo index after the ids and weights
    if values is not None:
        ulen = values.sizes
        j = blocks.index
        head = j == 0
        pbase = base[post]
        str_idx = np.where(head, pbase + 1, pbase + 3 * j + 2)
        tup_idx, red_idx = np.where(head, pbase + 3, pbase + 3 * j + 3), np.where(head, pbase + 4, pbase + 3 * j + 4)
        chunk = (16 + 11) * head + 2 + 5 + ulen + p.memo_sizes(str_idx) + 2 + 1 + p.memo_sizes(tup_idx) + 1 \
            + p.memo_sizes(red_idx)
        values_idx = base + 3 * count + 2
        values_size = mark + blocks.sums(chunk) + 1 + p.memo_sizes(values_idx)
        outer_idx = values_idx + 1
    else:
        values_size, outer_idx = np.ones(len(count), np.int64), base
    data_size = 2 + ids_size + weight_size + values_size + 2 + p.memo_sizes(outer_idx)
    block_pos = p.exclusive_cumsum(4 * first + 4 + info_size + data_size)
    out = np.zeros(int(block_pos[-1]), np.uint8)
    at = block_pos[:-1].copy()

    p.put_const(out, at[first], MAGIC)
    at += 4 * first
    frame = np.where(last, -1, 1) * (info_size + data_size)
    _put_4(out, at, frame.astype(">i4"))
    at += 4
    p.put_const(out, at, b"\x80\x02(")  # the info tuple: count, last id, max weight, zlib level, lengths
    at += 3
    p.put_ints(out, at, count)
    at += p.int_sizes(count)
    p.put_ints(out, at, last_ids)
    at += p.int_sizes(last_ids)
    p.put_const(out, at[no_weight], b"K\x00")
    p.put_floats(out, at[~no_weight], maxweight[~no_weight])
    at += np.where(no_weight, 2, 9)
    p.put_const(out, at, b"K\x00K")
    out[at + 3] = minbyte
    out[at + 4] = ord("K")
    out[at + 5] = maxbyte
    p.put_const(out, at + 6, b"tq\x00.")
    at += 10

    p.put_const(out, at, b"\x80\x02")  # the data tuple: ids, weights, values
    at += 2
    out[at[mark == 1]] = p.MARK[0]
    p.put_ints(out, at[post] + mark[post] + blocks.within(id_sizes), delta_ids)
    at += ids_size
    p.put_tuple_close(out, at - 3, count)
    p.put_const(out, at - 2, b"q\x00")
    out[at[kind == 0]] = ord("N")
    single = kind == 1
    p.put_floats(out, at[single], w32[bstart[single]])
    many = kind == 2
    out[at[many & (mark == 1)]] = p.MARK[0]
    in_many = many[post]
    p.put_floats(out, (at + mark)[post][in_many] + 9 * blocks.index[in_many], w32[in_many])
    close = (at + mark + 9 * count)[many]
    p.put_tuple_close(out, close, count[many])
    p.put_const(out, close + 1, b"q\x01")
    at += weight_size
    if values is None:
        out[at] = ord("N")
    else:
        out[at[mark == 1]] = p.MARK[0]
        c = (at + mark)[post] + blocks.within(chunk)
        p.put_const(out, c[head], b"c_codecs\nencode\n")
        c += 16 * head
        p.put_memo(out, c, pbase, get=True)  # base < 256: two bytes either way
        out[c[head]] = ord("q")  # the first value puts what the others get
        c += 2
        out[c] = ord("X")
        _put_4(out, c + 1, ulen.astype("<i4"))
        c += 5
        values.put(out, c)
        c += ulen
        p.put_memo(out, c, str_idx)
        c += p.memo_sizes(str_idx)
        p.put_const(out, c[head], b"X\x06\x00\x00\x00latin1")
        c += 11 * head
        p.put_memo(out, c, pbase + 2, get=True)
        out[c[head]] = ord("q")
        c += 2
        out[c] = p.TUPLE_N[2]
        p.put_memo(out, c + 1, tup_idx)
        c += 1 + p.memo_sizes(tup_idx)
        out[c] = ord("R")
        p.put_memo(out, c + 1, red_idx)
        close = at + values_size - 1 - p.memo_sizes(values_idx)
        p.put_tuple_close(out, close, count)
        p.put_memo(out, close + 1, values_idx)
    at += values_size
    out[at] = p.TUPLE_N[3]
    p.put_memo(out, at + 1, outer_idx)
    out[at + 1 + p.memo_sizes(outer_idx)] = ord(".")
    return out.tobytes(), block_pos


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
    block_sums = [sum(part.tolist()) for part in np.split(w32, bstart[1:])]  # doubles, as array("f") gives
    totals = np.zeros(len(term_ptr) - 1)
    for term, (low, high) in enumerate(zip(block_ptr[:-1].tolist(), block_ptr[1:].tolist(), strict=True)):
        total = 0
        for value in block_sums[low:high]:
            total += value
        totals[term] = total
    return totals
