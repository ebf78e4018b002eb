"""The JSON answer's pieces (DESIGN.md)."""

from __future__ import annotations

import time

from search.facets import FILTER_FACETS
from search.query.params import SearchParams

_ISO = "%Y-%m-%dT%H:%M:%SZ"


def _filters_echo(params: SearchParams) -> dict:
    start, end = params.date_range()
    day = "%Y-%m-%d"
    return {
        "from": time.strftime(day, time.gmtime(start)) if start is not None else None,
        "to": time.strftime(day, time.gmtime(end)) if end is not None else None,
        **{name: list(getattr(params, name)) for name in FILTER_FACETS},
    }


def _describe(stored: dict) -> dict:
    """The result fields of one stored document (display values exactly as ingested)."""
    data = stored.get("data") or {}
    date = stored.get("date")
    return {
        "id": stored.get("id", ""),
        "title": stored.get("title") or "",
        "date": date.strftime(_ISO) if date is not None else None,
        "source": data.get("source") or "",
        "url": data.get("url") or "",
        "authors": list(data.get("authors") or []),
        "people": list(data.get("people") or []),
        "orgs": list(data.get("orgs") or []),
        "places": list(data.get("places") or []),
        "topics": list(data.get("topics") or []),
    }

