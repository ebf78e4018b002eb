"""A build worker's postings, written from numpy arrays in Whoosh's own format.

The lean writer (``doc_writer.SegmentFiller``) holds every posting of its
segment in arrays sorted (term, doc). Rather than pushing each posting through
Whoosh's pool and writer, each field's posting lists and term infos are encoded
whole from those arrays (``w3_encode``) and written into Whoosh's files
(``whoosh_blocks``): the segment stays a Whoosh segment, byte for byte the
postings Whoosh writes (``tests/test_fast_postings.py``), and Whoosh opens and
searches it as usual. A field whose format is neither Positions nor Existence
is left to Whoosh's pool.
"""

from __future__ import annotations

import numpy as np
from whoosh.formats import Existence, Positions
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.index import whoosh_blocks
from search.index.w3_encode import FieldPostings


def install(writer, collector) -> None:
    """Have ``writer`` write the collector's fields from its arrays when the segment is finished.

    The collector gives ``fields()``, ``arrays(name)`` (``terms``, ``term_ptr``, ``docs``, ``pos_ptr``,
    ``positions``: the postings sidecar's layout), and ``first``/``docnum``, the documents it holds.
    """
    if writer.codec._compression:  # whoosh_blocks' assumptions: a collector may have kept nothing else
        raise ValueError("the fast postings writer writes uncompressed blocks only")

    def check(written: int) -> None:
        if collector.first != 0 or collector.docnum != written:
            raise RuntimeError(f"postings recorded for {collector.docnum - collector.first} documents, "
                               f"the segment has {written}")

    fields = {name: (lambda name=name: field_postings(collector, name, writer.schema[name]))
              for name in collector.fields() if handled(writer.schema[name].format)}
    whoosh_blocks.write_fields_in_blocks(writer, fields, check)


def handled(fmt) -> bool:
    """Positions (and FastPositions) values and Existence's none are what ``w3_encode`` writes."""
    return isinstance(fmt, Positions) or type(fmt) is Existence


def field_postings(collector, name: str, fieldobj) -> FieldPostings:
    """What Whoosh's writer would get for one recorded field: weights frequency × the format's boost
    (``Positions``/``Existence.word_values``), the documents' lengths as Whoosh reads them back."""
    arrays = collector.arrays(name)
    docs = arrays["docs"].astype(np.int64)
    pos_ptr = arrays["pos_ptr"]
    positional = isinstance(fieldobj.format, Positions)
    counts = np.diff(pos_ptr) if positional else np.ones(len(docs), np.int64)  # Existence: frequency 1
    weights = counts * fieldobj.format.field_boost
    lengths = _quantised_lengths(docs, counts, collector.docnum)[docs] if fieldobj.scorable else None
    return FieldPostings(terms=arrays["terms"].tolist(), term_ptr=arrays["term_ptr"], docs=docs,
                         weights=weights.astype(np.float64), lengths=lengths,
                         pos_ptr=pos_ptr if positional else None,
                         positions=arrays["positions"] if positional else None)


def _quantised_lengths(docs: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Each document's field length as Whoosh stores and reads it back (one byte, ``doc_field_length``)."""
    totals = np.bincount(docs, weights=counts, minlength=size).astype(np.int64)
    values, inverse = np.unique(totals, return_inverse=True)
    return np.array([byte_to_length(length_to_byte(int(v))) if v else 0 for v in values.tolist()],
                    dtype=np.int64)[inverse]
