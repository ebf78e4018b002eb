"""The columns ``update`` assembles from the previous generation (``column_update``) equal, array by array, the
columns assembled from every segment's part (``column_assembly``, the reference).

Random sequences of updates (files added, changed, deleted and pruned, and enough small updates that Whoosh
merges small segments); after each, the live generation's columns are compared with ``columns.compute`` over a
hard-linked copy of it, and the update must not have fallen back to the full assembly.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import write_jsonl

from search.build import BuildOptions, rebuild, update
from search.index import column_assembly, column_data, column_update, columns, whoosh_internals, writer
from search.index.generations import IndexHome

WORDS = ["oil", "wheat", "harbour", "bank", "rates", "council", "bridge", "storm", "grain", "export", "shares",
         "merger", "dollar", "yen", "tax", "budget", "strike", "vote", "minister", "treaty", "quorum", "zeppelin"]
PEOPLE = ["Anna Berg", "Berg", "Olaf Scholz", "Scholz", "LI WEI", "Li Wei", "Ed Moss"]  # the alias map merges some
ORGS = ["OPEC", "Opec", "NATO", "Grain Board", "GB"]
PLACES = ["Kiel", "Oslo", "Lima", "Kiel Harbour"]


def write(folder: Path, rng: random.Random, name: str) -> None:
    rows = []
    for n in sorted(rng.sample(range(30), rng.randint(1, 12))):
        rows.append({
            "id": f"{name}-{n}", "title": " ".join(rng.choices(WORDS, k=3)),
            "body": " ".join(rng.choices(WORDS, k=rng.randint(3, 25))) + f" w{rng.randint(0, 400)}.",
            "source": rng.choice(["Wire", "Daily", f"Paper {name}"]),
            "date": rng.choice([None, "2023-05-06", f"2024-{rng.randint(1, 12):02d}-11", "1999-12-31T23:30:00-05:00"]),
            "people": rng.sample(PEOPLE, rng.randint(0, 3)), "orgs": rng.sample(ORGS, rng.randint(0, 2)),
            "places": rng.sample(PLACES, rng.randint(0, 2)), "topics": [f"t{rng.randint(0, 6)}"],
        })
    write_jsonl(folder / f"{name}.jsonl", rows)


def assert_same(ours: columns.Columns, reference: columns.Columns) -> None:
    assert ours.key == reference.key
    for name in ("live", "date", "local", "title_len", "body_len", "hash", "ids", "spell_words", "spell_freq"):
        assert np.array_equal(getattr(ours, name), getattr(reference, name)), name
    assert ours.facets.keys() == reference.facets.keys()
    for name, facet in reference.facets.items():
        _assert_same_facet(ours.facets[name], facet, name)
    for name in ("segment_ids", "segment_sizes", "spell_words", "spell_freq"):
        assert np.array_equal(getattr(ours.basis, name), getattr(reference.basis, name)), f"basis.{name}"
    for name, facet in reference.basis.raw.items():
        _assert_same_facet(ours.basis.raw[name], facet, f"basis.raw.{name}")


def _assert_same_facet(ours: columns.Facet, reference: columns.Facet, name: str) -> None:
    for part in ("vocab", "pair_doc", "pair_val", "doc_ptr", "val_ptr", "val_docs"):
        assert np.array_equal(getattr(ours, part), getattr(reference, part)), f"{name}.{part}"


def saved(generation: Path) -> columns.Columns:
    """A generation's saved columns with their basis (``columns.load`` leaves it out: queries never read it)."""
    return column_data.from_arrays(column_data.read(generation))


def reference(live: Path, tmp_path: Path) -> columns.Columns:
    copy = tmp_path / "reference"
    if copy.exists():
        for path in copy.iterdir():
            path.unlink()
    else:
        copy.mkdir()
    writer.link_copy(live, copy)
    return columns.compute(copy)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_columns_equal_the_full_assembly(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    folder, names = tmp_path / "src", [f"f{n}" for n in range(4)]
    for name in names:
        write(folder, rng, name)
    home = IndexHome(tmp_path / "ix")
    rebuild(home, [str(folder)], BuildOptions(extract_entities=False))
    full_assemblies = []
    real_compute = column_assembly.compute
    monkeypatch.setattr(column_assembly, "compute", lambda *a: full_assemblies.append(a) or real_compute(*a))
    merged = deletions = 0
    for step in range(14):
        previous = home.require_live()
        before = {s.segment_id() for s in whoosh_internals.segments(whoosh_internals.open_unmapped(previous))}
        action = rng.choice(["add", "change", "change", "delete"] if len(names) > 2 else ["add"])
        if action == "add":
            names.append(f"f{len(names) + 100 * step}")
            write(folder, rng, names[-1])
        elif action == "change":
            write(folder, rng, rng.choice(names))
        else:
            (folder / f"{names.pop(rng.randrange(len(names)))}.jsonl").unlink()
        update(home, [str(folder)], BuildOptions(extract_entities=False, prune=True))
        live = home.require_live()
        assert full_assemblies == [], f"step {step} fell back to the full assembly"
        monkeypatch.setattr(column_assembly, "compute", real_compute)
        assert_same(saved(live), reference(live, tmp_path))
        monkeypatch.setattr(column_assembly, "compute", lambda *a: full_assemblies.append(a) or real_compute(*a))
        segments = whoosh_internals.segments(whoosh_internals.open_unmapped(live))
        merged += bool(before - {s.segment_id() for s in segments})
        deletions += any(s.deleted_docs() for s in segments if s.segment_id() in before)
    assert merged and deletions  # the sequence did exercise merges and deletions in kept segments


def test_a_base_that_does_not_fit_falls_back_to_the_full_assembly(tmp_path):
    rng = random.Random(9)
    folder = tmp_path / "src"
    for name in ("a", "b"):
        write(folder, rng, name)
    home = IndexHome(tmp_path / "ix")
    rebuild(home, [str(folder)], BuildOptions(extract_entities=False))
    live = home.require_live()
    work = tmp_path / "work"
    work.mkdir()
    writer.link_copy(live, work)
    base = saved(live)
    key = columns.index_key(work)
    assert column_update.assemble(work, key, base) is not None
    base.basis.segment_sizes = base.basis.segment_sizes + 1  # sizes that do not match the segments
    assert column_update.assemble(work, key, base) is None
    base.key = f"v{columns.VERSION}:an-ancestor"  # so that build does not take the saved file as current
    column_data.save(base, work)
    columns.build(work)
    assert_same(saved(work), reference(work, tmp_path))
