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
