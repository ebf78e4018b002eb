"""Signatures spilled to disk batch by batch give the same story-cluster state as the joined arrays in memory."""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest
from conftest import reuters_files

from search.index import clusters, lsh, signature_spill
from search.index.signature_spill import SignatureSpill
from search.ingest.formats.reuters import read_reuters
from search.model import Article


@pytest.fixture(scope="module")
def reuters_batches() -> list[clusters.Signed]:
    """A Reuters slice and a copy of each of its first 300 stories under new ids, signed in batches, ids unsorted."""
    if not reuters_files():
        pytest.skip("../shared is not beside the project")
    path = reuters_files()[0]
    articles = [a for a in read_reuters(str(path), gzip.decompress(path.read_bytes())) if isinstance(a, Article)]
    articles = articles[:600] + [dataclasses.replace(a, id=f"{a.id}-copy") for a in articles[:300]]
    articles = [articles[i] for i in np.random.default_rng(7).permutation(len(articles))]
    return [clusters.sign(articles[lo:lo + 137]) for lo in range(0, len(articles), 137)]


def assert_same_state(one: clusters.State, other: clusters.State) -> None:
    for name in ("ids", "sigs", "figs", "edges"):
        a, b = getattr(one, name), getattr(other, name)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name


def test_spilled_state_equals_joined(tmp_path, reuters_batches, monkeypatch):
    monkeypatch.setattr(signature_spill, "CHUNK_ROWS", 100)  # many maps, a partial last one
    spill = SignatureSpill(tmp_path / "signatures")
    for batch in reuters_batches:
        spill.add(batch)
    assert len(spill) == sum(len(b.ids) for b in reuters_batches)
    joined = clusters.state_of(clusters.Signed.join(reuters_batches))
    assert len(joined.edges) >= 300  # the copies
    assert_same_state(clusters.state_of(spill), joined)


def test_band_at_a_time_equals_all_bands_at_once(reuters_batches):
    """``find_edges`` keys one band at a time; the keys of every band computed together find the same edges."""
    signed = clusters.Signed.join(reuters_batches)
    settings = clusters.Settings()
    count, rows = settings.bands
    keys = np.column_stack([lsh.band_key(signed.sigs[:, b * rows:(b + 1) * rows], settings, b) for b in range(count)])
    usable = np.flatnonzero(lsh.has_set(signed.sigs))
    codes = lsh.pair_codes(np.vstack([lsh.pairs_in_buckets(keys[usable, b], usable) for b in range(count)]),
                           len(signed.ids))
    expected = lsh.verified(codes, signed.sigs, signed.figs, settings)
    found = lsh.find_edges(signed.sigs, signed.figs, settings)
    assert np.array_equal(found[:, 0] * len(signed.ids) + found[:, 1], expected)


def test_empty_spill(tmp_path):
    state = clusters.state_of(SignatureSpill(tmp_path / "signatures"))
    assert_same_state(state, clusters.state_of(clusters.Signed.join([])))


def test_spill_refuses_other_widths(tmp_path, reuters_batches):
    spill = SignatureSpill(tmp_path / "signatures")
    spill.add(reuters_batches[0])
    narrow = clusters.Signed(reuters_batches[1].ids, reuters_batches[1].sigs[:, :8], reuters_batches[1].figs)
    with pytest.raises(ValueError, match="slots per row"):
        spill.add(narrow)
