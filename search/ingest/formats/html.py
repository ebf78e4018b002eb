"""Reader for saved HTML article pages.

Main text and metadata come from trafilatura; the publication date comes only
from the page's own evidence (metadata, JSON-LD, URL, a visible date line) and
never from the file or the clock, so a page without one stays undated.
"""

from __future__ import annotations

import codecs
import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import lxml.html
import trafilatura
from charset_normalizer import from_bytes
from dateutil import parser as dateparser
from htmldate import find_date
from lxml import etree

from search.ingest.formats.urls import absolute_url, canonical_url, hostname
from search.model import Article, Rejected

FORMAT = "html"
HEAD_BYTES = 4096
MIN_TEXT = 200  # chars of main text a page needs when nothing marks it as an article
MIN_TEXT_MARKED = 60  # ... and when its metadata says it is one
MIN_YEAR = 1900

# ---------------------------------------------------------------- detection

# UTF-32 before UTF-16: their little-endian marks share a prefix.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_PROLOG_RE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_HTML_START_RE = re.compile(
    r"\s*<(?:!doctype\s+html|html|head|body|meta|title|base|link|style|script|noscript"
    # a bare dump of an article's markup, without the document around it
    r"|div|article|section|main|header|p|h1|h2|table|center|font)[\s>/]",
    re.I,
)


def head_text(head: bytes) -> str:
    """Decode the first bytes of a file just well enough to sniff its markup."""
    for bom, encoding in _BOMS[1:]:
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, "ignore").lstrip("\ufeff")
    return head.decode("utf-8", "ignore").lstrip("\ufeff")


def skip_prolog(text: str) -> int:
    """Offset of the first thing after XML declarations, processing instructions and comments."""
    pos = 0
    while (match := _PROLOG_RE.match(text, pos)) and match.end() > pos:
        pos = match.end()
    return pos


def looks_like_html(head: bytes) -> bool:
    """True when the file starts like an HTML document or an HTML dump, whatever it is called.

    Decided by the first element after any XML declaration or comment (a
    browser's "saved from url" note), so SGML such as Reuters' <REUTERS><BODY>
    and feeds are not taken for pages.
    """
    text = head_text(head[:HEAD_BYTES])
    return bool(_HTML_START_RE.match(text, skip_prolog(text)))


# ----------------------------------------------------------------- decoding

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""",
                         re.I)
# What browsers actually use for these labels (WHATWG encoding standard).
_BROWSER_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "iso-8859-9": "cp1254", "tis-620": "cp874"}
_MOJIBAKE_RE = re.compile("[ÃÂ][\u0080-\u00bf]|â€[\u0080-\u00bf\u2018-\u201e\u2122\u0153\u02dc\u00a6]")


def declared_charset(data: bytes) -> str:
    """The charset named by a <meta> or XML declaration near the top, lowercased."""
    match = _CHARSET_RE.search(data[:HEAD_BYTES])
    if not match:
        return ""
    label = (match.group(1) or match.group(2)).decode("ascii", "ignore").lower()
    return _BROWSER_ALIASES.get(label, label)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252/latin-1 somewhere upstream ("cafÃ©")."""
    found = len(_MOJIBAKE_RE.findall(text))
    if found < 2:
        return text
    for wrong in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
        if len(_MOJIBAKE_RE.findall(fixed)) < found:
            return fixed
    return text


def _decode_strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _guess_decode(data: bytes) -> str | None:
    """charset_normalizer's guess; among equally good guesses, the web's usual cp1252."""
    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    ties = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in ties):
        return _decode_strict(data, "cp1252") or str(best)
    return str(best)


