"""Reader for saved HTML article pages.

Main text and metadata come from trafilatura; the publication date comes only
from the page's own evidence (metadata, JSON-LD, URL, a visible date line) and
never from the file or the clock, so a page without one stays undated.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

import lxml.html
import trafilatura
from lxml import etree

from search.ingest.decode import HEAD_BYTES, decode_html, head_text, skip_prolog
from search.ingest.formats.pagedates import DATE_ONLY_RE, page_date
from search.ingest.formats.pagemeta import PageMeta, ld_names, ld_strings, near_headline_lines
from search.ingest.formats.urls import hostname
from search.ingest.text import BY_RE, split_authors, squash
from search.model import Article, Rejected

FORMAT = "html"
MIN_TEXT = 200  # chars of main text a page needs when nothing marks it as an article
MIN_TEXT_MARKED = 60  # ... and when its metadata says it is one

# ---------------------------------------------------------------- detection

_HTML_START_RE = re.compile(
    r"\s*<(?:!doctype\s+html|html|head|body|meta|title|base|link|style|script|noscript"
    # a bare dump of an article's markup, without the document around it
    r"|div|article|section|main|header|p|h1|h2|table|center|font)[\s>/]",
    re.I,
)


def looks_like_html(head: bytes) -> bool:
    """True when the file starts like an HTML document or an HTML dump, whatever it is called.

    Decided by the first element after any XML declaration or comment (a
    browser's "saved from url" note), so SGML such as Reuters' <REUTERS><BODY>
    and feeds are not taken for pages.
    """
    text = head_text(head[:HEAD_BYTES])
    return bool(_HTML_START_RE.match(text, skip_prolog(text)))


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
    return short and (_BYLINE_RE.match(line) is not None or DATE_ONLY_RE.match(line.strip(" .|")) is not None)


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
    names = ld_names(publisher) if isinstance(publisher, dict | list) else []
    return (meta.get("og:site_name", "application-name") or (names[0] if names else "")
            or _title_site(tree) or squash(getattr(doc, "sitename", "") or "") or hostname(url))


def _byline_authors(tree) -> list[str]:
    """Names from a short "By ..." line right under the headline."""
    for line in near_headline_lines(tree, limit=400):
        if len(line) <= 100 and BY_RE.match(line):
            return split_authors(line)
    return []


def _authors(meta: PageMeta, tree, doc) -> list[str]:
    """Authors: JSON-LD, trafilatura's byline finder, <meta>, then a "By" line under the <h1>."""
    names = ld_names(meta.article_ld.get("author"))
    names = names or split_authors(getattr(doc, "author", "") or "")
    names = names or split_authors(meta.get("author", "article:author", "byl", "parsely-author", "dc.creator"))
    names = names or _byline_authors(tree)
    return [n for n in names if not n.lower().startswith(("http://", "https://"))]


def _topics(meta: PageMeta, tree) -> list[str]:
    """Section and tags as the page states them (metadata, rel=tag links), not nav-menu guesses."""
    values = ld_strings(meta.article_ld.get("articleSection")) + [meta.get("article:section")]
    values += ld_strings(meta.article_ld.get("keywords")) + ld_strings(meta.get("news_keywords"))
    values += ld_strings(meta.get("article:tag"))
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
