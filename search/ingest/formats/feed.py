"""Reader for RSS 0.9x/1.0/2.0, Atom (1.0 and 0.3) and CDF feed files: one article per item.

feedparser does the parsing (and the time-zone arithmetic); this module turns
its entries into articles, keeps whatever a damaged feed still holds, and
reports each item it cannot use with the line it starts on.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from search.dates import parse_date_lenient
from search.ingest.decode import HEAD_BYTES, declared_charset, decode_html, head_text, skip_prolog
from search.ingest.formats.urls import absolute_url, canonical_url, hostname
from search.ingest.text import fragment_text, plain_paragraphs, split_authors, squash
from search.model import Article, Rejected

_RSS_NAMESPACES = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/", "http://purl.org/rss/")
_ATOM_NAMESPACES = ("http://www.w3.org/2005/atom", "http://purl.org/atom/ns#")
_DOCTYPE_RE = re.compile(r"\s*<!doctype[^\[>]*(?:\[.*?\])?\s*>", re.I | re.S)
_ROOT_RE = re.compile(r"\s*<([A-Za-z_][\w.:-]*)")
_ATOM03_RE = re.compile(r"<feed[^>]*\bversion\s*=\s*[\"']0\.\d")

# ---------------------------------------------------------------- detection


def _root_element(text: str) -> str:
    """Name of the first element after the prolog (declaration, comments, doctype), lowercased."""
    pos = skip_prolog(text)
    if doctype := _DOCTYPE_RE.match(text, pos):
        pos = skip_prolog(text[doctype.end():]) + doctype.end()
    match = _ROOT_RE.match(text, pos)
    return match.group(1).lower() if match else ""


def looks_like_feed(head: bytes) -> bool:
    """True when the first KB are an RSS or Atom document, whatever the file is called."""
    text = head_text(head[:HEAD_BYTES])
    root = _root_element(text)
    local = root.rsplit(":", 1)[-1]
    lowered = text.lower()
    if local == "rss" or root == "channel":  # RSS; Microsoft's CDF (<CHANNEL>), which feedparser reads too
        return True
    if local == "feed":  # Atom 1.0, or 0.3 (its own namespace, or none but a version="0.3")
        return (any(ns in lowered for ns in _ATOM_NAMESPACES) or "<entry" in lowered
                or bool(_ATOM03_RE.search(lowered)))
    if local == "rdf":
        return any(ns in lowered for ns in _RSS_NAMESPACES)
    return False


# ------------------------------------------------------------ item layout

_ITEM_START_RE = re.compile(rb"<(?:[\w.-]+:)?(item|entry)[\s>/]")
_ITEM_END_RE = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")
_FEED_END_RE = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|channel|rdf)\s*>", re.I)


@dataclass(frozen=True)
class ItemSpan:
    """Where an item starts in the raw file, and whether it is closed before the next one."""

    line: int
    closed: bool


def item_spans(data: bytes) -> list[ItemSpan]:
    """Line and completeness of each <item>/<entry>, for error messages feedparser cannot give."""
    data = data.replace(b"\x00", b"")  # crude but keeps UTF-16 feeds countable
    starts = [m.start() for m in _ITEM_START_RE.finditer(data)]
    spans = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        spans.append(ItemSpan(data.count(b"\n", 0, start) + 1, bool(_ITEM_END_RE.search(data, start, end))))
    return spans


# ------------------------------------------------------------ item fields

_TRAILER_RE = re.compile(
    r"^(?:the post .{1,300} appeared first on .{1,200}|(?:continue reading|read more|read the full "
    r"(?:story|article)|full story)\b.{0,120}|\[?(?:…|\.\.\.|&hellip;)\]?)$",
    re.I,
)


def _text_of(detail: dict | None, fallback: str = "") -> str:
    """Plain paragraphs out of a feedparser text construct, whatever its declared type."""
    value = (detail or {}).get("value", fallback) or ""
    kind = (detail or {}).get("type", "text/html") or "text/html"
    text = fragment_text(value) if ("html" in kind or "<" in value) else plain_paragraphs(value)
    paragraphs = [p for p in text.split("\n\n") if not _TRAILER_RE.match(p)]
    return "\n\n".join(paragraphs)


def _body(entry: dict) -> str:
    """The fullest text the item carries: content:encoded / atom:content, else the summary."""
    texts = [_text_of(c) for c in entry.get("content", []) or []]
    texts.append(_text_of(entry.get("summary_detail"), entry.get("summary", "")))
    return max(texts, key=len, default="")


def _title(entry: dict) -> str:
    return squash(_text_of(entry.get("title_detail"), entry.get("title", "")).replace("\n\n", " "))


def _date(entry: dict) -> datetime | None:
    """Publication date: published, else updated, else created; in the zone the feed states.

    feedparser's reading gives the instant (it knows every RSS/Atom date
    dialect) but only in UTC; the raw value's own offset is kept when it
    names the same instant, so the article keeps the publisher's day.
    """
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict.get("updated") silently (and deprecatedly) answers with "published"
        parsed, raw = dict.get(entry, f"{key}_parsed"), dict.get(entry, key)
        stated = parse_date_lenient(raw) if raw else None
        if parsed:
            instant = datetime(*parsed[:6], tzinfo=UTC)
            return stated if stated is not None and stated == instant else instant
        if stated:
            return stated
    return None


def _authors(entry: dict) -> list[str]:
    """Author names; e-mail addresses alone are not names."""
    raw = [a.get("name", "") for a in entry.get("authors", []) or [] if isinstance(a, dict)]
    if not any(raw) and entry.get("author"):
        raw = [re.sub(r"\S+@\S+", "", entry["author"]).strip(" ()")]
    return list(dict.fromkeys(name for value in raw for name in split_authors(value or "")))


def _topics(entry: dict) -> list[str]:
    terms = [squash(t.get("term") or t.get("label") or "") for t in entry.get("tags", []) or []]
    return list(dict.fromkeys(t for t in terms if t and t.lower() != "uncategorized"))


def _link(entry: dict, feed_link: str) -> str:
    """Canonical story URL; FeedBurner's original link beats its redirect."""
    link = entry.get("feedburner_origlink") or entry.get("link") or ""
    return canonical_url(absolute_url(link, feed_link))


