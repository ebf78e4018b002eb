"""Pure helpers that turn a search answer into what the templates draw.

Kept apart from the views so they are easy to test and hold no Flask state
beyond ``url_for``: shareable links (the URL is the whole state of a search),
facet lists, filter chips, the histogram geometry and the pager.
"""

from __future__ import annotations

import calendar
import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

from flask import url_for

from search.facets import BY_NAME, FACETS
from search.query.params import SORTS as ENGINE_SORTS

FACET_SHOWN = 6  # values shown before the "more" link
UI_ARGS = ("more",)  # display state kept in the URL (expanded facet lists) that the engine never sees
SORTS = tuple((name, name.capitalize()) for name in ENGINE_SORTS)  # (value, label) for the sort links
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Links:
    """Builds links from the current search's query args; every change keeps all other params."""

    def __init__(self, args: list[tuple[str, str]], endpoint: str = "web.search_page"):
        self.args = [(k, str(v)) for k, v in args]
        self.endpoint = endpoint
        self._bases: dict[str, str] = {}  # url_for is the slow part of a page with ~150 links

    def value(self, key: str) -> str | None:
        return next((v for k, v in self.args if k == key), None)

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.args if k == key]

    def has(self, key: str, value: str) -> bool:
        return (key, value) in self.args

    def url(self, args: list[tuple[str, str]] | None = None, endpoint: str | None = None, **extra) -> str:
        args = self.args if args is None else args
        query = "&".join(encoded_pair(k, v) for k, v in args + [(k, v) for k, v in extra.items() if v is not None])
        endpoint = endpoint or self.endpoint
        base = self._bases.get(endpoint)
        if base is None:
            base = self._bases[endpoint] = url_for(endpoint)
        return f"{base}?{query}" if query else base

    def _new_search(self, args):
        """A changed search starts again at page 1."""
        return [(k, v) for k, v in args if k != "page"]

    def toggle(self, key: str, value: str) -> str:
        if self.has(key, value):
            return self.remove(key, value)
        return self.url(self._new_search(self.args) + [(key, value)])

    def remove(self, key: str, value: str | None = None) -> str:
        kept = [(k, v) for k, v in self.args if not (k == key and (value is None or v == value))]
        return self.url(self._new_search(kept))

    def replace(self, **changes: str | None) -> str:
        """Set single-valued params (``from_`` for ``from``); None removes one."""
        changes = {k.rstrip("_"): v for k, v in changes.items()}
        kept = [(k, v) for k, v in self.args if k not in changes]
        if "page" not in changes:
            kept = self._new_search(kept)
        return self.url(kept + [(k, v) for k, v in changes.items() if v is not None])

    def page(self, number: int) -> str:
        kept = [(k, v) for k, v in self.args if k != "page"]
        return self.url(kept + ([("page", str(number))] if number > 1 else []))

    def sort(self, order: str) -> str:
        return self.replace(sort=None if order == "relevance" else order)

    def more(self, facet: str, expand: bool) -> str:
        """Expand or collapse one facet's list; other expanded lists stay expanded (``more`` repeats)."""
        kept = [(k, v) for k, v in self.args if not (k == "more" and v == facet)]
        return self.url(kept + ([("more", facet)] if expand else []))

    def period(self, start: date, end: date) -> str:
        return self.replace(from_=start.isoformat(), to=end.isoformat())

    def clear_filters(self) -> str:
        return self.url([(k, v) for k, v in self.args if k in ("q", "sort", "per_page")])

    def other(self, endpoint: str, drop_paging: bool = False) -> str:
        """The same search on another route (feed, CSV, JSON)."""
        args = [(k, v) for k, v in self.args if k not in UI_ARGS and not (drop_paging and k in ("page", "per_page"))]
        return self.url(args, endpoint=endpoint)

    def search_args(self) -> list[tuple[str, str]]:
        """The search itself, without display state (``more``) or paging: what a facet page carries."""
        return [(k, v) for k, v in self.args if k not in UI_ARGS and k not in ("page",)]


@functools.lru_cache(maxsize=8192)
def encoded_pair(key: str, value: str) -> str:
    """One ``key=value`` of a query string; a page repeats the same pairs in ~100 links."""
    return urlencode([(key, value)])


def extra_args(args, **extra):
    return list(args) + [(k, v) for k, v in extra.items() if v is not None]


# -- facets and chips -------------------------------------------------------------------------
@dataclass
class FacetValue:
    value: str
    count: int | None
    selected: bool
    href: str
    label: str = ""

    def __post_init__(self):
        self.label = self.label or self.value


