"""The query API shared by ``newsearch search`` and the web app: parameters in, DESIGN.md JSON out.

One long-lived ``SearchEngine`` per process. It keeps the live generation
open (Whoosh reader, numpy columns, posting cache) and reopens only when the
``current`` symlink points somewhere new — a readlink per request. What was
decoded from a segment (postings, positions, stored documents) is cached by
segment in the engine's ``SegmentCache``, so after an update's swap only the
new segment is read cold.

A search evaluates the whole hit set with numpy (``hits.HitSet`` over ``evaluate.Evaluator``),
so facet counts, the histogram and sorting cover every hit, not just a page.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage

from search.index import clusters as clusters_mod
from search.index import columns as columns_mod
from search.index import entity_merge
from search.index import labels as labels_mod
from search.index.columns import NO_DATE
from search.index.generations import IndexHome, NoIndex
from search.index.integrity import CorruptGeneration
from search.index.schema import TEXT_FIELDS
from search.query import collapse
from search.query import parse as qparse
from search.query.answer import ArticlePage, FacetCount, Health, Result, SearchAnswer, describe, filters_echo
from search.query.errors import QueryError
from search.query.evaluate import DateOrder, Deadline
from search.query.facetcount import FacetCodes
from search.query.facetvalues import FacetValuesPage, values_page
from search.query.histogram import histogram
from search.query.hits import HitSet
from search.query.params import SearchParams
from search.query.postings import Postings
from search.query.related import more_like_this
from search.query.segcache import SegmentCache
from search.query.snippets import Highlighter, SnippetText
from search.query.spelling import Speller
from search.query.stored import StoredDocs
from search.query.tree import Nothing, positive_terms

__all__ = ["SearchEngine"]

RETIRE_AFTER_S = 120.0  # a replaced generation stays open this long for queries in flight
BROKEN_RETRY_S = 5.0  # a generation that failed to open is tried again after this (a full disk may clear)


# -- one generation -------------------------------------------------------------------------------
class Generation:
    """Everything opened once per live generation: reader, columns, posting cache, speller."""

    def __init__(self, path: Path, link: str, segments: SegmentCache | None = None):
        self.link = link
        self.number = IndexHome.number_of(path)
        self.lock = threading.RLock()
        self.searcher = _open_unmapped(path).searcher()
        self.reader = self.searcher.reader()
        self.columns = columns_mod.load(path)
        self.clusters = clusters_mod.load_column(path, self.columns.size)
        self.aliases = entity_merge.load(path)  # after load: computing the columns writes it
        self.alias_filters = entity_merge.filter_lookup(self.aliases)
        self.labels = labels_mod.load(path)
        segments = segments if segments is not None else SegmentCache()
        self.postings = Postings(self.reader, self.columns, self.lock, segments, path)
        self.documents_store = StoredDocs(self.reader, segments)
        self.year = _years(self.columns.local)
        self.date_order = DateOrder(self.columns.local)
        self.facet_codes = FacetCodes.build(self.columns.facets, self.year)
        self.documents = int(self.columns.live.sum())
        self._speller: Speller | None = None

    @property
    def speller(self) -> Speller:
        if self._speller is None:
            self._speller = Speller(self.columns.spell_words, self.columns.spell_freq)
        return self._speller

    def stored(self, docnum: int) -> dict:
        """Stored fields, entity values under the generation's alias map (one value per entity)."""
        with self.lock:
            stored = self.documents_store.get(docnum)  # cached: shared, never modified (apply_stored copies)
        return entity_merge.apply_stored(self.aliases, stored)

    def snippet_text(self, docnum: int) -> SnippetText:
        """The text a result's snippet is cut from (body, else title), tokenised once per document."""

        def make() -> SnippetText:
            with self.lock:
                stored = self.documents_store.get(docnum)
            return SnippetText.of(stored.get("body") or stored.get("title") or "")

        return self.documents_store.derived(docnum, "snippet-text", make, SnippetText.nbytes)

    def docnum(self, article_id: str) -> int | None:
        with self.lock:
            docnum = self.searcher.document_number(id=article_id)
        return docnum if docnum is not None and self.columns.live[docnum] else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.documents_store.close()
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
        self._gen: Generation | None = None
        self._retired: list[tuple[float, Generation]] = []
        self._broken: tuple[str, float, CorruptGeneration] | None = None  # link that failed to open, when, why
        self._lock = threading.Lock()
        self.segments = SegmentCache()  # outlives generations: keyed by immutable segment

    def generation(self) -> Generation:
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
                broken = self._broken
                if broken is not None and broken[0] == link and time.monotonic() - broken[1] < BROKEN_RETRY_S:
                    raise broken[2]  # failed moments ago: don't reread damaged files on every request
                try:
                    opened = Generation(path, link, self.segments)
                except Exception as exc:  # whatever Whoosh, pickle, zipfile or numpy raise on damaged files
                    self._broken = (link, time.monotonic(), CorruptGeneration(path, exc))
                    raise self._broken[2] from exc
                self._broken = None
                self._retire(self._gen)
                self._gen = opened
            return self._gen

    def _retire(self, old: Generation | None) -> None:
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
    def search(self, params: SearchParams) -> SearchAnswer:
        started = time.perf_counter()
        deadline = Deadline(self.time_budget_s)
        gen = self.generation()
        parsed = qparse.parse(params.q)
        hit_set = HitSet(gen, params, parsed, deadline)
        hits = hit_set.hits
        page_docs, similar, shown = collapse.page(hit_set, gen.clusters, params)
        answer: SearchAnswer = {
            "query": params.q,
            "total": int(len(hits)),
            "collapsed_total": shown,
            "page": params.page,
            "per_page": params.per_page,
            "took_ms": 0.0,
            "filters": filters_echo(params),
            "results": [collapse.tag(hit_set.result(int(doc), snippet=True), int(doc), gen.clusters, similar)
                        for doc in page_docs],
            "facets": labelled(hit_set.facets(), gen.labels),
            "facet_values": hit_set.distinct,
            "ignored_words": list(parsed.ignored),
            "no_searchable_words": isinstance(parsed.tree, Nothing),
            "histogram": histogram(gen.columns.local[hits]),  # by the publisher's day
            "suggestion": None if deadline.expired() else hit_set.suggestion(params.q),
            "partial": deadline.expired(),
            "generation": gen.number,
        }
        answer["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def facet_values(self, params: SearchParams, name: str, contains: str = "", page: int = 1,
                     per_page: int = 50) -> FacetValuesPage:
        """Every value of one facet over the search's hit set, a page at a time (DESIGN.md "Facet values")."""
        gen = self.generation()
        hit_set = HitSet(gen, params, qparse.parse(params.q), Deadline(self.time_budget_s))
        vocab, counts, selected = hit_set.value_counts(name)
        return values_page(name, vocab, counts, selected, lambda value: gen.labels.label(name, value),
                           contains=contains, page=page, per_page=per_page)

    def highlighted(self, q: str, paragraphs: list[str]) -> list[str]:
        """Paragraphs as escaped HTML with the words of query ``q`` in <mark> (no match: just escaped)."""
        try:
            tree = qparse.parse(q).tree
        except QueryError:
            tree = None
        terms = {t for f, t in positive_terms(tree) if f in TEXT_FIELDS} if tree is not None else set()
        highlighter = Highlighter(terms)
        return [highlighter.mark_all(p) for p in paragraphs]

    def labels(self) -> labels_mod.Labels:
        """The live generation's readable labels of coded values (empty when the sources gave none)."""
        return self.generation().labels

    def export(self, params: SearchParams, cap: int = 10000) -> Iterator[Result]:
        """Every hit (up to ``cap``) in the requested order, without snippets, one at a time (streams)."""
        gen = self.generation()
        hit_set = HitSet(gen, params, qparse.parse(params.q), Deadline(self.time_budget_s * 5))
        order = hit_set.order(min(cap, len(hit_set.hits)))
        for doc in order[:cap]:
            yield hit_set.result(int(doc), snippet=False)

    def article(self, article_id: str) -> ArticlePage | None:
        gen = self.generation()
        docnum = gen.docnum(article_id)
        if docnum is None:
            return None
        stored = gen.stored(docnum)
        body = stored.get("body") or ""
        return {
            **describe(stored),
            "body": body,
            "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        }

    def related(self, article_id: str, limit: int = 5) -> list[Result]:
        """More like this: shared distinctive words and shared entities; copies of the article itself excluded."""
        gen = self.generation()
        docnum = gen.docnum(article_id)
        if docnum is None:
            return []
        return more_like_this(gen, docnum, max(1, min(limit, 50)), Deadline(self.time_budget_s))

    def health(self) -> Health:
        try:
            gen = self.generation()
        except CorruptGeneration as exc:
            return {"status": "broken", "documents": 0, "generation": IndexHome.number_of(exc.generation),
                    "broken": exc.generation.name, "error": str(exc)}
        except NoIndex as exc:
            return {"status": "no index", "documents": 0, "generation": None, "error": str(exc)}
        return {"status": "ok", "documents": gen.documents, "generation": gen.number}


def labelled(facets: dict[str, list[FacetCount]], labels: labels_mod.Labels) -> dict[str, list[FacetCount]]:
    """Each facet count with its ``label`` (the value itself when the corpus gives no readable name)."""
    for name, counts in facets.items():
        for item in counts:
            item["label"] = labels.label(name, item["value"])
    return facets
