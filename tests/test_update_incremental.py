"""``update`` computes only what changed, and answers exactly as a full rebuild of the same folder does.

A differential test: home A is rebuilt once and then updated through a series
of added and changed files (enough small segments that Whoosh merges some);
home B is one rebuild of the final folder. Their columns (per article id),
spelling vocabularies and answers to a set of queries must be identical.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from cluster_check import cluster_keys
from conftest import write_jsonl

from search.build import BuildOptions, rebuild, update
from search.facets import FILTER_FACETS
from search.index import cluster_segments, clusters, columns, segment_columns, whoosh_internals
from search.index.generations import IndexHome
from search.query.engine import SearchEngine
from search.query.params import SearchParams

WORDS = ["oil", "wheat", "harbour", "bank", "rates", "council", "bridge", "storm", "grain", "export", "shares",
         "merger", "dollar", "yen", "tax", "budget", "strike", "vote", "minister", "treaty", "election", "coffee",
         "gold", "copper", "railway", "airline"]
PEOPLE, ORGS, PLACES = ["Anna Berg", "Olaf Scholz", "Li Wei"], ["OPEC", "NATO", "Grain Board"], ["Kiel", "Oslo", "Lima"]
QUERIES = [{}, {"q": "oil"}, {"q": "wheat OR gold"}, {"q": "bank rates"}, {"q": '"grain export"'},
           {"q": "harbor"}, {"q": "storm", "places": ["Kiel"]}, {"q": "vote", "from": "2024-03", "to": "2024-06"},
           {"people": ["Li Wei"], "topics": ["t1"]}, {"q": "-tax", "orgs": ["NATO", "OPEC"]}]


def records(rng: random.Random, file_no: int, version: int, count: int) -> list[dict]:
    out = []
    for n in range(count):
        words = rng.choices(WORDS, k=rng.randint(5, 40))
        out.append({
            "id": f"f{file_no}-{n}", "title": " ".join(rng.choices(WORDS, k=4)) + f" v{version}",
            "body": " ".join(words) + ".", "source": rng.choice(["Wire", "Daily"]),
            "date": None if n % 11 == 0 else f"2024-{1 + (n + version) % 12:02d}-{1 + n % 27:02d}",
            "people": rng.sample(PEOPLE, rng.randint(0, 2)), "orgs": rng.sample(ORGS, rng.randint(0, 2)),
            "places": rng.sample(PLACES, rng.randint(0, 1)), "topics": [f"t{(n + file_no) % 4}"],
        })
    return out


def write(folder: Path, rng: random.Random, file_no: int, version: int, count: int = 25) -> None:
    rows = records(rng, file_no, version, count)
    if version > 1:
        rows = rows[: count - 3]  # a changed file also loses some articles
    write_jsonl(folder / f"file{file_no}.jsonl", rows)


def by_article(root: Path) -> tuple[dict, dict]:
    """Every live article's column values keyed by id, and the spelling vocabulary."""
    live = IndexHome(root).require_live()
    cols = columns.load(live)
    ix = whoosh_internals.open_unmapped(live)
    out = {}
    with ix.reader() as reader:
        for docnum, stored in reader.iter_docs():
            assert cols.live[docnum]
            facets = {}
            for name in FILTER_FACETS:
                facet = cols.facets[name]
                ids = facet.pair_val[facet.doc_ptr[docnum]:facet.doc_ptr[docnum + 1]]
                facets[name] = sorted(facet.vocab[ids].tolist())
            out[stored["id"]] = (int(cols.date[docnum]), int(cols.hash[docnum]), float(cols.title_len[docnum]),
                                 float(cols.body_len[docnum]), facets)
    assert int(cols.live.sum()) == len(out)
    for facet in cols.facets.values():  # no value that only deleted docs carried
        assert (np.bincount(facet.pair_val, minlength=len(facet.vocab)) > 0).all()
    return out, dict(zip(cols.spell_words.tolist(), cols.spell_freq.tolist(), strict=True))


