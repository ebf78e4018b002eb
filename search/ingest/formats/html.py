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
from search.ingest.formats.layouttables import unwrap_layout_tables
from search.ingest.formats.pagedates import DATE_ONLY_RE, page_date
from search.ingest.formats.pagemeta import PageMeta, ld_names, ld_strings, near_headline_lines
from search.ingest.formats.urls import canonical_url, hostname
from search.ingest.text import BY_RE, drop_controls, split_authors, squash
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


_DOCUMENT_RE = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)


def looks_like_html(head: bytes) -> bool:
    """True when the file starts like an HTML document or an HTML dump, whatever it is called.

    Decided by the first element after any XML declaration or comment (a
    browser's "saved from url" note), so SGML such as Reuters' <REUTERS><BODY>
    and feeds are not taken for pages.  Markup that is not a page element
    (a PHP warning's ``<br /><b>Warning</b>``) may come first when the
    document itself starts further on.
    """
    text = head_text(head[:HEAD_BYTES])
    start = skip_prolog(text)
    return bool(_HTML_START_RE.match(text, start)) or (
        text.startswith("<", start) and bool(_DOCUMENT_RE.search(text, start)))


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


_OUTSIDE_FURNITURE = "[not(ancestor::nav)][not(ancestor::footer)][not(ancestor::aside)]"
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
PARAGRAPH_WEIGHT = 150  # a substantial paragraph: 150 Latin characters ...
CJK_WEIGHT = 3  # ... where one Chinese, Japanese or Korean character says about as much as three


def _weight(text: str) -> int:
    """Length of a paragraph in Latin-character terms, so dense CJK prose is not taken for a teaser."""
    text = squash(text)
    return len(text) + (CJK_WEIGHT - 1) * len(_CJK_RE.findall(text))


def _br_runs(tree) -> list[str]:
    """Text between <br>s of an element that uses them as paragraph breaks (no <p> at all)."""
    runs: list[str] = []
    for elem in tree.xpath(f"//*[count(br) >= 2]{_OUTSIDE_FURNITURE}"):
        chunk = [elem.text or ""]
        for child in elem:
            if child.tag == "br":
                runs.append("".join(chunk))
                chunk = []
            elif isinstance(child.tag, str):
                chunk.append(child.text_content())
            chunk.append(child.tail or "")
        runs.append("".join(chunk))
    return runs


def _standalone_paragraphs(tree) -> int:
    """Substantial paragraphs (<p>, or <br>-separated runs) that are not teaser summaries next to a linked headline."""
    count = sum(_weight(run) >= PARAGRAPH_WEIGHT for run in _br_runs(tree))
    for para in tree.xpath(f"//p{_OUTSIDE_FURNITURE}"):
        if _weight(para.text_content()) < PARAGRAPH_WEIGHT:
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
_STAMP_WORD_RE = re.compile(r"^(?:published|updated|posted|last updated|first published|modified)\b:?\s*", re.I)
_DATE_TOKEN_RE = re.compile(r"\d{1,2}[:.]\d{2}|\b\d{4}\b|\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b")
_STAMP_FILLER = frozenset({"on", "at", "am", "pm", "a.m.", "p.m.", "the", "of", "and", "|", "-", "by"})


def _is_byline(line: str) -> bool:
    """ "By Jana Koller" or "By JANE ROE and Tim Orr | Reuters": names after "By", not prose ("By noon the ...")."""
    if not BY_RE.match(line) or len(line) > 120:
        return False
    words = [w for w in re.split(r"[\s,;|&]+", BY_RE.sub("", line)) if w and w.lower() not in ("and", "of", "the")]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.75 * len(words) and len(words) <= 12


def _is_stamp(line: str) -> bool:
    """ "Published 3 March 2025", "Updated: 10:42 GMT": a keyword then a date or time, next to nothing else."""
    match = _STAMP_WORD_RE.match(line)
    if not match or len(line) > 100 or not _DATE_TOKEN_RE.search(line):
        return False
    rest = DATE_ONLY_RE.sub("", _DATE_TOKEN_RE.sub(" ", line[match.end():]))
    prose = [w for w in rest.split() if w.isalpha() and w.islower() and w.lower() not in _STAMP_FILLER]
    return len(prose) <= 2


