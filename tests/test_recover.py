"""Bad parameters mended in place for the HTML pages (web/recover.py)."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from web.recover import page_past_end, recover

TODAY = date(2025, 6, 15)


def mended(pairs):
    return recover(MultiDict(pairs), today=TODAY)


def test_valid_parameters_pass_untouched():
    got = mended([("q", "oil"), ("from", "1987-03"), ("to", "1987-04"), ("places", "usa"), ("page", "2")])
    assert not got.problems
    assert (got.params.q, got.params.from_, got.params.to, got.params.places, got.params.page) == \
        ("oil", "1987-03", "1987-04", ["usa"], 2)


def test_reversed_range_runs_without_dates_and_offers_the_swap():
    got = mended([("q", "oil"), ("from", "1987-04-01"), ("to", "1987-03-01"), ("places", "usa")])
    assert (got.params.from_, got.params.to, got.params.q, got.params.places) == (None, None, "oil", ["usa"])
    problem = got.problem("to")
    assert "swapped" in problem.message
    assert ("from", "1987-03-01") in problem.fix_args and ("to", "1987-04-01") in problem.fix_args
    assert ("places", "usa") in problem.fix_args
    assert got.typed == {"from": "1987-04-01", "to": "1987-03-01"}


def test_unreadable_date_dropped_with_nearest_valid_fix():
    got = mended([("q", "oil"), ("to", "1987-04-31")])
    assert got.params.to is None and got.params.q == "oil"
    problem = got.problem("to")
    assert "1987-04-31" in problem.message
    assert problem.fix_args == [("q", "oil"), ("to", "1987-04-30")]
    nonsense = mended([("from", "soonish")])
    assert nonsense.params.from_ is None and nonsense.problem("from").fix_args is None


def test_free_form_dates_are_read_and_said():
    got = mended([("from", "last week")])
    assert got.params.from_ == "2025-06-08"
    assert got.problems[0].note and "last week" in got.problems[0].message
    assert got.problem("from") is None
    moved = mended([("to", "since 2025-Q1")])
    assert (moved.params.from_, moved.params.to) == ("2025-01-01", None)


def test_numbers_and_sort_mended():
    got = mended([("page", "501"), ("per_page", "abc"), ("sort", "sideways")])
    assert (got.params.page, got.params.sort) == (500, "relevance")
    assert {p.field for p in got.problems} == {"page", "per_page", "sort"}
    assert mended([("page", "-3")]).params.page == 1


def test_page_past_end():
    assert page_past_end(3, total=45, per_page=20) is None
    last, problem = page_past_end(9, total=45, per_page=20)
    assert last == 3 and "past the end" in problem.message
    assert page_past_end(2, total=0, per_page=20)[0] == 1
