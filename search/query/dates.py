"""Date expressions in the query box and the from/to filters, read as inclusive epoch-second bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateutil import parser as dateparser

from search.dates import TZINFOS
from search.query.errors import QueryError
from search.query.tree import DateRange

_RANGE_RE = re.compile(r"^\[(.*?)\s+(?:TO|to)\s+(.*?)\]$|^\[(.*?)\.\.(.*?)\]$|^(.+?)\.\.(.+)$")


def date_bounds(text: str) -> tuple[datetime, datetime]:
    """The first and last second a date expression covers: '2025-09' is all of September (UTC)."""
    text = text.strip()
    if not text or len(text) > 60:
        raise QueryError(f"can't read the date '{text}'")
    year = datetime.now(UTC).year
    try:
        low = dateparser.parse(text, default=datetime(year, 1, 1), tzinfos=TZINFOS)
        high = dateparser.parse(text, default=datetime(year, 12, 31, 23, 59, 59), tzinfos=TZINFOS)
    except (ValueError, OverflowError, TypeError):
        raise QueryError(f"can't read the date '{text}' (try 2025-09, 5 Sep 2025 or 1987-03-01)") from None
    low, high = (_as_utc(d) for d in (low, high))
    if not 1 <= low.year <= 9998:
        raise QueryError(f"date out of range: '{text}'")
    if _has_time(text):
        high = low
    return low, high


def _has_time(text: str) -> bool:
    return bool(re.search(r"\d:\d\d", text))


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def parse_date_value(text: str) -> DateRange:
    """date:X, date:[X TO Y], date:X..Y, date:>=X, date:<X (X and Y: anything dateutil reads)."""
    text = text.replace(chr(0), " ").strip()
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            low, high = date_bounds(text[len(op):])
            return {">=": DateRange(epoch(low), None), ">": DateRange(epoch(high) + 1, None),
                    "<=": DateRange(None, epoch(high)), "<": DateRange(None, epoch(low) - 1)}[op]
    match = _RANGE_RE.match(text)
    if match:
        first, second = [g for g in match.groups() if g is not None][:2]
        start = epoch(date_bounds(first)[0]) if first.strip() not in ("", "*") else None
        end = epoch(date_bounds(second)[1]) if second.strip() not in ("", "*") else None
        if start is not None and end is not None and start > end:
            raise QueryError(f"date range '{text}' ends before it starts")
        return DateRange(start, end)
    if text.startswith("["):
        raise QueryError("write a date range as date:[1987-03-01 TO 1987-03-31]")
    low, high = date_bounds(text)
    return DateRange(epoch(low), epoch(high))

