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
(0.931-0.975) and 0.733. Without the figures check precision is ~0.905: dividend notices and
bond issues of different companies share their template. At Jaccard 0.3 recall rises to 0.82
but precision falls to 0.92 and whole-Reuters clusters of 50 unrelated "X sets quarterly"
notices appear; precision is preferred, since a wrong merge hides a story behind "N similar".

A rebuild may sign its articles batch by batch (``sign``, ``Signed.join``) and publish the
joined signatures; ``publish`` also takes the articles themselves.

State per generation (``clusters.npz``): article ids (sorted), their signatures and the edges.
``update`` keeps the signatures of unchanged articles, signs only added/changed ones, probes
only those against the bands, and recomputes the components (scipy, linear in articles).
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
        n = len(self.ids)
        if not n:
            return np.zeros(0, dtype=np.int64)
        from scipy.sparse import coo_matrix  # here: importing scipy.sparse.csgraph is 0.25 CPU-s, and serving
        from scipy.sparse.csgraph import connected_components  # imports this module without clustering

        graph = coo_matrix((np.ones(len(self.edges)), (self.edges[:, 0], self.edges[:, 1])), shape=(n, n))
        return connected_components(graph, directed=False)[1].astype(np.int64)


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
def _band_keys(sigs: np.ndarray, settings: Settings) -> np.ndarray:
    """One 64-bit key per (article, band): the band's rows mixed by odd multipliers (uint64 wrap-around)."""
    bands, rows = settings.bands
    mult = np.random.default_rng(settings.seed).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    out = np.zeros((len(sigs), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            part = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
            out[:, band] = (part * mult).sum(axis=1, dtype=np.uint64) ^ np.uint64(band)
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


def _verified(pairs: np.ndarray, sigs: np.ndarray, figs: np.ndarray, settings: Settings) -> np.ndarray:
    """Distinct pairs (i < j) similar in words and, when both quote numbers, in figures."""
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = _unique_pairs(pairs[pairs[:, 0] != pairs[:, 1]], len(sigs))
    keep = np.zeros(len(pairs), dtype=bool)
    step = 50_000
    for lo in range(0, len(pairs), step):
        chunk = pairs[lo:lo + step]
        numbered = _has(figs[chunk[:, 0]]) & _has(figs[chunk[:, 1]])
        same_figures = ~numbered | (_agree(figs, chunk) >= settings.figures)
        keep[lo:lo + step] = (_agree(sigs, chunk) >= settings.threshold) & same_figures
    return pairs[keep].astype(np.int64)


def find_edges(sigs: np.ndarray, figs: np.ndarray, settings: Settings,
               probe: np.ndarray | None = None) -> np.ndarray:
    """Similar pairs among all rows, or (with ``probe``) only pairs touching a probed row."""
    usable = np.flatnonzero(_has(sigs))
    if not len(usable) or (probe is not None and not len(probe)):
        return np.zeros((0, 2), dtype=np.int64)
    keys = _band_keys(sigs[usable], settings)
    probed = None if probe is None else np.isin(usable, probe)
    edges = np.zeros((0, 2), dtype=np.int64)
    for band in range(keys.shape[1]):  # verified and merged band by band: all 16 bands' candidates at once
        column = keys[:, band]          # were a rebuild's peak (×10 Reuters: 1.1 GB for 1.09 M edges; now 0.1 GB)
        if probed is None:
            pairs = _pairs_in_buckets(column, usable)
        else:
            hit = np.isin(column, column[probed])  # only the buckets a probed row falls in
            pairs = _pairs_in_buckets(column[hit], usable[hit])
            pairs = pairs[np.isin(pairs, probe).any(axis=1)]
        edges = _unique_pairs(np.vstack([edges, _verified(pairs, sigs, figs, settings)]), len(sigs))
    return edges


def _unique_pairs(pairs: np.ndarray, rows: int) -> np.ndarray:
    """``np.unique(pairs, axis=0)`` of int64 row pairs, via one int64 code per pair: a fraction of its memory."""
    codes = np.unique(pairs[:, 0].astype(np.int64) * rows + pairs[:, 1])
    return np.column_stack([codes // rows, codes % rows])


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
    """The state after an update: articles no longer live or replaced are dropped, added ones probed."""
    settings = state.settings
    keep = np.isin(state.ids, live_ids) & ~np.isin(state.ids, added.ids)
    kept = np.flatnonzero(keep)
    remap = np.full(len(state.ids), -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    edges = remap[state.edges].reshape(-1, 2)
    edges = edges[(edges >= 0).all(axis=1)]
    ids = np.concatenate([state.ids[keep], added.ids])
    sigs = np.vstack([state.sigs[keep], added.sigs])
    figs = np.vstack([state.figs[keep], added.figs])
    probe = np.arange(len(kept), len(ids))
    edges = np.vstack([edges, find_edges(sigs, figs, settings, probe=probe)])
    order = np.argsort(ids, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    edges = np.unique(np.sort(position[edges], axis=1).reshape(-1, 2), axis=0)
    return State(ids[order], sigs[order], figs[order], edges, settings)


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
