"""A saved page's publication date, from the page's own evidence only.

Metadata timestamps, a date line under the headline, htmldate restricted to
the page (URL, date elements); never the file's date or the clock, so a page
without one stays undated.
"""

from __future__ import annotations

import calendar
import copy
import re
from datetime import date, datetime, timedelta, timezone

from htmldate import find_date

from search.dates import TZINFOS, parse_date_lenient
from search.ingest.formats.pagemeta import PageMeta, near_headline_lines

_PUBLISHED_META = ("article:published_time", "og:published_time", "article:published", "datepublished",
                   "publishdate", "pubdate", "publish-date", "publish_date", "date", "dc.date.issued",
                   "dcterms.issued", "dc.date", "dcterms.date", "dcterms.created", "sailthru.date",
                   "parsely-pub-date", "cxenseparse:recs:publishtime", "originalpublicationdate")


def _metadata_date(meta: PageMeta, tree) -> datetime | None:
    """Publication timestamp stated in metadata (keeps time of day and zone)."""
    candidates = [meta.article_ld.get("datePublished"), meta.article_ld.get("dateCreated")]
    candidates += [meta.get(key) for key in _PUBLISHED_META]
    candidates += tree.xpath('//*[@itemprop="datePublished"]/@datetime|//*[@itemprop="datePublished"]/@content')
    candidates += tree.xpath("//time[@pubdate]/@datetime")
    for value in candidates:
        if isinstance(value, str) and (when := parse_date_lenient(value)):
            return when
    return None


_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_EXPR = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
              r"|\d{4}-\d{2}-\d{2})")
_DATELINE_RE = re.compile(rf"\b{_DATE_EXPR}\b", re.I)
# A line that is nothing but a date (and maybe weekday and time): page furniture, not story.
DATE_ONLY_RE = re.compile(
    rf"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?{_DATE_EXPR}"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:am|pm)?(?:\s+[a-z]{2,5})?)?$",
    re.I,
)


_CLOCK_RE = re.compile(r"\b(\d{1,2})[:.](\d{2})\s*([ap]\.?m\.?)?(?:\s*\(?([A-Za-z]{2,5})\)?)?", re.I)
_PUBLISHED_WORD_RE = re.compile(r"publish|posted|first", re.I)
_UPDATED_WORD_RE = re.compile(r"updat|modif|edited|revised", re.I)


def _clock(day: datetime, line: str) -> datetime | None:
    """``day`` at the time of day the line gives, if it also names a known zone ("11:52 PM EDT")."""
    match = _CLOCK_RE.search(line)
    zone = (match.group(4) or "").upper() if match else ""
    if zone not in TZINFOS:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    half = (match.group(3) or "").lower().replace(".", "")
    hour = hour % 12 + 12 if half == "pm" else hour % 12 if half == "am" else hour
    if hour > 23 or minute > 59:
        return None
    local = day.replace(hour=hour, minute=minute, second=0, tzinfo=timezone(timedelta(seconds=TZINFOS[zone])))
    return local  # the stated zone kept: the publisher's day depends on it


def _dateline(tree) -> tuple[datetime, bool] | None:
    """Date of the date line under the headline, and whether it carried a zoned time of day.

    A "Published ..." line beats an "Updated ..." one.
    """
    lines = [line for line in near_headline_lines(tree) if len(line) <= 160 and _DATELINE_RE.search(line)]
    lines.sort(key=lambda line: (not _PUBLISHED_WORD_RE.search(line), bool(_UPDATED_WORD_RE.search(line))))
    for line in lines:
        day = parse_date_lenient(_DATELINE_RE.search(line).group(0).replace(".", ""))
        if day is None:
            continue
        day = day.replace(hour=0, minute=0, second=0, microsecond=0)
        precise = _clock(day, line)
        return (precise, True) if precise else (day, False)
    return None


# A permalink's own date: /2021/05/slug, /2019/7/3/slug, /2021-05-17-slug; not /2018/7-tips-for-...
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(?:(0?[1-9]|[12]\d|3[01])(?:/|\.html?$|$))?"
                          r"|/((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?!\d)")
_OLDEST = date(1995, 1, 1)


def url_window(url: str) -> tuple[date, date] | None:
    """The days a page's own URL allows: the month of a /YYYY/MM/ permalink, or its day (± 1 for zones).

    Measured on real blog pages: htmldate's strongest mode (extensive search,
    oldest date) took the URL date of a *linked* older post (/2010/06/) for a
    post whose own permalink says /2011/12/ and whose footer gives 3 December.
    """
    match = _URL_DATE_RE.search(url or "")
    if not match:
        return None
    parts = [g for g in match.groups() if g is not None]
    year, month = int(parts[0]), int(parts[1])
    if len(parts) == 3:
        try:
            day = date(year, month, int(parts[2]))
        except ValueError:
            return None
        return day - timedelta(days=1), day + timedelta(days=1)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _htmldate(tree, url: str, page: str, extensive: bool = False) -> datetime | None:
    """htmldate on the page's evidence; ``extensive`` also reads its free text (htmldate's strongest mode).

    Kept inside the page URL's own month (url_window) when it has one. A bare
    1 January is a year dressed up as a date (a copyright line, a file name)
    unless the page spells that day out, so it is dropped.
    """
    first, last = url_window(url) or (_OLDEST, None)
    found = find_date(copy.deepcopy(tree), extensive_search=extensive, original_date=True, url=url or None,
                      min_date=max(first, _OLDEST).isoformat(), **({"max_date": last.isoformat()} if last else {}))
    when = parse_date_lenient(found) if found else None
    if when is None:
        return None
    if (when.month, when.day) == (1, 1):
        jan1 = re.compile(rf"{when.year}-01-01|\b0?1(?:st)?\.? Jan|Jan\w*\.? 0?1\b|01/01/{when.year}|1\.1\.{when.year}",
                          re.I)
        if not jan1.search(page):
            return None
    return when


def page_date(meta: PageMeta, tree, url: str, page: str) -> datetime | None:
    """Publication date from the page's own evidence, or None; never the file's or today's date.

    Order: metadata timestamps, then a date line that gives a zoned time (if it
    agrees with htmldate's day), then htmldate's day (URL, date elements), then
    the date line's day, then htmldate's extensive search of the text (it
    dated pages whose date line is in another language: "24. März 2004").
    """
    if when := _metadata_date(meta, tree):
        return when
    day = _htmldate(tree, url, page)
    line = _dateline(tree)
    window = url_window(url)
    if line and window and not window[0] <= line[0].date() <= window[1]:
        line = None  # a date line outside the month the page's own URL gives is not the publication date
    if line and line[1] and (day is None or abs(line[0] - day) < timedelta(days=2)):
        return line[0]
    return day or (line[0] if line else None) or _htmldate(tree, url, page, extensive=True)
