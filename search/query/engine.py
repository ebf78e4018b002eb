"""The query API shared by ``newsearch search`` and the web app: parameters in, DESIGN.md JSON out.

One long-lived ``SearchEngine`` per process. It keeps the live generation
open (Whoosh reader, numpy columns, posting cache) and reopens only when the
``current`` symlink points somewhere new — a readlink per request.

A search evaluates the whole hit set with numpy (``postings.Evaluator``), so
facet counts, the histogram and sorting cover every hit, not just a page.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage

from search.facets import FILTER_FACETS
from search.index import columns as columns_mod
from search.index.columns import NO_DATE
from search.index.generations import IndexHome, NoIndex
from search.index.schema import news_analyzer
from search.query import parse as qparse
from search.query.parse import QueryError
from search.query.postings import Deadline, Evaluator, Postings
from search.query.snippets import Highlighter, Speller

__all__ = ["QueryError", "SearchEngine", "SearchParams"]

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE, MAX_PER_PAGE, DEFAULT_PER_PAGE = 500, 100, 20
MAX_FILTER_VALUES = 50
FACET_LIMIT = 20
FEW_HITS = 3

RETIRE_AFTER_S = 120.0  # a replaced generation stays open this long for queries in flight
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_INT64_MAX = np.iinfo(np.int64).max


# -- parameters ---------------------------------------------------------------------------------
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
            **{name: _many(mapping, name) for name in FILTER_FACETS},
        )
        params.validate()
        return params

    def validate(self) -> None:
        if len(self.q) > qparse.MAX_QUERY_CHARS:
            raise QueryError(f"query too long: at most {qparse.MAX_QUERY_CHARS} characters")
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)} (got '{self.sort}')")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        for name in FILTER_FACETS:
            if len(getattr(self, name)) > MAX_FILTER_VALUES:
                raise QueryError(f"at most {MAX_FILTER_VALUES} {name} values")
        self.date_range()

    def date_range(self) -> tuple[int | None, int | None]:
        """Inclusive epoch-second bounds: from's first second, to's last (to=2025-09 → end of September)."""
        start = qparse.epoch(_bounds("from", self.from_)[0]) if self.from_ else None
        end = qparse.epoch(_bounds("to", self.to)[1]) if self.to else None
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


def _bounds(name: str, text: str):
    try:
        return qparse.date_bounds(text)
    except QueryError:
        raise QueryError(f"can't read the '{name}' date '{text[:40]}' (try 2025-09, 5 Sep 2025 or 1987-03-01)") \
            from None


# -- one generation -------------------------------------------------------------------------------
class _Generation:
    """Everything opened once per live generation: reader, columns, posting cache, speller."""

    def __init__(self, path: Path, link: str):
        self.path = path
        self.link = link
        self.number = IndexHome.number_of(path)
        self.lock = threading.RLock()
        self.searcher = _open_unmapped(path).searcher()
        self.reader = self.searcher.reader()
        self.columns = columns_mod.load(path)
        self.postings = Postings(self.reader, self.columns, self.lock)
        self.year = _years(self.columns.date)
        self.documents = int(self.columns.live.sum())
        self._speller: Speller | None = None

    @property
    def speller(self) -> Speller:
        if self._speller is None:
            self._speller = Speller(self.columns.spell_words, self.columns.spell_freq)
        return self._speller

    def stored(self, docnum: int) -> dict:
        with self.lock:
            return self.reader.stored_fields(docnum)

    def docnum(self, article_id: str) -> int | None:
        with self.lock:
            docnum = self.searcher.document_number(id=article_id)
        return docnum if docnum is not None and self.columns.live[docnum] else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.searcher.close()


def _open_unmapped(path: Path):
    """Open without mmap: Whoosh copies every mmapped compound segment file into a BytesIO on open
    (≈1 s and 1.5 GB for 216k articles); plain file reads cost nothing up front and serve postings as fast.
    Not thread-safe by itself — every read goes through the generation's lock."""
    return FileStorage(str(path), supports_mmap=False).open_index()


def _years(dates: np.ndarray) -> np.ndarray:
    dated = dates != NO_DATE
    years = np.full(len(dates), -1, dtype=np.int32)
    years[dated] = dates[dated].astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    return years


