"""Research views in headless chromium against ``newsearch serve``: "N similar", entity pages, the
timeline chart and "Watch this search". Screenshots go to screenshots/tmp/ (reviewed ones are
committed in screenshots/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_jsonl
from test_browser import CHROMIUM, PHONE, ROOT, args_of, page, serving, shoot, total_on  # noqa: F401 (fixtures)
from test_research import wire_corpus

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``newsearch serve`` over seeds/ plus a wire story in four copies."""
    root = tmp_path_factory.mktemp("research")
    corpus = wire_corpus(root / "wire")
    write_jsonl(root / "wire" / "more.jsonl", [
        {"id": f"k{i}", "title": f"Kiel council meets, part {i}", "body": f"Council session {i} in Kiel on budgets.",
         "date": f"2024-0{i}-10", "source": "Gazette", "places": ["Kiel", "Hamburg"], "people": ["Anna Berg"]}
        for i in range(1, 8)])
    home = IndexHome(root / "index")
    rebuild(home, [str(ROOT / "seeds"), str(corpus)], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    with serving(home.root) as url:
        yield url


def test_similar_opens_the_cluster(page, server):
    page.goto(server + "/search?q=strike")
    link = page.locator(".hit-similar a").first
    assert link.inner_text() == "2 similar articles"  # a4, retitled, has no "strike": similar counts hits
    shoot(page, "similar-desktop.png")
    link.click()
    page.wait_for_url(re.compile(r"cluster="))
    assert args_of(page.url)["collapse"] == ["0"] and total_on(page) == 3
    assert page.locator(".hits .hit").count() == 3
    page.locator(".chip", has_text="Similar to").click()
    page.wait_for_url(lambda url: "cluster=" not in url)


def test_entity_pages_from_facets_chips_and_articles(page, server):
    page.goto(server + "/search?q=kiel")
    page.locator("#facet-places li", has_text="Kiel").locator("a.entity-link").click()
    page.wait_for_url(re.compile(r"/entity/places/Kiel\?q=kiel"))
    assert page.locator("h1").inner_text() == "Kiel"
    total = int(page.locator(".entity-total strong").inner_text())
    page.goto(server + "/api/search?q=kiel&places=Kiel")
    assert f'"total":{total},' in page.content()
    page.goto(server + "/entity/places/Kiel")
    assert page.locator("#with-places td a", has_text="Hamburg").count() == 1
    assert page.locator("#with-people td a", has_text="Anna Berg").count() == 1
    assert page.locator("figure.histogram svg rect.bar").count() > 0
    shoot(page, "entity-desktop.png")
    page.locator("#with-places td a", has_text="Hamburg").click()
    page.wait_for_url(re.compile(r"/entity/places/Hamburg"))
    page.goto(server + "/search?places=Kiel")
    page.locator(".chips .entity-link").click()
    page.wait_for_url(re.compile(r"/entity/places/Kiel"))
    page.goto(server + "/article/a1")
    page.locator(".entities .entity-link").first.click()
    page.wait_for_url(re.compile(r"/entity/"))
    page.set_viewport_size(PHONE)
    page.goto(server + "/entity/places/Kiel")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "entity-phone.png")


def test_timeline_draws_one_line_per_query_without_scripts(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/timeline?interval=month&q=&places=Kiel&q=&places=Hamburg&q=strike")
    assert page.locator("svg.timeline-svg polyline").count() == 3
    assert page.locator(".timeline-legend li").count() == 3
    page.select_option("select[name=measure]", "share")
    page.click(".timeline-form button[type=submit]")
    page.wait_for_url(re.compile(r"measure=share"))
    assert page.locator("svg.timeline-svg polyline").count() == 3
    assert "%" in page.locator("svg.timeline-svg text").first.text_content()
    args = args_of(page.url)
    assert args["places"] == ["Kiel", "Hamburg"]  # each line kept its own filter
    shoot(page, "timeline-desktop.png")
    context.close()


def test_watch_this_search(page, server, tmp_path: Path):
    page.goto(server + "/search?places=Kiel")
    page.fill(".watch-form input[name=name]", "kiel-news")
    page.click(".watch-form button")
    page.wait_for_url(re.compile(r"/watch$"))
    assert "Saved search “kiel-news”" in page.locator("h1").inner_text()
    response = page.request.get(server + "/watch/kiel-news.atom")
    assert response.status == 200 and b"<feed" in response.body()
    forged = page.request.post(server + "/watch", form={"name": "x", "csrf": "forged"})
    assert forged.status == 403
