"""What a saved page says about itself: <meta>, <link rel=canonical>, JSON-LD, and the lines under its <h1>."""

from __future__ import annotations

import json
import re

from search.ingest.formats.urls import absolute_url, canonical_url
from search.ingest.text import split_authors, squash


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
_ARTICLE_OG_TYPES = {"article", "news", "newsarticle", "news_article", "blog", "blogpost", "blogposting"}


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
        return bool(self.article_ld) or self.get("og:type").lower() in _ARTICLE_OG_TYPES or bool(
            self.get("article:published_time"))

    @property
    def is_listing(self) -> bool:
        return not self.is_article and any(_ld_types(o) & _LISTING_TYPES for o in self.ld)


def _ld_url(obj: dict) -> str:
    value = obj.get("url") or obj.get("mainEntityOfPage") or ""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or ""
    return value if isinstance(value, str) else ""


def ld_names(value) -> list[str]:
    """Names out of a JSON-LD Person/Organization value (string, object or list)."""
    if isinstance(value, list):
        return [n for v in value for n in ld_names(v)]
    if isinstance(value, dict):
        value = value.get("name", "")
    return split_authors(value) if isinstance(value, str) else []


def ld_strings(value) -> list[str]:
    if isinstance(value, list):
        return [s for v in value for s in ld_strings(v)]
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    return []


def _following_elements(elem, levels: int = 2):
    """Elements after ``elem`` in reading order: its siblings, then its parents' siblings."""
    for _ in range(levels + 1):
        if elem is None:
            return
        yield from elem.itersiblings()
        elem = elem.getparent()


def near_headline_lines(tree, limit: int = 600) -> list[str]:
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
