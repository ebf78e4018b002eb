"""``update`` keeps the copy of a duplicated article that a rebuild of the same folder keeps.

Copies of one id in several files: the richer is shown, ties go to the copy first in file order, and a
beaten copy comes back when the file of the shown one changes, loses it or is pruned (``search.copies``).
Each step is checked against a fresh rebuild of the folder as it then is.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import write_jsonl
from faults import FaultyFiles

from search import copies
from search.build import BuildOptions, rebuild, update
from search.index import writer
from search.index.generations import IndexHome

LONG = {"id": "x1", "title": "Long copy", "date": "2020-01-01",
        "body": "This is the long copy of the story with many more words in its body than the other."}
SHORT = {"id": "x1", "title": "Short", "body": "Short copy.", "date": "2020-01-01"}
OPTIONS = BuildOptions(extract_entities=False)


class Folder:
    def __init__(self, tmp_path: Path):
        self.tmp, self.src, self.home = tmp_path, tmp_path / "src", IndexHome(tmp_path / "home")
        self.mtime, self.rebuilds = time.time_ns() - 10**12, 0

    def write(self, name: str, *records: dict) -> None:
        path = write_jsonl(self.src / name, list(records))
        self.mtime += 10**9
        os.utime(path, ns=(self.mtime, self.mtime))

    def delete(self, name: str) -> None:
        (self.src / name).unlink()

    def update(self, prune: bool = False):
        options = BuildOptions(extract_entities=False, prune=prune)
        return update(self.home, [str(self.src)], options)

    def rebuilt(self) -> IndexHome:
        self.rebuilds += 1
        home = IndexHome(self.tmp / f"reference-{self.rebuilds}")
        rebuild(home, [str(self.src)], OPTIONS)
        return home


def shown(home: IndexHome) -> dict[str, tuple[str, str]]:
    """id -> (title, file name) of every article the live generation shows."""
    with writer.open_index(home.require_live()).searcher() as searcher:
        return {d["id"]: (d["title"], Path(d["path"]).name) for d in searcher.all_stored_fields()}


def assert_as_rebuilt(folder: Folder) -> dict[str, tuple[str, str]]:
    reference = folder.rebuilt()
    got, want = shown(folder.home), shown(reference)
    assert got == want
    live, ref = folder.home.require_live(), reference.require_live()
    assert folder.home.read_meta(live)["duplicates"] == reference.read_meta(ref)["duplicates"]
    assert copies.load(live) .keys() == copies.load(ref).keys()
    return got


def test_a_new_file_with_a_poorer_copy_leaves_the_richer_one_shown(tmp_path: Path):
    folder = Folder(tmp_path)
    folder.write("a.jsonl", LONG)
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    folder.write("b.jsonl", SHORT)
    report = folder.update()
    assert (report.articles, report.duplicates) == (0, 1)
    assert assert_as_rebuilt(folder) == {"x1": ("Long copy", "a.jsonl")}


def test_a_new_file_with_a_richer_copy_replaces_it_and_pruning_brings_the_other_back(tmp_path: Path):
    folder = Folder(tmp_path)
    folder.write("b.jsonl", SHORT)
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    folder.write("a.jsonl", LONG, {"id": "y", "title": "Else", "body": "Another story."})
    folder.update()
    assert assert_as_rebuilt(folder) == {"x1": ("Long copy", "a.jsonl"), "y": ("Else", "a.jsonl")}
    folder.delete("a.jsonl")
    folder.update()  # without --prune a deleted file keeps its articles
    assert shown(folder.home)["x1"] == ("Long copy", "a.jsonl")
    folder.update(prune=True)
    assert assert_as_rebuilt(folder) == {"x1": ("Short", "b.jsonl")}


def test_a_shown_copy_whose_file_changes_gives_way_to_the_copy_it_beat(tmp_path: Path):
    folder = Folder(tmp_path)
    folder.write("a.jsonl", LONG)
    folder.write("b.jsonl", SHORT)
    folder.write("c.jsonl", {**SHORT, "title": "Short but titled"})
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    assert shown(folder.home) == {"x1": ("Long copy", "a.jsonl")}
    folder.write("a.jsonl", {"id": "z", "title": "Other", "body": "Something else entirely."})
    folder.update()  # a.jsonl loses x1: the richer of the two unchanged copies comes back, without reading them
    assert assert_as_rebuilt(folder)["x1"] == ("Short but titled", "c.jsonl")
    folder.write("c.jsonl", {"id": "w", "title": "W", "body": "W."})
    folder.update()
    assert assert_as_rebuilt(folder)["x1"] == ("Short", "b.jsonl")
    folder.write("a.jsonl", LONG)
    folder.update()
    assert assert_as_rebuilt(folder)["x1"] == ("Long copy", "a.jsonl")


def test_ties_go_to_the_copy_first_in_file_order_whichever_was_read_first(tmp_path: Path):
    first = {"id": "t", "title": "Tie one", "body": "Equal body A.", "date": "2021-05-05"}
    second = {"id": "t", "title": "Tie two", "body": "Equal body B.", "date": "2021-05-05"}
    for early, late in (("a.jsonl", "b.jsonl"), ("b.jsonl", "a.jsonl")):
        folder = Folder(tmp_path / early)
        folder.write(early, first)
        rebuild(folder.home, [str(folder.src)], OPTIONS)
        folder.write(late, second)
        folder.update()
        assert assert_as_rebuilt(folder)["t"][1] == "a.jsonl"


@pytest.mark.parametrize("first", ["a.jsonl", "b.jsonl"])
def test_a_tie_on_text_goes_to_the_copy_whose_format_gave_more_entity_fields(tmp_path: Path, first: str):
    bare = {"id": "g", "title": "Same", "body": "Same length one."}
    named = {**bare, "body": "Same length two.", "people": [], "orgs": [], "places": []}  # given, though empty
    folder = Folder(tmp_path)
    folder.write(first, bare if first == "a.jsonl" else named)
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    folder.write("b.jsonl" if first == "a.jsonl" else "a.jsonl", named if first == "a.jsonl" else bare)
    folder.update()
    assert assert_as_rebuilt(folder)["g"] == ("Same", "b.jsonl")


def test_a_rebuild_carries_an_unreadable_files_shown_and_beaten_copies_as_they_were_read(tmp_path: Path,
                                                                                        monkeypatch):
    faults = FaultyFiles(monkeypatch)
    tie = {"id": "t", "title": "Tie", "body": "Tie body."}
    folder = Folder(tmp_path)
    folder.write("a.jsonl", tie, {**SHORT, "title": "Short from a"})
    folder.write("b.jsonl", {**tie, "title": "Tie"}, LONG)
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    assert shown(folder.home) == {"t": ("Tie", "a.jsonl"), "x1": ("Long copy", "b.jsonl")}
    faults.block(folder.src / "a.jsonl")
    folder.write("c.jsonl", {"id": "c", "title": "C", "body": "C."})
    rebuild(folder.home, [str(folder.src)], OPTIONS)  # a.jsonl is carried: still first in file order on the tie
    assert shown(folder.home)["t"] == ("Tie", "a.jsonl")
    folder.write("b.jsonl", {**tie, "title": "Tie"})
    folder.update()  # b.jsonl loses x1: a.jsonl's beaten copy comes back, though a.jsonl cannot be read
    assert shown(folder.home)["x1"] == ("Short from a", "a.jsonl")
    faults.unblock(folder.src / "a.jsonl")
    assert_as_rebuilt(folder)


def test_copies_within_the_files_one_update_reads_are_kept_for_later(tmp_path: Path):
    folder = Folder(tmp_path)
    folder.write("a.jsonl", {"id": "q", "title": "Q", "body": "Q."})
    rebuild(folder.home, [str(folder.src)], OPTIONS)
    folder.write("b.jsonl", LONG)
    folder.write("c.jsonl", SHORT)
    report = folder.update()  # both new: the run's own dedupe beats c's copy, which is kept as a shadow
    assert report.duplicates == 1
    assert assert_as_rebuilt(folder)["x1"] == ("Long copy", "b.jsonl")
    folder.delete("b.jsonl")
    folder.update(prune=True)
    assert assert_as_rebuilt(folder)["x1"] == ("Short", "c.jsonl")


def test_a_damaged_shadows_file_reads_as_none_never_raises(tmp_path: Path):
    """A flipped or cut byte must not make every later update fail: the copies are then unknown (as for a
    generation written before they were kept), and update chooses between what it reads and what is shown."""
    import random

    from search.model import Article

    copies.save(tmp_path, [[Article(id=f"x{i}", title="t", body="b" * i, path="a.jsonl") for i in range(5)]])
    assert len(copies.load(tmp_path)["a.jsonl"]) == 5
    data = (tmp_path / copies.SHADOWS_FILE).read_bytes()
    rng = random.Random(7)
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        (tmp_path / copies.SHADOWS_FILE).write_bytes(bytes(damaged[:rng.randint(0, len(damaged))]))
        assert isinstance(copies.load(tmp_path), dict)
