"""JSONL: one article object per line; only ``body`` is required."""

from __future__ import annotations

import json
from collections.abc import Iterator

from search.dates import DateError, parse_date_strict
from search.facets import ENTITY_FIELDS
from search.model import Article, Rejected

MAX_RECORD_BYTES = 5 * 1024 * 1024
_STRING_FIELDS = ("id", "title", "source", "url")
_LIST_FIELDS = ("authors", "people", "orgs", "places", "topics")


def looks_like_jsonl(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_jsonl(path: str, data: bytes) -> Iterator[Article | Rejected]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            yield _guarded(path, number, raw)


def _guarded(path: str, line: int, raw: bytes) -> Article | Rejected:
    """One bad line costs only itself: no exception from one record ends the file."""
    try:
        return parse_jsonl_record(path, line, raw)
    except RecursionError:
        return Rejected(path, line, "JSON nested too deeply")
    except Exception as exc:  # any parser or date failure is this record's fault alone
        return Rejected(path, line, f"bad record ({type(exc).__name__}: {exc})")


def parse_jsonl_record(path: str, line: int, raw: bytes) -> Article | Rejected:
    """One line to an Article, or a Rejected saying exactly what is wrong with it."""
    if len(raw) > MAX_RECORD_BYTES:
        return Rejected(path, line, f"record too large ({len(raw):,} bytes > {MAX_RECORD_BYTES:,})")
    try:
        record = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return Rejected(path, line, f"not valid UTF-8 (byte 0x{raw[exc.start:exc.start + 1].hex()})")
    except json.JSONDecodeError as exc:
        return Rejected(path, line, f"invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(record, dict):
        return Rejected(path, line, f"expected a JSON object, got {type(record).__name__}")
    body = record.get("body")
    if not isinstance(body, str) or not body.strip():
        return Rejected(path, line, "missing or empty 'body'")
    try:
        date = parse_date_strict(record.get("date"))
    except DateError as exc:
        return Rejected(path, line, str(exc))
    strings = {k: str(record[k]) for k in _STRING_FIELDS if isinstance(record.get(k), str | int)}
    lists = {k: _as_list(record[k]) for k in _LIST_FIELDS if k in record}
    given = frozenset(k for k in ENTITY_FIELDS if isinstance(record.get(k), list | str))
    return Article(body=body, date=date, path=path, line=line, format="jsonl", given=given,
                   **strings, **lists)


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, str) else []