# -- the engine -----------------------------------------------------------------------------------
class SearchEngine:
    """Long-lived, thread-safe searcher over the live generation of one index home."""

    def __init__(self, index_root: str | os.PathLike, time_budget_s: float = 2.0):
        self.home = IndexHome(index_root)
        self.time_budget_s = time_budget_s
        self._gen: _Generation | None = None
        self._retired: list[tuple[float, _Generation]] = []
        self._lock = threading.Lock()

    def generation(self) -> _Generation:
        """The open live generation, reopened when ``current`` points at a new one."""
        try:
            link = os.readlink(self.home.current)
        except OSError:
            raise NoIndex(f"no index at {self.home.root} (run 'newsearch rebuild SOURCE' first)") from None
        gen = self._gen
        if gen is not None and gen.link == link:
            return gen
        with self._lock:
            if self._gen is None or self._gen.link != link:
                path = (self.home.root / link).resolve()
                if not path.is_dir():
                    raise NoIndex(f"the live generation {path} is missing")
                self._retire(self._gen)
                self._gen = _Generation(path, link)
            return self._gen

    def _retire(self, old: _Generation | None) -> None:
        """Close replaced generations once queries still running on them must have finished."""
        now = time.monotonic()
        keep = []
        for since, gen in self._retired:
            if now - since > RETIRE_AFTER_S:
                gen.close()
            else:
                keep.append((since, gen))
        self._retired = keep + ([(now, old)] if old is not None else [])

    # -- search ----------------------------------------------------------------------------------
    def search(self, params: SearchParams) -> dict:
        started = time.perf_counter()
        deadline = Deadline(self.time_budget_s)
        gen = self.generation()
        parsed = qparse.parse(params.q)
        run = _Run(gen, params, parsed, deadline)
        hits = run.hits
        order = run.order(params.page * params.per_page)
        page_docs = order[(params.page - 1) * params.per_page:]
        answer = {
            "query": params.q,
            "total": int(len(hits)),
            "page": params.page,
            "per_page": params.per_page,
            "took_ms": 0.0,
            "filters": _filters_echo(params),
            "results": [run.result(int(doc), snippet=True) for doc in page_docs],
            "facets": run.facets(),
            "histogram": histogram(gen.columns.date[hits]),
            "suggestion": None if deadline.expired() else run.suggestion(params.q),
            "partial": deadline.expired(),
            "generation": gen.number,
        }
        answer["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def export(self, params: SearchParams, cap: int = 10000) -> Iterator[dict]:
        """Every hit (up to ``cap``) in the requested order, without snippets, one at a time (streams)."""
        gen = self.generation()
        run = _Run(gen, params, qparse.parse(params.q), Deadline(self.time_budget_s * 5))
        order = run.order(min(cap, len(run.hits)))
        for doc in order[:cap]:
            yield run.result(int(doc), snippet=False)

    def article(self, article_id: str) -> dict | None:
        gen = self.generation()
        docnum = gen.docnum(article_id)
        if docnum is None:
            return None
        stored = gen.stored(docnum)
        body = stored.get("body") or ""
        return {
            **_describe(stored),
            "body": body,
            "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        }

    def related(self, article_id: str, limit: int = 5) -> list[dict]:
        """More like this: shared distinctive words and shared entities; copies of the article itself excluded."""
        gen = self.generation()
        docnum = gen.docnum(article_id)
        if docnum is None:
            return []
        return _related(gen, docnum, max(1, min(limit, 50)), Deadline(self.time_budget_s))

    def health(self) -> dict:
        try:
            gen = self.generation()
        except NoIndex as exc:
            return {"status": "no index", "documents": 0, "generation": None, "error": str(exc)}
        return {"status": "ok", "documents": gen.documents, "generation": gen.number}


# -- one query's work -------------------------------------------------------------------------------
class _Run:
    """The hit set of one query with its filters, and what is derived from it."""

    def __init__(self, gen: _Generation, params: SearchParams, parsed: qparse.Parsed, deadline: Deadline):
        self.gen = gen
        self.cols = gen.columns
        self.params = params
        self.parsed = parsed
        self.deadline = deadline
        evaluator = Evaluator(gen.postings, deadline)
        self.text_mask, self.score = evaluator.run(parsed.tree)
        self.expansions = evaluator.expansions
        self.date_mask = self._date_mask(*params.date_range())
        self.facet_masks = self._facet_masks(params.facet_filters())
        self.mask = _all_of([self.text_mask, self.date_mask, *self.facet_masks.values()])
        self.hits = np.flatnonzero(self.mask)
        self._highlighter: Highlighter | None = None

    def _date_mask(self, start: int | None, end: int | None) -> np.ndarray | None:
        if start is None and end is None:
            return None
        dates = self.cols.date
        mask = dates != NO_DATE
        if start is not None:
            mask &= dates >= start
        if end is not None:
            mask &= dates <= end
        return mask

    def _facet_masks(self, selected: dict[str, list[str]]) -> dict[str, np.ndarray]:
        masks = {}
        for name, values in selected.items():
            facet = self.cols.facets[name]
            masks[name] = facet.docs_mask(facet.ids_for(values), self.cols.size)
        return masks

    # -- facets --------------------------------------------------------------------------------
    def facets(self) -> dict[str, list[dict]]:
        """Counts over the entire hit set; a facet with a selection is counted without its own filter."""
        out = {}
        for name in FILTER_FACETS:
            mask, hits = self._without(name)
            facet = self.cols.facets[name]
            counts = facet.count(hits, mask)
            out[name] = _top(facet.vocab, counts, facet.ids_for(getattr(self.params, name)))
        mask, hits = self._without("date")
        out["year"] = self._years(hits)
        return out

    def _without(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        own = self.date_mask if name == "date" else self.facet_masks.get(name)
        if own is None:
            return self.mask, self.hits
        others = [m for key, m in self.facet_masks.items() if key != name]
        if name != "date":
            others.append(self.date_mask)
        mask = _all_of([self.text_mask, *others])
        return mask, np.flatnonzero(mask)

    def _years(self, hits: np.ndarray) -> list[dict]:
        years = self.gen.year[hits]
        years = years[years >= 0]
        if not len(years):
            return []
        low = int(years.min())
        counts = np.bincount(years - low)
        order = sorted(np.flatnonzero(counts).tolist(), key=lambda i: (-counts[i], -i))[:FACET_LIMIT]
        return [{"value": str(low + i), "count": int(counts[i])} for i in order]

    # -- ordering ------------------------------------------------------------------------------
    def order(self, k: int) -> np.ndarray:
        """The first ``k`` hits in the requested order (ties: newer first, then doc number)."""
        hits = self.hits
        if not len(hits) or k <= 0:
            return hits[:0]
        dates = self.cols.date[hits]
        scores = -self.score[hits].astype(np.float64)
        dated = dates != NO_DATE
        recency = np.where(dated, -dates.astype(np.float64), np.inf)  # newer first, undated last
        sort = self.params.sort
        if sort == "relevance" and not scores.any():
            sort = "newest"  # browsing (empty query): newest first
        if sort == "relevance":
            primary, secondary = scores, recency
        elif sort == "newest":
            primary, secondary = recency, scores
        else:
            primary, secondary = np.where(dated, dates.astype(np.float64), np.inf), scores
        keep = _top_k(primary, k)
        order = np.lexsort((hits[keep], secondary[keep], primary[keep]))
        return hits[keep][order][:k]

    # -- results -------------------------------------------------------------------------------
    def result(self, docnum: int, snippet: bool) -> dict:
        stored = self.gen.stored(docnum)
        out = _describe(stored)
        out["score"] = round(float(self.score[docnum]), 3)
        if snippet:
            text = stored.get("body") or stored.get("title") or ""
            out["snippet"] = self.highlighter().snippet(text)
        return out

    def highlighter(self) -> Highlighter:
        if self._highlighter is None:
            terms = {t for f, t in qparse.positive_terms(self.parsed.tree) if f in qparse.TEXT_FIELDS}
            for (fieldname, _), expanded in self.expansions.items():
                if fieldname in qparse.TEXT_FIELDS:
                    terms.update(expanded)
            self._highlighter = Highlighter(terms)
        return self._highlighter

    # -- spelling ------------------------------------------------------------------------------
    def suggestion(self, q: str) -> str | None:
        """A corrected query when a word is unknown to the collection, or when the query finds almost nothing."""
        speller = self.gen.speller
        few = len(self.hits) < FEW_HITS
        fixes = {}
        for word in dict.fromkeys(w.lower() for w in self.parsed.words if len(w) >= 3):
            if speller.known(word) or self._in_index(word):
                fix = speller.correct(word, min_ratio=50) if few else None
            else:
                fix = speller.correct(word)
            if fix:
                fixes[word] = fix
        if not fixes:
            return None
        return qparse.replace_words(q, fixes)

    def _in_index(self, word: str) -> bool:
        analysed = [t.text for t in news_analyzer()(word)]
        return bool(analysed) and all(self.gen.postings.doc_frequency("body", t) or
                                      self.gen.postings.doc_frequency("title", t) for t in analysed)


def _all_of(masks: list[np.ndarray | None]) -> np.ndarray:
    present = [m for m in masks if m is not None]
    out = present[0].copy()
    for mask in present[1:]:
        out &= mask
    return out


def _top_k(primary: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest keys, plus everything tied with the k-th (so tie-breaks stay exact)."""
    if k >= len(primary):
        return np.arange(len(primary))
    kth = np.partition(primary, k - 1)[k - 1]
    return np.flatnonzero(primary <= kth)


def _top(vocab: np.ndarray, counts: np.ndarray, selected: np.ndarray) -> list[dict]:
    """Top values by count (then name); selected values are always listed so they can be unticked."""
    nonzero = np.flatnonzero(counts)
    if len(nonzero) > FACET_LIMIT:
        cut = np.partition(counts[nonzero], len(nonzero) - FACET_LIMIT)[len(nonzero) - FACET_LIMIT]
        nonzero = nonzero[counts[nonzero] >= cut]
    ranked = sorted(nonzero.tolist(), key=lambda i: (-counts[i], vocab[i]))[:FACET_LIMIT]
    ranked += [int(i) for i in selected.tolist() if int(i) not in ranked]
    return [{"value": str(vocab[i]), "count": int(counts[i])} for i in ranked]


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


# -- histogram ---------------------------------------------------------------------------------------
_DAY = 86400


def histogram(dates: np.ndarray) -> dict:
    """Counts per year/month/week/day, the interval chosen so the span of the dated hits gives ~5-60 bars."""
    dates = dates[dates != NO_DATE]
    if not len(dates):
        return {"interval": "year", "buckets": []}
    span_days = (int(dates.max()) - int(dates.min())) / _DAY
    interval = "day" if span_days <= 62 else "week" if span_days <= 300 else "month" if span_days <= 5 * 366 \
        else "year"
    units, to_day = _bucket_units(dates, interval)
    low = int(units.min())
    counts = np.bincount(units - low)
    starts = to_day(np.arange(low, low + len(counts)))
    return {"interval": interval,
            "buckets": [{"start": str(s), "count": int(c)} for s, c in zip(starts, counts.tolist(), strict=True)]}


def _bucket_units(dates: np.ndarray, interval: str):
    """Integer bucket numbers for the dates, and a function from bucket numbers to their first day."""
    days = dates // _DAY
    if interval == "day":
        return days, lambda u: u.astype("datetime64[D]")
    if interval == "week":  # weeks start on Monday; 1970-01-01 was a Thursday
        return (days + 3) // 7, lambda u: (u * 7 - 3).astype("datetime64[D]")
    unit = "M" if interval == "month" else "Y"
    units = days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)
    return units, lambda u: u.astype(f"datetime64[{unit}]").astype("datetime64[D]")


# -- related -----------------------------------------------------------------------------------------
RELATED_TERMS = 25
ENTITY_BONUS = 2.0


def _related(gen: _Generation, docnum: int, limit: int, deadline: Deadline) -> list[dict]:
    stored = gen.stored(docnum)
    cols = gen.columns
    tree = _distinctive_terms(gen, stored)
    score = Evaluator(gen.postings, deadline).run(tree)[1] if tree is not None else np.zeros(cols.size, np.float32)
    score = score + _shared_entities(gen, docnum)
    score[~cols.live] = 0
    score[cols.hash == cols.hash[docnum]] = 0  # itself and its copies
    candidates = np.flatnonzero(score > 0)
    candidates = candidates[np.argsort(-score[candidates], kind="stable")][: limit * 20]
    out, seen = [], set()
    for doc in candidates.tolist():
        if cols.hash[doc] in seen:
            continue
        seen.add(cols.hash[doc])
        item = _describe(gen.stored(doc))
        item["score"] = round(float(score[doc]), 3)
        out.append(item)
        if len(out) >= limit:
            break
    return out


def _distinctive_terms(gen: _Generation, stored: dict):
    """An OR query of the article's most distinctive words (tf·idf), as a more-like-this probe."""
    text = f"{stored.get('title') or ''}\n{(stored.get('body') or '')[:20000]}"
    counts = Counter(t.text for t in news_analyzer()(text))
    n = max(gen.documents, 1)
    weighted = []
    for term, tf in counts.items():
        df = gen.postings.doc_frequency("body", term)
        if 2 <= df <= n * 0.2:
            weighted.append((tf * math.log(n / df), term))
    weighted.sort(reverse=True)
    terms = [term for _, term in weighted[:RELATED_TERMS]]
    if not terms:
        return None
    return qparse.Or(tuple(qparse.Term(f, t) for t in terms for f in qparse.TEXT_FIELDS))


def _shared_entities(gen: _Generation, docnum: int) -> np.ndarray:
    """A bonus per shared person/org/place/topic, rarer values counting more."""
    cols = gen.columns
    bonus = np.zeros(cols.size, np.float32)
    for name in ("people", "orgs", "places", "topics"):
        facet = cols.facets[name]
        for value in facet.pair_val[facet.doc_ptr[docnum]:facet.doc_ptr[docnum + 1]].tolist():
            docs = facet.val_docs[facet.val_ptr[value]:facet.val_ptr[value + 1]]
            bonus[docs] += ENTITY_BONUS * math.log(1 + gen.documents / max(len(docs), 1)) / 5
    return bonus