def decode_html(data: bytes) -> str:
    """Decode page bytes, trusting the bytes over the declared charset.

    Valid UTF-8 wins even when the page claims otherwise (the usual lie); then
    the declared charset, then charset_normalizer's guess, then cp1252.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    text = _decode_strict(data, "utf-8")
    declared = declared_charset(data)
    if text is None and declared and not declared.startswith("utf"):
        text = _decode_strict(data, declared)
    if text is None:
        text = _guess_decode(data)
    if text is None:
        text = _decode_strict(data, "cp1252") or data.decode("latin-1")
    return fix_mojibake(text)


# ------------------------------------------------------------ text helpers

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table", "ul", "ol",
        "dl", "dt", "dd", "section", "article", "header", "footer", "aside", "main", "address", "hr", "br",
        "figure", "center",
    }
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "figcaption", "button",
              "form", "nav", "template", "video", "audio", "picture", "img")
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def squash(text: str) -> str:
    """Collapse runs of whitespace inside one paragraph."""
    return _SPACE_RE.sub(" ", text.replace("\n", " ")).strip()


def _blocks(element, out: list[str], buf: list[str]) -> None:
    """Walk a fragment, cutting paragraphs at block-level elements."""
    tag = element.tag if isinstance(element.tag, str) else ""
    block = tag.lower() in _BLOCK_TAGS
    if block:
        out.append("".join(buf))
        buf.clear()
    if element.text and tag:
        buf.append(element.text)
    for child in element:
        _blocks(child, out, buf)
    if block:
        out.append("".join(buf))
        buf.clear()
    if element.tail:
        buf.append(element.tail)


def fragment_text(markup: str) -> str:
    """Plain text of an HTML fragment: paragraphs separated by blank lines, entities decoded.

    Feed items carry markup (``content:encoded``); the index wants prose, and
    captions, scripts and embedded widgets are not prose.
    """
    if not markup or not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return squash(markup)
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    etree.strip_elements(root, etree.Comment, with_tail=False)
    out: list[str] = []
    buf: list[str] = []
    _blocks(root, out, buf)
    out.append("".join(buf))
    return "\n\n".join(p for p in (squash(chunk) for chunk in out) if p)


def plain_paragraphs(text: str) -> str:
    """Normalise plain text to paragraphs separated by single blank lines."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return "\n\n".join(p for p in (squash(x) for x in paragraphs) if p)


_BY_RE = re.compile(r"^\s*(?:written\s+|posted\s+)?by[:\s]+", re.I)
_ROLE_RE = re.compile(
    r"\b(?:staff|writer|reporter|correspondent|editor|contributor|columnist|reporting|newsroom|desk|"
    r"agency|agencies|press|wire|news service)\b",
    re.I,
)
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:;|\band\b|&|\|)\s*", re.I)


def _name_case(name: str) -> str:
    """ "JANE ROE" (wire bylines) → "Jane Roe"; names in mixed case are left alone."""
    return name.title() if name.isupper() and len(name) > 3 else name


def split_authors(text: str) -> list[str]:
    """Split a byline ("By A and B", "A; B", "A, B") into names."""
    text = _BY_RE.sub("", squash(text or ""))
    parts = [p for p in _AUTHOR_SPLIT_RE.split(text) if p]
    names: list[str] = []
    for part in parts:
        pieces = [x.strip() for x in part.split(",")]
        # "Doe, Jane" is one name; "Jane Doe, John Roe" are two.
        if len(pieces) > 1 and all(" " in x or _ROLE_RE.search(x) for x in pieces if x):
            names.extend(x for x in pieces if x and not _ROLE_RE.search(x))
        else:
            names.append(part.strip(" ,"))
    names = [_name_case(n) for n in names if n and "@" not in n and len(n) <= 80]
    if len(names) > 1:  # "Jane Doe | Staff writer": the role is not a second author
        names = [n for n in names if not _ROLE_RE.search(n)] or names[:1]
    return list(dict.fromkeys(names))


# ------------------------------------------------------------ page metadata


def _json_ld_objects(tree) -> list[dict]:
    """All JSON-LD objects of the page, flattened out of lists and @graph."""
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            found.append(node)
            walk(node.get("@graph", []))

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text or "", strict=False))
        except (ValueError, RecursionError):
            continue
    return found


def _ld_types(obj: dict) -> set[str]:
    kind = obj.get("@type", [])
    return {str(k).lower() for k in (kind if isinstance(kind, list) else [kind])}


_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "scholarlyarticle",
                  "techarticle", "liveblogposting", "report", "posting", "socialmediaposting"}
