"""Machine formats of a search: Atom feed, CSV export, OpenSearch description.

XML is built with ElementTree (it escapes for us); characters XML 1.0 cannot
carry (control characters from old wire copy) are dropped first, or feed
readers would reject the whole document.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from search.facets import FILTER_FACETS

from .present import safe_external_url

ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
RECORD_COLUMNS = ("id", "date", "title", "source", "url")
CSV_COLUMNS = (*RECORD_COLUMNS, *(name for name in FILTER_FACETS if name not in RECORD_COLUMNS), "score")
CSV_BATCH = 200  # rows per chunk written to the socket
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_text(value) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def _sub(parent: ET.Element, tag: str, text=None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(answer: dict, *, title: str, self_url: str, html_url: str, article_url, feed_id: str) -> bytes:
    """Valid Atom 1.0; ``article_url(id)`` gives each entry's absolute link."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    results = answer.get("results") or []
    dates = [r["date"] for r in results if r.get("date")]
    updated = max(dates) if dates else now_iso()
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "subtitle", f"{answer.get('total', 0)} matching articles")
    _sub(feed, "updated", updated)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=html_url)
    _sub(_sub(feed, "author"), "name", "newsearch")
    _sub(feed, "generator", "newsearch")
    for result in results:
        _atom_entry(feed, result, article_url(result["id"]), updated)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _atom_entry(feed: ET.Element, result: dict, link: str, fallback_updated: str) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", link)
    _sub(entry, "title", result.get("title") or "(untitled)")
    _sub(entry, "updated", result.get("date") or fallback_updated)
    if result.get("date"):
        _sub(entry, "published", result["date"])
    _sub(entry, "link", rel="alternate", type="text/html", href=link)
    original = safe_external_url(result.get("url"))
    if original:  # only http(s): a javascript:/data: link would run in a feed reader that shows it
        _sub(entry, "link", rel="via", href=original)
    if result.get("source"):
        _sub(_sub(entry, "author"), "name", result["source"])
    for topic in result.get("topics") or []:
        _sub(entry, "category", term=topic)
    _sub(entry, "summary", result.get("snippet") or "", type="html")


# -- CSV --------------------------------------------------------------------------------------
def csv_cell(value) -> str:
    """Lists joined by '; '; a leading formula character is defused (CSV injection in spreadsheets)."""
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(rows: Iterable[dict], labels=None) -> Iterator[str]:
    """Header, then rows in batches: streamed, never the whole export in memory.

    A coded facet (one the index has ``labels`` for) gets a ``<facet>_label`` column beside its codes."""
    coded = [col for col in CSV_COLUMNS if labels is not None and labels.table.get(col)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(f"{col}_label" for col in coded)])
    for count, row in enumerate(rows, start=1):
        writer.writerow([row.get("score", "") if col == "score" else csv_cell(row.get(col)) for col in CSV_COLUMNS]
                        + [csv_cell([labels.label(col, v) for v in row.get(col) or []]) for col in coded])
        if count % CSV_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- OpenSearch -------------------------------------------------------------------------------
def opensearch_description(*, html_template: str, atom_template: str, json_template: str, self_url: str,
                           icon_url: str) -> bytes:
    root = ET.Element("OpenSearchDescription", {"xmlns": OPENSEARCH_NS})
    _sub(root, "ShortName", "newsearch")
    _sub(root, "Description", "Search the newsearch news archive")
    _sub(root, "InputEncoding", "UTF-8")
    _sub(root, "OutputEncoding", "UTF-8")
    _sub(root, "Image", icon_url, type="image/svg+xml", width="64", height="64")
    _sub(root, "Url", type="text/html", method="get", template=html_template)
    _sub(root, "Url", type="application/atom+xml", template=atom_template)
    _sub(root, "Url", type="application/json", template=json_template)
    _sub(root, "Url", type="application/opensearchdescription+xml", rel="self", template=self_url)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