def answers(root: Path) -> list:
    engine = SearchEngine(root)
    out = []
    for query in QUERIES:
        answer = engine.search(SearchParams.from_mapping({**query, "per_page": 100, "collapse": "0"}))
        hits = [(r["id"], round(r["score"], 4)) for r in answer["results"]]
        for page in range(2, 1 + -(-answer["total"] // 100)):  # every page: ties may order differently
            more = engine.search(SearchParams.from_mapping({**query, "per_page": 100, "collapse": "0",
                                                            "page": page}))
            hits += [(r["id"], round(r["score"], 4)) for r in more["results"]]
        hits.sort()
        out.append((answer["total"], hits, answer["facets"], answer.get("facet_values"), answer["histogram"],
                    answer.get("suggestion")))
    return out


def homes(tmp_path: Path) -> tuple[IndexHome, IndexHome]:
    """A: rebuilt, then updated nine times (files added, changed, one deleted and pruned); B: one rebuild of the
    final folder."""
    rng = random.Random(15)
    folder, options = tmp_path / "src", BuildOptions(extract_entities=False)
    for file_no in range(4):
        write(folder, rng, file_no, 1)
    home_a = IndexHome(tmp_path / "a")
    rebuild(home_a, [str(folder)], options)
    steps = [(4, 1), (5, 1), (1, 2), (4, 2), (6, 1), (0, 2), (6, 2), (7, 1)]
    for file_no, version in steps:
        write(folder, rng, file_no, version)
        previous = home_a.require_live()
        update(home_a, [str(folder)], options)
        live = home_a.require_live()
        assert live != previous
        _assert_old_parts_reused(previous, live)
    (folder / "file3.jsonl").unlink()  # a deleted file: `update --prune` removes its articles
    update(home_a, [str(folder)], BuildOptions(extract_entities=False, prune=True))
    home_b = IndexHome(tmp_path / "b")
    rebuild(home_b, [str(folder)], options)
    return home_a, home_b


def test_updated_columns_equal_a_rebuild_of_the_final_folder(tmp_path):
    home_a, home_b = homes(tmp_path)
    articles_a, spelling_a = by_article(home_a.root)
    articles_b, spelling_b = by_article(home_b.root)
    assert len(articles_a) == 7 * 25 - 4 * 3
    assert articles_a == articles_b
    assert spelling_a == spelling_b


def test_updated_index_answers_as_a_rebuild_of_the_final_folder(tmp_path):
    home_a, home_b = homes(tmp_path)
    assert answers(home_a.root) == answers(home_b.root)


def _assert_old_parts_reused(previous: Path, live: Path) -> None:
    """Segments kept from the previous generation keep their part file (same inode): nothing recomputed them."""
    old, new = _part_inodes(previous), _part_inodes(live)
    ix = whoosh_internals.open_unmapped(live)
    segment_ids = {s.segment_id() for s in whoosh_internals.segments(ix)}
    assert {name[len(segment_columns.PREFIX):-4] for name in new} == segment_ids
    kept = old.keys() & new.keys()
    assert kept, "every old segment was rewritten"
    assert all(old[name] == new[name] for name in kept)


def _part_inodes(generation: Path) -> dict[str, int]:
    parts = generation.glob(f"{segment_columns.PREFIX}*.npz")
    return {p.name: p.stat().st_ino for p in parts if not p.name.endswith(".deleted.npz")}


def test_a_generation_without_parts_gets_them_on_load(tmp_path):
    """Generations written before per-segment parts existed: the first load computes and saves them."""
    folder = tmp_path / "src"
    write(folder, random.Random(1), 0, 1)
    home = IndexHome(tmp_path / "ix")
    rebuild(home, [str(folder)], BuildOptions(extract_entities=False))
    live = home.require_live()
    expected, spelling = by_article(home.root)
    for path in [*live.glob(f"{segment_columns.PREFIX}*.npz"), live / columns.FILENAME]:
        path.unlink()
    assert by_article(home.root) == (expected, spelling)
    assert list(live.glob(f"{segment_columns.PREFIX}*.npz"))


# -- story clusters ---------------------------------------------------------------------------------
STORY_WORDS = [f"w{i}" for i in range(2000)]


def story_file(folder: Path, rng: random.Random, pool: list[str], file_no: int, version: int) -> None:
    """Articles telling stories of a shared pool (copied whole or lightly edited), so clusters span files."""
    rows = []
    for n in range(rng.randint(3, 12)):
        words = rng.choice(pool).split(" ")
        if rng.random() < 0.5:
            words = [rng.choice(STORY_WORDS) if rng.random() < 0.04 else w for w in words]
        rows.append({"id": f"s{file_no}-{n}", "title": f"story v{version}", "body": " ".join(words) + ".",
                     "date": f"2024-01-{1 + n:02d}"})
    write_jsonl(folder / f"story{file_no}.jsonl", rows)


def segment_ids(live: Path) -> set[str]:
    return {s.segment_id() for s in whoosh_internals.segments(whoosh_internals.open_unmapped(live))}


@pytest.mark.parametrize("merging", [True, False])
def test_updated_clusters_equal_a_rebuild_after_every_step(tmp_path, monkeypatch, merging):
    """Random adds, changes and pruned deletions, one small segment each (so small segments merge, or, as
    a big archive's segments, never do): after every update, every article's cluster key equals the one a
    rebuild of the same folder gives it."""
    if not merging:
        monkeypatch.setattr("search.index.writer.SMALL_SEGMENT_DOCS", 0)
    rng = random.Random(21)
    pool = [" ".join(rng.choices(STORY_WORDS, k=60)) for _ in range(8)]
    folder, options = tmp_path / "src", BuildOptions(extract_entities=False, prune=True)
    files = list(range(3))
    for file_no in files:
        story_file(folder, rng, pool, file_no, 1)
    home = IndexHome(tmp_path / "a")
    rebuild(home, [str(folder)], options)
    merged = False
    for step in range(14):
        action = rng.choice(["add", "add", "change", "delete"] if len(files) > 2 else ["add"])
        if action == "add":
            files.append(max(files) + 1)
            story_file(folder, rng, pool, files[-1], 1)
        elif action == "change":
            story_file(folder, rng, pool, rng.choice(files), step + 2)
        else:
            gone = files.pop(rng.randrange(len(files)))
            (folder / f"story{gone}.jsonl").unlink()
        previous = home.require_live()
        before = segment_ids(previous)
        update(home, [str(folder)], options)
        merged |= bool(before - segment_ids(home.require_live()))
        _assert_kept_cluster_files_linked(previous, home.require_live())
        fresh = IndexHome(tmp_path / f"b{step}")
        rebuild(fresh, [str(folder)], options)
        got, expected = cluster_keys(home.require_live()), cluster_keys(fresh.require_live())
        assert got == expected, f"step {step}: {action}"
    assert merged == merging
    assert len(set(got.values())) < len(got) / 2  # stories did cluster


def _assert_kept_cluster_files_linked(previous: Path, live: Path) -> None:
    """A segment in both generations keeps its cluster files (same inodes): the update did not rewrite them."""
    kept = segment_ids(previous) & segment_ids(live)
    for sid in kept:
        for name in (*cluster_segments.ARRAYS, "meta"):
            old, new = (cluster_segments.path(g, sid, name) for g in (previous, live))
            assert old.stat().st_ino == new.stat().st_ino, new.name
    assert {p.name[len(cluster_segments.PREFIX):].split(".", 1)[0]
            for p in live.glob(f"{cluster_segments.PREFIX}*")} == segment_ids(live)  # merged-away ones removed


def test_an_index_without_segment_cluster_files_migrates_on_update(tmp_path):
    """Generations written before per-segment cluster files: the first update takes the signatures from the old
    single state when it was signed the same way (else signs the stored texts) and answers as a rebuild."""
    rng = random.Random(4)
    pool = [" ".join(rng.choices(STORY_WORDS, k=60)) for _ in range(5)]
    folder, options = tmp_path / "src", BuildOptions(extract_entities=False)
    for file_no in range(4):
        story_file(folder, rng, pool, file_no, 1)
    for old_tag in (clusters.Settings().tag(), "2/64/0.4/0.5/1"):
        home = IndexHome(tmp_path / f"a-{len(old_tag)}")
        rebuild(home, [str(folder / f"story{n}.jsonl") for n in range(3)], options)
        live = home.require_live()
        expected = cluster_keys(live)
        _write_old_state(live, old_tag)
        assert cluster_keys(live) == expected  # the old file still serves
        update(home, [str(folder / f"story{n}.jsonl") for n in range(4)], options)
        fresh = IndexHome(tmp_path / f"b-{len(old_tag)}")
        rebuild(fresh, [str(folder / f"story{n}.jsonl") for n in range(4)], options)
        assert cluster_keys(home.require_live()) == cluster_keys(fresh.require_live())
        assert list(home.require_live().glob(f"{cluster_segments.PREFIX}*.npz"))


def _write_old_state(live: Path, tag: str) -> None:
    """What code before per-segment files left in a generation: one clusters.npz with every signature."""
    for item in live.glob(f"{cluster_segments.PREFIX}*"):
        item.unlink()
    ids, texts = [], []
    with whoosh_internals.open_unmapped(live).reader() as reader:
        for _, stored in reader.iter_docs():
            ids.append(stored["id"])
            texts.append((stored.get("title") or "", stored.get("body") or ""))
    state = clusters.build_state(ids, texts)
    doc_ids = columns.load_ids(live)
    labels = state.components()
    firsts = {}
    for label, article in zip(labels.tolist(), state.ids.tolist(), strict=True):
        firsts.setdefault(label, article)
    keys = np.array([clusters.cluster_key(firsts[n]) for n in range(len(firsts))])
    cluster = labels[np.searchsorted(state.ids, doc_ids)].astype(np.int32)
    np.savez(live / "clusters.npz", ids=state.ids, sigs=state.sigs, figs=state.figs, edges=state.edges,
             settings=np.array(tag), cluster=cluster, keys=keys)


def test_a_story_copied_past_a_small_bucket_stays_one_cluster_when_copies_go(tmp_path, monkeypatch):
    """More copies than ``lsh.SMALL_BUCKET``: their bucket is joined as a chain in doc order, so removing copies
    from the middle of the chain (a pruned file, a changed one) must re-link their neighbours, as a rebuild does.
    Segments are kept from merging (as a big archive's are), so the chain is not simply found again."""
    monkeypatch.setattr("search.index.writer.SMALL_SEGMENT_DOCS", 0)
    rng = random.Random(8)
    body = " ".join(rng.choices(STORY_WORDS, k=60)) + "."
    other = " ".join(rng.choices(STORY_WORDS, k=60)) + "."
    folder, options = tmp_path / "src", BuildOptions(extract_entities=False, prune=True)
    for file_no in range(6):  # 6 files × 8 copies, interleaved with one other story
        write_jsonl(folder / f"copies{file_no}.jsonl", [{"id": f"c{file_no}-{n}", "title": "t", "body": body if n % 5
                                                         else other} for n in range(10)])
    home = IndexHome(tmp_path / "a")
    rebuild(home, [str(folder)], options)
    (folder / "copies1.jsonl").unlink()
    update(home, [str(folder)], options)
    write_jsonl(folder / "copies2.jsonl", [{"id": f"c2-{n}", "title": "t", "body": other} for n in range(10)])
    update(home, [str(folder)], options)
    fresh = IndexHome(tmp_path / "b")
    rebuild(fresh, [str(folder)], options)
    got = cluster_keys(home.require_live())
    assert got == cluster_keys(fresh.require_live())
    assert len(set(got.values())) == 2


def test_a_damaged_segment_cluster_file_is_written_again(tmp_path):
    """A truncated per-segment file costs only its segment: the next update signs that segment's stored texts
    again (its signatures are nowhere else), and the clusters equal a rebuild's."""
    rng = random.Random(6)
    pool = [" ".join(rng.choices(STORY_WORDS, k=60)) for _ in range(4)]
    folder, options = tmp_path / "src", BuildOptions(extract_entities=False)
    for file_no in range(3):
        story_file(folder, rng, pool, file_no, 1)
    home = IndexHome(tmp_path / "a")
    rebuild(home, [str(folder / f"story{n}.jsonl") for n in range(2)], options)
    for item in home.require_live().glob(f"{cluster_segments.PREFIX}*.sigs.npy"):
        item.write_bytes(item.read_bytes()[:100])
    update(home, [str(folder)], options)
    fresh = IndexHome(tmp_path / "b")
    rebuild(fresh, [str(folder)], options)
    assert cluster_keys(home.require_live()) == cluster_keys(fresh.require_live())
