"""Readers and format detection on small inputs built here."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from search.dates import DateError
from search.ingest.formats import reuters
from search.ingest.formats.jsonl import read_jsonl
from search.ingest.formats.reuters import read_reuters
from search.ingest.formats.seedtext import read_seed_text
from search.ingest.read import detect_format, iter_source_files, read_file
from search.model import Article, Rejected

REUTERS_SAMPLE = b"""<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" NEWID="7">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>grain</D><D>wheat</D></TOPICS>
<PLACES><D>usa</D></PLACES>
<PEOPLE><D>smith</D></PEOPLE>
<ORGS></ORGS>
<TEXT>&#2;
<TITLE>FARM GROUP SEES &lt;LOWER&gt; WHEAT OUTPUT</TITLE>
<DATELINE>    CHICAGO, Feb 26 - </DATELINE><BODY>A farm group said wheat output &amp; acreage
would fall this year.
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" NEWID="8">
<DATE>27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM</DATE>
<TOPICS></TOPICS><PLACES></PLACES><PEOPLE></PEOPLE><ORGS></ORGS>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>BANK RATE UNCHANGED</TITLE>Blah blah blah.
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" NEWID="9">
<DATE>31-MAR-1987 605:12:19.12</DATE>
<TEXT TYPE="UNPROC">&#2;
WEEKLY REPORT 1 - MAR 31
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" NEWID="10">
<DATE>1-APR-1987 10:00:00.00</DATE>
<TEXT><BODY>cut off in the mid"""


def articles(items):
    return [i for i in items if isinstance(i, Article)]


def rejects(items):
    return [i for i in items if isinstance(i, Rejected)]


def test_reuters_fields_entities_and_dates():
    items = list(read_reuters("r.sgm", REUTERS_SAMPLE))
    first, brief, unproc = articles(items)
    assert first.id == "reuters-7"
    assert first.title == "FARM GROUP SEES <LOWER> WHEAT OUTPUT"
    assert "output & acreage" in first.body
    assert first.topics == ["grain", "wheat"] and first.places == ["usa"] and first.people == ["smith"]
    assert first.given == {"people", "orgs", "places"}
    assert first.date.isoformat() == "1987-02-26T15:01:01+00:00"
    assert brief.body == "" and brief.title == "BANK RATE UNCHANGED"
    assert brief.date.isoformat().startswith("1987-03-27T00:02:59")
    assert unproc.date.isoformat() == "1987-03-31T00:00:00+00:00"  # garbled time falls back to the day
    assert "WEEKLY REPORT" in unproc.body
    [truncated] = rejects(items)
    assert truncated.path == "r.sgm" and truncated.line == 27 and "truncated" in truncated.reason


def test_seed_text_date_and_body():
    data = b" date 2025-09-05 First paragraph here.\n\nSecond paragraph."
    [article] = list(read_seed_text("a.txt", data))
    assert article.date.isoformat() == "2025-09-05T00:00:00+00:00"
    assert article.body.startswith("First paragraph here.")
    assert article.given == frozenset()


def test_seed_text_rejects_bad_date_and_encoding():
    [bad_date] = list(read_seed_text("a.txt", b"date 2025-02-30 Text."))
    assert isinstance(bad_date, Rejected) and "impossible date" in bad_date.reason
    [latin1] = list(read_seed_text("b.txt", "date 2025-01-01 Caf\u00e9\n\nmore".encode("latin-1")))
    assert isinstance(latin1, Rejected) and latin1.line == 1 and "UTF-8" in latin1.reason


def test_jsonl_good_and_bad_lines():
    lines = [
        b'{"id": "a1", "title": "T", "body": "Text one", "date": "5 Sep 2025", "people": ["Ann Lee"]}',
        b"",
        b'{"body": "no closing quote}',
        b'{"title": "no body"}',
        b'["not", "an", "object"]',
        b'{"body": "bad date", "date": "2025-13-45"}',
        b'{"body": "Text two", "topics": "single"}',
    ]
    items = list(read_jsonl("f.jsonl", b"\n".join(lines)))
    good = articles(items)
    assert [a.line for a in good] == [1, 7]
    assert good[0].given == {"people"} and good[0].date.isoformat() == "2025-09-05T00:00:00+00:00"
    assert good[1].topics == ["single"] and good[1].date is None
    assert [(r.line, r.reason.split(":")[0]) for r in rejects(items)] == [
        (3, "invalid JSON"), (4, "missing or empty 'body'"), (5, "expected a JSON object, got list"),
        (6, "impossible date '2025-13-45'"),
    ]


def test_jsonl_oversize_record_is_rejected():
    big = b'{"body": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}'
    [reject] = list(read_jsonl("big.jsonl", big))
    assert isinstance(reject, Rejected) and "too large" in reject.reason


def test_detection_is_by_content_not_extension(tmp_path: Path):
    (tmp_path / "looks.txt").write_text('{"body": "jsonl in a .txt"}\n')
    (tmp_path / "wire.dat").write_bytes(gzip.compress(REUTERS_SAMPLE))
    (tmp_path / "story.jsonl").write_text(" date 2024-02-02 Seed text in a .jsonl file.")
    formats = {p.name: [a.format for a in articles(read_file(p))] for p in tmp_path.iterdir()}
    assert formats == {"looks.txt": ["jsonl"], "wire.dat": ["reuters"] * 3, "story.jsonl": ["seedtext"]}


def test_bad_files_each_get_a_reason(tmp_path: Path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "huge.txt").write_bytes(b" date 2025-01-01 " + b"word " * (1_100_000))
    good = gzip.compress(b'{"body": "one"}\n{"body": "two"}\n{"body": "three"}\n' * 50)
    (tmp_path / "cut.jsonl.gz").write_bytes(good[: len(good) // 2])
    reasons = {p.name: [str(r) for r in rejects(read_file(p))] for p in tmp_path.iterdir()}
    assert reasons["empty.txt"] == [f"{tmp_path}/empty.txt: empty file"]
    assert "binary file" in reasons["junk.bin"][0]
    assert "article too large" in reasons["huge.txt"][0]
    assert "truncated gzip stream" in reasons["cut.jsonl.gz"][0]


def test_truncated_gzip_keeps_whole_records(tmp_path: Path):
    good = gzip.compress(b"".join(b'{"id": "%d", "body": "article %d"}\n' % (i, i) for i in range(2000)))
    (tmp_path / "cut.jsonl.gz").write_bytes(good[: len(good) * 2 // 3])
    items = list(read_file(tmp_path / "cut.jsonl.gz"))
    kept = articles(items)
    assert 100 < len(kept) < 2000
    assert all(a.body == f"article {a.id}" for a in kept)  # nothing half-parsed


def test_walk_is_recursive_sorted_and_skips_hidden_and_docs(tmp_path: Path):
    for name in ("b/2.txt", "a/1.txt", ".hidden/x.txt", "a/.swap", "README.md", "c/LICENSE"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_source_files([tmp_path])]
    assert found == ["a/1.txt", "b/2.txt"]


def test_detect_format_refuses_binary():
    assert detect_format(b"\x00\x01\x02 date 2025") is None


def test_reuters_records_split_as_the_one_regex_did():
    """``_records`` (bytes.find) against the lazy regex it replaced, on well-formed and broken SGML."""
    regex = re.compile(rb"<REUTERS\b([^>]*)>(.*?)(?:</REUTERS>|(?=<REUTERS\b)|\Z)", re.DOTALL)
    samples = [REUTERS_SAMPLE, b"", b"<REUTERS", b"<REUTERS NEWID=1", b"<REUTERSX NEWID=1>a</REUTERS>",
               b'<REUTERS NEWID="1">a<REUTERS NEWID="2">b</REUTERS>c</REUTERS><REUTERS>',
               b'x<REUTERS <REUTERS NEWID="3">y</REUTERS>\n<REUTERS\nNEWID="4">z</REUTERS',
               b"<REUTERS>\xff\x00</REUTERS></REUTERS><REUTERS_x><REUTERS>", REUTERS_SAMPLE * 3]
    for data in samples:
        expected = [(m.start(), m.group(1), m.group(2), m.group(0).endswith(b"</REUTERS>"))
                    for m in regex.finditer(data)]
        assert list(reuters._records(data)) == expected, data


def test_reuters_dates_parse_as_strptime_did():
    for value in ["26-FEB-1987 15:01:01.79", "1-APR-1987 10:00:00.00", "31-MAR-1987 605:12:19.12",
                  "5-OCT-1987 23:60:00", "29-FEB-1988 01:02:03", "9-DEC-1987", "7-JUL-0987 24:00:00 junk"]:
        day, time = reuters._DATE_FAST_RE.match(value).groups()
        try:
            expected = datetime.strptime(f"{day} {time}", "%d-%b-%Y %H:%M:%S")
        except (ValueError, TypeError):
            expected = datetime.strptime(day, "%d-%b-%Y")
        assert reuters._parse_reuters_date(value) == expected.replace(tzinfo=UTC), value
    for impossible in ["30-FEB-1987 10:00:00", "12-XYZ-1987", "0-JAN-1987"]:
        with pytest.raises(DateError):
            reuters._parse_reuters_date(impossible)