_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}


class PageMeta:
    """The page's own statements about itself: <meta>, <link rel=canonical>, JSON-LD."""

    def __init__(self, tree, text: str) -> None:
        self.meta: dict[str, str] = {}
        for elem in tree.iter("meta"):
            key = (elem.get("property") or elem.get("name") or elem.get("itemprop") or "").strip().lower()
            value = elem.get("content") or elem.get("datetime") or ""
            if key and value.strip():
                self.meta.setdefault(key, value.strip())
        self.ld = _json_ld_objects(tree)
        self.article_ld = next((o for o in self.ld if _ld_types(o) & _ARTICLE_TYPES), {})
        self.canonical = self._canonical(tree, text)

    def get(self, *keys: str) -> str:
        return next((self.meta[k] for k in keys if self.meta.get(k)), "")

    def _canonical(self, tree, text: str) -> str:
        """Canonical link, og:url, JSON-LD url, then a browser's "saved from" note."""
        saved = re.search(r"<!--\s*saved from url=\(\d+\)(\S+)\s*-->", text[:2048], re.I)
        base = self.get("og:url") or (saved.group(1) if saved else "")
        candidates = [href for href in tree.xpath('//link[@href][contains(concat(" ", '
                                                    'translate(@rel, "CANONICAL", "canonical"), " "), '
                                                    '" canonical ")]/@href')]
        candidates += [self.get("og:url"), self.get("twitter:url"), _ld_url(self.article_ld)]
        candidates += [saved.group(1) if saved else ""]
        for href in candidates:
            url = canonical_url(absolute_url(href, base))
            if url.startswith(("http://", "https://")):
                return url
        return ""

    @property
    def is_article(self) -> bool:
        """Does the page's metadata call it an article?"""
        return bool(self.article_ld) or self.get("og:type").lower() == "article" or bool(
            self.get("article:published_time"))

    @property
    def is_listing(self) -> bool:
        return not self.is_article and any(_ld_types(o) & _LISTING_TYPES for o in self.ld)


def _ld_url(obj: dict) -> str:
    value = obj.get("url") or obj.get("mainEntityOfPage") or ""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or ""
    return value if isinstance(value, str) else ""


def _ld_names(value) -> list[str]:
    """Names out of a JSON-LD Person/Organization value (string, object or list)."""
    if isinstance(value, list):
        return [n for v in value for n in _ld_names(v)]
    if isinstance(value, dict):
        value = value.get("name", "")
    return split_authors(value) if isinstance(value, str) else []


def _ld_strings(value) -> list[str]:
    if isinstance(value, list):
        return [s for v in value for s in _ld_strings(v)]
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    return []


# --------------------------------------------------------------------- dates

_TZINFOS = {"UTC": 0, "GMT": 0, "Z": 0, "BST": 3600, "CET": 3600, "CEST": 7200, "EET": 7200, "EEST": 10800,
            "EST": -18000, "EDT": -14400, "CST": -21600, "CDT": -18000, "MST": -25200, "MDT": -21600,
            "PST": -28800, "PDT": -25200, "IST": 19800, "JST": 32400, "AEST": 36000, "AEDT": 39600}
_PUBLISHED_META = ("article:published_time", "og:published_time", "article:published", "datepublished",
                   "publishdate", "pubdate", "publish-date", "publish_date", "date", "dc.date.issued",
                   "dcterms.issued", "dc.date", "dcterms.date", "dcterms.created", "sailthru.date",
                   "parsely-pub-date", "cxenseparse:recs:publishtime", "originalpublicationdate")


_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]\d\d|2[01]\d\d)")
_EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
_NO_DAY = datetime(2000, 1, 1)  # fills missing parts; dateutil's own default would be today


