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
on disk; ``publish`` also takes joined signatures (``Signed.join``) or the articles.

The state lives per Whoosh segment (``cluster_segments``): its signatures, per band its sorted band
keys, and the edges found when it was written, in files written once beside the segment and
hard-linked into later generations with it. A generation keeps only its cluster number per doc
and each cluster's key (``clusters.npz``). ``update`` works on its own segment (``cluster_publish``):
signs only the added and changed articles, probes them with a ``searchsorted`` per band per segment,
re-links the neighbours of docs it deleted, recomputes the components (linear passes over the edges)
and keeps the key of every cluster whose members did not change. Before, one ``clusters.npz`` held
every signature and edge and each update read, merged and rewrote it whole: ×50 Reuters (1.08 M
articles), 4.2 of an update's 9.3 s (``bench/bench_update_profile.py``; figures in docs/scaling.md).
"""

from __future__ import annotations

import hashlib
import re
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
KEY_RE = re.compile(r"[0-9a-f]{16}")  # what ``cluster_key`` returns
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

    @property
    def figure_perm(self) -> int:
        return FIGURE_PERM

    def tag(self) -> str:
        return f"{self.shingle}/{self.num_perm}/{self.threshold}/{self.figures}/{self.seed}/{SCHEME}"


@dataclass
class State:
    """Every article's signature and the similar pairs, all in memory: the whole-matrix reference (tests, bench)."""

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


# -- what queries read -----------------------------------------------------------------------------
def cluster_key(smallest_id: str) -> str:
    """A cluster's public id: stable while its smallest article id stays in it."""
    return hashlib.blake2b(smallest_id.encode(), digest_size=8).hexdigest()


@dataclass
class Column:
    """Per doc number: its cluster (dense number), and per cluster its public key as a number (``key``)."""

    cluster: np.ndarray  # int32 [docs]; -1 for a deleted doc
    codes: np.ndarray  # uint64 [clusters]: ``cluster_key`` of the smallest id, as the number its hex digits spell

    def __len__(self) -> int:
        return len(self.codes)

    def key(self, number: int) -> str:
        return f"{int(self.codes[number]):016x}"

    def number_of(self, key: str) -> int | None:
        if not KEY_RE.fullmatch(key):
            return None
        found = np.flatnonzero(self.codes == np.uint64(int(key, 16)))
        return int(found[0]) if len(found) else None

    def mask(self, key: str) -> np.ndarray:
        """The docs of one cluster (none for an unknown key)."""
        number = self.number_of(key)
        return self.cluster == number if number is not None else np.zeros(len(self.cluster), dtype=bool)


def load_column(directory: Path, size: int) -> Column:
    """The cluster column of a generation; every doc its own cluster when none was saved (or it is stale)."""
    from search.index import cluster_publish

    saved = cluster_publish.load(directory)
    if saved is not None and len(saved.cluster) == size:
        return Column(saved.cluster, saved.codes)
    return Column(np.arange(size, dtype=np.int32), np.arange(size, dtype=np.uint64))


# -- publish -------------------------------------------------------------------------------------
def publish(directory: Path, articles: Iterable | Signed | SignatureSpill | None = None,
            settings: Settings = Settings()) -> Column:
    """Cluster a finished generation before it goes live (called by rebuild and update).

    ``articles``: what this run wrote (every article for a rebuild, the added/changed ones for
    an update), or their signatures when the run signed them batch by batch (a
    ``SignatureSpill``, or ``Signed.join`` of the batches). Segments that already have their
    cluster files (an update's copied segments) are not read; the others find their
    signatures by id (``cluster_publish``).
    """
    from search.index import cluster_publish

    if articles is not None and not isinstance(articles, Signed | SignatureSpill):
        articles = sign(articles, settings)
    result = cluster_publish.publish(Path(directory), articles, settings)
    return Column(result.cluster, result.codes)
