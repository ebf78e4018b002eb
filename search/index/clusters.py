"""Story clusters: near-duplicate articles (one wire story republished, edited, retitled) grouped at publish.

Each article gets a MinHash signature of the ``SHINGLE``-word shingles of title + body, and one
of the numbers it quotes (``minhash.py``: all articles of a batch at once in numpy; datasketch's
MinHash, a sha1 per shingle and an object per article, took 4.9 of the 5.0 CPU-s this stage
spent on Reuters-21578). Candidate pairs come from LSH banding — the (bands, rows) split is the
one datasketch's ``MinHashLSH`` picks for ``THRESHOLD`` (``_bands``) — and a candidate pair becomes an edge
when the signatures agree on at least ``THRESHOLD`` of their slots (estimated Jaccard). Clusters
are the connected components of the edges.

The banding runs in numpy over the stored signature matrix instead of inside a ``MinHashLSH``
object: on Reuters-21578 (21,578 articles, 128 permutations) a pickled ``MinHashLSH`` is
19 MB and takes 1.7 s to unpickle, ~17 s per ``update`` at ×10; the signature matrix loads
in milliseconds and one sorted pass per band finds the same buckets.

Parameters from ``bench/eval_clusters.py --seeds 8`` (3,644 Reuters-derived articles with known
copies, pairwise, mean over hash seeds 1-8): 2-word shingles, 64 permutations, Jaccard ≥ 0.4 and
figures ≥ 0.5 give precision 0.963 (0.928-0.985 by seed), recall 0.734 (exact copies 1.00, light
edits 0.93, retitled 0.88, heavy rewrites 0.37); datasketch's signatures scored 0.957
(0.931-0.975) and 0.733. Without the figures check precision is 0.911: dividend notices and
bond issues of different companies share their template. At Jaccard 0.3 recall rises to 0.82
but precision falls to 0.91 and whole-Reuters clusters of 50 unrelated "X sets quarterly"
notices appear; precision is preferred, since a wrong merge hides a story behind "N similar".

A rebuild may sign its articles batch by batch (``sign``, ``Signed.join``) and publish the
joined signatures; ``publish`` also takes the articles themselves.

State per generation (``clusters.npz``): article ids (sorted), their signatures and the edges.
``update`` keeps the signatures of unchanged articles, signs only added/changed ones, probes
only those against the bands, and recomputes the components (``components``, near-linear in edges).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.index import minhash

FILENAME = "clusters.npz"
SHINGLE = 2  # words per shingle
NUM_PERM = 64  # MinHash permutations
THRESHOLD = 0.4  # estimated Jaccard of shingle sets for "the same story"
FIGURES = 0.5  # copies of one story quote the same figures: the sets of numbers must overlap this much
FIGURE_PERM = 32  # MinHash permutations for the set of numbers
SEED = 1
SMALL_BUCKET = 32  # buckets up to this size are verified pair by pair; bigger ones as a chain
SCHEME = "numpy-splitmix"  # how signatures are hashed (minhash.py): saved states of another scheme are re-signed
_EMPTY = minhash.EMPTY


@dataclass(frozen=True)
class Settings:
    shingle: int = SHINGLE
    num_perm: int = NUM_PERM
    threshold: float = THRESHOLD
    figures: float = FIGURES
    seed: int = SEED

    @property
    def bands(self) -> tuple[int, int]:
        """(bands, rows per band) as datasketch's ``MinHashLSH`` chooses them for this threshold."""
        return _bands(self.threshold, self.num_perm)

    def tag(self) -> str:
        return f"{self.shingle}/{self.num_perm}/{self.threshold}/{self.figures}/{self.seed}/{SCHEME}"


@functools.cache
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
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


@dataclass
class State:
    """What the next ``update`` needs: every article's signature and the verified similar pairs."""

    ids: np.ndarray  # str, sorted, unique
    sigs: np.ndarray  # uint32 [N, num_perm]
    figs: np.ndarray  # uint32 [N, FIGURE_PERM]: signature of the numbers in the text
    edges: np.ndarray  # int64 [E, 2]: indices into ids, i < j
    settings: Settings

    def components(self) -> np.ndarray:
        """Cluster number per article (aligned with ids), numbered by first member."""
        return components(len(self.ids), self.edges)


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
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


