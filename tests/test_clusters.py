"""Story clusters: copies group, different stories stay apart, update agrees with a full build."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from cluster_check import cluster_keys

from search.build import BuildOptions, rebuild
from search.index import cluster_publish, cluster_segments, clusters, columns, lsh, minhash
from search.index.generations import IndexHome

WORDS = [f"w{i}" for i in range(3000)]


def story(rng: random.Random, words: int = 120) -> str:
    sentences, line = [], []
    for _ in range(words):
        line.append(rng.choice(WORDS))
        if len(line) == 12:
            sentences.append(" ".join(line) + ".")
            line = []
    return " ".join(sentences + ([" ".join(line) + "."] if line else []))


def edited(rng: random.Random, body: str, share: float = 0.03) -> str:
    words = body.split(" ")
    return " ".join(rng.choice(WORDS) if rng.random() < share else w for w in words)


def partition(labels: np.ndarray, ids: np.ndarray) -> set[frozenset]:
    groups: dict[int, set] = {}
    for label, article in zip(labels.tolist(), ids.tolist(), strict=True):
        groups.setdefault(label, set()).add(article)
    return {frozenset(g) for g in groups.values()}


@pytest.fixture
def corpus() -> dict[str, tuple[str, str]]:
    rng = random.Random(3)
    a, b, c = story(rng), story(rng), story(rng)
    return {
        "a": ("Harbour reopens", a),
        "a-copy": ("Harbour reopens", a),
        "a-edit": ("Harbour reopens", edited(rng, a)),
        "a-retitled": ("Cranes are back at the port", edited(rng, a, 0.01)),
        "b": ("Grain prices fall", b),
        "b-edit": ("Grain prices fall", edited(rng, b)),
        "c": ("A different story", c),
        "empty": ("", ""),
        "empty2": ("", ""),
    }


def test_copies_group_and_different_stories_stay_apart(corpus):
    state = clusters.build_state(list(corpus), corpus.values())
    found = partition(state.components(), state.ids)
    assert {"a", "a-copy", "a-edit", "a-retitled"} in found
    assert {"b", "b-edit"} in found
    assert {"c"} in found
    assert {"empty"} in found and {"empty2"} in found  # no text: similar to nothing


def test_template_stories_with_different_figures_stay_apart():
    template = "Qtly div {} cts vs {} cts prior Pay April one Record March fifteen said the company board today"
    ids = [f"d{i}" for i in range(6)]
    texts = [(f"Company {i} sets quarterly", template.format(10 + i, 10 + i)) for i in range(6)]
    texts.append(texts[0])
    state = clusters.build_state([*ids, "d0-copy"], texts)
    found = partition(state.components(), state.ids)
    assert {"d0", "d0-copy"} in found
    assert all(len(group) == 1 for group in found if "d0" not in group)


def fake_layout(sizes: list[int], live: np.ndarray, sigs: np.ndarray, figs: np.ndarray):
    """Segments of the given sizes over the rows of a signature matrix, as ``cluster_publish`` sees a generation."""
    settings = clusters.Settings()
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    views = []
    for n in range(len(sizes)):
        part = slice(offsets[n], offsets[n + 1])
        keys, docs = cluster_segments.band_index(sigs[part], settings)
        views.append(cluster_segments.SegmentFiles(f"s{n}", sizes[n], sigs[part], figs[part],
                                                   np.array([b"x"] * sizes[n]), keys, docs,
                                                   cluster_segments.Edges.empty()))
    return cluster_publish.Layout(None, [], [f"s{n}" for n in range(len(sizes))], offsets, live), views


def test_probing_segments_finds_the_edges_probing_the_whole_matrix_finds():
    """Per-segment band indexes give ``lsh.find_edges(probe=…)``'s edges, small and big (chained) buckets,
    deleted docs left out of their buckets."""
    rng = random.Random(5)
    texts = []
    for n in range(12):
        body = story(rng)
        copies = [1, 2, 5, lsh.SMALL_BUCKET + 8][n % 4]  # one story copied past a small bucket
        texts += [(f"t{n}", body if c % 3 else edited(rng, body)) for c in range(copies)]
    texts += [("", "")] * 3
    order = list(range(len(texts)))
    rng.shuffle(order)
    sigs, figs = clusters.signatures([texts[i] for i in order])
    nprng = np.random.default_rng(2)
    live = nprng.random(len(texts)) > 0.15
    dead_sigs, dead_figs = sigs.copy(), figs.copy()
    dead_sigs[~live], dead_figs[~live] = minhash.EMPTY, minhash.EMPTY  # how the whole-matrix path drops them
    sizes = [40, 7, 1, len(texts) - 48]
    layout, views = fake_layout(sizes, live, sigs, figs)
    settings = clusters.Settings()
    for probe in (np.arange(40, 48), np.flatnonzero(nprng.random(len(texts)) < 0.2), np.arange(len(texts))):
        found = cluster_publish.probe_edges(layout, views, probe, settings)
        expected = lsh.find_edges(dead_sigs, dead_figs, settings, probe=probe[live[probe]])
        assert sorted(map(tuple, found.tolist())) == sorted(map(tuple, expected.tolist()))
    assert len(found) == len(lsh.find_edges(dead_sigs, dead_figs, settings))


def test_cluster_keys_are_the_smallest_id_and_numbers_are_dense(corpus, tmp_path):
    records = [{"id": i, "title": t, "body": b or "-"} for i, (t, b) in corpus.items()]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    home = IndexHome(tmp_path / "ix")
    rebuild(home, [str(tmp_path / "src")], BuildOptions(extract_entities=False))
    live = home.require_live()
    keys = cluster_keys(live)
    assert keys["a"] == keys["a-copy"] == keys["a-edit"] == clusters.cluster_key("a")  # the smallest id
    assert keys["b-edit"] == clusters.cluster_key("b") and keys["c"] == clusters.cluster_key("c")
    column = clusters.load_column(live, len(columns.load_ids(live)))
    assert sorted(set(column.cluster.tolist())) == list(range(len(column)))
    assert column.number_of(clusters.cluster_key("b")) is not None
    assert column.number_of("0x" + clusters.cluster_key("b")[2:]) is None
    assert column.mask(clusters.cluster_key("a")).sum() == 4


def test_missing_column_means_every_doc_alone(tmp_path):
    column = clusters.load_column(tmp_path, 3)
    assert column.cluster.tolist() == [0, 1, 2] and len({column.key(n) for n in range(3)}) == 3


def test_bucket_pairs_are_every_pair_of_a_small_bucket_and_a_chain_through_a_big_one():
    rng = np.random.default_rng(4)
    sizes = [1, 2, 3, 5, lsh.SMALL_BUCKET, lsh.SMALL_BUCKET + 1, 70, 2, 1]
    keys = np.repeat(rng.permutation(len(sizes)).astype(np.uint64) * np.uint64(2**40), sizes)
    members = rng.permutation(len(keys)).astype(np.int64) * 3
    shuffle = rng.permutation(len(keys))
    found = lsh.pairs_in_buckets(keys[shuffle], members[shuffle])
    expected, lo = set(), 0
    for size in sizes:  # stable sort keeps the shuffled order inside a bucket: the chain follows it
        group = [int(m) for m in members[shuffle][np.sort(np.flatnonzero(keys[shuffle] == keys[lo]))]]
        links = zip(group[:-1], group[1:], strict=True) if size > lsh.SMALL_BUCKET else \
            ((a, b) for n, a in enumerate(group) for b in group[n + 1:])
        expected |= set(links)
        lo += size
    assert sorted(map(tuple, found.tolist())) == sorted(expected)


def test_bands_are_the_ones_datasketch_chooses():
    datasketch = pytest.importorskip("datasketch")
    for num_perm in (16, 32, 64, 128):
        for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2).tolist():
            try:
                chosen = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm)
            except ValueError:  # fewer than 2 bands: refused by both
                with pytest.raises(ValueError):
                    lsh.bands(threshold, num_perm)
                continue
            assert lsh.bands(threshold, num_perm) == (chosen.b, chosen.r), (threshold, num_perm)


def test_components_equal_scipys():
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    from scipy.sparse import coo_matrix

    rng = np.random.default_rng(6)
    for n, m in [(0, 0), (1, 0), (5, 0), (50, 30), (300, 250), (1000, 2000), (2000, 400)]:
        edges = rng.integers(0, max(n, 1), size=(m, 2))
        if n > 40:  # a long chain in scrambled order: the worst case for label propagation
            chain = rng.permutation(n)[:40]
            edges = np.vstack([edges, np.column_stack([chain[:-1], chain[1:]])[rng.permutation(39)]])
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        expected = csgraph.connected_components(graph, directed=False)[1]
        assert lsh.components(n, edges.reshape(-1, 2)).tolist() == expected.tolist(), (n, m)
