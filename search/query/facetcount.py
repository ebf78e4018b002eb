"""Counts of every facet (and the year) over a hit set in one pass: codes gathered by the hit ids.

``columns.Facet`` keeps a facet's values as (doc, value) pairs; counting them over a hit set
gathers the hit mask over *all* pairs, per facet. At ×10 Reuters that was 1.3 ms of a 5.4 ms warm
answer, 3.5 ms for the 42k hits of "shares" (``places`` and ``source`` have a pair for almost every
document). Here each document's *first* value of every facet sits in an int32 code matrix (``[facets, N]``, value ids
offset per facet into one id space, 0 = no value), so the counts of all facets are
``np.bincount(codes[:, hits].ravel())``: cost by the hit count, not the collection size.

For large hit sets even that is ~16 ns per hit (six gathered codes, six counted); so facets with
small vocabularies are also combined into joint codes (the product of their sizes at most
``JOINT_LIMIT``), counted jointly and summed back to each facet: Reuters' six columns become two
joint codes per document (measured ×10, 43k hits: 820 → 320 µs). A facet where many documents
have a second value (places, topics) gets a row for it too (``SLOT_SHARE``); the remaining further
values are the few "extra" pairs (×10: 27k instead of 72k), counted by the hit mask or, for a small
hit set, gathered by the hit ids from their doc-ordered offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.index.columns import Facet

YEAR = "year"
JOINT_LIMIT = 1 << 15  # codes of one joint group: its count array (256 KB) is zeroed and summed per count
SLOT_SHARE = 16  # a facet gets a row for its documents' second (third …) value while 1/16 of the docs have one
MAX_SLOTS = 4


@dataclass
class FacetCodes:
    """The facets' values of every document as codes plus extra pairs; built once per generation, when it
    opens (×10: ~40 ms, ~15 MB)."""

    names: tuple[str, ...]  # the facets, then "year"
    base: np.ndarray  # int64 [F+1]: facet f's value v has id base[f] + v; ids < base[0] = 1 mean "no value"
    codes: np.ndarray  # int32 [rows, N]: per row, each document's value id in that slot (0: none)
    row_facet: np.ndarray  # int64 [rows]: the facet of each row (row s of a facet: every doc's value number s)
    groups: list[list[int]]  # rows counted together through one joint code
    joint: np.ndarray  # int64 [N, G]: each document's joint code per group, offset by the group's start
    joint_base: np.ndarray  # int64 [G+1]
    joint_ids: np.ndarray  # int32 [joint codes, widest group]: the value ids a joint code stands for (0: none)
    extra_doc: np.ndarray  # int32: doc of each further value, in doc order
    extra_ptr: np.ndarray  # int64 [N+1]: further values of doc d are extra_id[extra_ptr[d]:extra_ptr[d+1]]
    extra_id: np.ndarray  # int32: their value ids
    first_year: int  # the year of value 0 of the "year" column
    column_extra: list[tuple[np.ndarray, np.ndarray]]  # per column: (doc, value id) of its further values

    @classmethod
    def build(cls, facets: dict[str, Facet], years: np.ndarray) -> FacetCodes:
        """From the generation's facets and its per-document years (-1: undated)."""
        dated = years[years >= 0]
        first_year = int(dated.min()) if len(dated) else 0
        year_count = int(dated.max()) - first_year + 1 if len(dated) else 0
        names = (*facets, YEAR)
        sizes = [len(f.vocab) for f in facets.values()] + [year_count]
        base = np.cumsum([1, *sizes]).astype(np.int64)
        size = len(years)
        rows, row_facet = [], []
        extra_docs, extra_ids = [], []
        for column, facet in enumerate(facets.values()):
            starts, lengths = facet.doc_ptr[:-1], np.diff(facet.doc_ptr)
            slots = 1
            while slots < MAX_SLOTS and np.count_nonzero(lengths > slots) * SLOT_SHARE >= size:
                slots += 1
            for slot in range(slots):
                has = lengths > slot
                row = np.zeros(size, np.int32)
                row[has] = facet.pair_val[starts[has] + slot] + base[column]
                rows.append(row)
                row_facet.append(column)
            rest = np.arange(len(facet.pair_doc)) - np.repeat(starts, lengths) >= slots  # the values past the slots
            extra_docs.append(facet.pair_doc[rest])
            extra_ids.append(facet.pair_val[rest] + base[column])
        has_year = years >= 0
        year_row = np.zeros(size, np.int32)
        year_row[has_year] = years[has_year] - first_year + base[-2]
        rows.append(year_row)
        row_facet.append(len(names) - 1)
        codes = np.stack(rows)
        row_facet = np.array(row_facet, np.int64)
        extra_doc = np.concatenate(extra_docs).astype(np.int32)
        extra_id = np.concatenate(extra_ids).astype(np.int32)
        order = np.argsort(extra_doc, kind="stable")
        extra_doc, extra_id = extra_doc[order], extra_id[order]
        extra_ptr = np.zeros(size + 1, np.int64)
        np.cumsum(np.bincount(extra_doc, minlength=size), out=extra_ptr[1:])
        groups = _groups([sizes[f] + 1 for f in row_facet.tolist()])
        joint, joint_base, joint_ids = _joint(codes, base[row_facet], base[row_facet + 1] - base[row_facet], groups)
        column_extra = [(d.astype(np.int32), i.astype(np.int32)) for d, i in zip(extra_docs, extra_ids, strict=True)]
        column_extra.append((np.zeros(0, np.int32), np.zeros(0, np.int32)))  # one year per document
        return cls(names, base, codes, row_facet, groups, joint, joint_base, joint_ids, extra_doc, extra_ptr, extra_id,
                   first_year, column_extra)

    def count(self, hits: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Per-value counts of every facet over the hits (``hits`` = flatnonzero(mask)); "year" is indexed
        from ``first_year``."""
        total = int(self.base[-1])
        counts = self._extra(hits, mask, total)
        if len(hits) * (len(self.codes) - len(self.groups)) > int(self.joint_base[-1]):
            joint = np.bincount(np.take(self.joint, hits, axis=0).ravel(), minlength=int(self.joint_base[-1]))
            present = np.flatnonzero(joint)  # the combinations that occur: few, however large the hit set
            ids = self.joint_ids[present]
            weights = np.repeat(joint[present], ids.shape[1]).astype(np.float64)  # exact below 2**53
            counts += np.bincount(ids.ravel(), weights, minlength=total).astype(np.int64)
        else:
            counts += np.bincount(self.codes[:, hits].ravel(), minlength=total)
        return {name: counts[self.base[c]:self.base[c + 1]] for c, name in enumerate(self.names)}

    def count_one(self, name: str, hits: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``count(hits, mask)[name]``, reading that facet's column and further values only (a facet with a
        selection is counted over its own hit set)."""
        column = self.names.index(name)
        low, high = int(self.base[column]), int(self.base[column + 1])
        counts = np.zeros(high - low, np.int64)
        for row in np.flatnonzero(self.row_facet == column).tolist():
            counts += np.bincount(np.take(self.codes[row], hits), minlength=high)[low:]
        docs, ids = self.column_extra[column]
        if len(docs):
            counts += np.bincount(ids[mask[docs]] - low, minlength=high - low)
        return counts

    def _extra(self, hits: np.ndarray, mask: np.ndarray, total: int) -> np.ndarray:
        """Counts of the further values: by the mask over all extra pairs, or gathered when hits are few
        (measured at ×10: ~12 ns per hit gathered against ~3-6 ns per pair masked)."""
        if not len(self.extra_id):
            return np.zeros(total, np.int64)
        if len(hits) * 3 >= len(self.extra_id):
            return np.bincount(self.extra_id[mask[self.extra_doc]], minlength=total)
        starts, ends = self.extra_ptr[hits], self.extra_ptr[hits + 1]
        lengths = ends - starts
        picked = int(lengths.sum())
        if not picked:
            return np.zeros(total, np.int64)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(picked)
        return np.bincount(self.extra_id[offsets], minlength=total)


def _groups(sizes: list[int]) -> list[list[int]]:
    """Rows grouped, smallest first, while the product of their sizes stays within ``JOINT_LIMIT``."""
    groups: list[list[int]] = []
    product = JOINT_LIMIT + 1
    for column in sorted(range(len(sizes)), key=lambda c: sizes[c]):
        if product * sizes[column] > JOINT_LIMIT:
            groups.append([])
            product = 1
        groups[-1].append(column)
        product *= sizes[column]
    return [sorted(group) for group in groups]


def _joint(codes: np.ndarray, low: np.ndarray, size: np.ndarray, groups: list[list[int]]):
    """Each document's joint code per group (its rows' local codes, 0 = none, in mixed radix), the
    groups' starts, and the table from a joint code back to its rows' value ids; row r holds the ids
    low[r] .. low[r] + size[r] - 1. Computed in int32 (a group's codes stay below ``JOINT_LIMIT``)."""
    joint = np.empty((len(groups), codes.shape[1]), np.int64)
    starts = [0]
    decoded = []
    for g, rows in enumerate(groups):
        radix = [int(size[r]) + 1 for r in rows]
        code = np.zeros(codes.shape[1], np.int32)
        for r, base in zip(rows, radix, strict=True):
            code *= base
            code += np.maximum(codes[r] - np.int32(low[r] - 1), 0)  # none (0) stays 0, value v becomes v + 1
        joint[g] = code
        joint[g] += starts[-1]
        every = np.arange(int(np.prod(radix)), dtype=np.int64)
        ids = np.zeros((len(every), max(map(len, groups))), np.int32)
        for axis in range(len(rows) - 1, -1, -1):  # last row varies fastest
            local = every % radix[axis]
            every //= radix[axis]
            ids[:, axis] = np.where(local > 0, local - 1 + low[rows[axis]], 0)
        decoded.append(ids)
        starts.append(starts[-1] + len(ids))
    return np.ascontiguousarray(joint.T), np.array(starts, np.int64), np.concatenate(decoded)
