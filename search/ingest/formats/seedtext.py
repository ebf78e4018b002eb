"""The seed text format: ` date 2025-09-05 <text…>`, paragraphs split by blank lines, no headline."""

from __future__ import annotations

import re
from collections.abc import Iterator

from search.dates import DateError, parse_date_strict
from search.model import Article, Rejected

_DATE_LINE_RE = re.compile(r"^\ufeff?[ \t]?date[ \t]+(\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)[ \t]*")


def looks_like_seed_text(head: bytes) -> bool:
    return bool(_DATE_LINE_RE.match(head[:200].decode("utf-8", "replace")))


def read_seed_text(path: str, data: bytes) -> Iterator[Article | Rejected]:
    """One article per file; the title is derived later from the first real paragraph."""
    text = decode_text(path, data)
    if isinstance(text, Rejected):
        yield text
        return
    match = _DATE_LINE_RE.match(text)
    if not match:
        yield Rejected(path, 1, "seed text must start with 'date YYYY-MM-DD'")
        return
    try:
        date = parse_date_strict(match.group(1))
    except DateError as exc:
        yield Rejected(path, 1, str(exc))
        return
    body = text[match.end():]
    if not body.strip():
        yield Rejected(path, 1, "no article text after the date")
        return
    yield Article(body=body, date=date, path=path, line=1, format="seedtext")


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
