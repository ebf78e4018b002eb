"""Defects found by measuring the page reader on real saved pages (bench/eval_web.py); each page here is our own."""

from __future__ import annotations

from search.ingest.formats.html import read_html
from search.model import Article

POST_URL = "https://blog.example.org/notes/2021/05/harbour-ferry-timetable/"


def _read(html: str, url: str = POST_URL) -> Article:
    (item,) = read_html("post.html", html.encode("utf-8"), url=url)
    assert isinstance(item, Article), item
    return item


def _blog_post(footer: str) -> str:
    """A blog post with no date metadata that links to two of its own older posts."""
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>Neuer Fahrplan der Hafenfähre</title>"
        "</head><body><div id='content'><h1>Neuer Fahrplan der Hafenfähre</h1><div class='entry'>"
        "<p>Ab Juni fährt die Hafenfähre wieder im Halbstundentakt, wie schon <a href='https://blog.example.org/"
        "notes/2019/02/ferry-winter-break/'>im Winter 2019</a> angekündigt. Die erste Abfahrt ist um sechs Uhr, "
        "die letzte kurz vor Mitternacht, und am Wochenende kommt eine zusätzliche Fahrt am Abend hinzu.</p>"
        "<p>Die Stadtwerke begründen den dichteren Takt mit den Fahrgastzahlen des letzten Sommers, über die "
        "<a href='https://blog.example.org/notes/2020/09/ferry-passenger-count/'>hier</a> schon berichtet wurde. "
        "Die Preise bleiben unverändert, Monatskarten gelten weiterhin auch auf der Fähre.</p>"
        f"<p class='postmetadata'><small>{footer}</small></p></div></div></body></html>"
    )


def test_links_to_older_posts_do_not_date_a_post_whose_url_gives_its_month():
    # htmldate's strongest mode (extensive search, oldest date) took a linked older post's URL date
    # (2019-02) for a page whose own permalink says 2021/05 and whose footer gives the day.
    item = _read(_blog_post("Dieser Beitrag wurde am Montag, 17. Mai 2021 veröffentlicht."))
    assert item.date is not None and item.date.date().isoformat() == "2021-05-17"


def test_url_month_window_does_not_invent_a_day():
    # With no day stated anywhere, the page stays undated rather than taking a day from the links.
    item = _read(_blog_post("Kommentare sind geschlossen."))
    assert item.date is None or item.date.strftime("%Y-%m") == "2021-05"


def test_url_window_reads_permalinks_not_numbered_slugs():
    from datetime import date

    from search.ingest.formats.pagedates import url_window

    assert url_window("https://example.org/notes/2021/05/ferry/") == (date(2021, 5, 1), date(2021, 5, 31))
    assert url_window("https://example.org/2019/7/3/20680681/ios-beta") == (date(2019, 7, 2), date(2019, 7, 4))
    assert url_window("https://example.org/2019-03-29-leader-spotlight/") == (date(2019, 3, 28), date(2019, 3, 30))
    assert url_window("https://example.org/blog/2018/7-tips-for-ferries/") is None  # a numbered slug, not a month
    assert url_window("https://example.org/item/show/132240/1") is None
