"""Pickle protocol 2, written with numpy for many objects at once: the opcodes Whoosh's W3 blocks consist of.

``w3_encode`` lays a whole field's posting blocks out in one byte buffer; this module writes the
pieces into it at given offsets, each function for one opcode shape, byte for byte what
``pickle.dumps(obj, 2)`` (CPython's C pickler) writes for it:
- a non-negative int below 2**31: ``K`` + 1 byte, ``M`` + 2 bytes or ``J`` + 4 bytes, little-endian;
- a float: ``G`` + the double, big-endian;
- a tuple of 1, 2 or 3 items: the items, then ``TUPLE1``/``TUPLE2``/``TUPLE3``; longer: ``MARK``,
  the items, ``TUPLE``; either way then memoised (an empty tuple is never written here);
- memo put/get of index ``i``: ``q``/``h`` + 1 byte below 256, else ``r``/``j`` + 4 bytes little-endian;
- a list of ints (``Positions.encode``): ``]`` + put 0, then one item + ``a``, or items in ``MARK`` …
  ``APPENDS`` batches of 1000;
- ``bytes`` (protocol 2 has no bytes opcode): ``codecs.encode(str, "latin1")`` as a reduce, the
  string as ``BINUNICODE`` (little-endian length, then the UTF-8 of the bytes' latin-1 decoding),
  see ``w3_encode`` for the memo order.
"""

from __future__ import annotations

import numpy as np

BATCH = 1000  # pickle.Pickler._BATCHSIZE: list items per APPENDS
LIST_HEAD = b"\x80\x02]q\x00"  # PROTO 2, EMPTY_LIST, BINPUT 0
MARK, TUPLE, APPEND, APPENDS, STOP = b"(", b"t", b"a", b"e", b"."
TUPLE_N = np.array([0, 0x85, 0x86, 0x87], np.uint8)  # TUPLE1..3


def int_sizes(values: np.ndarray) -> np.ndarray:
    return 2 + (values >= 256) + 2 * (values >= 65536)


