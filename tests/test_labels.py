"""A generation's labels.json (search/index/labels.py)."""

from __future__ import annotations

from pathlib import Path

from search.index import labels


def test_save_load_label(tmp_path: Path):
    labels.save(tmp_path, {"places": {"west-germany": "West Germany"}, "people": {}})
    loaded = labels.load(tmp_path)
    assert loaded.label("places", "west-germany") == "West Germany"
    assert loaded.label("places", "WEST-GERMANY") == "West Germany"  # filters match case-insensitively too
    assert loaded.label("places", "kiel") == "kiel"
    assert loaded.label("people", "Anna Berg") == "Anna Berg"
    assert loaded.table == {"places": {"west-germany": "West Germany"}}


def test_missing_or_broken_file_means_no_labels(tmp_path: Path):
    assert not labels.load(tmp_path)
    (tmp_path / labels.FILENAME).write_text("[1, 2", encoding="utf-8")
    assert not labels.load(tmp_path)
    assert labels.load(tmp_path).label("topics", "acq") == "acq"


def test_empty_labels_leave_no_file_and_merge_keeps_older(tmp_path: Path):
    labels.save(tmp_path, {"topics": {"acq": "Mergers/Acquisitions"}})
    merged = labels.load(tmp_path).merged({"topics": {"earn": "Earnings"}, "orgs": {"ec": "European Community"}})
    assert merged.label("topics", "acq") == "Mergers/Acquisitions"
    assert merged.label("orgs", "ec") == "European Community"
    labels.save(tmp_path, {})
    assert not (tmp_path / labels.FILENAME).exists()


def test_rebuild_saves_the_corpus_labels_and_the_engine_shows_them(tmp_path: Path):
    from conftest import write_jsonl

    from search.build import BuildOptions, rebuild, update
    from search.index.generations import IndexHome
    from search.query.engine import SearchEngine
    from search.query.params import SearchParams

    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "wire.jsonl", [
        {"id": "a", "body": "Bonn talks on the mark.", "places": ["west-germany"], "topics": ["money-fx"]},
        {"id": "b", "body": "Wellington dairy output.", "places": ["new-zealand"], "topics": ["dairy"]},
    ])
    (corpus / "all-places-strings.lc.txt").write_text("west-germany\nnew-zealand\n")
    (corpus / "cat-descriptions.txt").write_text("Money/Foreign Exchange (MONEY-FX)\n")
    (corpus / "all-topics-strings.lc.txt").write_text("money-fx\n")
    home = IndexHome(tmp_path / "index")
    options = BuildOptions(extract_entities=False, on_reject=lambda r: None)
    rebuild(home, [str(corpus)], options)
    engine = SearchEngine(home.root)
    answer = engine.search(SearchParams())
    places = {f["value"]: f["label"] for f in answer["facets"]["places"]}
    assert places == {"west-germany": "West Germany", "new-zealand": "New Zealand"}
    assert {f["value"]: f["label"] for f in answer["facets"]["topics"]} == {
        "money-fx": "Money/Foreign Exchange", "dairy": "dairy"}
    assert answer["facet_values"]["places"] == 2
    listing = engine.facet_values(SearchParams(), "places", contains="zeal")
    assert [(v["value"], v["label"], v["count"]) for v in listing["values"]] == [("new-zealand", "New Zealand", 1)]
    write_jsonl(corpus / "more.jsonl", [{"id": "c", "body": "More Bonn talks.", "places": ["west-germany"]}])
    update(home, [str(corpus / "more.jsonl")], options)  # no code lists beside it: the live labels are kept
    assert engine.labels().label("places", "west-germany") == "West Germany"


def test_csv_adds_label_columns_for_coded_facets():
    from web.feeds import csv_chunks

    table = labels.Labels({"places": {"west-germany": "West Germany"}})
    text = "".join(csv_chunks([{"id": "a", "places": ["west-germany", "kiel"], "people": ["Anna Berg"]}], table))
    header, row = text.splitlines()[:2]
    assert header.endswith(",places_label") and "people_label" not in header
    assert row.endswith(",West Germany; kiel")
    assert "places_label" not in "".join(csv_chunks([{"id": "a"}]))
