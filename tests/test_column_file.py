"""The mapped array file: what is written reads back equal (dtype, shape, values), read-only; damage is named."""

from __future__ import annotations

import os

import numpy as np
import pytest

from search.index import column_file


def arrays() -> dict[str, np.ndarray]:
    return {
        "key": np.array("v9:3"), "live": np.array([True, False, True]), "empty": np.zeros(0, np.int32),
        "words": np.array(["ab", "ünïcode", ""]), "hash": np.array([2**63 + 5, 0, 7], np.uint64),
        "grid": np.arange(12, dtype=np.float32).reshape(3, 4), "strided": np.arange(10, dtype=np.int64)[::3],
        "no_words": np.zeros(0, str),
    }


def test_arrays_read_back_equal_and_read_only(tmp_path):
    path = tmp_path / "a.arrays"
    column_file.write(path, arrays())
    back = column_file.read(path)
    assert back.keys() == arrays().keys()
    for name, array in arrays().items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape, name
        assert np.array_equal(back[name], array), name
        assert not back[name].flags.writeable
    assert str(back["key"]) == "v9:3"


def test_a_rewrite_leaves_a_hard_linked_copy_and_an_open_map_as_they_were(tmp_path):
    path, link = tmp_path / "a.arrays", tmp_path / "b.arrays"
    column_file.write(path, {"x": np.arange(5)})
    os.link(path, link)
    before = column_file.read(path)
    column_file.write(path, {"x": np.arange(5) * 10})
    assert np.array_equal(before["x"], np.arange(5))
    assert np.array_equal(column_file.read(link)["x"], np.arange(5))
    assert np.array_equal(column_file.read(path)["x"], np.arange(5) * 10)


@pytest.mark.parametrize("cut", [0, 5, 20, -1])
def test_a_damaged_file_is_named_not_misread(tmp_path, cut):
    path = tmp_path / "a.arrays"
    column_file.write(path, arrays())
    size = path.stat().st_size
    os.truncate(path, cut if cut >= 0 else size - 1)
    with pytest.raises(column_file.Damaged):
        column_file.read(path)


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError):
        column_file.write(tmp_path / "a.arrays", {"x": np.array([{}, None], dtype=object)})
    assert list(tmp_path.iterdir()) == []
