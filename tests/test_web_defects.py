"""One test per defect of issue 12 in the page and feed readers, each on a file the test writes.

The pages and feeds here are small but shaped like the real ones that failed: what matters is the
construct (a PHP warning before the doctype, a stray byte, a comment inside a paragraph, ...).
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from search.ingest.dedupe import dedupe
from search.ingest.normalise import normalise
from search.ingest.read import detect_format, read_file
from search.model import Article, Rejected

STORY = [
    "Workers at the Lindholm shipyard voted on Thursday to accept a new three-year wage agreement, ending a "
    "dispute that had delayed the launch of two ferries ordered by the regional transport authority.",
    "The agreement raises pay by eleven percent over three years and adds a second shift allowance for "
    "welders, the union's negotiator said after the count, which took most of the afternoon.",
    "Management said the first of the two ferries would now be floated out in June, four months later than "
    "planned, and that the penalty payments owed to the authority were still being discussed.",
]


def page(body: str, head: str = "", title: str = "Shipyard workers accept wage deal") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def paragraphs(texts: list[str] = STORY) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def read(tmp_path: Path, name: str, data: bytes | str) -> list[Article | Rejected]:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return list(read_file(path))


def article(tmp_path: Path, name: str, data: bytes | str) -> Article:
    (item,) = read(tmp_path, name, data)
    assert isinstance(item, Article), item
    return item


# 1 -------------------------------------------------------------------------------------------
def test_php_warning_before_doctype_is_still_a_page(tmp_path):
    warning = ("<br />\n<b>Warning</b>:  Undefined array key \"ref\" in <b>/srv/www/story.php</b> on line "
               "<b>41</b><br />\n")
    item = article(tmp_path, "story.php.html", warning + page(paragraphs()))
    assert item.title == "Shipyard workers accept wage deal" and STORY[1] in item.body


# 2 -------------------------------------------------------------------------------------------
def test_one_invalid_byte_in_declared_utf8_does_not_garble_the_page(tmp_path):
    german = ["Die Werftarbeiter in Lindholm haben am Donnerstag einem neuen Tarifvertrag zugestimmt, der "
              "Löhne um elf Prozent über drei Jahre erhöht und einen Zuschlag für Schweißer einführt.",
              "Die Geschäftsführung sagte, die erste Fähre werde nun im Juni ausgedockt, vier Monate später "
              "als geplant; über Vertragsstrafen werde noch gesprochen.\xff"]
    html = page(paragraphs(german), title="Werft: Einigung im Tarifstreit").encode("utf-8")
    html = html.replace("\xff".encode(), b"\xff")  # one byte that is not UTF-8
    item = article(tmp_path, "werft.html", html)
    assert "Löhne um elf Prozent" in item.body and "Schweißer" in item.body
    assert item.title == "Werft: Einigung im Tarifstreit"


# 3 -------------------------------------------------------------------------------------------
def test_control_character_does_not_empty_the_page(tmp_path):
    texts = [STORY[0].replace("voted", "voted\x07"), *STORY[1:]]
    item = article(tmp_path, "bel.html", page(paragraphs(texts)))
    assert "Workers at the Lindholm shipyard voted" in item.body and STORY[2] in item.body


# 4 -------------------------------------------------------------------------------------------
def test_comments_inside_the_article_lose_no_text(tmp_path):
    body = (f"<p>{STORY[0]}<!-- inline note for editors --> {STORY[1]}</p><!-- ad slot 3 -->"
            f"<p>{STORY[2]}</p>")
    item = article(tmp_path, "comments.html", page(body, '<meta property="og:type" content="article">'))
    assert STORY[1] in item.body and STORY[2] in item.body


# 5 -------------------------------------------------------------------------------------------
def test_short_but_real_article_is_not_cut_and_rejected(tmp_path):
    brief = ("The coastal road between Harlow Point and Saltby reopened at noon after the rock slide was "
             "cleared, police said.")
    html = page(f"<p>{brief}</p>", '<meta property="og:type" content="article">', title="Coastal road reopens")
    assert brief in article(tmp_path, "brief.html", html).body


# 6 -------------------------------------------------------------------------------------------
def _teasers(n: int = 5) -> str:
    links = "".join(f'<h3><a href="/story/{i}">Other story number {i} in the list</a></h3>' for i in range(n))
    return f'<div class="more">{links}</div>'


def test_og_type_news_counts_as_article_metadata(tmp_path):
    html = page(paragraphs(STORY[:2]) + _teasers(),
                '<meta property="og:type" content="news">')
    assert STORY[0] in article(tmp_path, "news.html", html).body


def test_dense_cjk_paragraphs_are_an_article_not_a_listing(tmp_path):
    cjk = ["造船所の労働者は木曜日、新しい三年間の賃金協定を受け入れることを投票で決めた。"
           "これにより二隻のフェリーの進水を遅らせていた争議が終わった。",
           "協定は三年間で賃金を十一パーセント引き上げ、溶接工には第二シフト手当を加える。組合の交渉担当者が集計後に明らかにした。",
           "経営側は、一隻目のフェリーを六月に進水させると述べた。予定より四か月遅れとなり、違約金については協議が続いている。"]
    html = page(paragraphs(cjk) + _teasers(), title="造船所で賃金協定")
    item = article(tmp_path, "cjk.html", html)
    assert cjk[1] in item.body


def test_br_separated_article_is_an_article_not_a_listing(tmp_path):
    html = page("<div class=text>" + "<br><br>".join(STORY) + "</div>" + _teasers())
    assert STORY[2] in article(tmp_path, "br.html", html).body


# 7 -------------------------------------------------------------------------------------------
def test_dotted_date_is_day_first(tmp_path):
    html = page(paragraphs(), '<meta name="date" content="10.12.2022">')
    assert article(tmp_path, "dotted.html", html).date.date().isoformat() == "2022-12-10"


def test_year_only_date_published_is_no_evidence(tmp_path):
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "1988"}</script>'
    assert article(tmp_path, "year.html", page(paragraphs(), ld)).date is None


# 8 -------------------------------------------------------------------------------------------
def test_layout_table_unwrapping_keeps_every_cell_text(tmp_path):
    nav = '<td width="150"><a href="/">Home</a><br><a href="/news">News</a></td>'
    layouts = [
        f"<tr>{nav}<td><b>Yard news</b><br>{STORY[0]}<p>{STORY[1]}</p>{STORY[2]}</td></tr>",  # text before a <p>
        f"<caption>{STORY[0]}</caption><tr><td><p>{STORY[1]}</p><p>{STORY[2]}</p></td></tr>",
        f"<tr><th>{STORY[0]}</th></tr><tr><td><p>{STORY[1]}</p><div>{STORY[2]}</div></td></tr>",
        f"<tr><td><div><span>{STORY[0]}</span></div></td><td><p>{STORY[1]}</p></td><td>{STORY[2]}</td></tr>",
    ]
    for number, rows in enumerate(layouts):
        html = (f"<html><head><title>Yard news</title><meta property='og:type' content='article'></head>"
                f"<body><table>{rows}</table></body></html>")
        body = article(tmp_path, f"layout{number}.html", html).body
        assert all(p in body for p in STORY), (number, body)
        assert "Home" not in body


# 9 -------------------------------------------------------------------------------------------
def test_library_warnings_do_not_reach_stderr(tmp_path):
    html = page(paragraphs(), '<meta name="date" content="March 2, 2025 10:42 ET">')
    (tmp_path / "tz.html").write_text(html, encoding="utf-8")
    code = ("import sys; from pathlib import Path; from search.ingest.read import read_file; "
            "list(read_file(Path(sys.argv[1])))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    run = subprocess.run([sys.executable, "-W", "default", "-c", code, str(tmp_path / "tz.html")],
                         capture_output=True, text=True, check=True, env=env)
    assert "Warning" not in run.stderr, run.stderr


# 10 ------------------------------------------------------------------------------------------
def test_prose_paragraphs_starting_with_byline_words_are_kept(tmp_path):
    prose = ["By noon the yard gates were open again and the first buses arrived.",
             "Published accounts of the vote differ on how close it was.",
             "Updated plans for the second ferry are due next week."]
    html = page("<p>By Jana Koller</p><p>Published 3 March 2025</p>" + paragraphs([STORY[0], *prose, STORY[1]]),
                '<meta property="og:type" content="article">')
    body = article(tmp_path, "by.html", html).body
    assert all(p in body for p in prose)
    assert "By Jana Koller" not in body and "Published 3 March 2025" not in body


# 11 ------------------------------------------------------------------------------------------
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Town bulletin</title><link>https://town.example.org/</link>
<item><title>Budget approved</title><link>https://town.example.org/bulletin/</link>
<guid isPermaLink="false">b-101</guid>
<description>The council approved next year's budget.</description></item>
<item><title>Road works</title><link>https://town.example.org/bulletin/</link>
<guid isPermaLink="false">b-102</guid>
<description>Main Street closes for two weeks.</description></item>
</channel></rss>
"""


