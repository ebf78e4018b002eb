"""Bad parameters on an HTML page are mended in place, not turned into an error page.

``/api/*`` answers a bad parameter with a 400 (a program should know); a person who typed
``to=2025-13``, a reversed range or ``page=501`` gets the results of everything that was
valid, with the bad field marked and a way out ("to is before from — swapped?").  Each
parameter is checked on its own through ``SearchParams.from_mapping`` (the one validator),
so this module knows how to *repair* a field but not what makes it valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from werkzeug.datastructures import MultiDict

from search.facets import FILTER_FACETS
from search.query import freedates
from search.query.errors import QueryError
from search.query.params import MAX_FILTER_VALUES, MAX_PAGE, MAX_PER_PAGE, SearchParams
from search.query.parse import MAX_QUERY_CHARS

DATE_FIELDS = ("from", "to")
DATE_EXAMPLES = "2025-09, 5 Sep 2025, 2025-Q1, last week or since March 2025"


@dataclass
class Problem:
    """One mended parameter: what was wrong, and a link that tries the likely fix."""

    field: str  # the parameter: from, to, page, per_page, sort, q or a facet
    message: str
    fix_label: str | None = None
    fix_args: list[tuple[str, str]] | None = None  # the whole search with the fix applied
    note: bool = False  # read as something else rather than dropped (e.g. "last week" → a date)


@dataclass
class Recovered:
    params: SearchParams
    problems: list[Problem] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)  # what was typed in the date fields, shown back as typed

    def problem(self, name: str) -> Problem | None:
        return next((p for p in self.problems if p.field == name and not p.note), None)


def recover(args: MultiDict, today: date | None = None) -> Recovered:
    """Search parameters from request args, every invalid one repaired or dropped and reported."""
    pairs = [(k, v) for k, v in args.items(multi=True)]
    typed = {name: args.get(name, "") for name in DATE_FIELDS}
    problems: list[Problem] = []
    pairs = _mend_dates(pairs, problems, today)
    pairs = _mend_numbers(pairs, problems)
    pairs = _mend_rest(pairs, problems)
    try:
        params = SearchParams.from_mapping(MultiDict(pairs))
    except QueryError as exc:  # a combination no single repair above foresaw: fall back to the bare query
        problems.append(Problem("q", str(exc)))
        params = SearchParams.from_mapping(MultiDict([(k, v) for k, v in pairs if k == "q"]))
    return Recovered(params, problems, typed)


def _valid(name: str, value: str | list[str]) -> str | None:
    """None if the parameter is valid on its own, else the validator's message."""
    try:
        SearchParams.from_mapping(MultiDict([(name, v) for v in ([value] if isinstance(value, str) else value)]))
    except QueryError as exc:
        return str(exc)
    return None


def _one(pairs, name: str) -> str | None:
    return next((v for k, v in pairs if k == name), None)


def _replace(pairs, name: str, value: str | None):
    kept = [(k, v) for k, v in pairs if k != name]
    return kept + ([(name, value)] if value not in (None, "") else [])


def _mend_dates(pairs, problems: list[Problem], today: date | None):
    for name in DATE_FIELDS:
        value = (_one(pairs, name) or "").strip()
        if not value or _valid(name, value) is None:
            continue
        reading = freedates.read(value, name, today)
        if reading is not None and (reading.field == name or not _one(pairs, reading.field)):
            pairs = _replace(_replace(pairs, name, None), reading.field, reading.value)
            problems.append(Problem(reading.field, f"Read “{value}” as {reading.field} {reading.value}.", note=True))
            continue
        pairs = _replace(pairs, name, None)
        suggestion = freedates.nearest_valid(value)
        problems.append(Problem(
            name, f"Can't read the '{name}' date “{value[:40]}”; the search ran without it. Try {DATE_EXAMPLES}.",
            fix_label=f"{name} {suggestion}" if suggestion else None,
            fix_args=_replace(pairs, name, suggestion) if suggestion else None,
        ))
    start, end = _one(pairs, "from"), _one(pairs, "to")
    if start and end and _valid("from", start) is None and _valid("to", end) is None:
        both = MultiDict([("from", start), ("to", end)])
        try:
            SearchParams.from_mapping(both)
        except QueryError:
            swapped = _replace(_replace(pairs, "from", end), "to", start)
            problems.append(Problem(
                "to", f"“to” ({end}) is before “from” ({start}) — swapped? The search ran without the dates.",
                fix_label=f"from {end} to {start}", fix_args=swapped,
            ))
            pairs = _replace(_replace(pairs, "from", None), "to", None)
    return pairs


def _mend_numbers(pairs, problems: list[Problem]):
    for name, low, high, fallback in (("page", 1, MAX_PAGE, 1), ("per_page", 1, MAX_PER_PAGE, None)):
        value = _one(pairs, name)
        if value is None or _valid(name, value) is None:
            continue
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        mended = fallback if number is None or number < low else min(number, high)
        pairs = _replace(pairs, name, None if mended is None else str(mended))
        shown = "the default" if mended is None else str(mended)
        problems.append(Problem(name, f"{name} “{value[:20]}” is not a number from {low} to {high}; showing {shown}."))
    return pairs


def _mend_rest(pairs, problems: list[Problem]):
    sort = _one(pairs, "sort")
    if sort is not None and _valid("sort", sort) is not None:
        pairs = _replace(pairs, "sort", None)
        problems.append(Problem("sort", f"Unknown sort order “{sort[:20]}”; sorted by relevance."))
    q = _one(pairs, "q") or ""
    if len(q.strip()) > MAX_QUERY_CHARS:
        pairs = _replace(pairs, "q", q.strip()[:MAX_QUERY_CHARS])
        problems.append(Problem("q", f"The query was cut to its first {MAX_QUERY_CHARS} characters."))
    for name in FILTER_FACETS:
        values = [v for k, v in pairs if k == name]
        if len(set(values)) > MAX_FILTER_VALUES:
            keep = list(dict.fromkeys(values))[:MAX_FILTER_VALUES]
            pairs = [(k, v) for k, v in pairs if k != name] + [(name, v) for v in keep]
            problems.append(Problem(name, f"At most {MAX_FILTER_VALUES} {name} values; kept the first ones."))
    return pairs


def page_past_end(requested: int, total: int, per_page: int) -> tuple[int, Problem] | None:
    """A page after the last one: the last page instead, and why."""
    last = max(1, min(-(-total // per_page), MAX_PAGE)) if total else 1
    if requested <= last:
        return None
    return last, Problem("page", f"Page {requested} is past the end; this is page {last}, the last.")


def empty_answer(params: SearchParams) -> dict:
    """What the page shows when the query text itself could not be read: nothing found, nothing counted."""
    return {"query": params.q, "total": 0, "page": params.page, "per_page": params.per_page, "took_ms": 0.0,
            "results": [], "facets": {}, "facet_values": {}, "histogram": None, "suggestion": None,
            "partial": False, "ignored_words": [], "no_searchable_words": False}