def put_ints(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Each value as pickle writes an int in [0, 2**31) (``int_sizes`` bytes each)."""
    if len(values) and (values.min() < 0 or values.max() >= 2 ** 31):
        raise ValueError("only ints in [0, 2**31) are encoded here")
    out[at] = ord("K")
    out[at + 1] = values.astype(np.uint8)  # the low byte (a cast keeps it)
    wide = np.flatnonzero(values >= 256)  # few: the rest are done
    at, values = at[wide], values[wide]
    out[at] = np.where(values >= 65536, ord("J"), ord("M"))
    out[at + 2] = (values >> 8).astype(np.uint8)
    wider = np.flatnonzero(values >= 65536)
    out[at[wider] + 3] = (values[wider] >> 16).astype(np.uint8)
    out[at[wider] + 4] = (values[wider] >> 24).astype(np.uint8)


def memo_sizes(index: np.ndarray) -> np.ndarray:
    return np.where(index >= 256, 5, 2)


def put_memo(out: np.ndarray, at: np.ndarray, index: np.ndarray, get: bool = False) -> None:
    """BINPUT/LONG_BINPUT (or BINGET/LONG_BINGET) of each memo index (``memo_sizes`` bytes each)."""
    short_op, long_op = (b"h", b"j") if get else (b"q", b"r")
    out[at] = short_op[0]
    out[at + 1] = index.astype(np.uint8)
    long = np.flatnonzero(index >= 256)
    at, index = at[long], index[long]
    out[at] = long_op[0]
    for k in (1, 2, 3):
        out[at + 1 + k] = (index >> (8 * k)).astype(np.uint8)


def put_const(out: np.ndarray, at: np.ndarray, const: bytes) -> None:
    for k, byte in enumerate(const):  # a pass per byte: cheaper than one (len(at), len(const)) index
        out[at + k] = byte


def put_floats(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Each value as pickle writes a float (9 bytes: ``G`` + big-endian double)."""
    out[at] = ord("G")
    doubles = values.astype(">f8").view(np.uint8).reshape(-1, 8)
    for k in range(8):
        out[at + 1 + k] = doubles[:, k]


def tuple_open_sizes(count: np.ndarray) -> np.ndarray:
    """Bytes before a tuple's items: MARK for more than three."""
    return (count > 3).astype(np.int64)


def put_tuple_close(out: np.ndarray, at: np.ndarray, count: np.ndarray) -> None:
    """The byte after a tuple's items (1 byte; the memo put follows)."""
    out[at] = np.where(count > 3, TUPLE[0], TUPLE_N[np.minimum(count, 3)])


def exclusive_cumsum(sizes: np.ndarray) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def _utf8_sizes(byte: np.ndarray) -> np.ndarray:
    return 1 + (byte >= 0x80)


def _put_utf8(out: np.ndarray, at: np.ndarray, byte: np.ndarray) -> None:
    """Each byte as the UTF-8 of its latin-1 character: one byte below 0x80, else two."""
    out[at] = byte
    high = np.flatnonzero(byte >= 0x80)
    at, byte = at[high], byte[high]
    out[at] = 0xC0 | (byte >> 6)
    out[at + 1] = 0x80 | (byte & 0x3F)


class Utf8IntLists:
    """``Positions.encode`` of lists of non-negative ints (``pack_uint(len) + pickle.dumps(list, 2)``),
    each written as the text pickle keeps for a ``bytes`` in protocol 2: the UTF-8 of its latin-1 decoding.

    ``sizes`` first, so the caller can lay its buffer out; ``put`` then writes each list in place,
    touching each list and each item a few times, never each byte.
    """

    def __init__(self, ptr: np.ndarray, items: np.ndarray):
        counts = np.diff(ptr)
        if len(counts) and counts.min() < 1:
            raise ValueError("an empty list")
        if len(items) and (items.min() < 0 or items.max() >= 2 ** 31):
            raise ValueError("only ints in [0, 2**31) are encoded here")
        self.counts, self.low = counts, items.astype(np.uint8)
        self.count_bytes = [((counts >> (8 * (3 - k))) & 255).astype(np.uint8) for k in range(4)]  # big-endian
        self.wide = np.flatnonzero(items >= 256)  # few: the M and J items, with more bytes than the low one
        wide_items = items[self.wide]
        self.wide_bytes = [((wide_items >> (8 * k)) & 255).astype(np.uint8) for k in (1, 2, 3)]  # little-endian
        self.wide_width = 2 + 2 * (wide_items >= 65536)
        item_sizes = 1 + _utf8_sizes(self.low)
        for k, byte in enumerate(self.wide_bytes, start=1):
            item_sizes[self.wide] += np.where(self.wide_width > k, _utf8_sizes(byte), 0)
        item_ptr = exclusive_cumsum(item_sizes)
        self.head = sum(_utf8_sizes(b) for b in self.count_bytes) + len(LIST_HEAD) + 1 + (counts > 1)  # \x80: 2
        self.sizes = self.head + np.diff(item_ptr[ptr]) + 2 * (-(-counts // BATCH) - 1) + 2  # "e(", "e."/"a."
        self.item_offsets = np.repeat(self.head - item_ptr[ptr[:-1]], counts) + item_ptr[:-1]
        self.split = np.zeros(0, np.int64)
        if len(counts) and counts.max() > BATCH:  # "e(" closes a batch of 1000 items and opens the next
            index = np.arange(len(items)) - np.repeat(ptr[:-1], counts)  # each item's place in its list
            self.item_offsets += 2 * (index // BATCH)
            self.split = np.flatnonzero((index > 0) & (index % BATCH == 0))

    def put(self, out: np.ndarray, at: np.ndarray) -> None:
        """Write list ``i`` at ``out[at[i]:at[i] + sizes[i]]``."""
        where = at.copy()
        for byte in self.count_bytes:
            _put_utf8(out, where, byte)
            where += _utf8_sizes(byte)
        put_const(out, where, LIST_HEAD.replace(b"\x80", b"\xc2\x80"))
        out[where[self.counts > 1] + len(LIST_HEAD) + 1] = MARK[0]
        item_at = np.repeat(at, self.counts) + self.item_offsets
        out[item_at] = ord("K")
        _put_utf8(out, item_at + 1, self.low)
        wide_at = item_at[self.wide]
        out[wide_at] = np.where(self.wide_width > 2, ord("J"), ord("M"))
        wide_at += 1 + _utf8_sizes(self.low[self.wide])
        for k, byte in enumerate(self.wide_bytes, start=1):
            has = np.flatnonzero(self.wide_width > k)
            _put_utf8(out, wide_at[has], byte[has])
            wide_at[has] += _utf8_sizes(byte[has])
        split = item_at[self.split]
        out[split - 2], out[split - 1] = APPENDS[0], MARK[0]
        end = at + self.sizes
        out[end - 2] = np.where(self.counts > 1, APPENDS[0], APPEND[0])
        out[end - 1] = STOP[0]