def test_items_with_one_link_and_distinct_guids_stay_distinct(tmp_path):
    items = read(tmp_path, "bulletin.xml", RSS)
    assert [i.title for i in items] == ["Budget approved", "Road works"]
    assert len({i.id for i in items}) == 2 and {i.url for i in items} == {"https://town.example.org/bulletin/"}
    bulletin = page(paragraphs(), '<link rel="canonical" href="https://town.example.org/bulletin/">')
    saved = article(tmp_path, "bulletin.html", bulletin)
    kept, duplicates = dedupe([normalise(a) for a in [*items, saved]])
    assert duplicates == 0 and len(kept) == 3  # whose story would the page be? none is merged


# 12 ------------------------------------------------------------------------------------------
def test_utf16_and_utf32_with_bom_are_read(tmp_path):
    html = page(paragraphs())
    for codec, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                       ("utf-32-le", codecs.BOM_UTF32_LE)):
        assert STORY[0] in article(tmp_path, f"{codec}.html", bom + html.encode(codec)).body
    utf16 = codecs.BOM_UTF16_LE + RSS.replace("utf-8", "utf-16").encode("utf-16-le")
    (feed_item, _) = read(tmp_path, "utf16.xml", utf16)
    assert feed_item.title == "Budget approved"


# 13 ------------------------------------------------------------------------------------------
def test_undeclared_koi8r_feed_is_detected_not_mojibake(tmp_path):
    title = "Как пережить новогоднюю ночь"
    text = ("Наверное, единственное, во что сегодня можно верить безоговорочно, это то, что новогодняя ночь "
            "будет длинной. Врачи советуют не забывать о простых правилах и беречь себя.")
    rss = ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Вести</title>'
           f"<link>https://v.example.ru/</link><item><title>{title}</title><link>https://v.example.ru/1</link><description>{text}</description></item>"
           "</channel></rss>\n")
    (item,) = read(tmp_path, "koi8.xml", rss.encode("koi8-r"))
    assert item.title == title and item.body == text