def _is_boilerplate(line: str, title: str) -> bool:
    """Lines trafilatura sometimes keeps that are page furniture, not story.

    Bylines and date stamps count only when they look like one: a story
    paragraph may well begin "By noon ..." or "Published figures show ...".
    """
    if line == title or _BOILERPLATE_RE.match(line) or _RIGHTS_RE.match(line):
        return True
    date_only = len(line) <= 140 and DATE_ONLY_RE.match(line.strip(" .|")) is not None
    return _is_byline(line) or _is_stamp(line) or date_only


def clean_body(text: str, title: str) -> str:
    """trafilatura's one-block-per-line text → blank-line separated paragraphs without furniture."""
    lines = [squash(line) for line in (text or "").splitlines()]
    return "\n\n".join(line for line in lines if line and not _is_boilerplate(line, title))


# ------------------------------------------------------------------ reader

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


_PARSER = lxml.html.HTMLParser(remove_comments=True)


def _parse(page: str):
    """lxml tree of the whole document, or None when there is no markup to speak of.

    Comments go: trafilatura parses without them, and on a tree that keeps
    them it loses the text that follows one inside a paragraph.  Control
    characters go too: one BEL made trafilatura's XML conversion fail and
    the whole page come out empty.
    """
    try:
        return lxml.html.document_fromstring(drop_controls(_XML_DECL_RE.sub("", page)), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None


def _extract(tree, url: str, recall: bool = False):
    """trafilatura's main-text extraction in its balanced default mode, its own date search switched off.

    Not ``favor_precision``: on real pages it was the largest single cause of
    lost text (a 6,811-character article cut to 44), and on the pages in
    bench/eval_web.py it lowers recall without raising precision; our own
    furniture filter (clean_body) does the precision work.  ``recall`` is the
    second try for a page whose balanced extraction is too short to keep.
    """
    tree = copy.deepcopy(tree)
    unwrap_layout_tables(tree)
    return trafilatura.bare_extraction(
        tree, url=url or None, with_metadata=True, include_comments=False,
        include_tables=True, include_images=False, include_links=False, favor_recall=recall,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )


def _body(doc, title: str) -> str:
    return clean_body(getattr(doc, "text", "") or "", title) if doc is not None else ""


def _main_text(tree, url: str, minimum: int):
    """trafilatura's document; a recall-mode second pass when the first gives too little text to keep."""
    doc = _extract(tree, url)
    if len(_body(doc, "")) < minimum:
        again = _extract(tree, url, recall=True)
        if len(_body(again, "")) > len(_body(doc, "")):
            return again
    return doc


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


def _article(path: str, data: bytes, url: str) -> Article | Rejected:
    page = decode_html(data)
    tree = _parse(page)
    if tree is None:
        return Rejected(path, 0, "not HTML: no markup could be parsed")
    meta = PageMeta(tree, page)
    url = meta.canonical or canonical_url(url)
    doc = _main_text(tree, url, MIN_TEXT_MARKED if meta.is_article else MIN_TEXT)
    source = _source(meta, tree, doc, url)
    title = _title(meta, doc, source)
    body = _body(doc, title)
    reason = not_article_reason(meta, tree, title, body)
    if reason:
        return Rejected(path, 0, reason)
    topics = _topics(meta, tree)
    return Article(
        body=body, title=title, date=page_date(meta, tree, url, page), source=source, url=url, id=url,
        authors=_authors(meta, tree, doc), topics=topics, given=frozenset({"topics"}) if topics else frozenset(),
        path=path, line=1, format=FORMAT,
    )


def read_html(path: str, data: bytes, url: str = "") -> Iterator[Article | Rejected]:
    """One saved page → one Article, or one Rejected saying why it is not one.

    ``url`` is where the page was fetched from (a crawl record's target URI):
    the article's URL when the page names no canonical one, and date evidence.
    """
    if not data.strip():
        yield Rejected(path, 0, "empty file")
        return
    try:
        yield _article(path, data, url)
    except Exception as exc:  # noqa: BLE001 - a bad page must never stop the run
        yield Rejected(path, 0, f"unreadable HTML page: {type(exc).__name__}: {exc}")
