"""Reader for JSON Feed 1.0 / 1.1 files (jsonfeed.org): one article per item.

A JSON Feed is one JSON document, not JSON lines, so it is detected by its
``version`` URL before the JSONL reader sees it.  An item's ``id`` is its
identity (the spec requires it and says it must not change); the item's
``url`` is its link.  Dates keep the offset the feed states, so normalisation
can give the article the publisher's day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime

from search.dates import parse_date_lenient
from search.ingest.formats.urls import absolute_url, canonical_url, hostname
from search.ingest.text import fragment_text, plain_paragraphs, split_authors, squash
from search.model import Article, Rejected

FORMAT = "jsonfeed"
_VERSION_RE = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/', re.I)


def looks_like_jsonfeed(head: bytes) -> bool:
    """A JSON object whose first KB name a jsonfeed.org version."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and bool(_VERSION_RE.search(head))


def _item_lines(text: str) -> list[int]:
    """1-based line on which each item of the ``items`` array starts."""
    match = re.search(r'"items"\s*:\s*\[', text)
    if not match:
        return []
    decoder = json.JSONDecoder()
    pos, lines = match.end(), []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        lines.append(text.count("\n", 0, pos) + 1)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return lines


def _date(value) -> datetime | None:
    """RFC 3339 date as given (offset kept); None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return parse_date_lenient(value)  # sloppy feeds


def _authors(item: dict, feed: dict) -> list[str]:
    """1.1 ``authors`` list, else 1.0 ``author`` object, else the feed's own."""
    people = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    if not people:
        people = feed.get("authors") or ([feed["author"]] if isinstance(feed.get("author"), dict) else [])
    names = [p.get("name", "") for p in people if isinstance(p, dict)]
    return list(dict.fromkeys(n for name in names if isinstance(name, str) for n in split_authors(name)))


def _body(item: dict) -> str:
    """content_html, else content_text, else the summary."""
    html, text, summary = item.get("content_html"), item.get("content_text"), item.get("summary")
    if isinstance(html, str) and html.strip():
        return fragment_text(html)
    if isinstance(text, str) and text.strip():
        return plain_paragraphs(text)
    return plain_paragraphs(summary) if isinstance(summary, str) else ""


def _item(path: str, line: int, number: int, item, feed: dict) -> Article | Rejected:
    if not isinstance(item, dict):
        return Rejected(path, line, f"item {number}: not a JSON object")
    title = squash(item["title"]) if isinstance(item.get("title"), str) else ""
    body = _body(item)
    if not body and not title:
        return Rejected(path, line, f"item {number}: no text (no title, content_html, content_text or summary)")
    base = feed.get("home_page_url") or feed.get("feed_url") or ""
    link = item.get("url") or item.get("external_url") or ""
    url = canonical_url(absolute_url(link, base)) if isinstance(link, str) else ""
    url = url if url.startswith(("http://", "https://")) else ""
    given_id = item.get("id")
    given_id = str(given_id).strip() if isinstance(given_id, str | int) and not isinstance(given_id, bool) else ""
    tags = [squash(t) for t in item.get("tags") or [] if isinstance(t, str) and t.strip()]
    source = squash(feed["title"]) if isinstance(feed.get("title"), str) else hostname(base)
    return Article(
        body=body or title, title=title, date=_date(item.get("date_published")) or _date(item.get("date_modified")),
        source=source, url=url, id=given_id or url, authors=_authors(item, feed), topics=tags,
        given=frozenset({"topics"}) if tags else frozenset(), path=path, line=line, format=FORMAT,
    )


def read_jsonfeed(path: str, data: bytes) -> Iterator[Article | Rejected]:
    """Every item of a JSON Feed as an Article; an unusable item or file as Rejected with its line."""
    text = data.decode("utf-8-sig", "replace")  # the spec says UTF-8
    try:
        feed = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejected(path, exc.lineno, f"invalid JSON Feed: {exc.msg} (column {exc.colno})")
        return
    if not isinstance(feed, dict):
        yield Rejected(path, 1, "invalid JSON Feed: the top level is not an object")
        return
    items = feed.get("items")
    if not isinstance(items, list):
        yield Rejected(path, 0, "not a JSON Feed: no \"items\" list")
        return
    if not items:
        yield Rejected(path, 0, "JSON Feed without items (nothing to index)")
        return
    lines = _item_lines(text)
    for number, item in enumerate(items, 1):
        line = lines[number - 1] if len(lines) == len(items) else 0
        yield _item(path, line, number, item, feed)
