"""Normalisation and boilerplate detection: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from search.dates import DateError, parse_date_strict
from search.ingest.boilerplate import RepeatedParagraphs, is_caption, is_promo, strip_boilerplate
from search.ingest.normalise import clean_text, content_hash, derive_title, normalise
from search.model import Article


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-09-05", "2025-09-05T00:00:00+00:00"),
    ("2025-09", "2025-09-01T00:00:00+00:00"),
    ("5 Sep 2025", "2025-09-05T00:00:00+00:00"),
    ("2024-03-14T09:30:00+01:00", "2024-03-14T08:30:00+00:00"),
    ("Tue, 10 Jun 2003 04:00:00 EST", "2003-06-10T09:00:00+00:00"),
    ("2025-09-05T23:30:00-05:00", "2025-09-06T04:30:00+00:00"),
])
def test_dates_read_as_the_instant_they_state(value, expected):
    assert parse_date_strict(value).astimezone(UTC).isoformat() == expected


def test_normalise_keeps_the_instant_in_utc_and_the_publishers_day():
    stamped = Article(body="Late story.", date=parse_date_strict("2025-03-02T23:30:00-05:00"))
    article = normalise(stamped)
    assert article.date == datetime(2025, 3, 3, 4, 30, tzinfo=UTC) and article.date.tzinfo is UTC
    assert article.utc_offset == -300 and article.day == date(2025, 3, 2)
    early = normalise(Article(body="Early story.", date=parse_date_strict("2025-03-02T05:50:00+09:00")))
    assert early.date.day == 1 and early.day == date(2025, 3, 2)
    assert normalise(Article(body="Wire.", date=parse_date_strict("2025-03-02"))).day == date(2025, 3, 2)


@pytest.mark.parametrize("value", ["2025-02-30", "not a date", "0001-01-01", "99999-01-01"])
def test_impossible_dates_raise(value):
    with pytest.raises(DateError):
        parse_date_strict(value)


def test_absent_date_is_none():
    assert parse_date_strict(None) is None and parse_date_strict("  ") is None


def test_clean_text_drops_controls_keeps_paragraphs():
    assert clean_text("a\x07b\x1b[0m  c\r\n\r\n\r\nnext\x00 para ") == "a b [0m c\n\nnext para"


def test_derived_title_is_first_sentence_shortened():
    assert derive_title("Mayor resigns. Council meets today.") == "Mayor resigns."
    long = "word " * 60
    title = derive_title(long)
    assert len(title) <= 111 and title.endswith("…")


def test_identity_is_given_id_else_stable_content_hash():
    a = normalise(Article(body="Same  text", title="T"))
    b = normalise(Article(body="same text", title="t"))
    assert a.id == b.id == content_hash("T", "Same text")
    assert normalise(Article(body="x", id="wire/42 a")).id == "wire-42-a"
    by_url = normalise(Article(body="x", id="https://news.example/a/b?id=1")).id
    assert by_url.startswith("u") and by_url == normalise(Article(body="y", id="https://news.example/a/b?id=1")).id


def test_captions_and_promos_are_detected():
    assert is_caption("open image in gallery A man walks past a shop ( AP )")
    assert is_caption("Ministers meet in the East Room on Monday (AFP/Getty)")
    assert not is_caption("The minister said the talks (which began in May) would continue for weeks to come.")
    promo = ("Your support helps us. Donate now to keep our journalism free. We believe in open access, "
             "and your donation keeps it that way. Read more")
    assert is_promo(promo)
    assert not is_promo("The charity said donations rose 5% last year, and subscriptions fell.")


def test_repeated_paragraphs_are_stripped_per_source():
    furniture = "Sign in to get the morning briefing delivered every weekday to your inbox."
    repeated = RepeatedParagraphs(min_docs=3)
    for i in range(3):
        repeated.add("paper", [furniture, f"Story number {i} is about something else entirely, at length."])
    assert strip_boilerplate([furniture, "A real paragraph of news text here."], "paper", repeated) == [
        "A real paragraph of news text here."]
    assert strip_boilerplate([furniture], "other paper", repeated) == [furniture]


def test_replace_copies_changes_only_the_named_fields_and_refuses_unknown_ones():
    original = Article(body="text", title="T", topics=["a"])
    changed = original.replace(title="U")
    assert (changed.title, changed.body, changed.topics) == ("U", "text", ["a"]) and original.title == "T"
    assert changed == Article(body="text", title="U", topics=["a"])
    with pytest.raises(TypeError):
        original.replace(nope=1)


def test_squash_fast_path_equals_the_general_form_for_every_bmp_character():
    from search.ingest.text import drop_controls, squash

    for code in range(0x10000):
        c = chr(code)
        for text in (c, f"a{c}b", f"{c}x", f"x{c}", f"a {c} b"):
            assert squash(text) == " ".join(drop_controls(text).split()), hex(code)
