"""Strict decoding shared by the text formats."""

from __future__ import annotations

from ..model import Rejected


def decode_text(path: str, data: bytes) -> str | Rejected:
    """UTF-8 (with or without BOM) or a Rejected naming the line of the first bad byte.

    Text formats are UTF-8 by contract; guessing another encoding would put
    mojibake into the index, so a wrongly encoded file is reported instead.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        return Rejected(path, line, f"not valid UTF-8 (byte 0x{bad}); re-encode the file as UTF-8")
