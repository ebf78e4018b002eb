"""End to end: one folder mixing feeds, saved pages, JSONL and seed text, ingested and searched."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, write_jsonl, write_seed

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome
from search.query.engine import SearchEngine
from search.query.params import SearchParams

WEB_FIXTURES = ROOT / "tests" / "data" / "web"


def build_mixed(tmp_path: Path):
    folder = tmp_path / "incoming"
    for name in ("rss2_content.xml", "atom.xml", "news_article.html", "jsonld_article.html", "undated.html",
                 "index_page.html", "broken_item.xml"):
        target = folder / ("pages" if name.endswith(".html") else "feeds") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(WEB_FIXTURES / name, target)
    # Content decides the format, not the name: a feed saved as .txt, a page saved without extension.
    shutil.copy(WEB_FIXTURES / "rss1.rdf", folder / "feeds" / "saved-feed.txt")
    shutil.copy(WEB_FIXTURES / "blog_post.html", folder / "pages" / "blog-post")
    write_jsonl(folder / "wire.jsonl", [{"id": "j1", "title": "Ferry timetable changes", "body": "The ferry "
                "company publishes a new winter timetable.", "date": "2025-10-01", "source": "Wire"}])
    write_seed(folder / "notes" / "seed.txt", "2025-10-02", ["Museum extends opening hours for the summer."])
    home = IndexHome(tmp_path / "index")
    report = rebuild(home, [str(folder)], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    return home, report


def test_mixed_folder_is_ingested_and_searchable(tmp_path: Path):
    home, report = build_mixed(tmp_path)
    formats_rejected = sorted(Path(r.path).name for r in report.rejected)
    assert formats_rejected == ["broken_item.xml", "index_page.html"]  # a broken item; a listing page
    assert report.duplicates >= 1  # stories that came both as a feed item and as a saved page
    engine = SearchEngine(home.root)
    everything = engine.search(SearchParams.from_mapping({"q": "", "per_page": 100}))
    sources = {f["value"] for f in everything["facets"]["source"]}
    assert {"Wire"} <= sources and len(sources) >= 3
    assert everything["total"] == report.articles
    ferry = engine.search(SearchParams.from_mapping({"q": "ferry timetable"}))
    assert [r["id"] for r in ferry["results"]] == ["j1"]
    museum = engine.search(SearchParams.from_mapping({"q": "museum", "from": "2025-10"}))
    assert museum["total"] == 1 and museum["results"][0]["date"] == "2025-10-02T00:00:00Z"


def test_feed_and_page_of_one_story_are_indexed_once(tmp_path: Path):
    home, _ = build_mixed(tmp_path)
    engine = SearchEngine(home.root)
    urls = [r["url"] for r in engine.search(SearchParams.from_mapping({"q": "", "per_page": 100}))["results"]]
    urls = [u for u in urls if u]
    assert len(urls) == len(set(urls))
