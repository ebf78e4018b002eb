"""Search request parameters: read, validated, and written back as URL arguments."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from search.facets import FILTER_FACETS
from search.query import dates, parse
from search.query.errors import QueryError

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE, MAX_PER_PAGE, DEFAULT_PER_PAGE = 500, 100, 20
MAX_FILTER_VALUES = 50
CLUSTER_RE = re.compile(r"^[0-9a-z]{1,32}$")  # a story cluster's id (search.index.clusters.cluster_key)
_BOOLEAN = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


@dataclass
class SearchParams:
    """What a search asks for; ``from_mapping`` validates a request's parameters."""

    q: str = ""
    from_: str | None = None
    to: str | None = None
    people: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    collapse: bool = True  # one result per story cluster
    cluster: str | None = None  # only the articles of this story cluster

    @classmethod
    def from_mapping(cls, mapping) -> SearchParams:
        """From a dict or a werkzeug MultiDict; raises QueryError with a message fit for the user."""
        params = cls(
            q=_one(mapping, "q").strip(),
            from_=_one(mapping, "from", "from_").strip() or None,
            to=_one(mapping, "to").strip() or None,
            sort=_one(mapping, "sort").strip().lower() or "relevance",
            page=_int(mapping, "page", 1, 1, MAX_PAGE),
            per_page=_int(mapping, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
            collapse=_bool(mapping, "collapse", True),
            cluster=_one(mapping, "cluster").strip().lower() or None,
            **{name: _many(mapping, name) for name in FILTER_FACETS},
        )
        params.validate()
        return params

    def validate(self) -> None:
        if len(self.q) > parse.MAX_QUERY_CHARS:
            raise QueryError(f"query too long: at most {parse.MAX_QUERY_CHARS} characters")
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)} (got '{self.sort}')")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        for name in FILTER_FACETS:
            if len(getattr(self, name)) > MAX_FILTER_VALUES:
                raise QueryError(f"at most {MAX_FILTER_VALUES} {name} values")
        if self.cluster is not None and not CLUSTER_RE.match(self.cluster):
            raise QueryError(f"cluster must be a cluster id from a result (got '{self.cluster[:40]}')")
        self.date_range()

    def date_range(self) -> tuple[int | None, int | None]:
        """Inclusive epoch-second bounds: from's first second, to's last (to=2025-09 → end of September)."""
        start = dates.epoch(_bounds("from", self.from_)[0]) if self.from_ else None
        end = dates.epoch(_bounds("to", self.to)[1]) if self.to else None
        if start is not None and end is not None and start > end:
            raise QueryError(f"'from' ({self.from_}) is after 'to' ({self.to})")
        return start, end

    def facet_filters(self) -> dict[str, list[str]]:
        return {name: getattr(self, name) for name in FILTER_FACETS if getattr(self, name)}

    def to_query_args(self) -> list[tuple[str, str]]:
        """URL parameters for this search, defaults left out (the URL is the whole state)."""
        args = [("q", self.q)] if self.q else []
        args += [(k, v) for k, v in (("from", self.from_), ("to", self.to)) if v]
        args += [(name, value) for name in FILTER_FACETS for value in getattr(self, name)]
        if self.sort != "relevance":
            args.append(("sort", self.sort))
        if self.page != 1:
            args.append(("page", str(self.page)))
        if self.per_page != DEFAULT_PER_PAGE:
            args.append(("per_page", str(self.per_page)))
        if self.cluster:
            args.append(("cluster", self.cluster))
        if not self.collapse:
            args.append(("collapse", "0"))
        return args


def _values(mapping, key: str) -> list:
    if hasattr(mapping, "getlist"):
        return list(mapping.getlist(key))
    value = mapping.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _one(mapping, *keys: str) -> str:
    for key in keys:
        values = _values(mapping, key)
        if values and values[0] is not None:
            return str(values[0])
    return ""


def _many(mapping, key: str) -> list[str]:
    out = []
    for value in _values(mapping, key):
        value = " ".join(str(value).split()) if value is not None else ""
        if value and value not in out:
            out.append(value)
    return out


def _int(mapping, key: str, default: int, low: int, high: int) -> int:
    raw = _one(mapping, key).strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{key} must be a whole number (got '{raw[:20]}')") from None
    if not low <= value <= high:
        raise QueryError(f"{key} must be between {low} and {high}")
    return value


def _bool(mapping, key: str, default: bool) -> bool:
    raw = _one(mapping, key).strip().lower()
    if not raw:
        return default
    if raw not in _BOOLEAN:
        raise QueryError(f"{key} must be 1 or 0 (got '{raw[:20]}')")
    return _BOOLEAN[raw]


@functools.lru_cache(maxsize=1024)  # pure; a search asks for its date range three times (dateutil: 0.1 ms each)
def _bounds(name: str, text: str):
    try:
        return dates.date_bounds(text)
    except QueryError:
        raise QueryError(f"can't read the '{name}' date '{text[:40]}' (try 2025-09, 5 Sep 2025 or 1987-03-01)") \
            from None
