"""Web frontend and API through Flask's test client, on a real index built in tmp_path.

The corpus carries one hostile article (script tags, attribute breakers and a
javascript: URL in title, body, entities, source and url) so every page that
shows article data proves it escapes it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import pytest

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome
from web import create_app
from web.feeds import csv_cell, xml_text

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
PAYLOAD = '<script>alert("xss")</script>'
ATTR_PAYLOAD = '"><img src=x onerror=alert(1)>'
XSS_ARTICLE = {
    "id": "xss-1",
    "title": f"Harbour {PAYLOAD} report {ATTR_PAYLOAD}",
    "body": f"The harbour report mentions {PAYLOAD} in the body.\n\nA second paragraph {ATTR_PAYLOAD} here.",
    "date": "2024-05-05",
    "source": f"Evil {ATTR_PAYLOAD} Source",
    "url": "javascript:alert(document.cookie)",
    "people": [f"Mallory {PAYLOAD}"],
    "orgs": [f"Org {ATTR_PAYLOAD}"],
    "places": [f"Place {PAYLOAD}"],
    "topics": [f"topic {ATTR_PAYLOAD}"],
}
PEOPLE = ["Anna Berg", "Olaf Scholz", "Maria Silva", "Kenji Sato", "Lena Novak", "Omar Haddad", "Ines Costa",
          "Piotr Zielinski"]
SOURCES = ["Harbour Gazette", "Civic Wire", "Meridian Post"]
SUBJECTS = ["tanks", "election", "inflation", "summit", "harbour"]


def normal_articles() -> list[dict]:
    """30 dated articles over 2023-2025, several people each, three sources."""
    articles = []
    for i in range(30):
        year, month = 2023 + i // 12, i % 12 + 1
        subject = SUBJECTS[i % len(SUBJECTS)]
        articles.append({
            "id": f"n{i:02d}",
            "title": f"Ministers discuss {subject} in round {i}",
            "body": (f"Officials met to talk about {subject} and budgets in round {i}.\n\n"
                     f"{PEOPLE[i % 8]} said the {subject} question would return next month.\n\n"
                     "Observers expect a long negotiation."),
            "date": f"{year}-{month:02d}-{(i % 27) + 1:02d}",
            "source": SOURCES[i % 3],
            "url": f"https://news.example/{i}",
            "authors": ["Desk"],
            "people": [PEOPLE[i % 8], PEOPLE[(i + 3) % 8]],
            "orgs": ["Harbour Authority"] if subject == "harbour" else ["Parliament"],
            "places": ["Kiel"] if i % 2 else ["Porto"],
            "topics": [subject],
        })
    return articles


def special_articles() -> list[dict]:
    return [
        XSS_ARTICLE,
        {"id": "wire/2024/slash-id", "title": "Zeppelin hangar reopens", "body": "A zeppelin hangar reopened.",
         "date": "2024-07-01", "source": "Civic Wire", "people": [], "orgs": [], "places": ["Friedrichshafen"],
         "topics": ["aviation"]},
        {"id": "undated-1", "title": "Undated harbour note", "body": "A note about the harbour without a date.",
         "source": "Civic Wire", "people": [], "orgs": [], "places": [], "topics": []},
    ]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def build(home: IndexHome, *files: Path) -> None:
    rebuild(home, [str(f) for f in files], BuildOptions(extract_entities=False, on_reject=lambda r: None))


@pytest.fixture(scope="module")
def index_home(tmp_path_factory) -> IndexHome:
    root = tmp_path_factory.mktemp("web")
    home = IndexHome(root / "index")
    build(home, write_jsonl(root / "corpus" / "news.jsonl", normal_articles() + special_articles()))
    return home


@pytest.fixture(scope="module")
def client(index_home):
    app = create_app(index_home.root)
    return app.test_client()


class Links(HTMLParser):
    """Collects <a href> with their text, and every start tag's attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict]] = []
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "a" and "href" in attrs:
            self._href, self._text = attrs["href"], []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None

    def hrefs(self, containing: str = "") -> list[str]:
        return [h for h, _ in self.links if containing in h]

    def link_named(self, text: str) -> str:
        return next(h for h, t in self.links if text in t)


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def get_ok(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response


# ---------------------------------------------------------------- search page


def test_search_page_shows_results_count_and_keeps_the_query(client):
    html = get_ok(client, "/search?q=harbour").get_data(as_text=True)
    assert 'value="harbour"' in html
    assert re.search(r"<strong>\d+</strong> articles", html)
    assert re.search(r"in \d+ ms", html)
    assert "<mark>" in html.lower()
    assert "Ministers discuss harbour in round 4" in html


def test_search_page_has_landmarks_and_labels(client):
    page = Links(get_ok(client, "/search?q=harbour").get_data(as_text=True))
    tags = [t for t, _ in page.tags]
    for landmark in ("header", "main", "aside", "footer", "nav"):
        assert landmark in tags
    form = next(a for t, a in page.tags if t == "form")
    assert form.get("role") == "search" and form.get("method") == "get"
    labels = {a.get("for") for t, a in page.tags if t == "label"}
    assert {"q", "from", "to"} <= labels
    assert any(t == "html" and a.get("lang") == "en" for t, a in page.tags)


def test_root_browses_the_whole_archive(client, index_home):
    html = get_ok(client, "/").get_data(as_text=True)
    total = client.get("/api/search").get_json()["total"]
    assert total == 33
    assert f"<strong>{total}</strong>" in html


def test_facet_link_adds_a_filter_and_keeps_every_other_param(client):
    page = Links(get_ok(client, "/search?q=round&sort=newest&places=Kiel&page=2&per_page=5").get_data(as_text=True))
    href = next(h for h in page.hrefs("people=") if "Anna+Berg" in h or "Anna%20Berg" in h)
    args = query_of(href)
    assert args["q"] == ["round"] and args["sort"] == ["newest"] and args["places"] == ["Kiel"]
    assert args["per_page"] == ["5"] and args["people"] == ["Anna Berg"]
    assert "page" not in args  # a new filter starts again at page 1


def test_several_values_of_one_facet_are_ored_and_shown_as_chips(client):
    one = client.get("/api/search?people=Anna+Berg").get_json()["total"]
    two = client.get("/api/search?people=Anna+Berg&people=Olaf+Scholz").get_json()["total"]
    assert two > one > 0
    page = Links(get_ok(client, "/search?people=Anna+Berg&people=Olaf+Scholz").get_data(as_text=True))
    chip = page.link_named("Anna Berg ×")
    assert query_of(chip) == {"people": ["Olaf Scholz"]}


def test_chip_removal_keeps_the_rest_of_the_search(client):
    page = Links(get_ok(client, "/search?q=round&places=Kiel&from=2024-01-01&sort=oldest").get_data(as_text=True))
    remove_place = next(h for h, t in page.links if t.startswith("Places: Kiel"))
    assert query_of(remove_place) == {"q": ["round"], "from": [_from_value(page)], "sort": ["oldest"]}
    remove_from = next(h for h, t in page.links if t.startswith("From:"))
    assert "from" not in query_of(remove_from) and query_of(remove_from)["places"] == ["Kiel"]


def _from_value(page: Links) -> str:
    return next(a["value"] for t, a in page.tags if t == "input" and a.get("name") == "from")


def test_facet_more_link_shows_the_long_list(client):
    short = Links(get_ok(client, "/search").get_data(as_text=True))
    more = next(h for h, t in short.links if t.startswith("Show") and "more" in t and "people" in h)
    assert query_of(more)["more"] == ["people"]
    long = Links(get_ok(client, more.split("#")[0]).get_data(as_text=True))
    people_links = lambda page: [h for h in page.hrefs("people=")]  # noqa: E731
    assert len(people_links(long)) > len(people_links(short))
    assert any(t.startswith("Show fewer") for _, t in long.links)


def test_year_facet_and_histogram_bars_link_to_their_period(client):
    page = Links(get_ok(client, "/search?q=round").get_data(as_text=True))
    year = next(h for h, t in page.links if t.startswith("2024 ") or t == "2024")
    assert query_of(year)["from"] == ["2024-01-01"] and query_of(year)["to"] == ["2024-12-31"]
    html = client.get("/search?q=round").get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    bars = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)"><title>', svg)
    assert len(bars) >= 3
    for href, label in bars:
        args = query_of(href.replace("&amp;", "&"))
        assert args["q"] == ["round"] and args["from"] and args["to"] and "article" in label


