"""Text helpers: the one whitespace squasher, HTML fragments to paragraphs, bylines to names."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table", "ul", "ol",
        "dl", "dt", "dd", "section", "article", "header", "footer", "aside", "main", "address", "hr", "br",
        "figure", "center",
    }
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "figcaption", "button",
              "form", "nav", "template", "video", "audio", "picture", "img")
# C0/C1 control characters except tab and newline; also DEL and zero-width junk.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")


def drop_controls(text: str) -> str:
    """Control characters and zero-width junk become spaces; tabs and newlines stay."""
    return _CONTROL_RE.sub(" ", text)


def squash(text: str) -> str:
    """One line of text: controls dropped, every run of whitespace (newlines too) one space, no edges."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # already one line: printable text has no controls and no whitespace but " " (most values)
    return " ".join(drop_controls(text).split())


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


BY_RE = re.compile(r"^\s*(?:written\s+|posted\s+)?by[:\s]+", re.I)
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
    text = BY_RE.sub("", squash(text or ""))
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
