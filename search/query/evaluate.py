"""Evaluating a query tree over whole posting lists: a hit mask and a score per document.

Facets need the *entire* hit set, so the tree is evaluated over dense arrays, one entry per
document: And → ``&``, Or → ``|``, Not → ``~``, scores summed. Phrases are verified on the
candidate docs from their positions. Term postings come from ``postings.Postings``.
"""

from __future__ import annotations

import time
from typing import assert_never

import numpy as np

from search.index.columns import NO_DATE
from search.query.postings import Postings
from search.query.tree import And, DateRange, Everything, Node, Not, Nothing, Or, Phrase, Prefix, Term, Wildcard
from search.query.wildcard import literal_prefix

# A node's result: which documents match, and their scores (None: matching adds nothing to the score).
Matched = tuple[np.ndarray, np.ndarray | None]


class Deadline:
    """The per-query time budget: long loops ask ``expired()`` and stop early, marking the answer partial."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.hit = False

    def expired(self) -> bool:
        if not self.hit and time.monotonic() > self.end:
            self.hit = True
        return self.hit


def date_mask(dates: np.ndarray, start: int | None, end: int | None) -> np.ndarray:
    """Dated documents inside the inclusive epoch-second bounds (undated ones never match a date)."""
    mask = dates != NO_DATE
    if start is not None:
        mask &= dates >= start
    if end is not None:
        mask &= dates <= end
    return mask


class DateOrder:
    """A generation's docs sorted by their publisher's-day instant, so a date filter is a slice of it: the
    mask costs the docs in range, not three comparisons over every doc (×10: ~1 ms for "bank" in a month
    and a half); ``mask`` equals ``date_mask(dates, start, end)``."""

    def __init__(self, dates: np.ndarray):
        self.order = np.argsort(dates, kind="stable").astype(np.int32)
        self.sorted = dates[self.order]
        self.undated = int(np.searchsorted(self.sorted, NO_DATE, side="right"))  # NO_DATE is the smallest int64

    def mask(self, start: int | None, end: int | None) -> np.ndarray:
        low = self.undated if start is None else max(self.undated, int(np.searchsorted(self.sorted, start)))
        high = len(self.sorted) if end is None else int(np.searchsorted(self.sorted, end, side="right"))
        mask = np.zeros(len(self.sorted), bool)
        if high > low:
            mask[self.order[low:high]] = True
        return mask


class Evaluator:
    """Turns a parsed query tree into (hit mask, score array) over all doc numbers."""

    def __init__(self, postings: Postings, deadline: Deadline):
        self.postings = postings
        self.columns = postings.columns
        self.size = postings.columns.size
        self.deadline = deadline
        self.expansions: dict[tuple[str, str], list[str]] = {}  # (field, pattern) → terms it expanded to

    def run(self, tree: Node) -> tuple[np.ndarray, np.ndarray]:
        mask, score = self.node(tree)
        mask = mask & self.columns.live
        return mask, score if score is not None else np.zeros(self.size, np.float32)

    def node(self, node: Node) -> Matched:
        if self.deadline.expired():  # out of time: this part matches nothing, the answer is marked partial
            return np.zeros(self.size, bool), None
        match node:
            case Everything():
                return self.columns.live.copy(), None
            case Nothing():
                return np.zeros(self.size, bool), None
            case Term() | Phrase():
                return self._dense(*self._sparse(node))
            case Prefix():
                return self._expanded(node.field, node.text, None)
            case Wildcard():
                return self._expanded(node.field, literal_prefix(node.pattern), node.pattern)
            case DateRange():
                return date_mask(self.columns.local, node.start, node.end), None
            case And():
                return self._and(node)
            case Or():
                return self._or(node)
            case Not():
                other, _ = self.node(node.item)
                return ~other, None
            case _:
                assert_never(node)

    def _dense(self, docs: np.ndarray, scores: np.ndarray) -> Matched:
        mask = np.zeros(self.size, bool)
        mask[docs] = True
        score = np.zeros(self.size, np.float32)
        score[docs] = scores
        return mask, score

    def _and(self, node: And) -> Matched:
        """Items combined in place: every node returns arrays of its own, so the first item's are ours."""
        mask, score = None, None
        for item in sorted(node.items, key=lambda n: isinstance(n, Not)):
            if isinstance(item, Not):
                other, _ = self.node(item.item)
                mask = ~other if mask is None else np.greater(mask, other, out=mask)  # mask & ~other
                continue
            other, other_score = self.node(item)
            mask = other if mask is None else np.logical_and(mask, other, out=mask)
            score = _add(score, other_score)
        assert mask is not None  # the parser never makes an empty And
        if score is not None:  # a failed And must not lend its score to an outer Or
            np.multiply(score, mask, out=score)  # scores are finite and >= 0: zeroing, 3-10x cheaper than np.where
        return mask, score

    def _or(self, node: Or) -> Matched:
        """Terms and phrases are scattered straight into one mask and score (no pair of arrays each); other
        items are evaluated and combined in place. Sums run in item order, as ``score_a + score_b`` would."""
        mask, score = np.zeros(self.size, bool), None
        for item in node.items:
            if isinstance(item, Term | Phrase):
                if self.deadline.expired():
                    continue
                docs, scores = self._sparse(item)
                mask[docs] = True
                if score is None:
                    score = np.zeros(self.size, np.float32)
                score[docs] += scores  # docs are unique within one posting list
                continue
            other, other_score = self.node(item)
            np.logical_or(mask, other, out=mask)
            score = _add(score, other_score)
        return mask, score

    def _sparse(self, node: Term | Phrase) -> tuple[np.ndarray, np.ndarray]:
        """(sorted docs, scores) of a term or a phrase."""
        if isinstance(node, Term):
            return self.postings.scored(node.field, node.text)
        return self._phrase(node)

    def _expanded(self, fieldname: str, literal: str, pattern: str | None) -> Matched:
        """Union of the expansion terms; each doc scores by its best expansion (no reward for variety)."""
        terms = self.postings.expand(fieldname, literal, pattern, self.deadline)
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

    def _phrase(self, node: Phrase) -> tuple[np.ndarray, np.ndarray]:
        """Docs where the words sit at the right relative positions; each scores the sum of its words' scores
        (in word order)."""
        parts = [self.postings.scored(node.field, term) for _, term in node.words]
        kept = self._verify_phrase(node)
        total = np.zeros(len(kept), np.float32)
        for docs, scores in parts:  # every word's postings hold every kept doc
            total += scores[np.searchsorted(docs, kept)]
        return kept, total

    def _verify_phrase(self, node: Phrase) -> np.ndarray:
        """Vectorised: each word's sorted (doc, position) keys (cached), shifted by its offset in the phrase,
        intersected by merging, rarest word first. Measured at ×10 on "interest rates" (body): 1.3 ms when the
        keys were built per query from the candidate docs' positions, ~0.3 ms merging the cached keys."""
        keys = None
        # rarest word first: by its (cached) posting list, not Whoosh's doc_frequency (a term-index read per call)
        words = sorted(node.words, key=lambda w: len(self.postings.scored(node.field, w[1])[0]))
        for offset, term in words:
            if self.deadline.expired():
                return np.zeros(0, np.int32)
            own = self.postings.position_keys(node.field, term)
            own = own - offset if offset else own
            keys = own if keys is None else _intersect_runs(keys, own)
            if not len(keys):
                break
        return _sorted_unique(keys >> 32).astype(np.int32) if keys is not None else np.zeros(0, np.int32)


def _intersect_runs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The common values of two sorted arrays of unique values: a stable sort (timsort) of the two runs is a
    merge, measured ~4x cheaper than ``np.intersect1d``'s quicksort on phrase keys (16k and 26k int64)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")
    return both[:-1][both[1:] == both[:-1]]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array. ``np.unique`` would sort again, and its first call in a process
    imports ``numpy.ma`` (numpy 2.3: ~40 ms, measured as most of the first cold phrase query)."""
    if not len(values):
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _add(score: np.ndarray | None, other: np.ndarray | None) -> np.ndarray | None:
    """``score + other`` (None: adds nothing), into ``score``: it is always an array of the node's own."""
    if other is None:
        return score
    return other if score is None else np.add(score, other, out=score)


def _max_into(score: np.ndarray, docs: np.ndarray, scores: np.ndarray) -> None:
    score[docs] = np.maximum(score[docs], scores)  # docs are unique within one posting list
