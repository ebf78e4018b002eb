"""Dates: the one time-zone table and the two ways a date string is read, shared by every stage.

* ``parse_date_strict`` -- for a field that *is* a date (a JSONL ``date``, a
  Reuters ``<DATE>``): a value that is present but not a real date is an error
  the reader reports (``DateError``).
* ``parse_date_lenient`` -- for evidence that *may* be a date (a page's meta
  tag, a feed's ``pubDate``, a line under a headline): anything unusable is
  simply no date.

Both return aware datetimes that keep the offset the value states (the
publisher's day depends on it; normalisation converts to UTC and keeps the
offset beside); a naive value is taken as UTC, and missing parts are filled
from 1 January 2000, never from today.  Dotted numeric dates ("10.12.2022")
are day-first, as everywhere dots are used.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, timedelta

from dateutil import parser as dateparser
from dateutil.parser import UnknownTimezoneWarning

# An unknown zone name ("10:42 ET") is read as no zone; dateutil's warning about it would land on stderr
# between the ``path:line: reason`` lines a cron job reads.
warnings.filterwarnings("ignore", category=UnknownTimezoneWarning)

# Common time-zone abbreviations dateutil does not know by itself (seconds east of UTC).
TZINFOS = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
    "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
    "BST": 3600, "CET": 3600, "CEST": 7200, "EET": 7200, "EEST": 3 * 3600,
    "MSK": 3 * 3600, "IST": 19800, "JST": 9 * 3600, "AEST": 10 * 3600, "AEDT": 11 * 3600,
}
STRICT_YEARS = (1800, 2200)  # a stated date outside these is an error
LENIENT_MIN_YEAR = 1900  # page evidence older than this is a stray number, not a publication date
MAX_DATE_CHARS = 80  # longer strings are cut before parsing

_NO_DAY = datetime(2000, 1, 1)  # fills missing parts; dateutil's own default would be today
# Runs of whitespace, control characters and zero-width junk: dateutil refuses a date with a stray \x07 or \u200b.
_NOISE_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b\ufeff]+")
_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]\d\d|2[01]\d\d)")
_EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
_DOTTED_RE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}\b")
_YEAR_ONLY_RE = re.compile(r"^\d{4}$")


class DateError(ValueError):
    """A date value that is present but cannot be a real date."""


def _tidy(text: str) -> str:
    return _NOISE_RE.sub(" ", text).strip()


def _aware(value: datetime) -> datetime:
    """The stated offset kept; naive means UTC.  Raises OverflowError when the instant has no UTC time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    value.astimezone(UTC)  # "0001-01-01T00:00+05:00" has no UTC time
    return value


def _parse(text: str) -> datetime:
    return dateparser.parse(text, tzinfos=TZINFOS, default=_NO_DAY, dayfirst=bool(_DOTTED_RE.match(text)))


def parse_date_strict(value: str | int | float | datetime | None) -> datetime | None:
    """Parse any date dateutil reads into an aware UTC datetime.

    Returns None for an absent value; raises DateError for a value that is
    present but impossible ("2025-02-30") or out of range. Numbers are Unix
    timestamps; date-only values are midnight UTC of that day.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DateError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        try:
            parsed = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DateError(f"impossible timestamp {value!r}") from exc
    elif isinstance(value, datetime):
        parsed = value
    else:
        text = _tidy(str(value))[:MAX_DATE_CHARS]
        try:
            parsed = _parse(text)
        except (ValueError, OverflowError, TypeError) as exc:
            raise DateError(f"impossible date {text!r}") from exc
    try:
        parsed = _aware(parsed)
    except OverflowError as exc:
        raise DateError(f"date out of range {value!r}") from exc
    if not STRICT_YEARS[0] <= parsed.year <= STRICT_YEARS[1]:
        raise DateError(f"date out of range {value!r}")
    return parsed


def parse_date_lenient(value: object) -> datetime | None:
    """Any date string → aware UTC datetime, or None; never raises.

    A bare date is that day, a month its first day, 10 or 13 digits a Unix
    timestamp.  A value without a year is no date at all ("5 Sep", "14:30"),
    and a year alone ("1988") is no day to date a page by.
    """
    text = _tidy(str(value or ""))
    if _EPOCH_RE.match(text):
        return datetime.fromtimestamp(int(text[:10]), UTC)
    if not _YEAR_RE.search(text) and not re.match(r"^\d{8}", text) or _YEAR_ONLY_RE.match(text):
        return None
    try:
        parsed = _parse(text)
        if parsed is None or parsed.year < LENIENT_MIN_YEAR:
            return None
        return _aware(parsed)
    except (ValueError, OverflowError, TypeError):
        return None


def offset_minutes(value: datetime) -> int:
    """Minutes east of UTC that an aware datetime states (0 for UTC or naive)."""
    offset = value.utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def publisher_day(instant: datetime, offset: int) -> date:
    """The calendar day of ``instant`` in the publisher's zone (``offset`` minutes east of UTC).

    A story stamped 23:30 -05:00 on 2 March is a 2 March story, though in UTC it is 3 March.
    """
    when = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return (when.astimezone(UTC) + timedelta(minutes=offset)).date()
