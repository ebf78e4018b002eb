"""Issue 10, query and web side: each hostile request that used to hang a worker or answer 500, as its own test.

No timings: a test of the exponential wildcard would simply not finish before the fix.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome
from search.query import SearchEngine, SearchParams
from search.query.evaluate import Deadline
from search.query.hits import HitSet
from search.query.parse import MAX_DEPTH, parse
from search.query.snippets import SNIPPET_SCAN, Highlighter
from search.query.wildcard import Glob, normalise
from web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
BAD_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", " javascript:alert(3)", "data:text/html,<b>x</b>",
            "vbscript:msgbox(1)", "java\tscript:alert(4)", "//evil.example/x"]


def articles() -> list[dict]:
    out = [{"id": f"a{i}", "title": f"Harbour council meeting {i}", "body": f"The harbour council met about cozy "
            f"coastal cottages, case {i}.", "date": f"2024-03-{i + 1:02d}", "source": "Wire",
            "url": f"https://news.example/{i}", "places": ["Kiel"] if i < 3 else []} for i in range(6)]
    out += [{"id": f"bad{i}", "title": f"Hostile link {i}", "body": "A harbour story with a hostile original link.",
             "date": "2024-04-01", "source": "Wire", "url": url} for i, url in enumerate(BAD_URLS)]
    return out


def build(root: Path, records: list[dict]) -> IndexHome:
    home = IndexHome(root / "index")
    source = write_jsonl(root / "corpus" / f"g{len(home.numbers()) + 1}.jsonl", records)
    rebuild(home, [str(source)], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> IndexHome:
    return build(tmp_path_factory.mktemp("hostile"), articles())


@pytest.fixture(scope="module")
def client(home):
    return create_app(home.root).test_client()


# ---------------------------------------------------------------- defect 2: exponential wildcard


@settings(max_examples=400, deadline=None)
@given(st.text("ab*?", max_size=8), st.text("ab", max_size=10))
def test_glob_matches_exactly_what_fnmatch_does(pattern, word):
    assert Glob(pattern).matches(word) == fnmatch.fnmatchcase(word, pattern)


def test_runs_of_stars_collapse():
    assert normalise("co" + "*" * 16 + "z") == "co*z"
    assert Glob("co" + "*" * 16 + "z").matches("cozz") and not Glob("co***z").matches("cozy")


def test_glob_on_the_pattern_that_took_196_seconds_is_linear():
    """``co`` + 16 stars + ``z`` against a long word with no ``z``: the regex backtracked ~2^16 ways."""
    assert not Glob("co" + "*" * 16 + "z").matches("co" + "o" * 10_000)
    assert not Glob("c*o*o*o*o*o*o*o*o*z").matches("c" + "o" * 10_000)  # stars apart: still one pass per segment


def test_sixteen_star_wildcard_query_answers_like_its_collapsed_form(client):
    many = client.get("/api/search?q=ha" + "*" * 16 + "r")
    assert many.status_code == 200
    assert many.get_json()["total"] == client.get("/api/search?q=ha*r").get_json()["total"] > 0
    assert client.get("/api/search?q=co" + "*" * 16 + "z").status_code == 200


def test_wildcard_expansion_stops_at_the_deadline(home):
    engine = SearchEngine(home.root)
    postings = engine.generation().postings
    assert postings.expand("body", "co", "co*", Deadline(60))  # cozy, coastal, council …
    assert postings.expand("body", "co", "co*", Deadline(-1)) == []
    answer = SearchEngine(home.root, time_budget_s=-1).search(SearchParams.from_mapping({"q": "co*y"}))
    assert answer["partial"] is True


# ---------------------------------------------------------------- defect 8: deep nesting


DEEP = ["(" * 400 + "harbour", "(" * 240 + "harbour" + ")" * 240, "NOT " * 120 + "harbour", "-" * 450 + "harbour",
        "(" * (MAX_DEPTH + 1) + "harbour" + ")" * (MAX_DEPTH + 1)]


@pytest.mark.parametrize("query", DEEP)
def test_deep_nesting_is_a_clear_400_on_every_search_route(client, query):
    for route in ("/api/search", "/search.atom", "/search.csv"):
        response = client.get(route, query_string={"q": query, "per_page": "5"})
        assert response.status_code == 400, (route, response.status_code)
        assert "nested too deeply" in response.get_data(as_text=True)
    page = client.get("/search", query_string={"q": query})  # the HTML page marks the bad field and carries on
    assert page.status_code in (200, 400) and "nested too deeply" in page.get_data(as_text=True)


def test_nesting_up_to_the_limit_still_searches(client):
    query = "(" * MAX_DEPTH + "harbour" + ")" * MAX_DEPTH
    assert client.get("/api/search", query_string={"q": query}).get_json()["total"] == len(articles())
    assert client.get("/api/search", query_string={"q": "-" * 2 + "harbour"}).get_json()["total"] == len(articles())


def test_deep_nesting_on_the_command_line_exits_2(home):
    done = subprocess.run([sys.executable, "-m", "search", "search", "--index", str(home.root), "(" * 400 + "x"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- defect 9: snippets of huge articles


def test_snippet_reads_only_a_bounded_window():
    highlighter = Highlighter({"harbour"})
    early = "harbour news " + "filler words " * (SNIPPET_SCAN // 6)
    assert "<mark>harbour</mark>" in highlighter.snippet(early)
    late = "plain opening " + "filler words " * (SNIPPET_SCAN // 6) + " harbour"
    snippet = highlighter.snippet(late)
    assert "<mark>" not in snippet and snippet.startswith("plain opening") and snippet.endswith(" …")


def test_snippet_out_of_time_is_the_plain_escaped_opening():
    snippet = Highlighter({"harbour"}).snippet("<b>harbour</b> council", mark=False)
    assert snippet == "&lt;b&gt;harbour&lt;/b&gt; council"


def test_snippets_and_related_give_way_to_the_deadline(home):
    """Out of time after matching: results still come, with plain snippets; related articles stop early."""
    engine = SearchEngine(home.root)
    gen = engine.generation()
    deadline = Deadline(60)
    hit_set = HitSet(gen, SearchParams(q="harbour"), parse("harbour"), deadline)
    doc = int(hit_set.hits[0])
    assert "<mark>" in hit_set.result(doc, snippet=True)["snippet"]
    deadline.end = 0
    late = HitSet(gen, SearchParams(q="harbour"), parse("harbour"), Deadline(60))
    late.deadline.end = 0
    assert "<mark>" not in late.result(doc, snippet=True)["snippet"]
    assert {r["id"] for r in engine.related("a1")} == {"a0", "a2"}  # the other two Kiel stories
    assert SearchEngine(home.root, time_budget_s=-1).related("a1") == []


def test_an_out_of_time_empty_page_spends_no_more_budgets_on_alternatives(home):
    """Each "drop the filter" offer is a whole search: none are tried once the page's search ran out of time."""
    url = "/search?q=cozy&places=Kiel&source=Nowhere"
    assert "Drop the filter" in create_app(home.root).test_client().get(url).get_data(as_text=True)
    late = create_app(home.root, time_budget_s=-1).test_client().get(url)
    assert late.status_code == 200 and "Drop the filter" not in late.get_data(as_text=True)


