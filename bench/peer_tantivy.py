"""tantivy (the Rust Lucene-like engine) as a peer in the benchmarks: same articles, same terms, same answers.

    /work/main/.venv/bin/pip install -e '.[bench]'      # tantivy>=0.25, from PyPI

Fair by construction, so the hit counts can be checked equal to newsearch's:

- the text is analysed by newsearch's own analyzer (stop words, Porter stems,
  word positions with gaps where stop words were) and handed to tantivy
  pre-tokenized; the time that takes is reported apart from tantivy's own
  indexing (``analyse_s`` vs ``index_s``);
- queries are parsed by newsearch's parser and the tree is translated to
  tantivy queries (Term → TermQuery, Phrase → PhraseQuery with the same
  offsets, Prefix → RegexQuery, And/Or/Not → BooleanQuery), so both engines
  answer the same question; parsing is inside the timed region for both;
- the full answer is what newsearch computes: hit count, top 10 with stored
  fields and a highlighted snippet, exact counts of every facet over the whole
  hit set (a facet with a selection counted without its own filter, as
  newsearch does), year counts and a month histogram, via tantivy's
  aggregations on fast fields.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import tantivy

from search.facets import FILTER_FACETS
from search.index.columns import NO_DATE
from search.index.schema import news_analyzer
from search.query import parse as qparse

EXACT_TERMS = 1_000_000  # per-segment buckets of a terms aggregation: above any vocabulary, so counts are exact
TOP = 20  # facet values listed, as newsearch's FACET_LIMIT
_ANALYZER = news_analyzer()


# -- build -------------------------------------------------------------------------------------
def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    # en_stem only for the snippet generator, which re-tokenizes the stored text; indexing is pre-tokenized
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    builder.add_integer_field("epoch", indexed=True, fast=True)
    builder.add_integer_field("year", fast=True)
    builder.add_integer_field("month", fast=True)  # months since 1970-01
    for name in FILTER_FACETS:
        builder.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")  # display values, counted
        builder.add_text_field(f"{name}_key", tokenizer_name="raw", index_option="basic")  # casefolded, filtered
    return builder.build()


def pretokenized(text: str) -> tantivy.PreTokenizedString:
    tokens = [tantivy.Token(t.text, t.pos, t.startchar, t.endchar)
              for t in _ANALYZER(text, positions=True, chars=True)]
    return tantivy.PreTokenizedString(text, tokens)


def _document(article) -> tantivy.Document:
    doc = tantivy.Document()
    epoch = int(article.date.timestamp()) if article.date is not None else None  # aware UTC dates
    doc.add_text("id", article.id)
    doc.add_pre_tokenized_text("title", pretokenized(article.title or ""))
    doc.add_pre_tokenized_text("body", pretokenized(article.body or ""))
    if epoch is not None:
        doc.add_integer("epoch", epoch)
        months = (article.date.year - 1970) * 12 + article.date.month - 1
        doc.add_integer("year", article.date.year)
        doc.add_integer("month", months)
    for name in FILTER_FACETS:
        raw = getattr(article, name, None)
        for value in dict.fromkeys([raw] if isinstance(raw, str) else (raw or [])):
            if value:
                doc.add_text(name, value)
                doc.add_text(f"{name}_key", value.casefold())
    return doc


def build(path: Path, articles: list) -> dict:
    """Index the articles into a fresh tantivy index at ``path``; wall and process CPU (all threads) split into
    newsearch's analysis (Python) and tantivy's indexing and commit, plus the index size on disk."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(path))
    wall, cpu = time.perf_counter(), time.process_time()
    docs = [_document(a) for a in articles]
    analyse_wall, analyse_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    writer = index.writer(heap_size=256_000_000)
    for doc in docs:
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    return {"docs": len(docs), "analyse_s": analyse_wall, "analyse_cpu_s": analyse_cpu,
            "index_s": time.perf_counter() - wall, "index_cpu_s": time.process_time() - cpu,
            "size_mb": dir_mb(path)}


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


