"""The facet-values endpoints, the help page, mended parameters and compression, through the Flask test client."""

from __future__ import annotations

import gzip

import pytest
from conftest import write_jsonl

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome
from web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore")
    write_jsonl(root / "corpus" / "wire.jsonl", [
        {"id": f"p{i}", "title": f"Port report {i}", "body": f"The harbour of place {i} reopened.",
         "date": f"2024-0{1 + i % 9}-1{i % 9}T09:30:00Z", "source": "Wire", "places": [f"place-{i:02d}", "hub"]}
        for i in range(30)
    ])
    home = IndexHome(root / "index")
    rebuild(home, [str(root / "corpus")], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    return create_app(home.root, TESTING=True).test_client()


def test_api_facet_values_pages_through_every_value(client):
    answer = client.get("/api/search?q=harbour").get_json()
    assert answer["facet_values"]["places"] == 31 and len(answer["facets"]["places"]) == 20
    seen = []
    for page in (1, 2, 3, 4):
        listing = client.get(f"/api/facets/places?q=harbour&per_page=10&page={page}").get_json()
        assert listing["facet"] == "places" and listing["total_values"] == 31 and listing["page"] == page
        seen += [v["value"] for v in listing["values"]]
    assert seen[0] == "hub" and len(seen) == len(set(seen)) == 31
    only = client.get("/api/facets/places?q=harbour&contains=ce-07&places=place-07").get_json()
    assert only["values"] == [{"value": "place-07", "label": "place-07", "count": 1, "selected": True}]


@pytest.mark.parametrize("url, status", [
    ("/api/facets/secrets", 404), ("/api/facets/places?page=0", 400), ("/api/facets/places?per_page=x", 400),
    ("/api/facets/places?to=2024-13", 400),
])
def test_api_facet_values_bad_parameters(client, url, status):
    response = client.get(url)
    assert response.status_code == status and response.is_json and response.get_json()["error"]


def test_facet_page_lists_values_with_a_filter_and_a_multi_select_form(client):
    html = client.get("/facets/places?q=harbour&contains=place-1&more=people").get_data(as_text=True)
    assert 'name="contains"' in html and 'value="place-1"' in html
    assert html.count('type="checkbox" name="places"') == 10  # place-10 … place-19
    assert 'name="q" value="harbour"' in html and "more" not in html.split("facet-choose")[1].split("</form>")[0]
    assert "Back to the results" in html


def test_sidebar_counts_and_all_link(client):
    html = client.get("/search?q=harbour").get_data(as_text=True)
    assert "Show 14 more" in html  # 20 listed in the answer, 6 shown
    assert "All 31" in html and "/facets/places?q=harbour" in html
    assert 'href="/search?q=harbour&amp;places=hub#facet-places"' in html  # back to the same place


def test_mended_dates_and_unsearchable_query(client):
    html = client.get("/search?q=harbour&from=2024-06&to=2024-02").get_data(as_text=True)
    assert "swapped?" in html and 'aria-invalid="true"' in html and "30</strong>" in html
    html = client.get("/search?q=the").get_data(as_text=True)
    assert "no searchable words" in html and "0</strong>" in html
    assert client.get("/api/search?q=the").get_json()["no_searchable_words"] is True


def test_help_page_and_compression(client):
    assert "interest rates" in client.get("/help").get_data(as_text=True)
    response = client.get("/search?q=harbour", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"Port report" in gzip.decompress(response.get_data())


def test_article_from_a_search_marks_the_words_and_links_back(client):
    html = client.get("/article/p3?q=harbour&sort=newest").get_data(as_text=True)
    assert "<mark>harbour</mark>" in html and 'href="/search?q=harbour&amp;sort=newest"' in html
    assert "09:30 UTC" in html
    plain = client.get("/article/p3").get_data(as_text=True)
    assert "<mark>" not in plain and "back-to-results" not in plain
