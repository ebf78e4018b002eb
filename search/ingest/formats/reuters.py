"""Reuters-21578 SGML (``reut2-*.sgm``): latin-1, one <REUTERS> element per article.

A record with no text at all is still an article of the collection (it has an id,
a date and categories), so it is kept with an empty body.

Categories (TOPICS, PLACES, PEOPLE, ORGS) are given by the collection and are
kept exactly as written, so facet counts match the SGML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime

from search.dates import DateError, parse_date_strict
from search.model import Article, Rejected

_RECORD_RE = re.compile(rb"<REUTERS\b([^>]*)>(.*?)(?:</REUTERS>|(?=<REUTERS\b)|\Z)", re.DOTALL)
_NEWID_RE = re.compile(rb'NEWID="(\d+)"')
_DATE_FAST_RE = re.compile(r"(\d{1,2}-[A-Z]{3}-\d{4})(?:\s+(\d{1,2}:\d{2}:\d{2}))?")
_D_RE = re.compile(r"<D>(.*?)</D>", re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_TITLE_OR_DATELINE_RE = re.compile(r"<(TITLE|DATELINE)>.*?</\1>", re.DOTALL)
_BRIEF_FILLER = "blah blah blah."
CATEGORY_FIELDS = {"topics": "TOPICS", "places": "PLACES", "people": "PEOPLE", "orgs": "ORGS"}


_HEAD_RE = re.compile(rb"^\s*(?:<!DOCTYPE lewis[^>]*>\s*)?<REUTERS\b[^>]*NEWID=")


def looks_like_reuters(head: bytes) -> bool:
    return bool(_HEAD_RE.match(head))


def read_reuters(path: str, data: bytes) -> Iterator[Article | Rejected]:
    line, last = 1, 0
    for match in _RECORD_RE.finditer(data):
        line += data.count(b"\n", last, match.start())
        last = match.start()
        try:
            yield parse_record(path, line, match.group(1), match.group(2),
                               closed=match.group(0).endswith(b"</REUTERS>"))
        except Exception as exc:  # one odd record must not lose the records after it
            yield Rejected(path, line, f"bad record ({type(exc).__name__}: {exc})")


def parse_record(path: str, line: int, attrs: bytes, raw: bytes, closed: bool = True) -> Article | Rejected:
    newid = _NEWID_RE.search(attrs)
    if not newid:
        return Rejected(path, line, "REUTERS record without NEWID")
    if not closed:
        return Rejected(path, line, f"truncated record NEWID={newid.group(1).decode()} (no </REUTERS>)")
    text = raw.decode("latin-1")
    try:
        date = _parse_reuters_date(_element(text, "DATE"))
    except DateError as exc:
        return Rejected(path, line, str(exc))
    title = _unescape(_element(text, "TITLE"))
    body = _unescape(_element(text, "BODY") or _untagged_text(text))
    if body.strip().lower() == _BRIEF_FILLER:
        body = ""
    categories = {name: _values(_element(text, tag)) for name, tag in CATEGORY_FIELDS.items()}
    return Article(
        id=f"reuters-{newid.group(1).decode()}",
        title=title,
        body=body,
        date=date,
        source="Reuters",
        path=path,
        line=line,
        format="reuters",
        given=frozenset(("people", "orgs", "places")),
        **categories,
    )


def _element(text: str, tag: str) -> str:
    start = text.find(f"<{tag}")
    if start < 0:
        return ""
    start = text.find(">", start) + 1
    end = text.find(f"</{tag}>", start)
    return text[start:end] if end >= 0 else ""


def _values(element: str) -> list[str]:
    return [_unescape(v).strip() for v in _D_RE.findall(element) if v.strip()]


def _untagged_text(text: str) -> str:
    """BRIEF and UNPROC articles have no BODY: the TEXT element minus title, dateline and markup."""
    inner = _TITLE_OR_DATELINE_RE.sub(" ", _element(text, "TEXT"))
    return _TAG_RE.sub(" ", inner).replace("******", " ")


def _unescape(value: str) -> str:
    return html.unescape(value)


def _parse_reuters_date(value: str) -> datetime | None:
    """'26-FEB-1987 15:01:01.79', sometimes with junk after it or a garbled time.

    The day is what matters to a reader; a garbled time falls back to the day.
    """
    value = _unescape(value).strip()
    fast = _DATE_FAST_RE.match(value)
    if not fast:
        return parse_date_strict(value)
    day, time = fast.groups()
    for text, fmt in ((f"{day} {time}", "%d-%b-%Y %H:%M:%S"), (day, "%d-%b-%Y")):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except (ValueError, TypeError):
            continue  # a garbled time ("605:12:19") still leaves a good day
    raise DateError(f"impossible date {value!r}")
