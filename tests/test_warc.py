"""WARC reader, on archives each test writes with warcio."""

from __future__ import annotations

import gzip
import io

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from search.ingest.formats.warc import looks_like_warc, read_warc
from search.model import Article, Rejected

STORY = (
    "<p>The river ferry between Aldmouth and Kessing returned to service on Monday after a winter refit "
    "that replaced both engines and the passenger deck.</p>"
    "<p>Harbour master Ines Varga said the crossing would run every twenty minutes in summer and that the "
    "old timetable boards at both piers would be replaced by screens before the holiday season begins.</p>"
    "<p>Commuters had used a bus detour of almost an hour while the ferry was away, and the town council "
    "has promised to review the fares once the first month of passenger numbers is known.</p>"
)


def page(title: str, canonical: str = "", published: str = "") -> bytes:
    head = f"<title>{title}</title>"
    head += f'<link rel="canonical" href="{canonical}">' if canonical else ""
    head += f'<meta property="article:published_time" content="{published}">' if published else ""
    return (f"<!doctype html><html><head>{head}</head><body><article><h1>{title}</h1>{STORY}"
            "</article></body></html>").encode()


def warc(records: list[tuple[str, str, str, bytes]], gz: bool = True, extra: bool = True) -> bytes:
    """An archive of (uri, HTTP status, content type, body) responses, with the usual companions."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    if extra:
        writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "test"}))
    for uri, status, ctype, body in records:
        if extra:
            request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.org")], is_http_request=True)
            writer.write_record(writer.create_warc_record(uri, "request", http_headers=request))
        headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))
    return buf.getvalue()


def test_html_responses_become_articles_and_others_are_counted():
    data = warc([
        ("https://news.example.org/ferry-returns", "200 OK", "text/html; charset=utf-8",
         page("Ferry returns", published="2024-05-06T08:00:00+02:00")),
        ("https://news.example.org/missing", "404 Not Found", "text/html", b"<html>gone</html>"),
        ("https://news.example.org/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ("https://news.example.org/moved", "301 Moved Permanently", "text/html", b""),
    ])
    items = list(read_warc("crawl.warc.gz", data))
    articles = [i for i in items if isinstance(i, Article)]
    assert [a.title for a in articles] == ["Ferry returns"]
    assert articles[0].url == "https://news.example.org/ferry-returns"  # the target URI: no canonical link
    assert articles[0].format == "warc"
    assert "Ines Varga" in articles[0].body
    (note,) = [i for i in items if isinstance(i, Rejected)]
    assert "skipped 3 response records" in note.reason
    assert "1 not HTML" in note.reason and "1 HTTP 404" in note.reason and "1 HTTP 301" in note.reason


def test_canonical_link_beats_target_uri_and_crawl_date_is_never_the_date():
    data = warc([
        ("https://news.example.org/ferry?utm_source=x", "200 OK", "text/html", page("Ferry", "https://news.example.org/ferry-story")),
    ])
    (article,) = list(read_warc("c.warc", data))
    assert article.url == "https://news.example.org/ferry-story"
    assert article.date is None  # the page states no date; the WARC-Date (today) must not stand in for one


def test_uncompressed_and_compressed_archives_read_alike():
    records = [("https://a.example.org/x", "200 OK", "text/html", page("Ferry", published="2024-05-06"))]
    plain = [a.title for a in read_warc("a.warc", warc(records, gz=False))]
    packed = [a.title for a in read_warc("a.warc.gz", warc(records, gz=True))]
    assert plain == packed == ["Ferry"]


def test_truncated_last_record_is_named_by_number():
    records = [("https://a.example.org/1", "200 OK", "text/html", page("First ferry")),
               ("https://a.example.org/2", "200 OK", "text/html", page("Second ferry"))]
    data = warc(records, gz=False, extra=False)
    items = list(read_warc("cut.warc", data[:-200]))
    assert [i.title for i in items if isinstance(i, Article)] == ["First ferry"]
    (bad,) = [i for i in items if isinstance(i, Rejected)]
    assert str(bad).startswith("cut.warc:record 2: truncated")


def test_archive_cut_inside_record_headers_is_reported():
    records = [("https://a.example.org/1", "200 OK", "text/html", page("First ferry")),
               ("https://a.example.org/2", "200 OK", "text/html", page("Second ferry"))]
    data = warc(records, gz=False, extra=False)
    second = data.index(b"WARC/1.", 10)
    items = list(read_warc("cut.warc", data[: second + 40]))
    assert [i.title for i in items if isinstance(i, Article)] == ["First ferry"]
    assert any(str(i).startswith("cut.warc:record 2: truncated") for i in items if isinstance(i, Rejected))


def test_detected_by_content_after_gunzip():
    data = warc([("https://a.example.org/1", "200 OK", "text/html", page("Ferry"))], gz=False)
    assert looks_like_warc(data[:8192])
    assert looks_like_warc(gzip.decompress(warc([], gz=True)))
    assert not looks_like_warc(b"<html><body>WARC/1.0</body></html>")