@dataclass
class FacetPanel:
    """One facet's sidebar panel."""

    name: str
    label: str
    values: list[FacetValue]
    hidden: int  # values left out until "more" (the answer's top values)
    expanded: bool
    toggle_href: str | None
    distinct: int = 0  # every value the facet has over the hit set
    all_href: str | None = None  # the facet's page of every value


def year_bounds(value: str) -> tuple[date, date] | None:
    try:
        year = int(value)
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def build_facets(answer: dict, links: Links, more: list[str], label=lambda name, value: value) -> list[FacetPanel]:
    """Facet lists with toggle links; long ones are cut until "more" (selected values always show).

    Every link ends in ``#facet-<name>``, so after a choice the page opens where the person was,
    and ``more`` stays in the URL, so an expanded list stays expanded. Past the answer's top
    values, "All N" opens the facet's page of every value (``/facets/<name>``).
    """
    facets = []
    distinct_counts = answer.get("facet_values") or {}
    for spec in FACETS:
        name, period = spec.name, spec.kind == "period"
        listed = [(item["value"], item.get("count"), item.get("label")) for item in answer.get("facets", {}).get(name)
                  or []]
        if period:
            listed.sort(key=lambda item: str(item[0]), reverse=True)  # a timeline reads newest first
        else:
            shown = {value for value, _, _ in listed}
            listed += [(value, None, label(name, value)) for value in links.values(name) if value not in shown]
        if not listed:
            continue
        anchor = f"#facet-{name}"
        expanded = name in more
        cut = len(listed) if expanded else FACET_SHOWN
        visible = [_facet_value(name, item, links, anchor) for item in listed[:cut]]
        visible += [v for v in (_facet_value(name, item, links, anchor) for item in listed[cut:]
                                if period or links.has(name, item[0])) if v.selected]
        toggle = None
        if len(listed) > FACET_SHOWN:
            toggle = links.more(name, not expanded) + anchor
        distinct = max(int(distinct_counts.get(name) or 0), len([i for i in listed if i[1]]))
        all_href = _facet_page_url(name, links) if not period and distinct > FACET_SHOWN else None
        facets.append(FacetPanel(name, spec.label, visible, len(listed) - len(visible), expanded, toggle,
                                 distinct, all_href))
    return facets


def _facet_page_url(name: str, links: Links) -> str:
    base = url_for("web.facet_page", facet=name)
    query = "&".join(encoded_pair(k, v) for k, v in links.search_args())
    return f"{base}?{query}" if query else base


def _is_period(name: str) -> bool:
    """A period facet (the year) filters by from/to dates, not by a ``name=value`` parameter."""
    return BY_NAME[name].kind == "period"


def _facet_value(name: str, item: tuple, links: Links, anchor: str = "") -> FacetValue:
    value, count, label = item
    if not _is_period(name):
        return FacetValue(value, count, links.has(name, value), links.toggle(name, value) + anchor, label or "")
    bounds = year_bounds(value)
    if bounds is None:
        return FacetValue(value, count, False, links.url())
    start, end = bounds
    selected = links.value("from") == start.isoformat() and links.value("to") == end.isoformat()
    href = links.replace(from_=None, to=None) if selected else links.period(start, end)
    return FacetValue(value, count, selected, href + anchor)


@dataclass
class Chip:
    label: str
    value: str
    href: str
    facet: str = ""  # the facet of a value filter (its entity page); "" for dates
    raw: str = ""  # that filter's value as the index has it (``value`` may be its readable label)


def build_chips(links: Links, label=lambda name, value: value) -> list[Chip]:
    chips = []
    for key, name in (("from", "From"), ("to", "To")):
        if links.value(key):
            chips.append(Chip(name, links.value(key), links.remove(key)))
    for spec in FACETS:
        if spec.filterable:
            chips += [Chip(spec.label, label(spec.name, v), links.remove(spec.name, v), spec.name, v)
                      for v in links.values(spec.name)]
    if links.value("cluster"):  # "N similar" opened one story cluster
        chips.append(Chip("Similar to", "one story", links.replace(cluster=None, collapse=None)))
    return chips


# -- histogram ------------------------------------------------------------------------------
@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str
    href: str | None


HIST_W, HIST_H, HIST_PLOT = 640, 96, 76  # viewBox size; bar area height


def bucket_end(start: date, interval: str) -> date:
    if interval == "year":
        return date(start.year, 12, 31)
    if interval == "month":
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    if interval == "week":
        return start + timedelta(days=6)
    return start