def parse_date(value: str) -> datetime | None:
    """Any date string → aware UTC datetime, or None.

    Naive times are taken as UTC, a bare date as that day, a month as its
    first day.  A value without a year is no date at all: missing parts are
    never filled in from today.
    """
    value = squash(str(value or ""))
    if _EPOCH_RE.match(value):
        return datetime.fromtimestamp(int(value[:10]), UTC)
    if not _YEAR_RE.search(value) and not re.match(r"^\d{8}", value):
        return None
    try:
        parsed = dateparser.parse(value, tzinfos=_TZINFOS, default=_NO_DAY)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None or parsed.year < MIN_YEAR:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _metadata_date(meta: PageMeta, tree) -> datetime | None:
    """Publication timestamp stated in metadata (keeps time of day and zone)."""
    candidates = [meta.article_ld.get("datePublished"), meta.article_ld.get("dateCreated")]
    candidates += [meta.get(key) for key in _PUBLISHED_META]
    candidates += tree.xpath('//*[@itemprop="datePublished"]/@datetime|//*[@itemprop="datePublished"]/@content')
    candidates += tree.xpath("//time[@pubdate]/@datetime")
    for value in candidates:
        if isinstance(value, str) and (when := parse_date(value)):
            return when
    return None


_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_EXPR = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
              r"|\d{4}-\d{2}-\d{2})")
_DATELINE_RE = re.compile(rf"\b{_DATE_EXPR}\b", re.I)
# A line that is nothing but a date (and maybe weekday and time): page furniture, not story.
_DATE_ONLY_RE = re.compile(
    rf"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?{_DATE_EXPR}"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:am|pm)?(?:\s+[a-z]{2,5})?)?$",
    re.I,
)
_COPYRIGHT_RE = re.compile(r"(?:©|&copy;|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?(\d{4})", re.I)


_CLOCK_RE = re.compile(r"\b(\d{1,2})[:.](\d{2})\s*([ap]\.?m\.?)?(?:\s*\(?([A-Za-z]{2,5})\)?)?", re.I)
_PUBLISHED_WORD_RE = re.compile(r"publish|posted|first", re.I)
_UPDATED_WORD_RE = re.compile(r"updat|modif|edited|revised", re.I)


def _following_elements(elem, levels: int = 2):
    """Elements after ``elem`` in reading order: its siblings, then its parents' siblings."""
    for _ in range(levels + 1):
        if elem is None:
            return
        yield from elem.itersiblings()
        elem = elem.getparent()


def _near_headline_lines(tree, limit: int = 600) -> list[str]:
    """Text of the elements just after the <h1>, where bylines and date lines sit."""
    heads = tree.xpath("//h1")
    chunks: list[str] = []
    for node in _following_elements(heads[0]) if heads else ():
        if not isinstance(node.tag, str) or node.tag in ("script", "style"):
            continue
        if text := squash(node.text_content()):
            chunks.append(text)
        if sum(map(len, chunks)) >= limit:
            break
    return chunks


def _clock(day: datetime, line: str) -> datetime | None:
    """``day`` at the time of day the line gives, if it also names a known zone ("11:52 PM EDT")."""
    match = _CLOCK_RE.search(line)
    zone = (match.group(4) or "").upper() if match else ""
    if zone not in _TZINFOS:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    half = (match.group(3) or "").lower().replace(".", "")
    hour = hour % 12 + 12 if half == "pm" else hour % 12 if half == "am" else hour
    if hour > 23 or minute > 59:
        return None
    local = day.replace(hour=hour, minute=minute, second=0, tzinfo=timezone(timedelta(seconds=_TZINFOS[zone])))
    return local.astimezone(UTC)


def _dateline(tree) -> tuple[datetime, bool] | None:
    """Date of the date line under the headline, and whether it carried a zoned time of day.

    A "Published ..." line beats an "Updated ..." one.
    """
    lines = [line for line in _near_headline_lines(tree) if len(line) <= 160 and _DATELINE_RE.search(line)]
    lines.sort(key=lambda line: (not _PUBLISHED_WORD_RE.search(line), bool(_UPDATED_WORD_RE.search(line))))
    for line in lines:
        day = parse_date(_DATELINE_RE.search(line).group(0).replace(".", ""))
        if day is None:
            continue
        day = day.replace(hour=0, minute=0, second=0, microsecond=0)
        precise = _clock(day, line)
        return (precise, True) if precise else (day, False)
    return None


