"""Query engine on tiny corpora written straight into an index home: syntax, filters, facets, snippets, freshness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from search.cli import main as cli_main
from search.facets import FILTER_FACETS
from search.index import columns, writer
from search.index.generations import IndexHome
from search.ingest.normalise import normalise
from search.model import Article
from search.query.answer import ArticlePage, Bucket, FacetCount, Filters, Health, Histogram, Result, SearchAnswer
from search.query.engine import SearchEngine
from search.query.errors import QueryError
from search.query.histogram import histogram
from search.query.params import SearchParams
from search.stats import collect_stats
from search.terminal import format_table


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ARTICLES = [
    Article(id="a1", title="Putin meets NATO leaders", date=day("2025-09-05"), source="Wire",
            body="Vladimir Putin met NATO officials in Brussels to discuss security guarantees.",
            people=["Vladimir Putin"], orgs=["NATO"], places=["Brussels"], topics=["politics"]),
    Article(id="a2", title="Central bank raises interest rates", date=day("2025-09-30T23:30:00"), source="Daily",
            body="The central bank raised interest rates by half a point. Rates had been steady for a year.",
            orgs=["Central Bank"], places=["Frankfurt"], topics=["economy"]),
    Article(id="a3", title="Harbour reopens after storms", date=day("2025-10-02"), source="Wire",
            body="The harbour reopened after two days of storms. Putin was not mentioned by the harbour master.",
            places=["Kiel"], topics=["shipping"]),
    Article(id="a4", title="Savers and rates", date=day("2024-05-01"), source="Daily",
            body="Savers complain that the rates of interest paid on deposits stay low. The harbour fund agreed.",
            people=["Anna Berg"], orgs=["Central Bank"], topics=["economy"]),
    Article(id="a5", title="Undated note on rainfall", source="Wire",
            body="Rainfall in the valley was above average, the harbour office said.", places=["Kiel"]),
    Article(id="a6", title="Olaf Scholz visits Brussels", date=day("2025-09-12"), source="Daily",
            body="Olaf Scholz met NATO partners in Brussels. Vladimir Putin was discussed.",
            people=["Olaf Scholz", "Vladimir Putin"], orgs=["NATO"], places=["Brussels"], topics=["politics"]),
    Article(id="a7", title="Markup test", date=day("2023-01-01"), source="Wire",
            body='Beware <script>alert("x")</script> & other tags near the word sentinel here.'),
]


def publish(root: Path, articles: list[Article]) -> IndexHome:
    """A new live generation holding exactly these articles (columns built as at publish time)."""
    home = IndexHome(root)
    number, work = home.new_workdir()
    writer.write_all(work, [normalise(a) for a in articles], procs=1)
    columns.build(work)
    home.publish(number, work)
    return home


@pytest.fixture
def engine(tmp_path) -> SearchEngine:
    publish(tmp_path / "index", ARTICLES)
    return SearchEngine(tmp_path / "index")


def ids(engine: SearchEngine, q: str = "", **params) -> list[str]:
    answer = engine.search(SearchParams.from_mapping({"q": q, **params}))
    return [r["id"] for r in answer["results"]]


def search(engine: SearchEngine, q: str = "", **params) -> dict:
    return engine.search(SearchParams.from_mapping({"q": q, **params}))


# -- syntax --------------------------------------------------------------------------------------
def test_all_words_must_match(engine):
    assert ids(engine, "putin nato") == ["a1", "a6"] or set(ids(engine, "putin nato")) == {"a1", "a6"}
    assert "a3" not in ids(engine, "putin nato")


def test_phrase_needs_adjacent_words(engine):
    assert ids(engine, '"interest rates"') == ["a2"]
    assert set(ids(engine, "interest rates")) == {"a2", "a4"}


def test_or(engine):
    assert set(ids(engine, "storms OR deposits")) == {"a3", "a4"}


def test_not_and_minus(engine):
    assert set(ids(engine, "putin -nato")) == {"a3"}
    assert set(ids(engine, "putin NOT nato")) == {"a3"}
    assert set(ids(engine, "harbour NOT (storms OR rainfall)")) == {"a4"}


def test_field_values(engine):
    assert ids(engine, "people:putin") == ["a6", "a1"] or set(ids(engine, "people:putin")) == {"a1", "a6"}
    assert set(ids(engine, 'people:"olaf scholz"')) == {"a6"}
    assert set(ids(engine, "title:harbour")) == {"a3"}
    assert set(ids(engine, "places:kiel")) == {"a3", "a5"}
    assert set(ids(engine, "source:daily rates")) == {"a2", "a4"}
    assert set(ids(engine, "topics:(economy OR shipping)")) == {"a2", "a3", "a4"}


def test_prefix_and_wildcard(engine):
    assert set(ids(engine, "harb*")) == {"a3", "a4", "a5"}
    assert set(ids(engine, "st?rms")) == {"a3"}


def test_date_ranges_in_the_query(engine):
    assert set(ids(engine, "date:2025-09")) == {"a1", "a2", "a6"}
    assert set(ids(engine, "date:[2025-09-10 TO 2025-10-31]")) == {"a2", "a3", "a6"}
    assert set(ids(engine, "date:<2025")) == {"a4", "a7"}
    assert set(ids(engine, "harbour date:>=2025")) == {"a3"}


def test_stop_words_only_match_nothing_and_say_so(engine):
    answer = search(engine, "the of")
    assert answer["total"] == 0 and answer["ignored_words"] == ["the", "of"]
    assert search(engine, '"to be or not to be"')["ignored_words"] == ['"to be or not to be"']
    assert search(engine, "AT&T C++")["total"] == 0
    assert search(engine, "")["total"] == len(ARTICLES) and search(engine, "")["ignored_words"] == []


@pytest.mark.parametrize("q, message", [
    ('"putin', "closing quote"),
    ("(putin", "missing ')'"),
    ("putin)", "unexpected ')'"),
    ("putin OR", "OR needs"),
    ("AND putin", "AND needs"),
    ("NOT", "NOT (or -) needs"),
    ("people:", "needs a value"),
    ("colour:red", "unknown field"),
    ("p*", "at least 2 letters"),
    ("date:someday", "can't read the date"),
    ("date:[2025-10 TO 2025-01]", "ends before it starts"),
    ("()", "empty group"),
    ("x " * 60, "query too long"),
])
def test_bad_queries_say_what_is_wrong(engine, q, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        search(engine, q)


@pytest.mark.parametrize("params, message", [
    ({"page": "0"}, "page"), ({"page": "501"}, "page"), ({"per_page": "1000"}, "per_page"),
    ({"page": "two"}, "whole number"), ({"sort": "random"}, "sort"), ({"from": "not a date"}, "'from' date"),
    ({"from": "2025-10", "to": "2025-09"}, "after"), ({"q": "x" * 501}, "too long"),
])
def test_bad_parameters(params, message):
    with pytest.raises(QueryError, match=message):
        SearchParams.from_mapping(params)


def test_long_or_expansion_is_bounded(tmp_path):
    words = [f"zeta{i:03d}" for i in range(200)]
    articles = [Article(id=f"z{i}", title=w, body=f"{w} text", date=day("2025-01-01")) for i, w in enumerate(words)]
    engine = SearchEngine(publish(tmp_path / "index", articles).root)
    answer = search(engine, "zeta*")
    assert 0 < answer["total"] <= 64


# -- ranking -------------------------------------------------------------------------------------
def test_title_match_outranks_body_matches(engine):
    assert ids(engine, "harbour")[0] == "a3"


def test_ties_broken_by_recency(tmp_path):
    body = "Identical story about the copper market."
    articles = [Article(id=f"c{i}", title="Copper", body=body, date=day(f"202{i}-01-01")) for i in range(4)]
    engine = SearchEngine(publish(tmp_path / "index", articles).root)
    assert ids(engine, "copper") == ["c3", "c2", "c1", "c0"]


def test_sort_newest_oldest_with_undated_last(engine):
    newest = ids(engine, "harbour", sort="newest")
    oldest = ids(engine, "harbour", sort="oldest")
    assert newest == ["a3", "a4", "a5"]
    assert oldest == ["a4", "a3", "a5"]


def test_paging(engine):
    everything = ids(engine, per_page=100)
    assert len(everything) == len(ARTICLES)
    pages = ids(engine, per_page=3) + ids(engine, per_page=3, page=2) + ids(engine, per_page=3, page=3)
    assert pages == everything
    assert ids(engine, per_page=3, page=4) == []


# -- filters -------------------------------------------------------------------------------------
def test_date_filter_covers_whole_days_and_months(engine):
    assert set(ids(engine, **{"from": "2025-09", "to": "2025-09"})) == {"a1", "a2", "a6"}  # a2 is 23:30 on the 30th
    assert set(ids(engine, **{"from": "5 Sep 2025", "to": "2025-09-05"})) == {"a1"}
    assert set(ids(engine, **{"to": "2024"})) == {"a4", "a7"}  # never the undated a5


def test_facet_filters_or_within_and_across(engine):
    assert set(ids(engine, places=["Brussels", "Kiel"])) == {"a1", "a3", "a5", "a6"}
    assert set(ids(engine, places=["Brussels", "Kiel"], source=["Wire"])) == {"a1", "a3", "a5"}
    assert set(ids(engine, people=["vladimir putin"])) == {"a1", "a6"}  # case-insensitive
    assert set(ids(engine, "putin", orgs=["NATO"], people=["Olaf Scholz"])) == {"a6"}


def test_multidict_and_query_args_round_trip():
    params = SearchParams.from_mapping(MultiDict([("q", "putin"), ("people", "A"), ("people", "B"),
                                                  ("from", "2025-09"), ("sort", "newest"), ("page", "2")]))
    assert params.people == ["A", "B"]
    args = params.to_query_args()
    assert args == [("q", "putin"), ("from", "2025-09"), ("people", "A"), ("people", "B"), ("sort", "newest"),
                    ("page", "2")]
    assert SearchParams.from_mapping(MultiDict(args)) == params


# -- facets and histogram ------------------------------------------------------------------------------
def facet(answer: dict, name: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in answer["facets"][name]}


def test_facets_count_the_whole_hit_set(engine):
    answer = search(engine, per_page=1)
    assert facet(answer, "source") == {"Wire": 4, "Daily": 3}
    assert facet(answer, "people") == {"Vladimir Putin": 2, "Olaf Scholz": 1, "Anna Berg": 1}
    assert facet(answer, "year") == {"2025": 4, "2024": 1, "2023": 1}


def test_facets_are_disjunctive(engine):
    answer = search(engine, places=["Brussels"])
    assert facet(answer, "places") == {"Brussels": 2, "Kiel": 2, "Frankfurt": 1}  # ignores its own selection
    assert facet(answer, "source") == {"Wire": 1, "Daily": 1}  # other facets honour it
    both = search(engine, places=["Brussels"], source=["Daily"])
    assert facet(both, "source") == {"Wire": 1, "Daily": 1}
    assert facet(both, "places") == {"Brussels": 1, "Frankfurt": 1}
    assert both["total"] == 1


def test_selected_value_listed_even_without_hits(engine):
    answer = search(engine, "rainfall", places=["Brussels"])
    assert answer["total"] == 0
    assert facet(answer, "places") == {"Kiel": 1, "Brussels": 0}


def test_histogram_interval_fits_the_span():
    def stamps(*texts):
        return np.array([int(day(t).timestamp()) for t in texts], dtype=np.int64)

    days = histogram(stamps("2025-09-01", "2025-09-03", "2025-09-03"))
    assert days["interval"] == "day"
    assert days["buckets"] == [{"start": "2025-09-01", "count": 1}, {"start": "2025-09-02", "count": 0},
                               {"start": "2025-09-03", "count": 2}]
    weeks = histogram(stamps("2025-01-01", "2025-04-15"))
    assert weeks["interval"] == "week" and weeks["buckets"][0]["start"] == "2024-12-30"  # a Monday
    months = histogram(stamps("2023-01-15", "2025-06-30"))
    assert months["interval"] == "month" and months["buckets"][0]["start"] == "2023-01-01"
    assert len(months["buckets"]) == 30 and sum(b["count"] for b in months["buckets"]) == 2
    years = histogram(stamps("1987-03-01", "2025-01-01"))
    assert years["interval"] == "year" and len(years["buckets"]) == 39
    assert histogram(np.array([columns.NO_DATE])) == {"interval": "year", "buckets": []}


def test_answer_histogram_ignores_undated(engine):
    answer = search(engine, "harbour")
    assert sum(b["count"] for b in answer["histogram"]["buckets"]) == 2
    assert answer["total"] == 3


# -- results -------------------------------------------------------------------------------------
def test_result_shape(engine):
    answer = search(engine, "putin nato", per_page=1)
    assert set(answer) >= {"query", "total", "page", "per_page", "took_ms", "filters", "results", "facets",
                           "histogram", "suggestion", "partial", "generation"}
    result = answer["results"][0]
    assert set(result) >= {"id", "title", "date", "source", "url", "snippet", "people", "orgs", "places",
                           "topics", "score"}
    assert result["date"].endswith("Z") and len(result["date"]) == 20
    assert answer["partial"] is False and answer["generation"] == 1
    assert answer["filters"]["from"] is None and answer["filters"]["people"] == []
    json.dumps(answer)


def test_answers_have_exactly_the_keys_their_types_declare(engine):
    def keys(typed) -> tuple[set, set]:
        return set(typed.__required_keys__), set(typed.__optional_keys__)

    def fits(value: dict, typed) -> bool:
        required, optional = keys(typed)
        return required <= set(value) <= required | optional

    answer = search(engine, "putin", places=["Brussels"])
    assert fits(answer, SearchAnswer) and fits(answer["filters"], Filters) and fits(answer["histogram"], Histogram)
    assert set(answer["filters"]) == {"from", "to", *FILTER_FACETS}
    assert set(answer["facets"]) == {*FILTER_FACETS, "year"}
    assert all(fits(r, Result) for r in answer["results"]) and all("snippet" in r for r in answer["results"])
    assert all(fits(f, FacetCount) for values in answer["facets"].values() for f in values)
    assert all(fits(b, Bucket) for b in answer["histogram"]["buckets"])
    assert fits(engine.article("a1"), ArticlePage)
    assert all(fits(r, Result) for r in engine.related("a1"))
    assert all(fits(r, Result) and "snippet" not in r for r in engine.export(SearchParams()))
    assert fits(engine.health(), Health)


def test_snippet_marks_matches_and_escapes_everything_else(engine):
    snippet = search(engine, "beware sentinel")["results"][0]["snippet"]
    assert "<mark>sentinel</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet and "&amp;" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippet_highlights_stemmed_forms(engine):
    snippet = search(engine, "reopen storm")["results"][0]["snippet"]
    assert "<mark>reopened</mark>" in snippet and "<mark>storms</mark>" in snippet


def test_undated_result_has_null_date(engine):
    result = search(engine, "rainfall")["results"][0]
    assert result["id"] == "a5" and result["date"] is None


def test_article_and_export(engine):
    article = engine.article("a2")
    assert article["title"] == "Central bank raises interest rates"
    assert article["paragraphs"] == [article["body"]]
    assert article["orgs"] == ["Central Bank"]
    assert engine.article("missing") is None
    exported = list(engine.export(SearchParams.from_mapping({"q": "harbour", "sort": "oldest"})))
    assert [r["id"] for r in exported] == ["a4", "a3", "a5"] and "snippet" not in exported[0]
    assert len(list(engine.export(SearchParams(), cap=2))) == 2


def test_health(engine, tmp_path):
    assert engine.health() == {"status": "ok", "documents": len(ARTICLES), "generation": 1}
    assert SearchEngine(tmp_path / "nowhere").health()["status"] == "no index"


# -- suggestion and related ---------------------------------------------------------------------------
def test_suggestion_for_a_misspelled_word(engine):
    answer = search(engine, "harbuor")
    assert answer["total"] == 0
    assert answer["suggestion"] == "harbour"
    assert search(engine, "harbour")["suggestion"] is None


def test_suggestion_keeps_the_rest_of_the_query(engine):
    assert search(engine, 'putin "brussels" natoo')["suggestion"] == 'putin "brussels" nato'


def test_related_shares_words_and_entities_but_not_copies(tmp_path):
    copy = ARTICLES[0].replace(id="a1-copy")
    engine = SearchEngine(publish(tmp_path / "index", [*ARTICLES, copy]).root)
    related = engine.related("a1", limit=3)
    found = [r["id"] for r in related]
    assert found[0] == "a6"
    assert "a1" not in found and "a1-copy" not in found
    assert engine.related("missing") == []


# -- freshness and time budget ---------------------------------------------------------------------
def test_searcher_reopens_when_a_new_generation_goes_live(tmp_path):
    home = publish(tmp_path / "index", ARTICLES[:2])
    engine = SearchEngine(home.root)
    assert search(engine, "harbour")["total"] == 0
    first = engine.generation()
    assert engine.generation() is first  # reused, not reopened per query
    publish(home.root, ARTICLES)
    answer = search(engine, "harbour")
    assert answer["total"] == 3 and answer["generation"] == 2
    home.rollback()
    assert search(engine, "harbour")["generation"] == 1


def test_past_the_time_budget_the_answer_is_partial(tmp_path):
    publish(tmp_path / "index", ARTICLES)
    engine = SearchEngine(tmp_path / "index", time_budget_s=0.0)
    answer = search(engine, '"interest rates"')
    assert answer["partial"] is True


def test_columns_rebuilt_when_missing_or_stale(tmp_path):
    home = publish(tmp_path / "index", ARTICLES)
    (home.live() / columns.FILENAME).unlink()
    assert search(SearchEngine(home.root), "putin")["total"] == 3
    assert (home.live() / columns.FILENAME).exists()


# -- presentation, CLI, stats -------------------------------------------------------------------------
def test_format_table(engine):
    text = format_table(search(engine, "putin", per_page=2), width=100)
    assert text.splitlines()[0].startswith("putin: 3 results, showing 1-2")
    assert "Putin meets NATO leaders" in text and "<mark>" not in text
    assert "people:" in text


def test_cli_search_json_and_errors(engine, capsys):
    root = str(engine.home.root)
    assert cli_main(["search", "--index", root, "--json", "--places", "Brussels", "putin"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["total"] == 2 and answer["filters"]["places"] == ["Brussels"]
    assert cli_main(["search", "--index", root, "putin", "OR"]) == 2
    assert "OR needs" in capsys.readouterr().err


def test_stats_from_columns(engine):
    stats = collect_stats(engine.home)
    assert stats["documents"] == len(ARTICLES) and stats["undated"] == 1
    assert stats["sources"] == {"Wire": 4, "Daily": 3}
    assert stats["date_range"] == ["2023-01-01T00:00:00Z", "2025-10-02T00:00:00Z"]


def test_update_publishes_columns_and_the_engine_follows(tmp_path, small_corpus):
    from search.build import BuildOptions, rebuild, update

    home = IndexHome(tmp_path / "index")
    options = BuildOptions(extract_entities=False, on_reject=lambda r: None)
    rebuild(home, [str(small_corpus)], options)
    assert (home.live() / columns.FILENAME).exists()
    engine = SearchEngine(home.root)
    assert search(engine, "ferry")["total"] == 0
    (small_corpus / "more.jsonl").write_text('{"id": "m1", "title": "Ferry strike", "body": "The ferry crews '
                                             'walked out.", "date": "2025-03-01", "source": "Wire"}\n')
    update(home, [str(small_corpus)], options)
    answer = search(engine, "ferry", source=["Wire"])
    assert answer["total"] == 1 and answer["generation"] == 2
    assert {"value": "Wire", "count": 1, "label": "Wire"} in answer["facets"]["source"]


def test_concurrent_searches_agree_with_sequential_ones(engine):
    from concurrent.futures import ThreadPoolExecutor

    queries = ["putin", '"interest rates"', "harb*", "rates -savers", "", "brussels nato", "st?rms", "date:2025"]
    expected = {q: ids(engine, q) for q in queries}
    fresh = SearchEngine(engine.home.root)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda q: (q, ids(fresh, q)), queries * 6))
    assert all(result == expected[q] for q, result in got)