# ---------------------------------------------------------------- defect 13: broken generations


def corrupt_live(home: IndexHome, how: str) -> Path:
    live = home.require_live()
    if how == "truncated segment":
        segment = next(live.glob("*.seg"))
        os.truncate(segment, segment.stat().st_size // 2)
    elif how == "garbage toc":
        next(live.glob("*.toc")).write_bytes(b"garbage" * 40)
    else:
        columns = live / "columns.arrays"
        os.truncate(columns, columns.stat().st_size // 2)
    return live


@pytest.mark.parametrize("how", ["truncated segment", "garbage toc", "truncated columns"])
def test_broken_generation_is_named_by_healthz_and_every_route_says_so(tmp_path, how):
    root = tmp_path / "site"
    build(root, articles()[:3])
    home = build(root, articles())
    live = corrupt_live(home, how)
    client = create_app(home.root).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["status"] == "broken" and health.get_json()["broken"] == live.name == "g000002"
    assert "rollback" in health.get_json()["error"]
    for route in ("/api/search?q=harbour", "/search?q=harbour", "/search.atom", "/article/a1", "/api/article/a1"):
        response = client.get(route)
        assert response.status_code == 503, route
        assert "g000002" in response.get_data(as_text=True), route
    cli = subprocess.run([sys.executable, "-m", "search", "search", "--index", str(home.root), "harbour"],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and "g000002" in cli.stderr and "Traceback" not in cli.stderr
    assert subprocess.run([sys.executable, "-m", "search", "rollback", "--index", str(home.root)],
                          capture_output=True, timeout=120).returncode == 0
    assert client.get("/healthz").get_json() == {"status": "ok", "documents": 3, "generation": 1}
    assert client.get("/api/search?q=harbour").get_json()["total"] == 3


# ---------------------------------------------------------------- defect 13: feeds and the Host header


def test_atom_feed_links_only_http_originals(client):
    feed = ET.fromstring(client.get("/search.atom?q=hostile&per_page=50").data)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(BAD_URLS)
    via = [link.get("href") for e in entries for link in e.findall(f"{ATOM}link") if link.get("rel") == "via"]
    assert via == []
    feed = ET.fromstring(client.get("/search.atom?q=cozy").data)
    via = {link.get("href") for link in feed.iter(f"{ATOM}link") if link.get("rel") == "via"}
    assert via == {f"https://news.example/{i}" for i in range(6)}


@pytest.mark.parametrize("route", ["/opensearch.xml", "/search.atom?q=harbour"])
def test_host_header_never_reaches_absolute_urls(client, route):
    body = client.get(route, headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in body
    assert "http://localhost/" in body  # the address served on (the test client's)


@pytest.mark.parametrize("route", ["/opensearch.xml", "/search.atom?q=harbour"])
def test_configured_base_url_is_the_origin_of_every_absolute_url(home, route, monkeypatch):
    client = create_app(home.root, BASE_URL="https://news.example.org/archive/").test_client()
    body = client.get(route, headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in body and "localhost" not in body
    assert "https://news.example.org/archive/search" in body
    monkeypatch.setenv("NEWSEARCH_BASE_URL", "https://env.example")
    body = create_app(home.root).test_client().get(route).get_data(as_text=True)
    assert "https://env.example/search" in body


def test_bad_base_url_is_refused(home):
    with pytest.raises(ValueError, match="base URL"):
        create_app(home.root, BASE_URL="javascript:alert(1)")
    done = subprocess.run([sys.executable, "-m", "search", "serve", "--index", str(home.root), "--port", "0",
                           "--base-url", "ftp://x"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "base URL" in done.stderr