def _htmldate(tree, url: str, page: str) -> datetime | None:
    """htmldate restricted to page evidence (no free-text trawl, no copyright-year guess)."""
    found = find_date(copy.deepcopy(tree), extensive_search=False, original_date=True, url=url or None,
                      min_date="1995-01-01")
    when = parse_date(found) if found else None
    if when is None:
        return None
    if (when.month, when.day) == (1, 1) and any(int(y) == when.year for y in _COPYRIGHT_RE.findall(page)):
        jan1 = re.compile(rf"{when.year}-01-01|\b1(?:st)? Jan|Jan\w*\.? 1\b|01/01/{when.year}", re.I)
        if not jan1.search(page):
            return None  # a copyright year dressed up as a date
    return when


def page_date(meta: PageMeta, tree, url: str, page: str) -> datetime | None:
    """Publication date from the page's own evidence, or None; never the file's or today's date.

    Order: metadata timestamps, then a date line that gives a zoned time (if it
    agrees with htmldate's day), then htmldate's day (URL, date elements), then
    the date line's day.
    """
    if when := _metadata_date(meta, tree):
        return when
    day = _htmldate(tree, url, page)
    line = _dateline(tree)
    if line and line[1] and (day is None or abs(line[0] - day) < timedelta(days=2)):
        return line[0]
    return day or (line[0] if line else None)


# ---------------------------------------------------------- not-an-article

_ERROR_TITLE_RE = re.compile(
    r"\b(?:404|410|not found|page (?:not found|does not exist|doesn't exist|cannot be found|can't be found)"
    r"|error page|no longer available|gone)\b",
    re.I,
)
_ERROR_TEXT_RE = re.compile(
    r"(?:page|article|content) you (?:are|were|'re) looking for|(?:could not|cannot|can't|couldn't) be found"
    r"|does(?: not|n't) exist|has been (?:removed|moved)|error 404|404 error",
    re.I,
)


def _linked_headlines(tree) -> int:
    """Headings that are links: the teasers an index page is made of."""
    return len(tree.xpath("//*[self::h2 or self::h3 or self::h4][.//a[@href]][not(ancestor::nav)]"
                          "[not(ancestor::footer)][not(ancestor::aside)]"))


def _standalone_paragraphs(tree) -> int:
    """Substantial paragraphs that are not teaser summaries next to a linked headline."""
    count = 0
    for para in tree.xpath("//p[not(ancestor::nav)][not(ancestor::footer)][not(ancestor::aside)]"):
        if len(squash(para.text_content())) < 150:
            continue
        box = para.getparent()
        teaser = box is not None and box.xpath("./*[self::h2 or self::h3 or self::h4][.//a[@href]]")
        teaser = teaser or para.xpath("ancestor::li[.//*[self::h2 or self::h3 or self::h4]//a]")
        count += not teaser
    return count


def _link_share(tree, body: str) -> float:
    """Share of the main text that is the text of links: high on lists of stories."""
    anchors = {squash(a.text_content()) for a in tree.iter("a")}
    anchors = {a for a in anchors if len(a) >= 20}
    linked = sum(len(a) for a in anchors if a in body)
    return min(1.0, linked / len(body)) if body else 0.0


def not_article_reason(meta: PageMeta, tree, title: str, body: str) -> str | None:
    """Why this page is not an article (error page, index page, no text), or None."""
    heading = " ".join([title, tree.findtext(".//title") or "", squash(" ".join(tree.xpath("//h1//text()")))])
    if not meta.is_article and len(body) < 1500 and (
        _ERROR_TITLE_RE.search(heading) or (len(body) < 600 and _ERROR_TEXT_RE.search(body))
    ):
        return "not an article: error page (not found)"
    teasers = _linked_headlines(tree)
    if not meta.is_article and (meta.is_listing or teasers >= 4) and _standalone_paragraphs(tree) < 3:
        return f"not an article: index/listing page ({teasers} linked headlines)"
    share = _link_share(tree, body)
    if not meta.is_article and share >= 0.5:
        return f"not an article: index/listing page ({share:.0%} of its text is link titles)"
    minimum = MIN_TEXT_MARKED if meta.is_article else MIN_TEXT
    if len(body) < minimum:
        return f"not an article: too little main text ({len(body)} chars)"
    return None