def test_histogram_bar_link_narrows_the_results(client):
    html = client.get("/search?q=round").get_data(as_text=True)
    href = re.search(r'<svg.*?<a href="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
    narrowed = client.get("/api" + href).get_json()
    assert 0 < narrowed["total"] < client.get("/api/search?q=round").get_json()["total"]


def test_sort_switch_and_pagination_are_links(client):
    page = Links(get_ok(client, "/search?q=round&per_page=5").get_data(as_text=True))
    newest = page.link_named("Newest")
    assert query_of(newest)["sort"] == ["newest"] and query_of(newest)["q"] == ["round"]
    page2 = page.link_named("Next")
    assert query_of(page2)["page"] == ["2"] and query_of(page2)["per_page"] == ["5"]
    first = client.get("/api/search?q=round&per_page=5").get_json()["results"]
    second = client.get("/api" + page2).get_json()["results"]
    assert {r["id"] for r in first}.isdisjoint({r["id"] for r in second})
    html = client.get(page2).get_data(as_text=True)
    assert 'aria-current="page">2<' in html and "Previous" in html


def test_newest_sort_orders_by_date(client):
    results = client.get("/api/search?sort=newest&per_page=20").get_json()["results"]
    dates = [r["date"] for r in results if r["date"]]
    assert dates == sorted(dates, reverse=True)


def test_did_you_mean_links_to_the_corrected_query(client):
    answer = client.get("/api/search?q=harbuor").get_json()
    assert answer["suggestion"], "the engine should suggest a spelling for 'harbuor'"
    page = Links(get_ok(client, "/search?q=harbuor&places=Kiel").get_data(as_text=True))
    href = page.link_named(answer["suggestion"])
    assert query_of(href)["q"] == [answer["suggestion"]] and query_of(href)["places"] == ["Kiel"]


def test_empty_result_page_offers_to_drop_a_filter(client):
    html = get_ok(client, "/search?q=zeppelin&places=Kiel").get_data(as_text=True)
    assert "No articles match" in html
    page = Links(html)
    drop = page.link_named("Drop the filter Places: Kiel")
    assert query_of(drop) == {"q": ["zeppelin"]}
    assert client.get("/api" + drop).get_json()["total"] == 1
    assert page.link_named("Browse all articles")


def test_snippet_is_the_only_unescaped_html(client):
    answer = client.get("/api/search?q=harbour").get_json()
    snippet = next(r["snippet"] for r in answer["results"] if r["id"] == "xss-1")
    assert "<script" not in snippet and "&lt;script&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize("url", [
    "/search?q=harbour",
    "/search?q=people:mallory",
    "/article/xss-1",
    "/search?people=" + "Mallory%20%3Cscript%3Ealert(%22xss%22)%3C%2Fscript%3E",
    "/search?q=harbour&more=orgs",
])
def test_xss_payloads_from_articles_are_escaped(client, url):
    html = get_ok(client, url).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_javascript_url_of_an_article_is_never_a_link(client):
    html = get_ok(client, "/article/xss-1").get_data(as_text=True)
    assert "javascript:" not in html
    assert "Read the original" not in html


