"""The query language without an index: query text → tree, date ranges, errors (as lunr.py's test_query_parser)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from search.query import tree
from search.query.dates import date_bounds, epoch
from search.query.errors import QueryError
from search.query.parse import MAX_CLAUSES, parse, replace_words
from search.query.tree import And, DateRange, Everything, Not, Or, Phrase, Prefix, Term, Wildcard, positive_terms


def both(term: str) -> Or:
    """A plain word is searched in title and body alike."""
    return Or((Term("title", term), Term("body", term)))


def at(text: str) -> int:
    return epoch(datetime.fromisoformat(text).replace(tzinfo=UTC))


# -- words, phrases, operators -------------------------------------------------------------------
def test_words_are_analysed_like_the_index_and_all_must_match():
    assert parse("Putin storms").tree == And((both("putin"), both("storm")))
    assert parse("x storms").tree == both("storm")  # one-letter words are not indexed, so not searched
    assert parse("harbour cranes return").tree == And((both("harbour"), both("crane"), both("return")))


def test_empty_query_matches_everything_and_unsearchable_words_nothing():
    assert parse("").tree == Everything() and parse("").ignored == []
    assert parse("the of").tree == tree.Nothing() and parse("the of").ignored == ["the", "of"]
    assert parse("AT&T").tree == tree.Nothing() and parse('C++ "to be"').ignored == ["C++", '"to be"']
    assert parse("x storms").ignored == ["x"]


def test_phrase_keeps_relative_positions_across_stop_words():
    assert parse('"interest rates"').tree == Or((Phrase("title", ((0, "interest"), (1, "rate"))),
                                                 Phrase("body", ((0, "interest"), (1, "rate")))))
    assert parse('"bank of england"').tree.items[0] == Phrase("title", ((0, "bank"), (2, "england")))


def test_or_binds_looser_than_and():
    assert parse("rates OR deposits").tree == Or((*both("rate").items, *both("deposit").items))
    tree = parse("central bank OR harbour").tree
    assert tree == Or((And((both("central"), both("bank"))), *both("harbour").items))


@pytest.mark.parametrize("q", ["putin AND nato", "putin && nato", "+putin nato"])
def test_and_spellings(q):
    assert parse(q).tree == parse("putin nato").tree


def test_or_spellings():
    assert parse("putin || nato").tree == parse("putin OR nato").tree


def test_not_minus_and_groups():
    expected = And((both("putin"), Not(both("nato"))))
    assert parse("putin -nato").tree == expected
    assert parse("putin NOT nato").tree == expected
    assert parse("harbour -(storms OR rainfall)").tree == And((
        both("harbour"), Not(Or((*both("storm").items, *both("rainfal").items)))))
    assert parse('putin -"central bank"').tree.items[1] == Not(parse('"central bank"').tree)


def test_a_lone_dash_is_punctuation():
    assert parse("Paris - Berlin").tree == parse("paris berlin").tree


# -- fields ---------------------------------------------------------------------------------------
def test_entity_fields_match_names_word_by_word_unstemmed():
    assert parse("people:Putin").tree == Term("people", "putin")
    assert parse('people:"Olaf Scholz"').tree == Phrase("people", ((0, "olaf"), (1, "scholz")))
    assert parse("places:the").tree == Term("places", "the")  # no stop list for names


def test_field_aliases_and_case():
    assert parse("person:putin").tree == parse("people:putin").tree
    assert parse("TITLE:storms").tree == Term("title", "storm")
    assert parse("headline:storms").tree == Term("title", "storm")
    assert parse("org:nato").tree == Term("orgs", "nato")


def test_a_field_applies_to_a_whole_group():
    assert parse("topics:(economy OR shipping)").tree == Or((Term("topics", "economy"), Term("topics", "shipping")))


def test_url_like_words_are_not_fields():
    assert parse("http://example.com").tree is not None


# -- prefix and wildcard ------------------------------------------------------------------------------
def test_prefix_and_wildcard():
    assert parse("harb*").tree == Or((Prefix("title", "harb"), Prefix("body", "harb")))
    assert parse("St?rms").tree == Or((Wildcard("title", "st?rms"), Wildcard("body", "st?rms")))
    assert parse("title:harb*").tree == Prefix("title", "harb")


# -- dates ----------------------------------------------------------------------------------------
def test_date_values_cover_whole_periods():
    assert parse("date:2025-09").tree == DateRange(at("2025-09-01"), at("2025-09-30T23:59:59"))
    assert parse("date:[2025-09-10 TO 2025-10-31]").tree == DateRange(at("2025-09-10"), at("2025-10-31T23:59:59"))
    assert parse("date:2025-01..2025-02").tree == DateRange(at("2025-01-01"), at("2025-02-28T23:59:59"))
    assert parse("date:[* TO 1987-03-01]").tree == DateRange(None, at("1987-03-01T23:59:59"))


@pytest.mark.parametrize("q, expected", [
    ("date:>=2025", DateRange(at("2025-01-01"), None)),
    ("date:>2025", DateRange(at("2026-01-01"), None)),
    ("date:<=2024-05", DateRange(None, at("2024-05-31T23:59:59"))),
    ("date:<2025", DateRange(None, at("2024-12-31T23:59:59"))),
])
def test_open_date_ranges(q, expected):
    assert parse(q).tree == expected


def test_date_bounds_read_times_and_zones_as_utc_instants():
    low, high = date_bounds("2025-09-05T23:30:00-05:00")
    assert low == high == datetime(2025, 9, 6, 4, 30, tzinfo=UTC)
    assert date_bounds("5 Sep 2025") == (datetime(2025, 9, 5, tzinfo=UTC), datetime(2025, 9, 5, 23, 59, 59, tzinfo=UTC))


def test_date_with_words():
    assert parse("harbour date:>=2025").tree == And((both("harbour"), DateRange(at("2025-01-01"), None)))


# -- what the engine reads off a parse --------------------------------------------------------------
def test_plain_words_are_kept_for_spelling_but_not_field_values():
    assert parse('putin "brussels" natoo').words == ["putin", "brussels", "natoo"]
    assert parse("people:putin harb*").words == []


def test_replace_words_keeps_the_rest_of_the_query():
    assert replace_words('putin "brussels" natoo', {"natoo": "nato"}) == 'putin "brussels" nato'
    assert replace_words("Natoo -x", {"natoo": "nato"}) == "nato -x"


def test_positive_terms_leave_out_negated_parts():
    tree = parse('harbour -storms "interest rates"').tree
    assert positive_terms(tree) == {("title", "harbour"), ("body", "harbour"), ("title", "interest"),
                                    ("body", "interest"), ("title", "rate"), ("body", "rate")}


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("q, message", [
    ('"putin', "closing quote"),
    ("(putin", "missing ')'"),
    ("putin)", "unexpected ')'"),
    ("putin OR", "OR needs"),
    ("OR putin", "OR needs"),
    ("AND putin", "AND needs"),
    ("putin AND", "AND needs"),
    ("NOT", "NOT (or -) needs"),
    ("people:", "needs a value"),
    ("colour:red", "unknown field 'colour:'"),
    ("p*", "at least 2 letters"),
    ("date:someday", "can't read the date"),
    ("date:[2025-10 TO 2025-01]", "ends before it starts"),
    ("date:[2025-10]", "write a date range as"),
    ("()", "empty group"),
    ("x" * 501, "at most 500 characters"),
    ("w " * (MAX_CLAUSES + 1), f"at most {MAX_CLAUSES} words"),
])
def test_bad_queries_say_what_is_wrong(q, message):
    with pytest.raises(QueryError) as caught:
        parse(q)
    assert message in str(caught.value)