# -------------------------------------------------------------- body text

_BOILERPLATE_RE = re.compile(
    r"^(?:advertisement|advert|sponsored|share(?: this(?: article| story)?)?(?: on \w+)?|share via.*|"
    r"(?:follow|like) us on .{0,40}|sign up for .{0,80}newsletter.{0,40}|subscribe.{0,60}|read more:?.{0,120}|"
    r"related(?: articles| stories| links)?:?|more on this story|skip to (?:main )?content|"
    r"(?:photo|image|picture|video)(?: credit)?: .{0,120}|copyright .{0,80}|© .{0,80}|[\W_]+)$",
    re.I,
)
# Rights notices at the foot of wire copy, whatever their length.
_RIGHTS_RE = re.compile(r"^(?:copyright|©|\(c\))\b.*(?:all rights reserved|may not be (?:published|reproduced))", re.I)
_BYLINE_RE = re.compile(r"^(?:by|written by|posted by|published|updated|posted|last updated)\b.{0,120}$", re.I)


def _is_boilerplate(line: str, title: str) -> bool:
    """Lines trafilatura sometimes keeps that are page furniture, not story."""
    if line == title or _BOILERPLATE_RE.match(line) or _RIGHTS_RE.match(line):
        return True
    short = len(line) <= 140
    return short and (_BYLINE_RE.match(line) is not None or _DATE_ONLY_RE.match(line.strip(" .|")) is not None)


def clean_body(text: str, title: str) -> str:
    """trafilatura's one-block-per-line text → blank-line separated paragraphs without furniture."""
    lines = [squash(line) for line in (text or "").splitlines()]
    return "\n\n".join(line for line in lines if line and not _is_boilerplate(line, title))


# ------------------------------------------------------------------ reader

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _parse(page: str):
    """lxml tree of the whole document, or None when there is no markup to speak of."""
    try:
        return lxml.html.document_fromstring(_XML_DECL_RE.sub("", page))
    except (etree.ParserError, ValueError):
        return None


_LAYOUT_CELL_CONTENT = ".//td//*[self::p or self::h1 or self::h2 or self::h3 or self::div or self::table or self::ul]"


def unwrap_layout_tables(tree) -> None:
    """Turn tables used for page layout into divs, so the nav column is not read as a data table.

    A table whose cells hold paragraphs, headings or other tables is layout,
    not data; old news sites are built that way.
    """
    for table in list(tree.iter("table")):
        if not table.xpath(_LAYOUT_CELL_CONTENT):
            continue
        own = [e for e in table.iter("tbody", "thead", "tfoot", "tr", "td", "th")
               if e.xpath("ancestor::table[1]")[0] is table]
        for elem in [table, *own]:
            elem.tag = "div"


def _extract(tree, url: str):
    """trafilatura's main-text extraction, its own date search switched off."""
    tree = copy.deepcopy(tree)
    unwrap_layout_tables(tree)
    return trafilatura.bare_extraction(
        tree, url=url or None, with_metadata=True, include_comments=False,
        include_tables=True, include_images=False, include_links=False, favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )


_TITLE_SPLIT_RE = re.compile(r"\s+[|\u2013\u2014-]\s+|\s+::\s+")  # separators around a site name


_SITE_SEP = r"\s*(?:[|\u2013\u2014:-]|::)\s*"


def strip_site_name(title: str, site: str) -> str:
    """"Headline | Site" or "Site - Headline" → "Headline"."""
    if not site:
        return title
    name = re.escape(site)
    stripped = re.sub(rf"{_SITE_SEP}{name}$", "", title, flags=re.I)
    stripped = re.sub(rf"^{name}{_SITE_SEP}", "", stripped, flags=re.I)
    return stripped.strip() or title


