"""Evaluating a query tree over whole posting lists: a hit mask and a score per document."""

from __future__ import annotations

import re
import time

import numpy as np

from search.index.columns import NO_DATE
from search.query import tree as qtree
from search.query.postings import Postings, _select_postings


class Deadline:
    """The per-query time budget: long loops ask ``expired()`` and stop early, marking the answer partial."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.hit = False

    def expired(self) -> bool:
        if not self.hit and time.monotonic() > self.end:
            self.hit = True
        return self.hit


class Evaluator:
    """Turns a parsed query tree into (hit mask, score array) over all doc numbers."""

    def __init__(self, postings: Postings, deadline: Deadline):
        self.postings = postings
        self.columns = postings.columns
        self.size = postings.columns.size
        self.deadline = deadline
        self.expansions: dict[tuple[str, str], list[str]] = {}

    def run(self, tree) -> tuple[np.ndarray, np.ndarray]:
        mask, score = self.node(tree)
        mask = mask & self.columns.live
        return mask, score if score is not None else np.zeros(self.size, np.float32)

    def node(self, node):
        if self.deadline.expired():  # out of time: this part matches nothing, the answer is marked partial
            return np.zeros(self.size, bool), None
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _everything(self, node):
        return self.columns.live.copy(), None

    def _term(self, node):
        docs, scores = self.postings.scored(node.field, node.text)
        return self._dense(docs, scores)

    def _dense(self, docs, scores):
        mask = np.zeros(self.size, bool)
        mask[docs] = True
        score = np.zeros(self.size, np.float32)
        score[docs] = scores
        return mask, score

    def _and(self, node):
        mask, score = None, None
        for item in sorted(node.items, key=lambda n: isinstance(n, qtree.Not)):
            if isinstance(item, qtree.Not):
                other, _ = self.node(item.item)
                mask = ~other if mask is None else mask & ~other
                continue
            other, other_score = self.node(item)
            mask = other if mask is None else mask & other
            score = _add(score, other_score)
        if score is not None:
            score = np.where(mask, score, np.float32(0))  # a failed And must not lend its score to an outer Or
        return mask, score

    def _or(self, node):
        mask, score = None, None
        for item in node.items:
            other, other_score = self.node(item)
            mask = other if mask is None else mask | other
            score = _add(score, other_score)
        return mask, score

    def _not(self, node):
        other, _ = self.node(node.item)
        return ~other, None

    def _daterange(self, node):
        dates = self.columns.date
        mask = dates != NO_DATE
        if node.start is not None:
            mask &= dates >= node.start
        if node.end is not None:
            mask &= dates <= node.end
        return mask, None

    def _prefix(self, node):
        return self._expanded(node.field, node.text, None)

    def _wildcard(self, node):
        literal = re.split(r"[*?]", node.pattern, maxsplit=1)[0]
        return self._expanded(node.field, literal, node.pattern)

    def _expanded(self, fieldname, literal, pattern):
        """Union of the expansion terms; each doc scores by its best expansion (no reward for variety)."""
        terms = self.postings.expand(fieldname, literal, pattern)
        self.expansions[(fieldname, pattern or literal + "*")] = terms
        mask = np.zeros(self.size, bool)
        score = np.zeros(self.size, np.float32)
        for term in terms:
            if self.deadline.expired():
                break
            docs, scores = self.postings.scored(fieldname, term)
            mask[docs] = True
            _max_into(score, docs, scores)
        return mask, score

    def _phrase(self, node):
        """Docs having every word, then kept only where the words sit at the right relative positions."""
        parts = [self.postings.scored(node.field, term) for _, term in node.words]
        candidates = parts[0][0]
        for docs, _ in parts[1:]:
            candidates = np.intersect1d(candidates, docs, assume_unique=True)
        kept = self._verify_phrase(node, candidates)
        mask = np.zeros(self.size, bool)
        mask[kept] = True
        score = np.zeros(self.size, np.float32)
        for docs, scores in parts:
            score[docs] += scores
        score[~mask] = 0
        return mask, score

    def _verify_phrase(self, node, candidates: np.ndarray) -> np.ndarray:
        """Vectorised: (doc, position - offset) keys of each word, intersected; rarest word first."""
        keys = None
        words = sorted(node.words, key=lambda w: self.postings.doc_frequency(node.field, w[1]))
        for offset, term in words:
            if not len(candidates) or self.deadline.expired():
                return np.zeros(0, np.int32)
            docs, ptr, flat = self.postings.positions(node.field, term)
            picks = np.flatnonzero(np.isin(docs, candidates, assume_unique=True))
            docs, ptr, flat = _select_postings(docs, ptr, flat, picks)
            own = (np.repeat(docs.astype(np.int64), np.diff(ptr)) << 32) + (flat.astype(np.int64) - offset + (1 << 20))
            keys = own if keys is None else np.intersect1d(keys, own, assume_unique=True)
            candidates = np.unique(keys >> 32).astype(np.int32)
        return candidates


def _add(score, other):
    if other is None:
        return score
    return other if score is None else score + other


def _max_into(score: np.ndarray, docs: np.ndarray, scores: np.ndarray) -> None:
    score[docs] = np.maximum(score[docs], scores)  # docs are unique within one posting list
