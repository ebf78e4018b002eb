"""Related articles: more like this, by distinctive words and shared entities."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from search.index.schema import TEXT_FIELDS, news_analyzer
from search.query import tree as qtree
from search.query.answer import Result, describe
from search.query.evaluate import Deadline, Evaluator

if TYPE_CHECKING:
    from search.query.engine import Generation

RELATED_TERMS = 25
ENTITY_BONUS = 2.0
PROBE_CHARS = 20_000  # of the body read for distinctive words: the analyser costs ~1 s per MB


def more_like_this(gen: Generation, docnum: int, limit: int, deadline: Deadline) -> list[Result]:
    """Articles sharing the distinctive words and the entities of ``docnum``; its copies (same hash) left out."""
    stored = gen.stored(docnum)
    cols = gen.columns
    tree = _distinctive_terms(gen, stored, deadline)
    score = Evaluator(gen.postings, deadline).run(tree)[1] if tree is not None else np.zeros(cols.size, np.float32)
    score = score + _shared_entities(gen, docnum, deadline)
    score[~cols.live] = 0
    score[cols.hash == cols.hash[docnum]] = 0  # itself and its copies
    candidates = np.flatnonzero(score > 0)
    candidates = candidates[np.argsort(-score[candidates], kind="stable")][: limit * 20]
    out: list[Result] = []
    seen = set()
    for doc in candidates.tolist():
        if cols.hash[doc] in seen:
            continue
        seen.add(cols.hash[doc])
        out.append({**describe(gen.stored(doc)), "score": round(float(score[doc]), 3)})
        if len(out) >= limit:
            break
    return out


def _distinctive_terms(gen: Generation, stored: dict, deadline: Deadline) -> qtree.Or | None:
    """An OR query of the article's most distinctive words (tf·idf), as a more-like-this probe."""
    text = f"{stored.get('title') or ''}\n{(stored.get('body') or '')[:PROBE_CHARS]}"
    counts = Counter(t.text for t in news_analyzer()(text))
    n = max(gen.documents, 1)
    weighted = []
    for term, tf in counts.items():
        if deadline.expired():
            break
        df = gen.postings.doc_frequency("body", term)
        if 2 <= df <= n * 0.2:
            weighted.append((tf * math.log(n / df), term))
    weighted.sort(reverse=True)
    terms = [term for _, term in weighted[:RELATED_TERMS]]
    if not terms:
        return None
    return qtree.Or(tuple(qtree.Term(f, t) for t in terms for f in TEXT_FIELDS))


def _shared_entities(gen: Generation, docnum: int, deadline: Deadline) -> np.ndarray:
    """A bonus per shared person/org/place/topic, rarer values counting more."""
    cols = gen.columns
    bonus = np.zeros(cols.size, np.float32)
    for name in ("people", "orgs", "places", "topics"):
        facet = cols.facets[name]
        for value in facet.pair_val[facet.doc_ptr[docnum]:facet.doc_ptr[docnum + 1]].tolist():
            if deadline.expired():
                return bonus
            docs = facet.val_docs[facet.val_ptr[value]:facet.val_ptr[value + 1]]
            bonus[docs] += ENTITY_BONUS * math.log(1 + gen.documents / max(len(docs), 1)) / 5
    return bonus