def test_xss_article_page_shows_entities_as_escaped_filter_links(client):
    page = Links(get_ok(client, "/article/xss-1").get_data(as_text=True))
    href = page.link_named("Mallory")
    assert query_of(href) == {"people": [XSS_ARTICLE["people"][0]]}


@pytest.mark.parametrize("query", [
    PAYLOAD, ATTR_PAYLOAD, "' onmouseover='alert(1)", "</textarea><script>x</script>", "javascript:alert(1)",
    '"', "(((((", ")", "*", "title:", "people:", "-", "NOT", "OR", "AND OR NOT", '"unclosed phrase', "a" * 400,
    "\x00", "\u202e evil", "%00", "😀 news", "date:[2020 TO", "{}[]^~", "\\", "harbour^999999999999",
])
def test_hostile_queries_never_break_a_route(client, query):
    for route in ("/search", "/api/search", "/search.atom", "/search.csv"):
        response = client.get(route, query_string={"q": query})
        assert response.status_code in (200, 400), (route, query, response.status_code)
        body = response.get_data(as_text=True)
        if route != "/search.csv":  # CSV is raw data by design (text/csv, attachment, nosniff)
            assert "<script>" not in body and "<img src=x" not in body
        assert "Traceback" not in body
        if route.startswith("/api/"):
            assert response.is_json


