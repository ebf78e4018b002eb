"""End to end: the publisher's day decides filters, histogram, year and display; WARC files rebuild and update."""

from __future__ import annotations

import io
from pathlib import Path

from conftest import write_jsonl
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from search.build import BuildOptions, rebuild, update
from search.index.generations import IndexHome
from search.query.engine import SearchEngine
from search.query.params import SearchParams

QUIET = BuildOptions(extract_entities=False, on_reject=lambda r: None)


def search(home: IndexHome, **args) -> dict:
    every = {"q": "", "per_page": 50, "collapse": "0"}  # every article, not one per story cluster
    return SearchEngine(home.root).search(SearchParams.from_mapping({**every, **args}))


def test_day_is_the_publishers_day_not_the_utc_day(tmp_path: Path):
    write_jsonl(tmp_path / "in" / "wire.jsonl", [
        # 23:30 in New York on 2 March is 04:30 UTC on 3 March: a 2 March story.
        {"id": "ny", "title": "Late council vote", "body": "The council voted late at night.",
         "date": "2025-03-02T23:30:00-05:00", "source": "Wire"},
        # 05:50 in Seoul on 1 January 2025 is 20:50 UTC on 31 December 2024: a 2025 story.
        {"id": "seoul", "title": "New year market", "body": "The market opened early on New Year's Day.",
         "date": "2025-01-01T05:50:00+09:00", "source": "Wire"},
        {"id": "plain", "title": "Dated by day", "body": "A story dated by its day alone.",
         "date": "2025-03-03", "source": "Wire"},
    ])
    home = IndexHome(tmp_path / "index")
    rebuild(home, [str(tmp_path / "in")], QUIET)
    results = {r["id"]: r for r in search(home)["results"]}
    assert results["ny"]["date"] == "2025-03-03T04:30:00Z" and results["ny"]["day"] == "2025-03-02"
    assert results["seoul"]["day"] == "2025-01-01" and results["plain"]["day"] == "2025-03-03"
    on_second = search(home, **{"from": "2025-03-02", "to": "2025-03-02"})
    assert [r["id"] for r in on_second["results"]] == ["ny"]
    assert {f["value"]: f["count"] for f in search(home)["facets"]["year"]} == {"2025": 3}
    buckets = search(home, **{"from": "2025-03-01", "to": "2025-03-05"})["histogram"]["buckets"]
    assert {b["start"]: b["count"] for b in buckets if b["count"]} == {"2025-03-02": 1, "2025-03-03": 1}
    newest = [r["id"] for r in search(home, sort="newest")["results"]]
    assert newest == ["ny", "plain", "seoul"]  # order is by the instant


def _warc(path: Path, stories: list[tuple[str, str]]) -> Path:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for uri, title in stories:
            body = (f"<html><head><title>{title}</title><meta property='og:type' content='article'>"
                    "<meta property='article:published_time' content='2024-05-06T08:00:00+02:00'></head><body>"
                    f"<article><h1>{title}</h1><p>{title} was reported by the harbour office on Monday morning, "
                    "and crews are expected to finish the repairs before the summer timetable starts.</p>"
                    "<p>The office said ferries would keep running on the northern route in the meantime.</p>"
                    "</article></body></html>").encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                          http_headers=headers))
    return path


def test_warc_files_rebuild_and_update_like_any_file(tmp_path: Path):
    folder = tmp_path / "crawl"
    folder.mkdir()
    _warc(folder / "a.warc.gz", [("https://port.example.net/crane", "Crane repaired")])
    home = IndexHome(tmp_path / "index")
    report = rebuild(home, [str(folder)], QUIET)
    assert report.articles == 1 and not report.rejected
    _warc(folder / "b.warc.gz", [("https://port.example.net/pier", "Pier closed"),
                                 ("https://port.example.net/dredger", "Dredger arrives")])
    report = update(home, [str(folder)], QUIET)
    found = {r["url"]: r for r in search(home)["results"]}
    assert set(found) == {f"https://port.example.net/{s}" for s in ("crane", "pier", "dredger")}
    assert found["https://port.example.net/pier"]["day"] == "2024-05-06"
