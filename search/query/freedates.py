"""Dates as people type them into a from/to field, read when the strict reader (dateutil) cannot.

``2025-Q1``, ``Q3 1987``, ``since March 2025``, ``before 1 May``, ``last week``, ``yesterday``,
``3 days ago``, ``last month``.  Quarters and the since/before words are read here; relative
phrases go to dateparser (already installed with trafilatura) in its English-only mode with
``RETURN_TIME_AS_PERIOD``, so "last month" is a month and not a day.  dateparser is only asked
about text with letters in it: on bare numbers it guesses (``2025-13`` → 13 June), and a
wrong guess is worse than saying the date could not be read.

A reading is one ISO date per field: a from field takes the first day of what was typed,
a to field the last (as the strict reader does: ``from=2025`` is 1 Jan, ``to=2025`` 31 Dec).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from search.query.dates import date_bounds
from search.query.errors import QueryError

Role = Literal["from", "to"]
MAX_CHARS = 60
_QUARTER_RE = re.compile(r"^(?:(\d{4})\s*[-/ ]?\s*q([1-4])|q([1-4])\s*[-/ ]?\s*(\d{4}))$", re.IGNORECASE)
_SINCE_RE = re.compile(r"^(since|after|from|starting)\s+(.+)$", re.IGNORECASE)
_UNTIL_RE = re.compile(r"^(until|till|til|up to|through|by|before)\s+(.+)$", re.IGNORECASE)
_NUMERIC_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


@dataclass(frozen=True)
class Reading:
    """What a typed date was read as: the field it belongs in and an ISO day."""

    field: Role
    value: str  # YYYY-MM-DD
    typed: str

    @property
    def day(self) -> date:
        return date.fromisoformat(self.value)


def read(text: str, role: Role, today: date | None = None) -> Reading | None:
    """The typed text read as a date for the ``role`` field, or None if nothing sensible reads it."""
    typed = " ".join(text.split())
    if not typed or len(typed) > MAX_CHARS:
        return None
    today = today or date.today()
    for pattern, field in ((_SINCE_RE, "from"), (_UNTIL_RE, "to")):
        match = pattern.match(typed)
        if match:
            span = _period(match.group(2), today)
            if span is None:
                return None
            start, end = span
            if match.group(1).lower() == "before":
                end = start - timedelta(days=1)
            return Reading(field, (start if field == "from" else end).isoformat(), typed)
    span = _period(typed, today)
    if span is None:
        return None
    return Reading(role, (span[0] if role == "from" else span[1]).isoformat(), typed)


def _period(text: str, today: date) -> tuple[date, date] | None:
    """First and last day of what the text names."""
    quarter = _QUARTER_RE.match(text.strip())
    if quarter:
        year = int(quarter.group(1) or quarter.group(4))
        number = int(quarter.group(2) or quarter.group(3))
        first_month = 3 * (number - 1) + 1
        return _month_span(year, first_month)[0], _month_span(year, first_month + 2)[1]
    strict = _strict(text)
    if strict is not None:
        return strict
    if not re.search(r"[A-Za-z]", text):
        return None
    return _relative(text, today)


def _strict(text: str) -> tuple[date, date] | None:
    try:
        low, high = date_bounds(text)
    except QueryError:
        return None
    return low.date(), high.date()


def _relative(text: str, today: date) -> tuple[date, date] | None:
    try:
        from dateparser.date import DateDataParser
    except ImportError:  # pragma: no cover - dateparser comes with trafilatura
        return None
    base = datetime(today.year, today.month, today.day, 12)
    parser = DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": base, "RETURN_TIME_AS_PERIOD": True, "PREFER_DATES_FROM": "past",
    })
    try:
        found = parser.get_date_data(text)
    except (ValueError, OverflowError, TypeError):
        return None
    if found is None or found.date_obj is None:
        return None
    day = found.date_obj.date()
    if found.period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if found.period == "month":
        return _month_span(day.year, day.month)
    if found.period == "week":
        return day, min(day + timedelta(days=6), today)  # "last week": from seven days ago
    return day, day


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def nearest_valid(text: str) -> str | None:
    """For a numeric date with an impossible month or day, the closest real one (``1987-04-31`` → 1987-04-30)."""
    match = _NUMERIC_DATE_RE.match(text.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    fixed_month = min(max(month, 1), 12)
    if match.group(3) is None:
        return f"{year:04d}-{fixed_month:02d}" if fixed_month != month else None
    day = int(match.group(3))
    fixed_day = min(max(day, 1), calendar.monthrange(year, fixed_month)[1])
    if (fixed_month, fixed_day) == (month, day):
        return None
    return f"{year:04d}-{fixed_month:02d}-{fixed_day:02d}"