def test_hostile_query_is_echoed_escaped(client):
    html = client.get("/search", query_string={"q": ATTR_PAYLOAD}).get_data(as_text=True)
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html or "&lt;img src=x" in html
    assert "<img src=x" not in html


def test_error_message_echoing_input_is_escaped(client):
    response = client.get("/search", query_string={"from": PAYLOAD})
    assert response.status_code == 200 and 'class="problem"' in response.get_data(as_text=True)
    assert "<script>alert" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- bad parameters


BAD_PARAMS = [
    {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1e9"}, {"page": "100000"},
    {"per_page": "0"}, {"per_page": "100000"}, {"per_page": "x"},
    {"sort": "sideways"}, {"from": "not a date"}, {"to": "2024-13-45"}, {"q": "x" * 5000},
]


@pytest.mark.parametrize("params", BAD_PARAMS)
def test_bad_parameters_give_400_json_under_api(client, params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 400, (params, response.status_code)
    assert response.is_json
    assert isinstance(response.get_json()["error"], str) and response.get_json()["error"]


@pytest.mark.parametrize("params", BAD_PARAMS)
def test_bad_parameters_are_mended_in_place_on_the_html_page(client, params):
    response = client.get("/search", query_string=params)
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and "Traceback" not in html
    if len(response.request.query_string) > 4096:  # too long to read at all
        assert response.status_code == 400 and "error-message" in html
        return
    assert response.status_code == 200, params
    assert 'class="problem"' in html and 'class="summary"' in html  # said, and the results are still there


def test_unknown_more_value_ignored_and_huge_query_string_is_400(client):
    assert client.get("/search?more=secrets").status_code == 200
    long_args = "&".join(f"people=p{i}" for i in range(800))
    assert client.get("/api/search?" + long_args).status_code == 400


def test_bad_parameters_on_feed_and_csv_are_400(client):
    for route in ("/search.atom", "/search.csv"):
        response = client.get(route + "?page=0&sort=bad")
        assert response.status_code == 400 and response.mimetype == "text/plain"


def test_unknown_article_is_404(client):
    assert client.get("/article/does-not-exist").status_code == 404
    response = client.get("/api/article/does-not-exist")
    assert response.status_code == 404 and response.get_json()["error"]
    assert client.get("/article/" + "x" * 2000).status_code == 404


def test_unknown_api_route_and_wrong_method_answer_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json
    response = client.post("/api/search")
    assert response.status_code == 405 and response.is_json
    assert client.post("/search").status_code == 405


# ---------------------------------------------------------------- article page and API


def test_article_page_has_paragraphs_entities_related_and_original(client):
    html = get_ok(client, "/article/n04").get_data(as_text=True)
    page = Links(html)
    assert "<h1>Ministers discuss harbour in round 4</h1>" in html
    assert html.count("<p>") >= 3  # one per paragraph
    assert '<time datetime="2023-05-05T00:00:00Z">5 May 2023</time>' in html
    assert page.link_named("Read the original") == "https://news.example/4"
    assert query_of(page.link_named("Harbour Authority")) == {"orgs": ["Harbour Authority"]}
    assert query_of(page.link_named("Kiel") if "Kiel" in html else page.link_named("Porto"))
    related = [h for h in page.hrefs("/article/") if h != "/article/n04"]
    assert related, "related articles should be listed"
    assert get_ok(client, related[0])


def test_article_with_a_slash_in_its_id(client):
    html = get_ok(client, "/search?q=zeppelin").get_data(as_text=True)
    href = Links(html).link_named("Zeppelin hangar reopens")
    assert "Zeppelin hangar reopens" in get_ok(client, href).get_data(as_text=True)
    found = client.get("/api/search?q=zeppelin").get_json()["results"][0]["id"]
    assert client.get("/api" + href).get_json()["id"] == found


def test_undated_article_page(client):
    html = get_ok(client, "/article/undated-1").get_data(as_text=True)
    assert "Undated" in html


def test_api_article_shape(client):
    data = get_ok(client, "/api/article/n04").get_json()
    for key in ("id", "title", "body", "paragraphs", "date", "source", "url", "authors", "people", "orgs", "places",
                "topics", "related"):
        assert key in data
    assert data["date"] == "2023-05-05T00:00:00Z"
    assert all({"id", "title"} <= set(r) for r in data["related"])


def test_api_search_shape_matches_design(client):
    data = get_ok(client, "/api/search?q=harbour&from=2023-01-01&people=Anna+Berg").get_json()
    assert {"query", "total", "page", "per_page", "took_ms", "filters", "results", "facets", "histogram",
            "suggestion"} <= set(data)
    assert data["query"] == "harbour" and data["filters"]["people"] == ["Anna Berg"]
    assert set(data["facets"]) >= {"people", "orgs", "places", "source", "topics", "year"}
    assert data["histogram"]["interval"] in ("year", "month", "week", "day")
    for result in data["results"]:
        assert {"id", "title", "date", "source", "url", "snippet", "people", "orgs", "places", "topics",
                "score"} <= set(result)


# ---------------------------------------------------------------- feed, export, opensearch, health


def test_atom_feed_is_valid_and_newest_first(client):
    response = get_ok(client, "/search.atom?q=round&places=Kiel")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and "places=Kiel" in self_link[0].get("href")
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for tag in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{tag}") is not None, tag
        assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/article/")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(f"{ATOM}updated").text)
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.find(f"{ATOM}updated").text == updated[0]


def test_atom_feed_escapes_the_hostile_article(client):
    response = get_ok(client, "/search.atom?q=people:mallory")
    assert b"<script>" not in response.data and b"<img src=x" not in response.data
    feed = ET.fromstring(response.data)
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert XSS_ARTICLE["title"] in titles  # escaped in XML, intact once parsed


def test_xml_text_drops_characters_xml_cannot_carry():
    assert xml_text("a\x03b\x1fc\ud800d") == "abcd"


def test_csv_export_streams_every_hit_with_a_header(client):
    response = client.get("/search.csv?q=round&sort=oldest")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Export-Cap"] == "10000"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["id", "date", "title", "source", "url", "people", "orgs", "places", "topics", "score"]
    total = client.get("/api/search?q=round").get_json()["total"]
    assert len(rows) - 1 == total == 30
    dates = [r[1] for r in rows[1:]]
    assert dates == sorted(dates)


def test_csv_defuses_spreadsheet_formulas(client):
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell(["a", "b"]) == "a; b"
    rows = list(csv.reader(io.StringIO(client.get("/search.csv?q=people:mallory").get_data(as_text=True))))
    assert rows[1][2] == XSS_ARTICLE["title"]


def test_opensearch_description(client):
    response = get_ok(client, "/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    assert root.find(f"{OPENSEARCH}ShortName").text == "newsearch"
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{OPENSEARCH}Url")}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"
    assert "{searchTerms}" in templates["application/atom+xml"]
    html = client.get("/").get_data(as_text=True)
    assert 'rel="search" type="application/opensearchdescription+xml"' in html


def test_healthz(client):
    data = get_ok(client, "/healthz").get_json()
    assert data["status"] == "ok" and data["documents"] == 33 and data["generation"] == 1


# ---------------------------------------------------------------- headers, assets, config


@pytest.mark.parametrize("url", [
    "/", "/search?q=x", "/article/n01", "/api/search", "/api/article/n01", "/search.atom", "/search.csv",
    "/opensearch.xml", "/healthz", "/static/style.css", "/article/nope", "/api/search?page=0", "/nope",
])
def test_security_headers_on_every_response(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "img-src 'self' data:"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"]


def test_pages_use_only_local_assets_and_no_inline_script_or_style(client):
    for url in ("/search?q=harbour", "/article/n04", "/search?q=nothingmatcheszz"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//(?!news\.example)', html), url
        assert "<style" not in html and " style=" not in html and "<script>" not in html
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200


def test_app_is_not_in_debug_mode(index_home):
    app = create_app(index_home.root)
    assert app.debug is False and app.testing is False


def test_static_assets(client):
    assert "svg" in client.get("/static/favicon.svg").mimetype
    assert client.get("/static/app.js").status_code == 200
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "@media" in css and "http" not in css


# ---------------------------------------------------------------- generations, serve


def test_new_generation_is_served_without_restart(tmp_path):
    home = IndexHome(tmp_path / "index")
    build(home, write_jsonl(tmp_path / "a" / "a.jsonl", normal_articles()[:5]))
    client = create_app(home.root).test_client()
    assert client.get("/api/search?q=zeppelin").get_json()["total"] == 0
    assert client.get("/healthz").get_json() == {"status": "ok", "documents": 5, "generation": 1}
    build(home, write_jsonl(tmp_path / "b" / "b.jsonl", normal_articles()[:5] + special_articles()))
    deadline = time.monotonic() + 5
    while client.get("/api/search?q=zeppelin").get_json()["total"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/api/search?q=zeppelin").get_json()["total"] == 1
    assert client.get("/healthz").get_json()["generation"] == 2
    assert get_ok(client, "/article/xss-1")


def test_serve_builds_from_seeds_when_there_is_no_index(tmp_path):
    from search.serve import ensure_index

    seeds = tmp_path / "seeds"
    write_jsonl(seeds / "s.jsonl", normal_articles()[:3])
    home = IndexHome(tmp_path / "index")
    assert ensure_index(home, seeds, BuildOptions(extract_entities=False, on_reject=lambda r: None))
    assert home.live() is not None
    assert ensure_index(IndexHome(tmp_path / "none"), tmp_path / "missing") is False


def test_display_url():
    from search.serve import display_url

    assert display_url("127.0.0.1", 8080) == "http://127.0.0.1:8080/"
    assert display_url("::1", 80) == "http://[::1]:80/"


def test_newsearch_serve_runs_a_real_wsgi_server(index_home):
    process, url = start_server(index_home.root)
    try:
        with urllib.request.urlopen(url + "healthz", timeout=10) as response:
            assert json.load(response)["documents"] == 33
            assert response.headers["Server"].startswith("gunicorn")  # not werkzeug's dev server
        with urllib.request.urlopen(url + "search?q=harbour", timeout=10) as response:
            assert b"Ministers discuss harbour" in response.read()
        try:
            urllib.request.urlopen(url + "api/search?page=0", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 400 and json.load(exc)["error"]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def start_server(index_root: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(index_root), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"Serving on (http://127\.0\.0\.1:\d+/)", line)
    assert match, line
    return process, match.group(1)


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_running_server_picks_up_a_rebuild(tmp_path):
    home = IndexHome(tmp_path / "index")
    build(home, write_jsonl(tmp_path / "a" / "a.jsonl", normal_articles()[:4]))
    process, url = start_server(home.root)
    try:
        assert fetch_json(url + "healthz")["generation"] == 1
        assert fetch_json(url + "api/search?q=zeppelin")["total"] == 0
        build(home, write_jsonl(tmp_path / "b" / "b.jsonl", normal_articles()[:4] + special_articles()))
        deadline = time.monotonic() + 10
        while fetch_json(url + "healthz")["generation"] != 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fetch_json(url + "healthz") == {"status": "ok", "documents": 7, "generation": 2}
        assert fetch_json(url + "api/search?q=zeppelin")["total"] == 1
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_query_args_round_trip_through_links(client):
    """The URL is the whole state: the pager link of a filtered search reproduces it exactly."""
    url = "/search?q=round&from=2023-03-01&to=2025-01-31&people=Anna+Berg&people=Lena+Novak&sort=oldest&per_page=2"
    page = Links(get_ok(client, url).get_data(as_text=True))
    href = page.link_named("Next")
    expected = sorted(parse_qsl(urlsplit(url).query) + [("page", "2")])
    assert sorted(parse_qsl(urlsplit(href).query)) == expected


def test_api_json_is_html_safe_but_carries_the_exact_data(client):
    response = client.get("/api/search?q=people:mallory")
    assert b"<script" not in response.data and b"\\u003cscript" in response.data
    assert response.get_json()["results"][0]["title"] == XSS_ARTICLE["title"]


def test_page_past_the_last_one_shows_the_last_and_says_so(client):
    html = get_ok(client, "/search?q=round&page=500").get_data(as_text=True)
    assert "Page 500 is past the end" in html and 'class="hit"' in html