@dataclass(frozen=True)
class FeedInfo:
    """What every item of one feed shares."""

    path: str
    source: str
    link: str
    format: str


def _item(entry: dict, feed: FeedInfo, number: int, line: int) -> Article | Rejected:
    title, body = _title(entry), _body(entry)
    if not body and not title:
        return Rejected(feed.path, line, f"item {number}: no text (no title, summary or content)")
    url = _link(entry, feed.link)
    url = url if url.startswith(("http://", "https://")) else ""
    topics = _topics(entry)
    # The guid (Atom id) is the item's identity when the feed gives one: items may share a link
    # (a bulletin page, a homepage) and still be distinct stories.
    return Article(
        body=body or title, title=title, date=_date(entry), source=feed.source, url=url,
        id=squash(entry.get("id", "")) or url, authors=_authors(entry), topics=topics,
        given=frozenset({"topics"}) if topics else frozenset(), path=feed.path, line=line, format=feed.format,
    )


# ------------------------------------------------------------------ reader


def _bozo_reason(parsed) -> str:
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc else "not well-formed"


def _no_items_reason(parsed, data: bytes) -> str:
    """What is wrong with a feed that gave no items: it has none, or what it has is lost to bad markup.

    A feed that closes properly and holds no item tags has no items, however
    ill-formed (an undefined entity in its title); one with item tags, or cut
    off before its end, lost them.
    """
    has_items = bool(item_spans(data))
    ends = bool(_FEED_END_RE.search(data[-4096:]))
    if parsed.bozo and (has_items or not parsed.get("feed") or not ends):
        return f"malformed feed, no items recovered: {_bozo_reason(parsed)}"
    if parsed.get("version") or parsed.get("feed"):
        malformed = f" (and it is not well-formed: {_bozo_reason(parsed)})" if parsed.bozo else ""
        return f"feed has no items: nothing to index{malformed}"
    return "not a feed: no RSS, Atom or CDF structure"


def _feed_info(path: str, parsed, data: bytes) -> FeedInfo:
    version = parsed.get("version", "") or ""
    root = _root_element(head_text(data[:HEAD_BYTES]))
    kind = "atom" if version.startswith("atom") or (not version and root.endswith("feed")) else "rss"
    channel = parsed.get("feed", {})
    link = channel.get("link", "") or ""
    source = _title(channel) or hostname(link)
    return FeedInfo(path=path, source=source, link=link, format=kind)


def _items(path: str, parsed, data: bytes) -> Iterator[Article | Rejected]:
    feed = _feed_info(path, parsed, data)
    spans = item_spans(data)
    aligned = len(spans) == len(parsed.entries)
    for number, entry in enumerate(parsed.entries, 1):
        span = spans[number - 1] if aligned else ItemSpan(0, True)
        if parsed.bozo and not span.closed:
            yield Rejected(path, span.line, f"item {number}: truncated (no closing tag in a malformed feed)")
            continue
        try:
            yield _item(entry, feed, number, span.line)
        except Exception as exc:  # noqa: BLE001 - one odd item must not lose the others
            yield Rejected(path, span.line, f"item {number}: {type(exc).__name__}: {exc}")


_ENCODING_DECL_RE = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)[\"'][\w.:-]+[\"']")


def _as_utf8(data: bytes) -> bytes:
    """The feed re-encoded as UTF-8 after robust decoding, for feeds whose bytes contradict their declaration."""
    text = decode_html(data).encode("utf-8")
    return _ENCODING_DECL_RE.sub(rb'\1"utf-8"', text, count=1)


def _undeclared_legacy(data: bytes) -> bool:
    """Not UTF-8, and nothing says what it is: feedparser would guess windows-1252 and index mojibake."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return not declared_charset(data)
    return False


def _parse(data: bytes):
    """feedparser on the bytes; on a decoding failure, once more on a robustly re-decoded copy.

    A feed in an undeclared legacy encoding (KOI8-R, cp1251, ...) is decoded
    by charset detection first.
    """
    if _undeclared_legacy(data):
        data = _as_utf8(data)
    # A file object, never the bytes themselves: feedparser treats a bare string as a path or URL.
    try:
        return feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=True)
    except UnicodeError:
        return feedparser.parse(io.BytesIO(_as_utf8(data)), sanitize_html=True, resolve_relative_uris=True)


def read_feed(path: str, data: bytes) -> Iterator[Article | Rejected]:
    """Every item of an RSS/Atom file as an Article; broken items and unusable feeds as Rejected."""
    try:
        parsed = _parse(data)
    except Exception as exc:  # noqa: BLE001
        yield Rejected(path, 0, f"unreadable feed: {type(exc).__name__}: {exc}")
        return
    if not parsed.entries:
        yield Rejected(path, 0, _no_items_reason(parsed, data))
        return
    yield from _items(path, parsed, data)
