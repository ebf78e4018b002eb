"""Every value of a facet, paged and filtered (search/query/facetvalues.py)."""

from __future__ import annotations

import numpy as np

from search.query import facetvalues

VOCAB = np.array(["kuwait", "new-zealand", "uk", "usa", "west-germany", "zaire"])
COUNTS = np.array([52, 112, 300, 900, 112, 0])
LABELS = {"new-zealand": "New Zealand", "west-germany": "West Germany", "uk": "UK", "usa": "USA"}


def label(value):
    return LABELS.get(value, value)


def page(**kwargs):
    kwargs.setdefault("selected", np.array([], dtype=np.int64))
    return facetvalues.values_page("places", VOCAB, COUNTS, label=label, **kwargs)


def test_all_values_most_frequent_first_ties_by_value():
    got = page(per_page=10)
    assert got["total_values"] == 5  # zaire has no hit
    assert [v["value"] for v in got["values"]] == ["usa", "uk", "new-zealand", "west-germany", "kuwait"]
    assert got["values"][2] == {"value": "new-zealand", "label": "New Zealand", "count": 112, "selected": False}
    assert facetvalues.distinct(COUNTS) == 5


def test_paging_covers_every_value_once():
    seen = []
    for number in (1, 2, 3):
        got = page(page=number, per_page=2)
        assert got["total_values"] == 5 and got["page"] == number
        seen += [v["value"] for v in got["values"]]
    assert sorted(seen) == sorted(VOCAB[COUNTS > 0].tolist())
    assert page(page=4, per_page=2)["values"] == []


def test_contains_matches_value_or_label_case_insensitively():
    assert [v["value"] for v in page(contains="ZEAL")["values"]] == ["new-zealand"]
    assert [v["value"] for v in page(contains="west ger")["values"]] == ["west-germany"]  # the label's space
    assert page(contains="u")["total_values"] == 3  # kuwait, uk, usa
    assert page(contains="nowhere")["values"] == []


def test_selected_values_listed_even_without_hits():
    got = page(selected=np.array([5]))
    assert got["total_values"] == 6
    assert got["values"][-1] == {"value": "zaire", "label": "zaire", "count": 0, "selected": True}