def _title(meta: PageMeta, doc, source: str) -> str:
    """Headline: JSON-LD headline, og:title, then trafilatura's title; without the site name."""
    headline = meta.article_ld.get("headline")
    title = squash(headline) if isinstance(headline, str) else ""
    title = title or squash(meta.get("og:title", "twitter:title")) or squash(getattr(doc, "title", "") or "")
    return strip_site_name(title, source)


def _title_site(tree) -> str:
    """The site in "Headline – Site" or "Site – Headline" <title>s, when the headline is the <h1>."""
    parts = _TITLE_SPLIT_RE.split(squash(tree.findtext(".//title") or ""))
    headlines = {squash(h.text_content()).lower() for h in tree.iter("h1")}
    if len(parts) > 1 and parts[0].lower() in headlines:
        return parts[-1]
    if len(parts) > 1 and parts[-1].lower() in headlines:
        return parts[0]
    return ""


def _source(meta: PageMeta, tree, doc, url: str) -> str:
    """Site name: og:site_name, JSON-LD publisher, <title> suffix, trafilatura's guess, host."""
    publisher = meta.article_ld.get("publisher") or {}
    names = _ld_names(publisher) if isinstance(publisher, dict | list) else []
    return (meta.get("og:site_name", "application-name") or (names[0] if names else "")
            or _title_site(tree) or squash(getattr(doc, "sitename", "") or "") or hostname(url))


def _byline_authors(tree) -> list[str]:
    """Names from a short "By ..." line right under the headline."""
    for line in _near_headline_lines(tree, limit=400):
        if len(line) <= 100 and _BY_RE.match(line):
            return split_authors(line)
    return []


def _authors(meta: PageMeta, tree, doc) -> list[str]:
    """Authors: JSON-LD, trafilatura's byline finder, <meta>, then a "By" line under the <h1>."""
    names = _ld_names(meta.article_ld.get("author"))
    names = names or split_authors(getattr(doc, "author", "") or "")
    names = names or split_authors(meta.get("author", "article:author", "byl", "parsely-author", "dc.creator"))
    names = names or _byline_authors(tree)
    return [n for n in names if not n.lower().startswith(("http://", "https://"))]


def _topics(meta: PageMeta, tree) -> list[str]:
    """Section and tags as the page states them (metadata, rel=tag links), not nav-menu guesses."""
    values = _ld_strings(meta.article_ld.get("articleSection")) + [meta.get("article:section")]
    values += _ld_strings(meta.article_ld.get("keywords")) + _ld_strings(meta.get("news_keywords"))
    values += _ld_strings(meta.get("article:tag"))
    values += [a.text_content() for a in tree.xpath('//a[contains(concat(" ", @rel, " "), " tag ")]')]
    return list(dict.fromkeys(squash(v) for v in values if v and squash(v)))[:20]


def _article(path: str, data: bytes) -> Article | Rejected:
    page = decode_html(data)
    tree = _parse(page)
    if tree is None:
        return Rejected(path, 0, "not HTML: no markup could be parsed")
    meta = PageMeta(tree, page)
    url = meta.canonical
    doc = _extract(tree, url)
    source = _source(meta, tree, doc, url)
    title = _title(meta, doc, source)
    body = clean_body(getattr(doc, "text", "") or "", title) if doc is not None else ""
    reason = not_article_reason(meta, tree, title, body)
    if reason:
        return Rejected(path, 0, reason)
    topics = _topics(meta, tree)
    return Article(
        body=body, title=title, date=page_date(meta, tree, url, page), source=source, url=url, id=url,
        authors=_authors(meta, tree, doc), topics=topics, given=frozenset({"topics"}) if topics else frozenset(),
        path=path, line=1, format=FORMAT,
    )


def read_html(path: str, data: bytes) -> Iterator[Article | Rejected]:
    """One saved page → one Article, or one Rejected saying why it is not one."""
    if not data.strip():
        yield Rejected(path, 0, "empty file")
        return
    try:
        yield _article(path, data)
    except Exception as exc:  # noqa: BLE001 - a bad page must never stop the run
        yield Rejected(path, 0, f"unreadable HTML page: {type(exc).__name__}: {exc}")