def bucket_label(start: date, interval: str) -> str:
    if interval == "year":
        return str(start.year)
    if interval == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if interval == "week":
        return f"week of {human_date(start)}"
    return human_date(start)


def human_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


HIST_WIDE_BARS, HIST_NARROW_BARS = 30, 10  # at most this many bars: ≥ 24 px each from 720 px / 260 px of figure


def build_histograms(histogram: dict | None, links: Links) -> dict | None:
    """The histogram twice: fine for a wide figure, coarse for a narrow one (CSS shows one), so a bar is
    always at least a 24 px target (WCAG 2.2, 2.5.8); neighbouring buckets are merged into one bar."""
    wide = build_histogram(histogram, links, HIST_WIDE_BARS)
    if wide is None:
        return None
    return {"wide": wide, "narrow": build_histogram(histogram, links, HIST_NARROW_BARS)}


def build_histogram(histogram: dict | None, links: Links, max_bars: int = HIST_WIDE_BARS) -> dict | None:
    """Bar geometry for the inline SVG; each non-empty bar links to its period."""
    buckets = (histogram or {}).get("buckets") or []
    interval = (histogram or {}).get("interval") or "day"
    parsed = [(parse_day(b.get("start")), int(b.get("count") or 0)) for b in buckets]
    parsed = [(d, c) for d, c in parsed if d is not None]
    if not parsed or not any(c for _, c in parsed):
        return None
    group = math.ceil(len(parsed) / max_bars)
    spans = []  # (first day, last day, count, label)
    for i in range(0, len(parsed), group):
        chunk = parsed[i:i + group]
        first, last = chunk[0][0], bucket_end(chunk[-1][0], interval)
        label = bucket_label(first, interval) if group == 1 else f"{human_date(first)} – {human_date(last)}"
        spans.append((first, last, sum(c for _, c in chunk), label))
    top = max(count for _, _, count, _ in spans)
    slot = HIST_W / len(spans)
    gap = min(2.0, slot * 0.15)
    bars = []
    for i, (first, last, count, label) in enumerate(spans):
        height = 0.0 if not count else max(2.0, HIST_PLOT * count / top)
        noun = "article" if count == 1 else "articles"
        bars.append(Bar(
            x=round(i * slot + gap / 2, 2), y=round(HIST_PLOT - height, 2), width=round(max(slot - gap, 0.5), 2),
            height=round(height, 2), count=count, label=f"{label}: {count:,} {noun}",
            href=links.period(first, last) if count else None,
        ))
    return {
        "bars": bars, "interval": interval if group == 1 else f"{group} {interval}s", "max": top,
        "width": HIST_W, "height": HIST_H, "plot": HIST_PLOT,
        "first": bucket_label(parsed[0][0], interval), "last": bucket_label(parsed[-1][0], interval),
    }


def parse_day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


# -- pager ------------------------------------------------------------------------------------
def build_pager(total: int, page: int, per_page: int, links: Links, max_page: int) -> dict | None:
    last = min(math.ceil(total / per_page), max_page) if per_page else 1
    if last <= 1:
        return None
    numbers = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    items, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            items.append(None)  # a gap
        items.append({"number": number, "href": links.page(number), "current": number == page})
        previous = number
    return {
        "items": items,
        "prev": links.page(page - 1) if page > 1 else None,
        "next": links.page(page + 1) if page < last else None,
        "capped": math.ceil(total / per_page) > max_page,
    }


def safe_external_url(url: str | None) -> str | None:
    """Only http(s) links to originals: a javascript: URL would survive HTML escaping."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


@dataclass
class ProblemView:
    field: str
    message: str
    note: bool
    fix_label: str | None
    fix_href: str | None


def problem_view(problem, links: Links) -> ProblemView:
    """A mended parameter as the page shows it: the fix is a link to the whole search with it applied."""
    href = None
    if problem.fix_args is not None:
        href = links.url(list(problem.fix_args) + [(k, v) for k, v in links.args if k in UI_ARGS])
    return ProblemView(problem.field, problem.message, problem.note, problem.fix_label, href)


def format_time(value: str | None) -> str:
    """", 15:01 UTC" when the source gave a time of day (not exactly midnight UTC), else ""."""
    text = str(value or "")
    if len(text) < 19 or text[10] != "T" or text[11:19] == "00:00:00":
        return ""
    return f", {text[11:16]} UTC"


def format_date(value: str | None) -> str:
    day = parse_day(value)
    return human_date(day) if day else "undated"
