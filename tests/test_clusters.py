"""Story clusters: copies group, different stories stay apart, update agrees with a full build."""

from __future__ import annotations

import random

import numpy as np
import pytest

from search.index import clusters, lsh

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


def test_update_agrees_with_full_build(corpus):
    items = list(corpus.items())
    first = dict(items[:5])
    state = clusters.build_state(list(first), first.values())
    # "a-edit" replaced by a different story, "b" added, "a-copy" deleted
    rng = random.Random(9)
    later = {**dict(items[5:]), "a-edit": ("Changed", story(rng)), "b": corpus["b"]}
    live = np.array([k for k in {**first, **later} if k != "a-copy"])
    added = clusters.Signed(np.array(list(later)), *clusters.signatures(later.values()))
    updated = clusters.update_state(state, live, added)
    final = {k: v for k, v in {**first, **later}.items() if k != "a-copy"}
    full = clusters.build_state(list(final), final.values())
    assert updated.ids.tolist() == full.ids.tolist()
    assert partition(updated.components(), updated.ids) == partition(full.components(), full.ids)
    assert {"a", "a-retitled"} in partition(updated.components(), updated.ids)


def test_column_aligns_with_doc_numbers_and_keys_are_stable(corpus, tmp_path):
    state = clusters.build_state(list(corpus), corpus.values())
    doc_ids = np.array(["b-edit", "", "a-copy", "a", "c", "b"])  # a generation's doc order, one deleted doc
    column = clusters.save(state, doc_ids, tmp_path)
    assert column.cluster[1] == -1
    assert column.cluster[2] == column.cluster[3] and column.cluster[0] == column.cluster[5]
    assert len({column.cluster[3], column.cluster[4], column.cluster[5]}) == 3
    assert column.keys[column.cluster[3]] == clusters.cluster_key("a")  # smallest id of the cluster
    assert column.number_of(clusters.cluster_key("b")) == column.cluster[5]
    loaded = clusters.load_column(tmp_path, len(doc_ids))
    assert loaded.cluster.tolist() == column.cluster.tolist()
    again = clusters.load_state(tmp_path)
    assert again is not None and again.ids.tolist() == state.ids.tolist()
    assert clusters.load_state(tmp_path, clusters.Settings(threshold=0.9)) is None  # other settings: rebuild


def test_missing_column_means_every_doc_alone(tmp_path):
    column = clusters.load_column(tmp_path, 3)
    assert column.cluster.tolist() == [0, 1, 2] and len(set(column.keys.tolist())) == 3


def test_bucket_pairs_are_every_pair_of_a_small_bucket_and_a_chain_through_a_big_one():
    rng = np.random.default_rng(4)
    sizes = [1, 2, 3, 5, lsh.SMALL_BUCKET, lsh.SMALL_BUCKET + 1, 70, 2, 1]
    keys = np.repeat(rng.permutation(len(sizes)).astype(np.uint64) * np.uint64(2**40), sizes)
    members = rng.permutation(len(keys)).astype(np.int64) * 3
    shuffle = rng.permutation(len(keys))
    found = lsh._pairs_in_buckets(keys[shuffle], members[shuffle])
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


def test_among_is_isin_for_sorted_unique_ids():
    rng = np.random.default_rng(8)
    ids = np.unique(np.array([f"r-{n}" for n in rng.integers(0, 500, 200)]))
    for values in (ids[rng.permutation(len(ids))[:50]], np.array(["zzz", "", "a", *ids[:3]]), np.array([], dtype=str),
                   np.array([f"r-{n}" for n in rng.integers(0, 500, 300)])):
        assert clusters._among(ids, values).tolist() == np.isin(ids, values).tolist()
    assert clusters._among(np.array([], dtype=str), np.array(["a"])).tolist() == []