# 14 ------------------------------------------------------------------------------------------
def test_json_feed_is_a_format(tmp_path):
    doc = ('{"version": "https://jsonfeed.org/version/1.1", "title": "Yard news",\n "items": [\n'
           '  {"id": "1", "title": "Deal accepted", "content_text": "Workers accepted the deal."},\n'
           '  {"id": "2", "title": "Launch in June", "content_text": "The first ferry launches in June."}\n ]}\n')
    items = read(tmp_path, "feed.json", doc)
    assert [i.title for i in items] == ["Deal accepted", "Launch in June"]
    assert all(i.format == "jsonfeed" for i in items)


# 15 ------------------------------------------------------------------------------------------
def test_itemless_feeds_and_odd_files_get_honest_messages(tmp_path):
    empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    (msg,) = read(tmp_path, "empty.xml", empty)
    assert isinstance(msg, Rejected) and "no items" in msg.reason
    bozo = '<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet &nbsp; feed</title></channel></rss>'
    (msg,) = read(tmp_path, "bozo.xml", bozo)
    assert "no items" in msg.reason
    (msg,) = read(tmp_path, "gone.html", "<!-- this page was removed by the archive -->\n")
    assert "only comments" in msg.reason
    cdf = ('<?xml version="1.0"?>\n<CHANNEL HREF="https://c.example.org/"><TITLE>Channel</TITLE>'
           '<ITEM HREF="https://c.example.org/a.html"><TITLE>Harbour page</TITLE>'
           "<ABSTRACT>About the harbour.</ABSTRACT></ITEM></CHANNEL>\n")
    assert detect_format(cdf.encode()) == "feed"
    atom03 = ('<?xml version="1.0"?>\n<feed version="0.3"><title>Old</title>'
              "<entry><title>Hello</title><issued>2004-03-01T10:00:00+01:00</issued>"
              "<summary>First post.</summary></entry></feed>\n")
    (old,) = read(tmp_path, "old.xml", atom03)
    assert isinstance(old, Article) and old.title == "Hello"
    assert old.date.astimezone(UTC) == datetime(2004, 3, 1, 9, 0, tzinfo=UTC)
