"""Named numpy arrays in one file that opens by memory map: nothing is read or checked until it is used.

``np.savez`` writes a zip: saving runs a CRC over every byte, and ``np.load`` reads
each member whole (and checks its CRC again), so opening a generation's columns cost
the whole file (129 MB at Reuters ×50) in every serve worker. Here the file is a
small JSON table of contents followed by the raw arrays, each 64-byte aligned, and
``read`` returns read-only arrays over one ``mmap``: the serve workers share the
pages through the page cache, and an array nobody touches is never read.

Written beside and renamed over (``write``), so a reader that has the old file
mapped keeps the old inode, and a hard-linked copy in another generation is never
changed.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from pathlib import Path

import numpy as np

MAGIC = b"NSARRAY1"
ALIGN = 64
_LENGTH = struct.Struct("<Q")


class Damaged(Exception):
    """The file is there but is not a whole array file (cut short, overwritten): damage, not a format to skip."""


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save the arrays (no object dtypes) atomically: written beside ``path``, then renamed over it."""
    table, offset, prepared = {}, 0, []
    for name, array in arrays.items():
        array = np.require(np.asarray(array), requirements="C")
        if array.dtype.hasobject:
            raise ValueError(f"{name}: object arrays cannot be mapped")
        table[name] = [array.dtype.str, list(array.shape), offset]
        prepared.append(array)
        offset = _aligned(offset + array.nbytes)
    header = json.dumps(table).encode()
    start = _aligned(len(MAGIC) + _LENGTH.size + len(header))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(MAGIC + _LENGTH.pack(len(header)) + header)
            for array, (_, _, at) in zip(prepared, table.values(), strict=True):
                out.seek(start + at)
                if array.nbytes:
                    out.write(array.reshape(-1).view(np.uint8).data)
            out.truncate(start + offset)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read(path: Path) -> dict[str, np.ndarray]:
    """Read-only arrays over a memory map of the file; Damaged if it is not one of ours or is cut short."""
    with open(path, "rb") as handle:
        try:
            buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as exc:  # an empty file
            raise Damaged(f"{path}: empty") from exc
    prefix = len(MAGIC) + _LENGTH.size
    if len(buffer) < prefix or buffer[:len(MAGIC)] != MAGIC:
        raise Damaged(f"{path}: not an array file")
    (length,) = _LENGTH.unpack(buffer[len(MAGIC):prefix])
    if prefix + length > len(buffer):
        raise Damaged(f"{path}: cut short")
    try:
        table = json.loads(bytes(buffer[prefix:prefix + length]))
    except ValueError as exc:
        raise Damaged(f"{path}: {exc}") from exc
    start = _aligned(prefix + length)
    out = {}
    for name, (dtype, shape, offset) in table.items():
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if start + offset + nbytes > len(buffer):
            raise Damaged(f"{path}: {name} cut short")
        out[name] = np.ndarray(tuple(shape), dtype, buffer=buffer, offset=start + offset)
    return out
