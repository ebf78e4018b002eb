"""Candidate pairs and edges of story clusters from MinHash signatures: LSH bands, buckets, checks, components.

The banding runs in numpy over the stored signature matrix instead of inside datasketch's
``MinHashLSH`` object: on Reuters-21578 (21,578 articles, 128 permutations) a pickled
``MinHashLSH`` is 19 MB and takes 1.7 s to unpickle, ~17 s per ``update`` at ×10; the
signature matrix loads in milliseconds and one sorted pass per band finds the same buckets.
``settings`` is a ``clusters.Settings`` (bands, seed, threshold, figures).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from search.index.minhash import EMPTY

if TYPE_CHECKING:
    from search.index.clusters import Settings

SMALL_BUCKET = 32  # buckets up to this size are verified pair by pair; bigger ones as a chain
ROWS_AT_ONCE = 65_536  # signature rows compared with EMPTY per step (``has_set``)


@functools.cache
def bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The (bands, rows) whose S-curve has the least false positive + false negative area around ``threshold``:
    datasketch's ``MinHashLSH`` optimisation (equal weights), integrated here with Simpson's rule in numpy
    instead of ``scipy.integrate.quad`` — importing datasketch and scipy.integrate cost every run 0.2 CPU-s.
    tests/test_clusters.py checks the choice equals datasketch's over thresholds 0.05-0.95 and 16-128 permutations.
    """
    low, high = np.linspace(0.0, threshold, 4001), np.linspace(threshold, 1.0, 4001)

    def area(y: np.ndarray, x: np.ndarray) -> float:
        return (x[1] - x[0]) / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum())

    errors = {(b, r): area(1 - (1 - low**r) ** b, low) + area((1 - high**r) ** b, high)
              for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)}
    b, r = min(errors, key=errors.get)  # the first of equals, in datasketch's order
    if b < 2:
        raise ValueError("The number of bands are too small (b < 2)")
    return b, r


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes, numbered by their smallest node (as scipy's ``connected_components``).

    Label propagation with pointer jumping: every root hooks under the smallest label across its edges,
    then labels jump to their roots' until stable; each component ends labelled by its smallest node.
    In numpy because importing ``scipy.sparse.csgraph`` alone was 0.25 CPU-s of every publish (the
    graph itself takes milliseconds). tests/test_clusters.py checks it against scipy.
    """
    labels = np.arange(n, dtype=np.int64)
    left, right = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    while True:
        a, b = labels[left], labels[right]
        apart = a != b
        if not apart.any():
            break
        low = np.minimum(a[apart], b[apart])
        np.minimum.at(labels, a[apart], low)
        np.minimum.at(labels, b[apart], low)
        while not np.array_equal(jumped := labels[labels], labels):
            labels = jumped
    return np.cumsum(labels == np.arange(n))[labels] - 1  # roots ascending: np.unique's numbering, without a sort


def band_key(part: np.ndarray, settings: Settings, band: int) -> np.ndarray:
    """One 64-bit key per article for one band: the band's rows (``part``: [n, rows]) mixed by odd
    multipliers (uint64 wrap-around). Computed a band at a time, from that band's columns only."""
    mult = np.random.default_rng(settings.seed).integers(1, 2**63, size=settings.bands[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        return (part.astype(np.uint64) * (mult | np.uint64(1))).sum(axis=1, dtype=np.uint64) ^ np.uint64(band)


def has_set(sigs: np.ndarray) -> np.ndarray:
    """Rows of a non-empty set (an empty set's signature is all EMPTY); ``ROWS_AT_ONCE`` rows at a time,
    since the comparison of every row at once is a byte per slot (64 bytes per article, 0.14 GB at ×100)."""
    out = np.empty(len(sigs), dtype=bool)
    for lo in range(0, len(sigs), ROWS_AT_ONCE):
        out[lo:lo + ROWS_AT_ONCE] = ~(sigs[lo:lo + ROWS_AT_ONCE] == EMPTY).all(axis=1)
    return out


def pairs_in_buckets(keys: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Index pairs sharing a key: all pairs in small buckets, a chain through big ones (enough to connect).

    One step per bucket size, not per bucket: Reuters-21578 has ~10,000 buckets of 2+ articles over its
    16 bands, and a ``triu_indices`` per bucket was 0.2 of the 0.24 CPU-s spent finding edges.
    """
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lengths = np.diff(np.r_[starts, len(keys)])
    out = [np.zeros((0, 2), dtype=np.int64)]
    for size in np.unique(lengths[(lengths > 1) & (lengths <= SMALL_BUCKET)]).tolist():
        first = starts[lengths == size][:, None]
        i, j = np.triu_indices(size, 1)
        out.append(np.column_stack([members[first + i].ravel(), members[first + j].ravel()]))
    big = np.repeat(lengths > SMALL_BUCKET, lengths)  # per sorted row: in a big bucket
    chained = np.flatnonzero(big[:-1] & (keys[1:] == keys[:-1]))
    out.append(np.column_stack([members[chained], members[chained + 1]]))
    return np.vstack(out)


def _agree(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard per pair: the share of signature slots that agree."""
    return (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)


def _probed_pairs(sigs: np.ndarray, usable: np.ndarray, probe: np.ndarray, settings: Settings,
                  band: int) -> np.ndarray:
    """The pairs touching a probed row in its buckets of one band.

    Only rows whose band starts with the value a probed row's does are keyed: keying all rows
    of ×50 Reuters (1.08 M) was half of an update's clustering CPU, for 100 probed articles.
    """
    rows = settings.bands[1]
    probed = probe[has_set(sigs[probe])]
    if not len(probed):
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.unique(sigs[probed, band * rows])
    first = sigs[usable, band * rows]
    near = usable[starts[np.minimum(np.searchsorted(starts, first), len(starts) - 1)] == first]
    keys = band_key(sigs[near, band * rows:(band + 1) * rows], settings, band)
    hit = np.isin(keys, keys[np.isin(near, probed)])  # only the buckets a probed row falls in
    pairs = pairs_in_buckets(keys[hit], near[hit])
    return pairs[np.isin(pairs, probe).any(axis=1)]


def pair_codes(pairs: np.ndarray, rows: int) -> np.ndarray:
    """Distinct pairs (i < j, i != j) as sorted int64 codes ``i * rows + j``: a fraction of the memory of pairs."""
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    codes = np.sort(pairs[pairs[:, 0] != pairs[:, 1], 0] * rows + pairs[pairs[:, 0] != pairs[:, 1], 1])
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def verified(codes: np.ndarray, sigs: np.ndarray, figs: np.ndarray, settings: Settings) -> np.ndarray:
    """The pair codes similar in words and, when both quote numbers, in figures."""
    keep = np.zeros(len(codes), dtype=bool)
    step = 50_000
    for lo in range(0, len(codes), step):
        chunk = np.column_stack(np.divmod(codes[lo:lo + step], len(sigs)))
        numbered = has_set(figs[chunk[:, 0]]) & has_set(figs[chunk[:, 1]])
        same_figures = ~numbered | (_agree(figs, chunk) >= settings.figures)
        keep[lo:lo + step] = (_agree(sigs, chunk) >= settings.threshold) & same_figures
    return codes[keep]


def find_edges(sigs: np.ndarray, figs: np.ndarray, settings: Settings,
               probe: np.ndarray | None = None) -> np.ndarray:
    """Similar pairs (i < j) among all rows, or (with ``probe``) only pairs touching a probed row.

    Band by band: all 16 bands' candidates at once were a rebuild's peak (×10 Reuters: 1.1 GB
    for 1.09 M edges; now 0.1 GB), and each band's keys are computed when its turn comes (all
    bands' keys at once are 128 bytes per article, 28 MB at ×10, 0.28 GB at ×100). A pair
    already found in an earlier band is not verified again:
    copies share every band, and re-verifying them made ×10 Reuters (ten copies of each article)
    cost 42 CPU-s here.
    """
    usable = np.flatnonzero(has_set(sigs))
    if not len(usable) or (probe is not None and not len(probe)):
        return np.zeros((0, 2), dtype=np.int64)
    whole = len(usable) == len(sigs)
    rows = settings.bands[1]
    found = np.zeros(0, dtype=np.int64)  # sorted codes of the verified pairs
    for band in range(settings.bands[0]):
        if probe is not None:
            pairs = _probed_pairs(sigs, usable, probe, settings, band)
        else:
            columns = slice(band * rows, (band + 1) * rows)
            pairs = pairs_in_buckets(band_key(sigs[:, columns] if whole else sigs[usable, columns], settings, band),
                                      usable)
        codes = pair_codes(pairs, len(sigs))
        if len(found) and len(codes):
            at = np.minimum(np.searchsorted(found, codes), len(found) - 1)
            codes = codes[found[at] != codes]
        found = np.sort(np.concatenate([found, verified(codes, sigs, figs, settings)]), kind="stable")
    return np.column_stack(np.divmod(found, len(sigs)))
