"""Story clusters: near-duplicate articles (one wire story republished, edited, retitled) grouped at publish.

Each article gets a MinHash signature of the ``SHINGLE``-word shingles of title + body, and one
of the numbers it quotes (``minhash.py``: all articles of a batch at once in numpy; datasketch's
MinHash, a sha1 per shingle and an object per article, took 4.9 of the 5.0 CPU-s this stage
spent on Reuters-21578). Candidate pairs come from LSH banding — the (bands, rows) split is the
one datasketch's ``MinHashLSH`` picks for ``THRESHOLD`` — and a candidate pair becomes an edge
when the signatures agree on at least ``THRESHOLD`` of their slots (estimated Jaccard). Clusters
are the connected components of the edges (``lsh.py``: bands, candidates, edges, components).

Parameters from ``bench/eval_clusters.py --seeds 8`` (3,644 Reuters-derived articles with known
copies, pairwise, mean over hash seeds 1-8): 2-word shingles, 64 permutations, Jaccard ≥ 0.4 and
figures ≥ 0.5 give precision 0.963 (0.928-0.985 by seed), recall 0.734 (exact copies 1.00, light
edits 0.93, retitled 0.88, heavy rewrites 0.37); datasketch's signatures scored 0.957
(0.931-0.975) and 0.733. Without the figures check precision is 0.911: dividend notices and
bond issues of different companies share their template. At Jaccard 0.3 recall rises to 0.82
but precision falls to 0.91 and whole-Reuters clusters of 50 unrelated "X sets quarterly"
notices appear; precision is preferred, since a wrong merge hides a story behind "N similar".

A rebuild signs its articles batch by batch (``sign``) into a ``signature_spill.SignatureSpill``
on disk and publishes that; ``publish`` also takes joined signatures (``Signed.join``) or the articles.

State per generation (``clusters.npz``): article ids (sorted), their signatures and the edges.
``update`` keeps the signatures of unchanged articles, signs only added/changed ones, probes
only those against the bands, and recomputes the components (``components``, near-linear in edges).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.index import lsh, minhash
from search.index.signature_spill import SignatureSpill

FILENAME = "clusters.npz"
SHINGLE = 2  # words per shingle
NUM_PERM = 64  # MinHash permutations
THRESHOLD = 0.4  # estimated Jaccard of shingle sets for "the same story"
FIGURES = 0.5  # copies of one story quote the same figures: the sets of numbers must overlap this much
FIGURE_PERM = 32  # MinHash permutations for the set of numbers
SEED = 1
SCHEME = "numpy-splitmix"  # how signatures are hashed (minhash.py): saved states of another scheme are re-signed


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
        return lsh.bands(self.threshold, self.num_perm)

    def tag(self) -> str:
        return f"{self.shingle}/{self.num_perm}/{self.threshold}/{self.figures}/{self.seed}/{SCHEME}"


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
        return lsh.components(len(self.ids), self.edges)


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


# -- building and updating -------------------------------------------------------------------------
def build_state(ids: list[str], texts: Iterable[tuple[str, str]], settings: Settings = Settings()) -> State:
    """Clusters of a complete set of articles (one id per article, texts aligned with ids)."""
    return state_of(Signed(np.array(ids, dtype=str), *signatures(texts, settings)), settings)


def state_of(signed: Signed | SignatureSpill, settings: Settings = Settings()) -> State:
    """Clusters of a complete set of signed articles (in memory, or spilled: the same state)."""
    ids, sigs, figs = _sorted(signed, settings)
    return State(ids, sigs, figs, lsh.find_edges(sigs, figs, settings), settings)


def _sorted(signed: Signed | SignatureSpill, settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, sigs, figs) ordered by id."""
    if isinstance(signed, SignatureSpill):
        return signed.sorted({"sigs": settings.num_perm, "figs": FIGURE_PERM})
    order = np.argsort(signed.ids, kind="stable")
    return signed.ids[order], signed.sigs[order], signed.figs[order]


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
    edges = np.vstack([edges[(edges >= 0).all(axis=1)], lsh.find_edges(sigs, figs, state.settings, probe=at_added)])
    edges = np.column_stack(np.divmod(lsh.pair_codes(edges, len(ids)), len(ids)))
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
def publish(directory: Path, articles: Iterable | Signed | SignatureSpill, previous: Path | None = None) -> Column:
    """Cluster a finished generation before it goes live (called by rebuild and update).

    ``articles``: what this run wrote (every article for a rebuild, the added/changed ones
    for an update), or their signatures when the run signed them batch by batch (a
    ``SignatureSpill``, or ``Signed.join`` of the batches); ``previous``: the live generation an
    update started from. Its saved state is reused, so an update signs only its own articles;
    without one (first run, changed settings) every article's text is read back from the index.
    """
    from search.index import columns

    directory = Path(directory)
    doc_ids = columns.load_ids(directory)
    signed = articles if isinstance(articles, Signed | SignatureSpill) else sign(articles)
    state = load_state(previous) if previous is not None else None
    if state is not None:
        if isinstance(signed, SignatureSpill):
            signed = Signed(*_sorted(signed, state.settings))
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
