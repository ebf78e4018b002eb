"""Reader for WARC web-crawl archives (.warc, .warc.gz; e.g. Common Crawl's CC-News).

warcio walks the records.  Every HTTP 200 response holding an HTML page goes
through the same page reader as a saved page; the record's WARC-Target-URI is
the article URL when the page names no canonical one.  The WARC-Date is when
the crawler fetched the page, never when it was published, so it is not used.
Responses that are not HTML or not 200 are skipped and counted in one line per
file; a record cut short is reported as ``path:record N: reason``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from search.ingest.formats.urls import canonical_url
from search.model import Article, Rejected

FORMAT = "warc"
_MAGIC = (b"WARC/1.0\r\n", b"WARC/1.1\r\n", b"WARC/0.17\r\n", b"WARC/0.18\r\n")
_HTML_TYPES = ("text/html", "application/xhtml+xml")

PageReader = Callable[..., Iterable[Article | Rejected]]


def looks_like_warc(head: bytes) -> bool:
    """True when the (decompressed) bytes start with a WARC record header, whatever the file is called."""
    return head.lstrip(b"\r\n").startswith(_MAGIC)


@dataclass
class Skipped:
    """Response records that are not pages, by why."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, why: str) -> None:
        self.counts[why] = self.counts.get(why, 0) + 1

    def summary(self, path: str) -> Rejected | None:
        total = sum(self.counts.values())
        if not total:
            return None
        parts = ", ".join(f"{n} {why}" for why, n in sorted(self.counts.items()))
        return Rejected(path, 0, f"skipped {total} response record{'s' * (total != 1)} that hold no page: {parts}")


def record_label(path: str, number: int) -> str:
    """Where a record is, in the ``path:record N`` form error lines use."""
    return f"{path}:record {number}"


def _is_html(record, payload: bytes) -> bool:
    """The response's Content-Type says HTML, or it has none and the bytes look like a page."""
    ctype = (record.http_headers.get_header("Content-Type") or "").lower()
    if ctype:
        return ctype.split(";")[0].strip() in _HTML_TYPES
    from search.ingest.formats.html import looks_like_html

    return looks_like_html(payload[:4096])


def _why_not_page(record) -> str | None:
    """Why a response record cannot hold an article (before its payload is read), or None."""
    if record.http_headers is None:
        return "without HTTP headers"
    status = record.http_headers.get_statuscode() or "?"
    return None if status == "200" else f"HTTP {status}"


def _page(record, payload: bytes, path: str, number: int, reader: PageReader) -> Iterator[Article | Rejected]:
    """The page reader's verdict on one record; the record's URI fills in a missing URL."""
    uri = canonical_url(record.rec_headers.get_header("WARC-Target-URI") or "")
    for item in reader(path, payload, url=uri):
        if isinstance(item, Rejected):
            yield Rejected(record_label(path, number), 0, item.reason)
            continue
        url = item.url or uri
        yield item.replace(url=url, id=item.id or url, line=number, format=FORMAT)


def read_warc(path: str, data: bytes, reader: PageReader | None = None) -> Iterator[Article | Rejected]:
    """Every HTML page of a WARC file as an Article; broken records and unusable pages as Rejected.

    warcio and the page reader are imported here, not with the module: every file's format detection
    imports this module for ``looks_like_warc``.
    """
    from warcio.archiveiterator import ArchiveIterator

    from search.ingest.formats.html import read_html

    reader = reader or read_html
    stream = io.BytesIO(data)
    records = ArchiveIterator(stream, arc2warc=True)
    skipped = Skipped()
    number = 0
    try:
        for record in records:
            number += 1
            if record.rec_type != "response":
                continue  # warcinfo, request, metadata, revisit: the container, not pages
            if why := _why_not_page(record):
                skipped.add(why)
                continue
            payload = record.content_stream().read()
            record.raw_stream.read()
            if getattr(record.raw_stream, "limit", 0):
                yield Rejected(record_label(path, number), 0, "truncated record (the archive ends inside it)")
                continue
            if not _is_html(record, payload):
                skipped.add("not HTML")
                continue
            yield from _page(record, payload, path, number, reader)
    except Exception as exc:  # noqa: BLE001 - warcio fails in many ways on a cut or corrupt header
        reason = f"truncated or corrupt record ({type(exc).__name__}: {exc})"
        yield Rejected(record_label(path, number + 1), 0, reason)
    else:
        if data[records.offset:].strip():
            yield Rejected(record_label(path, number + 1), 0, "truncated record (the archive ends in its headers)")
    if note := skipped.summary(path):
        yield note