# -- signatures ------------------------------------------------------------------------------------
def signatures(texts: Iterable[tuple[str, str]], settings: Settings = Settings()) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of (title, body) pairs: of their shingles [n, num_perm] and of their figures."""
    return minhash.signatures(texts, settings.shingle, settings.num_perm, FIGURE_PERM, settings.seed)


@dataclass
class Signed:
    """Some articles' ids and signatures, in any order: what a rebuild can accumulate batch by batch."""

    ids: np.ndarray  # str [n]
    sigs: np.ndarray  # uint32 [n, num_perm]
    figs: np.ndarray  # uint32 [n, FIGURE_PERM]

    @classmethod
    def join(cls, parts: Iterable[Signed]) -> Signed:
        parts = list(parts)
        if not parts:
            return sign([])
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("ids", "sigs", "figs")))


def sign(articles: Iterable, settings: Settings = Settings()) -> Signed:
    """The signatures of articles (anything with ``id``, ``title`` and ``body``)."""
    articles = list(articles)
    ids = np.array([a.id for a in articles], dtype=str)
    return Signed(ids, *signatures(((a.title, a.body) for a in articles), settings))


# -- candidates and edges --------------------------------------------------------------------------
def _band_keys(sigs: np.ndarray, settings: Settings, bands: Iterable[int] | None = None) -> np.ndarray:
    """One 64-bit key per (article, band): the band's rows mixed by odd multipliers (uint64 wrap-around)."""
    count, rows = settings.bands
    bands = list(range(count) if bands is None else bands)
    mult = np.random.default_rng(settings.seed).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    out = np.zeros((len(sigs), len(bands)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column, band in enumerate(bands):
            part = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
            out[:, column] = (part * mult).sum(axis=1, dtype=np.uint64) ^ np.uint64(band)
    return out


def _has(sigs: np.ndarray) -> np.ndarray:
    """Rows of a non-empty set (an empty set's signature is all _EMPTY)."""
    return ~(sigs == _EMPTY).all(axis=1)


def _pairs_in_buckets(keys: np.ndarray, members: np.ndarray) -> np.ndarray:
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
    probed = probe[_has(sigs[probe])]
    if not len(probed):
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.unique(sigs[probed, band * rows])
    first = sigs[usable, band * rows]
    near = usable[starts[np.minimum(np.searchsorted(starts, first), len(starts) - 1)] == first]
    keys = _band_keys(sigs[near], settings, [band])[:, 0]
    hit = np.isin(keys, keys[np.isin(near, probed)])  # only the buckets a probed row falls in
    pairs = _pairs_in_buckets(keys[hit], near[hit])
    return pairs[np.isin(pairs, probe).any(axis=1)]


def _pair_codes(pairs: np.ndarray, rows: int) -> np.ndarray:
    """Distinct pairs (i < j, i != j) as sorted int64 codes ``i * rows + j``: a fraction of the memory of pairs."""
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    codes = np.sort(pairs[pairs[:, 0] != pairs[:, 1], 0] * rows + pairs[pairs[:, 0] != pairs[:, 1], 1])
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def _verified(codes: np.ndarray, sigs: np.ndarray, figs: np.ndarray, settings: Settings) -> np.ndarray:
    """The pair codes similar in words and, when both quote numbers, in figures."""
    keep = np.zeros(len(codes), dtype=bool)
    step = 50_000
    for lo in range(0, len(codes), step):
        chunk = np.column_stack(np.divmod(codes[lo:lo + step], len(sigs)))
        numbered = _has(figs[chunk[:, 0]]) & _has(figs[chunk[:, 1]])
        same_figures = ~numbered | (_agree(figs, chunk) >= settings.figures)
        keep[lo:lo + step] = (_agree(sigs, chunk) >= settings.threshold) & same_figures
    return codes[keep]


def find_edges(sigs: np.ndarray, figs: np.ndarray, settings: Settings,
               probe: np.ndarray | None = None) -> np.ndarray:
    """Similar pairs (i < j) among all rows, or (with ``probe``) only pairs touching a probed row.

    Band by band: all 16 bands' candidates at once were a rebuild's peak (×10 Reuters: 1.1 GB
    for 1.09 M edges; now 0.1 GB). A pair already found in an earlier band is not verified again:
    copies share every band, and re-verifying them made ×10 Reuters (ten copies of each article)
    cost 42 CPU-s here.
    """
    usable = np.flatnonzero(_has(sigs))
    if not len(usable) or (probe is not None and not len(probe)):
        return np.zeros((0, 2), dtype=np.int64)
    keys = _band_keys(sigs if len(usable) == len(sigs) else sigs[usable], settings) if probe is None else None
    found = np.zeros(0, dtype=np.int64)  # sorted codes of the verified pairs
    for band in range(settings.bands[0]):
        if keys is None:
            pairs = _probed_pairs(sigs, usable, probe, settings, band)
        else:
            pairs = _pairs_in_buckets(keys[:, band], usable)
        codes = _pair_codes(pairs, len(sigs))
        if len(found) and len(codes):
            at = np.minimum(np.searchsorted(found, codes), len(found) - 1)
            codes = codes[found[at] != codes]
        found = np.sort(np.concatenate([found, _verified(codes, sigs, figs, settings)]), kind="stable")
    return np.column_stack(np.divmod(found, len(sigs)))


# -- building and updating -------------------------------------------------------------------------
def build_state(ids: list[str], texts: Iterable[tuple[str, str]], settings: Settings = Settings()) -> State:
    """Clusters of a complete set of articles (one id per article, texts aligned with ids)."""
    return state_of(Signed(np.array(ids, dtype=str), *signatures(texts, settings)), settings)


def state_of(signed: Signed, settings: Settings = Settings()) -> State:
    """Clusters of a complete set of signed articles."""
    order = np.argsort(signed.ids, kind="stable")
    ids, sigs, figs = signed.ids[order], signed.sigs[order], signed.figs[order]
    return State(ids, sigs, figs, find_edges(sigs, figs, settings), settings)


def update_state(state: State, live_ids: np.ndarray, added: Signed) -> State:
    """The state after an update: articles no longer live or replaced are dropped, added ones probed.

    The added rows are merged into the sorted rows in one scatter (×50 Reuters' signatures are
    0.4 GB: a copy per step was most of an update's clustering).
    """
    keep = _among(state.ids, live_ids) & ~_among(state.ids, added.ids)
    kept = np.flatnonzero(keep)
    whole = len(kept) == len(state.ids)
    order = np.argsort(added.ids, kind="stable")
    added_ids = added.ids[order]
    kept_ids = state.ids if whole else state.ids[kept]
    at_added = np.searchsorted(kept_ids, added_ids) + np.arange(len(added_ids))  # merge of two sorted lists
    is_added = np.zeros(len(kept) + len(added_ids), dtype=bool)
    is_added[at_added] = True
    at_kept = np.flatnonzero(~is_added)
    ids = np.empty(len(is_added), dtype=np.result_type(kept_ids.dtype, added_ids.dtype))
    ids[at_kept], ids[at_added] = kept_ids, added_ids
    sigs, figs = (np.empty((len(is_added), old.shape[1]), dtype=old.dtype) for old in (state.sigs, state.figs))
    for out, old, new in ((sigs, state.sigs, added.sigs), (figs, state.figs, added.figs)):
        out[at_kept], out[at_added] = (old if whole else old[kept]), new[order]
    remap = np.full(len(state.ids), -1, dtype=np.int64)
    remap[kept] = at_kept
    edges = remap[state.edges].reshape(-1, 2)
    edges = np.vstack([edges[(edges >= 0).all(axis=1)], find_edges(sigs, figs, state.settings, probe=at_added)])
    edges = np.column_stack(np.divmod(_pair_codes(edges, len(ids)), len(ids)))
    return State(ids, sigs, figs, edges, state.settings)


def _among(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of the sorted, unique ``ids`` are among ``values``: ``np.isin`` by binary search (×10 Reuters'
    216k ids: 0.13 CPU-s instead of 0.41)."""
    found = np.zeros(len(ids), dtype=bool)
    if len(ids) and len(values):
        at = np.minimum(np.searchsorted(ids, values), len(ids) - 1)
        found[at[ids[at] == values]] = True
    return found


# -- what queries read -----------------------------------------------------------------------------
def cluster_key(smallest_id: str) -> str:
    """A cluster's public id: stable while its smallest article id stays in it."""
    return hashlib.blake2b(smallest_id.encode(), digest_size=8).hexdigest()


@dataclass
class Column:
    """Per doc number: its cluster (dense number), and per cluster its public key."""

    cluster: np.ndarray  # int32 [docs]; -1 for a deleted doc
    keys: np.ndarray  # str [clusters]

    def number_of(self, key: str) -> int | None:
        found = np.flatnonzero(self.keys == key)
        return int(found[0]) if len(found) else None

    def mask(self, key: str) -> np.ndarray:
        """The docs of one cluster (none for an unknown key)."""
        number = self.number_of(key)
        return self.cluster == number if number is not None else np.zeros(len(self.cluster), dtype=bool)


def column(state: State, doc_ids: np.ndarray) -> Column:
    """Align the clusters with a generation's doc numbers (``doc_ids``: the id per doc, '' when deleted)."""
    labels = state.components()
    firsts = np.full(labels.max() + 1 if len(labels) else 0, len(labels), dtype=np.int64)
    np.minimum.at(firsts, labels, np.arange(len(labels)))  # ids are sorted: the first member is the smallest id
    keys = np.array([cluster_key(i) for i in state.ids[firsts].tolist()], dtype=str)
    position = np.searchsorted(state.ids, doc_ids)
    position = np.minimum(position, max(len(state.ids) - 1, 0))
    found = (state.ids[position] == doc_ids) & (doc_ids != "") if len(state.ids) else np.zeros(len(doc_ids), bool)
    cluster = np.where(found, labels[position] if len(labels) else -1, -1).astype(np.int32)
    return Column(cluster, keys)


# -- persistence -----------------------------------------------------------------------------------
def save(state: State, doc_ids: np.ndarray, directory: Path) -> Column:
    col = column(state, doc_ids)
    tmp = Path(directory) / f".{FILENAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        np.savez(handle, ids=state.ids, sigs=state.sigs, figs=state.figs, edges=state.edges,
                 settings=np.array(state.settings.tag()), cluster=col.cluster, keys=col.keys)
    os.replace(tmp, Path(directory) / FILENAME)
    return col


def load_state(directory: Path, settings: Settings = Settings()) -> State | None:
    """The saved state when it was built with the same settings, else None (then rebuild from all texts)."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if str(data["settings"]) == settings.tag():
            return State(data["ids"], data["sigs"], data["figs"], data["edges"].astype(np.int64), settings)
    return None


def load_column(directory: Path, size: int) -> Column:
    """The cluster column of a generation; every doc its own cluster when none was saved (or it is stale)."""
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(Path(directory) / FILENAME) as data:
        if len(data["cluster"]) == size:
            return Column(data["cluster"], data["keys"])
    return Column(np.arange(size, dtype=np.int32), np.array([f"d{i}" for i in range(size)], dtype=str))


# -- publish -------------------------------------------------------------------------------------
def publish(directory: Path, articles: Iterable | Signed, previous: Path | None = None) -> Column:
    """Cluster a finished generation before it goes live (called by rebuild and update).

    ``articles``: what this run wrote (every article for a rebuild, the added/changed ones
    for an update), or their signatures when the run signed them batch by batch (``sign``,
    ``Signed.join``); ``previous``: the live generation an update started from. Its saved
    state is reused, so an update signs only its own articles; without one (first run,
    changed settings) every article's text is read back from the index.
    """
    from search.index import columns

    directory = Path(directory)
    doc_ids = columns.load(directory).ids
    signed = articles if isinstance(articles, Signed) else sign(articles)
    state = load_state(previous) if previous is not None else None
    if state is not None:
        state = update_state(state, doc_ids[doc_ids != ""], signed)
    elif previous is None:
        state = state_of(signed)
    else:
        state = build_state(*_stored_texts(directory))
    return save(state, doc_ids, directory)


def _stored_texts(directory: Path) -> tuple[list[str], list[tuple[str, str]]]:
    from search.index.writer import open_index

    ids, texts = [], []
    with open_index(directory).reader() as reader:
        for _, stored in reader.iter_docs():
            ids.append(stored.get("id", ""))
            texts.append((stored.get("title") or "", stored.get("body") or ""))
    return ids, texts
