"""JSON Feed 1.0/1.1 reader, on feeds written in each test."""

from __future__ import annotations

import json
from datetime import timedelta

from search.ingest.formats.jsonfeed import looks_like_jsonfeed, read_jsonfeed
from search.model import Article, Rejected

BODY = "<p>The allotment society opened its waiting list again after three years.</p><p>Plots cost 40 a year.</p>"


def feed(items: list, version: str = "https://jsonfeed.org/version/1.1", **extra) -> bytes:
    doc = {"version": version, "title": "Valley Gazette", "home_page_url": "https://gazette.example.net/", **extra,
           "items": items}
    return json.dumps(doc, indent=2).encode()


def test_items_become_articles_with_id_as_identity():
    data = feed([
        {"id": "tag:gazette,2025:1", "url": "https://gazette.example.net/allotments", "title": "Allotments reopen",
         "content_html": BODY, "date_published": "2025-03-02T23:30:00-05:00", "tags": ["gardens"],
         "authors": [{"name": "Rosa Lind"}]},
        {"id": "tag:gazette,2025:2", "url": "https://gazette.example.net/allotments", "title": "Allotment fees",
         "content_text": "Fees rise next year.\n\nThe society voted on Tuesday."},
    ])
    first, second = read_jsonfeed("g.json", data)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert (first.id, second.id) == ("tag:gazette,2025:1", "tag:gazette,2025:2")  # one link, two items
    assert first.url == second.url == "https://gazette.example.net/allotments"
    assert first.source == "Valley Gazette" and first.authors == ["Rosa Lind"] and first.topics == ["gardens"]
    assert first.body.startswith("The allotment society opened") and "\n\nPlots cost" in first.body
    assert second.body == "Fees rise next year.\n\nThe society voted on Tuesday."
    assert first.date.utcoffset() == timedelta(hours=-5) and first.date.day == 2  # the publisher's own offset
    assert (first.line, second.line) == (6, 21)
    assert second.format == "jsonfeed"


def test_version_1_author_object_and_numeric_id():
    data = feed([{"id": 17, "title": "Old style", "summary": "A short note.", "author": {"name": "Ed Pyle"}}],
                version="https://jsonfeed.org/version/1")
    (item,) = read_jsonfeed("v1.json", data)
    assert item.id == "17" and item.authors == ["Ed Pyle"] and item.body == "A short note." and item.url == ""


def test_bad_items_cost_only_themselves():
    data = feed([{"id": "a", "title": "Kept", "content_text": "Text."}, "junk", {"id": "c", "image": "x.png"}])
    kept, junk, empty = read_jsonfeed("f.json", data)
    assert isinstance(kept, Article)
    assert isinstance(junk, Rejected) and "item 2: not a JSON object" in junk.reason and junk.line
    assert isinstance(empty, Rejected) and "item 3: no text" in empty.reason


def test_whole_file_problems_say_what_is_wrong():
    (bad,) = read_jsonfeed("b.json", b'{"version": "https://jsonfeed.org/version/1.1",\n "items": [\n')
    assert bad.line == 3 and "invalid JSON Feed" in bad.reason
    (none,) = read_jsonfeed("e.json", feed([]))
    assert "without items" in none.reason


def test_detection():
    assert looks_like_jsonfeed(feed([]))
    assert not looks_like_jsonfeed(b'{"id": "1", "body": "jsonfeed.org/version/1 is a URL"}\n')
    assert not looks_like_jsonfeed(b'<rss version="2.0"></rss>')