# -- query -------------------------------------------------------------------------------------
class Translator:
    """newsearch's query tree → a tantivy Query over the same pre-tokenized fields."""

    def __init__(self, index: tantivy.Index, searcher: tantivy.Searcher):
        self.schema = index.schema
        self.searcher = searcher

    def query(self, node) -> tantivy.Query:
        kind = type(node).__name__
        if kind == "Everything":
            return tantivy.Query.all_query()
        if kind == "Term":
            return tantivy.Query.term_query(self.schema, self._field(node.field), node.text, index_option="freq")
        if kind == "Phrase":
            return tantivy.Query.phrase_query(self.schema, self._field(node.field), [(p, t) for p, t in node.words])
        if kind == "Prefix":
            return tantivy.Query.regex_query(self.schema, self._field(node.field), re.escape(node.text) + ".*")
        if kind == "Wildcard":
            pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in node.pattern)
            return tantivy.Query.regex_query(self.schema, self._field(node.field), pattern)
        if kind == "DateRange":
            return self.date_range(node.start, node.end)
        if kind == "Not":
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()),
                                                (tantivy.Occur.MustNot, self.query(node.item))])
        if kind in ("And", "Or"):
            parts = []
            for item in node.items:
                if kind == "And" and type(item).__name__ == "Not":
                    parts.append((tantivy.Occur.MustNot, self.query(item.item)))
                else:
                    parts.append((tantivy.Occur.Must if kind == "And" else tantivy.Occur.Should, self.query(item)))
            if all(occur == tantivy.Occur.MustNot for occur, _ in parts):
                parts.append((tantivy.Occur.Must, tantivy.Query.all_query()))
            return tantivy.Query.boolean_query(parts)
        raise ValueError(f"no tantivy translation for {kind}")

    @staticmethod
    def _field(name: str) -> str:
        return name if name in qparse.TEXT_FIELDS else f"{name}_key"

    def date_range(self, start: int | None, end: int | None) -> tantivy.Query:
        low = start if start is not None else NO_DATE + 1
        high = end if end is not None else 2**62
        return tantivy.Query.range_query(self.schema, "epoch", tantivy.FieldType.Integer, low, high)

    def facet(self, name: str, values: list[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, f"{name}_key", [v.casefold() for v in values])


def _all(parts: list[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])


def _terms(field: str) -> dict:
    return {"terms": {"field": field, "size": TOP, "segment_size": EXACT_TERMS}}


class TantivyPeer:
    """The benchmark's engine interface: ``open()`` (not timed) and ``run(q, fts_q, filters) -> hit count``."""

    name = "tantivy"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.index = None

    def open(self):
        self.index = tantivy.Index.open(str(self.path))
        self.searcher = self.index.searcher()
        self.translate = Translator(self.index, self.searcher)

    def run(self, q, fts_q, filters) -> int:
        from search.query.engine import SearchParams

        params = SearchParams.from_mapping({"q": q, **filters})
        text = self.translate.query(qparse.parse(q).tree)
        own: dict[str, tantivy.Query] = {}  # each filter, so a facet can be counted without its own filter
        start, end = params.date_range()
        if start is not None or end is not None:
            own["date"] = self.translate.date_range(start, end)
        for name, values in params.facet_filters().items():
            own[name] = self.translate.facet(name, values)
        query = _all([text, *own.values()])
        found = self.searcher.search(query, limit=10, count=True)
        snippets = tantivy.SnippetGenerator.create(self.searcher, text, self.index.schema, "body")
        for _, address in found.hits:
            doc = self.searcher.doc(address)
            snippets.snippet_from_doc(doc).to_html()
        aggs = {name: _terms(name) for name in FILTER_FACETS if name not in own}
        if "date" not in own:
            aggs["year"] = _terms("year")
        aggs["month"] = {"histogram": {"field": "month", "interval": 1, "min_doc_count": 1}}
        self.searcher.aggregate(query, aggs)
        for name in own:  # multi-select: this facet's counts without its own filter
            others = _all([text, *(q for key, q in own.items() if key != name)])
            self.searcher.aggregate(others, {name: _terms("year" if name == "date" else name)})
        return found.count
