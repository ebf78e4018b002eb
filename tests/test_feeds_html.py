"""RSS/Atom and saved-HTML readers, on hand-written fixtures in tests/data/web.

Every fixture's expected output (record by record) is in
tests/data/web/expected.json, shared with bench/eval_web_extraction.py.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from search.ingest.dedupe import dedupe
from search.ingest.formats.feed import looks_like_feed, read_feed
from search.ingest.formats.html import looks_like_html, read_html
from search.ingest.formats.urls import canonical_url
from search.ingest.normalise import normalise
from search.ingest.text import fragment_text, split_authors
from search.model import Article, Rejected

WEB = Path(__file__).parent / "data" / "web"
EXPECTED = json.loads((WEB / "expected.json").read_text(encoding="utf-8"))["files"]


def read(name: str) -> list[Article | Rejected]:
    """Records of one fixture, through the reader its content calls for."""
    data = (WEB / name).read_bytes()
    reader = read_feed if looks_like_feed(data[:8192]) else read_html
    return list(reader(name, data))


def one(name: str) -> Article:
    (record,) = read(name)
    assert isinstance(record, Article), record
    return record


def iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


# ------------------------------------------------------- expected.json, record by record


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_matches_expected(name):
    got = read(name)
    wanted = EXPECTED[name]
    assert len(got) == len(wanted), got
    for record, want in zip(got, wanted, strict=True):
        if want["kind"] == "rejected":
            assert isinstance(record, Rejected), record
            assert want["reason"] in record.reason
            assert record.line == want["line"]
            continue
        assert isinstance(record, Article), record
        assert record.title == want["title"]
        assert iso(record.date) == want["date"]
        assert record.day == (date.fromisoformat(want.get("day") or want["date"][:10]) if want["date"] else None)
        assert record.authors == want["authors"]
        assert record.url == want["url"]
        assert record.source == want["source"]
        assert record.format == want["format"]
        if "topics" in want:
            assert record.topics == want["topics"]
        if "line" in want:
            assert record.line == want["line"]
        for passage in want["must_contain"]:
            assert passage in record.body
        for junk in want["must_not_contain"]:
            assert junk not in record.body, junk


# ------------------------------------------------------------------ HTML pages


def test_news_page_keeps_story_and_drops_furniture():
    article = one("news_article.html")
    assert article.title == "Dresden bridge reopens after two-year repair"
    assert article.date == datetime(2025, 9, 5, 12, 30, tzinfo=UTC)  # 14:30 +02:00
    assert article.authors == ["Maria Keller", "Tom Ashby"]
    assert article.url == "https://www.daily-courier.example.com/europe/dresden-bridge-reopens-5112"
    assert article.id == article.url
    assert article.source == "The Daily Courier"
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 7  # the standfirst is the publisher's own summary: story text
    assert paragraphs[0].startswith("Engineers replaced every corroded tendon")
    assert paragraphs[1].startswith("DRESDEN, Germany — Trams rolled across the Carola bridge")
    for junk in ("cookies", "Share on", "Copy link", "Photograph:", "Related stories", "Advertisement",
                 "Buy cheap flights", "Home", "Subscribe", "newsletter", "All rights reserved"):
        assert junk not in article.body


def test_entities_are_left_to_the_extraction_stage():
    for name in ("news_article.html", "rss2_content.xml", "atom.xml"):
        for record in read(name):
            assert (record.people, record.orgs, record.places) == ([], [], [])
            assert not record.given & {"people", "orgs", "places"}


def test_blog_comments_share_buttons_and_sidebar_are_not_body():
    article = one("blog_post.html")
    assert article.date == datetime(2024, 3, 3, tzinfo=UTC)  # the post's date, not the comment's
    assert article.source == "Notes from Millbrook"
    assert article.topics == ["Town life", "energy", "library"] and article.given == {"topics"}
    for junk in ("bake sale money", "Leave a Reply", "Click to share", "Recent Posts", "Related"):
        assert junk not in article.body


def test_json_ld_metadata_gives_time_zone_authors_and_url():
    article = one("jsonld_article.html")
    assert article.date == datetime(2025, 1, 15, 4, 15, tzinfo=UTC)  # 23:15 -05:00 the day before
    assert article.authors == ["Lena Okafor", "Miguel Santos"]
    assert article.url == "https://harbortimes.example.net/business/port-strike-ends-contract"


def test_date_from_url_when_page_has_no_other():
    article = one("url_date.html")
    assert article.date == datetime(2023, 11, 7, tzinfo=UTC)
    assert article.url == "https://news.riverside-gazette.example.com/2023/11/07/council-approves-budget/"


def test_visible_date_line_with_zone_gives_utc_time():
    assert one("wire_story.html").date == datetime(2023, 9, 30, 3, 52, tzinfo=UTC)  # 11:52 PM EDT
    assert one("dateline_only.html").date == datetime(2019, 2, 12, tzinfo=UTC)


def test_page_without_date_stays_undated(tmp_path):
    article = one("undated.html")
    assert article.date is None  # despite the "© 2024" footer
    # the saved-from comment supplies the URL, minus tracking parameters
    assert article.url == "https://features.example-media.example.com/science/why-do-cats-purr?ref_src=home"


def test_no_fallback_to_today_or_copyright_year():
    year = datetime.now(UTC).year
    paragraphs = "".join(
        f"<p>Paragraph {i} of a story that never says when it was written, and goes on for a while.</p>"
        for i in range(6)
    )
    page = (
        f'<html><head><title>A timeless story</title><meta itemprop="copyrightYear" content="{year}"></head>'
        f"<body><h1>A timeless story</h1>{paragraphs}<footer>Copyright {year} Somebody</footer></body></html>"
    )
    (article,) = read_html("timeless.html", page.encode())
    assert isinstance(article, Article)
    assert article.date is None


@pytest.mark.parametrize("name", ["index_page.html", "tag_listing.html", "not_found.html", "removed_article.html"])
def test_pages_that_are_not_articles_are_rejected(name):
    (record,) = read(name)
    assert isinstance(record, Rejected)
    assert record.reason.startswith("not an article: ")
    assert str(record) == f"{name}: {record.reason}"


@pytest.mark.parametrize("name", ["wrong_charset_utf8.html", "wrong_charset_cp1252.html"])
def test_wrong_declared_charset_is_decoded_right(name):
    article = one(name)
    assert article.title == "Zürich café owners protest new terrace fees"
    assert article.authors == ["Jürg Müller"]
    assert "said Anaïs Rüegg" in article.body and "— a naïve hope" in article.body
    assert not any(bad in article.body for bad in ("Ã", "â€", "\ufffd"))


def test_double_encoded_utf8_is_repaired():
    body = "<p>Der Bürgermeister von Zürich eröffnete am Montag das neue Café am Seeufer.</p>" * 5
    page = f"<html><head><title>Café</title></head><body><h1>Zürich</h1>{body}</body></html>"
    mojibake = page.encode("utf-8").decode("cp1252").encode("utf-8")  # encoded twice
    (article,) = read_html("double.html", mojibake)
    assert "Bürgermeister von Zürich eröffnete" in article.body


def test_html_reader_never_raises_and_yields_one_record():
    rng = random.Random(7)
    samples = [b"", b"   ", b"\x00\x01\x02" * 50, b"<html>" + b"<div>" * 3000, b"<html><body><p>hi</p></body></html>"]
    for path in sorted(WEB.glob("*.html")):
        data = bytearray(path.read_bytes())
        for _ in range(4):
            cut = data[: rng.randrange(len(data))]
            for _ in range(8):
                if cut:
                    cut[rng.randrange(len(cut))] = rng.randrange(256)
            samples.append(bytes(cut))
    for sample in samples:
        records = list(read_html("x.html", sample))
        assert len(records) == 1
        assert isinstance(records[0], Article | Rejected)


# ---------------------------------------------------------------------- feeds


def test_rss2_content_encoded_time_zones_and_categories():
    first, second, third = read("rss2_content.xml")
    assert first.date == datetime(2025, 9, 5, 12, 30, tzinfo=UTC)  # +0200
    assert second.date == datetime(2025, 12, 7, 2, 45, tzinfo=UTC)  # 21:45 EST
    assert third.date == datetime(2025, 12, 7, 9, 5, tzinfo=UTC)  # GMT
    assert first.format == "rss" and first.source == "The Daily Courier – Europe"
    assert first.topics == ["Europe", "Germany"] and first.given == {"topics"}
    assert third.topics == [] and third.given == frozenset()
    assert first.authors == ["Maria Keller", "Tom Ashby"]
    assert second.authors == ["Chris Dalton"]  # "newsdesk@... (Chris Dalton)"
    # full content wins over the teaser, converted to plain paragraphs
    paragraphs = first.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[2].startswith("“We have essentially rebuilt")
    for junk in ("<", "&", "Construction crews", "appeared first on"):
        assert junk not in first.body
    assert second.body.split("\n\n")[0].endswith("brought whiteout conditions to the region.")
    assert second.url == "https://www.daily-courier.example.com/world/snowstorm-airports-5120"  # no #comments


def test_atom_feed():
    first, second, third = read("atom.xml")
    assert first.format == "atom" and first.source == "Harbor Times: Business"
    assert first.date == datetime(2025, 1, 15, 4, 15, tzinfo=UTC)  # published, not updated
    assert second.date == datetime(2025, 1, 13, 5, 30, tzinfo=UTC)  # only <updated>
    assert first.authors == ["Lena Okafor", "Miguel Santos"]
    assert first.topics == ["labour", "shipping"]
    assert "share()" not in first.body
    assert second.body.count("\n\n") == 1  # xhtml content, two paragraphs
    assert (third.url, third.id) == ("", "tag:harbortimes.example.net,2025:article-88070")  # no link: guid


def test_rss1_feed():
    first, second = read("rss1.rdf")
    assert first.format == "rss"
    assert first.date == datetime(2019, 2, 12, 13, 0, tzinfo=UTC)  # dc:date -06:00
    assert second.date == datetime(2019, 2, 10, tzinfo=UTC)  # date only: that day
    assert first.authors == ["Carl Jensen"] and first.topics == ["Business"]


def test_same_story_from_feed_and_page_is_one_article():
    page = one("news_article.html")
    item = read("rss2_content.xml")[0]
    assert item.url == page.url  # utm_* and case differences gone
    assert item.id != page.id  # the item's identity is its guid ...
    kept, duplicates = dedupe([normalise(item), normalise(page)])
    assert duplicates == 1 and [a.url for a in kept] == [page.url]  # ... but it is one story with its page
    atom, jsonld = read("atom.xml")[0], one("jsonld_article.html")
    assert atom.url == jsonld.url and len(dedupe([normalise(atom), normalise(jsonld)])[0]) == 1


def test_malformed_feed_keeps_what_is_recoverable():
    records = read("malformed_truncated.xml")
    assert [type(r) for r in records] == [Article, Article, Rejected]
    assert str(records[2]) == "malformed_truncated.xml:19: item 3: truncated (no closing tag in a malformed feed)"
    assert records[1].body.endswith("the library board said.")


def test_unrecoverable_feed_is_rejected_whole():
    (record,) = read("unrecoverable.xml")
    assert isinstance(record, Rejected) and record.line == 0
    assert str(record).startswith("unrecoverable.xml: malformed feed, no items recovered: ")


def test_item_without_text_is_rejected_with_its_line():
    records = read("broken_item.xml")
    assert [type(r) for r in records] == [Article, Rejected, Article]
    assert str(records[1]) == "broken_item.xml:13: item 2: no text (no title, summary or content)"
    assert [r.line for r in records] == [7, 13, 18]


def test_feed_reader_is_pure_and_never_raises(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><title>S</title><item><title>leak</title></item></channel></rss>')
    assert not any(isinstance(r, Article) for r in read_feed("x", str(secret).encode()))
    rng = random.Random(3)
    for path in sorted(WEB.glob("*.xml")) + [WEB / "rss1.rdf"]:
        data = bytearray(path.read_bytes())
        for _ in range(6):
            cut = data[: rng.randrange(len(data))]
            for _ in range(6):
                if cut:
                    cut[rng.randrange(len(cut))] = rng.randrange(256)
            for record in read_feed(path.name, bytes(cut)):
                assert isinstance(record, Article | Rejected)


# ------------------------------------------------------------------ detection


@pytest.mark.parametrize("name", sorted(p.name for p in WEB.iterdir() if p.suffix in (".xml", ".rdf")))
def test_feeds_are_detected_by_content(name):
    head = (WEB / name).read_bytes()[:4096]
    assert looks_like_feed(head) and not looks_like_html(head)


@pytest.mark.parametrize("name", sorted(p.name for p in WEB.glob("*.html")))
def test_pages_are_detected_by_content(name):
    head = (WEB / name).read_bytes()[:4096]
    assert looks_like_html(head) and not looks_like_feed(head)


@pytest.mark.parametrize(
    "head",
    [
        b' date 2025-09-05 The council met on <b>Tuesday</b>.\n\nMore text.',
        b'{"body": "<html><body>x</body></html>", "title": "t"}\n',
        b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n<REUTERS TOPICS="NO" NEWID="1">\n<DATE>1-MAR-1987</DATE>'
        b"<TEXT><TITLE>T</TITLE><BODY>b</BODY></TEXT></REUTERS>",
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
        b"plain words, no markup at all",
    ],
)
def test_other_formats_are_neither_feed_nor_html(head):
    assert not looks_like_feed(head) and not looks_like_html(head)


def test_detection_edge_cases():
    assert looks_like_feed(b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN">'
                           b'\n<rss version="0.91">')
    assert looks_like_feed('<feed xmlns="http://www.w3.org/2005/Atom">'.encode("utf-16"))
    assert not looks_like_feed(b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><x/>')
    assert looks_like_html(b"\xef\xbb\xbf<!-- saved from url=(0019)https://example.com/ -->\n<html>")
    assert looks_like_html(b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">')
    assert looks_like_html(b"<div class='article'><p>A bare dump of the story markup.</p></div>")


def test_dispatcher_reads_feeds_and_pages_whatever_their_names(tmp_path):
    read_mod = pytest.importorskip("search.ingest.read")
    shutil.copy(WEB / "rss2_content.xml", tmp_path / "feed.txt")
    (tmp_path / "page.dat.gz").write_bytes(gzip.compress((WEB / "news_article.html").read_bytes()))
    feed = list(read_mod.read_file(tmp_path / "feed.txt"))
    page = list(read_mod.read_file(tmp_path / "page.dat.gz"))
    assert [r.format for r in feed] == ["rss", "rss", "rss"]
    assert [r.format for r in page] == ["html"]


# -------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.Example.COM:443/News/Story.html?utm_source=rss&id=5&fbclid=x#comments",
         "https://www.example.com/News/Story.html?id=5"),
        ("http://Example.com", "http://example.com/"),
        ("http://example.com:8080/a?b=1&utm_medium=social&c", "http://example.com:8080/a?b=1&c"),
        ("https://user:pw@example.com./x?a=b%20c", "https://example.com/x?a=b%20c"),
        ("//cdn.example.com/x", "https://cdn.example.com/x"),
        ("  /relative/path  ", "/relative/path"),
        ("", ""),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_fragment_text_makes_plain_paragraphs():
    markup = (
        "<p>First &amp; <b>bold</b> line<br>continues</p><figure><img src=x>"
        "<figcaption>A caption</figcaption></figure><script>evil()</script><ul><li>one</li><li>two</li></ul>"
        "Tail text &eacute;"
    )
    assert fragment_text(markup) == "First & bold line\n\ncontinues\n\none\n\ntwo\n\nTail text é"
    assert fragment_text("") == ""


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Hannah Price, Staff Writer", ["Hannah Price"]),
        ("Doe, Jane", ["Doe, Jane"]),
        ("Jane Doe, John Roe", ["Jane Doe", "John Roe"]),
        ("By A. Smith and B. Jones", ["A. Smith", "B. Jones"]),
        ("By JANE ROE | Staff writer", ["Jane Roe"]),
        ("jd@example.com", []),
    ],
)
def test_split_authors(byline, names):
    assert split_authors(byline) == names


def test_partial_dates_are_never_completed_from_today():
    from search.dates import parse_date_lenient

    assert parse_date_lenient("September 2025") == datetime(2025, 9, 1, tzinfo=UTC)
    assert parse_date_lenient("14:30") is None
    assert parse_date_lenient("5 Sep") is None
    assert parse_date_lenient("1693915200") == datetime(2023, 9, 5, 12, 0, tzinfo=UTC)
