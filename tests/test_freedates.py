"""Free-form dates in the from/to fields (search/query/freedates.py)."""

from __future__ import annotations

from datetime import date

import pytest

from search.query import freedates

TODAY = date(2025, 6, 15)  # a Sunday


@pytest.mark.parametrize(("typed", "role", "field", "value"), [
    ("2025-Q1", "from", "from", "2025-01-01"),
    ("2025-Q1", "to", "to", "2025-03-31"),
    ("Q3 1987", "to", "to", "1987-09-30"),
    ("since March 2025", "to", "from", "2025-03-01"),  # the words say which field it belongs in
    ("until 1987-04", "from", "to", "1987-04-30"),
    ("before 1 May 1987", "to", "to", "1987-04-30"),
    ("last week", "from", "from", "2025-06-08"),
    ("yesterday", "to", "to", "2025-06-14"),
    ("last month", "from", "from", "2025-05-01"),
    ("last month", "to", "to", "2025-05-31"),
    ("3 days ago", "from", "from", "2025-06-12"),
    ("last year", "to", "to", "2024-12-31"),
    ("5 Sep 2025", "from", "from", "2025-09-05"),
])
def test_reads(typed, role, field, value):
    reading = freedates.read(typed, role, today=TODAY)
    assert reading is not None, typed
    assert (reading.field, reading.value) == (field, value)
    assert reading.typed == typed


@pytest.mark.parametrize("typed", ["2025-13", "1987-04-31", "", "whenever", "since whenever", "x" * 80])
def test_unreadable_stays_unread(typed):
    assert freedates.read(typed, "from", today=TODAY) is None


def test_nearest_valid():
    assert freedates.nearest_valid("1987-04-31") == "1987-04-30"
    assert freedates.nearest_valid("2025-13") == "2025-12"
    assert freedates.nearest_valid("2025-02-30") == "2025-02-28"
    assert freedates.nearest_valid("2025-09") is None
    assert freedates.nearest_valid("last week") is None
