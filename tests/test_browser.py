"""End to end in a real headless browser: Debian's chromium driven by playwright, against
``newsearch serve`` running as a real subprocess on 127.0.0.1.

Screenshots of the search and article pages at desktop (1280) and phone (390)
widths go to screenshots/tmp/ (git-ignored); a reviewed set is committed in
screenshots/.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import CHROMIUM

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots" / "tmp"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@contextlib.contextmanager
def serving(index_root: Path):
    """``newsearch serve`` on a free loopback port; yields its base URL and stops it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(index_root), "--host", "127.0.0.1", "--port", "0",
         "--threads", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"Serving on (http://127\.0\.0\.1:\d+)/", line)
        assert match, f"no URL from newsearch serve: {line!r} {process.stderr.read() if process.poll() else ''}"
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``newsearch serve`` on a free loopback port, over seeds/ plus one hostile article."""
    root = tmp_path_factory.mktemp("browser")
    hostile = root / "hostile.jsonl"
    hostile.write_text(json.dumps({
        "id": "xss-1", "title": f"Harbour ferry report {XSS}", "body": f"The ferry report says {XSS}.\n\nEnd.",
        "date": "2024-05-05", "source": f"Evil {XSS}", "url": "javascript:alert(2)",
        "people": [f"Mallory {XSS}"], "orgs": [f"Org {XSS}"], "places": [f"Place {XSS}"], "topics": [XSS],
    }) + "\n", encoding="utf-8")
    home = IndexHome(root / "index")
    rebuild(home, [str(ROOT / "seeds"), str(hostile)],
            BuildOptions(extract_entities=False, on_reject=lambda r: None))
    with serving(home.root) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert not page.dialogs, f"a script ran: {page.dialogs}"
    assert not page.errors, page.errors
    context.close()


def args_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def total_on(page) -> int:
    return int(page.locator(".summary strong").inner_text().replace(",", ""))


def shoot(page, name: str, max_height: int = 2400) -> None:
    """Full page, cut at ``max_height`` so a long result list stays reviewable."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
    page.screenshot(path=str(SHOTS / name), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})


def test_search_facet_chip_page_article_related(page, server):
    page.goto(server + "/")
    everything = total_on(page)
    assert everything >= 39

    page.fill("#q", "ukraine")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=ukraine"))
    found = total_on(page)
    assert 0 < found < everything
    assert page.locator(".hits .snippet mark").count() > 0
    shoot(page, "search-desktop.png")

    facet = page.locator("#facet-places a.facet-value").first
    name = facet.locator(".facet-name").inner_text().strip()
    facet.click()
    page.wait_for_url(re.compile(r"places="))
    assert args_of(page.url)["places"] == [name] and args_of(page.url)["q"] == ["ukraine"]
    assert total_on(page) <= found
    chip = page.locator(".chip", has_text=name)
    assert chip.count() == 1

    chip.click()
    page.wait_for_url(lambda url: "places=" not in url)
    assert total_on(page) == found and page.locator(".chip").count() == 0
    assert page.input_value("#q") == "ukraine"

    page.goto(server + "/search?sort=newest")
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator('.pager [aria-current="page"]').inner_text() == "2"
    page.go_back()
    page.wait_for_url(lambda url: "page=2" not in url)
    assert page.locator('.pager [aria-current="page"]').inner_text() == "1"

    first = page.locator(".hits .hit-title a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator("h1").inner_text() == title
    assert page.locator(".article-body p").count() >= 1

    related = page.locator(".related-list a").first
    related_title = related.inner_text()
    related.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator("h1").inner_text() == related_title


def test_entity_link_on_article_page_filters_the_search(page, server):
    page.goto(server + "/search?q=leopard")
    page.locator(".hits .hit-title a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    shoot(page, "article-desktop.png")
    tag = page.locator(".entities a.tag").first
    value = tag.inner_text().strip()
    tag.click()
    page.wait_for_load_state()
    assert total_on(page) >= 1
    assert page.locator(".chip", has_text=value).count() == 1


def test_histogram_bar_narrows_to_its_period(page, server):
    page.goto(server + "/search?q=nato")
    before = total_on(page)
    page.locator(".histogram svg a").first.click()
    page.wait_for_url(re.compile(r"from=.*to="))
    args = args_of(page.url)
    assert args["q"] == ["nato"] and args["from"] and args["to"]
    assert 0 < total_on(page) <= before


def test_phone_layout_fits_the_screen(browser, server):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    shots = (("/search?q=ukraine&places=Ukraine&per_page=4", "search-phone.png"),
             ("/article/cw-2023-01-25-leopard-tanks", "article-phone.png"))
    for url, name in shots:
        page.goto(server + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
        shoot(page, name, max_height=6000)
    results = page.locator("main").bounding_box()
    sidebar = page.locator("aside").bounding_box()
    assert sidebar["y"] >= results["y"] + results["height"] - 1  # the sidebar sits under the article
    context.close()


def test_hostile_article_and_query_run_no_script(page, server):
    hostile_queries = ("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                       "/search?q=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E")
    for url in ("/search?q=harbour+ferry", "/article/xss-1", "/search?q=people:mallory", *hostile_queries):
        page.goto(server + url)
        assert page.locator("img[src=x]").count() == 0
    page.goto(server + "/search?q=people:mallory")
    assert "<script>" in page.locator(".hits .hit-title").first.inner_text()  # shown as text, not run
    assert page.locator("a[href^='javascript:']").count() == 0


def test_works_without_javascript(browser, server):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.fill("#q", "nato")
    page.click(".search-form button")
    page.wait_for_url(re.compile(r"q=nato"))
    page.locator("#facet-source a.facet-value").first.click()
    page.wait_for_url(re.compile(r"source="))
    page.fill("#from", "2024")
    page.click("button.secondary")
    page.wait_for_url(re.compile(r"from=2024"))
    args = args_of(page.url)
    assert args["q"] == ["nato"] and args["source"] and args["from"] == ["2024"]
    assert total_on(page) >= 0 and page.locator(".chip", has_text="2024").count() == 1
    context.close()


def test_keyboard_basics(page, server):
    page.goto(server + "/search?q=nato")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_new_search_keeps_the_filters(page, server):
    page.goto(server + "/search?q=nato&source=Meridian+Post&sort=newest")
    page.fill("#q", "summit")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=summit"))
    args = args_of(page.url)
    assert args["source"] == ["Meridian Post"] and args["sort"] == ["newest"]
    assert "from" not in args and "to" not in args  # empty date fields are left out by the enhancement
