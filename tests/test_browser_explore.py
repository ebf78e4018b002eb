"""The search page for researchers, in Debian's chromium: every facet value reachable, mistakes mended in
place, keyboard and phone paths, no JavaScript, honest stop-word queries, axe-core at WCAG 2.2 AA.

Reviewed screenshots (desktop, phone, dark mode) are copied from screenshots/tmp/ to screenshots/.
axe-core comes from npm (``.ci/browser-deps.sh`` installs it into .ci/node/); without it that one test skips.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote

import pytest
from test_browser import CHROMIUM, DESKTOP, PHONE, ROOT, args_of, serving, shoot, total_on

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

AXE_JS = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROWEST = {"width": 320, "height": 640}
TABLET = {"width": 720, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore") / "index"
    rebuild(IndexHome(root), [str(ROOT / "seeds")], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    with serving(root) as url:
        yield url


@pytest.fixture(scope="module")
def reuters_server(reuters_index):
    with serving(reuters_index) as url:
        yield url


@contextlib.contextmanager
def opened(browser, **options):
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(**options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(browser):
    with opened(browser) as page:
        yield page


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.top >= -1 && r.top < window.innerHeight; }", selector)


# -- every facet value ---------------------------------------------------------------------------
@pytest.mark.slow
def test_every_facet_value_reachable_on_reuters(browser, reuters_server):
    with opened(browser) as page:
        api = page.request.get(reuters_server + "/api/search?per_page=1").json()
        for facet in ("places", "topics", "people", "orgs"):
            distinct = api["facet_values"][facet]
            seen = {}
            number = 1
            while True:
                listing = page.request.get(f"{reuters_server}/api/facets/{facet}?per_page=40&page={number}").json()
                assert listing["total_values"] == distinct
                if not listing["values"]:
                    break
                seen.update({v["value"]: v for v in listing["values"]})
                number += 1
            assert len(seen) == distinct, facet  # every value once
            if facet in ("places", "topics"):
                assert distinct > 20, facet  # more than the answer's top values
        kuwait = page.request.get(reuters_server + "/api/facets/places?contains=kuw").json()["values"]
        assert [(v["value"], v["label"]) for v in kuwait] == [("kuwait", "Kuwait")]
        filtered = page.request.get(reuters_server + "/api/search?per_page=1&places=kuwait").json()
        assert filtered["total"] == kuwait[0]["count"]
        cpi = page.request.get(reuters_server + "/api/facets/topics?contains=consumer+price").json()["values"]
        assert [(v["value"], v["label"]) for v in cpi] == [("cpi", "Consumer Price Index")]

        page.goto(reuters_server + "/search?q=oil")
        panel = page.locator("#facet-places")
        assert panel.locator(".facet-name", has_text="USA").count() == 1  # labels, not codes
        everything = page.request.get(reuters_server + "/api/search?q=oil&per_page=1").json()["facet_values"]["places"]
        all_link = panel.locator("a.facet-all-link")
        assert str(everything) in all_link.inner_text()
        shown = panel.locator("a.facet-value").count()
        more = panel.locator("a.facet-more")
        if more.count():
            assert int(re.search(r"(\d+) more", more.inner_text()).group(1)) == min(everything, 20) - shown
        all_link.click()
        page.wait_for_url(re.compile(r"/facets/places\?.*q=oil"))
        page.fill("#contains", "new zea")
        page.wait_for_url(re.compile(r"contains=new"))  # fetched as typed, the address follows
        page.wait_for_function("document.querySelectorAll('.facet-all li').length === 1")
        assert page.locator(".facet-all .facet-name", has_text="New Zealand").count() == 1
        page.check("input[value='new-zealand']")
        page.click(".facet-apply button")
        page.wait_for_url(re.compile(r"/search\?.*places=new-zealand"))
        assert args_of(page.url)["q"] == ["oil"]
        assert page.locator(".chip", has_text="New Zealand").count() == 1
        shoot(page, "reuters-labels-desktop.png")


def test_facet_page_without_javascript(browser, server):
    with opened(browser, java_script_enabled=False) as page:
        page.goto(server + "/search?q=nato")
        page.locator("#facet-places a.facet-all-link").click()
        page.wait_for_url(re.compile(r"/facets/places"))
        names = page.locator(".facet-all input[type=checkbox]")
        assert names.count() >= 2
        first, second = names.nth(0).get_attribute("value"), names.nth(1).get_attribute("value")
        page.fill("#contains", first[:4])
        page.press("#contains", "Enter")
        page.wait_for_url(re.compile(r"contains="))
        assert page.locator(f".facet-all input[value='{first}']").count() == 1
        page.goto(server + "/facets/places?q=nato")
        page.check(f"input[value='{first}']")
        page.check(f"input[value='{second}']")
        page.click(".facet-apply button")
        page.wait_for_url(re.compile(r"/search\?"))
        assert sorted(args_of(page.url)["places"]) == sorted([first, second])
        assert args_of(page.url)["q"] == ["nato"]


# -- mistakes mended in place --------------------------------------------------------------------
def test_reversed_range_keeps_results_and_offers_the_swap(page, server):
    page.goto(server + "/search?q=nato&from=2025-01-01&to=2023-01-01")
    assert total_on(page) > 0  # the query's results, without the impossible range
    problem = page.locator("#to-problem")
    assert "swapped" in problem.inner_text()
    assert page.get_attribute("#to", "aria-invalid") == "true"
    assert page.input_value("#to") == "2023-01-01"  # what was typed stays in the field
    problem.locator("a").click()
    page.wait_for_url(re.compile(r"from=2023-01-01.*to=2025-01-01"))
    assert total_on(page) > 0 and page.locator("#to-problem").count() == 0
    response = page.request.get(server + "/api/search?q=nato&from=2025-01-01&to=2023-01-01")
    assert response.status == 400 and "error" in response.json()


def test_bad_date_and_page_recovered(page, server):
    page.goto(server + "/search?q=nato&to=2024-13")
    assert total_on(page) > 0 and "2024-13" in page.locator("#to-problem").inner_text()
    page.goto(server + "/search?q=nato&page=501")
    assert page.locator(".hits .hit").count() > 0
    assert "past the end" in page.locator(".problems").inner_text()
    page.goto(server + "/search?from=last+week")
    assert "last week" in page.locator(".problems").inner_text()


def test_stop_words_and_symbols_never_match_everything(page, server):
    page.goto(server + "/")
    everything = total_on(page)
    for query in ("the", "AT&T", "C++", "the who", '"to be or not to be"'):
        page.goto(server + "/search?q=" + quote(query))
        assert total_on(page) < everything, query
        if total_on(page) == 0:
            assert "no searchable words" in page.locator("main").inner_text(), query
        answer = page.request.get(server + "/api/search?q=" + quote(query)).json()
        assert answer["total"] < everything


# -- keyboard, touch, small screens --------------------------------------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_skip_to_filters_at_every_width(browser, server, viewport):
    with opened(browser, viewport=viewport) as page:
        page.goto(server + "/search?q=nato")
        for _ in range(3):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('href')") == "#refine":
                break
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#refine"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#refine') !== null")
        assert page.evaluate("document.activeElement.id") == "from"


def test_targets_at_least_24px_with_visible_focus(page, server):
    page.goto(server + "/search?q=nato")
    sizes = page.evaluate("""() => [...document.querySelectorAll(
        '#refine a, #refine button, #refine input, .histogram svg a, .chip, .pager a')].map(e => {
        const r = e.getBoundingClientRect(); return [e.className.baseVal ?? e.className, r.width, r.height]; })
        .filter(([, w, h]) => w || h)""")  # the histogram not shown at this width has no box
    assert sizes and all(w >= 24 and h >= 24 for _, w, h in sizes), [s for s in sizes if min(s[1:]) < 24]
    bar = page.locator(".histogram svg a").first
    bar.focus()
    outline = page.evaluate("getComputedStyle(document.activeElement.querySelector('.hit-area')).strokeWidth")
    assert float(outline.replace("px", "")) >= 2


def test_facet_choice_returns_to_the_facet_with_the_list_still_expanded(browser, server):
    with opened(browser, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        page.goto(server + "/search?q=nato")
        more = page.locator("#facet-places a.facet-more")
        if more.count():
            more.click()
            page.wait_for_url(re.compile(r"more=places"))
            assert in_view(page, "#facet-places")
        values = page.locator("#facet-places a.facet-value")
        values.nth(values.count() - 1).click()
        page.wait_for_url(re.compile(r"places=.*#facet-places"))
        assert in_view(page, "#facet-places")
        if more.count():
            assert "more=places" in page.url and "Show fewer" in page.locator("#facet-places").inner_text()


@pytest.mark.parametrize("url", ["/search?q=nato", "/search?q=nato&from=bad&to=2023-01-01&page=999",
                                 "/facets/places?q=nato", "/article/cw-2023-01-25-leopard-tanks"])
def test_no_sideways_scroll_at_320px(browser, server, url):
    with opened(browser, viewport=NARROWEST, is_mobile=True, has_touch=True) as page:
        page.goto(server + url)
        assert fits(page), url


def test_two_columns_from_about_700px(browser, server):
    with opened(browser, viewport=TABLET) as page:
        page.goto(server + "/search?q=nato")
        main, side = page.locator("main").bounding_box(), page.locator("#refine").bounding_box()
        assert side["x"] >= main["x"] + main["width"] - 1 and side["y"] < main["y"] + 200


# -- reading ---------------------------------------------------------------------------------------
def test_article_has_way_back_and_highlights_the_query(page, server):
    page.goto(server + "/search?q=leopard+tanks&sort=newest")
    search_url = page.url
    page.locator(".hits .hit-title a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator(".article-body mark").count() > 0
    page.locator("a.back-to-results").click()
    page.wait_for_url(re.compile(r"/search\?"))
    assert args_of(page.url) == args_of(search_url)


def test_syntax_help_one_click_away_and_meta_description(page, server):
    for url in ("/", "/search?q=nato", "/article/cw-2023-01-25-leopard-tanks", "/facets/places"):
        page.goto(server + url)
        assert page.locator("meta[name=description]").get_attribute("content")
        help_link = page.locator("a.syntax-link")
        assert help_link.count() == 1, url
    help_link.click()
    assert page.locator("kbd", has_text='"interest rates"').count() >= 1


def test_responses_are_compressed(page, server):
    response = page.request.get(server + "/search?q=nato", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") in ("gzip", "br")


# -- accessibility and screenshots ------------------------------------------------------------------
AXE_PAGES = ["/search?q=nato", "/search?q=nato&from=2025-01-01&to=2023-01-01", "/facets/places?q=nato",
             "/article/cw-2023-01-25-leopard-tanks", "/search?q=the"]


@pytest.mark.skipif(not AXE_JS.exists(), reason="axe-core is not installed (bash .ci/browser-deps.sh)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(browser, server, scheme):
    with opened(browser, color_scheme=scheme, bypass_csp=True) as page:  # axe is injected inline
        for url in AXE_PAGES:
            page.goto(server + url)
            page.add_script_tag(path=str(AXE_JS))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            problems = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
            assert not problems, (url, problems)


def test_screenshots_desktop_phone_dark(browser, server):
    for name, options in (("explore-desktop.png", {"viewport": DESKTOP}),
                          ("explore-phone.png", {"viewport": PHONE, "is_mobile": True, "has_touch": True}),
                          ("explore-dark.png", {"viewport": DESKTOP, "color_scheme": "dark"}),
                          ("explore-dark-phone.png", {"viewport": PHONE, "color_scheme": "dark", "is_mobile": True})):
        with opened(browser, **options) as page:
            page.goto(server + "/search?q=nato&from=2025-01-01&to=2023-01-01")
            shoot(page, name)
            assert fits(page)
    with opened(browser) as page:
        page.goto(server + "/facets/places?q=nato")
        shoot(page, "facet-page-desktop.png")
